package pkcs7

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // SET 1997 (suite set1) digests with SHA-1
	_ "crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// ContentMode says how a SignedData or DigestedData carries its content.
// It is chosen by the cryptographic suite, never guessed from the content.
type ContentMode int

const (
	// ModePKCS7 is PKCS#7 v1.5 as SET 1997 uses it (suite set1): the
	// content is the DER of the SET type directly inside [0] EXPLICIT, and
	// the digest covers that element's contents octets only (PKCS#7 §9.3).
	ModePKCS7 ContentMode = iota + 1
	// ModeCMS is RFC 5652 (suites modern and pq): eContent is an OCTET
	// STRING holding the DER of the SET type, and the digest covers the
	// OCTET STRING's value, so other CMS stacks can check our bytes.
	ModeCMS
)

func (m ContentMode) String() string {
	switch m {
	case ModePKCS7:
		return "PKCS7"
	case ModeCMS:
		return "CMS"
	}
	return fmt.Sprintf("ContentMode(%d)", int(m))
}

// ErrDigestMismatch is wrapped when a content digest does not match the
// digest carried in a structure (DigestedData, or a SignerInfo's
// messageDigest attribute, which also wraps ErrSignature).
var ErrDigestMismatch = errors.New("pkcs7: digest mismatch")

// OIDSubjectKeyIdentifier is the X.509 subjectKeyIdentifier extension,
// matched against a SignerInfo sid of the [0] form.
var OIDSubjectKeyIdentifier = asn1.ObjectIdentifier{2, 5, 29, 14}

// Version numbers. PKCS#7 v1.5 fixes SignedData and SignerInfo at 1; RFC
// 5652 §5.1 makes SignedData 3 whenever eContentType is not id-data, which
// is always so for SET content types.
const (
	signedDataVersionPKCS7     = 1
	signedDataVersionCMS       = 3
	signerInfoVersionIssuerSN  = 1
	signerInfoVersionSubjectKI = 3
)

// DigestAlgorithmFor returns the digest AlgorithmIdentifier for h, with the
// parameters absent as RFC 5754 recommends. It returns the zero value for
// a hash this package does not support (HashForAlgorithm rejects that).
func DigestAlgorithmFor(h crypto.Hash) AlgorithmIdentifier {
	switch h {
	case crypto.SHA1:
		return AlgorithmIdentifier{Algorithm: OIDSHA1}
	case crypto.SHA256:
		return AlgorithmIdentifier{Algorithm: OIDSHA256}
	}
	return AlgorithmIdentifier{}
}

// HashForAlgorithm maps a digest AlgorithmIdentifier to its hash. The
// parameters must be absent or NULL and nothing else: RFC 3370 §2.1 (SHA-1)
// and RFC 5754 §2 (SHA-2) say implementations MUST accept both, and 1997
// encoders wrote NULL while RFC 5754 generates absent. Other parameters
// wrap ErrAlgorithmParameters.
func HashForAlgorithm(a AlgorithmIdentifier) (crypto.Hash, error) {
	var h crypto.Hash
	switch {
	case a.Algorithm.Equal(OIDSHA1):
		h = crypto.SHA1
	case a.Algorithm.Equal(OIDSHA256):
		h = crypto.SHA256
	default:
		return 0, fmt.Errorf("%w: digest %v", ErrUnsupportedAlgorithm, a.Algorithm)
	}
	if err := checkParameters(a, paramsNullOrAbsent); err != nil {
		return 0, err
	}
	return h, nil
}

// Signer is one party signing a SignedData.
type Signer struct {
	Key  crypto.Signer // RSA, ECDSA P-256 or ML-DSA-65
	Cert []byte        // the signer's certificate (DER); issuer and serial are taken from it
	Hash crypto.Hash   // digest algorithm: crypto.SHA1 (set1) or crypto.SHA256
}

// SignOptions controls the encoding Sign produces.
type SignOptions struct {
	Mode         ContentMode
	Detached     bool      // SET's SO{} operator: the content is omitted
	Certificates [][]byte  // certificate DERs for certificates [0] IMPLICIT SET
	CRLs         [][]byte  // CRL DERs for crls [1] IMPLICIT SET
	SigningTime  time.Time // zero: no signingTime attribute
}

// SignedData is a decoded PKCS#7 / CMS SignedData together with the
// ContentInfo that carried it.
type SignedData struct {
	Version          int
	DigestAlgorithms []AlgorithmIdentifier
	Mode             ContentMode // from the version: 1 is ModePKCS7, 3 is ModeCMS
	ContentType      asn1.ObjectIdentifier
	// Content is the DER of the SET type: in ModePKCS7 the whole element
	// inside [0] EXPLICIT, in ModeCMS the OCTET STRING's value. It is nil
	// when the content is detached.
	Content      []byte
	Certificates [][]byte // raw DER, in encoded order
	CRLs         [][]byte // raw DER, in encoded order
	SignerInfos  []SignerInfo
	Raw          []byte // the ContentInfo bytes decoded
}

// SignerInfo is one signer's part of a SignedData.
type SignerInfo struct {
	Version         int
	IssuerAndSerial IssuerAndSerialNumber // set when Version is 1
	SubjectKeyID    []byte                // set when Version is 3 (CMS sid [0])
	DigestAlgorithm AlgorithmIdentifier
	// SignedAttrs is the [0] IMPLICIT SET OF Attribute exactly as received,
	// tag byte 0xA0 included. The signature covers the same bytes with the
	// tag replaced by SET (0x31); Verify does that on a copy.
	SignedAttrs        []byte
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      []byte // the [1] IMPLICIT element as received; nil when absent

	// Decoded from SignedAttrs.
	MessageDigest   []byte
	AttrContentType asn1.ObjectIdentifier
	SigningTime     time.Time // zero when the attribute is absent

	Raw []byte // the SignerInfo encoding
}

// Sign builds a ContentInfo{signedData} over content, the DER of a SET type
// of type contentType, with one SignerInfo per signer. Every SignerInfo has
// signed attributes (contentType, messageDigest and, when opts.SigningTime
// is set, signingTime). As DER requires of a SET OF, the SignerInfos,
// digest algorithms, certificates and CRLs appear sorted by encoding, not
// in argument order.
func Sign(rand io.Reader, contentType asn1.ObjectIdentifier, content []byte, signers []Signer, opts SignOptions) ([]byte, error) {
	version, err := signedDataVersionFor(opts.Mode, contentType)
	if err != nil {
		return nil, err
	}
	if len(signers) == 0 {
		return nil, errors.New("pkcs7: Sign needs at least one signer")
	}
	encap, err := buildEncapContentInfo(opts.Mode, contentType, content, opts.Detached)
	if err != nil {
		return nil, err
	}
	for _, c := range opts.Certificates {
		if err := signedExpectSequence(c); err != nil {
			return nil, der.Wrap("SignedData", "certificates", err)
		}
	}
	for _, c := range opts.CRLs {
		if err := signedExpectSequence(c); err != nil {
			return nil, der.Wrap("SignedData", "crls", err)
		}
	}

	digests := make(map[crypto.Hash][]byte)
	var digestAlgs, signerInfos [][]byte
	for i, s := range signers {
		if s.Key == nil {
			return nil, fmt.Errorf("pkcs7: signer %d has no key", i)
		}
		dAlg := DigestAlgorithmFor(s.Hash)
		if _, err := HashForAlgorithm(dAlg); err != nil {
			return nil, fmt.Errorf("pkcs7: signer %d: %w", i, err)
		}
		sigAlg, err := SignatureAlgorithmFor(s.Key.Public(), s.Hash)
		if err != nil {
			return nil, fmt.Errorf("pkcs7: signer %d: %w", i, err)
		}
		ias, err := ParseCertificateIssuerAndSerial(s.Cert)
		if err != nil {
			return nil, fmt.Errorf("pkcs7: signer %d: %w", i, err)
		}
		digest, ok := digests[s.Hash]
		if !ok {
			digest, err = digestEncapContent(s.Hash, opts.Mode, content)
			if err != nil {
				return nil, err
			}
			digests[s.Hash] = digest
			var ab cryptobyte.Builder
			dAlg.Marshal(&ab)
			enc, err := ab.Bytes()
			if err != nil {
				return nil, err
			}
			digestAlgs = append(digestAlgs, enc)
		}
		attrs, err := marshalSignedAttrs(contentType, digest, opts.SigningTime)
		if err != nil {
			return nil, err
		}
		sig, err := SignMessage(rand, s.Key, sigAlg, attrs)
		if err != nil {
			return nil, fmt.Errorf("pkcs7: signer %d: %w", i, err)
		}
		attrs[0] = 0xa0 // the same SET, carried as [0] IMPLICIT

		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(signerInfoVersionIssuerSN)
			ias.Marshal(b)
			dAlg.Marshal(b)
			b.AddBytes(attrs)
			sigAlg.Marshal(b)
			b.AddASN1OctetString(sig)
		})
		si, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		signerInfos = append(signerInfos, si)
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(version))
		b.AddBytes(der.SetOf(digestAlgs))
		b.AddBytes(encap)
		if len(opts.Certificates) > 0 {
			b.AddBytes(signedImplicitSetOf(0, opts.Certificates))
		}
		if len(opts.CRLs) > 0 {
			b.AddBytes(signedImplicitSetOf(1, opts.CRLs))
		}
		b.AddBytes(der.SetOf(signerInfos))
	})
	sd, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return MarshalContentInfo(OIDSignedData, sd)
}

// signedDataVersionFor picks the SignedData version for a mode. id-data
// is refused in ModeCMS: RFC 5652 would make that version 1, which is how
// this package recognises ModePKCS7, and for id-data both modes digest
// the same bytes anyway.
func signedDataVersionFor(mode ContentMode, contentType asn1.ObjectIdentifier) (int, error) {
	switch mode {
	case ModePKCS7:
		return signedDataVersionPKCS7, nil
	case ModeCMS:
		if contentType.Equal(OIDData) {
			return 0, errors.New("pkcs7: ModeCMS with id-data content; use ModePKCS7")
		}
		return signedDataVersionCMS, nil
	}
	return 0, fmt.Errorf("pkcs7: unknown content mode %d", int(mode))
}

// signedImplicitSetOf encodes elems as a DER-sorted [n] IMPLICIT SET OF.
func signedImplicitSetOf(n uint32, elems [][]byte) []byte {
	set := der.SetOf(elems)
	set[0] = 0xa0 | byte(n)
	return set
}

func signedExpectSequence(b []byte) error {
	e, err := der.Parse(b)
	if err != nil {
		return err
	}
	return e.Expect(der.TagSequence)
}

// buildEncapContentInfo encodes the (encapsulated) ContentInfo of a
// SignedData or DigestedData.
func buildEncapContentInfo(mode ContentMode, contentType asn1.ObjectIdentifier, content []byte, detached bool) ([]byte, error) {
	var inner []byte
	switch mode {
	case ModePKCS7:
		// The content must be one DER element: it goes in as the ANY.
		e, err := der.Parse(content)
		if err != nil {
			return nil, der.Wrap("ContentInfo", "content", err)
		}
		if err := checkPKCS7ModeContent(contentType, e); err != nil {
			return nil, err
		}
		inner = e.Raw
	case ModeCMS:
		inner = der.Encode(der.TagOctetString, content)
	default:
		return nil, fmt.Errorf("pkcs7: unknown content mode %d", int(mode))
	}
	if detached {
		inner = nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(contentType)
		if inner != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(inner)
			})
		}
	})
	return b.Bytes()
}

// checkPKCS7ModeContent refuses an OCTET STRING as ModePKCS7 content
// unless the type is id-data. Otherwise a ModeCMS encoding with its version
// changed would read as ModePKCS7 with the same digest, and the two modes
// would no longer be told apart by their bytes alone. SET types are never
// OCTET STRINGs.
func checkPKCS7ModeContent(contentType asn1.ObjectIdentifier, e der.Element) error {
	if e.Tag.Class == der.ClassUniversal && e.Tag.Number == der.TagOctetString.Number && !contentType.Equal(OIDData) {
		return der.Errorf("ContentInfo", "content", "OCTET STRING content of type %v in PKCS#7 mode", contentType)
	}
	return nil
}

// readEncapContentInfo reads the (encapsulated) ContentInfo of a SignedData
// or DigestedData and returns the content as SignedData.Content defines it.
func readEncapContentInfo(s *cryptobyte.String, mode ContentMode, typ string) (asn1.ObjectIdentifier, []byte, error) {
	ci, err := ReadContentInfo(s)
	if err != nil {
		return nil, nil, der.Wrap(typ, "contentInfo", err)
	}
	if ci.Content == nil {
		return ci.ContentType, nil, nil
	}
	if mode == ModePKCS7 {
		e, err := der.Parse(ci.Content)
		if err != nil {
			return nil, nil, der.Wrap(typ, "content", err)
		}
		if err := checkPKCS7ModeContent(ci.ContentType, e); err != nil {
			return nil, nil, der.Wrap(typ, "content", err)
		}
		return ci.ContentType, ci.Content, nil
	}
	e, err := der.Parse(ci.Content)
	if err != nil {
		return nil, nil, der.Wrap(typ, "eContent", err)
	}
	if err := e.Expect(der.TagOctetString); err != nil {
		return nil, nil, der.Wrap(typ, "eContent", err)
	}
	return ci.ContentType, e.Contents, nil
}

// digestEncapContent computes the message digest of content as mode
// defines it.
func digestEncapContent(h crypto.Hash, mode ContentMode, content []byte) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("%w: hash %v", ErrUnsupportedAlgorithm, h)
	}
	msg := content
	switch mode {
	case ModePKCS7:
		// PKCS#7 §9.3: the identifier and length octets are not digested.
		e, err := der.Parse(content)
		if err != nil {
			return nil, der.Wrap("ContentInfo", "content", err)
		}
		msg = e.Contents
	case ModeCMS:
	default:
		return nil, fmt.Errorf("pkcs7: unknown content mode %d", int(mode))
	}
	d := h.New()
	d.Write(msg)
	return d.Sum(nil), nil
}

// marshalSignedAttrs returns the DER SET OF Attribute (tag 0x31) that a
// SignerInfo signs.
func marshalSignedAttrs(contentType asn1.ObjectIdentifier, digest []byte, signingTime time.Time) ([]byte, error) {
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) ([]byte, error) {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.Bytes()
	}
	ct, err := attr(OIDAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(contentType) })
	if err != nil {
		return nil, err
	}
	md, err := attr(OIDAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	if err != nil {
		return nil, err
	}
	attrs := [][]byte{ct, md}
	if !signingTime.IsZero() {
		tv, err := encodeSigningTime(signingTime)
		if err != nil {
			return nil, err
		}
		st, err := attr(OIDAttrSigningTime, func(b *cryptobyte.Builder) { b.AddBytes(tv) })
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, st)
	}
	return der.SetOf(attrs), nil
}

// encodeSigningTime encodes t as RFC 5652 §11.3 requires: UTCTime for
// 1950 through 2049, GeneralizedTime otherwise, whole seconds in UTC.
func encodeSigningTime(t time.Time) ([]byte, error) {
	t = t.UTC()
	switch y := t.Year(); {
	case y >= 1950 && y < 2050:
		return der.Encode(der.TagUTCTime, []byte(t.Format("060102150405Z"))), nil
	case y >= 0 && y <= 9999:
		return der.Encode(der.TagGeneralizedTime, []byte(t.Format("20060102150405Z"))), nil
	}
	return nil, fmt.Errorf("pkcs7: signing time %v out of range", t)
}

// parseSigningTime decodes a DER UTCTime or GeneralizedTime. Only the
// canonical forms are accepted (seconds present, "Z", no fraction): the
// lenient time parsers would let one instant have several encodings.
func parseSigningTime(e der.Element) (time.Time, error) {
	c := e.Contents
	var year int
	var rest []byte
	switch e.Tag {
	case der.TagUTCTime:
		if len(c) != 13 {
			return time.Time{}, fmt.Errorf("UTCTime %q: %w", c, der.ErrInvalid)
		}
		yy, ok := signedTimeDigits(c[:2])
		if !ok {
			return time.Time{}, fmt.Errorf("UTCTime %q: %w", c, der.ErrInvalid)
		}
		year = 2000 + yy
		if yy >= 50 {
			year = 1900 + yy
		}
		rest = c[2:]
	case der.TagGeneralizedTime:
		if len(c) != 15 {
			return time.Time{}, fmt.Errorf("GeneralizedTime %q: %w", c, der.ErrInvalid)
		}
		yyyy, ok := signedTimeDigits(c[:4])
		if !ok {
			return time.Time{}, fmt.Errorf("GeneralizedTime %q: %w", c, der.ErrInvalid)
		}
		year = yyyy
		rest = c[4:]
	default:
		return time.Time{}, fmt.Errorf("signingTime: got %s: %w", e.Tag, der.ErrUnexpected)
	}
	var f [5]int
	for i := range f {
		v, ok := signedTimeDigits(rest[2*i : 2*i+2])
		if !ok {
			return time.Time{}, fmt.Errorf("time %q: %w", c, der.ErrInvalid)
		}
		f[i] = v
	}
	if rest[10] != 'Z' {
		return time.Time{}, fmt.Errorf("time %q: not UTC: %w", c, der.ErrInvalid)
	}
	t := time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, time.UTC)
	// time.Date normalises out-of-range fields; a changed field means the
	// encoding named no real instant (Feb 30, hour 24, ...).
	if t.Year() != year || int(t.Month()) != f[0] || t.Day() != f[1] || t.Hour() != f[2] || t.Minute() != f[3] || t.Second() != f[4] {
		return time.Time{}, fmt.Errorf("time %q: %w", c, der.ErrInvalid)
	}
	if e.Tag == der.TagGeneralizedTime && year >= 1950 && year < 2050 {
		return time.Time{}, fmt.Errorf("GeneralizedTime for %d, want UTCTime: %w", year, der.ErrInvalid)
	}
	return t, nil
}

func signedTimeDigits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// ParseSignedData decodes a ContentInfo holding a SignedData. It is strict:
// DER only, SET OF order checked (digest algorithms, certificates, CRLs,
// signer infos, attributes), unknown versions rejected, and every
// SignerInfo must carry signed attributes with exactly one contentType and
// one messageDigest.
func ParseSignedData(contentInfo []byte) (*SignedData, error) {
	if err := checkDERInput(contentInfo, "SignedData"); err != nil {
		return nil, err
	}
	ci, err := ParseContentInfo(contentInfo)
	if err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(OIDSignedData) {
		return nil, der.Errorf("ContentInfo", "contentType", "got %v, want signedData", ci.ContentType)
	}
	if ci.Content == nil {
		return nil, der.Errorf("ContentInfo", "content", "signedData without content")
	}
	sd := &SignedData{Raw: ci.Raw}
	e, err := der.Parse(ci.Content)
	if err != nil {
		return nil, der.Wrap("SignedData", "", err)
	}
	if err := e.Expect(der.TagSequence); err != nil {
		return nil, der.Wrap("SignedData", "", err)
	}
	s := cryptobyte.String(e.Contents)
	if !s.ReadASN1Integer(&sd.Version) {
		return nil, der.Errorf("SignedData", "version", "malformed INTEGER")
	}
	switch sd.Version {
	case signedDataVersionPKCS7:
		sd.Mode = ModePKCS7
	case signedDataVersionCMS:
		sd.Mode = ModeCMS
	default:
		return nil, der.Errorf("SignedData", "version", "unsupported version %d", sd.Version)
	}

	algs, err := readSignedSetOf(&s, der.TagSet, "SignedData", "digestAlgorithms")
	if err != nil {
		return nil, err
	}
	for _, a := range algs {
		as := cryptobyte.String(a.Raw)
		alg, err := ReadAlgorithmIdentifier(&as)
		if err != nil {
			return nil, der.Wrap("SignedData", "digestAlgorithms", err)
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, alg)
	}

	sd.ContentType, sd.Content, err = readEncapContentInfo(&s, sd.Mode, "SignedData")
	if err != nil {
		return nil, err
	}

	if t, ok := der.PeekTag(s); ok && t == der.Explicit(0) {
		certs, err := readSignedSetOf(&s, der.Explicit(0), "SignedData", "certificates")
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			if err := c.Expect(der.TagSequence); err != nil {
				return nil, der.Wrap("SignedData", "certificates", err)
			}
			sd.Certificates = append(sd.Certificates, c.Raw)
		}
	}
	if t, ok := der.PeekTag(s); ok && t == der.Explicit(1) {
		crls, err := readSignedSetOf(&s, der.Explicit(1), "SignedData", "crls")
		if err != nil {
			return nil, err
		}
		for _, c := range crls {
			if err := c.Expect(der.TagSequence); err != nil {
				return nil, der.Wrap("SignedData", "crls", err)
			}
			sd.CRLs = append(sd.CRLs, c.Raw)
		}
	}

	infos, err := readSignedSetOf(&s, der.TagSet, "SignedData", "signerInfos")
	if err != nil {
		return nil, err
	}
	for _, ie := range infos {
		si, err := parseSignerInfo(ie, sd.Version)
		if err != nil {
			return nil, err
		}
		sd.SignerInfos = append(sd.SignerInfos, *si)
	}
	if len(s) != 0 {
		return nil, der.Wrap("SignedData", "", der.ErrTrailingData)
	}
	return sd, nil
}

// checkDERInput checks that b is exactly one DER element, DER throughout.
func checkDERInput(b []byte, typ string) error {
	e, err := der.Parse(b)
	if err != nil {
		return der.Wrap("ContentInfo", "", err)
	}
	if e.Tag.Constructed {
		if err := checkDERNesting(e.Contents, 1); err != nil {
			return der.Wrap(typ, "", err)
		}
	}
	return nil
}

// maxDERNesting bounds how deep checkDERNesting descends; SET messages
// nest a few dozen levels at most.
const maxDERNesting = 64

// checkDERNesting checks that b is a sequence of DER elements and that
// every constructed element inside, at any depth, is too. The typed
// readers below look only at the levels they decode; this makes the whole
// input DER, names, parameters and included certificates included.
func checkDERNesting(b []byte, depth int) error {
	if depth > maxDERNesting {
		return fmt.Errorf("nested deeper than %d: %w", maxDERNesting, der.ErrInvalid)
	}
	for len(b) > 0 {
		e, rest, err := der.Read(b)
		if err != nil {
			return err
		}
		if e.Tag.Constructed {
			if err := checkDERNesting(e.Contents, depth+1); err != nil {
				return err
			}
		}
		b = rest
	}
	return nil
}

// readSignedSetOf reads a SET OF carried under tag t, checks DER order and
// returns its elements.
func readSignedSetOf(s *cryptobyte.String, t der.Tag, typ, field string) ([]der.Element, error) {
	e, err := der.ReadElement(s)
	if err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	if err := e.Expect(t); err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	elems, err := der.ParseSequence(e.Contents)
	if err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	for i := 1; i < len(elems); i++ {
		if bytes.Compare(elems[i-1].Raw, elems[i].Raw) > 0 {
			return nil, der.Wrap(typ, field, der.ErrNotSorted)
		}
	}
	return elems, nil
}

func parseSignerInfo(e der.Element, sdVersion int) (*SignerInfo, error) {
	if err := e.Expect(der.TagSequence); err != nil {
		return nil, der.Wrap("SignerInfo", "", err)
	}
	si := &SignerInfo{Raw: e.Raw}
	s := cryptobyte.String(e.Contents)
	if !s.ReadASN1Integer(&si.Version) {
		return nil, der.Errorf("SignerInfo", "version", "malformed INTEGER")
	}
	switch {
	case si.Version == signerInfoVersionIssuerSN:
		ias, err := ReadIssuerAndSerialNumber(&s)
		if err != nil {
			return nil, der.Wrap("SignerInfo", "issuerAndSerialNumber", err)
		}
		si.IssuerAndSerial = ias
	case si.Version == signerInfoVersionSubjectKI && sdVersion == signedDataVersionCMS:
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) {
			return nil, der.Errorf("SignerInfo", "subjectKeyIdentifier", "want [0] IMPLICIT OCTET STRING")
		}
		si.SubjectKeyID = ski
	default:
		return nil, der.Errorf("SignerInfo", "version", "unsupported version %d in SignedData version %d", si.Version, sdVersion)
	}
	var err error
	if si.DigestAlgorithm, err = ReadAlgorithmIdentifier(&s); err != nil {
		return nil, der.Wrap("SignerInfo", "digestAlgorithm", err)
	}
	attrs, ok, err := der.ReadOptional(&s, der.Explicit(0))
	if err != nil {
		return nil, der.Wrap("SignerInfo", "signedAttrs", err)
	}
	if !ok {
		// SET always signs attributes; without them the signature would
		// cover the content alone and the content type would go unsigned.
		return nil, der.Errorf("SignerInfo", "signedAttrs", "absent")
	}
	si.SignedAttrs = attrs.Raw
	if err := parseSignedAttrs(si, attrs.Contents); err != nil {
		return nil, err
	}
	if si.SignatureAlgorithm, err = ReadAlgorithmIdentifier(&s); err != nil {
		return nil, der.Wrap("SignerInfo", "signatureAlgorithm", err)
	}
	var sig cryptobyte.String
	if !s.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, der.Errorf("SignerInfo", "signature", "malformed OCTET STRING")
	}
	si.Signature = sig
	if len(s) > 0 {
		u, err := der.ReadElement(&s)
		if err != nil {
			return nil, der.Wrap("SignerInfo", "unsignedAttrs", err)
		}
		if err := u.Expect(der.Explicit(1)); err != nil {
			return nil, der.Wrap("SignerInfo", "unsignedAttrs", err)
		}
		if err := checkAttributeSet(u.Contents, "unsignedAttrs"); err != nil {
			return nil, err
		}
		si.UnsignedAttrs = u.Raw
	}
	if len(s) != 0 {
		return nil, der.Wrap("SignerInfo", "", der.ErrTrailingData)
	}
	return si, nil
}

// signedAttribute is one decoded Attribute ::= SEQUENCE { type, SET OF value }.
type signedAttribute struct {
	oid    asn1.ObjectIdentifier
	values []der.Element
}

// checkAttributeSet parses the contents of a SET OF Attribute, checking
// DER order and that no type repeats, and returns the attributes.
func checkAttributeSet(contents []byte, field string) error {
	_, err := readAttributeSet(contents, field)
	return err
}

func readAttributeSet(contents []byte, field string) ([]signedAttribute, error) {
	if err := der.CheckSetOf(contents); err != nil {
		return nil, der.Wrap("SignerInfo", field, err)
	}
	elems, err := der.ParseSequence(contents)
	if err != nil {
		return nil, der.Wrap("SignerInfo", field, err)
	}
	var out []signedAttribute
	for _, e := range elems {
		if err := e.Expect(der.TagSequence); err != nil {
			return nil, der.Wrap("Attribute", "", err)
		}
		s := cryptobyte.String(e.Contents)
		var a signedAttribute
		if !s.ReadASN1ObjectIdentifier(&a.oid) {
			return nil, der.Errorf("Attribute", "attrType", "malformed OBJECT IDENTIFIER")
		}
		set, err := der.ReadElement(&s)
		if err != nil {
			return nil, der.Wrap("Attribute", "attrValues", err)
		}
		if err := set.Expect(der.TagSet); err != nil {
			return nil, der.Wrap("Attribute", "attrValues", err)
		}
		if len(s) != 0 {
			return nil, der.Wrap("Attribute", "", der.ErrTrailingData)
		}
		if err := der.CheckSetOf(set.Contents); err != nil {
			return nil, der.Wrap("Attribute", "attrValues", err)
		}
		if a.values, err = der.ParseSequence(set.Contents); err != nil {
			return nil, der.Wrap("Attribute", "attrValues", err)
		}
		if len(a.values) == 0 {
			return nil, der.Errorf("Attribute", "attrValues", "empty SET")
		}
		for _, prev := range out {
			if prev.oid.Equal(a.oid) {
				return nil, der.Errorf("SignerInfo", field, "attribute %v repeated", a.oid)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// parseSignedAttrs decodes the attributes Verify relies on.
func parseSignedAttrs(si *SignerInfo, contents []byte) error {
	attrs, err := readAttributeSet(contents, "signedAttrs")
	if err != nil {
		return err
	}
	for _, a := range attrs {
		single := func(name string) (der.Element, error) {
			if len(a.values) != 1 {
				return der.Element{}, der.Errorf("SignerInfo", "signedAttrs", "%s has %d values, want 1", name, len(a.values))
			}
			return a.values[0], nil
		}
		switch {
		case a.oid.Equal(OIDAttrContentType):
			v, err := single("contentType")
			if err != nil {
				return err
			}
			s := cryptobyte.String(v.Raw)
			if !s.ReadASN1ObjectIdentifier(&si.AttrContentType) || len(s) != 0 {
				return der.Errorf("SignerInfo", "signedAttrs", "contentType: malformed OBJECT IDENTIFIER")
			}
		case a.oid.Equal(OIDAttrMessageDigest):
			v, err := single("messageDigest")
			if err != nil {
				return err
			}
			if err := v.Expect(der.TagOctetString); err != nil {
				return der.Wrap("SignerInfo", "signedAttrs", fmt.Errorf("messageDigest: %w", err))
			}
			si.MessageDigest = v.Contents
		case a.oid.Equal(OIDAttrSigningTime):
			v, err := single("signingTime")
			if err != nil {
				return err
			}
			if si.SigningTime, err = parseSigningTime(v); err != nil {
				return der.Wrap("SignerInfo", "signedAttrs", err)
			}
		}
	}
	if si.AttrContentType == nil {
		return der.Errorf("SignerInfo", "signedAttrs", "no contentType attribute")
	}
	if si.MessageDigest == nil {
		return der.Errorf("SignerInfo", "signedAttrs", "no messageDigest attribute")
	}
	return nil
}

// Verify checks every SignerInfo: the digest algorithm is supported and
// listed in DigestAlgorithms, the contentType attribute equals ContentType,
// the messageDigest attribute equals the digest of the content (sd.Content,
// or detachedContent when the content is detached), and the signature over
// the signed attributes verifies under the key keyFor returns. keyFor is
// where the caller picks and validates the signer's certificate.
//
// detachedContent has the same form as SignedData.Content. Passing it for
// attached content is allowed only if it is identical to sd.Content.
// Every failure wraps ErrSignature.
func (sd *SignedData) Verify(detachedContent []byte, keyFor func(si *SignerInfo) (crypto.PublicKey, error)) error {
	if len(sd.SignerInfos) == 0 {
		return fmt.Errorf("%w: no signers", ErrSignature)
	}
	content := sd.Content
	switch {
	case content == nil && detachedContent == nil:
		return fmt.Errorf("%w: content is detached and none was given", ErrSignature)
	case content == nil:
		content = detachedContent
	case detachedContent != nil && !bytes.Equal(content, detachedContent):
		return fmt.Errorf("%w: given content differs from the attached content", ErrSignature)
	}
	// Every listed digest algorithm must be one we know, with its
	// parameters as specified: the list is outside the signatures, and
	// SET's SignedData lists only what its signers use.
	listed := make(map[crypto.Hash]bool)
	for _, a := range sd.DigestAlgorithms {
		h, err := HashForAlgorithm(a)
		if err != nil {
			return fmt.Errorf("%w: digestAlgorithms: %w", ErrSignature, err)
		}
		listed[h] = true
	}
	digests := make(map[crypto.Hash][]byte)
	for i := range sd.SignerInfos {
		si := &sd.SignerInfos[i]
		h, err := HashForAlgorithm(si.DigestAlgorithm)
		if err != nil {
			return fmt.Errorf("%w: signer %d: %w", ErrSignature, i, err)
		}
		if !listed[h] {
			return fmt.Errorf("%w: signer %d: digest %v not in digestAlgorithms", ErrSignature, i, si.DigestAlgorithm.Algorithm)
		}
		if !si.AttrContentType.Equal(sd.ContentType) {
			return fmt.Errorf("%w: signer %d: contentType attribute %v, content is %v", ErrSignature, i, si.AttrContentType, sd.ContentType)
		}
		digest, ok := digests[h]
		if !ok {
			if digest, err = digestEncapContent(h, sd.Mode, content); err != nil {
				return fmt.Errorf("%w: %w", ErrSignature, err)
			}
			digests[h] = digest
		}
		if subtle.ConstantTimeCompare(digest, si.MessageDigest) != 1 {
			return fmt.Errorf("%w: signer %d: %w", ErrSignature, i, ErrDigestMismatch)
		}
		pub, err := keyFor(si)
		if err != nil {
			return fmt.Errorf("%w: signer %d: %w", ErrSignature, i, err)
		}
		if pub == nil {
			return fmt.Errorf("%w: signer %d: no key", ErrSignature, i)
		}
		if len(si.SignedAttrs) == 0 {
			return fmt.Errorf("%w: signer %d: no signed attributes", ErrSignature, i)
		}
		// PKCS#7 §9.3 / RFC 5652 §5.4: the signature covers the
		// attributes with the SET OF tag, not the [0] IMPLICIT one.
		msg := bytes.Clone(si.SignedAttrs)
		msg[0] = 0x31
		if err := verifySignerSignature(pub, si, h, msg); err != nil {
			if !errors.Is(err, ErrSignature) {
				err = fmt.Errorf("%w: %w", ErrSignature, err)
			}
			return fmt.Errorf("signer %d: %w", i, err)
		}
	}
	return nil
}

// verifySignerSignature checks si's signature over msg (the signed
// attributes). Beside the algorithms VerifySignature knows, a SignerInfo
// may name rsaEncryption: PKCS#7 v1.5 §9.4 and RFC 3370 §3.2 let the
// signature algorithm name the bare RSA operation and the digest algorithm
// h say what it signs. openssl's CMS signer writes it so for RSA keys. Its
// parameters MUST be NULL (RFC 3370 §3.2).
func verifySignerSignature(pub crypto.PublicKey, si *SignerInfo, h crypto.Hash, msg []byte) error {
	alg := si.SignatureAlgorithm
	if !alg.Algorithm.Equal(OIDRSAEncryption) {
		return VerifySignature(pub, alg, msg, si.Signature)
	}
	if err := checkParameters(alg, paramsNull); err != nil {
		return err
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: %T key cannot verify %v", ErrSignature, pub, alg.Algorithm)
	}
	d := h.New()
	d.Write(msg)
	if err := rsa.VerifyPKCS1v15(k, h, d.Sum(nil), si.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// FindCertificate returns the certificate among sd.Certificates that si
// names, by issuer and serial number or by subject key identifier.
func (sd *SignedData) FindCertificate(si *SignerInfo) ([]byte, bool) {
	for _, c := range sd.Certificates {
		if si.SubjectKeyID != nil {
			ski, err := certificateSubjectKeyID(c)
			if err == nil && ski != nil && bytes.Equal(ski, si.SubjectKeyID) {
				return c, true
			}
			continue
		}
		if si.IssuerAndSerial.SerialNumber == nil {
			continue
		}
		ias, err := ParseCertificateIssuerAndSerial(c)
		if err == nil && bytes.Equal(ias.Issuer, si.IssuerAndSerial.Issuer) && ias.SerialNumber.Cmp(si.IssuerAndSerial.SerialNumber) == 0 {
			return c, true
		}
	}
	return nil, false
}

// certificateTBS returns the fields of a certificate's TBSCertificate up to
// and including the issuer, and the rest. It walks the DER by hand rather
// than calling crypto/x509, which refuses ML-DSA keys and SET's private
// critical extensions.
func certificateTBSUpToIssuer(cert []byte) (serial *big.Int, issuer []byte, rest cryptobyte.String, err error) {
	s := cryptobyte.String(cert)
	var c, tbs cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.SEQUENCE) || len(s) != 0 {
		return nil, nil, nil, der.Errorf("Certificate", "", "malformed SEQUENCE")
	}
	if !c.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, nil, nil, der.Errorf("Certificate", "tbsCertificate", "malformed SEQUENCE")
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, nil, nil, der.Errorf("TBSCertificate", "version", "malformed")
	}
	serial = new(big.Int)
	if !tbs.ReadASN1Integer(serial) {
		return nil, nil, nil, der.Errorf("TBSCertificate", "serialNumber", "malformed INTEGER")
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return nil, nil, nil, der.Errorf("TBSCertificate", "signature", "malformed AlgorithmIdentifier")
	}
	var name cryptobyte.String
	if !tbs.ReadASN1Element(&name, cbasn1.SEQUENCE) {
		return nil, nil, nil, der.Errorf("TBSCertificate", "issuer", "malformed Name")
	}
	return serial, name, tbs, nil
}

// ParseCertificateIssuerAndSerial returns the IssuerAndSerialNumber that
// names cert: its issuer Name bytes as encoded and its serial number.
func ParseCertificateIssuerAndSerial(cert []byte) (IssuerAndSerialNumber, error) {
	serial, issuer, _, err := certificateTBSUpToIssuer(cert)
	if err != nil {
		return IssuerAndSerialNumber{}, err
	}
	return IssuerAndSerialNumber{Issuer: issuer, SerialNumber: serial}, nil
}

// certificateSubjectKeyID returns the subjectKeyIdentifier extension value
// of cert, or nil when it has none.
func certificateSubjectKeyID(cert []byte) ([]byte, error) {
	_, _, tbs, err := certificateTBSUpToIssuer(cert)
	if err != nil {
		return nil, err
	}
	for _, field := range []string{"validity", "subject", "subjectPublicKeyInfo"} {
		if !tbs.SkipASN1(cbasn1.SEQUENCE) {
			return nil, der.Errorf("TBSCertificate", field, "malformed SEQUENCE")
		}
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) {
		return nil, der.Errorf("TBSCertificate", "uniqueIdentifier", "malformed")
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return nil, der.Errorf("TBSCertificate", "extensions", "malformed")
	}
	if !present {
		return nil, nil
	}
	var seq cryptobyte.String
	if !exts.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, der.Errorf("TBSCertificate", "extensions", "malformed SEQUENCE")
	}
	for len(seq) > 0 {
		var ext cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) {
			return nil, der.Errorf("Extension", "", "malformed")
		}
		var val, ski cryptobyte.String
		if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
			return nil, der.Errorf("Extension", "extnValue", "malformed OCTET STRING")
		}
		if oid.Equal(OIDSubjectKeyIdentifier) {
			if !val.ReadASN1(&ski, cbasn1.OCTET_STRING) || len(val) != 0 {
				return nil, der.Errorf("Extension", "subjectKeyIdentifier", "malformed OCTET STRING")
			}
			return ski, nil
		}
	}
	return nil, nil
}
