package sqlite_test

import (
	"testing"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/storetest"
)

func TestSubscriptions(t *testing.T) {
	storetest.RunSubscriptions(t, storetest.PerTest(
		func(t *testing.T) string { return t.TempDir() },
		func(t *testing.T, dir string) store.Store { return open(t, dir) }))
}
