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

// reader is a pointer to a type that decodes itself from one element.
type reader[T any] interface {
	*T
	read(s *cryptobyte.String) error
}

// unmarshalNew decodes exactly one T from in with unmarshal: what every
// UnmarshalT function does.
func unmarshalNew[T any, PT reader[T]](in []byte, typ string) (*T, error) {
	v := new(T)
	if err := unmarshal(in, typ, PT(v).read); err != nil {
		return nil, err
	}
	return v, nil
}

// readSequenceOf reads a SEQUENCE OF T component; an error names the
// element at fault as field[i]. It returns nil for an empty SEQUENCE: the
// caller checks SIZE(1..MAX).
func readSequenceOf[T any, PT reader[T]](s *cryptobyte.String, typ, field string) ([]T, error) {
	e, err := readAs(s, der.TagSequence, typ, field)
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(e.Contents)
	var out []T
	for len(in) > 0 {
		var v T
		if err := PT(&v).read(&in); err != nil {
			return nil, der.Wrap(typ, fmt.Sprintf("%s[%d]", field, len(out)), err)
		}
		out = append(out, v)
	}
	return out, nil
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

// ---------------------------------------------------------------------------
// OPTIONAL components. Each reader returns the zero value (nil, "", zero
// time) when the component is absent; each writer leaves out the zero value.
// A present component is never the zero value, so absent and zero coincide.

// MaxEnumValue bounds the ENUMERATED components whose value lists are not
// public (specialProcessing, merchGroup, respReason, cardType, avsResult):
// they are carried as small non-negative integers.
const MaxEnumValue = 255

// readOptionalExplicit reads an OPTIONAL [n] EXPLICIT component with read,
// which must report its own errors under typ and field, and reports whether
// the component was present.
func readOptionalExplicit(s *cryptobyte.String, n uint32, typ, field string, read func(s *cryptobyte.String) error) (bool, error) {
	inner, ok, err := optionalExplicit(s, n)
	if err != nil {
		return false, der.Wrap(typ, field, err)
	}
	if !ok {
		return false, nil
	}
	if err := read(&inner); err != nil {
		return false, err
	}
	return true, expectEnd(inner, typ, field)
}

// readOptionalOctets reads an OPTIONAL OCTET STRING under tag t of
// min..max octets (max <= 0: unbounded).
func readOptionalOctets(s *cryptobyte.String, t der.Tag, typ, field string, min, max int) ([]byte, error) {
	if !nextIs(*s, t) {
		return nil, nil
	}
	return readOctetStringBounded(s, t, typ, field, min, max)
}

// addOptionalOctets appends an OPTIONAL OCTET STRING unless v is nil.
func addOptionalOctets(b *cryptobyte.Builder, t der.Tag, v []byte, typ, field string, min, max int) {
	if v != nil {
		addOctetsBounded(b, t, v, typ, field, min, max)
	}
}

// readOpaqueOctets reads an OPTIONAL opaque [n] IMPLICIT OCTET STRING
// (components a later issue defines). A present value is never empty.
func readOpaqueOctets(s *cryptobyte.String, n uint32, typ, field string) ([]byte, error) {
	return readOptionalOctets(s, der.Implicit(n), typ, field, 1, 0)
}

func addOpaqueOctets(b *cryptobyte.Builder, n uint32, v []byte, typ, field string) {
	addOptionalOctets(b, der.Implicit(n), v, typ, field, 1, 0)
}

// readOptionalExplicitOctets reads an OPTIONAL [n] EXPLICIT OCTET STRING
// of at least min octets (acqCardMsg, acqBackKeyData).
func readOptionalExplicitOctets(s *cryptobyte.String, n uint32, typ, field string, min int) ([]byte, error) {
	var v []byte
	_, err := readOptionalExplicit(s, n, typ, field, func(s *cryptobyte.String) (err error) {
		v, err = readOctetStringBounded(s, der.TagOctetString, typ, field, min, 0)
		return err
	})
	return v, err
}

func addOptionalExplicitOctets(b *cryptobyte.Builder, n uint32, v []byte, typ, field string, min int) {
	if v == nil {
		return
	}
	if err := checkSize(len(v), min, 0, typ, field); err != nil {
		b.SetError(err)
		return
	}
	addExplicit(b, n, func(b *cryptobyte.Builder) { addOctets(b, der.TagOctetString, v) })
}

// readOpaqueExplicit reads an OPTIONAL [n] EXPLICIT component of a type msg
// keeps opaque (BrandCRLIdentifier), returning the inner element's DER.
func readOpaqueExplicit(s *cryptobyte.String, n uint32, typ, field string) ([]byte, error) {
	var v []byte
	_, err := readOptionalExplicit(s, n, typ, field, func(s *cryptobyte.String) (err error) {
		v, err = readRawElement(s, typ, field)
		return err
	})
	return v, err
}

func addOpaqueExplicit(b *cryptobyte.Builder, n uint32, v []byte, typ, field string) {
	if v != nil {
		addExplicit(b, n, func(b *cryptobyte.Builder) { addRawElement(b, v, typ, field) })
	}
}

// readOptionalExplicitContentInfo reads an OPTIONAL [n] EXPLICIT ContentInfo.
func readOptionalExplicitContentInfo(s *cryptobyte.String, n uint32, typ, field string) ([]byte, error) {
	var v []byte
	_, err := readOptionalExplicit(s, n, typ, field, func(s *cryptobyte.String) (err error) {
		v, err = readContentInfoDER(s, typ, field)
		return err
	})
	return v, err
}

func addOptionalExplicitContentInfo(b *cryptobyte.Builder, n uint32, v []byte, typ, field string) {
	if v != nil {
		addExplicit(b, n, func(b *cryptobyte.Builder) { addContentInfoDER(b, v, typ, field) })
	}
}

// readOptionalInt reads an OPTIONAL [n] IMPLICIT INTEGER not below min.
func readOptionalInt(s *cryptobyte.String, n uint32, min int64, typ, field string) (*int64, error) {
	if !nextIs(*s, der.Implicit(n)) {
		return nil, nil
	}
	v, err := readIntRange(s, der.Implicit(n), typ, field, min, 1<<63-1)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func addOptionalInt(b *cryptobyte.Builder, n uint32, v *int64, min int64, typ, field string) {
	if v == nil {
		return
	}
	if *v < min {
		failf(b, typ, field, "value %d below %d: %w", *v, min, der.ErrInvalid)
		return
	}
	addInt64(b, der.Implicit(n), *v)
}

// readOptionalEnum reads an OPTIONAL [n] IMPLICIT ENUMERATED in 0..MaxEnumValue.
func readOptionalEnum(s *cryptobyte.String, n uint32, typ, field string) (*int, error) {
	if !nextIs(*s, der.Implicit(n)) {
		return nil, nil
	}
	v, err := readIntRange(s, der.Implicit(n), typ, field, 0, MaxEnumValue)
	if err != nil {
		return nil, err
	}
	e := int(v)
	return &e, nil
}

func addOptionalEnum(b *cryptobyte.Builder, n uint32, v *int, typ, field string) {
	if v == nil {
		return
	}
	if *v < 0 || *v > MaxEnumValue {
		failf(b, typ, field, "value %d outside 0..%d: %w", *v, MaxEnumValue, der.ErrInvalid)
		return
	}
	addInt64(b, der.Implicit(n), int64(*v))
}

// readOptionalDate reads an OPTIONAL [n] IMPLICIT GeneralizedTime.
func readOptionalDate(s *cryptobyte.String, n uint32, typ, field string) (time.Time, error) {
	if !nextIs(*s, der.Implicit(n)) {
		return time.Time{}, nil
	}
	tm, err := readDateAs(s, der.Implicit(n), typ, field)
	if err == nil && tm.IsZero() {
		// The zero time stands for "absent" in Go; on the wire it would
		// decode to a value that re-encodes differently.
		return time.Time{}, der.Errorf(typ, field, "year-1 date stands for absent: %w", der.ErrInvalid)
	}
	return tm, err
}

func addOptionalDate(b *cryptobyte.Builder, n uint32, v time.Time) {
	if !v.IsZero() {
		addDateAs(b, der.Implicit(n), v)
	}
}

// ---------------------------------------------------------------------------
// SET's composite shapes. Each type keeps its own Go type and methods; these
// write and read the SEQUENCE they all share.

// addLinkage appends L{T, U} = SEQUENCE { t T, hU DD{U} }: a value linked
// to the DigestedData of a second one that travels elsewhere. With
// hOptional, a nil hU is left out (SEQUENCE { t T, hU DD{U} OPTIONAL }).
func addLinkage(b *cryptobyte.Builder, typ string, addT func(b *cryptobyte.Builder), hU []byte, hField string, hOptional bool) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addT(b)
		if hU != nil || !hOptional {
			addContentInfoDER(b, hU, typ, hField)
		}
	})
}

// readLinkage reads what addLinkage writes: t's components with readT, then
// DD{U}. It returns DD{U}'s ContentInfo DER (nil if optional and absent) and
// the whole encoding.
func readLinkage(s *cryptobyte.String, typ, tField string, readT func(s *cryptobyte.String) error, hField string, hOptional bool) (hU, raw []byte, err error) {
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return nil, nil, err
	}
	if err := readT(&seq); err != nil {
		return nil, nil, der.Wrap(typ, tField, err)
	}
	if len(seq) > 0 || !hOptional {
		if hU, err = readContentInfoDER(&seq, typ, hField); err != nil {
			return nil, nil, err
		}
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return nil, nil, err
	}
	return hU, raw, nil
}

// addEncB appends the outer form of SET's EncB{s, r, t, b} = SEQUENCE {
// tbe ContentInfo, baggage B }: the envelope, then the baggage in the
// clear. addBaggage nil leaves an OPTIONAL baggage out.
func addEncB(b *cryptobyte.Builder, typ string, tbe []byte, tbeField string, addBaggage func(b *cryptobyte.Builder)) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addContentInfoDER(b, tbe, typ, tbeField)
		if addBaggage != nil {
			addBaggage(b)
		}
	})
}

// readEncB reads what addEncB writes. readBaggage is called when baggage
// follows the envelope, and always when it is required (not
// baggageOptional). It returns the envelope's ContentInfo DER and the whole
// encoding.
func readEncB(s *cryptobyte.String, typ, tbeField, baggageField string, baggageOptional bool, readBaggage func(s *cryptobyte.String) error) (tbe, raw []byte, err error) {
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return nil, nil, err
	}
	if tbe, err = readContentInfoDER(&seq, typ, tbeField); err != nil {
		return nil, nil, err
	}
	if len(seq) > 0 || !baggageOptional {
		if err := readBaggage(&seq); err != nil {
			return nil, nil, der.Wrap(typ, baggageField, err)
		}
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return nil, nil, err
	}
	return tbe, raw, nil
}

// marshalContentInfo encodes a message that is one opaque ContentInfo
// (PInitRes, PRes, CapRes: a SignedData or envelope built by encap).
func marshalContentInfo(v []byte, typ string) ([]byte, error) {
	return marshal(func(b *cryptobyte.Builder) { addContentInfoDER(b, v, typ, "") })
}

// unmarshalContentInfo checks that in is exactly one ContentInfo SEQUENCE
// and returns a private copy of it.
func unmarshalContentInfo(in []byte, typ string) ([]byte, error) {
	var v []byte
	err := unmarshal(in, typ, func(s *cryptobyte.String) (err error) {
		v, err = readContentInfoDER(s, typ, "")
		return err
	})
	return v, err
}
