package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/setpay/setpay/store"
)

var _ store.CAStore = (*DB)(nil)

// caSchema is the migration that adds a certificate authority's state.
// Serials are BLOBs of their big-endian bytes (store.CheckSerial keeps them
// positive, so the encoding is unique).
const caSchema = `CREATE TABLE ca_challenges (
		id          BLOB    NOT NULL PRIMARY KEY,
		issued      BIGINT  NOT NULL,
		expires     BIGINT  NOT NULL,
		pan_mac     BLOB    NOT NULL,
		reg_form_id BIGINT  NOT NULL
	);
	CREATE INDEX ca_challenges_expires ON ca_challenges (expires);
	CREATE TABLE ca_keys (
		digest   BLOB   NOT NULL PRIMARY KEY,
		holder   TEXT   NOT NULL,
		recorded BIGINT NOT NULL
	);
	CREATE TABLE ca_certs (
		serial    BLOB    NOT NULL PRIMARY KEY,
		subject   TEXT    NOT NULL,
		cert_type INTEGER NOT NULL,
		not_after BIGINT  NOT NULL,
		der       BLOB    NOT NULL,
		issued    BIGINT  NOT NULL
	);
	CREATE INDEX ca_certs_subject ON ca_certs (subject);
	CREATE TABLE ca_revocations (
		serial  BLOB    NOT NULL PRIMARY KEY REFERENCES ca_certs (serial),
		revoked BIGINT  NOT NULL,
		reason  INTEGER NOT NULL
	);
	CREATE INDEX ca_revocations_revoked ON ca_revocations (revoked, serial);`

// PutCAChallenge stores a new challenge.
func (db *DB) PutCAChallenge(ctx context.Context, c *store.CAChallenge) error {
	if c == nil || len(c.ID) == 0 || len(c.PANMAC) == 0 {
		return errors.New("sqlite: PutCAChallenge: need an ID and a PAN MAC")
	}
	res, err := db.db.ExecContext(ctx, `INSERT INTO ca_challenges (id, issued, expires, pan_mac, reg_form_id)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, fromTime(c.Issued), fromTime(c.Expires), c.PANMAC, c.RegFormID)
	if err != nil {
		return fmt.Errorf("sqlite: put CA challenge: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: put CA challenge: %w", err)
	} else if n == 0 {
		return fmt.Errorf("CA challenge %x already exists: %w", c.ID, store.ErrConflict)
	}
	return nil
}

// TakeCAChallenge reads and deletes the challenge in one transaction. The
// transaction begins IMMEDIATE (see Open), so a second taker waits for the
// first to commit and then finds nothing.
func (db *DB) TakeCAChallenge(ctx context.Context, id []byte) (*store.CAChallenge, error) {
	var c *store.CAChallenge
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var issued, expires int64
		got := store.CAChallenge{ID: append([]byte(nil), id...)}
		err := tx.QueryRowContext(ctx, `SELECT issued, expires, pan_mac, reg_form_id FROM ca_challenges WHERE id = ?`, id).
			Scan(&issued, &expires, &got.PANMAC, &got.RegFormID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("CA challenge: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: take CA challenge: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM ca_challenges WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("sqlite: take CA challenge: %w", err)
		}
		// Belt and braces: the row read above must be the row deleted.
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sqlite: take CA challenge: deleted %d rows (%v)", n, err)
		}
		got.Issued, got.Expires = toTime(issued), toTime(expires)
		c = &got
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// PurgeCAChallenges deletes challenges that expired at or before now.
func (db *DB) PurgeCAChallenges(ctx context.Context, now time.Time) (int, error) {
	res, err := db.db.ExecContext(ctx, `DELETE FROM ca_challenges WHERE expires <= ?`, fromTime(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge CA challenges: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge CA challenges: %w", err)
	}
	return int(n), nil
}

// RecordCertifiedKey adds a key to the registry in one statement, so the
// check and the record cannot be separated by another writer.
func (db *DB) RecordCertifiedKey(ctx context.Context, k *store.CertifiedKey) error {
	if k == nil || len(k.Digest) == 0 {
		return errors.New("sqlite: RecordCertifiedKey: empty digest")
	}
	if k.Recorded.IsZero() {
		k.Recorded = db.now()
	}
	k.Recorded = k.Recorded.UTC()
	res, err := db.db.ExecContext(ctx, `INSERT INTO ca_keys (digest, holder, recorded) VALUES (?, ?, ?)
		ON CONFLICT (digest) DO NOTHING`, k.Digest, k.Holder, fromTime(k.Recorded))
	if err != nil {
		return fmt.Errorf("sqlite: record certified key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: record certified key: %w", err)
	} else if n == 0 {
		return fmt.Errorf("key %x already certified: %w", k.Digest, store.ErrConflict)
	}
	return nil
}

// CertifiedKey returns the registry entry for digest.
func (db *DB) CertifiedKey(ctx context.Context, digest []byte) (*store.CertifiedKey, error) {
	k := store.CertifiedKey{Digest: append([]byte(nil), digest...)}
	var recorded int64
	err := db.db.QueryRowContext(ctx, `SELECT holder, recorded FROM ca_keys WHERE digest = ?`, digest).Scan(&k.Holder, &recorded)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("certified key %x: %w", digest, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: certified key: %w", err)
	}
	k.Recorded = toTime(recorded)
	return &k, nil
}

// PutIssuedCert records an issued certificate.
func (db *DB) PutIssuedCert(ctx context.Context, c *store.IssuedCert) error {
	if c == nil || len(c.DER) == 0 {
		return errors.New("sqlite: PutIssuedCert: no certificate")
	}
	if err := store.CheckSerial(c.Serial); err != nil {
		return fmt.Errorf("sqlite: PutIssuedCert: %w", err)
	}
	if c.Issued.IsZero() {
		c.Issued = db.now()
	}
	c.Issued, c.NotAfter = c.Issued.UTC(), c.NotAfter.UTC()
	res, err := db.db.ExecContext(ctx, `INSERT INTO ca_certs (serial, subject, cert_type, not_after, der, issued)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING`,
		c.Serial.Bytes(), c.Subject, c.CertType, fromTime(c.NotAfter), c.DER, fromTime(c.Issued))
	if err != nil {
		return fmt.Errorf("sqlite: put issued certificate: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: put issued certificate: %w", err)
	} else if n == 0 {
		return fmt.Errorf("certificate serial %x already issued: %w", c.Serial, store.ErrConflict)
	}
	return nil
}

// IssuedCert returns the certificate with this serial.
func (db *DB) IssuedCert(ctx context.Context, serial *big.Int) (*store.IssuedCert, error) {
	if err := store.CheckSerial(serial); err != nil {
		return nil, fmt.Errorf("sqlite: IssuedCert: %w", err)
	}
	c := store.IssuedCert{Serial: new(big.Int).Set(serial)}
	var notAfter, issued int64
	err := db.db.QueryRowContext(ctx, `SELECT subject, cert_type, not_after, der, issued FROM ca_certs WHERE serial = ?`,
		serial.Bytes()).Scan(&c.Subject, &c.CertType, &notAfter, &c.DER, &issued)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("certificate serial %x: %w", serial, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: issued certificate: %w", err)
	}
	c.NotAfter, c.Issued = toTime(notAfter), toTime(issued)
	return &c, nil
}

// Revoke records a revocation, in one transaction so the certificate's
// existence and the revocation's absence are checked against the same state.
func (db *DB) Revoke(ctx context.Context, r *store.Revocation) error {
	if r == nil {
		return errors.New("sqlite: Revoke: nil revocation")
	}
	if err := store.CheckSerial(r.Serial); err != nil {
		return fmt.Errorf("sqlite: Revoke: %w", err)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM ca_certs WHERE serial = ?`, r.Serial.Bytes()).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoking serial %x: no such certificate: %w", r.Serial, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: revoke: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO ca_revocations (serial, revoked, reason) VALUES (?, ?, ?)
			ON CONFLICT (serial) DO NOTHING`, r.Serial.Bytes(), fromTime(r.Time), r.Reason)
		if err != nil {
			return fmt.Errorf("sqlite: revoke: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: revoke: %w", err)
		} else if n == 0 {
			return fmt.Errorf("serial %x already revoked: %w", r.Serial, store.ErrConflict)
		}
		return nil
	})
}

// Revocations returns every revocation, oldest first.
func (db *DB) Revocations(ctx context.Context) ([]*store.Revocation, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT serial, revoked, reason FROM ca_revocations ORDER BY revoked, serial`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: revocations: %w", err)
	}
	defer rows.Close()
	var out []*store.Revocation
	for rows.Next() {
		var (
			serial  []byte
			revoked int64
			r       store.Revocation
		)
		if err := rows.Scan(&serial, &revoked, &r.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: revocations: %w", err)
		}
		r.Serial, r.Time = new(big.Int).SetBytes(serial), toTime(revoked)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: revocations: %w", err)
	}
	return out, nil
}

// caPendingSchema is the migration that adds the certificate requests a
// CA holds for an operator's decision. answer is NULL while undecided.
const caPendingSchema = `CREATE TABLE ca_pending (
		id      BLOB   NOT NULL PRIMARY KEY,
		created BIGINT NOT NULL,
		request BLOB   NOT NULL,
		answer  BLOB
	);
	CREATE INDEX ca_pending_created ON ca_pending (created, id);`

// PutCAPending stores a new undecided request.
func (db *DB) PutCAPending(ctx context.Context, p *store.CAPending) error {
	if p == nil || len(p.ID) == 0 || len(p.Request) == 0 {
		return errors.New("sqlite: PutCAPending: need an ID and a request")
	}
	res, err := db.db.ExecContext(ctx, `INSERT INTO ca_pending (id, created, request, answer)
		VALUES (?, ?, ?, NULL) ON CONFLICT (id) DO NOTHING`, p.ID, fromTime(p.Created), p.Request)
	if err != nil {
		return fmt.Errorf("sqlite: put CA pending request: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: put CA pending request: %w", err)
	} else if n == 0 {
		return fmt.Errorf("CA pending request %x already exists: %w", p.ID, store.ErrConflict)
	}
	return nil
}

func scanCAPending(r rowScanner) (*store.CAPending, error) {
	var p store.CAPending
	var created int64
	if err := r.Scan(&p.ID, &created, &p.Request, &p.Answer); err != nil {
		return nil, err
	}
	p.Created = toTime(created)
	p.Answer = nilIfEmpty(p.Answer)
	return &p, nil
}

// CAPending returns the request with this ID.
func (db *DB) CAPending(ctx context.Context, id []byte) (*store.CAPending, error) {
	p, err := scanCAPending(db.db.QueryRowContext(ctx, `SELECT id, created, request, answer FROM ca_pending WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("CA pending request: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: CA pending request: %w", err)
	}
	return p, nil
}

// DecideCAPending sets the answer of an undecided request in one
// statement; when it changes nothing, a second look says why.
func (db *DB) DecideCAPending(ctx context.Context, id, answer []byte) error {
	if len(answer) == 0 {
		return errors.New("sqlite: DecideCAPending: empty answer")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ca_pending SET answer = ? WHERE id = ? AND answer IS NULL`, answer, id)
		if err != nil {
			return fmt.Errorf("sqlite: decide CA pending request: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: decide CA pending request: %w", err)
		} else if n == 1 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM ca_pending WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("CA pending request: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: decide CA pending request: %w", err)
		}
		return fmt.Errorf("CA pending request %x already decided: %w", id, store.ErrConflict)
	})
}

// TakeCAPending reads and deletes the request in one IMMEDIATE
// transaction, as TakeCAChallenge does.
func (db *DB) TakeCAPending(ctx context.Context, id []byte) (*store.CAPending, error) {
	var p *store.CAPending
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		got, err := scanCAPending(tx.QueryRowContext(ctx, `SELECT id, created, request, answer FROM ca_pending WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("CA pending request: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: take CA pending request: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ca_pending WHERE id = ?`, id); err != nil {
			return fmt.Errorf("sqlite: take CA pending request: %w", err)
		}
		p = got
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UndecidedCAPending returns the undecided requests, oldest first.
func (db *DB) UndecidedCAPending(ctx context.Context) ([]*store.CAPending, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, created, request, answer FROM ca_pending
		WHERE answer IS NULL ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: undecided CA pending requests: %w", err)
	}
	defer rows.Close()
	var out []*store.CAPending
	for rows.Next() {
		p, err := scanCAPending(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: undecided CA pending requests: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: undecided CA pending requests: %w", err)
	}
	return out, nil
}
