// Package pkcs7 implements the PKCS#7 v1.5 / CMS structures SET is built
// from: ContentInfo, SignedData, DigestedData, EnvelopedData and, for the
// modern suites, AuthEnvelopedData (RFC 5083).
//
// Decoding keeps the exact bytes of everything that is later hashed or
// signed; nothing is re-encoded to be verified.
package pkcs7

import (
	"encoding/asn1"
	"errors"

	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// Content types (PKCS#7 / CMS).
var (
	OIDData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	OIDDigestedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 5}
	OIDEncryptedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	OIDAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
)

// Signed attributes.
var (
	OIDAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// Algorithms.
var (
	OIDSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	OIDSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}

	OIDRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	OIDSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDCurveP256       = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	OIDMLDSA65         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}

	// OIDRSAOAEPSET is SET's own OAEP variant of RSA key transport
	// (rsaOAEPEncryptionSET in OpenSSL's object table).
	OIDRSAOAEPSET = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 6}

	OIDDESCBC     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	OIDDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	OIDAES256GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
	OIDAES256Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}

	// OIDECDHSHA256KDF is dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753 /
	// SEC 1), the ECDH ephemeral-static key agreement of KeyAgreeRecipientInfo.
	OIDECDHSHA256KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}
)

// ErrUnsupportedAlgorithm is wrapped when a structure names an algorithm
// this package does not implement.
var ErrUnsupportedAlgorithm = errors.New("pkcs7: unsupported algorithm")

// AlgorithmIdentifier is an X.509 AlgorithmIdentifier. Parameters holds the
// complete DER of the parameters (NULL included) or is nil when absent.
type AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters []byte
}

// Marshal adds the AlgorithmIdentifier to b.
func (a AlgorithmIdentifier) Marshal(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.Algorithm)
		if a.Parameters != nil {
			b.AddBytes(a.Parameters)
		}
	})
}

// ReadAlgorithmIdentifier reads an AlgorithmIdentifier from s.
func ReadAlgorithmIdentifier(s *cryptobyte.String) (AlgorithmIdentifier, error) {
	var a AlgorithmIdentifier
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return a, der.Errorf("AlgorithmIdentifier", "", "malformed SEQUENCE")
	}
	if !seq.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return a, der.Errorf("AlgorithmIdentifier", "algorithm", "malformed OBJECT IDENTIFIER")
	}
	if len(seq) > 0 {
		e, err := der.ReadElement(&seq)
		if err != nil {
			return a, der.Wrap("AlgorithmIdentifier", "parameters", err)
		}
		a.Parameters = e.Raw
	}
	if len(seq) != 0 {
		return a, der.Wrap("AlgorithmIdentifier", "", der.ErrTrailingData)
	}
	return a, nil
}

// ContentInfo is PKCS#7's outer wrapper:
//
//	ContentInfo ::= SEQUENCE {
//	  contentType ContentType,
//	  content [0] EXPLICIT ANY DEFINED BY contentType OPTIONAL }
type ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     []byte // DER of the content inside [0] EXPLICIT; nil when absent
	Raw         []byte // the whole ContentInfo as decoded or produced
}

// MarshalContentInfo encodes a ContentInfo. content is the DER of the
// content (nil to omit it).
func MarshalContentInfo(contentType asn1.ObjectIdentifier, content []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(contentType)
		if content != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(content)
			})
		}
	})
	return b.Bytes()
}

// ParseContentInfo decodes a ContentInfo; trailing bytes are an error.
func ParseContentInfo(b []byte) (*ContentInfo, error) {
	s := cryptobyte.String(b)
	ci, err := ReadContentInfo(&s)
	if err != nil {
		return nil, err
	}
	if len(s) != 0 {
		return nil, der.Wrap("ContentInfo", "", der.ErrTrailingData)
	}
	return ci, nil
}

// ReadContentInfo reads a ContentInfo from the front of s.
func ReadContentInfo(s *cryptobyte.String) (*ContentInfo, error) {
	e, err := der.ReadElement(s)
	if err != nil {
		return nil, der.Wrap("ContentInfo", "", err)
	}
	if err := e.Expect(der.TagSequence); err != nil {
		return nil, der.Wrap("ContentInfo", "", err)
	}
	ci := &ContentInfo{Raw: e.Raw}
	seq := cryptobyte.String(e.Contents)
	if !seq.ReadASN1ObjectIdentifier(&ci.ContentType) {
		return nil, der.Errorf("ContentInfo", "contentType", "malformed OBJECT IDENTIFIER")
	}
	if len(seq) > 0 {
		var inner cryptobyte.String
		if !seq.ReadASN1(&inner, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, der.Errorf("ContentInfo", "content", "want [0] EXPLICIT")
		}
		ce, err := der.Parse(inner)
		if err != nil {
			return nil, der.Wrap("ContentInfo", "content", err)
		}
		ci.Content = ce.Raw
	}
	if len(seq) != 0 {
		return nil, der.Wrap("ContentInfo", "", der.ErrTrailingData)
	}
	return ci, nil
}

// IssuerAndSerialNumber identifies a certificate by issuer name and serial.
type IssuerAndSerialNumber struct {
	Issuer       []byte // DER of the issuer Name, as it appears in the certificate
	SerialNumber *big.Int
}

// Marshal adds the IssuerAndSerialNumber to b.
func (ias IssuerAndSerialNumber) Marshal(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(ias.Issuer)
		b.AddASN1BigInt(ias.SerialNumber)
	})
}

// ReadIssuerAndSerialNumber reads an IssuerAndSerialNumber from s.
func ReadIssuerAndSerialNumber(s *cryptobyte.String) (IssuerAndSerialNumber, error) {
	var ias IssuerAndSerialNumber
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return ias, der.Errorf("IssuerAndSerialNumber", "", "malformed SEQUENCE")
	}
	var name cryptobyte.String
	if !seq.ReadASN1Element(&name, cbasn1.SEQUENCE) {
		return ias, der.Errorf("IssuerAndSerialNumber", "issuer", "malformed Name")
	}
	ias.Issuer = name
	ias.SerialNumber = new(big.Int)
	if !seq.ReadASN1Integer(ias.SerialNumber) {
		return ias, der.Errorf("IssuerAndSerialNumber", "serialNumber", "malformed INTEGER")
	}
	if len(seq) != 0 {
		return ias, der.Wrap("IssuerAndSerialNumber", "", der.ErrTrailingData)
	}
	return ias, nil
}
