// Package der holds the pieces of strict DER that encoding/asn1 and
// cryptobyte lack and that SET needs: tag numbers of 31 and above (the
// SET Message CHOICE runs past [30]), a generic element reader that checks
// canonical form, BMPString, SET OF ordering, and errors that name the type
// and field that failed.
//
// cryptobyte already refuses indefinite and non-minimal lengths for the tags
// it can express; this package applies the same rules to every tag, so a
// caller never has to think about which reader it used.
package der

import (
	"errors"
	"fmt"
	"strconv"
)

// Class is the class of a tag.
type Class uint8

const (
	ClassUniversal       Class = 0
	ClassApplication     Class = 1
	ClassContextSpecific Class = 2
	ClassPrivate         Class = 3
)

// Tag is a BER/DER identifier: class, constructed bit and number.
type Tag struct {
	Class       Class
	Constructed bool
	Number      uint32
}

// Common universal tags.
var (
	TagBoolean         = Tag{ClassUniversal, false, 1}
	TagInteger         = Tag{ClassUniversal, false, 2}
	TagBitString       = Tag{ClassUniversal, false, 3}
	TagOctetString     = Tag{ClassUniversal, false, 4}
	TagNull            = Tag{ClassUniversal, false, 5}
	TagOID             = Tag{ClassUniversal, false, 6}
	TagEnumerated      = Tag{ClassUniversal, false, 10}
	TagUTF8String      = Tag{ClassUniversal, false, 12}
	TagSequence        = Tag{ClassUniversal, true, 16}
	TagSet             = Tag{ClassUniversal, true, 17}
	TagNumericString   = Tag{ClassUniversal, false, 18}
	TagPrintableString = Tag{ClassUniversal, false, 19}
	TagIA5String       = Tag{ClassUniversal, false, 22}
	TagUTCTime         = Tag{ClassUniversal, false, 23}
	TagGeneralizedTime = Tag{ClassUniversal, false, 24}
	TagVisibleString   = Tag{ClassUniversal, false, 26}
	TagBMPString       = Tag{ClassUniversal, false, 30}
)

// Explicit returns the constructed context-specific tag [n], as used for
// EXPLICIT tagging and for IMPLICIT tagging of constructed types.
func Explicit(n uint32) Tag { return Tag{ClassContextSpecific, true, n} }

// Implicit returns the primitive context-specific tag [n].
func Implicit(n uint32) Tag { return Tag{ClassContextSpecific, false, n} }

func (t Tag) String() string {
	switch t.Class {
	case ClassUniversal:
		if name, ok := universalNames[t.Number]; ok {
			return name
		}
		return "UNIVERSAL " + strconv.FormatUint(uint64(t.Number), 10)
	case ClassApplication:
		return "[APPLICATION " + strconv.FormatUint(uint64(t.Number), 10) + "]"
	case ClassPrivate:
		return "[PRIVATE " + strconv.FormatUint(uint64(t.Number), 10) + "]"
	default:
		return "[" + strconv.FormatUint(uint64(t.Number), 10) + "]"
	}
}

var universalNames = map[uint32]string{
	1: "BOOLEAN", 2: "INTEGER", 3: "BIT STRING", 4: "OCTET STRING", 5: "NULL",
	6: "OBJECT IDENTIFIER", 10: "ENUMERATED", 12: "UTF8String", 16: "SEQUENCE",
	17: "SET", 18: "NumericString", 19: "PrintableString", 20: "T61String",
	22: "IA5String", 23: "UTCTime", 24: "GeneralizedTime", 26: "VisibleString",
	28: "UniversalString", 30: "BMPString",
}

// Sentinel errors, wrapped by the errors this package returns so callers
// (and fuzz tests) can tell the failure classes apart.
var (
	ErrTruncated     = errors.New("truncated")
	ErrTrailingData  = errors.New("trailing data")
	ErrIndefinite    = errors.New("indefinite length (not DER)")
	ErrNonMinimal    = errors.New("non-minimal encoding (not DER)")
	ErrTagTooLarge   = errors.New("tag number too large")
	ErrLengthTooLong = errors.New("length too large")
	ErrUnexpected    = errors.New("unexpected tag")
	ErrNotSorted     = errors.New("SET OF elements not in DER order")
	ErrInvalid       = errors.New("invalid value")
)

// Error reports a decoding failure in a named type and field, such as
// "PInitReq.chall-C: truncated".
type Error struct {
	Type  string // ASN.1 type name, e.g. "PInitReq"
	Field string // component name as the specification spells it; may be empty
	Err   error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Type + ": " + e.Err.Error()
	}
	return e.Type + "." + e.Field + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error; the format describes the cause.
func Errorf(typ, field, format string, args ...any) error {
	return &Error{Type: typ, Field: field, Err: fmt.Errorf(format, args...)}
}

// Wrap attaches type and field to err; nil stays nil. An *Error already
// carrying a type is kept as the inner cause so the innermost location is
// still visible.
func Wrap(typ, field string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Type: typ, Field: field, Err: err}
}

// maxLengthOctets bounds the long-form length: 4 octets is 4 GiB, far past
// any SET message, and keeps the arithmetic in range on 32-bit targets (wasm).
const maxLengthOctets = 4

// Element is one decoded TLV.
type Element struct {
	Tag      Tag
	Contents []byte // the value octets
	Raw      []byte // the whole encoding, identifier and length included
}

// Read decodes one element from the front of b under DER rules and returns
// it with the bytes that follow.
func Read(b []byte) (Element, []byte, error) {
	var e Element
	if len(b) == 0 {
		return e, nil, ErrTruncated
	}
	i := 0
	id := b[i]
	i++
	e.Tag.Class = Class(id >> 6)
	e.Tag.Constructed = id&0x20 != 0
	if n := id & 0x1f; n != 0x1f {
		e.Tag.Number = uint32(n)
	} else {
		// High-tag-number form: base-128, minimal, and only for numbers >= 31.
		var num uint64
		for first := true; ; first = false {
			if i >= len(b) {
				return e, nil, ErrTruncated
			}
			c := b[i]
			i++
			if first && c == 0x80 {
				return e, nil, fmt.Errorf("tag number: %w", ErrNonMinimal)
			}
			num = num<<7 | uint64(c&0x7f)
			if num > 0xffffffff {
				return e, nil, ErrTagTooLarge
			}
			if c&0x80 == 0 {
				break
			}
		}
		if num < 31 {
			return e, nil, fmt.Errorf("tag number %d in long form: %w", num, ErrNonMinimal)
		}
		e.Tag.Number = uint32(num)
	}
	if i >= len(b) {
		return e, nil, ErrTruncated
	}
	l := int(b[i])
	i++
	switch {
	case l == 0x80:
		return e, nil, ErrIndefinite
	case l > 0x80:
		n := l & 0x7f
		if n > maxLengthOctets {
			return e, nil, ErrLengthTooLong
		}
		if i+n > len(b) {
			return e, nil, ErrTruncated
		}
		if b[i] == 0 {
			return e, nil, fmt.Errorf("length: %w", ErrNonMinimal)
		}
		var v uint64
		for _, c := range b[i : i+n] {
			v = v<<8 | uint64(c)
		}
		i += n
		if v < 0x80 {
			return e, nil, fmt.Errorf("length: %w", ErrNonMinimal)
		}
		if v > uint64(len(b)-i) {
			return e, nil, ErrTruncated
		}
		l = int(v)
	}
	if l > len(b)-i {
		return e, nil, ErrTruncated
	}
	// X.690 8.8: a NULL is primitive with no contents octets; anything
	// else is not a NULL a DER encoder could have written.
	if e.Tag.Class == ClassUniversal && e.Tag.Number == 5 && (e.Tag.Constructed || l != 0) {
		return e, nil, fmt.Errorf("NULL must be primitive and empty: %w", ErrInvalid)
	}
	e.Contents = b[i : i+l]
	e.Raw = b[:i+l]
	return e, b[i+l:], nil
}

// Parse decodes exactly one element; trailing bytes are an error.
func Parse(b []byte) (Element, error) {
	e, rest, err := Read(b)
	if err != nil {
		return e, err
	}
	if len(rest) != 0 {
		return e, ErrTrailingData
	}
	return e, nil
}

// Children decodes the contents of a constructed element into its elements.
func (e Element) Children() ([]Element, error) {
	if !e.Tag.Constructed {
		return nil, fmt.Errorf("%s is primitive: %w", e.Tag, ErrUnexpected)
	}
	return ParseSequence(e.Contents)
}

// ParseSequence decodes a concatenation of elements.
func ParseSequence(b []byte) ([]Element, error) {
	var out []Element
	for len(b) > 0 {
		e, rest, err := Read(b)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		b = rest
	}
	return out, nil
}

// Expect checks that e has tag t.
func (e Element) Expect(t Tag) error {
	if e.Tag != t {
		return fmt.Errorf("got %s, want %s: %w", e.Tag, t, ErrUnexpected)
	}
	return nil
}

// AppendTag appends the DER identifier octets of t.
func AppendTag(dst []byte, t Tag) []byte {
	id := byte(t.Class) << 6
	if t.Constructed {
		id |= 0x20
	}
	if t.Number < 31 {
		return append(dst, id|byte(t.Number))
	}
	dst = append(dst, id|0x1f)
	var tmp [5]byte
	n := 0
	for v := t.Number; ; v >>= 7 {
		tmp[n] = byte(v & 0x7f)
		n++
		if v < 0x80 {
			break
		}
	}
	for j := n - 1; j >= 0; j-- {
		c := tmp[j]
		if j > 0 {
			c |= 0x80
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendLength appends a DER length.
func AppendLength(dst []byte, l int) []byte {
	if l < 0x80 {
		return append(dst, byte(l))
	}
	var tmp [8]byte
	n := 0
	for v := uint64(l); v > 0; v >>= 8 {
		tmp[n] = byte(v)
		n++
	}
	dst = append(dst, 0x80|byte(n))
	for j := n - 1; j >= 0; j-- {
		dst = append(dst, tmp[j])
	}
	return dst
}

// Encode returns the DER encoding of one element with the given contents.
func Encode(t Tag, contents []byte) []byte {
	out := make([]byte, 0, len(contents)+8)
	out = AppendTag(out, t)
	out = AppendLength(out, len(contents))
	return append(out, contents...)
}
