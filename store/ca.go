package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// This file declares what a certificate authority persists: the chall-CA
// nonces it handed out in RegFormRes (so a CertReq can be held to them, once,
// across restarts), the registry of keys it certified (so no key is certified
// twice), the certificates it issued and the revocations of them.
//
// Serial numbers are stored as their big-endian bytes; RFC 5280 makes them
// positive, so the encoding is unique and compares by equality in any SQL.

// CAChallenge is one outstanding chall-CA.
type CAChallenge struct {
	ID      []byte // the chall-CA nonce itself
	Issued  time.Time
	Expires time.Time // after this the challenge is only worth purging
	// PANMAC binds the challenge to a card: a MAC of the PAN under a key
	// the CA holds. Never the PAN, so the CA database holds no card numbers.
	PANMAC    []byte
	RegFormID int64
}

// CertifiedKey is one entry of the registry of certified keys.
type CertifiedKey struct {
	// Digest is a hash of the DER SubjectPublicKeyInfo: the registry's key.
	Digest []byte
	// Holder names whom the key was certified for (a certificate subject);
	// "" when the caller recorded the key before knowing it.
	Holder   string
	Recorded time.Time // set by the store when zero
}

// IssuedCert is a certificate the CA issued.
type IssuedCert struct {
	Serial   *big.Int // positive
	Subject  string   // the subject's common name, for search and audit
	CertType int      // pki.CertType bits
	NotAfter time.Time
	DER      []byte
	Issued   time.Time // set by the store when zero
}

// Revocation records that a certificate was revoked.
type Revocation struct {
	Serial *big.Int
	Time   time.Time
	Reason int // RFC 5280 CRLReason
}

// CAPending is a certificate request the CA holds for an operator's
// decision (SET's requestPended). The store keeps the CA's records of the
// request and of the decision as opaque bytes: what they hold is the CA's
// business, and it keeps no card number in them.
type CAPending struct {
	ID      []byte // the request's chall-EE3
	Created time.Time
	Request []byte // the CA's record of the request
	// Answer is the CA's record of the decision; nil while undecided.
	Answer []byte
}

// CAStore persists a certificate authority's state. Times come back in UTC
// with nanosecond precision.
type CAStore interface {
	// PutCAChallenge stores a new challenge; ErrConflict if its ID exists.
	PutCAChallenge(ctx context.Context, c *CAChallenge) error
	// TakeCAChallenge returns the challenge with this ID and deletes it in
	// one step, so two concurrent takers cannot both have it; ErrNotFound
	// when it is unknown or already taken. It does not judge expiry: the CA
	// does, with its own clock.
	TakeCAChallenge(ctx context.Context, id []byte) (*CAChallenge, error)
	// PurgeCAChallenges deletes challenges that expired at or before now
	// and returns how many it deleted.
	PurgeCAChallenges(ctx context.Context, now time.Time) (int, error)

	// RecordCertifiedKey adds a key to the registry; ErrConflict if its
	// digest is there already. Checking and recording are one step.
	RecordCertifiedKey(ctx context.Context, k *CertifiedKey) error
	// CertifiedKey returns the registry entry for digest, or ErrNotFound.
	CertifiedKey(ctx context.Context, digest []byte) (*CertifiedKey, error)

	// PutIssuedCert records an issued certificate; ErrConflict if its
	// serial exists.
	PutIssuedCert(ctx context.Context, c *IssuedCert) error
	// IssuedCert returns the certificate with this serial, or ErrNotFound.
	IssuedCert(ctx context.Context, serial *big.Int) (*IssuedCert, error)

	// Revoke records a revocation: ErrNotFound if no certificate with the
	// serial was issued, ErrConflict if it is already revoked.
	Revoke(ctx context.Context, r *Revocation) error
	// Revocations returns every revocation, oldest first (ties broken by
	// the serial's big-endian bytes, compared as bytes).
	Revocations(ctx context.Context) ([]*Revocation, error)

	// PutCAPending stores a new, undecided request (its Answer is
	// ignored); ErrConflict if its ID exists.
	PutCAPending(ctx context.Context, p *CAPending) error
	// CAPending returns the request with this ID, or ErrNotFound.
	CAPending(ctx context.Context, id []byte) (*CAPending, error)
	// DecideCAPending records the answer of an undecided request in one
	// step, so two deciders cannot both decide it: ErrNotFound if there is
	// no such request, ErrConflict if it is decided already.
	DecideCAPending(ctx context.Context, id, answer []byte) error
	// TakeCAPending returns the request and deletes it in one step, so
	// its answer is delivered once; ErrNotFound when it is not there.
	TakeCAPending(ctx context.Context, id []byte) (*CAPending, error)
	// UndecidedCAPending returns the undecided requests, oldest first
	// (ties broken by ID, compared as bytes).
	UndecidedCAPending(ctx context.Context) ([]*CAPending, error)
}

// CheckSerial returns an error unless serial is positive, as RFC 5280
// requires; backends call it before storing or looking one up.
func CheckSerial(serial *big.Int) error {
	if serial == nil || serial.Sign() <= 0 {
		return errors.New("store: certificate serial must be positive")
	}
	if serial.BitLen() > 20*8 {
		return fmt.Errorf("store: certificate serial has %d bits, at most 160 allowed", serial.BitLen())
	}
	return nil
}
