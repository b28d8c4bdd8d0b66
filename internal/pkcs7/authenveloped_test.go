package pkcs7

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpay/setpay/internal/testenv"
)

func TestEnvelopeAuthRoundTrip(t *testing.T) {
	_, _, _, p256, other := envParties(t)
	for _, tc := range []struct {
		name    string
		content []byte
		typ     asn1.ObjectIdentifier
	}{
		{"id-data", []byte("hello, modern SET"), OIDData},
		{"empty", []byte{}, OIDData},
		{"SET type", []byte("\x30\x03\x02\x01\x05"), envSETType},
		{"large", bytes.Repeat([]byte{0xab}, 5000), OIDData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := EnvelopeAuth(rand.Reader, tc.typ, tc.content, []Recipient{p256.recipient(), other.recipient()})
			if err != nil {
				t.Fatal(err)
			}
			ae, err := ParseAuthEnvelopedData(env)
			if err != nil {
				t.Fatal(err)
			}
			if !ae.ContentType.Equal(tc.typ) || len(ae.RecipientInfos) != 2 || len(ae.MAC) != 16 {
				t.Fatalf("parsed %+v", ae)
			}
			if (ae.AuthAttrs != nil) == ae.ContentType.Equal(OIDData) {
				t.Fatalf("authAttrs %x for content type %v", ae.AuthAttrs, ae.ContentType)
			}
			for _, d := range []ECDHDecrypter{p256.decrypter(), other.decrypter()} {
				got, err := ae.Open(d)
				if err != nil || !bytes.Equal(got, tc.content) {
					t.Fatalf("open: %v", err)
				}
			}
		})
	}
}

func TestAuthOpenWrongKey(t *testing.T) {
	_, _, _, p256, other := envParties(t)
	env, err := EnvelopeAuth(rand.Reader, OIDData, []byte("x"), []Recipient{p256.recipient()})
	if err != nil {
		t.Fatal(err)
	}
	ae, err := ParseAuthEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ae.Open(other.decrypter()); !errors.Is(err, ErrNoRecipient) {
		t.Fatalf("stranger: err = %v, want ErrNoRecipient", err)
	}
	// The right certificate with the wrong key: unwrap must fail.
	if _, err := ae.Open(ECDHDecrypter{Cert: p256.cert, Key: other.key}); !errors.Is(err, ErrDecryption) {
		t.Fatalf("wrong key: err = %v, want ErrDecryption", err)
	}
}

func envRecordedAuth(t *testing.T, name string, typ asn1.ObjectIdentifier) []byte {
	_, _, _, p256, _ := envParties(t)
	return envRecorded(t, name, func() ([]byte, error) {
		return EnvelopeAuth(rand.Reader, typ, []byte("recorded modern envelope"), []Recipient{p256.recipient()})
	})
}

func TestRecordedAuthEnvelopedData(t *testing.T) {
	_, _, _, p256, _ := envParties(t)
	for _, rec := range []struct {
		name string
		typ  asn1.ObjectIdentifier
	}{{"env-auth-data.der", OIDData}, {"env-auth-settype.der", envSETType}} {
		t.Run(rec.name, func(t *testing.T) {
			env := envRecordedAuth(t, rec.name, rec.typ)
			ae, err := ParseAuthEnvelopedData(env)
			if err != nil {
				t.Fatal(err)
			}
			content, err := ae.Open(p256.decrypter())
			if err != nil || string(content) != "recorded modern envelope" {
				t.Fatalf("open: %q, %v", content, err)
			}
			for n := 0; n < len(env); n++ {
				if _, err := ParseAuthEnvelopedData(env[:n]); err == nil {
					t.Fatalf("truncation to %d bytes accepted", n)
				}
			}
			if _, err := ParseAuthEnvelopedData(append(bytes.Clone(env), 0)); err == nil {
				t.Fatal("trailing byte accepted")
			}
			// Any flipped byte fails, except (for id-data, which RFC 5083
			// leaves unauthenticated) a change of the content type label.
			for i := range env {
				for _, bit := range []byte{0x01, 0x80} {
					bad := bytes.Clone(env)
					bad[i] ^= bit
					ae2, err := ParseAuthEnvelopedData(bad)
					if err != nil {
						continue
					}
					got, err := ae2.Open(p256.decrypter())
					if err != nil {
						continue
					}
					if !bytes.Equal(got, content) || ae2.ContentType.Equal(ae.ContentType) || !rec.typ.Equal(OIDData) {
						t.Fatalf("flip %#x at byte %d went unnoticed", bit, i)
					}
				}
			}
		})
	}
}

func TestAuthOpenDetectsTampering(t *testing.T) {
	_, _, _, p256, _ := envParties(t)
	ae, err := ParseAuthEnvelopedData(envRecordedAuth(t, "env-auth-settype.der", envSETType))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string][]byte{
		"encryptedContent": ae.EncryptedContent,
		"mac":              ae.MAC,
		"nonce":            ae.ContentEncryptionAlgorithm.Parameters[4:16],
		"authAttrs":        ae.AuthAttrs[2:],
		"recipientInfo":    ae.RecipientInfos[0],
	}
	for name, field := range fields {
		for i := range field {
			field[i] ^= 0x04
			_, err := ae.Open(p256.decrypter())
			field[i] ^= 0x04
			if err == nil {
				t.Fatalf("%s byte %d: tampering not detected", name, i)
			}
		}
	}
	if _, err := ae.Open(p256.decrypter()); err != nil {
		t.Fatalf("restored envelope: %v", err)
	}
}

func TestParseAuthEnvelopedDataRejects(t *testing.T) {
	env := envRecordedAuth(t, "env-auth-data.der", OIDData)
	ae, err := ParseAuthEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		input []byte
		field string
	}{
		{"wrong content type", func() []byte { b, _ := MarshalContentInfo(OIDEnvelopedData, ae.Raw); return b }(), "contentType"},
		{"version 1", func() []byte {
			b := bytes.Clone(env)
			b[bytes.Index(b, []byte{0x02, 0x01, 0x00, 0x31})+2] = 1
			return b
		}(), "version"},
		{"unauthAttrs", func() []byte {
			inner := append(bytes.Clone(ae.Raw[4:]), 0xa2, 0x00) // ae.Raw has a 2-byte long-form length
			b, _ := MarshalContentInfo(OIDAuthEnvelopedData, append([]byte{0x30, 0x82, byte(len(inner) >> 8), byte(len(inner))}, inner...))
			return b
		}(), "unauthAttrs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAuthEnvelopedData(tc.input)
			if de := envInnermostDERError(err); de == nil || de.Field != tc.field {
				t.Fatalf("err = %v, want a der.Error on field %q", err, tc.field)
			}
		})
	}
}

func TestAuthGCMParams(t *testing.T) {
	nonce := "\x04\x0c" + strings.Repeat("\x00", 12)
	for _, tc := range []struct {
		name   string
		params string
		tagLen int
	}{
		{"default 12", "\x30\x0e" + nonce, 12},
		{"16", "\x30\x11" + nonce + "\x02\x01\x10", 16},
		{"explicit 12 (not DER)", "\x30\x11" + nonce + "\x02\x01\x0c", 0},
		{"17", "\x30\x11" + nonce + "\x02\x01\x11", 0},
		{"short nonce", "\x30\x0d\x04\x0b" + strings.Repeat("\x00", 11), 0},
		{"trailing", "\x30\x11" + nonce + "\x02\x01\x10\x00", 0},
	} {
		_, tagLen, err := authGCMParams(AlgorithmIdentifier{Algorithm: OIDAES256GCM, Parameters: []byte(tc.params)})
		if tagLen != tc.tagLen || (err == nil) != (tc.tagLen != 0) {
			t.Errorf("%s: tagLen %d, err %v", tc.name, tagLen, err)
		}
	}
}

// TestEnvelopeAuthOpenSSL checks that an independent CMS implementation
// reads our AuthEnvelopedData.
func TestEnvelopeAuthOpenSSL(t *testing.T) {
	openssl := testenv.OpenSSL(t)
	_, _, _, p256, _ := envParties(t)
	content := []byte("interop: decrypted by openssl cms")
	env, err := EnvelopeAuth(rand.Reader, OIDData, content, []Recipient{p256.recipient()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in := write("env.der", env)
	cert := write("cert.pem", p256.certPEM)
	key := write("key.pem", p256.keyPEM)
	out, err := exec.Command(openssl, "cms", "-decrypt", "-inform", "DER", "-in", in, "-recip", cert, "-inkey", key).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -decrypt: %v\n%s", err, out)
	}
	if !bytes.Equal(out, content) {
		t.Fatalf("openssl decrypted %q, want %q", out, content)
	}
}

func FuzzParseAuthEnvelopedData(f *testing.F) {
	for _, name := range []string{"env-auth-data.der", "env-auth-settype.der"} {
		b, err := envReadTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	_, _, _, p256, _ := envParties(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ae, err := ParseAuthEnvelopedData(b)
		if err != nil {
			return
		}
		if len(ae.RecipientInfos) == 0 || ae.Version != 0 || ae.Raw == nil || ae.MAC == nil {
			t.Fatalf("accepted inconsistent %+v", ae)
		}
		_, _ = ae.Open(p256.decrypter())
	})
}
