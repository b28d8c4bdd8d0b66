package keyfile

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func fuzzSeeds(f *testing.F) (pemFiles [][]byte, ders [][]byte) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "p256-*.pem"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			f.Fatalf("%s: no PEM", p)
		}
		pemFiles = append(pemFiles, b)
		ders = append(ders, block.Bytes)
	}
	ders = append(ders, hostileFile(tagArgon2id, 1, 4<<30, 1), hostileFile(tagScrypt, 4, 1, 1))
	return pemFiles, ders
}

// FuzzUnmarshalEncryptedKey: the decoder never panics, and whatever it
// accepts re-encodes to the same bytes (one encoding per file).
func FuzzUnmarshalEncryptedKey(f *testing.F) {
	_, ders := fuzzSeeds(f)
	for _, d := range ders {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := UnmarshalEncryptedKey(b)
		if err != nil {
			return
		}
		again, err := k.Marshal()
		if err != nil {
			t.Fatalf("decoded but does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, again)
		}
	})
}

// FuzzOpen runs the whole reader on arbitrary files with the recorded
// passphrase. Only files whose KDF is cheap are opened, to keep the fuzzer
// fast; only the recorded files themselves may open.
func FuzzOpen(f *testing.F) {
	pemFiles, _ := fuzzSeeds(f)
	for _, p := range pemFiles {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := Decode(b)
		if err != nil {
			return
		}
		switch p := k.KDF.(type) {
		case Argon2id:
			if p.Time*p.MemoryKiB > 64 {
				return
			}
		case Scrypt:
			if p.LogN > 6 || p.R*p.P > 4 {
				return
			}
		}
		got, err := k.Open(RoleCardholderSigning, pass)
		if err != nil {
			return
		}
		for _, seed := range pemFiles {
			if bytes.Equal(b, seed) {
				return
			}
		}
		t.Fatalf("an altered file opened to %d bytes", len(got))
	})
}
