package follow

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestOffers(t *testing.T) {
	var o Offers[string]
	if got := o.Next(0, 10); got != 10 {
		t.Errorf("empty: Next(0, 10) = %d, want 10", got)
	}
	for _, i := range []int64{7, 3, 12} {
		o.Add(i, "x")
	}
	for _, tc := range []struct {
		name            string
		from, end, want int64
	}{
		{"lowest", 0, 10, 3},
		{"from excludes below", 4, 10, 7},
		{"end excludes at and above", 0, 3, 3},
		{"none in range", 8, 12, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := o.Next(tc.from, tc.end); got != tc.want {
				t.Errorf("Next(%d, %d) = %d, want %d", tc.from, tc.end, got, tc.want)
			}
		})
	}
	if _, ok := o.Take(3); !ok {
		t.Error("Take(3): not offered")
	}
	if _, ok := o.Take(3); ok {
		t.Error("Take(3) twice")
	}
	o.Drop(7)
	if o.Len() != 1 {
		t.Errorf("Len = %d, want 1", o.Len())
	}
}

func TestWaitFor(t *testing.T) {
	var mu sync.Mutex
	size, changed := int64(0), make(chan struct{})
	progress := func() (int64, <-chan struct{}) {
		mu.Lock()
		defer mu.Unlock()
		return size, changed
	}
	done := make(chan error)
	go func() { done <- WaitFor(context.Background(), 2, progress) }()
	for range 2 {
		mu.Lock()
		size++
		close(changed)
		changed = make(chan struct{})
		mu.Unlock()
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WaitFor(ctx, 3, progress); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor past the size with ctx cancelled: %v, want context.Canceled", err)
	}
}
