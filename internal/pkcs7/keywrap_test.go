package pkcs7

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func envHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3394 §4: vectors 4.1 (128-bit KEK, 128-bit key) and 4.6 (256-bit
// KEK, 256-bit key).
func TestAESKeyWrapRFC3394(t *testing.T) {
	for _, tc := range []struct{ name, kek, key, wrapped string }{
		{"4.1", "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
			"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"4.6", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
			"00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kek, key, want := envHex(t, tc.kek), envHex(t, tc.key), envHex(t, tc.wrapped)
			got, err := aesWrapKey(kek, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("wrap = %X, %v; want %X", got, err, want)
			}
			back, err := aesUnwrapKey(kek, want)
			if err != nil || !bytes.Equal(back, key) {
				t.Fatalf("unwrap = %X, %v; want %X", back, err, key)
			}
			for i := range want {
				bad := bytes.Clone(want)
				bad[i] ^= 0x01
				if _, err := aesUnwrapKey(kek, bad); err == nil {
					t.Fatalf("unwrap accepted a flip at byte %d", i)
				}
			}
			for n := 0; n < len(want); n++ {
				if _, err := aesUnwrapKey(kek, want[:n]); err == nil {
					t.Fatalf("unwrap accepted truncation to %d bytes", n)
				}
			}
		})
	}
}

func TestAESKeyWrapRejectsBadLengths(t *testing.T) {
	kek := make([]byte, 32)
	for _, n := range []int{0, 8, 15, 17, 31} {
		if _, err := aesWrapKey(kek, make([]byte, n)); err == nil {
			t.Errorf("wrap accepted a %d-byte key", n)
		}
	}
	if _, err := aesWrapKey(make([]byte, 7), make([]byte, 16)); err == nil {
		t.Error("wrap accepted a 7-byte KEK")
	}
}
