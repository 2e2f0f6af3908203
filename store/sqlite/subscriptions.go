package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/truce-mission/truce/store"
)

var _ store.Subscriptions = (*Store)(nil)

// PutSubscription stores a new webhook subscription.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO subscriptions (id, identity, url, created, delivered) VALUES (?, ?, ?, ?, ?)",
		sub.ID, sub.Identity, sub.URL, sub.Created.UTC().Format(time.RFC3339Nano), sub.Delivered)
	if err != nil {
		return fmt.Errorf("storing subscription %q: %w", sub.ID, err)
	}
	return nil
}

// Subscriptions returns every subscription, ordered by id.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, identity, url, created, delivered FROM subscriptions ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("reading subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		var sub store.Subscription
		var created string
		if err := rows.Scan(&sub.ID, &sub.Identity, &sub.URL, &created, &sub.Delivered); err != nil {
			return nil, fmt.Errorf("reading subscriptions: %w", err)
		}
		if sub.Created, err = time.Parse(time.RFC3339Nano, created); err != nil {
			return nil, fmt.Errorf("reading subscription %q: created %q: %w", sub.ID, created, err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription removes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.changeOne(ctx, "deleting", id, "DELETE FROM subscriptions WHERE id = ?", id)
}

// SetDelivered moves a subscription's delivery mark forward to seq.
func (s *Store) SetDelivered(ctx context.Context, id string, seq int64) error {
	return s.changeOne(ctx, "updating", id, "UPDATE subscriptions SET delivered = max(delivered, ?) WHERE id = ?", seq, id)
}

func (s *Store) changeOne(ctx context.Context, what, id, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s subscription %q: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%s subscription %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
