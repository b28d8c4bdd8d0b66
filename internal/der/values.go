package der

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
)

// ReadElement reads one element from s under DER rules, with any tag number.
// It is the bridge between cryptobyte parsing code and tags cryptobyte
// cannot express.
func ReadElement(s *cryptobyte.String) (Element, error) {
	e, rest, err := Read(*s)
	if err != nil {
		return e, err
	}
	*s = rest
	return e, nil
}

// PeekTag returns the tag of the next element in s without consuming it.
func PeekTag(s cryptobyte.String) (Tag, bool) {
	e, _, err := Read(s)
	if err != nil {
		return Tag{}, false
	}
	return e.Tag, true
}

// ReadOptional reads the next element if it carries tag t.
func ReadOptional(s *cryptobyte.String, t Tag) (Element, bool, error) {
	if len(*s) == 0 {
		return Element{}, false, nil
	}
	got, ok := PeekTag(*s)
	if !ok || got != t {
		return Element{}, false, nil
	}
	e, err := ReadElement(s)
	return e, err == nil, err
}

// AddElement adds an element with tag t whose contents f builds. Unlike
// cryptobyte's AddASN1 it accepts any tag number.
func AddElement(b *cryptobyte.Builder, t Tag, f cryptobyte.BuilderContinuation) {
	var child cryptobyte.Builder
	f(&child)
	contents, err := child.Bytes()
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddBytes(Encode(t, contents))
}

// Boolean decodes a DER BOOLEAN's contents: exactly one octet, 0x00 or 0xFF.
func Boolean(contents []byte) (bool, error) {
	if len(contents) != 1 || (contents[0] != 0 && contents[0] != 0xff) {
		return false, fmt.Errorf("BOOLEAN: %w", ErrInvalid)
	}
	return contents[0] == 0xff, nil
}

// BMPString decodes the contents of a BMPString (UCS-2 / UTF-16BE).
// Unpaired surrogates are rejected.
func BMPString(contents []byte) (string, error) {
	if len(contents)%2 != 0 {
		return "", fmt.Errorf("BMPString: odd length: %w", ErrInvalid)
	}
	u := make([]uint16, len(contents)/2)
	for i := range u {
		u[i] = uint16(contents[2*i])<<8 | uint16(contents[2*i+1])
	}
	for i := 0; i < len(u); i++ {
		switch {
		case u[i] >= 0xd800 && u[i] < 0xdc00:
			if i+1 >= len(u) || u[i+1] < 0xdc00 || u[i+1] >= 0xe000 {
				return "", fmt.Errorf("BMPString: unpaired surrogate: %w", ErrInvalid)
			}
			i++
		case u[i] >= 0xdc00 && u[i] < 0xe000:
			return "", fmt.Errorf("BMPString: unpaired surrogate: %w", ErrInvalid)
		}
	}
	return string(utf16.Decode(u)), nil
}

// AppendBMPString encodes s as BMPString contents.
func AppendBMPString(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("BMPString: invalid UTF-8: %w", ErrInvalid)
	}
	for _, c := range utf16.Encode([]rune(s)) {
		dst = append(dst, byte(c>>8), byte(c))
	}
	return dst, nil
}

// SortSetOf sorts encoded elements into DER SET OF order (ascending as
// octet strings, shorter first where one is a prefix of the other) in place.
func SortSetOf(elems [][]byte) {
	slices.SortFunc(elems, bytes.Compare)
}

// CheckSetOf reports whether the elements of a SET OF's contents are in
// DER order.
func CheckSetOf(contents []byte) error {
	elems, err := ParseSequence(contents)
	if err != nil {
		return err
	}
	for i := 1; i < len(elems); i++ {
		if bytes.Compare(elems[i-1].Raw, elems[i].Raw) > 0 {
			return ErrNotSorted
		}
	}
	return nil
}

// SetOf encodes a SET OF from already-encoded elements, sorting a copy.
func SetOf(elems [][]byte) []byte {
	sorted := slices.Clone(elems)
	SortSetOf(sorted)
	return Encode(TagSet, bytes.Join(sorted, nil))
}
