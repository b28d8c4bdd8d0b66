package iso8583

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	for _, m := range []string{goldenEcho, goldenAuth, goldenReversal} {
		if err := WriteFrame(&buf, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{goldenEcho, goldenAuth, goldenReversal} {
		got, err := ReadFrame(&buf, DefaultMaxFrame)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("frame %q, want %q", got, want)
		}
	}
	// A stream that ends between frames ends cleanly.
	if _, err := ReadFrame(&buf, DefaultMaxFrame); err != io.EOF {
		t.Fatalf("at end of stream: %v, want io.EOF", err)
	}
}

func TestFrameRejects(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		max       int
		truncated bool
	}{
		{"zero length", "\x00\x00", 100, false},
		{"over max", "\x00\x65" + strings.Repeat("0", 0x65), 100, false},
		{"over max by one", "\x00\x0B" + strings.Repeat("0", 11), 10, false},
		{"half a length prefix", "\x00", 100, true},
		{"body cut short", "\x00\x24" + goldenEcho[:20], 100, true},
		{"length but no body", "\x00\x24", 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadFrame(strings.NewReader(tc.in), tc.max)
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("ReadFrame = %q, %v; want a *FrameError", b, err)
			}
			if errors.Is(err, ErrTruncated) != tc.truncated {
				t.Fatalf("error %v: truncated = %v, want %v", err, !tc.truncated, tc.truncated)
			}
		})
	}
	// Exactly max is fine.
	if b, err := ReadFrame(strings.NewReader("\x00\x0A"+strings.Repeat("0", 10)), 10); err != nil || len(b) != 10 {
		t.Fatalf("frame of exactly max: %q, %v", b, err)
	}
	for _, n := range []int{0, MaxFrame + 1} {
		if err := WriteFrame(io.Discard, make([]byte, n)); err == nil {
			t.Errorf("WriteFrame of %d bytes accepted", n)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("\x00\x24" + goldenEcho))
	f.Add([]byte("\x00\x00"))
	f.Add([]byte("\xff\xff"))
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxLen = 512
		b, err := ReadFrame(bytes.NewReader(in), maxLen)
		if err != nil {
			return
		}
		n := int(in[0])<<8 | int(in[1])
		if n == 0 || n > maxLen || len(b) != n || !bytes.Equal(b, in[2:2+n]) {
			t.Fatalf("ReadFrame(%q) = %q", in, b)
		}
		// Whatever a frame holds, decoding it must not panic.
		Unmarshal(b)
	})
}
