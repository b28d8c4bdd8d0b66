// Package encap implements SET's cryptographic operators (Book 3, the
// "cryptographic treatments"): S and SO (signature with and without
// content), DD (detached digest), E, EH, EX and EXH (digital envelopes),
// Enc (sign then envelope), the purchase dual signature and HMAC.
//
// Each operator is a small function over a suite.Suite and internal/pkcs7,
// so it works unchanged in every suite. Content types are parameters: the
// message layer knows which SET type a payload is.
package encap

import (
	"crypto"
	"crypto/hmac"
	"errors"
	"fmt"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/suite"
)

// Errors the operators return, wrapping their cause. Parties map them to SET
// ErrorCodes: ErrSignature → signatureFailure, ErrMalformed →
// decodingFailure, and so on; match with errors.Is.
var (
	// ErrSignature: a signature does not verify, or was made with a key
	// other than the one certified.
	ErrSignature = errors.New("encap: signature verification failed")
	// ErrCertificate: the CertVerifier refused the signer's certificate,
	// or the structure does not carry it.
	ErrCertificate = errors.New("encap: signer certificate not accepted")
	// ErrMissingCertificate (wrapped in ErrCertificate): the signer's
	// certificate is neither in the structure nor among the certificates
	// the receiver holds (WithHeld). Parties answer missingCertificate.
	ErrMissingCertificate = errors.New("encap: signer certificate neither carried nor held")
	// ErrDigestMismatch: a DD{} does not match the content it stands for.
	ErrDigestMismatch = errors.New("encap: digest mismatch")
	// ErrWrongContentType: the structure carries another SET type than
	// the one the caller expects.
	ErrWrongContentType = errors.New("encap: wrong content type")
	// ErrDecrypt: an envelope cannot be opened (wrong key, tampering).
	ErrDecrypt = errors.New("encap: envelope cannot be opened")
	// ErrMalformed: the bytes are not a well-formed structure of the
	// expected shape (a *der.Error usually follows in the chain).
	ErrMalformed = errors.New("encap: malformed structure")
	// ErrWrongSuite: the structure was made under another suite than the
	// one the caller runs; never processed, to rule out downgrades.
	ErrWrongSuite = suite.ErrWrongSuite
)

// Signer is a signing key with its certificate.
type Signer struct {
	Key   crypto.Signer
	Cert  []byte   // DER certificate of Key's public key
	Chain [][]byte // certificates to include besides Cert (intermediates)
	// CRLs are carried in the SignedData's crls field, so that the
	// receiver learns the revocation state it lacks (SET sends CRLs the
	// way it sends certificates).
	CRLs [][]byte
	// Omit, if set, reports the certificates (Cert or of Chain) the
	// receiver listed as held in its request's Thumbs: they are left out
	// of the SignedData, and the receiver finds them in its own cache
	// (WithHeld).
	Omit func(certDER []byte) bool
}

// Carried is what a SignedData carried besides its signature, before any
// of it is checked: the signed content (nil when detached), the
// certificates and the CRLs, all DER.
type Carried struct {
	Content      []byte
	Certificates [][]byte
	CRLs         [][]byte
}

// An OpenOption adjusts how a signed structure is opened.
type OpenOption func(*openConfig)

type openConfig struct {
	carried func(*Carried)
	held    [][]byte
}

// WithCarried has carried called with what the SignedData carried before
// the signer's certificate is checked, so that CRLs (and a
// BrandCRLIdentifier in the content) that travel with a message count for
// the check of that very message. Nothing passed is authenticated yet:
// carried must verify what it keeps (CRLs and BCIs are signed by their CAs).
func WithCarried(carried func(*Carried)) OpenOption {
	return func(c *openConfig) { c.carried = carried }
}

// WithHeld gives the certificates the receiver already holds (those whose
// thumbprints it listed, so that the sender left them out): the signer's
// certificate is looked for among them when the SignedData does not carry
// it, and they are offered to the CertVerifier as intermediates. They are
// checked by the CertVerifier like carried ones; holding them decides
// nothing.
func WithHeld(certs [][]byte) OpenOption {
	return func(c *openConfig) { c.held = append(c.held, certs...) }
}

// Options combines several options into one.
func Options(opts ...OpenOption) OpenOption {
	return func(c *openConfig) {
		for _, o := range opts {
			if o != nil {
				o(c)
			}
		}
	}
}

func openOptions(opts []OpenOption) openConfig {
	var c openConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// CertVerifier validates a signer certificate — chain, certificate type,
// key usage, revocation; the caller plugs pki in — and returns the public
// key it certifies. intermediates are the other certificates the signed
// structure carried. Any error it returns is wrapped in ErrCertificate.
type CertVerifier func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error)

// HMAC is SET's HMAC{t, k} (RFC 2104) with the suite's hash: HMAC-SHA1 in
// set1, HMAC-SHA256 in modern. TransStain = HMAC(XID, CardSecret) is
// HMAC(st, CardSecret, XID).
func HMAC(st suite.Suite, key, data []byte) []byte {
	m := hmac.New(st.Hash().New, key)
	m.Write(data)
	return m.Sum(nil)
}

// malformed classifies a decoding failure; errors already classified pass
// through unchanged.
func malformed(err error) error {
	var de *der.Error
	if errors.As(err, &de) || errors.Is(err, der.ErrTruncated) || errors.Is(err, der.ErrTrailingData) {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if errors.Is(err, pkcs7.ErrUnsupportedAlgorithm) || errors.Is(err, suite.ErrUnknownSuite) {
		return fmt.Errorf("%w: %w", ErrWrongSuite, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// checkSuite refuses a SignedData or envelope that Identify does not
// attribute to st.
func checkSuite(st suite.Suite, contentInfo []byte) error {
	id, err := suite.Identify(contentInfo)
	if err != nil {
		return malformed(err)
	}
	if id != st.ID() {
		return fmt.Errorf("%w: %s structure under the %s suite", ErrWrongSuite, id, st.ID())
	}
	return nil
}
