package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/setpay/setpay/store"
)

const authColumns = `xid, merchant_id, pan_masked, amount, currency, amt_exp10,
	result, approval_code, captured, state, created, updated`

func scanAuthorization(r rowScanner) (*store.Authorization, error) {
	var (
		a                store.Authorization
		xid              []byte
		created, updated int64
	)
	if err := r.Scan(&xid, &a.MerchantID, &a.PANMasked, &a.Amount, &a.Currency, &a.AmtExp10,
		&a.Result, &a.ApprovalCode, &a.Captured, &a.State, &created, &updated); err != nil {
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
	if a == nil {
		return errors.New("sqlite: CreateAuthorization: nil authorization")
	}
	if err := store.CheckMasked(a.PANMasked); err != nil {
		return fmt.Errorf("sqlite: authorization %s: %w", a.XID, err)
	}
	db.stamp(&a.Created, &a.Updated)
	res, err := db.db.ExecContext(ctx, `INSERT INTO authorizations (`+authColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (xid) DO NOTHING`,
		a.XID[:], a.MerchantID, a.PANMasked, a.Amount, a.Currency, a.AmtExp10,
		a.Result, a.ApprovalCode, a.Captured, a.State, fromTime(a.Created), fromTime(a.Updated))
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
		a, err := authorizationQuery(ctx, tx, xid)
		if err != nil {
			return err
		}
		before := a.Updated
		if err := update(a); err != nil {
			return fmt.Errorf("update authorization %s: %w", xid, err)
		}
		if a.XID != xid {
			return fmt.Errorf("sqlite: update authorization %s: update changed the XID", xid)
		}
		if err := store.CheckMasked(a.PANMasked); err != nil {
			return fmt.Errorf("sqlite: update authorization %s: %w", xid, err)
		}
		if a.Updated.Equal(before) {
			a.Updated = db.now()
		}
		a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
		_, err = tx.ExecContext(ctx, `UPDATE authorizations SET merchant_id = ?, pan_masked = ?,
			amount = ?, currency = ?, amt_exp10 = ?, result = ?, approval_code = ?, captured = ?,
			state = ?, created = ?, updated = ? WHERE xid = ?`,
			a.MerchantID, a.PANMasked, a.Amount, a.Currency, a.AmtExp10, a.Result, a.ApprovalCode,
			a.Captured, a.State, fromTime(a.Created), fromTime(a.Updated), xid[:])
		if err != nil {
			return fmt.Errorf("sqlite: update authorization %s: %w", xid, err)
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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
