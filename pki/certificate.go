// Package pki is SET's certificate layer: the X.509 v3 profile with SET's
// private extensions, building and parsing certificates with our own
// strict DER code, the CA hierarchy Root → Brand → CCA / MCA / PCA,
// issuing end-entity certificates, chain validation and thumbprints.
//
// Certificates are built and parsed here rather than with crypto/x509
// because SET needs SHA-1 RSA (set1), ML-DSA (pq) and exact control of
// extension criticality, none of which crypto/x509 offers together.
package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// ErrUnsupportedKey is wrapped when a SubjectPublicKeyInfo names a key
// algorithm this package does not understand.
var ErrUnsupportedKey = errors.New("pki: unsupported public key algorithm")

// Extension is one certificate extension as it appears on the wire.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte // the contents of extnValue
}

// Certificate is a decoded X.509 v3 certificate with SET's extensions.
// The Raw fields are slices of the input; signatures and thumbprints are
// computed over them, never over a re-encoding.
type Certificate struct {
	Raw                     []byte // the whole certificate
	RawTBSCertificate       []byte
	RawSubject              []byte
	RawIssuer               []byte
	RawSubjectPublicKeyInfo []byte

	SerialNumber        *big.Int
	Subject, Issuer     pkix.Name // decoded for display and matching by humans
	NotBefore, NotAfter time.Time

	// PublicKey is *rsa.PublicKey, *ecdsa.PublicKey (also for P-256 ECDH
	// key-exchange certificates: call its ECDH method) or *mldsa65.PublicKey.
	PublicKey          crypto.PublicKey
	SignatureAlgorithm pkcs7.AlgorithmIdentifier
	Signature          []byte

	IsCA       bool
	MaxPathLen int // -1 when basicConstraints has no pathLenConstraint
	KeyUsage   x509.KeyUsage

	SubjectKeyID []byte
	// AuthorityKeyIdentifier. SET's profile identifies the issuer by the
	// issuer's own issuer name and serial number rather than a key ID.
	AuthorityKeyID      []byte
	AuthorityCertIssuer []byte // DER Name from a directoryName; nil when absent
	AuthorityCertSerial *big.Int

	CertType         CertType
	MerchantData     *MerchantData
	CardCertRequired *bool
	HashedRootKey    []byte      // digest of the root's SubjectPublicKeyInfo
	HashedRootKeyAlg crypto.Hash // digest algorithm of HashedRootKey

	Extensions      []Extension // every extension, in certificate order
	UnknownCritical []asn1.ObjectIdentifier
}

const typCert = "Certificate"

// ParseCertificate decodes one DER certificate. It rejects trailing bytes,
// non-DER encodings, versions other than v3, duplicate extensions and keys
// it does not understand.
func ParseCertificate(b []byte) (*Certificate, error) {
	c := &Certificate{MaxPathLen: -1}
	input := cryptobyte.String(b)
	var certElem, cert cryptobyte.String
	if !input.ReadASN1Element(&certElem, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typCert, "", "malformed SEQUENCE")
	}
	if !input.Empty() {
		return nil, der.Wrap(typCert, "", der.ErrTrailingData)
	}
	// Check DER of the outer layers with the strict reader first, so a
	// long-form length that cryptobyte would accept cannot slip through.
	if _, err := der.Parse(certElem); err != nil {
		return nil, der.Wrap(typCert, "", err)
	}
	c.Raw = certElem
	certElem.ReadASN1(&cert, cbasn1.SEQUENCE)

	var tbsElem cryptobyte.String
	if !cert.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typCert, "tbsCertificate", "malformed SEQUENCE")
	}
	c.RawTBSCertificate = tbsElem
	outerAlg, err := pkcs7.ReadAlgorithmIdentifier(&cert)
	if err != nil {
		return nil, der.Wrap(typCert, "signatureAlgorithm", err)
	}
	c.SignatureAlgorithm = outerAlg
	var sig asn1.BitString
	if !cert.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 {
		return nil, der.Errorf(typCert, "signatureValue", "malformed BIT STRING")
	}
	c.Signature = sig.Bytes
	if !cert.Empty() {
		return nil, der.Wrap(typCert, "", der.ErrTrailingData)
	}
	if err := c.parseTBS(tbsElem); err != nil {
		return nil, err
	}
	return c, nil
}

const typTBS = "TBSCertificate"

func (c *Certificate) parseTBS(tbsElem cryptobyte.String) error {
	var tbs cryptobyte.String
	tbsElem.ReadASN1(&tbs, cbasn1.SEQUENCE)

	var vers cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&vers, &hasVersion, explicit(0)) {
		return der.Errorf(typTBS, "version", "malformed [0]")
	}
	var version int64
	if !hasVersion || !vers.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !vers.Empty() {
		return der.Errorf(typTBS, "version", "missing or malformed: SET requires v3")
	}
	if version != 2 {
		return der.Errorf(typTBS, "version", "unsupported version %d: SET requires v3", version+1)
	}
	c.SerialNumber = new(big.Int)
	if !tbs.ReadASN1Integer(c.SerialNumber) {
		return der.Errorf(typTBS, "serialNumber", "malformed INTEGER")
	}
	var innerAlgElem cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlgElem, cbasn1.SEQUENCE) {
		return der.Errorf(typTBS, "signature", "malformed AlgorithmIdentifier")
	}
	// The TBS copy of the algorithm must match the outer one byte for
	// byte (RFC 5280 4.1.1.2): otherwise an attacker could swap the outer.
	var outer cryptobyte.Builder
	c.SignatureAlgorithm.Marshal(&outer)
	if ob, err := outer.Bytes(); err != nil || string(ob) != string(innerAlgElem) {
		return der.Errorf(typTBS, "signature", "differs from Certificate.signatureAlgorithm")
	}

	var err error
	if c.RawIssuer, c.Issuer, err = readName(&tbs, "issuer"); err != nil {
		return err
	}
	var validity cryptobyte.String
	if !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return der.Errorf(typTBS, "validity", "malformed SEQUENCE")
	}
	if c.NotBefore, err = readTime(&validity, "notBefore"); err != nil {
		return err
	}
	if c.NotAfter, err = readTime(&validity, "notAfter"); err != nil {
		return err
	}
	if !validity.Empty() {
		return der.Wrap("Validity", "", der.ErrTrailingData)
	}
	if c.RawSubject, c.Subject, err = readName(&tbs, "subject"); err != nil {
		return err
	}
	var spki cryptobyte.String
	if !tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return der.Errorf(typTBS, "subjectPublicKeyInfo", "malformed SEQUENCE")
	}
	c.RawSubjectPublicKeyInfo = spki
	if c.PublicKey, err = ParsePublicKey(spki); err != nil {
		return err
	}
	if tbs.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific()) || tbs.PeekASN1Tag(cbasn1.Tag(2).ContextSpecific()) {
		return der.Errorf(typTBS, "issuerUniqueID", "unique identifiers are not used by SET")
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, explicit(3)) {
		return der.Errorf(typTBS, "extensions", "malformed [3]")
	}
	if !tbs.Empty() {
		return der.Wrap(typTBS, "", der.ErrTrailingData)
	}
	if hasExts {
		if err := c.parseExtensions(exts); err != nil {
			return err
		}
	}
	return nil
}

func readName(s *cryptobyte.String, field string) ([]byte, pkix.Name, error) {
	var name pkix.Name
	var raw cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return nil, name, der.Errorf(typTBS, field, "malformed Name")
	}
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdn); err != nil || len(rest) != 0 {
		return nil, name, der.Errorf(typTBS, field, "malformed Name: %v", err)
	}
	name.FillFromRDNSequence(&rdn)
	return raw, name, nil
}

func readTime(s *cryptobyte.String, field string) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, der.Errorf("Validity", field, "malformed UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, der.Errorf("Validity", field, "malformed GeneralizedTime")
		}
		// RFC 5280 4.1.2.5: dates through 2049 are UTCTime.
		if t.Year() < 2050 {
			return t, der.Errorf("Validity", field, "GeneralizedTime before 2050: %w", der.ErrInvalid)
		}
	default:
		return t, der.Errorf("Validity", field, "want UTCTime or GeneralizedTime")
	}
	return t, nil
}

// ParsePublicKey decodes a SubjectPublicKeyInfo: RSA, ECDSA P-256 (also
// used for ECDH P-256 key exchange) or ML-DSA-65.
func ParsePublicKey(spki []byte) (crypto.PublicKey, error) {
	const typ = "SubjectPublicKeyInfo"
	in := cryptobyte.String(spki)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	alg, err := pkcs7.ReadAlgorithmIdentifier(&s)
	if err != nil {
		return nil, der.Wrap(typ, "algorithm", err)
	}
	var key asn1.BitString
	if !s.ReadASN1BitString(&key) || key.BitLength%8 != 0 || !s.Empty() {
		return nil, der.Errorf(typ, "subjectPublicKey", "malformed BIT STRING")
	}
	switch {
	case alg.Algorithm.Equal(pkcs7.OIDRSAEncryption), alg.Algorithm.Equal(pkcs7.OIDECPublicKey):
		// The standard library's decoder is strict for these two.
		pub, err := x509.ParsePKIXPublicKey(spki)
		if err != nil {
			return nil, der.Wrap(typ, "subjectPublicKey", err)
		}
		if alg.Algorithm.Equal(pkcs7.OIDECPublicKey) && string(alg.Parameters) != string(curveP256Params) {
			return nil, der.Errorf(typ, "algorithm", "only named curve P-256: %w", ErrUnsupportedKey)
		}
		return pub, nil
	case alg.Algorithm.Equal(pkcs7.OIDMLDSA65):
		if alg.Parameters != nil {
			return nil, der.Errorf(typ, "algorithm", "ML-DSA parameters must be absent")
		}
		var pub mldsa65.PublicKey
		if err := pub.UnmarshalBinary(key.Bytes); err != nil {
			return nil, der.Wrap(typ, "subjectPublicKey", err)
		}
		return &pub, nil
	}
	return nil, der.Errorf(typ, "algorithm", "%v: %w", alg.Algorithm, ErrUnsupportedKey)
}

var curveP256Params = func() []byte {
	b, _ := asn1.Marshal(pkcs7.OIDCurveP256)
	return b
}()

func (c *Certificate) parseExtensions(exts cryptobyte.String) error {
	var seq cryptobyte.String
	if !exts.ReadASN1(&seq, cbasn1.SEQUENCE) || !exts.Empty() {
		return der.Errorf(typTBS, "extensions", "malformed SEQUENCE OF")
	}
	if seq.Empty() {
		return der.Errorf(typTBS, "extensions", "empty SEQUENCE OF (RFC 5280 requires one or more)")
	}
	for !seq.Empty() {
		var e cryptobyte.String
		var ext Extension
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&ext.ID) {
			return der.Errorf("Extension", "extnID", "malformed")
		}
		if e.PeekASN1Tag(cbasn1.BOOLEAN) {
			var crit cryptobyte.String
			e.ReadASN1(&crit, cbasn1.BOOLEAN)
			v, err := der.Boolean(crit)
			if err != nil {
				return der.Wrap("Extension", "critical", err)
			}
			if !v {
				return der.Errorf("Extension", "critical", "DEFAULT FALSE encoded: %w", der.ErrNonMinimal)
			}
			ext.Critical = true
		}
		if !e.ReadASN1Bytes(&ext.Value, cbasn1.OCTET_STRING) || !e.Empty() {
			return der.Errorf("Extension", "extnValue", "malformed OCTET STRING")
		}
		for _, prev := range c.Extensions {
			if prev.ID.Equal(ext.ID) {
				return der.Errorf("Extension", "extnID", "duplicate %v", ext.ID)
			}
		}
		c.Extensions = append(c.Extensions, ext)
		known, err := c.applyExtension(ext)
		if err != nil {
			return err
		}
		if !known && ext.Critical {
			c.UnknownCritical = append(c.UnknownCritical, ext.ID)
		}
	}
	return nil
}

// applyExtension decodes the extensions this package understands into c.
func (c *Certificate) applyExtension(ext Extension) (bool, error) {
	v := cryptobyte.String(ext.Value)
	switch {
	case ext.ID.Equal(OIDExtBasicConstraints):
		var s cryptobyte.String
		if !v.ReadASN1(&s, cbasn1.SEQUENCE) || !v.Empty() {
			return true, der.Errorf("BasicConstraints", "", "malformed SEQUENCE")
		}
		if s.PeekASN1Tag(cbasn1.BOOLEAN) {
			var b cryptobyte.String
			s.ReadASN1(&b, cbasn1.BOOLEAN)
			ca, err := der.Boolean(b)
			if err != nil {
				return true, der.Wrap("BasicConstraints", "cA", err)
			}
			if !ca {
				return true, der.Errorf("BasicConstraints", "cA", "DEFAULT FALSE encoded: %w", der.ErrNonMinimal)
			}
			c.IsCA = true
		}
		if !s.Empty() {
			var n int64
			if !s.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || n < 0 || n > 255 || !s.Empty() {
				return true, der.Errorf("BasicConstraints", "pathLenConstraint", "malformed")
			}
			if !c.IsCA {
				return true, der.Errorf("BasicConstraints", "pathLenConstraint", "present without cA")
			}
			c.MaxPathLen = int(n)
		}
	case ext.ID.Equal(OIDExtKeyUsage):
		ku, err := parseNamedBits(ext.Value, 9)
		if err != nil {
			return true, der.Wrap("KeyUsage", "", err)
		}
		c.KeyUsage = x509.KeyUsage(ku)
	case ext.ID.Equal(OIDExtSubjectKeyID):
		if !v.ReadASN1Bytes(&c.SubjectKeyID, cbasn1.OCTET_STRING) || !v.Empty() {
			return true, der.Errorf("SubjectKeyIdentifier", "", "malformed OCTET STRING")
		}
	case ext.ID.Equal(OIDExtAuthorityKeyID):
		return true, c.parseAKI(v)
	case ext.ID.Equal(OIDExtCertificateType):
		t, err := parseNamedBits(ext.Value, certTypeBits)
		if err != nil {
			return true, der.Wrap("CertificateType", "", err)
		}
		c.CertType = CertType(t)
	case ext.ID.Equal(OIDExtMerchantData):
		md, err := parseMerchantData(ext.Value)
		if err != nil {
			return true, err
		}
		c.MerchantData = md
	case ext.ID.Equal(OIDExtCardCertRequired):
		var b cryptobyte.String
		if !v.ReadASN1(&b, cbasn1.BOOLEAN) || !v.Empty() {
			return true, der.Errorf("CardCertRequired", "", "malformed BOOLEAN")
		}
		req, err := der.Boolean(b)
		if err != nil {
			return true, der.Wrap("CardCertRequired", "", err)
		}
		c.CardCertRequired = &req
	case ext.ID.Equal(OIDExtHashedRootKey):
		d, h, err := parseHashedRootKey(ext.Value)
		if err != nil {
			return true, err
		}
		c.HashedRootKey, c.HashedRootKeyAlg = d, h
	default:
		return false, nil
	}
	return true, nil
}

func (c *Certificate) parseAKI(v cryptobyte.String) error {
	const typ = "AuthorityKeyIdentifier"
	var s cryptobyte.String
	if !v.ReadASN1(&s, cbasn1.SEQUENCE) || !v.Empty() {
		return der.Errorf(typ, "", "malformed SEQUENCE")
	}
	var present bool
	if !s.ReadOptionalASN1OctetString(&c.AuthorityKeyID, &present, cbasn1.Tag(0).ContextSpecific()) {
		return der.Errorf(typ, "keyIdentifier", "malformed")
	}
	var names cryptobyte.String
	if !s.ReadOptionalASN1(&names, &present, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return der.Errorf(typ, "authorityCertIssuer", "malformed")
	}
	if present {
		// GeneralNames: we understand exactly one directoryName [4].
		var dn cryptobyte.String
		if !names.ReadASN1(&dn, explicit(4)) || !names.Empty() {
			return der.Errorf(typ, "authorityCertIssuer", "want one directoryName")
		}
		var name cryptobyte.String
		if !dn.ReadASN1Element(&name, cbasn1.SEQUENCE) || !dn.Empty() {
			return der.Errorf(typ, "authorityCertIssuer", "malformed Name")
		}
		c.AuthorityCertIssuer = name
	}
	if s.PeekASN1Tag(cbasn1.Tag(2).ContextSpecific()) {
		// cryptobyte's integer reader wants the universal tag: re-tag the
		// contents and let it apply DER's minimal-encoding rule.
		var raw cryptobyte.String
		s.ReadASN1(&raw, cbasn1.Tag(2).ContextSpecific())
		n, ok := parseInteger(raw)
		if !ok {
			return der.Errorf(typ, "authorityCertSerialNumber", "malformed INTEGER")
		}
		c.AuthorityCertSerial = n
	}
	if !s.Empty() {
		return der.Wrap(typ, "", der.ErrTrailingData)
	}
	if (c.AuthorityCertIssuer == nil) != (c.AuthorityCertSerial == nil) {
		return der.Errorf(typ, "", "authorityCertIssuer and authorityCertSerialNumber must appear together")
	}
	return nil
}

// parseInteger decodes INTEGER contents under DER's minimal-encoding rule.
func parseInteger(b []byte) (*big.Int, bool) {
	var bld cryptobyte.Builder
	bld.AddASN1(cbasn1.INTEGER, func(bb *cryptobyte.Builder) { bb.AddBytes(b) })
	enc, err := bld.Bytes()
	if err != nil {
		return nil, false
	}
	s := cryptobyte.String(enc)
	n := new(big.Int)
	if !s.ReadASN1Integer(n) {
		return nil, false
	}
	return n, true
}

// String names the certificate for logs and errors.
func (c *Certificate) String() string {
	return fmt.Sprintf("%q (%v, serial %x)", c.Subject.CommonName, c.CertType, c.SerialNumber)
}
