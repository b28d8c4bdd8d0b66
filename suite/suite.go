// Package suite holds setpay's cryptographic suites: the algorithms a
// deployment signs, envelopes, hashes and MACs with. Party cores and the
// encap operators talk to a Suite and never name an algorithm themselves, so
// adding a suite changes no core.
//
// The suite of a received structure is read from its algorithm identifiers
// (Identify), never guessed and never taken from configuration alone.
package suite

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/setpay/setpay/internal/pkcs7"
)

// ID names a suite as it appears in configuration and on the command line.
type ID string

const (
	Set1   ID = "set1"   // SET 1.0 wire format: RSA, SET OAEP, DES, SHA-1
	Modern ID = "modern" // ECDSA P-256, ECDH P-256 + AES-256-GCM, SHA-256
	PQ     ID = "pq"     // ML-DSA-65, ML-KEM-768 (not yet available)
)

// Errors the suites return; wrap-checked with errors.Is.
var (
	// ErrUnknownSuite: an ID or a structure's algorithms match no suite.
	ErrUnknownSuite = errors.New("suite: unknown suite")
	// ErrNotAvailable: the suite is defined but not implemented yet.
	ErrNotAvailable = errors.New("suite: not yet available")
	// ErrWrongSuite: a structure was produced under a different suite than
	// the one asked to process it.
	ErrWrongSuite = errors.New("suite: structure belongs to another suite")
	// ErrKeyType: a key or certificate key does not fit the suite.
	ErrKeyType = errors.New("suite: key type does not fit the suite")
	// ErrDecrypt: an envelope could not be opened (wrong key, tampering).
	ErrDecrypt = errors.New("suite: envelope cannot be opened")
)

// Suite is one cryptographic profile.
type Suite interface {
	ID() ID

	// Hash is the suite's digest: DD{}, signed attributes, thumbprints,
	// HMAC. SHA-1 (set1) or SHA-256 (modern).
	Hash() crypto.Hash

	// ContentMode is how SignedData / DigestedData carry content:
	// PKCS#7 v1.5 (set1) or CMS (modern).
	ContentMode() pkcs7.ContentMode

	// NewSigningKey makes a fresh signature key: RSA (set1) or ECDSA
	// P-256 (modern).
	NewSigningKey(rand io.Reader) (crypto.Signer, error)

	// NewExchangeKey makes a fresh key-exchange (encryption) key: RSA
	// (set1) or ECDH P-256 (modern).
	NewExchangeKey(rand io.Reader) (ExchangeKey, error)

	// Seal puts content (DER of a SET type of content type ct) in a
	// digital envelope for the holder of the key-exchange certificate
	// recipientCert (DER). extra is SET's "extra" data p of EX/EXH (nil
	// for E/EH; otherwise the DER of one value, e.g. PANData); withHash
	// selects EH/EXH. The caller has validated recipientCert; Seal reads
	// only its public key and issuer/serial.
	//
	// set1: PKCS#7 EnvelopedData, SET OAEP key transport, DES-CBC (or
	// 3DES); p and H(content) ride in the OAEP block.
	//
	// modern: AuthEnvelopedData, ECDH P-256 KeyAgreeRecipientInfo,
	// AES-256-GCM. The encrypted content is always
	//   SEQUENCE { content ANY, extra ANY OPTIONAL }
	// because p cannot ride in a key wrap; GCM authenticates the content,
	// so withHash adds nothing there.
	Seal(rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, content, extra []byte, withHash bool) ([]byte, error)

	// Open reverses Seal with the recipient's key-exchange key and
	// certificate. It refuses envelopes whose algorithms are not this
	// suite's. extra is nil when the sender sent none.
	Open(key ExchangeKey, cert []byte, envelope []byte) (ct asn1.ObjectIdentifier, content, extra []byte, err error)
}

// ByID returns the suite named id with its default parameters.
func ByID(id ID) (Suite, error) {
	switch id {
	case Set1:
		return NewSet1(Set1Options{}), nil
	case Modern:
		return NewModern(), nil
	case PQ:
		return nil, fmt.Errorf("%w: suite %q (ML-DSA-65 / ML-KEM-768)", ErrNotAvailable, id)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownSuite, id)
}
