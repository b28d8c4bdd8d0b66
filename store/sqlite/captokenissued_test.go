package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/setpay/setpay/store"
)

// TestAuthorizationsBeforeCapTokenIssued: an authorization recorded by a
// schema without cap_token_issued reads back as issued none, so that the
// gateway does not ask its follow-ups for a token it never gave.
func TestAuthorizationsBeforeCapTokenIssued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	before := len(migrations) - 1
	if _, err := old.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:before] {
		if _, err := old.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	xid := store.XID{9}
	if _, err := old.Exec(`INSERT INTO schema_version (version) VALUES (?)`, before); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO authorizations (xid, merchant_id, pan_masked, amount, currency, amt_exp10,
			result, approval_code, captured, state, created, updated)
		VALUES (?, 'm', '411111…1111', 100, 978, -2, 'approved', 'A1', 0, 'authorized', 1, 1)`, xid[:]); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := openT(t, path)
	a, err := db.Authorization(context.Background(), xid)
	if err != nil {
		t.Fatal(err)
	}
	if a.CapTokenIssued || a.Amount != 100 || a.State != "authorized" {
		t.Errorf("after migration: %+v, want CapTokenIssued false and the row kept", a)
	}
}
