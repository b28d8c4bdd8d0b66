package pki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/pkcs7"
)

// Template describes a certificate to be issued. The issuer-dependent
// fields (issuer name, authority key identifier, signature algorithm) come
// from the issuing certificate, not from here.
type Template struct {
	SerialNumber        *big.Int // nil: Authority.Issue picks a random one
	Subject             pkix.Name
	NotBefore, NotAfter time.Time

	// PublicKey is *rsa.PublicKey, *ecdsa.PublicKey (P-256),
	// *ecdh.PublicKey (P-256, encoded as an id-ecPublicKey key) or
	// *mldsa65.PublicKey.
	PublicKey crypto.PublicKey
	KeyUsage  x509.KeyUsage
	IsCA      bool
	// MaxPathLen is the pathLenConstraint of a CA; -1 leaves it out
	// (no limit). Ignored unless IsCA.
	MaxPathLen int

	CertType         CertType
	MerchantData     *MerchantData
	CardCertRequired *bool
	// HashedRootKey is the digest (20 bytes SHA-1 or 32 bytes SHA-256) of
	// the root's SubjectPublicKeyInfo; see RootKeyThumbprint. nil: absent.
	HashedRootKey []byte

	// ExtraExtensions are appended as given (for extensions this package
	// does not model, such as tunneling).
	ExtraExtensions []Extension
}

// CreateCertificate builds and signs a certificate. issuer nil makes it
// self-signed (t.PublicKey must then be issuerKey's). The signature
// algorithm follows the issuer's key and h (ignored by ML-DSA).
func CreateCertificate(rand io.Reader, t *Template, issuer *Certificate, issuerKey crypto.Signer, h crypto.Hash) ([]byte, error) {
	if t == nil || issuerKey == nil {
		return nil, errors.New("pki: template and issuer key are required")
	}
	if t.SerialNumber == nil || t.SerialNumber.Sign() <= 0 || t.SerialNumber.BitLen() > 159 {
		return nil, errors.New("pki: serial number must be positive and at most 20 octets")
	}
	if !t.NotBefore.Before(t.NotAfter) {
		return nil, errors.New("pki: NotBefore must precede NotAfter")
	}
	if t.CertType == 0 {
		return nil, errors.New("pki: SET certificates carry a certificateType")
	}
	spki, err := MarshalPublicKey(t.PublicKey)
	if err != nil {
		return nil, err
	}
	signerPub := issuerKey.Public()
	if issuer == nil {
		if !samePublicKey(signerPub, t.PublicKey) {
			return nil, errors.New("pki: self-signed certificate: key does not match the template's public key")
		}
	} else if !samePublicKey(signerPub, issuer.PublicKey) {
		return nil, errors.New("pki: issuer key does not match the issuer certificate")
	}
	alg, err := pkcs7.SignatureAlgorithmFor(signerPub, h)
	if err != nil {
		return nil, err
	}
	subject, err := asn1.Marshal(t.Subject.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("pki: subject: %w", err)
	}
	issuerName := subject
	if issuer != nil {
		issuerName = issuer.RawSubject
	}
	ski, err := subjectKeyID(spki)
	if err != nil {
		return nil, err
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(explicit(0), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) }) // v3
		b.AddASN1BigInt(t.SerialNumber)
		alg.Marshal(b)
		b.AddBytes(issuerName)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, t.NotBefore)
			addTime(b, t.NotAfter)
		})
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddASN1(explicit(3), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addExtensions(b, t, issuer, ski)
			})
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	out, err := signed(rand, issuerKey, alg, tbs)
	if err != nil {
		return nil, fmt.Errorf("pki: signing: %w", err)
	}
	return out, nil
}

// addTime writes UTCTime through 2049 and GeneralizedTime after, as RFC
// 5280 4.1.2.5 requires, at one-second precision in UTC.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if t.Year() < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

func addExtension(b *cryptobyte.Builder, id asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(id)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addExtensions writes the SET profile. Criticality follows the
// ExtensionSet table of SetCertificateExtensions: keyUsage,
// basicConstraints, certificateType and hashedRootKey critical; the
// identifiers, merchantData and cardCertRequired not.
func addExtensions(b *cryptobyte.Builder, t *Template, issuer *Certificate, ski []byte) {
	addExtension(b, OIDExtBasicConstraints, true, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if t.IsCA {
				b.AddASN1Boolean(true)
				if t.MaxPathLen >= 0 {
					b.AddASN1Int64(int64(t.MaxPathLen))
				}
			}
		})
	})
	if t.KeyUsage != 0 {
		addExtension(b, OIDExtKeyUsage, true, func(b *cryptobyte.Builder) {
			appendNamedBits(b, uint16(t.KeyUsage))
		})
	}
	addExtension(b, OIDExtSubjectKeyID, false, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(ski)
	})
	if issuer != nil {
		// SET constrains AuthorityKeyIdentifier to keyIdentifier ABSENT,
		// authorityCertIssuer and authorityCertSerialNumber PRESENT: the
		// issuing certificate is named by its issuer and serial number.
		addExtension(b, OIDExtAuthorityKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(explicit(4), func(b *cryptobyte.Builder) { b.AddBytes(issuer.RawIssuer) })
				})
				b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(integerContents(issuer.SerialNumber))
				})
			})
		})
	}
	addExtension(b, OIDExtCertificateType, true, func(b *cryptobyte.Builder) {
		appendNamedBits(b, uint16(t.CertType))
	})
	if t.HashedRootKey != nil {
		addExtension(b, OIDExtHashedRootKey, true, func(b *cryptobyte.Builder) {
			marshalHashedRootKey(b, t.HashedRootKey)
		})
	}
	if t.MerchantData != nil {
		addExtension(b, OIDExtMerchantData, false, t.MerchantData.marshal)
	}
	if t.CardCertRequired != nil {
		addExtension(b, OIDExtCardCertRequired, false, func(b *cryptobyte.Builder) {
			b.AddASN1Boolean(*t.CardCertRequired)
		})
	}
	for _, e := range t.ExtraExtensions {
		addExtension(b, e.ID, e.Critical, func(b *cryptobyte.Builder) { b.AddBytes(e.Value) })
	}
}

// integerContents is the DER contents octets of a non-negative INTEGER.
func integerContents(n *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1BigInt(n)
	enc, _ := b.Bytes()
	return enc[2:] // serials are at most 20 octets: short-form length
}

// subjectKeyID is RFC 5280 4.2.1.2 method (1): SHA-1 of the
// subjectPublicKey BIT STRING's value.
func subjectKeyID(spki []byte) ([]byte, error) {
	s := cryptobyte.String(spki)
	var inner, alg cryptobyte.String
	var key asn1.BitString
	if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !inner.ReadASN1(&alg, cbasn1.SEQUENCE) || !inner.ReadASN1BitString(&key) {
		return nil, errors.New("pki: malformed SubjectPublicKeyInfo")
	}
	sum := sha1.Sum(key.Bytes)
	return sum[:], nil
}

// MarshalPublicKey encodes a SubjectPublicKeyInfo. A P-256 *ecdh.PublicKey
// is written as an ordinary id-ecPublicKey key, which is what X.509 and
// CMS ECDH (RFC 5753) expect; it parses back as *ecdsa.PublicKey.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case *mldsa65.PublicKey:
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDMLDSA65}.Marshal(b)
			b.AddASN1BitString(k.Bytes())
		})
		return b.Bytes()
	case *ecdh.PublicKey:
		if k.Curve() != ecdh.P256() {
			return nil, fmt.Errorf("%w: ECDH curve %v", ErrUnsupportedKey, k.Curve())
		}
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
		}
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrUnsupportedKey, pub, err)
	}
	return spki, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	sa, err1 := MarshalPublicKey(a)
	sb, err2 := MarshalPublicKey(b)
	return err1 == nil && err2 == nil && string(sa) == string(sb)
}

// randomSerial returns a positive 127-bit serial number.
func randomSerial(r io.Reader) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	var buf [16]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return nil, err
	}
	buf[0] &= 0x7f
	buf[0] |= 0x40 // fixed length: no serial shorter than 16 octets
	return new(big.Int).SetBytes(buf[:]), nil
}
