package pki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Authority is a certificate authority able to issue certificates: its
// certificate, its signing key and the hash it signs with.
type Authority struct {
	Cert *Certificate
	Key  crypto.Signer
	Hash crypto.Hash
	// Chain is Cert followed by its issuers up to and including the root,
	// ready to travel in a PKCS#7 certificate set.
	Chain []*Certificate
}

// issuable says which certificate types a CA of each type may issue.
var issuable = map[CertType]CertType{
	CertTypeRCA: CertTypeBCA,
	CertTypeBCA: CertTypeGCA | CertTypeCCA | CertTypeMCA | CertTypePCA,
	CertTypeGCA: CertTypeCCA | CertTypeMCA | CertTypePCA,
	CertTypeCCA: CertTypeCard,
	CertTypeMCA: CertTypeMer,
	CertTypePCA: CertTypePgwy | CertTypeAcq,
}

// MayIssue reports whether a CA whose certificate carries type ca may
// sign a certificate of type child: every bit of child must be allowed by
// some bit of ca.
func MayIssue(ca, child CertType) bool {
	if child == 0 {
		return false
	}
	var allowed CertType
	for t, may := range issuable {
		if ca&t != 0 {
			allowed |= may
		}
	}
	return child&^allowed == 0
}

// Issue signs a certificate for t. It fills the serial number when nil,
// clips the validity to the authority's own, and refuses types this CA
// may not issue, so whatever it returns passes Verify. t is not modified.
// Registration (CertReq processing) calls this after its own checks.
func (a *Authority) Issue(rand io.Reader, t *Template) (*Certificate, error) {
	if !MayIssue(a.Cert.CertType, t.CertType) {
		return nil, fmt.Errorf("%w: a %v CA may not issue a %v certificate", ErrWrongType, a.Cert.CertType, t.CertType)
	}
	tt := *t
	if tt.SerialNumber == nil {
		s, err := randomSerial(rand)
		if err != nil {
			return nil, err
		}
		tt.SerialNumber = s
	}
	if tt.NotBefore.Before(a.Cert.NotBefore) {
		tt.NotBefore = a.Cert.NotBefore
	}
	if tt.NotAfter.After(a.Cert.NotAfter) {
		tt.NotAfter = a.Cert.NotAfter
	}
	raw, err := CreateCertificate(rand, &tt, a.Cert, a.Key, a.Hash)
	if err != nil {
		return nil, err
	}
	return ParseCertificate(raw)
}

// KeyGen generates a suite's signing key.
type KeyGen func(rand io.Reader) (crypto.Signer, error)

// Hierarchy is the CA tree of one brand: the SET root, the brand CA and
// the three CAs that certify cardholders, merchants and payment gateways.
// (SET's optional geo-political CA level is not created here.)
type Hierarchy struct {
	Root, Brand, CCA, MCA, PCA *Authority
}

// Validity of each level from the hierarchy's creation time.
const (
	rootValidity  = 20 * 365 * 24 * time.Hour
	brandValidity = 10 * 365 * 24 * time.Hour
	caValidity    = 5 * 365 * 24 * time.Hour
	eeValidity    = 2 * 365 * 24 * time.Hour
)

// NewHierarchy creates a fresh hierarchy for brand, every key from gen,
// every certificate signed with h, valid from now. Root and Brand carry
// hashedRootKey (digest h of the root's SubjectPublicKeyInfo).
func NewHierarchy(rand io.Reader, brand string, gen KeyGen, h crypto.Hash, now time.Time) (*Hierarchy, error) {
	now = now.UTC().Truncate(time.Second)
	rootKey, err := gen(rand)
	if err != nil {
		return nil, err
	}
	rootSPKI, err := MarshalPublicKey(rootKey.Public())
	if err != nil {
		return nil, err
	}
	rkt := RootKeyThumbprint(rootSPKI, h)
	rootTmpl := &Template{
		Subject:       pkix.Name{Organization: []string{brand}, CommonName: brand + " SET Root CA"},
		NotBefore:     now,
		NotAfter:      now.Add(rootValidity),
		PublicKey:     rootKey.Public(),
		KeyUsage:      x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		IsCA:          true,
		MaxPathLen:    -1,
		CertType:      CertTypeRCA,
		HashedRootKey: rkt,
	}
	if rootTmpl.SerialNumber, err = randomSerial(rand); err != nil {
		return nil, err
	}
	raw, err := CreateCertificate(rand, rootTmpl, nil, rootKey, h)
	if err != nil {
		return nil, fmt.Errorf("pki: root: %w", err)
	}
	rootCert, err := ParseCertificate(raw)
	if err != nil {
		return nil, err
	}
	hi := &Hierarchy{Root: &Authority{Cert: rootCert, Key: rootKey, Hash: h, Chain: []*Certificate{rootCert}}}

	sub := func(parent *Authority, cn string, typ CertType, pathLen int, validity time.Duration, hrk []byte) (*Authority, error) {
		key, err := gen(rand)
		if err != nil {
			return nil, err
		}
		cert, err := parent.Issue(rand, &Template{
			Subject:       pkix.Name{Organization: []string{brand}, CommonName: brand + " " + cn},
			NotBefore:     now,
			NotAfter:      now.Add(validity),
			PublicKey:     key.Public(),
			KeyUsage:      x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			IsCA:          true,
			MaxPathLen:    pathLen,
			CertType:      typ,
			HashedRootKey: hrk,
		})
		if err != nil {
			return nil, fmt.Errorf("pki: %s: %w", cn, err)
		}
		chain := append([]*Certificate{cert}, parent.Chain...)
		return &Authority{Cert: cert, Key: key, Hash: h, Chain: chain}, nil
	}
	// Brand may sit above a geo-political CA, hence pathLen 1.
	if hi.Brand, err = sub(hi.Root, "Brand CA", CertTypeBCA, 1, brandValidity, rkt); err != nil {
		return nil, err
	}
	if hi.CCA, err = sub(hi.Brand, "Cardholder CA", CertTypeCCA, 0, caValidity, nil); err != nil {
		return nil, err
	}
	if hi.MCA, err = sub(hi.Brand, "Merchant CA", CertTypeMCA, 0, caValidity, nil); err != nil {
		return nil, err
	}
	if hi.PCA, err = sub(hi.Brand, "Payment Gateway CA", CertTypePCA, 0, caValidity, nil); err != nil {
		return nil, err
	}
	return hi, nil
}

// CardholderTemplate describes a cardholder signature certificate. The
// subject never carries the PAN: its common name is
// hex(HMAC-h(key = panSecret, pan ‖ cardExpiry)), SET's unique cardholder
// ID, which only someone holding the PAN and the secret can recompute.
// pan is 12 to 19 digits, cardExpiry YYYYMM; the certificate expires no
// later than the end of the card's expiry month.
func CardholderTemplate(pub crypto.PublicKey, pan, cardExpiry string, panSecret []byte, h crypto.Hash, now time.Time) (*Template, error) {
	if len(pan) < 12 || len(pan) > 19 || !isDigits(pan) {
		return nil, errors.New("pki: PAN must be 12 to 19 digits")
	}
	exp, err := time.Parse("200601", cardExpiry)
	if err != nil || len(cardExpiry) != 6 {
		return nil, errors.New("pki: card expiry must be YYYYMM")
	}
	if len(panSecret) == 0 || !h.Available() {
		return nil, errors.New("pki: PAN secret and an available hash are required")
	}
	mac := hmac.New(h.New, panSecret)
	mac.Write([]byte(pan))
	mac.Write([]byte(cardExpiry))
	notAfter := now.Add(eeValidity)
	if endOfCard := exp.AddDate(0, 1, 0); endOfCard.Before(notAfter) {
		notAfter = endOfCard
	}
	return &Template{
		Subject:   pkix.Name{CommonName: hex.EncodeToString(mac.Sum(nil))},
		NotBefore: now,
		NotAfter:  notAfter,
		PublicKey: pub,
		KeyUsage:  x509.KeyUsageDigitalSignature,
		CertType:  CertTypeCard,
	}, nil
}

// exchangeUsage is the key usage of a key-exchange certificate: key
// agreement for elliptic-curve (ECDH) keys, key encipherment otherwise
// (RSA key transport, and KEMs as LAMPS profiles them).
func exchangeUsage(pub crypto.PublicKey) x509.KeyUsage {
	switch pub.(type) {
	case *ecdsa.PublicKey, *ecdh.PublicKey:
		return x509.KeyUsageKeyAgreement
	}
	return x509.KeyUsageKeyEncipherment
}

func merchantTemplate(pub crypto.PublicKey, md MerchantData, now time.Time, ku x509.KeyUsage) *Template {
	name := pkix.Name{CommonName: md.MerID}
	if len(md.MerNames) > 0 {
		name.Organization = []string{md.MerNames[0].Name}
	}
	return &Template{
		Subject:      name,
		NotBefore:    now,
		NotAfter:     now.Add(eeValidity),
		PublicKey:    pub,
		KeyUsage:     ku,
		CertType:     CertTypeMer,
		MerchantData: &md,
	}
}

// MerchantSignatureTemplate describes a merchant's signature certificate.
// SET gives every merchant and gateway separate signature and key-exchange
// certificates.
func MerchantSignatureTemplate(pub crypto.PublicKey, md MerchantData, now time.Time) *Template {
	return merchantTemplate(pub, md, now, x509.KeyUsageDigitalSignature)
}

// MerchantExchangeTemplate describes a merchant's key-exchange certificate.
func MerchantExchangeTemplate(pub crypto.PublicKey, md MerchantData, now time.Time) *Template {
	return merchantTemplate(pub, md, now, exchangeUsage(pub))
}

func gatewayTemplate(pub crypto.PublicKey, name string, now time.Time, ku x509.KeyUsage) *Template {
	return &Template{
		Subject:   pkix.Name{CommonName: name},
		NotBefore: now,
		NotAfter:  now.Add(eeValidity),
		PublicKey: pub,
		KeyUsage:  ku,
		CertType:  CertTypePgwy,
	}
}

// GatewaySignatureTemplate describes a payment gateway's signature certificate.
func GatewaySignatureTemplate(pub crypto.PublicKey, name string, now time.Time) *Template {
	return gatewayTemplate(pub, name, now, x509.KeyUsageDigitalSignature)
}

// GatewayExchangeTemplate describes a payment gateway's key-exchange
// certificate, the one cardholders encrypt the PI to.
func GatewayExchangeTemplate(pub crypto.PublicKey, name string, now time.Time) *Template {
	return gatewayTemplate(pub, name, now, exchangeUsage(pub))
}

// Thumbprint is h over the DER of the whole certificate: what SET's
// Thumbs lists and PEThumb carry. It equals the fingerprint
// `openssl x509 -fingerprint` prints, so independent tools can check it.
func Thumbprint(certDER []byte, h crypto.Hash) []byte {
	d := h.New()
	d.Write(certDER)
	return d.Sum(nil)
}
