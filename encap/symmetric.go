package encap

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/suite"
)

// BackKey is a symmetric key one party hands another so that the answer
// can come back encrypted: SET's CABackKey (CertReqData) and AcqBackKey
// (PIHead), carried as BackKeyData { backAlgID, backKey }.
type BackKey struct {
	Alg pkcs7.AlgorithmIdentifier
	Key []byte
}

// NewBackKey draws a fresh back key of the kind st encrypts with.
func NewBackKey(st suite.Suite, rand io.Reader) (BackKey, error) {
	alg, n, err := suite.BackKeyAlgorithm(st)
	if err != nil {
		return BackKey{}, err
	}
	k := BackKey{Alg: alg, Key: make([]byte, n)}
	if _, err := io.ReadFull(rand, k.Key); err != nil {
		return BackKey{}, err
	}
	return k, nil
}

// EK is EK{k, t}: t (content type ct) encrypted under the back key k the
// recipient supplied. set1: EncryptedData, DES; modern: AuthEnvelopedData
// with a KEKRecipientInfo (docs/spec-gaps.md "encap: EK and EncK").
func EK(st suite.Suite, rand io.Reader, k BackKey, ct asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	if err := suite.CheckBackKey(st, k.Alg, k.Key); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongSuite, err)
	}
	env, err := suite.SealWithKey(st, rand, k.Alg, k.Key, ct, t)
	if err != nil {
		return nil, fmt.Errorf("encap: EK %v: %w", ct, err)
	}
	return env, nil
}

// OpenEK opens EK{k, t} with the back key the caller sent and returns t,
// which must be of content type ct. In set1 the cipher is unauthenticated:
// only use OpenEK on content that authenticates itself (OpenEncK does).
func OpenEK(st suite.Suite, k BackKey, env []byte, ct asn1.ObjectIdentifier) ([]byte, error) {
	got, t, err := suite.OpenWithKey(st, k.Alg, k.Key, env)
	if err != nil {
		switch {
		case errors.Is(err, suite.ErrDecrypt):
			return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
		case errors.Is(err, suite.ErrKeyType), errors.Is(err, suite.ErrWrongSuite), errors.Is(err, suite.ErrNotAvailable):
			return nil, fmt.Errorf("%w: %w", ErrWrongSuite, err)
		}
		return nil, malformed(err)
	}
	if !got.Equal(ct) {
		return nil, fmt.Errorf("%w: EK holds %v, want %v", ErrWrongContentType, got, ct)
	}
	return t, nil
}

// EncK is EncK{k, s, t} = EK{k, S{s, t}}: t signed by s (content type
// ctSigned), the SignedData encrypted under k (content type ctEnvelope).
func EncK(st suite.Suite, rand io.Reader, s Signer, k BackKey, ctSigned, ctEnvelope asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	signed, err := S(st, rand, s, ctSigned, t)
	if err != nil {
		return nil, err
	}
	return EK(st, rand, k, ctEnvelope, signed)
}

// OpenEncK reverses EncK: it decrypts with k, checks the inner signature
// and returns t, the inner SignedData byte for byte, and the signer's
// certificate.
func OpenEncK(st suite.Suite, k BackKey, env []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier, verify CertVerifier) (t, signed, signerCert []byte, err error) {
	signed, err = OpenEK(st, k, env, ctEnvelope)
	if err != nil {
		return nil, nil, nil, err
	}
	t, signerCert, err = OpenS(st, signed, ctSigned, verify)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, signed, signerCert, nil
}
