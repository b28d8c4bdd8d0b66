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

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// BrandCRLIdentifier (BCI) is SET's list of the CRLs currently in force in
// a brand, signed by the Brand CA. A party holding a BCI knows which CRL of
// each CA it must have; parties exchange BCIs in their messages and fetch
// what they lack. Its encoding is reconstructed (docs/spec-gaps.md,
// "pki: revocation"); msg.BrandCRLIdentifier alone writes and reads it,
// and this type adds what a relying party does with it: Verify, CurrentAt,
// Covers.
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

// IssueBCI signs t (its Version, SequenceNum, BrandID, validity and
// CRLIdentifiers) with a Brand CA's key. msg.BrandCRLIdentifier writes the
// unsigned part and checks it as its decoder will.
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
	if t.Version != 0 {
		return nil, errors.New("pki: BCI: version must be 0")
	}
	alg, err := pkcs7.SignatureAlgorithmFor(a.Key.Public(), a.Hash)
	if err != nil {
		return nil, err
	}
	m := &msg.BrandCRLIdentifier{
		SequenceNum: int64(t.SequenceNum),
		BrandID:     t.BrandID,
		NotBefore:   t.NotBefore,
		NotAfter:    t.NotAfter,
	}
	for _, id := range t.CRLIdentifiers {
		m.CRLIdentifierSeq = append(m.CRLIdentifierSeq, msg.CRLIdentifier(id))
	}
	tbs, err := m.MarshalUnsigned()
	if err != nil {
		return nil, fmt.Errorf("pki: BCI: %w", err)
	}
	out, err := signed(rand, a.Key, alg, tbs)
	if err != nil {
		return nil, fmt.Errorf("pki: BCI: signing: %w", err)
	}
	return out, nil
}

// ParseBrandCRLIdentifier decodes one DER BrandCRLIdentifier with
// msg.UnmarshalBrandCRLIdentifier, which rejects trailing bytes, non-DER
// encodings, unknown versions and duplicate CRL issuers. It does not check
// the signature: see Verify.
func ParseBrandCRLIdentifier(b []byte) (*BrandCRLIdentifier, error) {
	m, err := msg.UnmarshalBrandCRLIdentifier(b)
	if err != nil {
		return nil, err
	}
	out := &BrandCRLIdentifier{
		SequenceNum:        int(m.SequenceNum),
		BrandID:            m.BrandID,
		NotBefore:          m.NotBefore,
		NotAfter:           m.NotAfter,
		Raw:                m.Raw(),
		RawTBS:             m.RawUnsigned(),
		SignatureAlgorithm: m.SignatureAlgorithm,
		Signature:          m.Signature,
	}
	for _, id := range m.CRLIdentifierSeq {
		out.CRLIdentifiers = append(out.CRLIdentifiers, CRLIdentifier(id))
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
