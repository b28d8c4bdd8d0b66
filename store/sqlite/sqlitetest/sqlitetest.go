// Package sqlitetest opens throwaway SQLite stores for tests, so that
// the parties' test fixtures need not each repeat the opening and the
// cleanup.
package sqlitetest

import (
	"testing"

	"github.com/setpay/setpay/store/sqlite"
)

// Memory opens an empty in-memory database with every migration applied,
// closed when the test ends. It fails the test if the database cannot be
// opened.
func Memory(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
