package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/setpay/setpay/store"
)

// gatewayClaimSchema holds the gateway's claimed money movements until
// their outcome is recorded (store.GatewayClaimStore).
const gatewayClaimSchema = `CREATE TABLE gateway_claims (
		id            BLOB    NOT NULL PRIMARY KEY,
		kind          TEXT    NOT NULL,
		auth_xid      BLOB    NOT NULL,
		merchant_id   TEXT    NOT NULL,
		amount        BIGINT  NOT NULL,
		currency      INTEGER NOT NULL,
		amt_exp10     INTEGER NOT NULL,
		new_amount    BIGINT  NOT NULL,
		batch_xid     BLOB    NOT NULL,
		counter       BLOB,
		counter_delta BIGINT  NOT NULL,
		counter_limit BIGINT  NOT NULL,
		created       BIGINT  NOT NULL
	);
	CREATE INDEX gateway_claims_auth ON gateway_claims (auth_xid);`

var _ store.GatewayClaimStore = (*DB)(nil)

const claimColumns = `id, kind, auth_xid, merchant_id, amount, currency, amt_exp10, new_amount,
	batch_xid, counter, counter_delta, counter_limit, created`

func scanClaim(r rowScanner) (*store.GatewayClaim, error) {
	var (
		c               store.GatewayClaim
		id, auth, batch []byte
		created         int64
	)
	if err := r.Scan(&id, &c.Kind, &auth, &c.MerchantID, &c.Amount, &c.Currency, &c.AmtExp10, &c.NewAmount,
		&batch, &c.Counter, &c.CounterDelta, &c.CounterLimit, &created); err != nil {
		return nil, err
	}
	if len(id) != len(c.ID) || len(auth) != len(c.AuthXID) || len(batch) != len(c.Batch) {
		return nil, errors.New("sqlite: claim: malformed key")
	}
	copy(c.ID[:], id)
	copy(c.AuthXID[:], auth)
	copy(c.Batch[:], batch)
	c.Created = toTime(created)
	return &c, nil
}

// PutClaim stores c with its authorization's change and counter move.
func (db *DB) PutClaim(ctx context.Context, c *store.GatewayClaim, update func(a *store.Authorization) error) error {
	if c.Created.IsZero() {
		c.Created = db.now()
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.updateAuthorization(ctx, tx, c.AuthXID, update); err != nil {
			return err
		}
		if c.Counter != nil {
			if err := noOppositeClaim(ctx, tx, c); err != nil {
				return err
			}
			if err := moveCounter(ctx, tx, c.Counter, c.CounterDelta, c.CounterLimit); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO gateway_claims (`+claimColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			c.ID[:], c.Kind, c.AuthXID[:], c.MerchantID, c.Amount, c.Currency, c.AmtExp10, c.NewAmount,
			c.Batch[:], c.Counter, c.CounterDelta, c.CounterLimit, fromTime(c.Created))
		if err != nil {
			return fmt.Errorf("sqlite: claim %s: %w", c.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: claim %s: %w", c.ID, err)
		} else if n == 0 {
			return fmt.Errorf("claim %s exists: %w", c.ID, store.ErrConflict)
		}
		return nil
	})
}

// noOppositeClaim returns ErrClaimOpen if a claim on c's authorization
// moves c's counter the other way. The transaction is IMMEDIATE (Open's
// _txlock), so no claim can be inserted between this look and c's.
func noOppositeClaim(ctx context.Context, tx *sql.Tx, c *store.GatewayClaim) error {
	opposite := `counter_delta < 0`
	switch {
	case c.CounterDelta == 0:
		return nil
	case c.CounterDelta < 0:
		opposite = `counter_delta > 0`
	}
	var id []byte
	err := tx.QueryRowContext(ctx, `SELECT id FROM gateway_claims WHERE auth_xid = ? AND counter = ? AND `+opposite+` LIMIT 1`,
		c.AuthXID[:], c.Counter).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("sqlite: claim %s: %w", c.ID, err)
	}
	return fmt.Errorf("claim %s: claim %x moves its counter the other way: %w", c.ID, id, store.ErrClaimOpen)
}

// Claims returns up to max claims, oldest first.
func (db *DB) Claims(ctx context.Context, authXID *store.XID, max int) ([]*store.GatewayClaim, error) {
	q, args := `SELECT `+claimColumns+` FROM gateway_claims ORDER BY created, id LIMIT ?`, []any{max}
	if authXID != nil {
		q, args = `SELECT `+claimColumns+` FROM gateway_claims WHERE auth_xid = ? ORDER BY created, id LIMIT ?`, []any{authXID[:], max}
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claims: %w", err)
	}
	defer rows.Close()
	var out []*store.GatewayClaim
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: claims: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claims: %w", err)
	}
	return out, nil
}

// SettleClaim deletes claim id with its outcome, in one transaction.
func (db *DB) SettleClaim(ctx context.Context, id store.XID, abandon bool, update func(a *store.Authorization, c *store.GatewayClaim) (*store.GatewayBatchEntry, error)) (*store.Authorization, *store.GatewayBatch, int64, error) {
	var (
		out *store.Authorization
		b   *store.GatewayBatch
		seq int64
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanClaim(tx.QueryRowContext(ctx, `SELECT `+claimColumns+` FROM gateway_claims WHERE id = ?`, id[:]))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("claim %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: claim %s: %w", id, err)
		}
		var e *store.GatewayBatchEntry
		out, err = db.updateAuthorization(ctx, tx, c.AuthXID, func(a *store.Authorization) error {
			var err error
			e, err = update(a, c)
			return err
		})
		if err != nil {
			return err
		}
		if abandon && c.Counter != nil {
			if err := moveCounter(ctx, tx, c.Counter, -c.CounterDelta, math.MaxInt64); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gateway_claims WHERE id = ?`, id[:]); err != nil {
			return fmt.Errorf("sqlite: settle claim %s: %w", id, err)
		}
		b, seq = nil, 0
		if e != nil {
			b, seq, err = addToOpen(ctx, tx, out.MerchantID, *e)
		}
		return err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return out, b, seq, nil
}

// moveCounter is AddSpent inside tx.
func moveCounter(ctx context.Context, tx *sql.Tx, account []byte, delta, limit int64) error {
	cur, err := spent(ctx, tx, account)
	if err != nil {
		return err
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur+delta < 0) {
		return fmt.Errorf("counter %d%+d out of range: %w", cur, delta, store.ErrConflict)
	}
	if delta > 0 && cur+delta > limit {
		return fmt.Errorf("counter %d%+d exceeds limit %d: %w", cur, delta, limit, store.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_spent (account, spent) VALUES (?, ?)
		ON CONFLICT (account) DO UPDATE SET spent = excluded.spent`, account, cur+delta); err != nil {
		return fmt.Errorf("sqlite: counter: %w", err)
	}
	return nil
}
