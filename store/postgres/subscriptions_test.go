package postgres_test

import (
	"testing"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/internal/pgtest"
	"github.com/truce-mission/truce/store/storetest"
)

func TestSubscriptions(t *testing.T) {
	pgtest.Require(t)
	storetest.RunSubscriptions(t, storetest.PerTest(
		func(t *testing.T) string { return pgtest.Schema(t) },
		func(t *testing.T, url string) store.Store { return open(t, url) }))
}
