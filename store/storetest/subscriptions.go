package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/truce-mission/truce/store"
)

// RunSubscriptions checks a backend's [store.Subscriptions]: open has the contract of [Run]'s
// (a second call with the same t reopens the same data), and its stores must implement
// store.Subscriptions.
func RunSubscriptions(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	c := opener(open).store(t)
	subs, ok := c.Store.(store.Subscriptions)
	if !ok {
		t.Fatalf("%T does not implement store.Subscriptions", c.Store)
	}
	if got, err := subs.Subscriptions(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty store: Subscriptions = %v, %v", got, err)
	}
	created := time.Date(2026, 12, 6, 8, 0, 0, 123456000, time.UTC)
	want := []store.Subscription{
		{ID: "sub-a", Identity: "east-liaison", URL: "https://east.example/hook", Created: created, Delivered: 7},
		{ID: "sub-b", Identity: "analyst-1", URL: "http://127.0.0.1:9/x", Created: created.Add(time.Second)},
	}
	for _, s := range []store.Subscription{want[1], want[0]} {
		if err := subs.PutSubscription(ctx, s); err != nil {
			t.Fatalf("PutSubscription(%s): %v", s.ID, err)
		}
	}
	if err := subs.PutSubscription(ctx, want[0]); err == nil {
		t.Error("PutSubscription with an id already stored: no error")
	}
	if err := subs.SetDelivered(ctx, "sub-a", 12); err != nil {
		t.Fatal(err)
	}
	if err := subs.SetDelivered(ctx, "sub-a", 9); err != nil { // never back
		t.Fatal(err)
	}
	want[0].Delivered = 12
	if err := subs.SetDelivered(ctx, "sub-x", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetDelivered of an unknown id: %v, want ErrNotFound", err)
	}

	// A restart keeps the subscriptions and their marks.
	c.close(t)
	c = opener(open).store(t)
	subs = c.Store.(store.Subscriptions)
	got, err := subs.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, func(a, b store.Subscription) bool {
		return a.ID == b.ID && a.Identity == b.Identity && a.URL == b.URL && a.Created.Equal(b.Created) && a.Delivered == b.Delivered
	}) {
		t.Errorf("after reopening:\n got %+v\nwant %+v", got, want)
	}
	if err := subs.DeleteSubscription(ctx, "sub-b"); err != nil {
		t.Fatal(err)
	}
	if err := subs.DeleteSubscription(ctx, "sub-b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if got, _ := subs.Subscriptions(ctx); len(got) != 1 || got[0].ID != "sub-a" {
		t.Errorf("after deleting sub-b: %+v", got)
	}
}
