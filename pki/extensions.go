package pki

import (
	"crypto"
	"encoding/asn1"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// Extension OIDs. The SET private extensions live under id-set-certExt
// 2.23.42.7; the rest are the standard X.509 v3 ones SET's ExtensionSet lists.
var (
	OIDExtHashedRootKey    = asn1.ObjectIdentifier{2, 23, 42, 7, 0}
	OIDExtCertificateType  = asn1.ObjectIdentifier{2, 23, 42, 7, 1}
	OIDExtMerchantData     = asn1.ObjectIdentifier{2, 23, 42, 7, 2}
	OIDExtCardCertRequired = asn1.ObjectIdentifier{2, 23, 42, 7, 3}
	OIDExtTunneling        = asn1.ObjectIdentifier{2, 23, 42, 7, 4}
	OIDExtSETExtensions    = asn1.ObjectIdentifier{2, 23, 42, 7, 5}
	OIDExtSETQualifier     = asn1.ObjectIdentifier{2, 23, 42, 7, 6}

	OIDExtSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	OIDExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	OIDExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	OIDExtAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}

	// OIDRootKeyThumb is the content type of the DigestedData inside
	// hashedRootKey (id-set-rootKeyThumb).
	OIDRootKeyThumb = asn1.ObjectIdentifier{2, 23, 42, 3, 0, 0}
)

// CertType is the SET certificateType extension: a BIT STRING whose named
// bits, in cryptlib's order, say which SET role a certificate serves. The
// Go value uses bit i for named bit i, as cryptlib's flag constants do.
type CertType uint16

const (
	CertTypeCard CertType = 1 << iota // cardholder
	CertTypeMer                       // merchant
	CertTypePgwy                      // payment gateway
	CertTypeCCA                       // cardholder CA
	CertTypeMCA                       // merchant CA
	CertTypePCA                       // payment gateway CA
	CertTypeGCA                       // geo-political CA
	CertTypeBCA                       // brand CA
	CertTypeRCA                       // root CA
	CertTypeAcq                       // acquirer

	certTypeBits = 10
)

var certTypeNames = [certTypeBits]string{"card", "mer", "pgwy", "cca", "mca", "pca", "gca", "bca", "rca", "acq"}

func (t CertType) String() string {
	if t == 0 {
		return "none"
	}
	var names []string
	for i := range certTypeBits {
		if t&(1<<i) != 0 {
			names = append(names, certTypeNames[i])
		}
	}
	if t>>certTypeBits != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint16(t>>certTypeBits<<certTypeBits)))
	}
	return strings.Join(names, "|")
}

// appendNamedBits encodes v as the contents of a DER BIT STRING with a
// named-bit list: bit i of v is named bit i, trailing zero bits are dropped
// (X.690 11.2.2), so the empty set is a lone 0x00.
func appendNamedBits(b *cryptobyte.Builder, v uint16) {
	n := bits.Len16(v) // number of significant bits
	out := make([]byte, 1+(n+7)/8)
	for i := range n {
		if v&(1<<i) != 0 {
			out[1+i/8] |= 0x80 >> (i % 8)
		}
	}
	if n%8 != 0 {
		out[0] = byte(8 - n%8)
	}
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(out) })
}

// parseNamedBits decodes a named-bit-list BIT STRING (the whole element).
// Trailing zero bits are not DER and are rejected; so are bits past max.
func parseNamedBits(b []byte, max int) (uint16, error) {
	s := cryptobyte.String(b)
	var c cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.BIT_STRING) || !s.Empty() || len(c) == 0 {
		return 0, fmt.Errorf("malformed BIT STRING: %w", der.ErrInvalid)
	}
	unused := int(c[0])
	data := c[1:]
	if unused > 7 || (len(data) == 0 && unused != 0) {
		return 0, fmt.Errorf("BIT STRING unused bits: %w", der.ErrInvalid)
	}
	if len(data) == 0 {
		return 0, nil
	}
	last := data[len(data)-1]
	if last&(1<<unused-1) != 0 {
		return 0, fmt.Errorf("BIT STRING padding bits set: %w", der.ErrNonMinimal)
	}
	if last&(1<<unused) == 0 {
		return 0, fmt.Errorf("BIT STRING trailing zero bits: %w", der.ErrNonMinimal)
	}
	n := len(data)*8 - unused
	if n > max {
		return 0, fmt.Errorf("BIT STRING bit %d unknown: %w", n-1, der.ErrInvalid)
	}
	var v uint16
	for i := range n {
		if data[i/8]&(0x80>>(i%8)) != 0 {
			v |= 1 << i
		}
	}
	return v, nil
}

// MerchantData is the merchantData extension carried in merchant
// certificates (cryptlib's description of the SET syntax):
//
//	MerchantData ::= SEQUENCE {
//	  merID          SETString SIZE(1..30),
//	  merAcquirerBIN NumericString SIZE(6),
//	  merNameSeq     SEQUENCE OF MerNames,
//	  merCountry     INTEGER (1..999),
//	  merAuthFlag    BOOLEAN DEFAULT TRUE }
//
// MerAuthFlag has no DEFAULT in Go: set it to true for SET's default.
type MerchantData struct {
	MerID          string
	MerAcquirerBIN string
	MerNames       []MerName
	MerCountry     int
	MerAuthFlag    bool
}

// MerName is one language's rendering of the merchant's name and address.
// StateProvince and PostalCode are optional: empty means absent.
type MerName struct {
	Language      string // VisibleString SIZE(1..35)
	Name          string
	City          string
	StateProvince string
	PostalCode    string
	CountryName   string
}

// addSETString encodes a SETString CHOICE: VisibleString when every
// character fits, BMPString otherwise.
func addSETString(b *cryptobyte.Builder, field, s string, max int) {
	if n := utf8.RuneCountInString(s); n < 1 || n > max {
		b.SetError(der.Errorf("MerchantData", field, "length %d outside 1..%d", n, max))
		return
	}
	if isVisible(s) {
		b.AddASN1(cbasn1.Tag(26), func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
		return
	}
	enc, err := der.AppendBMPString(nil, s)
	if err != nil {
		b.SetError(der.Wrap("MerchantData", field, err))
		return
	}
	b.AddASN1(cbasn1.Tag(30), func(b *cryptobyte.Builder) { b.AddBytes(enc) })
}

func isVisible(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func readSETString(s *cryptobyte.String, field string, max int) (string, error) {
	var c cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&c, &tag) {
		return "", der.Errorf("MerchantData", field, "malformed SETString")
	}
	var out string
	switch tag {
	case cbasn1.Tag(26):
		if !isVisible(string(c)) {
			return "", der.Errorf("MerchantData", field, "VisibleString: %w", der.ErrInvalid)
		}
		out = string(c)
	case cbasn1.Tag(30):
		v, err := der.BMPString(c)
		if err != nil {
			return "", der.Wrap("MerchantData", field, err)
		}
		out = v
	default:
		return "", der.Errorf("MerchantData", field, "SETString: unexpected tag %d: %w", tag, der.ErrUnexpected)
	}
	if n := utf8.RuneCountInString(out); n < 1 || n > max {
		return "", der.Errorf("MerchantData", field, "length %d outside 1..%d", n, max)
	}
	return out, nil
}

func (md *MerchantData) marshal(b *cryptobyte.Builder) {
	if len(md.MerAcquirerBIN) != 6 || !isDigits(md.MerAcquirerBIN) {
		b.SetError(der.Errorf("MerchantData", "merAcquirerBIN", "want 6 digits"))
		return
	}
	if md.MerCountry < 1 || md.MerCountry > 999 {
		b.SetError(der.Errorf("MerchantData", "merCountry", "%d outside 1..999", md.MerCountry))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addSETString(b, "merID", md.MerID, 30)
		b.AddASN1(cbasn1.Tag(18), func(b *cryptobyte.Builder) { b.AddBytes([]byte(md.MerAcquirerBIN)) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, n := range md.MerNames {
				n.marshal(b)
			}
		})
		b.AddASN1Int64(int64(md.MerCountry))
		if !md.MerAuthFlag { // DEFAULT TRUE: DER omits the default
			b.AddASN1Boolean(false)
		}
	})
}

func explicit(n int) cbasn1.Tag { return cbasn1.Tag(n).Constructed().ContextSpecific() }

func (n MerName) marshal(b *cryptobyte.Builder) {
	if l := len(n.Language); l < 1 || l > 35 || !isVisible(n.Language) {
		b.SetError(der.Errorf("MerNames", "language", "want 1..35 visible characters"))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(n.Language)) })
		opt := func(tag int, field, v string, max int, optional bool) {
			if optional && v == "" {
				return
			}
			b.AddASN1(explicit(tag), func(b *cryptobyte.Builder) { addSETString(b, field, v, max) })
		}
		opt(1, "name", n.Name, 50, false)
		opt(2, "city", n.City, 50, false)
		opt(3, "stateProvince", n.StateProvince, 50, true)
		opt(4, "postalCode", n.PostalCode, 14, true)
		opt(5, "countryName", n.CountryName, 50, false)
	})
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseMerchantData(v []byte) (*MerchantData, error) {
	in := cryptobyte.String(v)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, der.Errorf("MerchantData", "", "malformed SEQUENCE")
	}
	md := &MerchantData{MerAuthFlag: true}
	var err error
	if md.MerID, err = readSETString(&s, "merID", 30); err != nil {
		return nil, err
	}
	var bin cryptobyte.String
	if !s.ReadASN1(&bin, cbasn1.Tag(18)) || len(bin) != 6 || !isDigits(string(bin)) {
		return nil, der.Errorf("MerchantData", "merAcquirerBIN", "want NumericString of 6 digits")
	}
	md.MerAcquirerBIN = string(bin)
	var names cryptobyte.String
	if !s.ReadASN1(&names, cbasn1.SEQUENCE) {
		return nil, der.Errorf("MerchantData", "merNameSeq", "malformed SEQUENCE OF")
	}
	for !names.Empty() {
		n, err := parseMerName(&names)
		if err != nil {
			return nil, err
		}
		md.MerNames = append(md.MerNames, n)
	}
	var country int64
	if !s.ReadASN1Int64WithTag(&country, cbasn1.INTEGER) || country < 1 || country > 999 {
		return nil, der.Errorf("MerchantData", "merCountry", "want INTEGER 1..999")
	}
	md.MerCountry = int(country)
	if !s.Empty() {
		var flag cryptobyte.String
		if !s.ReadASN1(&flag, cbasn1.BOOLEAN) {
			return nil, der.Errorf("MerchantData", "merAuthFlag", "malformed BOOLEAN")
		}
		f, err := der.Boolean(flag)
		if err != nil {
			return nil, der.Wrap("MerchantData", "merAuthFlag", err)
		}
		if f {
			return nil, der.Errorf("MerchantData", "merAuthFlag", "DEFAULT value encoded: %w", der.ErrNonMinimal)
		}
		md.MerAuthFlag = false
	}
	if !s.Empty() {
		return nil, der.Wrap("MerchantData", "", der.ErrTrailingData)
	}
	return md, nil
}

func parseMerName(in *cryptobyte.String) (MerName, error) {
	var n MerName
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) {
		return n, der.Errorf("MerNames", "", "malformed SEQUENCE")
	}
	var lang cryptobyte.String
	if !s.ReadASN1(&lang, cbasn1.Tag(0).ContextSpecific()) || len(lang) < 1 || len(lang) > 35 || !isVisible(string(lang)) {
		return n, der.Errorf("MerNames", "language", "want [0] VisibleString SIZE(1..35)")
	}
	n.Language = string(lang)
	fields := []struct {
		tag      int
		name     string
		dst      *string
		max      int
		optional bool
	}{
		{1, "name", &n.Name, 50, false},
		{2, "city", &n.City, 50, false},
		{3, "stateProvince", &n.StateProvince, 50, true},
		{4, "postalCode", &n.PostalCode, 14, true},
		{5, "countryName", &n.CountryName, 50, false},
	}
	for _, f := range fields {
		var inner cryptobyte.String
		var present bool
		if !s.ReadOptionalASN1(&inner, &present, explicit(f.tag)) {
			return n, der.Errorf("MerNames", f.name, "malformed [%d]", f.tag)
		}
		if !present {
			if f.optional {
				continue
			}
			return n, der.Errorf("MerNames", f.name, "missing")
		}
		v, err := readSETString(&inner, f.name, f.max)
		if err != nil {
			return n, err
		}
		if !inner.Empty() {
			return n, der.Wrap("MerNames", f.name, der.ErrTrailingData)
		}
		*f.dst = v
	}
	if !s.Empty() {
		return n, der.Wrap("MerNames", "", der.ErrTrailingData)
	}
	return n, nil
}

// Root key thumbprints.
//
//	HashedRootKey ::= SEQUENCE { rootKeyThumbprint DigestedData }
//	DigestedData  ::= SEQUENCE { version INTEGER (0), digestAlgorithm,
//	                             contentInfo ContentInfo { rootKeyThumb },
//	                             digest OCTET STRING }
//
// The digest is over the DER of the root's SubjectPublicKeyInfo; the
// ContentInfo carries only the content type (detached content).

// RootKeyThumbprint is the digest hashedRootKey carries: h over the DER of
// the root's SubjectPublicKeyInfo.
func RootKeyThumbprint(rawSPKI []byte, h crypto.Hash) []byte {
	d := h.New()
	d.Write(rawSPKI)
	return d.Sum(nil)
}

// digestAlgorithm names h as SET's DigestedData does: SHA-1 with NULL
// parameters (as cryptlib's template writes it), SHA-256 with parameters
// absent (RFC 5754).
func digestAlgorithm(h crypto.Hash) (pkcs7.AlgorithmIdentifier, error) {
	switch h {
	case crypto.SHA1:
		return pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA1, Parameters: asn1.NullBytes}, nil
	case crypto.SHA256:
		return pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, nil
	}
	return pkcs7.AlgorithmIdentifier{}, fmt.Errorf("pki: unsupported digest %v", h)
}

func hashFromDigestLen(n int) (crypto.Hash, error) {
	switch n {
	case 20:
		return crypto.SHA1, nil
	case 32:
		return crypto.SHA256, nil
	}
	return 0, fmt.Errorf("pki: hashedRootKey digest of %d bytes: want SHA-1 (20) or SHA-256 (32)", n)
}

func marshalHashedRootKey(b *cryptobyte.Builder, digest []byte) {
	h, err := hashFromDigestLen(len(digest))
	if err != nil {
		b.SetError(err)
		return
	}
	alg, _ := digestAlgorithm(h)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			alg.Marshal(b)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(OIDRootKeyThumb)
			})
			b.AddASN1OctetString(digest)
		})
	})
}

func parseHashedRootKey(v []byte) ([]byte, crypto.Hash, error) {
	const typ = "HashedRootKey"
	in := cryptobyte.String(v)
	var outer, dd cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, 0, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	if !outer.ReadASN1(&dd, cbasn1.SEQUENCE) || !outer.Empty() {
		return nil, 0, der.Errorf(typ, "rootKeyThumbprint", "malformed DigestedData")
	}
	var version int64
	if !dd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, 0, der.Errorf("DigestedData", "version", "malformed INTEGER")
	}
	if version != 0 {
		return nil, 0, der.Errorf("DigestedData", "version", "unknown version %d", version)
	}
	alg, err := pkcs7.ReadAlgorithmIdentifier(&dd)
	if err != nil {
		return nil, 0, der.Wrap("DigestedData", "digestAlgorithm", err)
	}
	var h crypto.Hash
	switch {
	case alg.Algorithm.Equal(pkcs7.OIDSHA1):
		h = crypto.SHA1
	case alg.Algorithm.Equal(pkcs7.OIDSHA256):
		h = crypto.SHA256
	default:
		return nil, 0, der.Errorf("DigestedData", "digestAlgorithm", "unsupported %v", alg.Algorithm)
	}
	if alg.Parameters != nil && string(alg.Parameters) != string(asn1.NullBytes) {
		return nil, 0, der.Errorf("DigestedData", "digestAlgorithm", "unexpected parameters")
	}
	ci, err := pkcs7.ReadContentInfo(&dd)
	if err != nil {
		return nil, 0, der.Wrap("DigestedData", "contentInfo", err)
	}
	if !ci.ContentType.Equal(OIDRootKeyThumb) || ci.Content != nil {
		return nil, 0, der.Errorf("DigestedData", "contentInfo", "want detached rootKeyThumb, got %v", ci.ContentType)
	}
	var digest []byte
	if !dd.ReadASN1Bytes(&digest, cbasn1.OCTET_STRING) {
		return nil, 0, der.Errorf("DigestedData", "digest", "malformed OCTET STRING")
	}
	if len(digest) != h.Size() {
		return nil, 0, der.Errorf("DigestedData", "digest", "%d bytes for %v", len(digest), h)
	}
	if !dd.Empty() {
		return nil, 0, der.Wrap("DigestedData", "", der.ErrTrailingData)
	}
	return digest, h, nil
}
