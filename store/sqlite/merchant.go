package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/setpay/setpay/store"
)

const orderColumns = `xid, lidm, lidc, brand, description, amount, currency, amt_exp10,
	state, auth_code, auth_amount, capture_amount, gateway_auth_res, trans_ids, chall_c, chall_m, auth_rrpid,
	created, updated, first_auth_amount, auth_token, cap_token`

// orderPartsSchema keeps every approved authorization of an order
// (store.OrderPart), idx 0 the purchase's own. Orders authorized before
// it existed get their latest authorization as their one part.
const orderPartsSchema = `CREATE TABLE order_parts (
		xid              BLOB    NOT NULL REFERENCES orders (xid),
		idx              INTEGER NOT NULL,
		auth_rrpid       BLOB,
		state            TEXT    NOT NULL,
		auth_code        TEXT    NOT NULL DEFAULT '',
		auth_amount      BIGINT  NOT NULL DEFAULT 0,
		capture_amount   BIGINT  NOT NULL DEFAULT 0,
		credit_amount    BIGINT  NOT NULL DEFAULT 0,
		cap_token        BLOB,
		gateway_auth_res BLOB,
		pi               BLOB,
		PRIMARY KEY (xid, idx)
	);
	INSERT INTO order_parts (xid, idx, auth_rrpid, state, auth_code, auth_amount, capture_amount, cap_token, gateway_auth_res)
		SELECT xid, 0, auth_rrpid, state, auth_code, auth_amount, capture_amount, cap_token, gateway_auth_res FROM orders
		WHERE auth_rrpid IS NOT NULL AND state IN ('authorized', 'captured', 'reversed', 'capture-reversed', 'credited');`

// rowsQueryer is what *sql.DB and *sql.Tx have in common for queries.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadParts reads order o's parts.
func loadParts(ctx context.Context, q rowsQueryer, o *store.Order) error {
	rows, err := q.QueryContext(ctx, `SELECT idx, auth_rrpid, state, auth_code, auth_amount, capture_amount, credit_amount,
		cap_token, gateway_auth_res, pi FROM order_parts WHERE xid = ? ORDER BY idx`, o.XID[:])
	if err != nil {
		return err
	}
	defer rows.Close()
	o.Parts = nil
	for rows.Next() {
		var (
			p     store.OrderPart
			idx   int
			state string
		)
		if err := rows.Scan(&idx, &p.AuthRRPID, &state, &p.AuthCode, &p.AuthAmount, &p.CaptureAmount, &p.CreditAmount,
			&p.CapToken, &p.GatewayAuthRes, &p.PI); err != nil {
			return err
		}
		if idx != len(o.Parts) {
			return fmt.Errorf("order %s: part %d missing", o.XID, len(o.Parts))
		}
		p.State = store.OrderState(state)
		for _, b := range []*[]byte{&p.AuthRRPID, &p.CapToken, &p.GatewayAuthRes, &p.PI} {
			*b = nilIfEmpty(*b)
		}
		o.Parts = append(o.Parts, p)
	}
	return rows.Err()
}

// saveParts replaces order o's stored parts with o.Parts.
func saveParts(ctx context.Context, x execer, o *store.Order) error {
	if _, err := x.ExecContext(ctx, `DELETE FROM order_parts WHERE xid = ?`, o.XID[:]); err != nil {
		return err
	}
	for i, p := range o.Parts {
		if _, err := x.ExecContext(ctx, `INSERT INTO order_parts (xid, idx, auth_rrpid, state, auth_code, auth_amount,
			capture_amount, credit_amount, cap_token, gateway_auth_res, pi) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.XID[:], i, p.AuthRRPID, string(p.State), p.AuthCode, p.AuthAmount, p.CaptureAmount, p.CreditAmount,
			p.CapToken, p.GatewayAuthRes, p.PI); err != nil {
			return err
		}
	}
	return nil
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface{ Scan(dest ...any) error }

func scanOrder(r rowScanner) (*store.Order, error) {
	var (
		o                store.Order
		xid              []byte
		state            string
		created, updated int64
	)
	if err := r.Scan(&xid, &o.LIDM, &o.LIDC, &o.Brand, &o.Description, &o.Amount, &o.Currency, &o.AmtExp10,
		&state, &o.AuthCode, &o.AuthAmount, &o.CaptureAmount, &o.GatewayAuthRes,
		&o.TransIDs, &o.ChallC, &o.ChallM, &o.AuthRRPID, &created, &updated, &o.FirstAuthAmount, &o.AuthToken, &o.CapToken); err != nil {
		return nil, err
	}
	if len(xid) != len(o.XID) {
		return nil, fmt.Errorf("sqlite: order row has a %d-byte XID", len(xid))
	}
	copy(o.XID[:], xid)
	normalizeOrder(&o)
	o.State = store.OrderState(state)
	o.Created, o.Updated = toTime(created), toTime(updated)
	return &o, nil
}

// normalizeOrder makes absent byte fields nil, whatever the driver returns.
func normalizeOrder(o *store.Order) {
	for _, b := range []*[]byte{&o.LIDM, &o.LIDC, &o.GatewayAuthRes, &o.TransIDs, &o.ChallC, &o.ChallM, &o.AuthRRPID, &o.AuthToken, &o.CapToken} {
		*b = nilIfEmpty(*b)
	}
}

func checkOrder(o *store.Order) error {
	if !o.State.Valid() {
		return fmt.Errorf("sqlite: order %s: invalid state %q", o.XID, o.State)
	}
	for i, p := range o.Parts {
		if !p.State.Valid() {
			return fmt.Errorf("sqlite: order %s: part %d: invalid state %q", o.XID, i, p.State)
		}
	}
	return nil
}

// CreateOrder stores a new order. An empty State becomes store.StateInitiated;
// zero timestamps are filled in (o is updated to match what was stored).
func (db *DB) CreateOrder(ctx context.Context, o *store.Order) error {
	if o == nil {
		return errors.New("sqlite: CreateOrder: nil order")
	}
	if o.State == "" {
		o.State = store.StateInitiated
	}
	if err := checkOrder(o); err != nil {
		return err
	}
	db.stamp(&o.Created, &o.Updated)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := createOrder(ctx, tx, o); err != nil {
			return err
		}
		if err := saveParts(ctx, tx, o); err != nil {
			return fmt.Errorf("sqlite: create order %s: parts: %w", o.XID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	o.Created, o.Updated = o.Created.UTC(), o.Updated.UTC()
	return nil
}

func createOrder(ctx context.Context, tx *sql.Tx, o *store.Order) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO orders (`+orderColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (xid) DO NOTHING`,
		o.XID[:], o.LIDM, o.LIDC, o.Brand, o.Description, o.Amount, o.Currency, o.AmtExp10,
		string(o.State), o.AuthCode, o.AuthAmount, o.CaptureAmount, o.GatewayAuthRes,
		o.TransIDs, o.ChallC, o.ChallM, o.AuthRRPID,
		fromTime(o.Created), fromTime(o.Updated), o.FirstAuthAmount, o.AuthToken, o.CapToken)
	if err != nil {
		return fmt.Errorf("sqlite: create order %s: %w", o.XID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create order %s: %w", o.XID, err)
	} else if n == 0 {
		return fmt.Errorf("order %s already exists: %w", o.XID, store.ErrConflict)
	}
	return nil
}

// Order returns the order with this XID.
func (db *DB) Order(ctx context.Context, xid store.XID) (*store.Order, error) {
	var out *store.Order
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = orderQuery(ctx, tx, xid)
		return err
	})
	return out, err
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	rowsQueryer
}

func orderQuery(ctx context.Context, q queryer, xid store.XID) (*store.Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE xid = ?`, xid[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("order %s: %w", xid, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: order %s: %w", xid, err)
	}
	if err := loadParts(ctx, q, o); err != nil {
		return nil, fmt.Errorf("sqlite: order %s: parts: %w", xid, err)
	}
	return o, nil
}

// UpdateOrder is read-modify-write in one transaction.
func (db *DB) UpdateOrder(ctx context.Context, xid store.XID, update func(o *store.Order) error) (*store.Order, error) {
	var out *store.Order
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		o, err := orderQuery(ctx, tx, xid)
		if err != nil {
			return err
		}
		before := o.Updated
		if err := update(o); err != nil {
			return fmt.Errorf("update order %s: %w", xid, err)
		}
		if o.XID != xid {
			return fmt.Errorf("sqlite: update order %s: update changed the XID", xid)
		}
		if err := checkOrder(o); err != nil {
			return err
		}
		if o.Updated.Equal(before) {
			o.Updated = db.now()
		}
		o.Created, o.Updated = o.Created.UTC(), o.Updated.UTC()
		_, err = tx.ExecContext(ctx, `UPDATE orders SET lidm = ?, lidc = ?, brand = ?, description = ?,
			amount = ?, currency = ?, amt_exp10 = ?, state = ?, auth_code = ?, auth_amount = ?,
			capture_amount = ?, gateway_auth_res = ?, trans_ids = ?, chall_c = ?, chall_m = ?, auth_rrpid = ?,
			created = ?, updated = ?, first_auth_amount = ?, auth_token = ?, cap_token = ? WHERE xid = ?`,
			o.LIDM, o.LIDC, o.Brand, o.Description, o.Amount, o.Currency, o.AmtExp10,
			string(o.State), o.AuthCode, o.AuthAmount, o.CaptureAmount, o.GatewayAuthRes,
			o.TransIDs, o.ChallC, o.ChallM, o.AuthRRPID,
			fromTime(o.Created), fromTime(o.Updated), o.FirstAuthAmount, o.AuthToken, o.CapToken, xid[:])
		if err != nil {
			return fmt.Errorf("sqlite: update order %s: %w", xid, err)
		}
		if err := saveParts(ctx, tx, o); err != nil {
			return fmt.Errorf("sqlite: update order %s: parts: %w", xid, err)
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	normalizeOrder(out)
	return out, nil
}

// Orders returns up to limit orders, newest first; limit <= 0 means all.
func (db *DB) Orders(ctx context.Context, limit int) ([]*store.Order, error) {
	q := `SELECT ` + orderColumns + ` FROM orders ORDER BY created DESC, xid ASC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	// One transaction, so that the parts read belong to the orders read.
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	defer rows.Close()
	var out []*store.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: orders: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	rows.Close() // before the next queries: a memory database has one connection
	for _, o := range out {
		if err := loadParts(ctx, tx, o); err != nil {
			return nil, fmt.Errorf("sqlite: orders: %s: parts: %w", o.XID, err)
		}
	}
	return out, tx.Commit()
}
