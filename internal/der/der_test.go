package der

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

func TestReadAccepts(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		tag      Tag
		contents []byte
	}{
		{"short length", []byte{0x04, 0x02, 0xaa, 0xbb}, TagOctetString, []byte{0xaa, 0xbb}},
		{"empty", []byte{0x05, 0x00}, TagNull, []byte{}},
		{"sequence", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, TagSequence, []byte{0x02, 0x01, 0x05}},
		{"context 30", []byte{0xbe, 0x00}, Explicit(30), []byte{}},
		{"context 31 high form", []byte{0xbf, 0x1f, 0x00}, Explicit(31), []byte{}},
		{"context 999", []byte{0xbf, 0x87, 0x67, 0x01, 0x00}, Explicit(999), []byte{0x00}},
		{"long length 128", append([]byte{0x04, 0x81, 0x80}, make([]byte, 128)...), TagOctetString, make([]byte, 128)},
		{"application", []byte{0x41, 0x01, 0x07}, Tag{ClassApplication, false, 1}, []byte{0x07}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if e.Tag != tt.tag {
				t.Errorf("tag = %v, want %v", e.Tag, tt.tag)
			}
			if !bytes.Equal(e.Contents, tt.contents) {
				t.Errorf("contents = %x, want %x", e.Contents, tt.contents)
			}
			if !bytes.Equal(e.Raw, tt.in) {
				t.Errorf("raw = %x, want %x", e.Raw, tt.in)
			}
			if got := Encode(tt.tag, tt.contents); !bytes.Equal(got, tt.in) {
				t.Errorf("Encode = %x, want %x", got, tt.in)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, ErrTruncated},
		{"no length", []byte{0x04}, ErrTruncated},
		{"short contents", []byte{0x04, 0x03, 0x00}, ErrTruncated},
		{"indefinite", []byte{0x30, 0x80, 0x00, 0x00}, ErrIndefinite},
		{"NULL with contents", []byte{0x05, 0x01, 0x00}, ErrInvalid},
		{"constructed NULL", []byte{0x25, 0x00}, ErrInvalid},
		{"long form for short length", []byte{0x04, 0x81, 0x01, 0x00}, ErrNonMinimal},
		{"leading zero length octet", []byte{0x04, 0x82, 0x00, 0x80}, ErrNonMinimal},
		{"length octets missing", []byte{0x04, 0x82, 0x01}, ErrTruncated},
		{"five length octets", []byte{0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00}, ErrLengthTooLong},
		{"huge length", []byte{0x04, 0x84, 0xff, 0xff, 0xff, 0xff}, ErrTruncated},
		{"high form for small tag", []byte{0xbf, 0x05, 0x00}, ErrNonMinimal},
		{"high form leading 0x80", []byte{0xbf, 0x80, 0x1f, 0x00}, ErrNonMinimal},
		{"high form truncated", []byte{0xbf, 0x87}, ErrTruncated},
		{"tag number overflow", []byte{0xbf, 0x8f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00}, ErrTagTooLarge},
		{"trailing", []byte{0x05, 0x00, 0x00}, ErrTrailingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%x) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestTruncationAlwaysFails(t *testing.T) {
	inner := Encode(Explicit(999), Encode(TagSequence, append(Encode(TagInteger, []byte{1}), Encode(TagOctetString, make([]byte, 200))...)))
	for i := range len(inner) {
		if _, err := Parse(inner[:i]); err == nil {
			t.Fatalf("truncation at %d accepted", i)
		}
	}
}

func TestChildren(t *testing.T) {
	seq := Encode(TagSequence, append(Encode(TagInteger, []byte{1}), Encode(Explicit(40), []byte{})...))
	e, err := Parse(seq)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := e.Children()
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 2 || kids[0].Tag != TagInteger || kids[1].Tag != Explicit(40) {
		t.Fatalf("children = %+v", kids)
	}
	prim, _ := Parse(Encode(TagOctetString, []byte{1}))
	if _, err := prim.Children(); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("Children of primitive: %v", err)
	}
}

func TestCryptobyteBridge(t *testing.T) {
	var b cryptobyte.Builder
	AddElement(&b, Explicit(999), func(b *cryptobyte.Builder) { b.AddBytes(Encode(TagNull, nil)) })
	b.AddBytes(Encode(TagBoolean, []byte{0xff}))
	out := b.BytesOrPanic()
	s := cryptobyte.String(out)
	if tag, ok := PeekTag(s); !ok || tag != Explicit(999) {
		t.Fatalf("PeekTag = %v %v", tag, ok)
	}
	if _, ok, _ := ReadOptional(&s, Explicit(1)); ok {
		t.Fatal("ReadOptional matched the wrong tag")
	}
	e, ok, err := ReadOptional(&s, Explicit(999))
	if !ok || err != nil || !bytes.Equal(e.Contents, []byte{0x05, 0x00}) {
		t.Fatalf("ReadOptional = %+v %v %v", e, ok, err)
	}
	e, err = ReadElement(&s)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := Boolean(e.Contents); err != nil || !v {
		t.Fatalf("Boolean = %v %v", v, err)
	}
	if len(s) != 0 {
		t.Fatalf("left %x", []byte(s))
	}
}

func TestBoolean(t *testing.T) {
	for _, in := range [][]byte{{0x01}, {}, {0x00, 0x00}, {0x7f}} {
		if _, err := Boolean(in); err == nil {
			t.Errorf("Boolean(%x) accepted", in)
		}
	}
	if v, err := Boolean([]byte{0}); err != nil || v {
		t.Errorf("Boolean(00) = %v %v", v, err)
	}
}

func TestBMPString(t *testing.T) {
	for _, s := range []string{"", "SET", "Zürich", "日本", "𝄞 clef"} {
		enc, err := AppendBMPString(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := BMPString(enc)
		if err != nil || got != s {
			t.Errorf("round trip %q = %q, %v", s, got, err)
		}
	}
	bad := [][]byte{{0x00}, {0xd8, 0x00}, {0xdc, 0x00, 0x00, 0x41}, {0xd8, 0x00, 0x00, 0x41}}
	for _, b := range bad {
		if _, err := BMPString(b); err == nil {
			t.Errorf("BMPString(%x) accepted", b)
		}
	}
	if _, err := AppendBMPString(nil, "\xff"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func TestSetOf(t *testing.T) {
	a := Encode(TagInteger, []byte{2})
	b := Encode(TagInteger, []byte{1})
	c := Encode(TagOctetString, []byte{1, 2})
	set := SetOf([][]byte{a, c, b})
	e, err := Parse(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSetOf(e.Contents); err != nil {
		t.Fatalf("sorted set rejected: %v", err)
	}
	want := append(append(append([]byte{}, b...), a...), c...)
	if !bytes.Equal(e.Contents, want) {
		t.Fatalf("order = %x, want %x", e.Contents, want)
	}
	unsorted := append(append([]byte{}, a...), b...)
	if err := CheckSetOf(unsorted); !errors.Is(err, ErrNotSorted) {
		t.Fatalf("unsorted: %v", err)
	}
}

func TestErrorNamesTypeAndField(t *testing.T) {
	err := Wrap("PInitReq", "chall-C", ErrTruncated)
	if err.Error() != "PInitReq.chall-C: truncated" {
		t.Fatalf("Error() = %q", err)
	}
	if !errors.Is(err, ErrTruncated) {
		t.Fatal("Wrap lost the cause")
	}
	if Wrap("X", "y", nil) != nil {
		t.Fatal("Wrap(nil) != nil")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x05})
	f.Add([]byte{0xbf, 0x87, 0x67, 0x01, 0x00})
	f.Add([]byte{0x04, 0x81, 0x80})
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Parse(in)
		if err != nil {
			return
		}
		// Anything accepted is canonical: re-encoding gives the same bytes.
		if got := Encode(e.Tag, e.Contents); !bytes.Equal(got, in) {
			t.Fatalf("accepted non-canonical %x (re-encodes to %x)", in, got)
		}
		if e.Tag.Constructed {
			_, _ = e.Children()
		}
	})
}
