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
	out, err := signed(rand, a.Key, alg, tbs)
	if err != nil {
		return nil, fmt.Errorf("pki: CRL: signing: %w", err)
	}
	return out, nil
}

const (
	typCRL    = "CertificateList"
	typTBSCRL = "TBSCertList"
)

// signed signs tbs with key and returns SEQUENCE { tbs,
// signatureAlgorithm, signature BIT STRING }, the SIGNED layout of
// certificates, CRLs and BrandCRLIdentifier that readSigned reads.
func signed(rand io.Reader, key crypto.Signer, alg pkcs7.AlgorithmIdentifier, tbs []byte) ([]byte, error) {
	sig, err := pkcs7.SignMessage(rand, key, alg, tbs)
	if err != nil {
		return nil, err
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		alg.Marshal(b)
		b.AddASN1BitString(sig)
	})
	return cb.Bytes()
}

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
