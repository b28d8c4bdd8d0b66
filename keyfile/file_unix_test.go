//go:build !windows

package keyfile

// Tests of the 0600 mode key files get. They are built only where mode
// bits describe access: on Windows ReadFile and WriteFile ignore them
// (see file.go), so there is nothing to assert there.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestWriteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "merchant-signing.key")
	if err := WriteFile(path, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("mode %04o, want 0600", m)
	}
	got, err := ReadFile(path)
	if err != nil || string(got) != "sealed" {
		t.Fatalf("ReadFile: %q, %v", got, err)
	}
}

func TestReadFileRefusesWideModes(t *testing.T) {
	dir := t.TempDir()
	for _, m := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		path := filepath.Join(dir, "k")
		os.Remove(path)
		if err := os.WriteFile(path, []byte("sealed"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(path)
		if !errors.Is(err, ErrFileMode) || b != nil {
			t.Fatalf("mode %04o: %v; want ErrFileMode", m, err)
		}
		if want := fmt.Sprintf("mode %04o", m); !strings.Contains(err.Error(), want) {
			t.Fatalf("error does not say %q: %v", want, err)
		}
	}
	// Narrower than 0600 is fine.
	path := filepath.Join(dir, "k")
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
}

func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	// Replacing nothing creates the file.
	if err := ReplaceFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadFile(path); string(got) != "two" {
		t.Fatalf("file holds %q", got)
	}
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("mode %04o after replace", m)
	}
	// A readable existing file is refused and left as it was.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(path, []byte("three")); !errors.Is(err, ErrFileMode) {
		t.Fatalf("replace of a 0644 file: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "two" {
		t.Fatalf("refused replace changed the file to %q", got)
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries", len(entries))
	}
	// A directory in the way is refused.
	if err := ReplaceFile(dir, []byte("x")); err == nil {
		t.Fatal("replaced a directory")
	}
}
