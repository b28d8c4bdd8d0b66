package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/setpay/setpay/store"
)

const authColumns = `xid, merchant_id, pan_masked, amount, currency, amt_exp10,
	result, approval_code, captured, state, created, updated, cap_token_issued`

func scanAuthorization(r rowScanner) (*store.Authorization, error) {
	var (
		a                store.Authorization
		xid              []byte
		created, updated int64
	)
	if err := r.Scan(&xid, &a.MerchantID, &a.PANMasked, &a.Amount, &a.Currency, &a.AmtExp10,
		&a.Result, &a.ApprovalCode, &a.Captured, &a.State, &created, &updated, &a.CapTokenIssued); err != nil {
		return nil, err
	}
	if len(xid) != len(a.XID) {
		return nil, fmt.Errorf("sqlite: authorization row has a %d-byte XID", len(xid))
	}
	copy(a.XID[:], xid)
	a.Created, a.Updated = toTime(created), toTime(updated)
	return &a, nil
}

// CreateAuthorization stores a new authorization; zero timestamps are filled
// in (a is updated to match what was stored).
func (db *DB) CreateAuthorization(ctx context.Context, a *store.Authorization) error {
	return db.createAuthorization(ctx, db.db, a)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (db *DB) createAuthorization(ctx context.Context, ex execer, a *store.Authorization) error {
	if a == nil {
		return errors.New("sqlite: CreateAuthorization: nil authorization")
	}
	if err := store.CheckMasked(a.PANMasked); err != nil {
		return fmt.Errorf("sqlite: authorization %s: %w", a.XID, err)
	}
	db.stamp(&a.Created, &a.Updated)
	res, err := ex.ExecContext(ctx, `INSERT INTO authorizations (`+authColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (xid) DO NOTHING`,
		a.XID[:], a.MerchantID, a.PANMasked, a.Amount, a.Currency, a.AmtExp10,
		a.Result, a.ApprovalCode, a.Captured, a.State, fromTime(a.Created), fromTime(a.Updated), a.CapTokenIssued)
	if err != nil {
		return fmt.Errorf("sqlite: create authorization %s: %w", a.XID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create authorization %s: %w", a.XID, err)
	} else if n == 0 {
		return fmt.Errorf("authorization %s already exists: %w", a.XID, store.ErrConflict)
	}
	a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
	return nil
}

// CreateAuthorizationBatched stores a and its batch entry in one
// transaction.
func (db *DB) CreateAuthorizationBatched(ctx context.Context, a *store.Authorization, e *store.GatewayBatchEntry) (*store.GatewayBatch, int64, error) {
	var (
		b      *store.GatewayBatch
		seq    int64
		stored store.Authorization
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		b, seq, stored = nil, 0, *a // afresh if the transaction is retried
		if err := db.createAuthorization(ctx, tx, &stored); err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		var err error
		b, seq, err = addToOpen(ctx, tx, a.MerchantID, *e)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	*a = stored
	return b, seq, nil
}

// Authorization returns the authorization with this XID.
func (db *DB) Authorization(ctx context.Context, xid store.XID) (*store.Authorization, error) {
	return authorizationQuery(ctx, db.db, xid)
}

func authorizationQuery(ctx context.Context, q queryer, xid store.XID) (*store.Authorization, error) {
	a, err := scanAuthorization(q.QueryRowContext(ctx, `SELECT `+authColumns+` FROM authorizations WHERE xid = ?`, xid[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("authorization %s: %w", xid, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: authorization %s: %w", xid, err)
	}
	return a, nil
}

// UpdateAuthorization is read-modify-write in one transaction.
func (db *DB) UpdateAuthorization(ctx context.Context, xid store.XID, update func(a *store.Authorization) error) (*store.Authorization, error) {
	var out *store.Authorization
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = db.updateAuthorization(ctx, tx, xid, update)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateAuthorizationBatched updates authorization xid and records the
// batch entry update names, in one transaction.
func (db *DB) UpdateAuthorizationBatched(ctx context.Context, xid store.XID, update func(a *store.Authorization) (*store.GatewayBatchEntry, error)) (*store.Authorization, *store.GatewayBatch, int64, error) {
	var (
		out *store.Authorization
		b   *store.GatewayBatch
		seq int64
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var e *store.GatewayBatchEntry
		var err error
		out, err = db.updateAuthorization(ctx, tx, xid, func(a *store.Authorization) error {
			var err error
			e, err = update(a)
			return err
		})
		if err != nil || e == nil {
			b, seq = nil, 0
			return err
		}
		b, seq, err = addToOpen(ctx, tx, out.MerchantID, *e)
		return err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return out, b, seq, nil
}

func (db *DB) updateAuthorization(ctx context.Context, tx *sql.Tx, xid store.XID, update func(a *store.Authorization) error) (*store.Authorization, error) {
	a, err := authorizationQuery(ctx, tx, xid)
	if err != nil {
		return nil, err
	}
	before := a.Updated
	if err := update(a); err != nil {
		return nil, fmt.Errorf("update authorization %s: %w", xid, err)
	}
	if a.XID != xid {
		return nil, fmt.Errorf("sqlite: update authorization %s: update changed the XID", xid)
	}
	if err := store.CheckMasked(a.PANMasked); err != nil {
		return nil, fmt.Errorf("sqlite: update authorization %s: %w", xid, err)
	}
	if a.Updated.Equal(before) {
		a.Updated = db.now()
	}
	a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
	_, err = tx.ExecContext(ctx, `UPDATE authorizations SET merchant_id = ?, pan_masked = ?,
		amount = ?, currency = ?, amt_exp10 = ?, result = ?, approval_code = ?, captured = ?,
		state = ?, created = ?, updated = ?, cap_token_issued = ? WHERE xid = ?`,
		a.MerchantID, a.PANMasked, a.Amount, a.Currency, a.AmtExp10, a.Result, a.ApprovalCode,
		a.Captured, a.State, fromTime(a.Created), fromTime(a.Updated), a.CapTokenIssued, xid[:])
	if err != nil {
		return nil, fmt.Errorf("sqlite: update authorization %s: %w", xid, err)
	}
	return a, nil
}

// Remember records key until expires. One statement, so it is atomic across
// connections and processes: the insert happens, or an expired entry is
// overwritten, or nothing changes and the key is a replay.
func (db *DB) Remember(ctx context.Context, key []byte, expires time.Time) error {
	if len(key) == 0 {
		return errors.New("sqlite: Remember: empty key")
	}
	res, err := db.db.ExecContext(ctx, `INSERT INTO replay (key, expires) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET expires = excluded.expires
		WHERE replay.expires <= ?`,
		key, fromTime(expires), fromTime(db.now()))
	if err != nil {
		return fmt.Errorf("sqlite: remember: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: remember: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("replay cache: key already seen: %w", store.ErrConflict)
	}
	return nil
}

// PurgeExpired deletes replay entries that expired at or before now.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := db.db.ExecContext(ctx, `DELETE FROM replay WHERE expires <= ?`, fromTime(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge expired: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge expired: %w", err)
	}
	return int(n), nil
}

// Spent returns the total spent on account (0 if unknown).
func (db *DB) Spent(ctx context.Context, account []byte) (int64, error) {
	return spent(ctx, db.db, account)
}

func spent(ctx context.Context, q queryer, account []byte) (int64, error) {
	if len(account) == 0 {
		return 0, errors.New("sqlite: empty account key")
	}
	var n int64
	err := q.QueryRowContext(ctx, `SELECT spent FROM account_spent WHERE account = ?`, account).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: spent: %w", err)
	}
	return n, nil
}

// AddSpent adds delta to account's total within limit, in one transaction.
func (db *DB) AddSpent(ctx context.Context, account []byte, delta int64, limit int64) (int64, error) {
	var total int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := spent(ctx, tx, account)
		if err != nil {
			return err
		}
		total = cur
		if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur+delta < 0) {
			return fmt.Errorf("account total %d%+d out of range: %w", cur, delta, store.ErrConflict)
		}
		if delta > 0 && cur+delta > limit {
			return fmt.Errorf("account total %d%+d exceeds limit %d: %w", cur, delta, limit, store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_spent (account, spent) VALUES (?, ?)
			ON CONFLICT (account) DO UPDATE SET spent = excluded.spent`, account, cur+delta); err != nil {
			return fmt.Errorf("sqlite: add spent: %w", err)
		}
		total = cur + delta
		return nil
	})
	return total, err
}

// gatewayBatchSchema holds the gateway's settlement batches and what its
// issuers remember between an authorization and what follows it.
// A merchant has at most one open batch (the partial unique index); an
// entry is in one batch at most (its primary key).
const gatewayBatchSchema = `CREATE TABLE gateway_batches (
		id            BIGINT  NOT NULL PRIMARY KEY,
		merchant_id   TEXT    NOT NULL,
		state         TEXT    NOT NULL,
		opened        BIGINT  NOT NULL,
		closed        BIGINT  NOT NULL,
		currency      INTEGER NOT NULL,
		amt_exp10     INTEGER NOT NULL,
		capture_count BIGINT  NOT NULL,
		capture_total BIGINT  NOT NULL,
		credit_count  BIGINT  NOT NULL,
		credit_total  BIGINT  NOT NULL
	);
	CREATE UNIQUE INDEX gateway_batches_open ON gateway_batches (merchant_id) WHERE state = 'open';
	CREATE TABLE gateway_batch_entries (
		xid      BLOB   NOT NULL,
		kind     TEXT   NOT NULL,
		batch_id BIGINT NOT NULL REFERENCES gateway_batches (id),
		seq      BIGINT NOT NULL,
		amount   BIGINT NOT NULL,
		PRIMARY KEY (xid, kind)
	);
	CREATE TABLE issuer_refs (
		issuer TEXT NOT NULL,
		xid    BLOB NOT NULL,
		ref    BLOB NOT NULL,
		PRIMARY KEY (issuer, xid)
	);`

var (
	_ store.GatewayBatchStore = (*DB)(nil)
	_ store.IssuerRefStore    = (*DB)(nil)
)

const gwBatchColumns = `id, merchant_id, state, opened, closed, currency, amt_exp10,
	capture_count, capture_total, credit_count, credit_total`

// A zero Closed is stored as 0, so that it reads back zero.
func fromOptionalTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return fromTime(t)
}

func toOptionalTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return toTime(n)
}

func scanGatewayBatch(r rowScanner) (*store.GatewayBatch, error) {
	var (
		b              store.GatewayBatch
		opened, closed int64
	)
	if err := r.Scan(&b.ID, &b.MerchantID, &b.State, &opened, &closed, &b.Currency, &b.AmtExp10,
		&b.CaptureCount, &b.CaptureTotal, &b.CreditCount, &b.CreditTotal); err != nil {
		return nil, err
	}
	b.Opened, b.Closed = toTime(opened), toOptionalTime(closed)
	return &b, nil
}

func validBatchState(s store.BatchState) bool {
	switch s {
	case store.BatchOpen, store.BatchClosed, store.BatchSettled, store.BatchPurged:
		return true
	}
	return false
}

// OpenBatch stores a new open batch; its ID is one more than the largest
// so far, taken inside the write transaction.
func (db *DB) OpenBatch(ctx context.Context, b *store.GatewayBatch) error {
	if b == nil || b.MerchantID == "" {
		return errors.New("sqlite: OpenBatch: no merchant")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM gateway_batches WHERE merchant_id = ? AND state = ?`,
			b.MerchantID, store.BatchOpen).Scan(&open); err != nil {
			return fmt.Errorf("sqlite: open batch: %w", err)
		}
		if open > 0 {
			return fmt.Errorf("merchant %q has an open batch: %w", b.MerchantID, store.ErrConflict)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM gateway_batches`).Scan(&id); err != nil {
			return fmt.Errorf("sqlite: open batch: %w", err)
		}
		if b.Opened.IsZero() {
			b.Opened = db.now()
		}
		nb := *b
		nb.ID, nb.State, nb.Opened, nb.Closed = id, store.BatchOpen, b.Opened.UTC(), time.Time{}
		if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_batches (`+gwBatchColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			nb.ID, nb.MerchantID, nb.State, fromTime(nb.Opened), int64(0), nb.Currency, nb.AmtExp10,
			nb.CaptureCount, nb.CaptureTotal, nb.CreditCount, nb.CreditTotal); err != nil {
			return fmt.Errorf("sqlite: open batch: %w", err)
		}
		*b = nb
		return nil
	})
}

// Batch returns merchantID's batch id.
func (db *DB) Batch(ctx context.Context, merchantID string, id int64) (*store.GatewayBatch, error) {
	return gatewayBatchQuery(ctx, db.db, merchantID, id)
}

func gatewayBatchQuery(ctx context.Context, q queryer, merchantID string, id int64) (*store.GatewayBatch, error) {
	b, err := scanGatewayBatch(q.QueryRowContext(ctx, `SELECT `+gwBatchColumns+` FROM gateway_batches
		WHERE id = ? AND merchant_id = ?`, id, merchantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("batch %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: batch %d: %w", id, err)
	}
	return b, nil
}

// CurrentBatch returns merchantID's open batch.
func (db *DB) CurrentBatch(ctx context.Context, merchantID string) (*store.GatewayBatch, error) {
	b, err := scanGatewayBatch(db.db.QueryRowContext(ctx, `SELECT `+gwBatchColumns+` FROM gateway_batches
		WHERE merchant_id = ? AND state = ?`, merchantID, store.BatchOpen))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("open batch of %q: %w", merchantID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: open batch of %q: %w", merchantID, err)
	}
	return b, nil
}

// UpdateBatch is read-modify-write in one transaction.
func (db *DB) UpdateBatch(ctx context.Context, merchantID string, id int64, update func(b *store.GatewayBatch) error) (*store.GatewayBatch, error) {
	var out *store.GatewayBatch
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		b, err := gatewayBatchQuery(ctx, tx, merchantID, id)
		if err != nil {
			return err
		}
		if err := update(b); err != nil {
			return fmt.Errorf("update batch %d: %w", id, err)
		}
		switch {
		case b.ID != id || b.MerchantID != merchantID:
			return fmt.Errorf("sqlite: update batch %d: update changed its ID or merchant", id)
		case !validBatchState(b.State):
			return fmt.Errorf("sqlite: update batch %d: state %q", id, b.State)
		}
		b.Opened, b.Closed = b.Opened.UTC(), b.Closed.UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE gateway_batches SET state = ?, opened = ?, closed = ?,
			currency = ?, amt_exp10 = ?, capture_count = ?, capture_total = ?, credit_count = ?, credit_total = ?
			WHERE id = ?`,
			b.State, fromTime(b.Opened), fromOptionalTime(b.Closed), b.Currency, b.AmtExp10,
			b.CaptureCount, b.CaptureTotal, b.CreditCount, b.CreditTotal, id); err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("batch %d: merchant has another open batch: %w", id, store.ErrConflict)
			}
			return fmt.Errorf("sqlite: update batch %d: %w", id, err)
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddToBatch records e in the open batch id, once.
func (db *DB) AddToBatch(ctx context.Context, merchantID string, id int64, e store.GatewayBatchEntry) (*store.GatewayBatch, int64, error) {
	var (
		out *store.GatewayBatch
		seq int64
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, seq, err = addEntry(ctx, tx, merchantID, id, e)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, seq, nil
}

func checkEntry(e store.GatewayBatchEntry) error {
	if _, ok := store.BatchColumn(e.Kind); !ok {
		return fmt.Errorf("sqlite: batch entry kind %q", e.Kind)
	}
	if e.Amount <= 0 {
		return fmt.Errorf("sqlite: batch entry amount %d: %w", e.Amount, store.ErrConflict)
	}
	return nil
}

// recordedEntry returns the batch and sequence number of e if it is
// recorded already (ok false if not).
func recordedEntry(ctx context.Context, tx *sql.Tx, e store.GatewayBatchEntry) (b *store.GatewayBatch, seq int64, ok bool, err error) {
	var prev int64
	err = tx.QueryRowContext(ctx, `SELECT batch_id, seq FROM gateway_batch_entries WHERE xid = ? AND kind = ?`,
		e.XID[:], e.Kind).Scan(&prev, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("sqlite: batch entry: %w", err)
	}
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT merchant_id FROM gateway_batches WHERE id = ?`, prev).Scan(&owner); err != nil {
		return nil, 0, false, fmt.Errorf("sqlite: batch entry: %w", err)
	}
	b, err = gatewayBatchQuery(ctx, tx, owner, prev)
	return b, seq, err == nil, err
}

// addToOpen records e in merchantID's open batch, once; nil and 0 when
// the merchant has no open batch in e's currency.
func addToOpen(ctx context.Context, tx *sql.Tx, merchantID string, e store.GatewayBatchEntry) (*store.GatewayBatch, int64, error) {
	if err := checkEntry(e); err != nil {
		return nil, 0, err
	}
	if b, seq, ok, err := recordedEntry(ctx, tx, e); ok || err != nil {
		return b, seq, err
	}
	cur, err := scanGatewayBatch(tx.QueryRowContext(ctx, `SELECT `+gwBatchColumns+` FROM gateway_batches
		WHERE merchant_id = ? AND state = ?`, merchantID, store.BatchOpen))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: open batch of %q: %w", merchantID, err)
	}
	if cur.Currency != e.Currency || cur.AmtExp10 != e.AmtExp10 {
		return nil, 0, nil
	}
	return addEntry(ctx, tx, merchantID, cur.ID, e)
}

// addEntry records e in merchantID's open batch id, once.
func addEntry(ctx context.Context, tx *sql.Tx, merchantID string, id int64, e store.GatewayBatchEntry) (*store.GatewayBatch, int64, error) {
	if err := checkEntry(e); err != nil {
		return nil, 0, err
	}
	if b, seq, ok, err := recordedEntry(ctx, tx, e); ok || err != nil {
		return b, seq, err
	}
	b, err := gatewayBatchQuery(ctx, tx, merchantID, id)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case b.State != store.BatchOpen:
		return nil, 0, fmt.Errorf("batch %d is %s: %w", id, b.State, store.ErrConflict)
	case b.Currency != e.Currency || b.AmtExp10 != e.AmtExp10:
		return nil, 0, fmt.Errorf("batch %d settles in another currency: %w", id, store.ErrConflict)
	}
	total, count := &b.CreditTotal, &b.CreditCount
	if debit, _ := store.BatchColumn(e.Kind); debit {
		total, count = &b.CaptureTotal, &b.CaptureCount
	}
	if *total > math.MaxInt64-e.Amount {
		return nil, 0, fmt.Errorf("batch %d total overflows: %w", id, store.ErrConflict)
	}
	*total += e.Amount
	*count++
	seq := b.CaptureCount + b.CreditCount
	if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_batch_entries (xid, kind, batch_id, seq, amount)
		VALUES (?, ?, ?, ?, ?)`, e.XID[:], e.Kind, id, seq, e.Amount); err != nil {
		return nil, 0, fmt.Errorf("sqlite: batch entry: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE gateway_batches SET capture_count = ?, capture_total = ?,
		credit_count = ?, credit_total = ? WHERE id = ?`,
		b.CaptureCount, b.CaptureTotal, b.CreditCount, b.CreditTotal, id); err != nil {
		return nil, 0, fmt.Errorf("sqlite: batch entry: %w", err)
	}
	return b, seq, nil
}

// PutIssuerRef records ref for xid unless it has one.
func (db *DB) PutIssuerRef(ctx context.Context, issuer string, xid store.XID, ref []byte) error {
	if issuer == "" || len(ref) == 0 {
		return errors.New("sqlite: PutIssuerRef: empty issuer or reference")
	}
	res, err := db.db.ExecContext(ctx, `INSERT INTO issuer_refs (issuer, xid, ref) VALUES (?, ?, ?)
		ON CONFLICT (issuer, xid) DO NOTHING`, issuer, xid[:], ref)
	if err != nil {
		return fmt.Errorf("sqlite: issuer reference %s: %w", xid, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: issuer reference %s: %w", xid, err)
	} else if n == 0 {
		return fmt.Errorf("issuer reference %s exists: %w", xid, store.ErrConflict)
	}
	return nil
}

// IssuerRef returns xid's reference.
func (db *DB) IssuerRef(ctx context.Context, issuer string, xid store.XID) ([]byte, error) {
	var ref []byte
	err := db.db.QueryRowContext(ctx, `SELECT ref FROM issuer_refs WHERE issuer = ? AND xid = ?`, issuer, xid[:]).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("issuer reference %s: %w", xid, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: issuer reference %s: %w", xid, err)
	}
	return ref, nil
}

// DeleteIssuerRef deletes xid's reference if it is ref.
func (db *DB) DeleteIssuerRef(ctx context.Context, issuer string, xid store.XID, ref []byte) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM issuer_refs WHERE issuer = ? AND xid = ? AND ref = ?`,
		issuer, xid[:], ref); err != nil {
		return fmt.Errorf("sqlite: delete issuer reference %s: %w", xid, err)
	}
	return nil
}
