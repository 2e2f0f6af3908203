package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// migrations are the schema's versions: migrations/NNNN_what.sql, numbered from 1 without
// gaps, applied in order, each in the transaction that records it in schema_version. Never
// edit a released migration; add the next one.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate brings the schema up to the newest embedded version, and refuses a database written
// by a newer version of truce.
func migrate(ctx context.Context, db *sql.DB) error {
	steps, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	for i, name := range steps { // fs.Glob sorts
		v, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		if n, err := strconv.Atoi(v); err != nil || n != i+1 {
			return fmt.Errorf("migration %s is not number %d", name, i+1) // a build mistake
		}
	}

	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one process migrates at a time
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)"); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("migrating: reading the schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("schema version %d is newer than this program's %d", have, len(steps))
	}
	for i := have; i < len(steps); i++ {
		text, err := migrations.ReadFile(steps[i])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(text)); err != nil {
			return fmt.Errorf("migrating to version %d (%s): %w", i+1, steps[i], err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (?)", i+1); err != nil {
			return fmt.Errorf("migrating to version %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}
