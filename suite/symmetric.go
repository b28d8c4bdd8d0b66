package suite

import (
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/setpay/setpay/internal/pkcs7"
)

// SET's EK{k, t} encrypts under a symmetric "back key" the recipient sent
// earlier (CABackKey in CertReqData, AcqBackKey in PIHead). These functions
// are the suites' side of it. They dispatch on the suite rather than extend
// the Suite interface: only set1 and modern have an answer, and PQ will
// reuse modern's (the back key is symmetric, nothing post-quantum changes).
//
// set1: PKCS#7 EncryptedData, DES-CBC (8-byte key, SET 1.0) or
// DES-EDE3-CBC (24-byte key).
//
// modern: AuthEnvelopedData, AES-256-GCM, whose one recipient is a
// KEKRecipientInfo: the fresh content key AES-256-wrapped under the back
// key. CMS defines no authenticated EncryptedData; this is the standard
// construction that is authenticated. keyIdentifier is the first 8 bytes
// of SHA-256(back key), so a wrong key is told apart before unwrapping.

// BackKeyAlgorithm is the algorithm identifier and key length of a fresh
// back key under st, as a sender of BackKeyData writes it.
func BackKeyAlgorithm(st Suite) (pkcs7.AlgorithmIdentifier, int, error) {
	switch s := st.(type) {
	case *set1:
		if s.cipher == pkcs7.CipherDESEDE3CBC {
			return pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDDESEDE3CBC}, 24, nil
		}
		return pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDDESCBC}, 8, nil
	case modern:
		return pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDAES256Wrap}, 32, nil
	}
	return pkcs7.AlgorithmIdentifier{}, 0, fmt.Errorf("%w: no back key for suite %s", ErrNotAvailable, st.ID())
}

// CheckBackKey reports whether a received back key (alg, key) is one st
// can encrypt under. set1 takes either DES variant whatever its own
// envelope cipher; parameters must be absent (the IV travels with the
// ciphertext).
func CheckBackKey(st Suite, alg pkcs7.AlgorithmIdentifier, key []byte) error {
	want := 0
	switch st.(type) {
	case *set1:
		switch {
		case alg.Algorithm.Equal(pkcs7.OIDDESCBC):
			want = 8
		case alg.Algorithm.Equal(pkcs7.OIDDESEDE3CBC):
			want = 24
		}
	case modern:
		if alg.Algorithm.Equal(pkcs7.OIDAES256Wrap) {
			want = 32
		}
	default:
		return fmt.Errorf("%w: no back key for suite %s", ErrNotAvailable, st.ID())
	}
	if want == 0 || alg.Parameters != nil {
		return fmt.Errorf("%w: back key algorithm %v in the %s suite", ErrKeyType, alg.Algorithm, st.ID())
	}
	if len(key) != want {
		return fmt.Errorf("%w: %v back key of %d bytes, want %d", ErrKeyType, alg.Algorithm, len(key), want)
	}
	return nil
}

// SealWithKey encrypts content (the DER of a SET type of content type ct)
// under the back key (alg, key); CheckBackKey first.
func SealWithKey(st Suite, rand io.Reader, alg pkcs7.AlgorithmIdentifier, key []byte, ct asn1.ObjectIdentifier, content []byte) ([]byte, error) {
	if err := CheckBackKey(st, alg, key); err != nil {
		return nil, err
	}
	if st.ID() == Set1 {
		return pkcs7.EncryptSET(rand, ct, content, key)
	}
	// As in Seal: the SET content type travels inside the authenticated
	// plaintext and the envelope says id-data, so no authAttrs are needed
	// and openssl 3.0 (issue 26101) reads it.
	sealed, err := marshalSealedContent(ct, content, nil)
	if err != nil {
		return nil, err
	}
	return pkcs7.EnvelopeAuth(rand, pkcs7.OIDData, sealed, []pkcs7.Recipient{kekRecipient(key)})
}

// OpenWithKey reverses SealWithKey with the back key the caller sent. A
// structure of the other suite's shape is ErrWrongSuite; a wrong key or
// tampering is ErrDecrypt (in set1 a wrong key may also yield garbage: CBC
// is unauthenticated, and EncK's inner signature is what catches it).
func OpenWithKey(st Suite, alg pkcs7.AlgorithmIdentifier, key []byte, env []byte) (ct asn1.ObjectIdentifier, content []byte, err error) {
	if err := CheckBackKey(st, alg, key); err != nil {
		return nil, nil, err
	}
	ci, err := pkcs7.ParseContentInfo(env)
	if err != nil {
		return nil, nil, err
	}
	want := pkcs7.OIDAuthEnvelopedData
	if st.ID() == Set1 {
		want = pkcs7.OIDEncryptedData
	}
	if !ci.ContentType.Equal(want) {
		return nil, nil, fmt.Errorf("%w: %v where the %s suite encrypts with %v", ErrWrongSuite, ci.ContentType, st.ID(), want)
	}
	if st.ID() == Set1 {
		ed, err := pkcs7.ParseEncryptedData(env)
		if err != nil {
			return nil, nil, err
		}
		if !ed.ContentEncryptionAlgorithm.Algorithm.Equal(alg.Algorithm) {
			return nil, nil, fmt.Errorf("%w: encrypted with %v, back key is %v", ErrDecrypt, ed.ContentEncryptionAlgorithm.Algorithm, alg.Algorithm)
		}
		content, err := ed.Decrypt(key)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
		}
		return ed.ContentType, content, nil
	}
	ae, err := pkcs7.ParseAuthEnvelopedData(env)
	if err != nil {
		return nil, nil, err
	}
	if !ae.ContentType.Equal(pkcs7.OIDData) {
		return nil, nil, fmt.Errorf("%w: modern envelopes carry id-data, got %v", ErrWrongSuite, ae.ContentType)
	}
	sealed, err := ae.Open(kekRecipient(key))
	if err != nil {
		if errors.Is(err, pkcs7.ErrDecryption) || errors.Is(err, pkcs7.ErrNoRecipient) {
			return nil, nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
		}
		return nil, nil, err
	}
	ct, content, extra, err := parseSealedContent(sealed)
	if err != nil {
		return nil, nil, err
	}
	if extra != nil {
		return nil, nil, fmt.Errorf("%w: unexpected extra data under a back key", ErrDecrypt)
	}
	return ct, content, nil
}

func kekRecipient(key []byte) pkcs7.KEKRecipient {
	id := sha256.Sum256(key)
	return pkcs7.KEKRecipient{KeyID: id[:8], KEK: key}
}
