package demo

import (
	"bytes"
	"testing"
)

// TestFrameCutter: the tap reassembles length-prefixed frames however the
// stream is split, and keeps a partial frame until the rest arrives.
func TestFrameCutter(t *testing.T) {
	stream := []byte{0, 3, 'a', 'b', 'c', 0, 0, 0, 2, 'd', 'e', 0, 5, 'f'}
	want := [][]byte{[]byte("abc"), {}, []byte("de")}
	for split := range len(stream) + 1 {
		var fc frameCutter
		got := append(fc.feed(stream[:split]), fc.feed(stream[split:])...)
		if len(got) != len(want) {
			t.Fatalf("split at %d: %d frames, want %d", split, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("split at %d: frame %d = %q, want %q", split, i, got[i], want[i])
			}
		}
		if !bytes.Equal(fc.buf, []byte{0, 5, 'f'}) {
			t.Errorf("split at %d: left %v, want the partial frame", split, fc.buf)
		}
	}
}
