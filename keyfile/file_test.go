package keyfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if err := WriteFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("second"))
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: %v; want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Fatalf("file now holds %q", got)
	}
}

func TestReadFileRefusesOddFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(dir); err == nil {
		t.Fatal("read a directory")
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(big); err == nil {
		t.Fatal("read a file larger than a key file can be")
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestSealedFileOnDisk is the whole path: seal, write, read, open; the
// file on disk never holds the key in the clear.
func TestSealedFileOnDisk(t *testing.T) {
	pkcs8, b := sealEC(t, RoleGatewaySigning, cheapArgon)
	path := filepath.Join(t.TempDir(), "gateway-signing.key")
	if err := WriteFile(path, b); err != nil {
		t.Fatal(err)
	}
	raw, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, pkcs8[len(pkcs8)-32:]) {
		t.Fatal("key bytes on disk")
	}
	got, err := OpenSigningKey(raw, RoleGatewaySigning, pass)
	if err != nil {
		t.Fatal(err)
	}
	if !getKeys(t).ec.Equal(got) {
		t.Fatal("loaded another key")
	}
}
