package wallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"testing"
)

// FuzzParseMemory: no input makes the saved-memory decoder panic, and
// whatever it accepts is exactly what SaveMemory would write for it.
func FuzzParseMemory(f *testing.F) {
	seed := func(m memory) []byte {
		b, err := encodeMemory(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	item := asn1.RawValue{FullBytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}
	f.Add(seed(memory{Version: memoryVersion}))
	f.Add(seed(memory{Version: memoryVersion, Certificates: []asn1.RawValue{item}, CRLs: []asn1.RawValue{item}, BCIs: []asn1.RawValue{item},
		Merchants: []merchantMemory{{MerID: "MER-0001", Thumbs: [][]byte{make([]byte, sha256.Size)}}, {MerID: "MER-0002", Origin: "https://shop.example"}}}))
	f.Add(seed(memory{Version: 2}))
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMemory(b)
		if err != nil {
			if m != nil {
				t.Fatal("a memory returned with an error")
			}
			return
		}
		if got, err := encodeMemory(*m); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("accepted % x, which re-encodes as % x (%v)", b, got, err)
		}
	})
}
