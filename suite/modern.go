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
	sealed, err := marshalSealedContent(ct, content, extra)
	if err != nil {
		return nil, err
	}
	// withHash (EH/EXH) is deliberately ignored: GCM already binds the
	// content to the key, which is what H(t) in the OAEP block was for.
	// The SET content type travels inside the ciphertext, authenticated;
	// the envelope says id-data, so RFC 5083 needs no authAttrs (which
	// openssl 3.0 mis-tags: openssl issue 26101) and standard CMS tools
	// read every envelope.
	to := []pkcs7.Recipient{pkcs7.ECDHRecipient{Cert: recipientCert, Key: ecdhPub}}
	return pkcs7.EnvelopeAuth(rand, pkcs7.OIDData, sealed, to)
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
	if !ae.ContentType.Equal(pkcs7.OIDData) {
		return nil, nil, nil, fmt.Errorf("%w: modern envelopes carry id-data, got %v", ErrWrongSuite, ae.ContentType)
	}
	ct, content, extra, err := parseSealedContent(sealed)
	if err != nil {
		return nil, nil, nil, err
	}
	return ct, content, extra, nil
}

// marshalSealedContent builds what the modern suite encrypts:
//
//	SealedContent ::= SEQUENCE {
//	  contentType OBJECT IDENTIFIER,  -- the SET content type (setct-…)
//	  content     ANY,                -- DER of that SET type
//	  extra       ANY OPTIONAL }      -- p of EX / EXH
//
// It is used for E and EH too, so that the opener never has to guess from
// the shape of content whether an extra part follows.
func marshalSealedContent(ct asn1.ObjectIdentifier, content, extra []byte) ([]byte, error) {
	if err := checkSealInput(content, extra); err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(ct)
		b.AddBytes(content)
		if extra != nil {
			b.AddBytes(extra)
		}
	})
	return b.Bytes()
}

func parseSealedContent(b []byte) (ct asn1.ObjectIdentifier, content, extra []byte, err error) {
	e, err := der.Parse(b)
	if err != nil {
		return nil, nil, nil, der.Wrap("SealedContent", "", err)
	}
	if err := e.Expect(der.TagSequence); err != nil {
		return nil, nil, nil, der.Wrap("SealedContent", "", err)
	}
	s := cryptobyte.String(e.Contents)
	if !s.ReadASN1ObjectIdentifier(&ct) {
		return nil, nil, nil, der.Errorf("SealedContent", "contentType", "malformed OBJECT IDENTIFIER")
	}
	parts, err := der.ParseSequence(s)
	if err != nil {
		return nil, nil, nil, der.Wrap("SealedContent", "", err)
	}
	switch len(parts) {
	case 1:
		return ct, parts[0].Raw, nil, nil
	case 2:
		return ct, parts[0].Raw, parts[1].Raw, nil
	case 0:
		return nil, nil, nil, der.Errorf("SealedContent", "content", "absent")
	}
	return nil, nil, nil, der.Wrap("SealedContent", "", der.ErrTrailingData)
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
