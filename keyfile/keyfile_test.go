package keyfile

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/suite"
)

var update = flag.Bool("update", false, "rewrite the recorded key-file vectors in testdata/")

// Cheap parameters: tests exercise the format, not the KDF's cost.
var (
	cheapArgon  = Argon2id{Time: 1, MemoryKiB: 8, Threads: 1}
	cheapScrypt = Scrypt{LogN: 4, R: 1, P: 1}
	pass        = []byte("correct horse battery staple")
)

type testKeys struct {
	rsa   *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	ecdhX *ecdh.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		// 1024 bits is set1's smallest size and quick to generate.
		if keys.rsa, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
		if keys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if keys.ecdhX, err = ecdh.P256().GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
	return keys
}

func TestSigningKeyRoundTrip(t *testing.T) {
	k := getKeys(t)
	for _, signer := range []crypto.Signer{k.rsa, k.ec} {
		for _, p := range []Params{cheapArgon, cheapScrypt} {
			b, err := SealSigningKey(rand.Reader, signer, RoleCardholderSigning, pass, p)
			if err != nil {
				t.Fatalf("%T %v: seal: %v", signer, p, err)
			}
			got, err := OpenSigningKey(b, RoleCardholderSigning, pass)
			if err != nil {
				t.Fatalf("%T %v: open: %v", signer, p, err)
			}
			want, _ := suite.MarshalSigningKey(signer)
			have, _ := suite.MarshalSigningKey(got)
			if !bytes.Equal(want, have) {
				t.Fatalf("%T %v: loaded key differs from the sealed one", signer, p)
			}
			// The loaded key works: it signs, and the original's public key verifies.
			digest := sha256.Sum256([]byte("order"))
			sig, err := got.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := signer.Public().(type) {
			case *rsa.PublicKey:
				err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pub, digest[:], sig) {
					err = errors.New("ECDSA signature does not verify")
				}
			}
			if err != nil {
				t.Fatalf("%T %v: %v", signer, p, err)
			}
			f, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.Role != RoleCardholderSigning || f.KDF != p || f.Version != Version {
				t.Fatalf("Decode: role %q kdf %v version %d", f.Role, f.KDF, f.Version)
			}
		}
	}
}

func TestExchangeKeyRoundTrip(t *testing.T) {
	k := getKeys(t)
	for _, priv := range []crypto.PrivateKey{k.rsa, k.ec, k.ecdhX} {
		xk, err := suite.WrapExchangeKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		b, err := SealExchangeKey(rand.Reader, xk, RoleGatewayExchange, pass, cheapArgon)
		if err != nil {
			t.Fatalf("%T: seal: %v", priv, err)
		}
		got, err := OpenExchangeKey(b, RoleGatewayExchange, pass)
		if err != nil {
			t.Fatalf("%T: open: %v", priv, err)
		}
		want, _ := suite.MarshalExchangeKey(xk)
		have, _ := suite.MarshalExchangeKey(got)
		if !bytes.Equal(want, have) {
			t.Fatalf("%T: loaded exchange key differs", priv)
		}
		if _, ok := got.(crypto.Signer); ok {
			t.Fatalf("%T: a loaded exchange key can sign", priv)
		}
	}
}

func sealEC(t *testing.T, role string, p Params) (pkcs8, sealed []byte) {
	t.Helper()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(getKeys(t).ec)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err = Seal(rand.Reader, pkcs8, role, pass, p)
	if err != nil {
		t.Fatal(err)
	}
	return pkcs8, sealed
}

func TestWrongPassphrase(t *testing.T) {
	_, b := sealEC(t, RoleMerchantSigning, cheapArgon)
	for _, wrong := range [][]byte{
		[]byte("correct horse battery stapl"),
		[]byte("correct horse battery staple "),
		[]byte("Correct horse battery staple"),
		[]byte("x"),
	} {
		got, err := Open(b, RoleMerchantSigning, wrong)
		if !errors.Is(err, ErrWrongPassphrase) || got != nil {
			t.Fatalf("passphrase %q: got %d bytes, err %v; want ErrWrongPassphrase", wrong, len(got), err)
		}
	}
	if _, err := Open(b, RoleMerchantSigning, nil); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
}

func TestWrongRole(t *testing.T) {
	_, b := sealEC(t, RoleGatewayExchange, cheapArgon)
	got, err := OpenSigningKey(b, RoleCardholderSigning, pass)
	if !errors.Is(err, ErrWrongRole) || got != nil {
		t.Fatalf("got %v, %v; want ErrWrongRole", got, err)
	}
	if !strings.Contains(err.Error(), `"gateway exchange"`) || !strings.Contains(err.Error(), `"cardholder signing"`) {
		t.Fatalf("error does not name both roles: %v", err)
	}
}

// TestRoleIsAuthenticated rewrites the role in the header, leaving the
// ciphertext alone: the AEAD's additional data must catch it, or a key
// could be loaded under any role by editing one field.
func TestRoleIsAuthenticated(t *testing.T) {
	_, b := sealEC(t, RoleGatewayExchange, cheapArgon)
	k, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*EncryptedKey){
		func(k *EncryptedKey) { k.Role = RoleCardholderSigning },
		func(k *EncryptedKey) { k.KDF = Scrypt{LogN: 4, R: 1, P: 1} },
		func(k *EncryptedKey) { k.KDF = Argon2id{Time: 1, MemoryKiB: 8, Threads: 1} }, // same KDF, re-encoded: must still open
	} {
		e := *k
		e.header, e.raw = nil, nil
		edit(&e)
		d, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		forged := pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: d})
		got, err := Open(forged, e.Role, pass)
		if e.Role == k.Role && e.KDF == k.KDF {
			if err != nil {
				t.Fatalf("unchanged header re-encoded: %v", err)
			}
			continue
		}
		if !errors.Is(err, ErrWrongPassphrase) || got != nil {
			t.Fatalf("edited header (role %q, %v) opened: %d bytes, %v", e.Role, e.KDF, len(got), err)
		}
	}
}

func checkOpenFails(t *testing.T, b []byte, pkcs8 []byte, what string) error {
	t.Helper()
	got, err := Open(b, RoleMerchantSigning, pass)
	if err == nil || got != nil {
		t.Fatalf("%s: opened (%d bytes, same key %v)", what, len(got), bytes.Equal(got, pkcs8))
	}
	return err
}

// TestEveryByteFlip alters each byte of the PEM and of the DER inside it,
// in three ways each: every altered file must fail to open.
func TestEveryByteFlip(t *testing.T) {
	for _, p := range []Params{cheapArgon, cheapScrypt} {
		pkcs8, b := sealEC(t, RoleMerchantSigning, p)
		block, _ := pem.Decode(b)
		for _, mask := range []byte{0x01, 0x40, 0xff} {
			for i := range b {
				c := bytes.Clone(b)
				c[i] ^= mask
				checkOpenFails(t, c, pkcs8, "PEM byte flip")
			}
			for i := range block.Bytes {
				c := bytes.Clone(block.Bytes)
				c[i] ^= mask
				checkOpenFails(t, pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: c}), pkcs8, "DER byte flip")
			}
		}
	}
}

func TestTruncation(t *testing.T) {
	pkcs8, b := sealEC(t, RoleMerchantSigning, cheapArgon)
	block, _ := pem.Decode(b)
	for n := range len(b) {
		checkOpenFails(t, b[:n], pkcs8, "truncated PEM")
	}
	for n := range len(block.Bytes) {
		checkOpenFails(t, pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: block.Bytes[:n]}), pkcs8, "truncated DER")
		if _, err := UnmarshalEncryptedKey(block.Bytes[:n]); err == nil {
			t.Fatalf("DER truncated to %d bytes decodes", n)
		}
	}
	// Extensions are refused too: text after the block, a byte after the DER.
	checkOpenFails(t, append(bytes.Clone(b), "\n"...), pkcs8, "PEM with a trailing line")
	checkOpenFails(t, append([]byte("key:\n"), b...), pkcs8, "PEM with a leading line")
	if _, err := UnmarshalEncryptedKey(append(bytes.Clone(block.Bytes), 0)); !errors.Is(err, der.ErrTrailingData) {
		t.Fatalf("DER with a trailing byte: %v", err)
	}
}

// TestNoKeyMaterialLeaks scans the sealed file and every error a failed
// open produces for the private key, its PKCS#8 encoding and the
// passphrase, raw, hex and base64.
func TestNoKeyMaterialLeaks(t *testing.T) {
	pkcs8, b := sealEC(t, RoleMerchantSigning, cheapArgon)
	block, _ := pem.Decode(b)
	scalar, err := getKeys(t).ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{scalar, pass}
	// Every 12-byte window of the PKCS#8: any copied fragment would show.
	for i := 0; i+12 <= len(pkcs8); i++ {
		secrets = append(secrets, pkcs8[i:i+12])
	}
	var texts [][]byte
	texts = append(texts, b, block.Bytes)
	for _, err := range []error{
		checkOpenFails(t, b[:len(b)/2], pkcs8, "truncated"),
		func() error { _, err := Open(b, RoleMerchantSigning, []byte("wrong")); return err }(),
		func() error { _, err := Open(b, RoleGatewaySigning, pass); return err }(),
		func() error {
			c := bytes.Clone(b)
			c[100] ^= 1
			_, err := Open(c, RoleMerchantSigning, pass)
			return err
		}(),
		func() error { _, err := OpenSigningKey(b, RoleMerchantSigning, []byte("wrong")); return err }(),
	} {
		if err == nil {
			t.Fatal("expected an error")
		}
		texts = append(texts, []byte(err.Error()))
	}
	for _, text := range texts {
		for _, s := range secrets {
			for _, enc := range [][]byte{s, []byte(hex.EncodeToString(s)), []byte(base64.StdEncoding.EncodeToString(s))} {
				if bytes.Contains(text, enc) {
					t.Fatalf("secret %x found in %q", s, text)
				}
			}
		}
	}
}

func TestSealRefuses(t *testing.T) {
	pkcs8, _ := sealEC(t, RoleMerchantSigning, cheapArgon)
	for _, c := range []struct {
		name   string
		role   string
		pass   []byte
		params Params
		pkcs8  []byte
	}{
		{"empty role", "", pass, cheapArgon, pkcs8},
		{"non-ASCII role", "händler signing", pass, cheapArgon, pkcs8},
		{"control character in role", "merchant\nsigning", pass, cheapArgon, pkcs8},
		{"long role", strings.Repeat("r", 65), pass, cheapArgon, pkcs8},
		{"empty passphrase", RoleMerchantSigning, nil, cheapArgon, pkcs8},
		{"empty key", RoleMerchantSigning, pass, cheapArgon, nil},
		{"argon2id time 0", RoleMerchantSigning, pass, Argon2id{Time: 0, MemoryKiB: 8, Threads: 1}, pkcs8},
		{"argon2id memory below 8*threads", RoleMerchantSigning, pass, Argon2id{Time: 1, MemoryKiB: 31, Threads: 4}, pkcs8},
		{"argon2id memory 4 GiB", RoleMerchantSigning, pass, Argon2id{Time: 1, MemoryKiB: 4 << 20, Threads: 1}, pkcs8},
		{"argon2id threads 0", RoleMerchantSigning, pass, Argon2id{Time: 1, MemoryKiB: 8, Threads: 0}, pkcs8},
		{"scrypt logN 0", RoleMerchantSigning, pass, Scrypt{LogN: 0, R: 1, P: 1}, pkcs8},
		{"scrypt logN 21", RoleMerchantSigning, pass, Scrypt{LogN: 21, R: 1, P: 1}, pkcs8},
		{"scrypt r 0", RoleMerchantSigning, pass, Scrypt{LogN: 4, R: 0, P: 1}, pkcs8},
		{"scrypt p 17", RoleMerchantSigning, pass, Scrypt{LogN: 4, R: 1, P: 17}, pkcs8},
	} {
		if b, err := Seal(rand.Reader, c.pkcs8, c.role, c.pass, c.params); err == nil {
			t.Errorf("%s: sealed %d bytes", c.name, len(b))
		}
	}
}

// hostileFile builds a key file whose KDF parameters are out of bounds, as
// an attacker who can write the file would.
func hostileFile(tag cbasn1.Tag, params ...uint64) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("merchant signing")) })
			b.AddASN1(tag, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(make([]byte, 16))
				for _, p := range params {
					b.AddASN1Uint64(p)
				}
			})
			b.AddASN1OctetString(make([]byte, 12))
		})
		b.AddASN1OctetString(make([]byte, 64))
	})
	return b.BytesOrPanic()
}

// TestDecoderBoundsCost checks that a file asking for a ruinous KDF is
// refused before any key derivation (this test would run out of memory or
// time otherwise).
func TestDecoderBoundsCost(t *testing.T) {
	for _, c := range []struct {
		name string
		der  []byte
	}{
		{"argon2id 4 TiB", hostileFile(tagArgon2id, 1, 4<<30, 1)},
		{"argon2id 2^32 passes", hostileFile(tagArgon2id, 1<<32-1, 8, 1)},
		{"argon2id 255 threads", hostileFile(tagArgon2id, 1, 1<<20, 255)},
		{"scrypt N=2^40", hostileFile(tagScrypt, 40, 8, 1)},
		{"scrypt p=2^20", hostileFile(tagScrypt, 10, 8, 1<<20)},
		{"scrypt r=2^31", hostileFile(tagScrypt, 10, 1<<31, 1)},
		{"unknown KDF", hostileFile(cbasn1.Tag(2).Constructed().ContextSpecific(), 1, 8, 1)},
		{"parameter beyond 32 bits", hostileFile(tagArgon2id, 1<<40, 8, 1)},
	} {
		_, err := Open(pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: c.der}), RoleMerchantSigning, pass)
		var de *der.Error
		if !errors.As(err, &de) || de.Type != typHeader || de.Field != "kdf" {
			t.Errorf("%s: %v; want a KeyFileHeader.kdf decoding error", c.name, err)
		}
	}
	// The same builder with sane parameters decodes, so the refusals above
	// are about the parameters.
	if _, err := UnmarshalEncryptedKey(hostileFile(tagArgon2id, 1, 8, 1)); err != nil {
		t.Fatalf("control file: %v", err)
	}
}

func TestDecodeRefusesOtherPEM(t *testing.T) {
	_, b := sealEC(t, RoleMerchantSigning, cheapArgon)
	block, _ := pem.Decode(b)
	for name, in := range map[string][]byte{
		"empty":         nil,
		"not PEM":       block.Bytes,
		"plain PKCS#8":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes}),
		"PEM headers":   pem.EncodeToMemory(&pem.Block{Type: PEMType, Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: block.Bytes}),
		"CRLF newlines": bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")),
	} {
		if _, err := Decode(in); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestDefaultParams seals and opens once with the production cost.
func TestDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB Argon2id")
	}
	pkcs8, b := sealEC(t, RoleCASigning, nil)
	k, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if k.KDF != DefaultParams() {
		t.Fatalf("nil params sealed with %v", k.KDF)
	}
	got, err := Open(b, RoleCASigning, pass)
	if err != nil || !bytes.Equal(got, pkcs8) {
		t.Fatalf("open: %v", err)
	}
}

// zeroReader is a deterministic "random" source for the recorded vectors.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestVectors opens the recorded key files and re-seals their keys with
// the recorded salt and nonce: a change to the format, the KDF or the AEAD
// inputs changes the bytes and fails here. Regenerate deliberately with
// go test -run TestVectors -update.
func TestVectors(t *testing.T) {
	keyPath := filepath.Join("testdata", "p256.pk8.pem")
	if *update {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := x509.MarshalPKCS8PrivateKey(k)
		if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: d}), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	kblock, _ := pem.Decode(kb)
	pkcs8 := kblock.Bytes
	for name, p := range map[string]Params{"argon2id": cheapArgon, "scrypt": cheapScrypt} {
		path := filepath.Join("testdata", "p256-"+name+".pem")
		sealed, err := Seal(zeroReader{}, pkcs8, RoleCardholderSigning, pass, p)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(path, sealed, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		recorded, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sealed, recorded) {
			t.Errorf("%s: Seal output differs from %s", name, path)
		}
		got, err := Open(recorded, RoleCardholderSigning, pass)
		if err != nil || !bytes.Equal(got, pkcs8) {
			t.Errorf("%s: recorded file does not open to the recorded key: %v", name, err)
		}
	}
}
