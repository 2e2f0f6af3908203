package postgres

import (
	"context"
	"fmt"

	"github.com/truce-mission/truce/store"
)

var _ store.Subscriptions = (*Store)(nil)

// PutSubscription stores a new webhook subscription.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO subscriptions (id, identity, url, created, delivered) VALUES ($1, $2, $3, $4, $5)",
		sub.ID, sub.Identity, sub.URL, sub.Created.UTC(), sub.Delivered)
	if err != nil {
		return fmt.Errorf("storing subscription %q: %w", sub.ID, err)
	}
	return nil
}

// Subscriptions returns every subscription, ordered by id.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, identity, url, created, delivered FROM subscriptions ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("reading subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		var sub store.Subscription
		if err := rows.Scan(&sub.ID, &sub.Identity, &sub.URL, &sub.Created, &sub.Delivered); err != nil {
			return nil, fmt.Errorf("reading subscriptions: %w", err)
		}
		sub.Created = sub.Created.UTC()
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription removes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.changeOne(ctx, "deleting", id, "DELETE FROM subscriptions WHERE id = $1", id)
}

// SetDelivered moves a subscription's delivery mark forward to seq.
func (s *Store) SetDelivered(ctx context.Context, id string, seq int64) error {
	return s.changeOne(ctx, "updating", id, "UPDATE subscriptions SET delivered = greatest(delivered, $1) WHERE id = $2", seq, id)
}

func (s *Store) changeOne(ctx context.Context, what, id, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s subscription %q: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s subscription %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
