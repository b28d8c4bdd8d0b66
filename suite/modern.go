package suite

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

type modern struct{}

// NewModern returns the modern suite: ECDSA P-256 / SHA-256 signatures,
// CMS content, AuthEnvelopedData with ECDH P-256 key agreement and
// AES-256-GCM, SHA-256 and HMAC-SHA256.
func NewModern() Suite { return modern{} }

func (modern) ID() ID                         { return Modern }
func (modern) Hash() crypto.Hash              { return crypto.SHA256 }
func (modern) ContentMode() pkcs7.ContentMode { return pkcs7.ModeCMS }
func (modern) String() string                 { return string(Modern) }

func (modern) NewSigningKey(rand io.Reader) (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand)
}

func (modern) NewExchangeKey(rand io.Reader) (ExchangeKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	return WrapExchangeKey(k)
}

func (modern) Seal(rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, content, extra []byte, withHash bool) ([]byte, error) {
	pub, err := certificatePublicKey(recipientCert)
	if err != nil {
		return nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: modern envelopes to ECDH P-256, certificate holds %T", ErrKeyType, pub)
	}
	ecdhPub, err := ec.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	sealed, err := marshalSealedContent(content, extra)
	if err != nil {
		return nil, err
	}
	// withHash (EH/EXH) is deliberately ignored: GCM already binds the
	// content to the key, which is what H(t) in the OAEP block was for.
	to := []pkcs7.Recipient{pkcs7.ECDHRecipient{Cert: recipientCert, Key: ecdhPub}}
	return pkcs7.EnvelopeAuth(rand, ct, sealed, to)
}

func (modern) Open(key ExchangeKey, cert []byte, envelope []byte) (asn1.ObjectIdentifier, []byte, []byte, error) {
	k, ok := key.(*ecdhExchangeKey)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: modern opens with ECDH P-256, got %T", ErrKeyType, key)
	}
	if err := checkSuite(Modern, envelope); err != nil {
		return nil, nil, nil, err
	}
	ae, err := pkcs7.ParseAuthEnvelopedData(envelope)
	if err != nil {
		return nil, nil, nil, err
	}
	sealed, err := ae.Open(pkcs7.ECDHDecrypter{Cert: cert, Key: k.k})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	content, extra, err := parseSealedContent(sealed)
	if err != nil {
		return nil, nil, nil, err
	}
	return ae.ContentType, content, extra, nil
}

// marshalSealedContent builds what the modern suite encrypts:
//
//	SealedContent ::= SEQUENCE {
//	  content ANY,            -- DER of the SET type the envelope names
//	  extra   ANY OPTIONAL }  -- p of EX / EXH
//
// It is used for E and EH too, so that the opener never has to guess from
// the shape of content whether an extra part follows.
func marshalSealedContent(content, extra []byte) ([]byte, error) {
	if err := checkSealInput(content, extra); err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(content)
		if extra != nil {
			b.AddBytes(extra)
		}
	})
	return b.Bytes()
}

func parseSealedContent(b []byte) (content, extra []byte, err error) {
	e, err := der.Parse(b)
	if err != nil {
		return nil, nil, der.Wrap("SealedContent", "", err)
	}
	if err := e.Expect(der.TagSequence); err != nil {
		return nil, nil, der.Wrap("SealedContent", "", err)
	}
	parts, err := e.Children()
	if err != nil {
		return nil, nil, der.Wrap("SealedContent", "", err)
	}
	switch len(parts) {
	case 1:
		return parts[0].Raw, nil, nil
	case 2:
		return parts[0].Raw, parts[1].Raw, nil
	case 0:
		return nil, nil, der.Errorf("SealedContent", "content", "absent")
	}
	return nil, nil, der.Wrap("SealedContent", "", der.ErrTrailingData)
}

// checkSealInput holds every suite to one contract: content is the DER of
// one value, extra is nil or the DER of one value.
func checkSealInput(content, extra []byte) error {
	if _, err := der.Parse(content); err != nil {
		return der.Wrap("SealedContent", "content", err)
	}
	if extra != nil {
		if _, err := der.Parse(extra); err != nil {
			return der.Wrap("SealedContent", "extra", err)
		}
	}
	return nil
}
