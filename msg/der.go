package msg

// Shared DER readers and writers for the SET message types.
//
// Readers take the cryptobyte.String they consume from, the expected tag
// (functions without "As" use the universal tag of the type), and the ASN.1
// type and component names used in errors. Each consumes exactly one element.
// Writers append to a cryptobyte.Builder and record invalid values with
// SetError, so Marshal returns an error instead of panicking.

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// marshal runs f on a fresh builder and returns its bytes or first error.
func marshal(f func(b *cryptobyte.Builder)) ([]byte, error) {
	var b cryptobyte.Builder
	f(&b)
	return b.Bytes()
}

// unmarshal decodes exactly one value from a private copy of in with read,
// rejecting trailing bytes. The copy keeps Raw and every byte field valid
// whatever the caller later does with in.
func unmarshal(in []byte, typ string, read func(s *cryptobyte.String) error) error {
	s := cryptobyte.String(bytes.Clone(in))
	if err := read(&s); err != nil {
		return err
	}
	if len(s) != 0 {
		return der.Wrap(typ, "", der.ErrTrailingData)
	}
	return nil
}

// readAs reads one element and checks its tag.
func readAs(s *cryptobyte.String, t der.Tag, typ, field string) (der.Element, error) {
	e, err := der.ReadElement(s)
	if err != nil {
		return e, der.Wrap(typ, field, err)
	}
	if err := e.Expect(t); err != nil {
		return e, der.Wrap(typ, field, err)
	}
	return e, nil
}

// nextIs reports whether the next element of s carries tag t; it is how
// OPTIONAL components are detected.
func nextIs(s cryptobyte.String, t der.Tag) bool {
	got, ok := der.PeekTag(s)
	return ok && got == t
}

// expectEnd reports trailing components inside a constructed value.
func expectEnd(s cryptobyte.String, typ, field string) error {
	if len(s) != 0 {
		return der.Wrap(typ, field, der.ErrTrailingData)
	}
	return nil
}

// readSequenceAs reads a constructed element with tag t (a SEQUENCE, or a
// SEQUENCE under an IMPLICIT context tag) and returns its contents and its
// complete encoding.
func readSequenceAs(s *cryptobyte.String, t der.Tag, typ string) (cryptobyte.String, []byte, error) {
	e, err := readAs(s, t, typ, "")
	if err != nil {
		return nil, nil, err
	}
	return cryptobyte.String(e.Contents), e.Raw, nil
}

// readExplicit reads a required [n] EXPLICIT wrapper and returns what is
// inside it. The caller reads the inner value and then calls expectEnd.
func readExplicit(s *cryptobyte.String, n uint32, typ, field string) (cryptobyte.String, error) {
	e, err := readAs(s, der.Explicit(n), typ, field)
	if err != nil {
		return nil, err
	}
	return cryptobyte.String(e.Contents), nil
}

// optionalExplicit reads an OPTIONAL [n] EXPLICIT wrapper if it is next.
func optionalExplicit(s *cryptobyte.String, n uint32) (cryptobyte.String, bool, error) {
	if !nextIs(*s, der.Explicit(n)) {
		return nil, false, nil
	}
	e, err := der.ReadElement(s)
	if err != nil {
		return nil, false, err
	}
	return cryptobyte.String(e.Contents), true, nil
}

// addTagged appends an element with an arbitrary tag (high tag numbers
// included); f writes the contents.
func addTagged(b *cryptobyte.Builder, t der.Tag, f cryptobyte.BuilderContinuation) {
	der.AddElement(b, t, f)
}

// addExplicit appends [n] EXPLICIT around what f writes.
func addExplicit(b *cryptobyte.Builder, n uint32, f cryptobyte.BuilderContinuation) {
	der.AddElement(b, der.Explicit(n), f)
}

// addSequence appends a SEQUENCE.
func addSequence(b *cryptobyte.Builder, f cryptobyte.BuilderContinuation) {
	der.AddElement(b, der.TagSequence, f)
}

// failf records a marshalling error on b.
func failf(b *cryptobyte.Builder, typ, field, format string, args ...any) {
	b.SetError(der.Errorf(typ, field, format, args...))
}

// addOctets appends an OCTET STRING (or an IMPLICIT-tagged one).
func addOctets(b *cryptobyte.Builder, t der.Tag, v []byte) {
	b.AddBytes(der.Encode(t, v))
}

// readOctets20 reads an OCTET STRING (SIZE(20)): RRPID, Challenge, Nonce,
// XID and Secret.
func readOctets20(s *cryptobyte.String, t der.Tag, typ, field string) ([20]byte, error) {
	var out [20]byte
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return out, err
	}
	if len(e.Contents) != 20 {
		return out, der.Errorf(typ, field, "length %d, want 20: %w", len(e.Contents), der.ErrInvalid)
	}
	copy(out[:], e.Contents)
	return out, nil
}

// readOctetStringBounded reads an OCTET STRING whose length must lie in
// [min, max]; max <= 0 means no upper bound. The result is a copy-free
// sub-slice of the input.
func readOctetStringBounded(s *cryptobyte.String, t der.Tag, typ, field string, min, max int) ([]byte, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return nil, err
	}
	if err := checkSize(len(e.Contents), min, max, typ, field); err != nil {
		return nil, err
	}
	return e.Contents, nil
}

func checkSize(n, min, max int, typ, field string) error {
	if n < min || (max > 0 && n > max) {
		if max > 0 {
			return der.Errorf(typ, field, "size %d outside %d..%d: %w", n, min, max, der.ErrInvalid)
		}
		return der.Errorf(typ, field, "size %d below %d: %w", n, min, der.ErrInvalid)
	}
	return nil
}

// addOctetsBounded appends an OCTET STRING after checking its size.
func addOctetsBounded(b *cryptobyte.Builder, t der.Tag, v []byte, typ, field string, min, max int) {
	if err := checkSize(len(v), min, max, typ, field); err != nil {
		b.SetError(err)
		return
	}
	addOctets(b, t, v)
}

func visibleOK(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

func numericOK(v string) bool {
	for i := 0; i < len(v); i++ {
		if (v[i] < '0' || v[i] > '9') && v[i] != ' ' {
			return false
		}
	}
	return true
}

func digitsOK(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// readVisibleString reads a VisibleString of min..max characters
// (max <= 0: unbounded).
func readVisibleString(s *cryptobyte.String, typ, field string, min, max int) (string, error) {
	return readVisibleStringAs(s, der.TagVisibleString, typ, field, min, max)
}

// readVisibleStringAs is readVisibleString under an IMPLICIT tag.
func readVisibleStringAs(s *cryptobyte.String, t der.Tag, typ, field string, min, max int) (string, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return "", err
	}
	v := string(e.Contents)
	if !visibleOK(v) {
		return "", der.Errorf(typ, field, "not a VisibleString: %w", der.ErrInvalid)
	}
	if err := checkSize(len(v), min, max, typ, field); err != nil {
		return "", err
	}
	return v, nil
}

// addVisibleString appends a VisibleString after checking it.
func addVisibleString(b *cryptobyte.Builder, t der.Tag, v, typ, field string, min, max int) {
	if !visibleOK(v) {
		failf(b, typ, field, "not a VisibleString")
		return
	}
	if err := checkSize(len(v), min, max, typ, field); err != nil {
		b.SetError(err)
		return
	}
	b.AddBytes(der.Encode(t, []byte(v)))
}

// readNumericString reads a NumericString of min..max characters.
func readNumericString(s *cryptobyte.String, typ, field string, min, max int) (string, error) {
	return readNumericStringAs(s, der.TagNumericString, typ, field, min, max)
}

// readNumericStringAs is readNumericString under an IMPLICIT tag.
func readNumericStringAs(s *cryptobyte.String, t der.Tag, typ, field string, min, max int) (string, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return "", err
	}
	v := string(e.Contents)
	if !numericOK(v) {
		return "", der.Errorf(typ, field, "not a NumericString: %w", der.ErrInvalid)
	}
	if err := checkSize(len(v), min, max, typ, field); err != nil {
		return "", err
	}
	return v, nil
}

// addNumericString appends a NumericString after checking it.
func addNumericString(b *cryptobyte.Builder, t der.Tag, v, typ, field string, min, max int) {
	if !numericOK(v) {
		failf(b, typ, field, "not a NumericString")
		return
	}
	if err := checkSize(len(v), min, max, typ, field); err != nil {
		b.SetError(err)
		return
	}
	b.AddBytes(der.Encode(t, []byte(v)))
}

// parseInt64 decodes INTEGER / ENUMERATED contents, enforcing the minimal
// two's-complement form DER requires.
func parseInt64(c []byte) (int64, error) {
	if len(c) == 0 {
		return 0, fmt.Errorf("empty INTEGER: %w", der.ErrInvalid)
	}
	if len(c) > 1 && ((c[0] == 0 && c[1]&0x80 == 0) || (c[0] == 0xff && c[1]&0x80 != 0)) {
		return 0, fmt.Errorf("INTEGER: %w", der.ErrNonMinimal)
	}
	if len(c) > 8 {
		return 0, fmt.Errorf("INTEGER too large: %w", der.ErrInvalid)
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, nil
}

func appendInt64(v int64) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	out := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = byte(v)
		v >>= 8
	}
	return out
}

// readInt64 reads an INTEGER (or ENUMERATED, or an IMPLICIT-tagged one:
// pass the tag).
func readInt64(s *cryptobyte.String, t der.Tag, typ, field string) (int64, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return 0, err
	}
	v, err := parseInt64(e.Contents)
	if err != nil {
		return 0, der.Wrap(typ, field, err)
	}
	return v, nil
}

// readIntRange reads an INTEGER/ENUMERATED and checks min <= v <= max.
func readIntRange(s *cryptobyte.String, t der.Tag, typ, field string, min, max int64) (int64, error) {
	v, err := readInt64(s, t, typ, field)
	if err != nil {
		return 0, err
	}
	if v < min || v > max {
		return 0, der.Errorf(typ, field, "value %d outside %d..%d: %w", v, min, max, der.ErrInvalid)
	}
	return v, nil
}

// addInt64 appends an INTEGER (or ENUMERATED etc.: pass the tag).
func addInt64(b *cryptobyte.Builder, t der.Tag, v int64) {
	b.AddBytes(der.Encode(t, appendInt64(v)))
}

// readBool reads a BOOLEAN (DER: 0x00 or 0xff only).
func readBool(s *cryptobyte.String, t der.Tag, typ, field string) (bool, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return false, err
	}
	v, err := der.Boolean(e.Contents)
	if err != nil {
		return false, der.Wrap(typ, field, err)
	}
	return v, nil
}

// readOptionalDefaultFalse reads a BOOLEAN DEFAULT FALSE component. DER
// omits the default, so an encoded FALSE is rejected.
func readOptionalDefaultFalse(s *cryptobyte.String, t der.Tag, typ, field string) (bool, error) {
	if !nextIs(*s, t) {
		return false, nil
	}
	v, err := readBool(s, t, typ, field)
	if err != nil {
		return false, err
	}
	if !v {
		return false, der.Errorf(typ, field, "DEFAULT FALSE encoded: %w", der.ErrInvalid)
	}
	return true, nil
}

// addDefaultFalse appends a BOOLEAN DEFAULT FALSE component (only if true).
func addDefaultFalse(b *cryptobyte.Builder, t der.Tag, v bool) {
	if v {
		b.AddBytes(der.Encode(t, []byte{0xff}))
	}
}

const dateLayout = "20060102150405Z"

// readDate reads a Date (GeneralizedTime, DER form YYYYMMDDHHMMSSZ).
func readDate(s *cryptobyte.String, typ, field string) (time.Time, error) {
	return readDateAs(s, der.TagGeneralizedTime, typ, field)
}

// readDateAs is readDate under an IMPLICIT tag.
func readDateAs(s *cryptobyte.String, t der.Tag, typ, field string) (time.Time, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return time.Time{}, err
	}
	v := string(e.Contents)
	// Fixed length, digits only: DER allows no fraction, no offset, and
	// time.Parse alone would accept a few non-DER spellings.
	if len(v) != len(dateLayout) || !digitsOK(v[:14]) || v[14] != 'Z' {
		return time.Time{}, der.Errorf(typ, field, "GeneralizedTime %q not in DER form: %w", v, der.ErrInvalid)
	}
	tm, err := time.Parse(dateLayout, v)
	if err != nil {
		return time.Time{}, der.Errorf(typ, field, "GeneralizedTime %q: %w", v, der.ErrInvalid)
	}
	return tm.UTC(), nil
}

// addDate appends a Date. Sub-second precision is dropped: the wire form
// has none.
func addDate(b *cryptobyte.Builder, v time.Time) {
	addDateAs(b, der.TagGeneralizedTime, v)
}

// addDateAs is addDate under an IMPLICIT tag.
func addDateAs(b *cryptobyte.Builder, t der.Tag, v time.Time) {
	u := v.UTC()
	if u.Year() < 0 || u.Year() > 9999 {
		b.SetError(der.Errorf("Date", "", "year %d out of range", u.Year()))
		return
	}
	b.AddBytes(der.Encode(t, []byte(u.Format(dateLayout))))
}

// readOID reads an OBJECT IDENTIFIER.
func readOID(s *cryptobyte.String, t der.Tag, typ, field string) (asn1.ObjectIdentifier, error) {
	e, err := readAs(s, t, typ, field)
	if err != nil {
		return nil, err
	}
	// Re-frame with the universal tag so cryptobyte's strict OID parser
	// can check it.
	u := cryptobyte.String(der.Encode(der.TagOID, e.Contents))
	var oid asn1.ObjectIdentifier
	if !u.ReadASN1ObjectIdentifier(&oid) {
		return nil, der.Errorf(typ, field, "malformed OBJECT IDENTIFIER: %w", der.ErrInvalid)
	}
	return oid, nil
}

// addOID appends an OBJECT IDENTIFIER.
func addOID(b *cryptobyte.Builder, t der.Tag, oid asn1.ObjectIdentifier) {
	if len(oid) < 2 || oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		b.SetError(der.Errorf("OBJECT IDENTIFIER", "", "invalid %v", oid))
		return
	}
	var c cryptobyte.Builder
	c.AddASN1ObjectIdentifier(oid)
	enc, err := c.Bytes()
	if err != nil {
		b.SetError(err)
		return
	}
	e, err := der.Parse(enc)
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddBytes(der.Encode(t, e.Contents))
}

// readRawElement reads one complete element of any tag and returns its
// encoding: for opaque components (ANY, types a later issue defines).
func readRawElement(s *cryptobyte.String, typ, field string) ([]byte, error) {
	e, err := der.ReadElement(s)
	if err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	return e.Raw, nil
}

// addRawElement appends v after checking it is exactly one DER element.
func addRawElement(b *cryptobyte.Builder, v []byte, typ, field string) {
	if _, err := der.Parse(v); err != nil {
		b.SetError(der.Wrap(typ, field, err))
		return
	}
	b.AddBytes(v)
}

// errNotContentInfo is wrapped when an opaque PKCS#7 field is not a SEQUENCE.
var errNotContentInfo = errors.New("not a ContentInfo SEQUENCE")

// readContentInfoDER reads a field that holds a PKCS#7 ContentInfo (the
// SignedData / EnvelopedData / DigestedData produced by package encap). msg
// does not look inside; it checks the element is a SEQUENCE and keeps its
// exact bytes.
func readContentInfoDER(s *cryptobyte.String, typ, field string) ([]byte, error) {
	e, err := der.ReadElement(s)
	if err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	if e.Tag != der.TagSequence {
		return nil, der.Wrap(typ, field, fmt.Errorf("%s: %w", e.Tag, errNotContentInfo))
	}
	return e.Raw, nil
}

// addContentInfoDER appends an opaque ContentInfo after checking it is one
// SEQUENCE element.
func addContentInfoDER(b *cryptobyte.Builder, v []byte, typ, field string) {
	e, err := der.Parse(v)
	if err != nil {
		b.SetError(der.Wrap(typ, field, err))
		return
	}
	if e.Tag != der.TagSequence {
		b.SetError(der.Wrap(typ, field, errNotContentInfo))
		return
	}
	b.AddBytes(v)
}
