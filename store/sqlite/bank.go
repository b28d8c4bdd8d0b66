package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/setpay/setpay/store"
)

var _ store.BankStore = (*DB)(nil)

// bankSchema is the migration that adds the bank's ledger. Balances are not
// columns: they are SUMs over bank_postings.
const bankSchema = `CREATE TABLE bank_accounts (
		id        TEXT    NOT NULL PRIMARY KEY,
		kind      TEXT    NOT NULL,
		number    TEXT    NOT NULL,
		bank_code TEXT    NOT NULL,
		holder    TEXT    NOT NULL,
		currency  INTEGER NOT NULL,
		acct_limit BIGINT NOT NULL,
		expiry    TEXT    NOT NULL,
		blocked   INTEGER NOT NULL,
		created   BIGINT  NOT NULL
	);
	CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts (kind, number, bank_code) WHERE number <> '';
	CREATE TABLE bank_entries (
		id       INTEGER NOT NULL PRIMARY KEY,
		key      TEXT    NOT NULL UNIQUE,
		kind     TEXT    NOT NULL,
		ref      TEXT    NOT NULL,
		batch    BIGINT  NOT NULL,
		amount   BIGINT  NOT NULL,
		currency INTEGER NOT NULL,
		created  BIGINT  NOT NULL
	);
	CREATE INDEX bank_entries_ref ON bank_entries (ref);
	CREATE INDEX bank_entries_batch ON bank_entries (batch);
	CREATE TABLE bank_postings (
		entry   BIGINT  NOT NULL REFERENCES bank_entries (id),
		seq     INTEGER NOT NULL,
		account TEXT    NOT NULL REFERENCES bank_accounts (id),
		side    INTEGER NOT NULL CHECK (side IN (1, 2)),
		amount  BIGINT  NOT NULL CHECK (amount > 0),
		PRIMARY KEY (entry, seq)
	);
	CREATE INDEX bank_postings_account ON bank_postings (account);
	CREATE TABLE issuer_auths (
		id            TEXT    NOT NULL PRIMARY KEY,
		account       TEXT    NOT NULL,
		merchant_id   TEXT    NOT NULL,
		terminal_id   TEXT    NOT NULL,
		stan          TEXT    NOT NULL,
		amount        BIGINT  NOT NULL,
		currency      INTEGER NOT NULL,
		response_code TEXT    NOT NULL,
		approval_code TEXT    NOT NULL,
		held          BIGINT  NOT NULL,
		captured      BIGINT  NOT NULL,
		credited      BIGINT  NOT NULL,
		created       BIGINT  NOT NULL,
		updated       BIGINT  NOT NULL
	);
	CREATE TABLE bank_batches (
		id          INTEGER NOT NULL PRIMARY KEY,
		merchant_id TEXT    NOT NULL,
		currency    INTEGER NOT NULL,
		state       TEXT    NOT NULL,
		opened      BIGINT  NOT NULL,
		closed      BIGINT  NOT NULL,
		settled     BIGINT  NOT NULL
	);
	CREATE UNIQUE INDEX bank_batches_open ON bank_batches (merchant_id, currency) WHERE state = 'open';`

// InBankTx runs fn in one IMMEDIATE transaction: it holds the write lock
// from the start, so it is serializable and never needs a retry.
func (db *DB) InBankTx(ctx context.Context, fn func(tx store.BankTx) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		btx := &bankTx{tx: tx, db: db}
		defer func() { btx.tx = nil }() // fn must not keep using it
		return fn(btx)
	})
}

type bankTx struct {
	tx *sql.Tx
	db *DB
}

// isUnique reports whether err is a uniqueness violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

const bankAccountColumns = `id, kind, number, bank_code, holder, currency, acct_limit, expiry, blocked, created`

func scanBankAccount(r rowScanner) (*store.BankAccount, error) {
	var (
		a       store.BankAccount
		kind    string
		blocked int
		created int64
	)
	if err := r.Scan(&a.ID, &kind, &a.Number, &a.BankCode, &a.Holder, &a.Currency, &a.Limit, &a.Expiry, &blocked, &created); err != nil {
		return nil, err
	}
	a.Kind = store.BankAccountKind(kind)
	a.Blocked = blocked != 0
	a.Created = toTime(created)
	return &a, nil
}

func (t *bankTx) CreateBankAccount(ctx context.Context, a *store.BankAccount) error {
	if a == nil || a.ID == "" {
		return errors.New("sqlite: CreateBankAccount: account without an ID")
	}
	if !a.Kind.Valid() {
		return fmt.Errorf("sqlite: bank account %s: unknown kind %q", a.ID, a.Kind)
	}
	if a.Created.IsZero() {
		a.Created = t.db.now()
	}
	a.Created = a.Created.UTC()
	blocked := 0
	if a.Blocked {
		blocked = 1
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO bank_accounts (`+bankAccountColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, string(a.Kind), a.Number, a.BankCode, a.Holder, a.Currency, a.Limit, a.Expiry, blocked, fromTime(a.Created))
	if isUnique(err) {
		// Name the account by ID only: Number may be a PAN.
		return fmt.Errorf("bank account %s (or its number) already exists: %w", a.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create bank account %s: %w", a.ID, err)
	}
	return nil
}

func (t *bankTx) BankAccount(ctx context.Context, id string) (*store.BankAccount, error) {
	a, err := scanBankAccount(t.tx.QueryRowContext(ctx, `SELECT `+bankAccountColumns+` FROM bank_accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("bank account %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: bank account %s: %w", id, err)
	}
	return a, nil
}

func (t *bankTx) BankAccountByNumber(ctx context.Context, kind store.BankAccountKind, number, bankCode string) (*store.BankAccount, error) {
	if number == "" {
		return nil, fmt.Errorf("%s account with an empty number: %w", kind, store.ErrNotFound)
	}
	a, err := scanBankAccount(t.tx.QueryRowContext(ctx, `SELECT `+bankAccountColumns+` FROM bank_accounts
		WHERE kind = ? AND number = ? AND bank_code = ?`, string(kind), number, bankCode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s account by number: %w", kind, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s account by number: %w", kind, err)
	}
	return a, nil
}

func (t *bankTx) BankAccounts(ctx context.Context) ([]*store.BankAccount, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+bankAccountColumns+` FROM bank_accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: bank accounts: %w", err)
	}
	defer rows.Close()
	var out []*store.BankAccount
	for rows.Next() {
		a, err := scanBankAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: bank accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: bank accounts: %w", err)
	}
	return out, nil
}

func (t *bankTx) SetBlocked(ctx context.Context, id string, blocked bool) error {
	b := 0
	if blocked {
		b = 1
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE bank_accounts SET blocked = ? WHERE id = ?`, b, id)
	if err != nil {
		return fmt.Errorf("sqlite: block bank account %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: block bank account %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("bank account %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *bankTx) Post(ctx context.Context, e *store.JournalEntry) error {
	if e == nil {
		return errors.New("sqlite: Post: nil entry")
	}
	if err := store.CheckBalanced(e); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnbalanced, err)
	}
	for i, p := range e.Postings {
		var cur int
		err := t.tx.QueryRowContext(ctx, `SELECT currency FROM bank_accounts WHERE id = ?`, p.Account).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: entry %q posting %d to missing account %s", store.ErrUnbalanced, e.Key, i, p.Account)
		}
		if err != nil {
			return fmt.Errorf("sqlite: post %q: %w", e.Key, err)
		}
		if cur != e.Currency {
			return fmt.Errorf("%w: entry %q in currency %d posts to account %s in %d", store.ErrUnbalanced, e.Key, e.Currency, p.Account, cur)
		}
	}
	if e.Created.IsZero() {
		e.Created = t.db.now()
	}
	e.Created = e.Created.UTC()
	var id int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO bank_entries (key, kind, ref, batch, amount, currency, created)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
		e.Key, string(e.Kind), e.Ref, e.Batch, e.Amount, e.Currency, fromTime(e.Created)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("journal entry %q already posted: %w", e.Key, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: post %q: %w", e.Key, err)
	}
	for i, p := range e.Postings {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO bank_postings (entry, seq, account, side, amount) VALUES (?, ?, ?, ?, ?)`,
			id, i, p.Account, int(p.Side), p.Amount); err != nil {
			return fmt.Errorf("sqlite: post %q line %d: %w", e.Key, i, err)
		}
	}
	e.ID = id
	return nil
}

const entryColumns = `id, key, kind, ref, batch, amount, currency, created`

func (t *bankTx) Entry(ctx context.Context, key string) (*store.JournalEntry, error) {
	es, err := t.entries(ctx, `SELECT `+entryColumns+` FROM bank_entries WHERE key = ?`, key)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("journal entry %q: %w", key, store.ErrNotFound)
	}
	return es[0], nil
}

func (t *bankTx) Entries(ctx context.Context, f store.EntryFilter) ([]*store.JournalEntry, error) {
	q := `SELECT ` + entryColumns + ` FROM bank_entries WHERE 1 = 1`
	var args []any
	if f.Ref != "" {
		q += ` AND ref = ?`
		args = append(args, f.Ref)
	}
	if f.Batch != 0 {
		q += ` AND batch = ?`
		args = append(args, f.Batch)
	}
	if f.Account != "" {
		q += ` AND id IN (SELECT entry FROM bank_postings WHERE account = ?)`
		args = append(args, f.Account)
	}
	return t.entries(ctx, q+` ORDER BY id`, args...)
}

// entries runs an entry query and attaches each entry's postings.
func (t *bankTx) entries(ctx context.Context, query string, args ...any) ([]*store.JournalEntry, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: journal entries: %w", err)
	}
	var out []*store.JournalEntry
	for rows.Next() {
		var (
			e       store.JournalEntry
			kind    string
			created int64
		)
		if err := rows.Scan(&e.ID, &e.Key, &kind, &e.Ref, &e.Batch, &e.Amount, &e.Currency, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: journal entries: %w", err)
		}
		e.Kind = store.EntryKind(kind)
		e.Created = toTime(created)
		out = append(out, &e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: journal entries: %w", err)
	}
	// Postings are read per entry after the entry rows are closed: the
	// in-memory database has a single connection.
	for _, e := range out {
		prow, err := t.tx.QueryContext(ctx, `SELECT account, side, amount FROM bank_postings WHERE entry = ? ORDER BY seq`, e.ID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: postings of %q: %w", e.Key, err)
		}
		for prow.Next() {
			var (
				p    store.Posting
				side int
			)
			if err := prow.Scan(&p.Account, &side, &p.Amount); err != nil {
				prow.Close()
				return nil, fmt.Errorf("sqlite: postings of %q: %w", e.Key, err)
			}
			p.Side = store.Side(side)
			e.Postings = append(e.Postings, p)
		}
		prow.Close()
		if err := prow.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: postings of %q: %w", e.Key, err)
		}
	}
	return out, nil
}

func (t *bankTx) Balance(ctx context.Context, account string) (store.Balance, error) {
	var b store.Balance
	err := t.tx.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN side = 1 THEN amount ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN side = 2 THEN amount ELSE 0 END), 0)
		FROM bank_postings WHERE account = ?`, account).Scan(&b.Debits, &b.Credits)
	if err != nil {
		return store.Balance{}, fmt.Errorf("sqlite: balance of %s: %w", account, err)
	}
	return b, nil
}

const issuerAuthColumns = `id, account, merchant_id, terminal_id, stan, amount, currency,
	response_code, approval_code, held, captured, credited, created, updated`

func scanIssuerAuth(r rowScanner) (*store.IssuerAuth, error) {
	var (
		a                store.IssuerAuth
		created, updated int64
	)
	if err := r.Scan(&a.ID, &a.Account, &a.MerchantID, &a.TerminalID, &a.STAN, &a.Amount, &a.Currency,
		&a.ResponseCode, &a.ApprovalCode, &a.Held, &a.Captured, &a.Credited, &created, &updated); err != nil {
		return nil, err
	}
	a.Created, a.Updated = toTime(created), toTime(updated)
	return &a, nil
}

func (t *bankTx) PutIssuerAuth(ctx context.Context, a *store.IssuerAuth) error {
	if a == nil || a.ID == "" {
		return errors.New("sqlite: PutIssuerAuth: record without an ID")
	}
	t.db.stamp(&a.Created, &a.Updated)
	a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
	_, err := t.tx.ExecContext(ctx, `INSERT INTO issuer_auths (`+issuerAuthColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET account = excluded.account, merchant_id = excluded.merchant_id,
		terminal_id = excluded.terminal_id, stan = excluded.stan, amount = excluded.amount,
		currency = excluded.currency, response_code = excluded.response_code,
		approval_code = excluded.approval_code, held = excluded.held, captured = excluded.captured,
		credited = excluded.credited, created = excluded.created, updated = excluded.updated`,
		a.ID, a.Account, a.MerchantID, a.TerminalID, a.STAN, a.Amount, a.Currency,
		a.ResponseCode, a.ApprovalCode, a.Held, a.Captured, a.Credited, fromTime(a.Created), fromTime(a.Updated))
	if err != nil {
		return fmt.Errorf("sqlite: put issuer authorization %q: %w", a.ID, err)
	}
	return nil
}

func (t *bankTx) IssuerAuth(ctx context.Context, id string) (*store.IssuerAuth, error) {
	a, err := scanIssuerAuth(t.tx.QueryRowContext(ctx, `SELECT `+issuerAuthColumns+` FROM issuer_auths WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("issuer authorization %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: issuer authorization %q: %w", id, err)
	}
	return a, nil
}

func (t *bankTx) IssuerAuths(ctx context.Context) ([]*store.IssuerAuth, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+issuerAuthColumns+` FROM issuer_auths ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: issuer authorizations: %w", err)
	}
	defer rows.Close()
	var out []*store.IssuerAuth
	for rows.Next() {
		a, err := scanIssuerAuth(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: issuer authorizations: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: issuer authorizations: %w", err)
	}
	return out, nil
}

// optTime stores a zero time as 0, so that it reads back zero.
func optTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return fromTime(t)
}

const batchColumns = `id, merchant_id, currency, state, opened, closed, settled`

func scanBatch(r rowScanner) (*store.Batch, error) {
	var (
		b                       store.Batch
		state                   string
		opened, closed, settled int64
	)
	if err := r.Scan(&b.ID, &b.MerchantID, &b.Currency, &state, &opened, &closed, &settled); err != nil {
		return nil, err
	}
	b.State = store.BatchState(state)
	b.Opened = toTime(opened)
	if closed != 0 {
		b.Closed = toTime(closed)
	}
	if settled != 0 {
		b.Settled = toTime(settled)
	}
	return &b, nil
}

func (t *bankTx) CreateBatch(ctx context.Context, b *store.Batch) error {
	if b == nil {
		return errors.New("sqlite: CreateBatch: nil batch")
	}
	if b.State == "" {
		b.State = store.BatchOpen
	}
	if b.Opened.IsZero() {
		b.Opened = t.db.now()
	}
	b.Opened = b.Opened.UTC()
	var id int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO bank_batches (merchant_id, currency, state, opened, closed, settled)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		b.MerchantID, b.Currency, string(b.State), optTime(b.Opened), optTime(b.Closed), optTime(b.Settled)).Scan(&id)
	if isUnique(err) {
		return fmt.Errorf("merchant %q already has an open batch in %d: %w", b.MerchantID, b.Currency, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create batch: %w", err)
	}
	b.ID = id
	return nil
}

func (t *bankTx) Batch(ctx context.Context, id int64) (*store.Batch, error) {
	b, err := scanBatch(t.tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM bank_batches WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("batch %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: batch %d: %w", id, err)
	}
	return b, nil
}

func (t *bankTx) OpenBatch(ctx context.Context, merchantID string, currency int) (*store.Batch, error) {
	b, err := scanBatch(t.tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM bank_batches
		WHERE merchant_id = ? AND currency = ? AND state = 'open'`, merchantID, currency))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("open batch of merchant %q in %d: %w", merchantID, currency, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: open batch of merchant %q: %w", merchantID, err)
	}
	return b, nil
}

func (t *bankTx) UpdateBatch(ctx context.Context, b *store.Batch) error {
	if b == nil {
		return errors.New("sqlite: UpdateBatch: nil batch")
	}
	b.Closed, b.Settled = b.Closed.UTC(), b.Settled.UTC()
	res, err := t.tx.ExecContext(ctx, `UPDATE bank_batches SET state = ?, closed = ?, settled = ? WHERE id = ?`,
		string(b.State), optTime(b.Closed), optTime(b.Settled), b.ID)
	if isUnique(err) {
		return fmt.Errorf("merchant %q already has an open batch in %d: %w", b.MerchantID, b.Currency, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update batch %d: %w", b.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update batch %d: %w", b.ID, err)
	} else if n == 0 {
		return fmt.Errorf("batch %d: %w", b.ID, store.ErrNotFound)
	}
	return nil
}

func (t *bankTx) Batches(ctx context.Context) ([]*store.Batch, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+batchColumns+` FROM bank_batches ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: batches: %w", err)
	}
	defer rows.Close()
	var out []*store.Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: batches: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: batches: %w", err)
	}
	return out, nil
}
