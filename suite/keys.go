package suite

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// ExchangeKey is a private key-exchange (encryption) key. It is a distinct
// type from crypto.Signer so that a key-exchange key cannot be used to sign
// nor a signing key to open envelopes: SET certifies the two separately.
type ExchangeKey interface {
	// Public returns the public key as a certificate carries it and as
	// crypto/x509 parses it: *rsa.PublicKey (set1) or *ecdsa.PublicKey on
	// P-256 (modern), so it can be certified directly.
	Public() crypto.PublicKey
	exchangeKey()
}

// rsaExchangeKey is a set1 key-exchange key (SET OAEP key transport).
type rsaExchangeKey struct{ k *rsa.PrivateKey }

func (k *rsaExchangeKey) Public() crypto.PublicKey { return &k.k.PublicKey }
func (k *rsaExchangeKey) exchangeKey()             {}
func (k *rsaExchangeKey) String() string {
	return fmt.Sprintf("RSA-%d exchange key", k.k.N.BitLen())
}

// ecdhExchangeKey is a modern-suite key-exchange key (ECDH P-256). The
// ECDSA form is kept only to produce the certificate's public key and the
// PKCS#8 encoding; it is never exposed, so the key cannot sign.
type ecdhExchangeKey struct {
	k  *ecdh.PrivateKey
	ec *ecdsa.PrivateKey
}

func (k *ecdhExchangeKey) Public() crypto.PublicKey { return &k.ec.PublicKey }
func (k *ecdhExchangeKey) exchangeKey()             {}
func (k *ecdhExchangeKey) String() string           { return "ECDH P-256 exchange key" }

// WrapExchangeKey turns an existing private key into an ExchangeKey:
// *rsa.PrivateKey (set1) or a P-256 *ecdsa.PrivateKey / *ecdh.PrivateKey
// (modern). The caller promises the key is used for nothing else.
func WrapExchangeKey(priv crypto.PrivateKey) (ExchangeKey, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return &rsaExchangeKey{k: k}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			break
		}
		e, err := k.ECDH()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKeyType, err)
		}
		return &ecdhExchangeKey{k: e, ec: k}, nil
	case *ecdh.PrivateKey:
		if k.Curve() != ecdh.P256() {
			break
		}
		ec, err := ecdsaFromECDH(k)
		if err != nil {
			return nil, err
		}
		return &ecdhExchangeKey{k: k, ec: ec}, nil
	}
	return nil, fmt.Errorf("%w: %T cannot be a key-exchange key", ErrKeyType, priv)
}

// ecdsaFromECDH re-reads a P-256 ECDH key in its ECDSA form, going through
// PKCS#8 so no point arithmetic is done here.
func ecdsaFromECDH(k *ecdh.PrivateKey) (*ecdsa.PrivateKey, error) {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	p, err := x509.ParsePKCS8PrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	ec, ok := p.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrKeyType, p)
	}
	return ec, nil
}

// MarshalExchangeKey encodes a key-exchange key as PKCS#8 DER.
func MarshalExchangeKey(k ExchangeKey) ([]byte, error) {
	switch k := k.(type) {
	case *rsaExchangeKey:
		return x509.MarshalPKCS8PrivateKey(k.k)
	case *ecdhExchangeKey:
		return x509.MarshalPKCS8PrivateKey(k.ec)
	}
	return nil, fmt.Errorf("%w: %T", ErrKeyType, k)
}

// ParseExchangeKey decodes a PKCS#8 key-exchange key (RSA or EC P-256).
func ParseExchangeKey(der []byte) (ExchangeKey, error) {
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("suite: exchange key: %w", err)
	}
	return WrapExchangeKey(p)
}

// MarshalSigningKey encodes a signing key (RSA or ECDSA P-256) as PKCS#8 DER.
func MarshalSigningKey(k crypto.Signer) ([]byte, error) {
	if err := checkSigningKey(k); err != nil {
		return nil, err
	}
	return x509.MarshalPKCS8PrivateKey(k)
}

// ParseSigningKey decodes a PKCS#8 signing key (RSA or ECDSA P-256).
func ParseSigningKey(der []byte) (crypto.Signer, error) {
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("suite: signing key: %w", err)
	}
	s, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T cannot sign", ErrKeyType, p)
	}
	if err := checkSigningKey(s); err != nil {
		return nil, err
	}
	return s, nil
}

func checkSigningKey(k crypto.Signer) error {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return nil
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return nil
		}
	}
	return fmt.Errorf("%w: %T is not a signing key of any suite", ErrKeyType, k)
}
