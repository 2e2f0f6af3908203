// Package pgtest gives the PostgreSQL store's tests a schema of their own on the test server,
// 127.0.0.1:5432 (trust authentication, user postgres, database test).
//
// Without a server, tests skip with "PostgreSQL not reachable at 127.0.0.1:5432: ...", unless
// the environment sets TRUCE_REQUIRE_DB=1 (as CI does): then they fail, so that a missing
// database cannot pass as a skipped test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is the URL of the test database.
const Server = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"

// ErrUnreachable marks a failure to connect to the test server.
var ErrUnreachable = errors.New("PostgreSQL not reachable at 127.0.0.1:5432")

// Unreachable ends t for err: a skip when err is ErrUnreachable and TRUCE_REQUIRE_DB is not 1,
// a failure otherwise.
func Unreachable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrUnreachable) && os.Getenv("TRUCE_REQUIRE_DB") != "1" {
		t.Skip(err)
	}
	t.Fatal(err)
}

// Require ends t as Unreachable does unless the test server answers.
func Require(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, Server)
	if err != nil {
		Unreachable(t, fmt.Errorf("%w: %v", ErrUnreachable, err))
	}
	conn.Close(ctx)
}

// CreateSchema creates an empty schema with a random name, truce_test_<hex>, and returns the URL
// that opens a store in it (search_path set) and a function that drops it.
func CreateSchema() (url string, drop func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, Server)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer conn.Close(ctx)
	var b [8]byte
	rand.Read(b[:])
	schema := "truce_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, Server)
		if err == nil {
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		}
		if err != nil {
			return fmt.Errorf("dropping schema %s: %w", schema, err)
		}
		return nil
	}
	return Server + "&search_path=" + schema, drop, nil
}

// Schema creates a schema for t, dropped when t ends, and returns the URL that opens a store in
// it.
func Schema(t testing.TB) string {
	t.Helper()
	url, drop, err := CreateSchema()
	if err != nil {
		Unreachable(t, err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return url
}

// Exec runs statements on the database at url, outside any store: for tests that damage a
// store on purpose.
func Exec(t testing.TB, url string, statements ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		Unreachable(t, fmt.Errorf("%w: %v", ErrUnreachable, err))
	}
	defer conn.Close(ctx)
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
