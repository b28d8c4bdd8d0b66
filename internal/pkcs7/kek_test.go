package pkcs7

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func kekTestRecipient(t testing.TB) KEKRecipient {
	kek := make([]byte, 32)
	rand.Read(kek)
	return KEKRecipient{KeyID: []byte("back key"), KEK: kek}
}

func TestKEKRoundTrip(t *testing.T) {
	r := kekTestRecipient(t)
	content := []byte{0x30, 0x03, 0x02, 0x01, 0x07}
	ci, err := EnvelopeAuth(rand.Reader, OIDSignedData, content, []Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	ae, err := ParseAuthEnvelopedData(ci)
	if err != nil {
		t.Fatal(err)
	}
	if len(ae.RecipientInfos) != 1 || ae.RecipientInfos[0][0] != 0xa2 {
		t.Fatalf("want one [2] KEKRecipientInfo, got %x", ae.RecipientInfos)
	}
	got, err := ae.Open(r)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("Open = %x, %v", got, err)
	}
}

func TestKEKWrongKey(t *testing.T) {
	r := kekTestRecipient(t)
	ci, err := EnvelopeAuth(rand.Reader, OIDData, []byte{5, 0}, []Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	ae, err := ParseAuthEnvelopedData(ci)
	if err != nil {
		t.Fatal(err)
	}
	wrong := kekTestRecipient(t)
	if _, err := ae.Open(wrong); !errors.Is(err, ErrDecryption) {
		t.Errorf("same id, wrong KEK: %v", err)
	}
	wrong.KeyID = []byte("other")
	if _, err := ae.Open(wrong); !errors.Is(err, ErrNoRecipient) {
		t.Errorf("other id: %v", err)
	}
	if _, err := EnvelopeAuth(rand.Reader, OIDData, []byte{5, 0}, []Recipient{KEKRecipient{KeyID: []byte{1}, KEK: make([]byte, 16)}}); err == nil {
		t.Error("AES-128 KEK accepted")
	}
}

// GCM authenticates everything that matters: every single-bit flip and
// every truncation is refused.
func TestKEKFlipsAndTruncations(t *testing.T) {
	r := kekTestRecipient(t)
	content := []byte("CertResData stand-in")
	ci, err := EnvelopeAuth(rand.Reader, OIDData, content, []Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	open := func(b []byte) error {
		ae, err := ParseAuthEnvelopedData(b)
		if err != nil {
			return err
		}
		_, err = ae.Open(r)
		return err
	}
	for n := 0; n < len(ci); n++ {
		if open(ci[:n]) == nil {
			t.Fatalf("truncation to %d bytes opened", n)
		}
	}
	for i := range ci {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(ci)
			bad[i] ^= bit
			if open(bad) == nil {
				t.Fatalf("flip %#x at byte %d opened", bit, i)
			}
		}
	}
}

func FuzzKEKUnwrap(f *testing.F) {
	r := KEKRecipient{KeyID: []byte("back key"), KEK: make([]byte, 32)}
	ci, err := EnvelopeAuth(rand.Reader, OIDData, []byte("seed"), []Recipient{r})
	if err != nil {
		f.Fatal(err)
	}
	ae, err := ParseAuthEnvelopedData(ci)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ae.RecipientInfos[0])
	f.Fuzz(func(t *testing.T, ri []byte) {
		cek, ok, err := r.unwrapCEK(ri)
		if ok && (err != nil || len(cek) != authCEKLen) {
			t.Fatalf("ok with err %v, cek %d bytes", err, len(cek))
		}
	})
}
