package suite

import (
	"crypto"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"io"

	"github.com/setpay/setpay/internal/pkcs7"
)

// Set1Options tunes the set1 suite. The zero value is SET 1.0 as specified
// with 2048-bit keys.
type Set1Options struct {
	// RSABits is the size of new signing and key-exchange keys; 0 means
	// 2048. SET 1.0 deployments used 1024, which conformance tests may
	// ask for; less than 1024 is refused.
	RSABits int
	// TripleDES envelopes with DES-EDE3-CBC instead of SET's DES-CBC.
	TripleDES bool
}

type set1 struct {
	bits   int
	cipher pkcs7.ContentCipher
}

// NewSet1 returns the SET 1.0 suite: RSA PKCS#1 v1.5 signatures with
// SHA-1, PKCS#7 v1.5 content, SET OAEP key transport and DES-CBC.
func NewSet1(opts Set1Options) Suite {
	s := &set1{bits: opts.RSABits, cipher: pkcs7.CipherDESCBC}
	if s.bits == 0 {
		s.bits = 2048
	}
	if opts.TripleDES {
		s.cipher = pkcs7.CipherDESEDE3CBC
	}
	return s
}

func (*set1) ID() ID                         { return Set1 }
func (*set1) Hash() crypto.Hash              { return crypto.SHA1 }
func (*set1) ContentMode() pkcs7.ContentMode { return pkcs7.ModePKCS7 }
func (s *set1) String() string               { return string(Set1) }
func (s *set1) checkBits() error {
	if s.bits < 1024 {
		return fmt.Errorf("%w: RSA-%d is below SET's minimum of 1024 bits", ErrKeyType, s.bits)
	}
	return nil
}

func (s *set1) NewSigningKey(rand io.Reader) (crypto.Signer, error) {
	if err := s.checkBits(); err != nil {
		return nil, err
	}
	return rsa.GenerateKey(rand, s.bits)
}

func (s *set1) NewExchangeKey(rand io.Reader) (ExchangeKey, error) {
	if err := s.checkBits(); err != nil {
		return nil, err
	}
	k, err := rsa.GenerateKey(rand, s.bits)
	if err != nil {
		return nil, err
	}
	return &rsaExchangeKey{k: k}, nil
}

func (s *set1) Seal(rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, content, extra []byte, withHash bool) ([]byte, error) {
	if err := checkSealInput(content, extra); err != nil {
		return nil, err
	}
	pub, err := certificatePublicKey(recipientCert)
	if err != nil {
		return nil, err
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: set1 envelopes to RSA, certificate holds %T", ErrKeyType, pub)
	}
	to := []pkcs7.KeyTransRecipient{{Cert: recipientCert, Key: rsaPub}}
	return pkcs7.EnvelopeSET(rand, ct, content, to, pkcs7.EnvelopeSETOptions{
		Cipher:      s.cipher,
		HashContent: withHash,
		Extra:       extra,
	})
}

func (s *set1) Open(key ExchangeKey, cert []byte, envelope []byte) (asn1.ObjectIdentifier, []byte, []byte, error) {
	k, ok := key.(*rsaExchangeKey)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: set1 opens with RSA, got %T", ErrKeyType, key)
	}
	if err := checkSuite(Set1, envelope); err != nil {
		return nil, nil, nil, err
	}
	ed, err := pkcs7.ParseEnvelopedData(envelope)
	if err != nil {
		return nil, nil, nil, err
	}
	content, extra, err := ed.OpenSET(cert, k.k)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return ed.ContentType, content, extra, nil
}

// checkSuite refuses a structure that Identify does not attribute to want.
func checkSuite(want ID, contentInfo []byte) error {
	got, err := Identify(contentInfo)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: %s structure given to the %s suite", ErrWrongSuite, got, want)
	}
	return nil
}
