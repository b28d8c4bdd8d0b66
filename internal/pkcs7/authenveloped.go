package pkcs7

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// AuthEnvelopedData (RFC 5083) with AES-256-GCM (RFC 5084), the modern and
// pq suites' envelope:
//
//	AuthEnvelopedData ::= SEQUENCE {
//	  version CMSVersion,                            -- 0
//	  originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,   -- never used here
//	  recipientInfos SET OF RecipientInfo,
//	  authEncryptedContentInfo EncryptedContentInfo,
//	  authAttrs [1] IMPLICIT SET OF Attribute OPTIONAL,
//	  mac OCTET STRING,                              -- the GCM tag
//	  unauthAttrs [2] IMPLICIT SET OF Attribute OPTIONAL }   -- never used here
//	GCMParameters ::= SEQUENCE {
//	  aes-nonce OCTET STRING,                        -- 12 bytes
//	  aes-ICVlen INTEGER DEFAULT 12 }                -- we write 16
//
// RFC 5083 requires authAttrs when the content type is not id-data, so
// that the type is authenticated; EnvelopeAuth then writes exactly one
// attribute, content-type, and Open checks it.

const (
	authGCMNonceLen = 12
	authGCMTagLen   = 16
	authCEKLen      = 32
)

var (
	authAttrsTag   = cbasn1.Tag(1).Constructed().ContextSpecific()
	authOrigTag    = cbasn1.Tag(0).Constructed().ContextSpecific()
	authUnauthTag  = cbasn1.Tag(2).Constructed().ContextSpecific()
	errAuthContent = errors.New("pkcs7: AuthEnvelopedData content type not authenticated")
)

// EnvelopeAuth encrypts content for every recipient under a fresh
// AES-256-GCM key and returns the DER of a ContentInfo holding the
// AuthEnvelopedData.
func EnvelopeAuth(rand io.Reader, contentType asn1.ObjectIdentifier, content []byte, to []Recipient) ([]byte, error) {
	if len(to) == 0 {
		return nil, errors.New("pkcs7: EnvelopeAuth: no recipients")
	}
	cek := make([]byte, authCEKLen)
	if _, err := io.ReadFull(rand, cek); err != nil {
		return nil, err
	}
	nonce := make([]byte, authGCMNonceLen)
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, err
	}
	ris := make([][]byte, 0, len(to))
	for i, r := range to {
		if r == nil {
			return nil, fmt.Errorf("pkcs7: EnvelopeAuth: recipient %d is nil", i)
		}
		ri, err := r.recipientInfo(rand, cek)
		if err != nil {
			return nil, fmt.Errorf("pkcs7: EnvelopeAuth: recipient %d: %w", i, err)
		}
		ris = append(ris, ri)
	}

	var authAttrs []byte // [1] IMPLICIT form, nil for id-data
	if !contentType.Equal(OIDData) {
		var b cryptobyte.Builder
		b.AddASN1(authAttrsTag, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(OIDAttrContentType)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(contentType)
				})
			})
		})
		var err error
		if authAttrs, err = b.Bytes(); err != nil {
			return nil, err
		}
	}

	gcm, err := authGCM(cek, authGCMTagLen)
	if err != nil {
		return nil, err
	}
	sealed := gcm.Seal(nil, nonce, content, authAAD(authAttrs))
	ciphertext, tag := sealed[:len(content)], sealed[len(content):]

	var pb cryptobyte.Builder
	pb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(nonce)
		b.AddASN1Int64(authGCMTagLen)
	})
	params, err := pb.Bytes()
	if err != nil {
		return nil, err
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddBytes(der.SetOf(ris))
		envMarshalEncryptedContentInfo(b, contentType, AlgorithmIdentifier{Algorithm: OIDAES256GCM, Parameters: params}, ciphertext)
		b.AddBytes(authAttrs)
		b.AddASN1OctetString(tag)
	})
	aed, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return MarshalContentInfo(OIDAuthEnvelopedData, aed)
}

// authAAD is the GCM additional data: the authAttrs DER with the SET OF
// tag in place of [1] IMPLICIT (RFC 5083 §2.2), or nothing.
func authAAD(authAttrs []byte) []byte {
	if authAttrs == nil {
		return nil
	}
	aad := append([]byte{}, authAttrs...)
	aad[0] = 0x31
	return aad
}

func authGCM(cek []byte, tagLen int) (cipher.AEAD, error) {
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithTagSize(block, tagLen)
}

// AuthEnvelopedData is a decoded RFC 5083 AuthEnvelopedData. RecipientInfos
// are kept raw (each a complete, tagged RecipientInfo) so that a Decrypter
// of any kind can read its own. Raw is the AuthEnvelopedData SEQUENCE.
type AuthEnvelopedData struct {
	Version                    int
	RecipientInfos             [][]byte
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm AlgorithmIdentifier
	EncryptedContent           []byte
	AuthAttrs                  []byte // the [1] IMPLICIT authAttrs element as encoded, nil when absent
	MAC                        []byte
	Raw                        []byte
}

// ParseAuthEnvelopedData decodes a ContentInfo holding an AuthEnvelopedData.
// originatorInfo and unauthAttrs are rejected: nothing here produces them
// and nothing here would check them.
func ParseAuthEnvelopedData(contentInfo []byte) (*AuthEnvelopedData, error) {
	const typ = "AuthEnvelopedData"
	ci, err := ParseContentInfo(contentInfo)
	if err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(OIDAuthEnvelopedData) {
		return nil, der.Errorf("ContentInfo", "contentType", "%v is not authEnvelopedData", ci.ContentType)
	}
	if ci.Content == nil {
		return nil, der.Errorf("ContentInfo", "content", "absent")
	}
	ae := &AuthEnvelopedData{Raw: ci.Content}
	s := cryptobyte.String(ci.Content)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
		return nil, der.Errorf(typ, "version", "malformed INTEGER")
	}
	if v != 0 {
		return nil, der.Errorf(typ, "version", "unsupported version %d", v)
	}
	if seq.PeekASN1Tag(authOrigTag) {
		return nil, der.Errorf(typ, "originatorInfo", "not supported")
	}
	var set cryptobyte.String
	if !seq.ReadASN1(&set, cbasn1.SET) {
		return nil, der.Errorf(typ, "recipientInfos", "malformed SET OF")
	}
	elems, err := der.ParseSequence(set)
	if err != nil {
		return nil, der.Wrap(typ, "recipientInfos", err)
	}
	if err := der.CheckSetOf(set); err != nil {
		return nil, der.Wrap(typ, "recipientInfos", err)
	}
	if len(elems) == 0 {
		return nil, der.Errorf(typ, "recipientInfos", "empty")
	}
	for _, e := range elems {
		ae.RecipientInfos = append(ae.RecipientInfos, e.Raw)
	}
	ae.ContentType, ae.ContentEncryptionAlgorithm, ae.EncryptedContent, err = envReadEncryptedContentInfo(&seq, typ)
	if err != nil {
		return nil, err
	}
	if seq.PeekASN1Tag(authAttrsTag) {
		var attrs cryptobyte.String
		if !seq.ReadASN1Element(&attrs, authAttrsTag) {
			return nil, der.Errorf(typ, "authAttrs", "malformed")
		}
		e, err := der.Parse(attrs)
		if err != nil {
			return nil, der.Wrap(typ, "authAttrs", err)
		}
		if err := der.CheckSetOf(e.Contents); err != nil {
			return nil, der.Wrap(typ, "authAttrs", err)
		}
		ae.AuthAttrs = attrs
	}
	var mac cryptobyte.String
	if !seq.ReadASN1(&mac, cbasn1.OCTET_STRING) {
		return nil, der.Errorf(typ, "mac", "malformed OCTET STRING")
	}
	ae.MAC = mac
	if seq.PeekASN1Tag(authUnauthTag) {
		return nil, der.Errorf(typ, "unauthAttrs", "not supported")
	}
	if !seq.Empty() {
		return nil, der.Wrap(typ, "", der.ErrTrailingData)
	}
	return ae, nil
}

// Open finds the first RecipientInfo d can unwrap, then decrypts and
// authenticates the content. ErrNoRecipient when none is addressed to d.
func (ae *AuthEnvelopedData) Open(d Decrypter) (content []byte, err error) {
	if d == nil {
		return nil, errors.New("pkcs7: Open: nil Decrypter")
	}
	var cek []byte
	for _, ri := range ae.RecipientInfos {
		k, ok, err := d.unwrapCEK(ri)
		if err != nil {
			return nil, err
		}
		if ok {
			cek = k
			break
		}
	}
	if cek == nil {
		return nil, ErrNoRecipient
	}
	if err := ae.checkContentTypeAttr(); err != nil {
		return nil, err
	}
	nonce, tagLen, err := authGCMParams(ae.ContentEncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	if len(cek) != authCEKLen || len(ae.MAC) != tagLen {
		return nil, ErrDecryption
	}
	gcm, err := authGCM(cek, tagLen)
	if err != nil {
		return nil, ErrDecryption
	}
	sealed := make([]byte, 0, len(ae.EncryptedContent)+tagLen)
	sealed = append(append(sealed, ae.EncryptedContent...), ae.MAC...)
	content, err = gcm.Open(nil, nonce, sealed, authAAD(ae.AuthAttrs))
	if err != nil {
		return nil, ErrDecryption
	}
	return content, nil
}

// checkContentTypeAttr enforces RFC 5083: a content type other than id-data
// must be named by a content-type authenticated attribute, and a
// content-type attribute, if present, must match.
func (ae *AuthEnvelopedData) checkContentTypeAttr() error {
	const typ = "AuthEnvelopedData"
	var found asn1.ObjectIdentifier
	if ae.AuthAttrs != nil {
		s := cryptobyte.String(ae.AuthAttrs)
		var attrs cryptobyte.String
		if !s.ReadASN1(&attrs, authAttrsTag) {
			return der.Errorf(typ, "authAttrs", "malformed")
		}
		for !attrs.Empty() {
			var attr, values cryptobyte.String
			var oid asn1.ObjectIdentifier
			if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
				!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
				return der.Errorf(typ, "authAttrs", "malformed Attribute")
			}
			if !oid.Equal(OIDAttrContentType) {
				continue
			}
			if found != nil || !values.ReadASN1ObjectIdentifier(&found) || !values.Empty() {
				return der.Errorf(typ, "authAttrs", "content-type attribute must appear once with one value")
			}
		}
	}
	switch {
	case found != nil && !found.Equal(ae.ContentType):
		return fmt.Errorf("%w: attribute says %v, content says %v", errAuthContent, found, ae.ContentType)
	case found == nil && !ae.ContentType.Equal(OIDData):
		return fmt.Errorf("%w: %v without a content-type attribute", errAuthContent, ae.ContentType)
	}
	return nil
}

// authGCMParams checks the algorithm is AES-256-GCM and reads its
// GCMParameters. aes-ICVlen is DEFAULT 12, so DER omits it when 12.
func authGCMParams(alg AlgorithmIdentifier) (nonce []byte, tagLen int, err error) {
	const typ = "GCMParameters"
	if !alg.Algorithm.Equal(OIDAES256GCM) {
		return nil, 0, fmt.Errorf("%w: content encryption %v", ErrUnsupportedAlgorithm, alg.Algorithm)
	}
	s := cryptobyte.String(alg.Parameters)
	var seq, n cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, 0, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	if !seq.ReadASN1(&n, cbasn1.OCTET_STRING) || len(n) != authGCMNonceLen {
		return nil, 0, der.Errorf(typ, "aes-nonce", "want a 12-byte OCTET STRING")
	}
	tagLen = 12
	if !seq.Empty() {
		var v int64
		if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || !seq.Empty() {
			return nil, 0, der.Errorf(typ, "aes-ICVlen", "malformed INTEGER")
		}
		if v == 12 || v < 12 || v > 16 {
			return nil, 0, der.Errorf(typ, "aes-ICVlen", "invalid value %d (12 must be omitted; 13..16 allowed)", v)
		}
		tagLen = int(v)
	}
	return n, tagLen, nil
}
