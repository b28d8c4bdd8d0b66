package msg

// Helpers shared by the codec tests of every message family: table-driven
// round trips, golden vectors, mutations, rejections and fuzz bodies.

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/setpay/setpay/internal/der"
)

// update regenerates the golden files in testdata/ (go test -update).
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func ptr[T any](v T) *T { return &v }

// marshaler is what every encodable type offers.
type marshaler = interface{ Marshal() ([]byte, error) }

// decoder adapts a typed Unmarshal function for table tests.
func decoder[T marshaler](f func([]byte) (T, error)) func([]byte) (marshaler, error) {
	return func(b []byte) (marshaler, error) {
		v, err := f(b)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// codec is one standalone type under test.
type codec struct {
	name      string
	golden    string // testdata file name; "" for no golden vector
	value     marshaler
	unmarshal func([]byte) (marshaler, error)
}

// clearRaw zeroes every unexported field named raw, so a decoded value can
// be compared with the value it was encoded from.
func clearRaw(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearRaw(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if v.Type().Field(i).Name == "raw" && f.CanAddr() {
				reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().SetZero()
				continue
			}
			clearRaw(f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			clearRaw(v.Index(i))
		}
	}
}

// equalIgnoringRaw reports whether the values a and b point to are equal
// apart from the raw fields only decoding fills in. Neither is modified.
func equalIgnoringRaw(a, b any) bool {
	cp := func(v any) any {
		c := reflect.New(reflect.TypeOf(v).Elem())
		c.Elem().Set(reflect.ValueOf(v).Elem())
		clearRaw(c)
		return c.Interface()
	}
	return reflect.DeepEqual(cp(a), cp(b))
}

// rawer is what every standalone type offers.
type rawer interface{ Raw() []byte }

func runRoundTrips(t *testing.T, codecs []codec) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			enc, err := c.value.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if _, err := der.Parse(enc); err != nil {
				t.Fatalf("encoding is not one DER element: %v", err)
			}
			got, err := c.unmarshal(enc)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if r, ok := got.(rawer); !ok || !bytes.Equal(r.Raw(), enc) {
				t.Errorf("Raw() does not return the decoded bytes")
			}
			again, err := got.Marshal()
			if err != nil || !bytes.Equal(again, enc) {
				t.Errorf("re-encoding differs (err %v)", err)
			}
			if !equalIgnoringRaw(got, c.value) {
				t.Errorf("decoded value differs:\n got %+v\nwant %+v", got, c.value)
			}
		})
	}
}

func runGolden(t *testing.T, codecs []codec) {
	for _, c := range codecs {
		if c.golden == "" {
			continue
		}
		t.Run(c.golden, func(t *testing.T) {
			enc, err := c.value.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.golden)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, enc, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(enc, want) {
				t.Errorf("encoding differs from %s (run with -update if the change is intended)", path)
			}
			if _, err := c.unmarshal(want); err != nil {
				t.Errorf("golden vector does not decode: %v", err)
			}
		})
	}
}

// runMutations checks, for every valid encoding, that each truncation is an
// error and that no single-byte change panics; a change that still decodes
// must re-encode to exactly the changed bytes (decoding accepts DER only).
func runMutations(t *testing.T, codecs []codec) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			enc, err := c.value.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(enc); i++ {
				if _, err := c.unmarshal(enc[:i]); err == nil {
					t.Fatalf("truncation to %d of %d bytes decoded", i, len(enc))
				}
			}
			if _, err := c.unmarshal(append(bytes.Clone(enc), 0)); !errors.Is(err, der.ErrTrailingData) {
				t.Errorf("trailing byte: got %v, want ErrTrailingData", err)
			}
			for i := range enc {
				for _, x := range []byte{0x01, 0x80, 0xff} {
					m := bytes.Clone(enc)
					m[i] ^= x
					checkStrict(t, c.unmarshal, m)
				}
			}
		})
	}
}

// checkStrict decodes b and, if that succeeds, requires the re-encoding to
// be b itself.
func checkStrict(t *testing.T, unmarshal func([]byte) (marshaler, error), b []byte) {
	t.Helper()
	v, err := unmarshal(b)
	if err != nil {
		var de *der.Error
		if !errors.As(err, &de) {
			t.Errorf("error %v is not a *der.Error", err)
		}
		return
	}
	again, err := v.Marshal()
	if err != nil {
		t.Errorf("decoded %x but cannot re-encode: %v", b, err)
		return
	}
	if !bytes.Equal(again, b) {
		t.Errorf("non-canonical input accepted:\n in %x\nout %x", b, again)
	}
}

// containsField reports whether some *der.Error in err's chain names field.
func containsField(err error, field string) bool {
	for err != nil {
		if de, ok := err.(*der.Error); ok && de.Field == field {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

// mustMarshal encodes v or fails the test.
func mustMarshal(t testing.TB, v marshaler) []byte {
	t.Helper()
	b, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceOnce swaps the single occurrence of old in b for new; the
// surrounding lengths are fixed up by the caller's choice of equal-length
// replacements, so the result differs only where intended.
func replaceOnce(t testing.TB, b, old, new []byte) []byte {
	t.Helper()
	if bytes.Count(b, old) != 1 {
		t.Fatalf("pattern %x occurs %d times", old, bytes.Count(b, old))
	}
	return bytes.Replace(b, old, new, 1)
}

func contentsOf(t testing.TB, enc []byte) []byte {
	t.Helper()
	e, err := der.Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	return e.Contents
}

// nonMinimalLength re-encodes a SEQUENCE with a 4-octet length (never
// minimal for SET-sized messages).
func nonMinimalLength(t testing.TB, enc []byte) []byte {
	c := contentsOf(t, enc)
	n := len(c)
	return append([]byte{0x30, 0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, c...)
}

func fuzzSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
}

// fuzzStrict is the body of every fuzz target: never panic, and anything
// accepted re-encodes to exactly the input.
func fuzzStrict[T marshaler](t *testing.T, b []byte, dec func([]byte) (T, error)) {
	v, err := dec(b)
	if err != nil {
		return
	}
	again, err := v.Marshal()
	if err != nil {
		t.Fatalf("accepted %x but cannot re-encode: %v", b, err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted non-canonical input %x (re-encodes as %x)", b, again)
	}
}

// marshalReject is a value Marshal must refuse with a *der.Error naming field.
type marshalReject struct {
	name  string
	v     marshaler
	field string
}

// runMarshalRejects checks that invalid values are refused by Marshal with
// an error naming the type and field, never a panic.
func runMarshalRejects(t *testing.T, tests []marshalReject) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Marshal()
			var de *der.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *der.Error", err)
			}
			if !containsField(err, tc.field) {
				t.Errorf("error %q does not name field %q", err, tc.field)
			}
		})
	}
}

// unmarshalReject is an encoding dec must refuse.
type unmarshalReject struct {
	name string
	in   []byte
	dec  func([]byte) error
}

func runUnmarshalRejects(t *testing.T, tests []unmarshalReject) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec(tc.in); err == nil {
				t.Fatal("decoded")
			}
		})
	}
}

// checkMessage checks m's Message CHOICE tag and name, and that the decoder
// registered for the tag decodes m's encoding as the same message.
func checkMessage(t *testing.T, m Message, tag uint32, name string) {
	t.Helper()
	if m.Tag() != tag || m.Name() != name {
		t.Errorf("%s: got tag %d name %q, want %d %q", name, m.Tag(), m.Name(), tag, name)
	}
	dec := messageDecoders[tag]
	if dec == nil {
		t.Fatalf("no decoder registered for %s [%d]", name, tag)
	}
	got, err := dec(mustMarshal(t, m))
	if err != nil || got.Name() != name {
		t.Errorf("registered decoder for %s: %v, %v", name, got, err)
	}
}
