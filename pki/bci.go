package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// BrandCRLIdentifier (BCI) is SET's list of the CRLs currently in force in
// a brand, signed by the Brand CA. A party holding a BCI knows which CRL of
// each CA it must have; parties exchange BCIs in their messages and fetch
// what they lack. Its encoding is reconstructed (docs/spec-gaps.md,
// "pki: revocation"):
//
//	BrandCRLIdentifier ::= SEQUENCE {   -- SIGNED, like a certificate
//	  unsignedBrandCRLIdentifier UnsignedBrandCRLIdentifier,
//	  signatureAlgorithm AlgorithmIdentifier,
//	  signature BIT STRING }
//	UnsignedBrandCRLIdentifier ::= SEQUENCE {
//	  version INTEGER (0), sequenceNum INTEGER (0..MAX),
//	  brandID BrandID, notBefore GeneralizedTime, notAfter GeneralizedTime,
//	  crlIdentifierSeq SEQUENCE OF CRLIdentifier }
//	CRLIdentifier ::= SEQUENCE { issuerThumb OCTET STRING, crlNumber INTEGER }
type BrandCRLIdentifier struct {
	Version     int // 0
	SequenceNum int // increases with every BCI the brand issues
	BrandID     string
	NotBefore   time.Time
	NotAfter    time.Time
	// CRLIdentifiers name one CRL per CA of the brand.
	CRLIdentifiers []CRLIdentifier

	// Set by ParseBrandCRLIdentifier; ignored by IssueBCI.
	Raw                []byte
	RawTBS             []byte
	SignatureAlgorithm pkcs7.AlgorithmIdentifier
	Signature          []byte
}

// CRLIdentifier names one CRL: its issuing CA certificate by thumbprint
// (see Thumbprint; SHA-1 in set1, SHA-256 otherwise) and its cRLNumber.
type CRLIdentifier struct {
	IssuerThumb []byte
	CRLNumber   *big.Int
}

// NewCRLIdentifier names crl, issued by issuer, with a thumbprint under h.
func NewCRLIdentifier(issuer *Certificate, crl *CRL, h crypto.Hash) CRLIdentifier {
	return CRLIdentifier{IssuerThumb: Thumbprint(issuer.Raw, h), CRLNumber: new(big.Int).Set(crl.Number)}
}

const (
	typBCI         = "BrandCRLIdentifier"
	typUnsignedBCI = "UnsignedBrandCRLIdentifier"
	maxBrandID     = 40 // as msg bounds BrandID
)

// IssueBCI signs t (its Version, SequenceNum, BrandID, validity and
// CRLIdentifiers) with a Brand CA's key.
func (a *Authority) IssueBCI(rand io.Reader, t *BrandCRLIdentifier) ([]byte, error) {
	if a == nil || a.Cert == nil || a.Key == nil || t == nil {
		return nil, errors.New("pki: BCI: authority and template are required")
	}
	if a.Cert.CertType&CertTypeBCA == 0 || a.Cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, fmt.Errorf("%w: %v is not a brand CA able to sign revocation lists", ErrWrongType, a.Cert)
	}
	if !samePublicKey(a.Key.Public(), a.Cert.PublicKey) {
		return nil, errors.New("pki: BCI: authority key does not match its certificate")
	}
	if t.Version != 0 || t.SequenceNum < 0 {
		return nil, errors.New("pki: BCI: version must be 0 and sequenceNum non-negative")
	}
	if n := len(t.BrandID); n < 1 || n > maxBrandID || !isVisible(t.BrandID) {
		return nil, fmt.Errorf("pki: BCI: brandID must be 1..%d visible characters", maxBrandID)
	}
	if !t.NotBefore.Before(t.NotAfter) {
		return nil, errors.New("pki: BCI: notBefore must precede notAfter")
	}
	for _, id := range t.CRLIdentifiers {
		if _, ok := thumbHash(id.IssuerThumb); !ok {
			return nil, fmt.Errorf("pki: BCI: issuer thumbprint of %d bytes: want 20 or 32", len(id.IssuerThumb))
		}
		if id.CRLNumber == nil || id.CRLNumber.Sign() < 0 || id.CRLNumber.BitLen() > maxSerialBits {
			return nil, errors.New("pki: BCI: CRL number must be non-negative and at most 20 octets")
		}
	}
	alg, err := pkcs7.SignatureAlgorithmFor(a.Key.Public(), a.Hash)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(t.Version))
		b.AddASN1Int64(int64(t.SequenceNum))
		b.AddASN1(cbasn1.Tag(26), func(b *cryptobyte.Builder) { b.AddBytes([]byte(t.BrandID)) })
		b.AddASN1GeneralizedTime(t.NotBefore.UTC().Truncate(time.Second))
		b.AddASN1GeneralizedTime(t.NotAfter.UTC().Truncate(time.Second))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, id := range t.CRLIdentifiers {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(id.IssuerThumb)
					b.AddASN1BigInt(id.CRLNumber)
				})
			}
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: BCI: %w", err)
	}
	out, err := signed(rand, a.Key, alg, tbs)
	if err != nil {
		return nil, fmt.Errorf("pki: BCI: signing: %w", err)
	}
	return out, nil
}

// ParseBrandCRLIdentifier decodes one DER BrandCRLIdentifier, rejecting
// trailing bytes, non-DER encodings, unknown versions and duplicate CRL
// issuers.
func ParseBrandCRLIdentifier(b []byte) (*BrandCRLIdentifier, error) {
	raw, tbsElem, alg, sig, err := readSigned(b, typBCI)
	if err != nil {
		return nil, err
	}
	out := &BrandCRLIdentifier{Raw: raw, RawTBS: tbsElem, SignatureAlgorithm: alg, Signature: sig}
	var s cryptobyte.String
	elem := cryptobyte.String(tbsElem)
	elem.ReadASN1(&s, cbasn1.SEQUENCE) // readSigned checked it is one SEQUENCE
	var version, seq int64
	if !s.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, der.Errorf(typUnsignedBCI, "version", "malformed INTEGER")
	}
	if version != 0 {
		return nil, der.Errorf(typUnsignedBCI, "version", "unknown version %d", version)
	}
	if !s.ReadASN1Int64WithTag(&seq, cbasn1.INTEGER) || seq < 0 || seq > 1<<31-1 {
		return nil, der.Errorf(typUnsignedBCI, "sequenceNum", "want INTEGER 0..2^31-1")
	}
	out.SequenceNum = int(seq)
	var brand cryptobyte.String
	if !s.ReadASN1(&brand, cbasn1.Tag(26)) || len(brand) < 1 || len(brand) > maxBrandID || !isVisible(string(brand)) {
		return nil, der.Errorf(typUnsignedBCI, "brandID", "want VisibleString SIZE(1..%d)", maxBrandID)
	}
	out.BrandID = string(brand)
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"notBefore", &out.NotBefore}, {"notAfter", &out.NotAfter}} {
		if !s.ReadASN1GeneralizedTime(f.dst) {
			return nil, der.Errorf(typUnsignedBCI, f.name, "malformed GeneralizedTime")
		}
		if _, off := f.dst.Zone(); off != 0 {
			return nil, der.Errorf(typUnsignedBCI, f.name, "time not in UTC (Z): %w", der.ErrInvalid)
		}
		*f.dst = f.dst.UTC()
	}
	if !out.NotBefore.Before(out.NotAfter) {
		return nil, der.Errorf(typUnsignedBCI, "notAfter", "not after notBefore")
	}
	var ids cryptobyte.String
	if !s.ReadASN1(&ids, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typUnsignedBCI, "crlIdentifierSeq", "malformed SEQUENCE OF")
	}
	if !s.Empty() {
		return nil, der.Wrap(typUnsignedBCI, "", der.ErrTrailingData)
	}
	for !ids.Empty() {
		var e cryptobyte.String
		var id CRLIdentifier
		if !ids.ReadASN1(&e, cbasn1.SEQUENCE) {
			return nil, der.Errorf("CRLIdentifier", "", "malformed SEQUENCE")
		}
		if !e.ReadASN1Bytes(&id.IssuerThumb, cbasn1.OCTET_STRING) {
			return nil, der.Errorf("CRLIdentifier", "issuerThumb", "malformed OCTET STRING")
		}
		if _, ok := thumbHash(id.IssuerThumb); !ok {
			return nil, der.Errorf("CRLIdentifier", "issuerThumb", "%d bytes: want 20 or 32", len(id.IssuerThumb))
		}
		id.CRLNumber = new(big.Int)
		if !e.ReadASN1Integer(id.CRLNumber) || id.CRLNumber.Sign() < 0 || id.CRLNumber.BitLen() > maxSerialBits {
			return nil, der.Errorf("CRLIdentifier", "crlNumber", "want INTEGER 0..2^159")
		}
		if !e.Empty() {
			return nil, der.Wrap("CRLIdentifier", "", der.ErrTrailingData)
		}
		for _, prev := range out.CRLIdentifiers {
			if bytes.Equal(prev.IssuerThumb, id.IssuerThumb) {
				return nil, der.Errorf("CRLIdentifier", "issuerThumb", "CA listed twice")
			}
		}
		out.CRLIdentifiers = append(out.CRLIdentifiers, id)
	}
	return out, nil
}

// Verify checks that brandCA, the certificate of the brand CA of the
// brand b names, allowed to sign revocation information, signed b. A
// brand CA certificate names its brand as its subject's one
// organizationName (NewHierarchy; docs/spec-gaps.md): in a hierarchy of
// several brands under one root, one brand's CA must not speak for
// another's CRLs. It does not check b's validity period: see CurrentAt.
// Failures wrap ErrBadCRL.
func (b *BrandCRLIdentifier) Verify(brandCA *Certificate) error {
	if brandCA.CertType&CertTypeBCA == 0 || !brandCA.IsCA || brandCA.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return fmt.Errorf("%w: BCI signer %v is not a brand CA able to sign revocation lists", ErrBadCRL, brandCA)
	}
	if o := brandCA.Subject.Organization; len(o) != 1 || o[0] != b.BrandID {
		return fmt.Errorf("%w: BCI %d is for brand %q, but %v is the brand CA of %q", ErrBadCRL, b.SequenceNum, b.BrandID, brandCA, strings.Join(o, ", "))
	}
	if err := verifySignature(brandCA, b.SignatureAlgorithm, b.RawTBS, b.Signature); err != nil {
		return fmt.Errorf("%w: BCI %d of %q: bad signature by %v: %v", ErrBadCRL, b.SequenceNum, b.BrandID, brandCA, err)
	}
	return nil
}

// CurrentAt reports whether now lies in [NotBefore, NotAfter).
func (b *BrandCRLIdentifier) CurrentAt(now time.Time) bool {
	return !now.Before(b.NotBefore) && now.Before(b.NotAfter)
}

// Covers checks that every CRL b lists is among crls: for each identifier,
// the CA whose thumbprint it names must be among cas and a CRL with that
// number must verify against it. Failures wrap ErrNoCRL. (The CA
// certificates are needed because a CRL names its issuer by name and
// serial, the BCI by thumbprint.)
func (b *BrandCRLIdentifier) Covers(crls []*CRL, cas []*Certificate) error {
	for _, id := range b.CRLIdentifiers {
		h, ok := thumbHash(id.IssuerThumb)
		if !ok {
			return fmt.Errorf("%w: BCI issuer thumbprint of %d bytes", ErrNoCRL, len(id.IssuerThumb))
		}
		var ca *Certificate
		for _, c := range cas {
			if bytes.Equal(Thumbprint(c.Raw, h), id.IssuerThumb) {
				ca = c
				break
			}
		}
		if ca == nil {
			return fmt.Errorf("%w: BCI %d lists CRL %v of CA %x, whose certificate is not at hand", ErrNoCRL, b.SequenceNum, id.CRLNumber, id.IssuerThumb)
		}
		found := false
		for _, crl := range crls {
			if crl != nil && crl.Number != nil && crl.Number.Cmp(id.CRLNumber) == 0 && crl.CheckSignatureFrom(ca) == nil {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: BCI %d lists CRL %v of %v, which is missing", ErrNoCRL, b.SequenceNum, id.CRLNumber, ca)
		}
	}
	return nil
}

// checkChain is the BCI part of Verify: b must be current and signed by the
// brand CA of chain, and every CRL it lists for a CA of chain must be in
// crls. CRLs of the brand's other CAs are not needed to trust this chain.
func (b *BrandCRLIdentifier) checkChain(chain []*Certificate, crls []*CRL, now time.Time) error {
	var brand *Certificate
	for _, c := range chain {
		if c.CertType&CertTypeBCA != 0 {
			brand = c
			break
		}
	}
	if brand == nil {
		return fmt.Errorf("%w: BCI given but the chain of %v has no brand CA", ErrBadCRL, chain[0])
	}
	if err := b.Verify(brand); err != nil {
		return err
	}
	if !b.CurrentAt(now) {
		return fmt.Errorf("%w: BCI %d of %q valid %v to %v, now %v", ErrNoCRL, b.SequenceNum, b.BrandID,
			b.NotBefore.Format(time.RFC3339), b.NotAfter.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	var listed []CRLIdentifier
	for _, id := range b.CRLIdentifiers {
		h, ok := thumbHash(id.IssuerThumb)
		if !ok {
			return fmt.Errorf("%w: BCI issuer thumbprint of %d bytes", ErrBadCRL, len(id.IssuerThumb))
		}
		for _, c := range chain[1:] {
			if bytes.Equal(Thumbprint(c.Raw, h), id.IssuerThumb) {
				listed = append(listed, id)
			}
		}
	}
	sub := BrandCRLIdentifier{SequenceNum: b.SequenceNum, CRLIdentifiers: listed}
	return sub.Covers(crls, chain[1:])
}
