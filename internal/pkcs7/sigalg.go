package pkcs7

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// ErrSignature is wrapped by every signature verification failure.
var ErrSignature = errors.New("pkcs7: signature verification failed")

// SignatureAlgorithmFor names the signature algorithm a key of this type
// produces with hash h. ML-DSA signs the message itself and ignores h.
// The identifier, not the key, is what a verifier dispatches on, so a
// receiver never guesses the suite.
func SignatureAlgorithmFor(pub crypto.PublicKey, h crypto.Hash) (AlgorithmIdentifier, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch h {
		case crypto.SHA1:
			return AlgorithmIdentifier{Algorithm: OIDSHA1WithRSA, Parameters: asn1.NullBytes}, nil
		case crypto.SHA256:
			return AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA, Parameters: asn1.NullBytes}, nil
		}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() && h == crypto.SHA256 {
			return AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, nil
		}
	case *mldsa65.PublicKey:
		return AlgorithmIdentifier{Algorithm: OIDMLDSA65}, nil
	}
	return AlgorithmIdentifier{}, fmt.Errorf("%w: %T with %v", ErrUnsupportedAlgorithm, pub, h)
}

// ErrAlgorithmParameters is wrapped (together with ErrUnsupportedAlgorithm)
// when an AlgorithmIdentifier names an algorithm this package implements
// but its parameters are not the encoding the algorithm's RFC defines. The
// parameters are outside every signature, so anything looser than the
// RFCs would let a third party change signed bytes unnoticed.
var ErrAlgorithmParameters = errors.New("pkcs7: algorithm parameters not as specified")

// paramsRule is what an algorithm's parameters must be.
type paramsRule int

const (
	paramsAbsent       paramsRule = iota + 1 // no parameters field at all
	paramsNull                               // exactly NULL (05 00)
	paramsNullOrAbsent                       // NULL, or no parameters field
)

// checkParameters enforces rule on alg's parameters.
func checkParameters(alg AlgorithmIdentifier, rule paramsRule) error {
	p := alg.Parameters
	isNull := bytes.Equal(p, asn1.NullBytes)
	var ok bool
	var want string
	switch rule {
	case paramsAbsent:
		ok, want = p == nil, "absent"
	case paramsNull:
		ok, want = isNull, "NULL"
	case paramsNullOrAbsent:
		ok, want = p == nil || isNull, "NULL or absent"
	}
	if ok {
		return nil
	}
	got := "absent"
	if p != nil {
		got = fmt.Sprintf("%x", p)
	}
	return fmt.Errorf("%w: %w: %v parameters %s, want %s", ErrUnsupportedAlgorithm, ErrAlgorithmParameters, alg.Algorithm, got, want)
}

// signatureHash is the digest an algorithm applies to the message before
// signing; 0 for algorithms that sign the message directly. It also checks
// the parameters, exactly as each algorithm's RFC fixes them:
//
//   - sha1WithRSAEncryption: NULL. RFC 3279 §2.2.1 and RFC 3370 §3.2
//     require the NULL and, unlike the SHA-2 variants, grant no leniency
//     for an absent field. Our set1 encoder writes NULL, as do crypto/x509
//     and openssl.
//   - sha256WithRSAEncryption: NULL is what is generated (ours, crypto/x509,
//     openssl); absent is accepted too, because RFC 4055 §5 and RFC 5754
//     §3.2 say implementations MUST accept the parameters being absent.
//   - ecdsa-with-SHA256: absent (RFC 5758 §3.2: the encoding MUST omit
//     the parameters field; RFC 5754 §3.3 repeats it for CMS).
//   - id-ml-dsa-65: absent (RFC 9881 for X.509 and RFC 9882 for CMS: the
//     parameters MUST be absent).
//
// Anything else in the parameters is an error wrapping ErrAlgorithmParameters.
func signatureHash(alg AlgorithmIdentifier) (crypto.Hash, error) {
	var h crypto.Hash
	var rule paramsRule
	switch {
	case alg.Algorithm.Equal(OIDSHA1WithRSA):
		h, rule = crypto.SHA1, paramsNull
	case alg.Algorithm.Equal(OIDSHA256WithRSA):
		h, rule = crypto.SHA256, paramsNullOrAbsent
	case alg.Algorithm.Equal(OIDECDSAWithSHA256):
		h, rule = crypto.SHA256, paramsAbsent
	case alg.Algorithm.Equal(OIDMLDSA65):
		h, rule = 0, paramsAbsent
	default:
		return 0, fmt.Errorf("%w: signature %v", ErrUnsupportedAlgorithm, alg.Algorithm)
	}
	if err := checkParameters(alg, rule); err != nil {
		return 0, err
	}
	return h, nil
}

// SignMessage signs message with key under alg, hashing first where the
// algorithm calls for it.
func SignMessage(rand io.Reader, key crypto.Signer, alg AlgorithmIdentifier, message []byte) ([]byte, error) {
	h, err := signatureHash(alg)
	if err != nil {
		return nil, err
	}
	if h == 0 {
		return key.Sign(rand, message, crypto.Hash(0))
	}
	d := h.New()
	d.Write(message)
	return key.Sign(rand, d.Sum(nil), h)
}

// VerifySignature checks sig over message with pub under alg. The key type
// must match the algorithm; a mismatch is a verification failure.
func VerifySignature(pub crypto.PublicKey, alg AlgorithmIdentifier, message, sig []byte) error {
	h, err := signatureHash(alg)
	if err != nil {
		return err
	}
	var digest []byte
	if h != 0 {
		d := h.New()
		d.Write(message)
		digest = d.Sum(nil)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !alg.Algorithm.Equal(OIDSHA1WithRSA) && !alg.Algorithm.Equal(OIDSHA256WithRSA) {
			break
		}
		if err := rsa.VerifyPKCS1v15(k, h, digest, sig); err != nil {
			return fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return nil
	case *ecdsa.PublicKey:
		if !alg.Algorithm.Equal(OIDECDSAWithSHA256) {
			break
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignature
		}
		return nil
	case *mldsa65.PublicKey:
		if !alg.Algorithm.Equal(OIDMLDSA65) {
			break
		}
		if !mldsa65.Verify(k, message, nil, sig) {
			return ErrSignature
		}
		return nil
	}
	return fmt.Errorf("%w: %T key cannot verify %v", ErrSignature, pub, alg.Algorithm)
}
