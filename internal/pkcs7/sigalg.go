package pkcs7

import (
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

// signatureHash is the digest an algorithm applies to the message before
// signing; 0 for algorithms that sign the message directly.
func signatureHash(alg AlgorithmIdentifier) (crypto.Hash, error) {
	switch {
	case alg.Algorithm.Equal(OIDSHA1WithRSA):
		return crypto.SHA1, nil
	case alg.Algorithm.Equal(OIDSHA256WithRSA), alg.Algorithm.Equal(OIDECDSAWithSHA256):
		return crypto.SHA256, nil
	case alg.Algorithm.Equal(OIDMLDSA65):
		return 0, nil
	}
	return 0, fmt.Errorf("%w: signature %v", ErrUnsupportedAlgorithm, alg.Algorithm)
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
