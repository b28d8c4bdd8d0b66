package pkcs7

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestEncryptSETRoundTrip(t *testing.T) {
	content := []byte{0x30, 0x03, 0x02, 0x01, 0x07}
	for _, keyLen := range []int{8, 24} {
		key := make([]byte, keyLen)
		rand.Read(key)
		ci, err := EncryptSET(rand.Reader, OIDData, content, key)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ci, content) {
			t.Errorf("key %d: plaintext visible in EncryptedData", keyLen)
		}
		ed, err := ParseEncryptedData(ci)
		if err != nil {
			t.Fatal(err)
		}
		want := OIDDESCBC
		if keyLen == 24 {
			want = OIDDESEDE3CBC
		}
		if !ed.ContentEncryptionAlgorithm.Algorithm.Equal(want) || !ed.ContentType.Equal(OIDData) {
			t.Errorf("key %d: algorithm %v, content type %v", keyLen, ed.ContentEncryptionAlgorithm.Algorithm, ed.ContentType)
		}
		got, err := ed.Decrypt(key)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("key %d: Decrypt = %x, %v", keyLen, got, err)
		}
		if _, err := ed.Decrypt(key[:keyLen-1]); !errors.Is(err, ErrDecryption) {
			t.Errorf("key %d: short key: %v", keyLen, err)
		}
	}
	if _, err := EncryptSET(rand.Reader, OIDData, content, make([]byte, 16)); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("16-byte key: %v", err)
	}
}

// A wrong key never gives back the content; CBC is unauthenticated, so
// it is either a padding failure or garbage (EncK's signature catches that).
func TestEncryptedDataWrongKey(t *testing.T) {
	content := bytes.Repeat([]byte("setpay"), 10)
	key := make([]byte, 24)
	rand.Read(key)
	ci, err := EncryptSET(rand.Reader, OIDData, content, key)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ParseEncryptedData(ci)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		other := make([]byte, 24)
		rand.Read(other)
		if got, err := ed.Decrypt(other); err == nil && bytes.Equal(got, content) {
			t.Fatal("wrong key decrypted the content")
		}
	}
}

// Every truncation is refused by the parser; every single-bit flip is
// refused or changes the plaintext (never silently accepted as the
// original).
func TestEncryptedDataFlipsAndTruncations(t *testing.T) {
	content := []byte("CertResData stand-in, long enough for two blocks")
	key := make([]byte, 8)
	rand.Read(key)
	ci, err := EncryptSET(rand.Reader, OIDData, content, key)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(ci); n++ {
		if _, err := ParseEncryptedData(ci[:n]); err == nil {
			t.Fatalf("truncation to %d bytes parsed", n)
		}
	}
	for i := range ci {
		bad := bytes.Clone(ci)
		bad[i] ^= 0x01
		ed, err := ParseEncryptedData(bad)
		if err != nil {
			continue
		}
		if got, err := ed.Decrypt(key); err == nil && bytes.Equal(got, content) && ed.ContentType.Equal(OIDData) {
			t.Fatalf("flip at byte %d went unnoticed", i)
		}
	}
}

func TestParseEncryptedDataRejects(t *testing.T) {
	key := make([]byte, 8)
	ci, err := EncryptSET(rand.Reader, OIDData, []byte{5, 0}, key)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ParseEncryptedData(ci)
	if err != nil {
		t.Fatal(err)
	}
	for name, inner := range map[string][]byte{
		"version 1":        append([]byte{0x30, byte(len(ed.Raw) - 2)}, append([]byte{2, 1, 1}, ed.Raw[5:]...)...),
		"unprotectedAttrs": append([]byte{0x30, byte(len(ed.Raw))}, append(bytes.Clone(ed.Raw[2:]), 0xa1, 0x00)...),
		"trailing":         append([]byte{0x30, byte(len(ed.Raw))}, append(bytes.Clone(ed.Raw[2:]), 0x05, 0x00)...),
	} {
		b, err := MarshalContentInfo(OIDEncryptedData, inner)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseEncryptedData(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	other, err := MarshalContentInfo(OIDEnvelopedData, ed.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEncryptedData(other); err == nil {
		t.Error("envelopedData content type accepted")
	}
}

func FuzzParseEncryptedData(f *testing.F) {
	key := make([]byte, 8)
	ci, err := EncryptSET(rand.Reader, OIDData, []byte("seed"), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ci)
	f.Fuzz(func(t *testing.T, b []byte) {
		ed, err := ParseEncryptedData(b)
		if err != nil {
			return
		}
		ed.Decrypt(key)
		ed.Decrypt(make([]byte, 24))
	})
}
