package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// Revocation failures, wrapped with the details like the other Verify errors.
var (
	// ErrRevoked: a certificate of the chain is listed in an authentic CRL
	// of its issuer.
	ErrRevoked = errors.New("pki: certificate revoked")
	// ErrNoCRL: VerifyOptions.RequireCRLs is set and some CA of the chain
	// has no current CRL, or a BrandCRLIdentifier lists a CRL that is missing
	// or is itself not current.
	ErrNoCRL = errors.New("pki: no current CRL")
	// ErrBadCRL: a CRL or BrandCRLIdentifier is not from the authority
	// asked about or its signature does not verify.
	ErrBadCRL = errors.New("pki: CRL not issued by this authority")
)

// CRL extension OIDs (RFC 5280 5.2 and 5.3).
var (
	OIDExtCRLNumber  = asn1.ObjectIdentifier{2, 5, 29, 20}
	OIDExtReasonCode = asn1.ObjectIdentifier{2, 5, 29, 21}
)

// CRLReason is the reasonCode of a CRL entry (RFC 5280 5.3.1).
type CRLReason int

// Reason codes. 7 is unused in RFC 5280.
const (
	ReasonUnspecified          CRLReason = 0
	ReasonKeyCompromise        CRLReason = 1
	ReasonCACompromise         CRLReason = 2
	ReasonAffiliationChanged   CRLReason = 3
	ReasonSuperseded           CRLReason = 4
	ReasonCessationOfOperation CRLReason = 5
	ReasonCertificateHold      CRLReason = 6
	ReasonRemoveFromCRL        CRLReason = 8
	ReasonPrivilegeWithdrawn   CRLReason = 9
	ReasonAACompromise         CRLReason = 10
)

func (r CRLReason) valid() bool { return r >= 0 && r <= 10 && r != 7 }

// RevokedCertificate is one entry of a CRL.
type RevokedCertificate struct {
	Serial         *big.Int
	RevocationTime time.Time
	// Reason is written as a reasonCode entry extension unless it is
	// ReasonUnspecified, which RFC 5280 says to leave out.
	Reason CRLReason
}

// CRL is a decoded X.509 v2 CertificateList in SET's profile: it carries a
// cRLNumber and an authorityKeyIdentifier naming the issuing certificate by
// its issuer and serial number. The Raw fields are slices of the input;
// the signature is checked over RawTBSCertList, never a re-encoding.
type CRL struct {
	Raw            []byte
	RawTBSCertList []byte
	RawIssuer      []byte

	Issuer             pkix.Name
	SignatureAlgorithm pkcs7.AlgorithmIdentifier
	Signature          []byte
	ThisUpdate         time.Time
	NextUpdate         time.Time
	Revoked            []RevokedCertificate
	Number             *big.Int

	// The authorityKeyIdentifier: the issuing CA certificate's own issuer
	// name (DER) and serial number.
	AuthorityCertIssuer []byte
	AuthorityCertSerial *big.Int

	Extensions []Extension // every CRL extension, in order
}

// maxSerialBits bounds serials and CRL numbers: 20 octets (RFC 5280).
const maxSerialBits = 159

// IssueCRL signs a CRL listing revoked, numbered number, valid from
// thisUpdate until nextUpdate. The authority's certificate must allow
// cRLSign. Callers keep numbers increasing; BrandCRLIdentifier names a CRL
// by its issuer and number.
func (a *Authority) IssueCRL(rand io.Reader, revoked []RevokedCertificate, number *big.Int, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	if a == nil || a.Cert == nil || a.Key == nil {
		return nil, errors.New("pki: CRL: authority certificate and key are required")
	}
	if !a.Cert.IsCA || a.Cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, fmt.Errorf("%w: %v may not sign CRLs", ErrWrongUsage, a.Cert)
	}
	if !samePublicKey(a.Key.Public(), a.Cert.PublicKey) {
		return nil, errors.New("pki: CRL: authority key does not match its certificate")
	}
	if number == nil || number.Sign() < 0 || number.BitLen() > maxSerialBits {
		return nil, errors.New("pki: CRL number must be non-negative and at most 20 octets")
	}
	if !thisUpdate.Before(nextUpdate) {
		return nil, errors.New("pki: CRL thisUpdate must precede nextUpdate")
	}
	seen := make(map[string]bool, len(revoked))
	for _, r := range revoked {
		if r.Serial == nil || r.Serial.Sign() <= 0 || r.Serial.BitLen() > maxSerialBits {
			return nil, errors.New("pki: CRL: revoked serial must be positive and at most 20 octets")
		}
		if seen[r.Serial.String()] {
			return nil, fmt.Errorf("pki: CRL: serial %x listed twice", r.Serial)
		}
		seen[r.Serial.String()] = true
		if !r.Reason.valid() {
			return nil, fmt.Errorf("pki: CRL: unknown reason code %d", r.Reason)
		}
		if r.RevocationTime.IsZero() {
			return nil, fmt.Errorf("pki: CRL: serial %x has no revocation time", r.Serial)
		}
	}
	alg, err := pkcs7.SignatureAlgorithmFor(a.Key.Public(), a.Hash)
	if err != nil {
		return nil, err
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1) // v2: CRL extensions require it
		alg.Marshal(b)
		b.AddBytes(a.Cert.RawSubject)
		addTime(b, thisUpdate)
		addTime(b, nextUpdate)
		// RFC 5280 5.1.2.6: with no entries the list is absent, not empty.
		if len(revoked) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, r := range revoked {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1BigInt(r.Serial)
						addTime(b, r.RevocationTime)
						if r.Reason != ReasonUnspecified {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								addExtension(b, OIDExtReasonCode, false, func(b *cryptobyte.Builder) {
									b.AddASN1Enum(int64(r.Reason))
								})
							})
						}
					})
				}
			})
		}
		b.AddASN1(explicit(0), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				// The same AKI form SET uses in certificates: the CA's
				// certificate named by its issuer and serial number.
				addExtension(b, OIDExtAuthorityKeyID, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							b.AddASN1(explicit(4), func(b *cryptobyte.Builder) { b.AddBytes(a.Cert.RawIssuer) })
						})
						b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(integerContents(a.Cert.SerialNumber))
						})
					})
				})
				addExtension(b, OIDExtCRLNumber, false, func(b *cryptobyte.Builder) {
					b.AddASN1BigInt(number)
				})
			})
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: CRL: %w", err)
	}
	sig, err := pkcs7.SignMessage(rand, a.Key, alg, tbs)
	if err != nil {
		return nil, fmt.Errorf("pki: CRL: signing: %w", err)
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		alg.Marshal(b)
		b.AddASN1BitString(sig)
	})
	return cb.Bytes()
}

const (
	typCRL    = "CertificateList"
	typTBSCRL = "TBSCertList"
)

// readSigned splits SEQUENCE { tbs, signatureAlgorithm, signature BIT
// STRING }, the SIGNED layout of certificates, CRLs and BrandCRLIdentifier,
// after checking the whole input is one DER element.
func readSigned(b []byte, typ string) (raw, tbs []byte, alg pkcs7.AlgorithmIdentifier, sig []byte, err error) {
	input := cryptobyte.String(b)
	var elem, seq cryptobyte.String
	if !input.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return nil, nil, alg, nil, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	if !input.Empty() {
		return nil, nil, alg, nil, der.Wrap(typ, "", der.ErrTrailingData)
	}
	if _, err := der.Parse(elem); err != nil {
		return nil, nil, alg, nil, der.Wrap(typ, "", err)
	}
	raw = elem
	elem.ReadASN1(&seq, cbasn1.SEQUENCE) // consumes elem, not raw
	var tbsElem cryptobyte.String
	if !seq.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, nil, alg, nil, der.Errorf(typ, "tbs", "malformed SEQUENCE")
	}
	if alg, err = pkcs7.ReadAlgorithmIdentifier(&seq); err != nil {
		return nil, nil, alg, nil, der.Wrap(typ, "signatureAlgorithm", err)
	}
	var bits asn1.BitString
	if !seq.ReadASN1BitString(&bits) || bits.BitLength%8 != 0 {
		return nil, nil, alg, nil, der.Errorf(typ, "signature", "malformed BIT STRING")
	}
	if !seq.Empty() {
		return nil, nil, alg, nil, der.Wrap(typ, "", der.ErrTrailingData)
	}
	return raw, tbsElem, alg, bits.Bytes, nil
}

// ParseCRL decodes one DER CRL. It accepts only v2 CRLs in SET's profile
// (cRLNumber and authorityKeyIdentifier present) and rejects trailing
// bytes, non-DER encodings, duplicate extensions or entries, and critical
// extensions it does not understand, since a CRL whose critical extension
// is ignored could mean something else than it seems (RFC 5280 5.2).
func ParseCRL(b []byte) (*CRL, error) {
	raw, tbsElem, alg, sig, err := readSigned(b, typCRL)
	if err != nil {
		return nil, err
	}
	c := &CRL{Raw: raw, RawTBSCertList: tbsElem, SignatureAlgorithm: alg, Signature: sig}
	var tbs cryptobyte.String
	elem := cryptobyte.String(tbsElem)
	elem.ReadASN1(&tbs, cbasn1.SEQUENCE) // readSigned checked it is one SEQUENCE

	var version int64
	if !tbs.PeekASN1Tag(cbasn1.INTEGER) || !tbs.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, der.Errorf(typTBSCRL, "version", "missing or malformed: SET CRLs are v2")
	}
	if version != 1 {
		return nil, der.Errorf(typTBSCRL, "version", "unsupported version %d: SET CRLs are v2", version+1)
	}
	var innerAlg cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typTBSCRL, "signature", "malformed AlgorithmIdentifier")
	}
	// As in certificates, the signed copy must equal the outer one.
	var outer cryptobyte.Builder
	alg.Marshal(&outer)
	if ob, err := outer.Bytes(); err != nil || !bytes.Equal(ob, innerAlg) {
		return nil, der.Errorf(typTBSCRL, "signature", "differs from CertificateList.signatureAlgorithm")
	}
	if c.RawIssuer, c.Issuer, err = readName(&tbs, "issuer"); err != nil {
		return nil, der.Wrap(typTBSCRL, "issuer", err)
	}
	if c.ThisUpdate, err = readCRLTime(&tbs, typTBSCRL, "thisUpdate"); err != nil {
		return nil, err
	}
	// nextUpdate is OPTIONAL in X.509 but RFC 5280 and SET's "current CRL"
	// need it: without it a CRL could never be known to be stale.
	if c.NextUpdate, err = readCRLTime(&tbs, typTBSCRL, "nextUpdate"); err != nil {
		return nil, err
	}
	if !c.ThisUpdate.Before(c.NextUpdate) {
		return nil, der.Errorf(typTBSCRL, "nextUpdate", "not after thisUpdate")
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var list cryptobyte.String
		tbs.ReadASN1(&list, cbasn1.SEQUENCE)
		if list.Empty() {
			return nil, der.Errorf(typTBSCRL, "revokedCertificates", "present but empty (RFC 5280 5.1.2.6)")
		}
		seen := map[string]bool{}
		for !list.Empty() {
			r, err := readRevoked(&list)
			if err != nil {
				return nil, err
			}
			if seen[r.Serial.String()] {
				return nil, der.Errorf("RevokedCertificate", "userCertificate", "serial %x listed twice", r.Serial)
			}
			seen[r.Serial.String()] = true
			c.Revoked = append(c.Revoked, r)
		}
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, explicit(0)) {
		return nil, der.Errorf(typTBSCRL, "crlExtensions", "malformed [0]")
	}
	if !tbs.Empty() {
		return nil, der.Wrap(typTBSCRL, "", der.ErrTrailingData)
	}
	if !hasExts {
		return nil, der.Errorf(typTBSCRL, "crlExtensions", "missing: SET CRLs carry cRLNumber and authorityKeyIdentifier")
	}
	if c.Extensions, err = readExtensions(exts, typTBSCRL, "crlExtensions"); err != nil {
		return nil, err
	}
	for _, e := range c.Extensions {
		if err := c.applyExtension(e); err != nil {
			return nil, err
		}
	}
	if c.Number == nil {
		return nil, der.Errorf(typTBSCRL, "cRLNumber", "missing")
	}
	if c.AuthorityCertSerial == nil {
		return nil, der.Errorf(typTBSCRL, "authorityKeyIdentifier", "missing")
	}
	return c, nil
}

func (c *CRL) applyExtension(e Extension) error {
	switch {
	case e.ID.Equal(OIDExtCRLNumber):
		v := cryptobyte.String(e.Value)
		n := new(big.Int)
		if !v.ReadASN1Integer(n) || !v.Empty() || n.Sign() < 0 || n.BitLen() > maxSerialBits {
			return der.Errorf("CRLNumber", "", "want INTEGER 0..2^159")
		}
		c.Number = n
	case e.ID.Equal(OIDExtAuthorityKeyID):
		// Reuse the certificate decoder: the AKI has one syntax.
		var tmp Certificate
		if err := tmp.parseAKI(cryptobyte.String(e.Value)); err != nil {
			return err
		}
		if tmp.AuthorityKeyID != nil || tmp.AuthorityCertSerial == nil {
			return der.Errorf("AuthorityKeyIdentifier", "", "SET form is authorityCertIssuer and authorityCertSerialNumber only")
		}
		c.AuthorityCertIssuer, c.AuthorityCertSerial = tmp.AuthorityCertIssuer, tmp.AuthorityCertSerial
	default:
		if e.Critical {
			return der.Errorf(typTBSCRL, "crlExtensions", "unhandled critical extension %v: %w", e.ID, ErrUnhandledCritical)
		}
	}
	return nil
}

func readRevoked(list *cryptobyte.String) (RevokedCertificate, error) {
	const typ = "RevokedCertificate"
	var r RevokedCertificate
	var s cryptobyte.String
	if !list.ReadASN1(&s, cbasn1.SEQUENCE) {
		return r, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	r.Serial = new(big.Int)
	if !s.ReadASN1Integer(r.Serial) || r.Serial.Sign() < 0 {
		return r, der.Errorf(typ, "userCertificate", "malformed INTEGER")
	}
	var err error
	if r.RevocationTime, err = readCRLTime(&s, typ, "revocationDate"); err != nil {
		return r, err
	}
	if s.Empty() {
		return r, nil
	}
	var exts cryptobyte.String
	if !s.ReadASN1Element(&exts, cbasn1.SEQUENCE) || !s.Empty() {
		return r, der.Errorf(typ, "crlEntryExtensions", "malformed")
	}
	list2, err := readExtensions(exts, typ, "crlEntryExtensions")
	if err != nil {
		return r, err
	}
	for _, e := range list2 {
		switch {
		case e.ID.Equal(OIDExtReasonCode):
			v := cryptobyte.String(e.Value)
			var code int
			if !v.ReadASN1Enum(&code) || !v.Empty() || !CRLReason(code).valid() {
				return r, der.Errorf("CRLReason", "", "want ENUMERATED 0..10 except 7")
			}
			r.Reason = CRLReason(code)
		case e.Critical:
			return r, der.Errorf(typ, "crlEntryExtensions", "unhandled critical extension %v: %w", e.ID, ErrUnhandledCritical)
		}
	}
	return r, nil
}

// readExtensions decodes the contents of an Extensions SEQUENCE OF
// (exts holds the whole SEQUENCE element): at least one, no duplicates,
// critical FALSE never encoded.
func readExtensions(exts cryptobyte.String, typ, field string) ([]Extension, error) {
	var seq cryptobyte.String
	if !exts.ReadASN1(&seq, cbasn1.SEQUENCE) || !exts.Empty() {
		return nil, der.Errorf(typ, field, "malformed SEQUENCE OF")
	}
	if seq.Empty() {
		return nil, der.Errorf(typ, field, "empty SEQUENCE OF")
	}
	var out []Extension
	for !seq.Empty() {
		var e cryptobyte.String
		var ext Extension
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&ext.ID) {
			return nil, der.Errorf("Extension", "extnID", "malformed")
		}
		if e.PeekASN1Tag(cbasn1.BOOLEAN) {
			var crit cryptobyte.String
			e.ReadASN1(&crit, cbasn1.BOOLEAN)
			v, err := der.Boolean(crit)
			if err != nil {
				return nil, der.Wrap("Extension", "critical", err)
			}
			if !v {
				return nil, der.Errorf("Extension", "critical", "DEFAULT FALSE encoded: %w", der.ErrNonMinimal)
			}
			ext.Critical = true
		}
		if !e.ReadASN1Bytes(&ext.Value, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, der.Errorf("Extension", "extnValue", "malformed OCTET STRING")
		}
		for _, prev := range out {
			if prev.ID.Equal(ext.ID) {
				return nil, der.Errorf("Extension", "extnID", "duplicate %v", ext.ID)
			}
		}
		out = append(out, ext)
	}
	return out, nil
}

// readCRLTime reads a Time (UTCTime through 2049, GeneralizedTime after,
// RFC 5280 4.1.2.5) that must be in UTC.
func readCRLTime(s *cryptobyte.String, typ, field string) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, der.Errorf(typ, field, "malformed UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, der.Errorf(typ, field, "malformed GeneralizedTime")
		}
		if t.Year() < 2050 {
			return t, der.Errorf(typ, field, "GeneralizedTime before 2050: %w", der.ErrInvalid)
		}
	default:
		return t, der.Errorf(typ, field, "want UTCTime or GeneralizedTime")
	}
	if _, off := t.Zone(); off != 0 {
		return t, der.Errorf(typ, field, "time not in UTC (Z): %w", der.ErrInvalid)
	}
	return t.UTC(), nil
}

// CheckSignatureFrom checks that issuer issued c: the issuer name, the
// authorityKeyIdentifier (issuer's issuer and serial), issuer's right to
// sign CRLs, and the signature over the raw TBSCertList. Failures wrap
// ErrBadCRL.
func (c *CRL) CheckSignatureFrom(issuer *Certificate) error {
	if !bytes.Equal(c.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("%w: CRL issuer %q is not %v", ErrBadCRL, c.Issuer.CommonName, issuer)
	}
	if c.AuthorityCertSerial == nil || c.AuthorityCertSerial.Cmp(issuer.SerialNumber) != 0 ||
		!bytes.Equal(c.AuthorityCertIssuer, issuer.RawIssuer) {
		return fmt.Errorf("%w: CRL authorityKeyIdentifier does not name %v", ErrBadCRL, issuer)
	}
	if !issuer.IsCA || issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return fmt.Errorf("%w: %v may not sign CRLs", ErrBadCRL, issuer)
	}
	if err := verifySignature(issuer, c.SignatureAlgorithm, c.RawTBSCertList, c.Signature); err != nil {
		return fmt.Errorf("%w: CRL %v of %v: bad signature: %v", ErrBadCRL, c.Number, issuer, err)
	}
	return nil
}

// CurrentAt reports whether now lies in [ThisUpdate, NextUpdate).
func (c *CRL) CurrentAt(now time.Time) bool {
	return !now.Before(c.ThisUpdate) && now.Before(c.NextUpdate)
}

// Lookup returns the entry for serial, or nil.
func (c *CRL) Lookup(serial *big.Int) *RevokedCertificate {
	for i := range c.Revoked {
		if c.Revoked[i].Serial.Cmp(serial) == 0 {
			return &c.Revoked[i]
		}
	}
	return nil
}

// checkRevocation checks each certificate of chain (leaf first, root last)
// against the CRLs of its issuer in opts.CRLs. Only CRLs that verify
// against the issuer count; others are ignored (a forged CRL can neither
// revoke nor vouch). A revocation is honoured from any authentic CRL,
// current or not, because revocation is permanent; RequireCRLs then
// demands a current one from every issuer. Revocations are reported before
// missing CRLs, so a revoked intermediate is ErrRevoked even when another
// CRL is missing.
func (opts *VerifyOptions) checkRevocation(chain []*Certificate) error {
	current := make([]bool, len(chain))
	why := make([]error, len(chain))
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, crl := range opts.CRLs {
			if crl == nil || !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
				continue
			}
			if err := crl.CheckSignatureFrom(issuer); err != nil {
				why[i] = err
				continue
			}
			if r := crl.Lookup(cert.SerialNumber); r != nil {
				return fmt.Errorf("%w: %v revoked at %v (reason %d) by CRL %v of %v", ErrRevoked, cert,
					r.RevocationTime.Format(time.RFC3339), r.Reason, crl.Number, issuer)
			}
			if crl.CurrentAt(opts.Now) {
				current[i] = true
			} else {
				why[i] = fmt.Errorf("CRL %v valid %v to %v", crl.Number,
					crl.ThisUpdate.Format(time.RFC3339), crl.NextUpdate.Format(time.RFC3339))
			}
		}
	}
	if b := opts.BrandCRLIdentifier; b != nil {
		if err := b.checkChain(chain, opts.CRLs, opts.Now); err != nil {
			return err
		}
	}
	if !opts.RequireCRLs {
		return nil
	}
	for i := 0; i+1 < len(chain); i++ {
		if current[i] {
			continue
		}
		if why[i] != nil {
			return fmt.Errorf("%w: from %v at %v (%v)", ErrNoCRL, chain[i+1], opts.Now.UTC().Format(time.RFC3339), why[i])
		}
		return fmt.Errorf("%w: from %v at %v", ErrNoCRL, chain[i+1], opts.Now.UTC().Format(time.RFC3339))
	}
	return nil
}

// thumbHash picks the hash of a thumbprint by its length: SHA-1 (set1) or
// SHA-256.
func thumbHash(thumb []byte) (crypto.Hash, bool) {
	h, err := hashFromDigestLen(len(thumb))
	return h, err == nil
}

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
	sig, err := pkcs7.SignMessage(rand, a.Key, alg, tbs)
	if err != nil {
		return nil, fmt.Errorf("pki: BCI: signing: %w", err)
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		alg.Marshal(b)
		b.AddASN1BitString(sig)
	})
	return cb.Bytes()
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

// Verify checks that brandCA, a brand CA certificate allowed to sign
// revocation information, signed b. It does not check b's validity
// period: see CurrentAt. Failures wrap ErrBadCRL.
func (b *BrandCRLIdentifier) Verify(brandCA *Certificate) error {
	if brandCA.CertType&CertTypeBCA == 0 || !brandCA.IsCA || brandCA.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return fmt.Errorf("%w: BCI signer %v is not a brand CA able to sign revocation lists", ErrBadCRL, brandCA)
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
