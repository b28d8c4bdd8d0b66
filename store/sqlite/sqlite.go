// Package sqlite is the embedded store backend: a single SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode, shared safely by several
// processes on one machine.
//
// The SQL is kept portable (the PostgreSQL backend passes the same
// conformance suite): integers for times, BLOB for bytes, INSERT ... ON
// CONFLICT as the only upsert, explicit transactions for read-modify-write.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/setpay/setpay/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout is how long a writer waits for another connection or process
// holding the write lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is a SQLite-backed store. It implements store.MerchantStore,
// store.GatewayStore, store.AccountStore and store.BankStore and is safe
// for concurrent use.
type DB struct {
	db  *sql.DB
	now func() time.Time
}

var (
	_ store.MerchantStore = (*DB)(nil)
	_ store.GatewayStore  = (*DB)(nil)
	_ store.AccountStore  = (*DB)(nil)
)

// Open opens (creating if needed) the database at path and brings its schema
// up to date. path ":memory:" gives a private in-memory database, for tests.
func Open(path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	memory := path == ":memory:"
	// Every transaction begins IMMEDIATE: it takes the write lock up front,
	// so read-modify-write cannot interleave with another writer (in this
	// process or another) and never has to be retried. synchronous=FULL:
	// a write is on disk before the method acknowledging it returns.
	dsn := path + "?_txlock=immediate" +
		fmt.Sprintf("&_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()) +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	if !memory {
		dsn += "&_pragma=journal_mode(WAL)"
	}
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if memory {
		// Each connection to ":memory:" is its own database: keep one.
		sdb.SetMaxOpenConns(1)
	}
	db := &DB{db: sdb, now: time.Now}
	if err := db.migrate(context.Background()); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Never edit an applied migration: append a new one.
var migrations = []string{
	`CREATE TABLE orders (
		xid              BLOB    NOT NULL PRIMARY KEY,
		lidm             BLOB,
		lidc             BLOB,
		brand            TEXT    NOT NULL,
		description      TEXT    NOT NULL,
		amount           BIGINT  NOT NULL,
		currency         INTEGER NOT NULL,
		amt_exp10        INTEGER NOT NULL,
		state            TEXT    NOT NULL,
		auth_code        TEXT    NOT NULL,
		auth_amount      BIGINT  NOT NULL,
		capture_amount   BIGINT  NOT NULL,
		gateway_auth_res BLOB,
		trans_ids        BLOB,
		chall_c          BLOB,
		chall_m          BLOB,
		auth_rrpid       BLOB,
		created          BIGINT  NOT NULL,
		updated          BIGINT  NOT NULL
	);
	CREATE INDEX orders_created ON orders (created, xid);
	CREATE TABLE authorizations (
		xid           BLOB    NOT NULL PRIMARY KEY,
		merchant_id   TEXT    NOT NULL,
		pan_masked    TEXT    NOT NULL,
		amount        BIGINT  NOT NULL,
		currency      INTEGER NOT NULL,
		amt_exp10     INTEGER NOT NULL,
		result        TEXT    NOT NULL,
		approval_code TEXT    NOT NULL,
		captured      BIGINT  NOT NULL,
		state         TEXT    NOT NULL,
		created       BIGINT  NOT NULL,
		updated       BIGINT  NOT NULL
	);
	CREATE TABLE replay (
		key     BLOB   NOT NULL PRIMARY KEY,
		expires BIGINT NOT NULL
	);
	CREATE INDEX replay_expires ON replay (expires);
	CREATE TABLE account_spent (
		account BLOB   NOT NULL PRIMARY KEY,
		spent   BIGINT NOT NULL
	);`,
	bankSchema,         // store/sqlite/bank.go
	caSchema,           // store/sqlite/ca.go
	caPendingSchema,    // store/sqlite/ca.go: pending certificate requests
	gatewayBatchSchema, // store/sqlite/gateway.go: settlement batches, issuer references
	// merchant/split.go: a split shipment's first part, the latest AuthToken.
	`ALTER TABLE orders ADD COLUMN first_auth_amount BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE orders ADD COLUMN auth_token BLOB;`,
	gatewayClaimSchema, // store/sqlite/claim.go: money movements with the issuer not yet recorded
	// merchant/captoken.go: the gateway's CapToken, sent back at capture.
	`ALTER TABLE orders ADD COLUMN cap_token BLOB;`,
	orderPartsSchema, // store/sqlite/merchant.go: every authorization of an order
	// gateway/captoken.go: whether follow-ups must carry a CapToken;
	// authorizations recorded before are taken as issued none.
	`ALTER TABLE authorizations ADD COLUMN cap_token_issued BOOLEAN NOT NULL DEFAULT 0;`,
}

// migrate applies pending migrations in one transaction, so that processes
// opening the same file at once cannot both apply one.
func (db *DB) migrate(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var version int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this program (%d)", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations))
		return err
	})
}

// inTx runs fn in a transaction and commits it if fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Times are stored as Unix nanoseconds (UTC by construction).
func fromTime(t time.Time) int64 { return t.UnixNano() }
func toTime(n int64) time.Time   { return time.Unix(0, n).UTC() }

// nilIfEmpty makes empty and nil byte slices read back the same (nil).
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// stamp fills zero timestamps of a new record.
func (db *DB) stamp(created, updated *time.Time) {
	now := db.now()
	if created.IsZero() {
		*created = now
	}
	if updated.IsZero() {
		*updated = *created
	}
}
