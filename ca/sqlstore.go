package ca

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
)

// purgeEvery is how many PutChallenge calls pass between purges of expired
// challenges: the database's equivalent of MemoryStore's bound, so a flood
// of RegFormReqs costs disk only up to about a TTL's worth of them.
const purgeEvery = 256

// SQLStore is a Store kept in a CA database (store.CAStore, e.g.
// store/sqlite's DB), so that outstanding chall-CA nonces and the registry of
// certified keys survive a restart:
//
//	db, _ := sqlite.Open(path)
//	c, _ := ca.New(ca.Config{Store: ca.NewSQLStore(db, ttl), ...})
//
// It only translates: the database gives single use and check-and-record
// atomicity, across processes sharing it.
type SQLStore struct {
	db   store.CAStore
	ttl  time.Duration
	puts atomic.Uint64
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns a Store over db. ttl is the CA's ChallengeTTL (0 means
// its default, 30 minutes): a challenge is kept that long and then purged.
func NewSQLStore(db store.CAStore, ttl time.Duration) *SQLStore {
	if ttl <= 0 {
		ttl = 30 * time.Minute
	}
	return &SQLStore{db: db, ttl: ttl}
}

// PutChallenge implements Store.
func (s *SQLStore) PutChallenge(ctx context.Context, ch msg.Challenge, c Challenge) error {
	if s.puts.Add(1)%purgeEvery == 0 {
		// The CA's clock, not the database's: the CA judges expiry with it.
		if _, err := s.db.PurgeCAChallenges(ctx, c.Issued); err != nil {
			return fmt.Errorf("ca: purging expired chall-CAs: %w", err)
		}
	}
	err := s.db.PutCAChallenge(ctx, &store.CAChallenge{
		ID: ch[:], Issued: c.Issued, Expires: c.Issued.Add(s.ttl), PANMAC: c.PANMAC, RegFormID: c.RegFormID,
	})
	if errors.Is(err, store.ErrConflict) {
		return errors.New("ca: duplicate chall-CA")
	}
	return err
}

// TakeChallenge implements Store.
func (s *SQLStore) TakeChallenge(ctx context.Context, ch msg.Challenge) (Challenge, error) {
	c, err := s.db.TakeCAChallenge(ctx, ch[:])
	if errors.Is(err, store.ErrNotFound) {
		return Challenge{}, ErrNoChallenge
	}
	if err != nil {
		return Challenge{}, err
	}
	return Challenge{Issued: c.Issued, PANMAC: c.PANMAC, RegFormID: c.RegFormID}, nil
}

// RecordKey implements Store. The registry entry names no holder: Store's
// RecordKey runs before the certificate exists.
func (s *SQLStore) RecordKey(ctx context.Context, keyDigest []byte) error {
	err := s.db.RecordCertifiedKey(ctx, &store.CertifiedKey{Digest: keyDigest})
	if errors.Is(err, store.ErrConflict) {
		return ErrKeyCertified
	}
	return err
}

// RecordIssued adds an issued certificate to the database's list of issued
// certificates, the list revocation works from.
func (s *SQLStore) RecordIssued(ctx context.Context, cert *pki.Certificate) error {
	err := s.db.PutIssuedCert(ctx, &store.IssuedCert{
		Serial: cert.SerialNumber, Subject: cert.Subject.CommonName, CertType: int(cert.CertType),
		NotAfter: cert.NotAfter, DER: cert.Raw,
	})
	if err != nil {
		return fmt.Errorf("ca: recording issued certificate: %w", err)
	}
	return nil
}
