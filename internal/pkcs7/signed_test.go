package pkcs7

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/testenv"
)

// The -update flag may also be registered by another test file of this
// package; register it only if nobody has, and read it by name.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata golden files")
	}
	return true
}()

func signedTestUpdate() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	v, _ := g.Get().(bool)
	return v
}

var (
	signedTestContentType = asn1.ObjectIdentifier{2, 23, 42, 0, 12} // setct-PInitResData
	// signedTestContent stands in for the DER of a SET type.
	signedTestContent = []byte{0x30, 0x0e, 0x0c, 0x05, 'h', 'e', 'l', 'l', 'o', 0x02, 0x01, 0x07, 0x04, 0x02, 0xca, 0xfe}
	signedTestTime    = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
)

// signedTestParty is a key with a certificate naming it.
type signedTestParty struct {
	key  crypto.Signer
	cert []byte
}

// signedTestPartyFor generates each kind of key once per test binary.
func signedTestPartyFor(t testing.TB, kind string) *signedTestParty {
	t.Helper()
	signedTestPartiesMu.Lock()
	defer signedTestPartiesMu.Unlock()
	if p, ok := signedTestPartyCache[kind]; ok {
		return p
	}
	var key crypto.Signer
	var err error
	switch kind {
	case "rsa1024":
		key, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ecdsa", "ecdsa2":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "mldsa":
		_, key, err = mldsa65.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	p := &signedTestParty{key: key}
	serial := big.NewInt(int64(len(signedTestPartyCache) + 1000))
	if kind == "mldsa" {
		// crypto/x509 cannot write ML-DSA certificates; a hand-built one
		// also shows Sign does not depend on crypto/x509.
		p.cert = signedTestRawCert(t, serial, OIDMLDSA65, key.Public().(*mldsa65.PublicKey).Bytes())
	} else {
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: "setpay test " + kind},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		p.cert, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
	}
	signedTestPartyCache[kind] = p
	return p
}

var (
	signedTestPartiesMu  sync.Mutex
	signedTestPartyCache = map[string]*signedTestParty{}
)

// signedTestRawCert builds a structurally valid certificate for a key
// crypto/x509 does not handle. Its signature is junk: only its names matter.
func signedTestRawCert(t testing.TB, serial *big.Int, alg asn1.ObjectIdentifier, pub []byte) []byte {
	t.Helper()
	name := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{2, 5, 4, 3})
					b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("setpay test mldsa")) })
				})
			})
		})
	}
	algID := AlgorithmIdentifier{Algorithm: alg}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
			b.AddASN1BigInt(serial)
			algID.Marshal(b)
			name(b)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1UTCTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				b.AddASN1UTCTime(time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC))
			})
			name(b)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				algID.Marshal(b)
				b.AddASN1BitString(pub)
			})
		})
		algID.Marshal(b)
		b.AddASN1BitString([]byte{1, 2, 3})
	})
	return b.BytesOrPanic()
}

// signedTestCRL is an empty CRL issued by the ECDSA test party.
func signedTestCRL(t testing.TB, number int64) []byte {
	t.Helper()
	p := signedTestPartyFor(t, "ecdsa")
	issuer, err := x509.ParseCertificate(p.cert)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(number),
		ThisUpdate: signedTestTime,
		NextUpdate: signedTestTime.Add(time.Hour),
	}, issuer, p.key)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// signedTestKeyFor returns a keyFor that finds each signer's certificate
// among known and returns the key of its party.
func signedTestKeyFor(sd *SignedData, parties ...*signedTestParty) func(si *SignerInfo) (crypto.PublicKey, error) {
	return func(si *SignerInfo) (crypto.PublicKey, error) {
		for _, p := range parties {
			ias, err := ParseCertificateIssuerAndSerial(p.cert)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(ias.Issuer, si.IssuerAndSerial.Issuer) && ias.SerialNumber.Cmp(si.IssuerAndSerial.SerialNumber) == 0 {
				return p.key.Public(), nil
			}
		}
		return nil, errors.New("no such signer")
	}
}

// signedTestCertKey is a keyFor that takes the key from the certificate
// the SignedData carries (crypto/x509 is fine here: RSA and ECDSA only).
func signedTestCertKey(sd *SignedData) func(si *SignerInfo) (crypto.PublicKey, error) {
	return func(si *SignerInfo) (crypto.PublicKey, error) {
		c, ok := sd.FindCertificate(si)
		if !ok {
			return nil, errors.New("certificate not found")
		}
		cert, err := x509.ParseCertificate(c)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		parties []string
		hashes  []crypto.Hash
		mode    ContentMode
	}{
		{"set1 rsa1024", []string{"rsa1024"}, []crypto.Hash{crypto.SHA1}, ModePKCS7},
		{"set1 rsa2048", []string{"rsa2048"}, []crypto.Hash{crypto.SHA1}, ModePKCS7},
		{"set1 rsa sha256", []string{"rsa1024"}, []crypto.Hash{crypto.SHA256}, ModePKCS7},
		{"set1 two signers", []string{"rsa1024", "rsa2048"}, []crypto.Hash{crypto.SHA1, crypto.SHA1}, ModePKCS7},
		{"modern ecdsa", []string{"ecdsa"}, []crypto.Hash{crypto.SHA256}, ModeCMS},
		{"modern rsa2048 sha1", []string{"rsa2048"}, []crypto.Hash{crypto.SHA1}, ModeCMS},
		{"pq mldsa", []string{"mldsa"}, []crypto.Hash{crypto.SHA256}, ModeCMS},
		{"pkcs7 mldsa", []string{"mldsa"}, []crypto.Hash{crypto.SHA256}, ModePKCS7},
		{"three signers mixed hashes", []string{"ecdsa", "mldsa", "rsa1024"}, []crypto.Hash{crypto.SHA256, crypto.SHA256, crypto.SHA1}, ModeCMS},
	}
	for _, tt := range tests {
		for _, detached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s detached=%v", tt.name, detached), func(t *testing.T) {
				var signers []Signer
				var parties []*signedTestParty
				for i, kind := range tt.parties {
					p := signedTestPartyFor(t, kind)
					parties = append(parties, p)
					signers = append(signers, Signer{Key: p.key, Cert: p.cert, Hash: tt.hashes[i]})
				}
				crl := signedTestCRL(t, 1)
				certs := [][]byte{parties[0].cert, signedTestPartyFor(t, "ecdsa2").cert}
				b, err := Sign(rand.Reader, signedTestContentType, signedTestContent, signers, SignOptions{
					Mode: tt.mode, Detached: detached, Certificates: certs, CRLs: [][]byte{crl}, SigningTime: signedTestTime,
				})
				if err != nil {
					t.Fatal(err)
				}
				sd, err := ParseSignedData(b)
				if err != nil {
					t.Fatal(err)
				}
				wantVersion := map[ContentMode]int{ModePKCS7: 1, ModeCMS: 3}[tt.mode]
				if sd.Mode != tt.mode || sd.Version != wantVersion {
					t.Errorf("mode %v version %d, want %v %d", sd.Mode, sd.Version, tt.mode, wantVersion)
				}
				if !sd.ContentType.Equal(signedTestContentType) {
					t.Errorf("content type %v", sd.ContentType)
				}
				if detached && sd.Content != nil {
					t.Errorf("detached content present: %x", sd.Content)
				}
				if !detached && !bytes.Equal(sd.Content, signedTestContent) {
					t.Errorf("content %x, want %x", sd.Content, signedTestContent)
				}
				if !bytes.Equal(sd.Raw, b) {
					t.Error("Raw is not the input")
				}
				if len(sd.Certificates) != 2 || len(sd.CRLs) != 1 || !bytes.Equal(sd.CRLs[0], crl) {
					t.Errorf("%d certificates, %d CRLs", len(sd.Certificates), len(sd.CRLs))
				}
				for _, c := range certs {
					found := false
					for _, got := range sd.Certificates {
						found = found || bytes.Equal(got, c)
					}
					if !found {
						t.Error("certificate lost")
					}
				}
				distinct := map[crypto.Hash]bool{}
				for _, h := range tt.hashes {
					distinct[h] = true
				}
				if len(sd.DigestAlgorithms) != len(distinct) {
					t.Errorf("%d digest algorithms, want %d", len(sd.DigestAlgorithms), len(distinct))
				}
				if len(sd.SignerInfos) != len(signers) {
					t.Fatalf("%d signer infos, want %d", len(sd.SignerInfos), len(signers))
				}
				for i := range sd.SignerInfos {
					si := &sd.SignerInfos[i]
					if si.Version != 1 || !si.SigningTime.Equal(signedTestTime) || !si.AttrContentType.Equal(signedTestContentType) || si.SignedAttrs[0] != 0xa0 {
						t.Errorf("signer %d: version %d time %v type %v", i, si.Version, si.SigningTime, si.AttrContentType)
					}
				}
				// Only the first party's certificate was included.
				first, err := ParseCertificateIssuerAndSerial(parties[0].cert)
				if err != nil {
					t.Fatal(err)
				}
				for i := range sd.SignerInfos {
					si := &sd.SignerInfos[i]
					isFirst := bytes.Equal(si.IssuerAndSerial.Issuer, first.Issuer) && si.IssuerAndSerial.SerialNumber.Cmp(first.SerialNumber) == 0
					c, ok := sd.FindCertificate(si)
					if ok != isFirst || (ok && !bytes.Equal(c, parties[0].cert)) {
						t.Errorf("signer %d: FindCertificate gave %v, want %v", i, ok, isFirst)
					}
				}

				var detachedContent []byte
				if detached {
					detachedContent = signedTestContent
					if err := sd.Verify(nil, signedTestKeyFor(sd, parties...)); !errors.Is(err, ErrSignature) {
						t.Errorf("Verify without detached content: %v", err)
					}
				}
				if err := sd.Verify(detachedContent, signedTestKeyFor(sd, parties...)); err != nil {
					t.Fatalf("Verify: %v", err)
				}

				other := bytes.Clone(signedTestContent)
				other[len(other)-1] ^= 1
				if detached {
					if err := sd.Verify(other, signedTestKeyFor(sd, parties...)); !errors.Is(err, ErrSignature) || !errors.Is(err, ErrDigestMismatch) {
						t.Errorf("Verify with other content: %v", err)
					}
				} else if err := sd.Verify(other, signedTestKeyFor(sd, parties...)); !errors.Is(err, ErrSignature) {
					t.Errorf("Verify with content differing from the attached one: %v", err)
				}

				// Each party's key verifying another's signature must fail.
				wrong := signedTestPartyFor(t, "ecdsa2").key.Public()
				if err := sd.Verify(detachedContent, func(*SignerInfo) (crypto.PublicKey, error) { return wrong, nil }); !errors.Is(err, ErrSignature) {
					t.Errorf("Verify with the wrong key: %v", err)
				}
				keyErr := errors.New("untrusted certificate")
				if err := sd.Verify(detachedContent, func(*SignerInfo) (crypto.PublicKey, error) { return nil, keyErr }); !errors.Is(err, keyErr) || !errors.Is(err, ErrSignature) {
					t.Errorf("keyFor error not passed on: %v", err)
				}
			})
		}
	}
}

func TestSignVerifyWithEmbeddedCertificate(t *testing.T) {
	p := signedTestPartyFor(t, "ecdsa")
	b, err := Sign(rand.Reader, signedTestContentType, signedTestContent,
		[]Signer{{Key: p.key, Cert: p.cert, Hash: crypto.SHA256}},
		SignOptions{Mode: ModeCMS, Certificates: [][]byte{p.cert}})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSignedData(b)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := sd.FindCertificate(&sd.SignerInfos[0])
	if !ok || !bytes.Equal(c, p.cert) {
		t.Fatal("FindCertificate did not find the signer's certificate")
	}
	if !sd.SignerInfos[0].SigningTime.IsZero() {
		t.Error("signingTime present though not asked for")
	}
	if err := sd.Verify(nil, signedTestCertKey(sd)); err != nil {
		t.Fatal(err)
	}
	other := sd.SignerInfos[0]
	other.IssuerAndSerial.SerialNumber = big.NewInt(1)
	if _, ok := sd.FindCertificate(&other); ok {
		t.Error("FindCertificate matched a different serial")
	}
}

func TestSignRejects(t *testing.T) {
	p := signedTestPartyFor(t, "ecdsa")
	ok := Signer{Key: p.key, Cert: p.cert, Hash: crypto.SHA256}
	tests := []struct {
		name    string
		ct      asn1.ObjectIdentifier
		content []byte
		signers []Signer
		opts    SignOptions
	}{
		{"no mode", signedTestContentType, signedTestContent, []Signer{ok}, SignOptions{}},
		{"no signers", signedTestContentType, signedTestContent, nil, SignOptions{Mode: ModeCMS}},
		{"ecdsa with sha1", signedTestContentType, signedTestContent, []Signer{{Key: p.key, Cert: p.cert, Hash: crypto.SHA1}}, SignOptions{Mode: ModeCMS}},
		{"md5", signedTestContentType, signedTestContent, []Signer{{Key: p.key, Cert: p.cert, Hash: crypto.MD5}}, SignOptions{Mode: ModeCMS}},
		{"bad cert", signedTestContentType, signedTestContent, []Signer{{Key: p.key, Cert: []byte{0x30, 0}, Hash: crypto.SHA256}}, SignOptions{Mode: ModeCMS}},
		{"pkcs7 content not DER", signedTestContentType, []byte("plain"), []Signer{ok}, SignOptions{Mode: ModePKCS7}},
		{"pkcs7 content trailing", signedTestContentType, append(bytes.Clone(signedTestContent), 0), []Signer{ok}, SignOptions{Mode: ModePKCS7}},
		{"pkcs7 OCTET STRING content", signedTestContentType, []byte{4, 1, 0}, []Signer{ok}, SignOptions{Mode: ModePKCS7}},
		{"cms id-data", OIDData, signedTestContent, []Signer{ok}, SignOptions{Mode: ModeCMS}},
		{"bad certificate option", signedTestContentType, signedTestContent, []Signer{ok}, SignOptions{Mode: ModeCMS, Certificates: [][]byte{{1, 2}}}},
		{"bad CRL option", signedTestContentType, signedTestContent, []Signer{ok}, SignOptions{Mode: ModeCMS, CRLs: [][]byte{{0x30}}}},
		{"time out of range", signedTestContentType, signedTestContent, []Signer{ok}, SignOptions{Mode: ModeCMS, SigningTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := Sign(rand.Reader, tt.ct, tt.content, tt.signers, tt.opts); err == nil {
				t.Errorf("Sign succeeded: %x", b)
			}
		})
	}
}

// signedTestECDSAMessage is one small attached CMS SignedData without
// certificates: every byte of it is covered by some check.
func signedTestECDSAMessage(t testing.TB, mode ContentMode, detached bool) ([]byte, *signedTestParty) {
	t.Helper()
	p := signedTestPartyFor(t, "ecdsa")
	b, err := Sign(rand.Reader, signedTestContentType, signedTestContent,
		[]Signer{{Key: p.key, Cert: p.cert, Hash: crypto.SHA256}},
		SignOptions{Mode: mode, Detached: detached, SigningTime: signedTestTime})
	if err != nil {
		t.Fatal(err)
	}
	return b, p
}

// TestSignedDataFlippedBytes flips every bit of every byte of signed
// messages (certificates left out: they are not signed) and requires each
// result to fail parsing or verification. The one exception is PKCS#7
// v1.5's own: the identifier octet of ModePKCS7 content is not digested
// (§9.3), so only the strict decoder of the SET type, which checks its
// tag, can notice a change there.
func TestSignedDataFlippedBytes(t *testing.T) {
	for _, mode := range []ContentMode{ModePKCS7, ModeCMS} {
		for _, detached := range []bool{false, true} {
			b, p := signedTestECDSAMessage(t, mode, detached)
			var content []byte
			if detached {
				content = signedTestContent
			}
			sd, err := ParseSignedData(b)
			if err != nil {
				t.Fatal(err)
			}
			undigested := -1
			if mode == ModePKCS7 && !detached {
				undigested = bytes.Index(b, sd.Content)
			}
			for i := range b {
				for bit := 0; bit < 8; bit++ {
					m := bytes.Clone(b)
					m[i] ^= 1 << bit
					sd, err := ParseSignedData(m)
					if err != nil {
						continue
					}
					err = sd.Verify(content, signedTestKeyFor(sd, p))
					switch {
					case i == undigested:
						if err != nil || sd.Content[0] == signedTestContent[0] {
							t.Errorf("content identifier octet: %v, %x", err, sd.Content[0])
						}
					case err == nil:
						t.Errorf("%v detached=%v: flipping bit %d of byte %d went unnoticed", mode, detached, bit, i)
					case !errors.Is(err, ErrSignature):
						t.Errorf("%v: error does not wrap ErrSignature: %v", mode, err)
					}
				}
			}
		}
	}
}

// TestSignedDataTamperedParts changes the content, an attribute and the
// signature of a message, keeping it well formed.
func TestSignedDataTamperedParts(t *testing.T) {
	for _, kind := range []string{"rsa1024", "ecdsa", "mldsa"} {
		p := signedTestPartyFor(t, kind)
		h := crypto.SHA256
		mode := ModeCMS
		if kind == "rsa1024" {
			h, mode = crypto.SHA1, ModePKCS7
		}
		b, err := Sign(rand.Reader, signedTestContentType, signedTestContent, []Signer{{Key: p.key, Cert: p.cert, Hash: h}}, SignOptions{Mode: mode, SigningTime: signedTestTime})
		if err != nil {
			t.Fatal(err)
		}
		sd, err := ParseSignedData(b)
		if err != nil {
			t.Fatal(err)
		}
		si := sd.SignerInfos[0]
		timeAt := bytes.Index(si.SignedAttrs, []byte("260314"))
		parts := map[string]struct {
			at  []byte
			off int
		}{
			"content":   {sd.Content, len(sd.Content) - 1},
			"attrs":     {si.SignedAttrs, timeAt + 5}, // a digit of the signing time
			"signature": {si.Signature, len(si.Signature) / 2},
		}
		for name, part := range parts {
			start := bytes.Index(b, part.at)
			if start < 0 || part.off < 0 {
				t.Fatalf("%s not found", name)
			}
			m := bytes.Clone(b)
			m[start+part.off] ^= 0x01
			sd, err := ParseSignedData(m)
			if err != nil {
				t.Fatalf("%s %s: tampered message no longer parses: %v", kind, name, err)
			}
			if err := sd.Verify(nil, signedTestKeyFor(sd, p)); !errors.Is(err, ErrSignature) {
				t.Errorf("%s %s: tampering not detected: %v", kind, name, err)
			}
		}
	}
}

func TestParseSignedDataTruncated(t *testing.T) {
	for _, name := range []string{"signed-pkcs7.der", "signed-cms.der"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			if _, err := ParseSignedData(b[:i]); err == nil {
				t.Fatalf("%s truncated to %d bytes parsed", name, i)
			}
		}
		if _, err := ParseSignedData(append(bytes.Clone(b), 0)); !errors.Is(err, der.ErrTrailingData) {
			t.Errorf("%s with a trailing byte: %v", name, err)
		}
	}
}

// signedTestReencode rewrites a DER tree, giving the element number target
// (in pre-order) a non-DER length: long form where short would do, or a
// leading zero octet in a long form.
func signedTestReencode(b []byte, target int, counter *int) []byte {
	var out []byte
	for len(b) > 0 {
		e, rest, err := der.Read(b)
		if err != nil {
			panic(err)
		}
		b = rest
		n := *counter
		*counter++
		contents := e.Contents
		// Recurse into constructed elements, but not into the [0] IMPLICIT
		// signed attributes' meaning: their bytes change like any other.
		if e.Tag.Constructed {
			contents = signedTestReencode(e.Contents, target, counter)
		}
		out = der.AppendTag(out, e.Tag)
		if n == target {
			l := len(contents)
			out = append(out, 0x84, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		} else {
			out = der.AppendLength(out, len(contents))
		}
		out = append(out, contents...)
	}
	return out
}

func TestParseSignedDataNonDER(t *testing.T) {
	b, _ := signedTestECDSAMessage(t, ModeCMS, false)
	count := 0
	if again := signedTestReencode(b, -1, &count); !bytes.Equal(again, b) {
		t.Fatal("re-encoder does not reproduce the input")
	}
	for i := 0; i < count; i++ {
		c := 0
		m := signedTestReencode(b, i, &c)
		if _, err := ParseSignedData(m); !errors.Is(err, der.ErrNonMinimal) {
			t.Errorf("element %d with a long-form length: %v", i, err)
		}
	}
	// Indefinite length on the outer SEQUENCE (BER, not DER).
	ber := append([]byte{0x30, 0x80}, b[4:]...) // b starts 30 82 hi lo
	ber = append(ber, 0, 0)
	if _, err := ParseSignedData(ber); !errors.Is(err, der.ErrIndefinite) {
		t.Errorf("indefinite length: %v", err)
	}
}

// signedTestSwapFirstTwo swaps the first two elements of the SET whose
// full encoding is set, wherever it sits in b.
func signedTestSwapFirstTwo(t *testing.T, b, set []byte) []byte {
	t.Helper()
	e, err := der.Parse(set)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := der.ParseSequence(e.Contents)
	if err != nil || len(kids) < 2 {
		t.Fatalf("need two elements: %v", err)
	}
	if bytes.Equal(kids[0].Raw, kids[1].Raw) {
		t.Fatal("elements are equal")
	}
	swapped := append(bytes.Clone(kids[1].Raw), kids[0].Raw...)
	at := bytes.Index(b, e.Contents)
	if at < 0 {
		t.Fatal("set not found")
	}
	m := bytes.Clone(b)
	copy(m[at:], swapped)
	return m
}

func TestParseSignedDataUnsorted(t *testing.T) {
	a, c := signedTestPartyFor(t, "ecdsa"), signedTestPartyFor(t, "ecdsa2")
	b, err := Sign(rand.Reader, signedTestContentType, signedTestContent,
		[]Signer{{Key: a.key, Cert: a.cert, Hash: crypto.SHA256}, {Key: c.key, Cert: c.cert, Hash: crypto.SHA256}},
		SignOptions{Mode: ModeCMS, Certificates: [][]byte{a.cert, c.cert}, CRLs: [][]byte{signedTestCRL(t, 1), signedTestCRL(t, 2)}, SigningTime: signedTestTime})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSignedData(b)
	if err != nil {
		t.Fatal(err)
	}
	// Locate each SET in the encoding through the parsed pieces.
	setAround := func(first []byte) []byte {
		at := bytes.Index(b, first)
		for start := at - 1; start >= 0; start-- {
			e, _, err := der.Read(b[start:])
			if err == nil && e.Tag.Constructed && len(e.Contents) > 0 && &e.Contents[0] == &b[at] {
				return e.Raw
			}
		}
		t.Fatal("enclosing SET not found")
		return nil
	}
	sets := map[string][]byte{
		"certificates": setAround(sd.Certificates[0]),
		"crls":         setAround(sd.CRLs[0]),
		"signerInfos":  setAround(sd.SignerInfos[0].Raw),
		"signedAttrs":  sd.SignerInfos[0].SignedAttrs,
	}
	for name, set := range sets {
		m := signedTestSwapFirstTwo(t, b, set)
		if _, err := ParseSignedData(m); !errors.Is(err, der.ErrNotSorted) {
			t.Errorf("unsorted %s: %v", name, err)
		}
	}
}

// signedTestRewrite parses b, lets f change its SignedData SEQUENCE's
// children and re-encodes; lengths are recomputed.
func signedTestRewrite(t *testing.T, b []byte, f func(kids []der.Element) [][]byte) []byte {
	t.Helper()
	ci, err := ParseContentInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	e, err := der.Parse(ci.Content)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := e.Children()
	if err != nil {
		t.Fatal(err)
	}
	sd := der.Encode(der.TagSequence, bytes.Join(f(kids), nil))
	out, err := MarshalContentInfo(ci.ContentType, sd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseSignedDataRejects(t *testing.T) {
	b, _ := signedTestECDSAMessage(t, ModeCMS, false)
	bp, _ := signedTestECDSAMessage(t, ModePKCS7, false)
	raw := func(k der.Element) []byte { return k.Raw }
	replace := func(src []byte, i int, with []byte) []byte {
		return signedTestRewrite(t, src, func(kids []der.Element) [][]byte {
			var out [][]byte
			for j, k := range kids {
				if j == i {
					if with != nil {
						out = append(out, with)
					}
					continue
				}
				out = append(out, raw(k))
			}
			return out
		})
	}
	encap := func(ct asn1.ObjectIdentifier, inner []byte) []byte {
		var bb cryptobyte.Builder
		bb.AddASN1(cbasn1.SEQUENCE, func(bb *cryptobyte.Builder) {
			bb.AddASN1ObjectIdentifier(ct)
			bb.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(bb *cryptobyte.Builder) { bb.AddBytes(inner) })
		})
		return bb.BytesOrPanic()
	}
	notSignedData, _ := MarshalContentInfo(OIDData, []byte{4, 0})
	noContent, _ := MarshalContentInfo(OIDSignedData, nil)
	tests := map[string][]byte{
		"version 0":                   replace(b, 0, []byte{2, 1, 0}),
		"version 2":                   replace(b, 0, []byte{2, 1, 2}),
		"version 4":                   replace(b, 0, []byte{2, 1, 4}),
		"version 3 with ANY content":  replace(b, 2, encap(signedTestContentType, signedTestContent)),
		"version 1 with OCTET STRING": replace(bp, 2, encap(signedTestContentType, []byte{4, 2, 0x30, 0})),
		"digestAlgorithms not a SET":  replace(b, 1, []byte{0x30, 0}),
		"no signerInfos":              replace(b, 3, nil),
		"extra element":               signedTestRewrite(t, b, func(k []der.Element) [][]byte { return [][]byte{k[0].Raw, k[1].Raw, k[2].Raw, k[3].Raw, {5, 0}} }),
		"certificate not a SEQUENCE": signedTestRewrite(t, b, func(k []der.Element) [][]byte {
			return [][]byte{k[0].Raw, k[1].Raw, k[2].Raw, {0xa0, 2, 5, 0}, k[3].Raw}
		}),
		"ContentInfo of another type": notSignedData,
		"ContentInfo without content": noContent,
		"empty input":                 {},
		"garbage":                     []byte("not DER at all"),
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			if sd, err := ParseSignedData(m); err == nil {
				t.Errorf("parsed: %+v", sd)
			} else {
				var de *der.Error
				if !errors.As(err, &de) {
					t.Errorf("error is not a der.Error: %v", err)
				}
			}
		})
	}
}

// signedTestSignerInfo re-signs nothing: it builds SignedData bytes around
// a hand-made SignerInfo, for decoder checks.
func signedTestWithSignerInfo(t *testing.T, base []byte, si []byte) []byte {
	t.Helper()
	return signedTestRewrite(t, base, func(k []der.Element) [][]byte {
		return [][]byte{k[0].Raw, k[1].Raw, k[2].Raw, der.Encode(der.TagSet, si)}
	})
}

func TestParseSignerInfoRejects(t *testing.T) {
	b, _ := signedTestECDSAMessage(t, ModeCMS, false)
	sd, err := ParseSignedData(b)
	if err != nil {
		t.Fatal(err)
	}
	good := sd.SignerInfos[0]
	ias := func(bb *cryptobyte.Builder) { good.IssuerAndSerial.Marshal(bb) }
	attr := func(oid asn1.ObjectIdentifier, values ...[]byte) []byte {
		return der.Encode(der.TagSequence, append(der.Encode(der.TagOID, signedTestOIDBytes(oid)), der.SetOf(values)...))
	}
	ctAttr := attr(OIDAttrContentType, der.Encode(der.TagOID, signedTestOIDBytes(signedTestContentType)))
	mdAttr := attr(OIDAttrMessageDigest, der.Encode(der.TagOctetString, make([]byte, 32)))
	attrs := func(a ...[]byte) []byte {
		s := der.SetOf(a)
		s[0] = 0xa0
		return s
	}
	build := func(version int64, sid func(*cryptobyte.Builder), signed []byte, tail ...[]byte) []byte {
		var bb cryptobyte.Builder
		bb.AddASN1Int64(version)
		sid(&bb)
		good.DigestAlgorithm.Marshal(&bb)
		if signed != nil {
			bb.AddBytes(signed)
		}
		good.SignatureAlgorithm.Marshal(&bb)
		bb.AddASN1OctetString([]byte{1, 2, 3})
		for _, x := range tail {
			bb.AddBytes(x)
		}
		return der.Encode(der.TagSequence, bb.BytesOrPanic())
	}
	ski := func(bb *cryptobyte.Builder) {
		bb.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(bb *cryptobyte.Builder) { bb.AddBytes([]byte{1, 2, 3, 4}) })
	}
	badTime := attr(OIDAttrSigningTime, der.Encode(der.TagGeneralizedTime, []byte("20260314150926Z")))

	// The well-formed baseline parses, so each rejection below is about
	// the one thing changed.
	if _, err := ParseSignedData(signedTestWithSignerInfo(t, b, build(1, ias, attrs(ctAttr, mdAttr)))); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	if sd, err := ParseSignedData(signedTestWithSignerInfo(t, b, build(3, ski, attrs(ctAttr, mdAttr)))); err != nil || !bytes.Equal(sd.SignerInfos[0].SubjectKeyID, []byte{1, 2, 3, 4}) {
		t.Fatalf("subjectKeyIdentifier baseline: %v", err)
	}
	unsigned := attrs(attr(asn1.ObjectIdentifier{1, 2, 3}, []byte{5, 0}))
	unsigned[0] = 0xa1
	if sd, err := ParseSignedData(signedTestWithSignerInfo(t, b, build(1, ias, attrs(ctAttr, mdAttr), unsigned))); err != nil || !bytes.Equal(sd.SignerInfos[0].UnsignedAttrs, unsigned) {
		t.Fatalf("unsigned attributes baseline: %v", err)
	}

	tests := map[string][]byte{
		"version 2":                 build(2, ias, attrs(ctAttr, mdAttr)),
		"version 3 with issuer":     build(3, ias, attrs(ctAttr, mdAttr)),
		"version 1 with ski":        build(1, ski, attrs(ctAttr, mdAttr)),
		"no signed attributes":      build(1, ias, nil),
		"no contentType":            build(1, ias, attrs(mdAttr)),
		"no messageDigest":          build(1, ias, attrs(ctAttr)),
		"two messageDigest values":  build(1, ias, attrs(ctAttr, attr(OIDAttrMessageDigest, der.Encode(der.TagOctetString, []byte{1}), der.Encode(der.TagOctetString, []byte{2})))),
		"messageDigest twice":       build(1, ias, attrs(ctAttr, mdAttr, attr(OIDAttrMessageDigest, der.Encode(der.TagOctetString, []byte{1})))),
		"messageDigest not OCTETS":  build(1, ias, attrs(ctAttr, attr(OIDAttrMessageDigest, []byte{5, 0}))),
		"contentType not an OID":    build(1, ias, attrs(mdAttr, attr(OIDAttrContentType, []byte{5, 0}))),
		"empty attribute values":    build(1, ias, attrs(ctAttr, mdAttr, der.Encode(der.TagSequence, append(der.Encode(der.TagOID, signedTestOIDBytes(asn1.ObjectIdentifier{1, 2, 3})), 0x31, 0)))),
		"GeneralizedTime for 2026":  build(1, ias, attrs(ctAttr, mdAttr, badTime)),
		"unsigned attrs wrong tag":  build(1, ias, attrs(ctAttr, mdAttr), []byte{0xa2, 0}),
		"trailing after unsigned":   build(1, ias, attrs(ctAttr, mdAttr), unsigned, []byte{5, 0}),
		"signed attrs as plain SET": build(1, ias, der.SetOf([][]byte{ctAttr, mdAttr})),
	}
	for name, si := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSignedData(signedTestWithSignerInfo(t, b, si)); err == nil {
				t.Error("parsed")
			}
		})
	}
}

func signedTestOIDBytes(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return b[2:]
}

func TestSigningTimeEncoding(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), "170d3236303331343135303932365a"},
		{time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), "170d3530303130313030303030305a"},
		{time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), "170d3439313233313233353935395a"},
		{time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), "180f32303530303130313030303030305a"},
		{time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), "180f31393439313233313233353935395a"},
		// Other zones and sub-second parts are normalised away.
		{time.Date(2026, 3, 14, 16, 9, 26, 5e8, time.FixedZone("CET", 3600)), "170d3236303331343135303932365a"},
	}
	for _, tt := range tests {
		b, err := encodeSigningTime(tt.t)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(b) != tt.want {
			t.Errorf("%v: got %x, want %s", tt.t, b, tt.want)
		}
		e, err := der.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseSigningTime(e)
		if err != nil || !got.Equal(tt.t.Truncate(time.Second)) {
			t.Errorf("%x: parsed %v, %v", b, got, err)
		}
	}
	bad := []der.Element{
		{Tag: der.TagUTCTime, Contents: []byte("2603141509Z")},     // no seconds
		{Tag: der.TagUTCTime, Contents: []byte("260314150926+01")}, // offset
		{Tag: der.TagUTCTime, Contents: []byte("260230150926Z")},   // Feb 30
		{Tag: der.TagUTCTime, Contents: []byte("260314240000Z")},   // hour 24
		{Tag: der.TagUTCTime, Contents: []byte("26031415092 Z")},
		{Tag: der.TagUTCTime, Contents: []byte("2603141509260")},
		{Tag: der.TagGeneralizedTime, Contents: []byte("20260314150926Z")}, // belongs in UTCTime
		{Tag: der.TagGeneralizedTime, Contents: []byte("20500314150926.5Z")},
		{Tag: der.TagGeneralizedTime, Contents: []byte("2050031415092Z")},
		{Tag: der.TagOctetString, Contents: []byte("260314150926Z")},
	}
	for _, e := range bad {
		if got, err := parseSigningTime(e); err == nil {
			t.Errorf("%s %q parsed as %v", e.Tag, e.Contents, got)
		}
	}
}

func TestHashForAlgorithm(t *testing.T) {
	tests := []struct {
		alg  AlgorithmIdentifier
		want crypto.Hash
		ok   bool
	}{
		{AlgorithmIdentifier{Algorithm: OIDSHA1}, crypto.SHA1, true},
		{AlgorithmIdentifier{Algorithm: OIDSHA1, Parameters: asn1.NullBytes}, crypto.SHA1, true},
		{AlgorithmIdentifier{Algorithm: OIDSHA256}, crypto.SHA256, true},
		{AlgorithmIdentifier{Algorithm: OIDSHA256, Parameters: asn1.NullBytes}, crypto.SHA256, true},
		{AlgorithmIdentifier{Algorithm: OIDSHA1, Parameters: []byte{4, 0}}, 0, false},
		{AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}}, 0, false}, // MD5
		{AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA}, 0, false},
	}
	for _, tt := range tests {
		got, err := HashForAlgorithm(tt.alg)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%v %x: got %v, %v", tt.alg.Algorithm, tt.alg.Parameters, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("error does not wrap ErrUnsupportedAlgorithm: %v", err)
		}
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		a := DigestAlgorithmFor(h)
		if a.Parameters != nil {
			t.Errorf("%v: parameters present", h)
		}
		if got, err := HashForAlgorithm(a); err != nil || got != h {
			t.Errorf("%v: round trip gave %v, %v", h, got, err)
		}
	}
	if a := DigestAlgorithmFor(crypto.MD5); a.Algorithm != nil {
		t.Errorf("MD5 gave %v", a.Algorithm)
	}
}

// TestSignedDataDigestInput pins down what each mode digests: in ModePKCS7
// the contents octets of the content element (PKCS#7 §9.3), in ModeCMS the
// OCTET STRING's value, i.e. the whole DER of the SET type.
func TestSignedDataDigestInput(t *testing.T) {
	for _, mode := range []ContentMode{ModePKCS7, ModeCMS} {
		b, _ := signedTestECDSAMessage(t, mode, false)
		sd, err := ParseSignedData(b)
		if err != nil {
			t.Fatal(err)
		}
		input := signedTestContent
		if mode == ModePKCS7 {
			input = signedTestContent[2:] // 30 0e stripped
		}
		d := crypto.SHA256.New()
		d.Write(input)
		if got := sd.SignerInfos[0].MessageDigest; !bytes.Equal(got, d.Sum(nil)) {
			t.Errorf("%v: messageDigest %x, want SHA-256 of %x", mode, got, input)
		}
	}
}

func TestVerifyNoSigners(t *testing.T) {
	sd := &SignedData{Mode: ModeCMS, Content: []byte{}, ContentType: signedTestContentType}
	if err := sd.Verify(nil, func(*SignerInfo) (crypto.PublicKey, error) { return nil, nil }); !errors.Is(err, ErrSignature) {
		t.Errorf("SignedData without signers verified: %v", err)
	}
}

// signedTestSummary renders what ParseSignedData found, for golden files.
// Signatures and dates vary per run and are left out.
func signedTestSummary(sd *SignedData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version %d mode %v\n", sd.Version, sd.Mode)
	for _, a := range sd.DigestAlgorithms {
		fmt.Fprintf(&b, "digestAlgorithm %v params %x\n", a.Algorithm, a.Parameters)
	}
	fmt.Fprintf(&b, "contentType %v\ncontent %x\n", sd.ContentType, sd.Content)
	fmt.Fprintf(&b, "certificates %d crls %d\n", len(sd.Certificates), len(sd.CRLs))
	for _, si := range sd.SignerInfos {
		fmt.Fprintf(&b, "signerInfo version %d digest %v signature %v params %x\n", si.Version, si.DigestAlgorithm.Algorithm, si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters)
		fmt.Fprintf(&b, "  contentType %v messageDigest %x signingTime %s\n", si.AttrContentType, si.MessageDigest, si.SigningTime.Format(time.RFC3339))
	}
	return b.String()
}

// TestSignedDataGolden parses the recorded messages (regenerate with
// -update) and verifies them against the certificate they carry.
func TestSignedDataGolden(t *testing.T) {
	cases := []struct {
		name string
		kind string
		hash crypto.Hash
		mode ContentMode
	}{
		{"signed-pkcs7", "rsa1024", crypto.SHA1, ModePKCS7},
		{"signed-cms", "ecdsa", crypto.SHA256, ModeCMS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			derPath := filepath.Join("testdata", c.name+".der")
			goldenPath := filepath.Join("testdata", c.name+".golden")
			if signedTestUpdate() {
				p := signedTestPartyFor(t, c.kind)
				b, err := Sign(rand.Reader, signedTestContentType, signedTestContent,
					[]Signer{{Key: p.key, Cert: p.cert, Hash: c.hash}},
					SignOptions{Mode: c.mode, Certificates: [][]byte{p.cert}, SigningTime: signedTestTime})
				if err != nil {
					t.Fatal(err)
				}
				sd, err := ParseSignedData(b)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(derPath, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(goldenPath, []byte(signedTestSummary(sd)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(derPath)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := ParseSignedData(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := signedTestSummary(sd); got != string(want) {
				t.Errorf("parse of %s:\n%s\nwant:\n%s", derPath, got, want)
			}
			if err := sd.Verify(nil, signedTestCertKey(sd)); err != nil {
				t.Errorf("recorded message does not verify: %v", err)
			}
		})
	}
}

func FuzzParseSignedData(f *testing.F) {
	for _, name := range []string{"signed-pkcs7.der", "signed-cms.der"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	for _, mode := range []ContentMode{ModePKCS7, ModeCMS} {
		for _, detached := range []bool{false, true} {
			b, _ := signedTestECDSAMessage(f, mode, detached)
			f.Add(b)
		}
	}
	pub := signedTestPartyFor(f, "ecdsa").key.Public()
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSignedData(b)
		if err != nil {
			return
		}
		if !bytes.Equal(sd.Raw, b) {
			t.Error("Raw is not the input")
		}
		for i := range sd.SignerInfos {
			sd.FindCertificate(&sd.SignerInfos[i])
		}
		// Whatever parses must be safe to verify, with or without content.
		_ = sd.Verify(nil, func(*SignerInfo) (crypto.PublicKey, error) { return pub, nil })
		_ = sd.Verify(signedTestContent, func(*SignerInfo) (crypto.PublicKey, error) { return pub, nil })
	})
}

// signedTestOpenSSL runs openssl with args in dir.
func signedTestOpenSSL(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func signedTestWritePEM(t *testing.T, path, typ string, blocks ...[]byte) {
	t.Helper()
	var b []byte
	for _, d := range blocks {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSignedDataOpenSSLVerify checks that openssl's CMS implementation
// accepts ModeCMS output, attached and detached, with one and two signers.
func TestSignedDataOpenSSLVerify(t *testing.T) {
	testenv.OpenSSL(t)
	ec, rs := signedTestPartyFor(t, "ecdsa"), signedTestPartyFor(t, "rsa2048")
	dir := t.TempDir()
	signedTestWritePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ec.cert, rs.cert)
	if err := os.WriteFile(filepath.Join(dir, "content.bin"), signedTestContent, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		signers  []Signer
		detached bool
	}{
		{"ecdsa attached", []Signer{{Key: ec.key, Cert: ec.cert, Hash: crypto.SHA256}}, false},
		{"ecdsa detached", []Signer{{Key: ec.key, Cert: ec.cert, Hash: crypto.SHA256}}, true},
		{"ecdsa and rsa", []Signer{{Key: ec.key, Cert: ec.cert, Hash: crypto.SHA256}, {Key: rs.key, Cert: rs.cert, Hash: crypto.SHA256}}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var certs [][]byte
			for _, s := range tt.signers {
				certs = append(certs, s.Cert)
			}
			b, err := Sign(rand.Reader, signedTestContentType, signedTestContent, tt.signers,
				SignOptions{Mode: ModeCMS, Detached: tt.detached, Certificates: certs, SigningTime: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			in, out := fmt.Sprintf("sig%d.der", i), fmt.Sprintf("out%d.bin", i)
			if err := os.WriteFile(filepath.Join(dir, in), b, 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"cms", "-verify", "-inform", "DER", "-in", in, "-binary", "-ignore_critical", "-CAfile", "ca.pem", "-purpose", "any", "-out", out}
			if tt.detached {
				args = append(args, "-content", "content.bin")
			}
			signedTestOpenSSL(t, dir, args...)
			got, err := os.ReadFile(filepath.Join(dir, out))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, signedTestContent) {
				t.Errorf("openssl recovered %x, want %x", got, signedTestContent)
			}

			// The check is real: openssl refuses a changed signature.
			sd, err := ParseSignedData(b)
			if err != nil {
				t.Fatal(err)
			}
			sig := sd.SignerInfos[0].Signature
			m := bytes.Clone(b)
			m[bytes.Index(m, sig)+len(sig)-2] ^= 1
			if err := os.WriteFile(filepath.Join(dir, in), m, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("openssl", args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("openssl accepted a changed signature:\n%s", out)
			}
		})
	}

	// And the other way: what openssl signs, ParseSignedData reads and
	// Verify accepts.
	t.Run("openssl signs", func(t *testing.T) {
		pk, err := x509.MarshalPKCS8PrivateKey(ec.key)
		if err != nil {
			t.Fatal(err)
		}
		signedTestWritePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", pk)
		signedTestWritePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", ec.cert)
		signedTestOpenSSL(t, dir, "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-md", "sha256",
			"-econtent_type", signedTestContentType.String(), "-signer", "cert.pem", "-inkey", "key.pem",
			"-in", "content.bin", "-out", "openssl.der")
		b, err := os.ReadFile(filepath.Join(dir, "openssl.der"))
		if err != nil {
			t.Fatal(err)
		}
		sd, err := ParseSignedData(b)
		if err != nil {
			t.Fatal(err)
		}
		if sd.Mode != ModeCMS || !bytes.Equal(sd.Content, signedTestContent) || !sd.ContentType.Equal(signedTestContentType) {
			t.Errorf("parsed %v %v %x", sd.Mode, sd.ContentType, sd.Content)
		}
		if err := sd.Verify(nil, signedTestCertKey(sd)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFindCertificateBySubjectKeyID(t *testing.T) {
	p := signedTestPartyFor(t, "ecdsa")
	cert, err := x509.ParseCertificate(p.cert)
	if err != nil || len(cert.SubjectKeyId) == 0 {
		t.Fatalf("test certificate without subjectKeyIdentifier: %v", err)
	}
	ski, err := certificateSubjectKeyID(p.cert)
	if err != nil || !bytes.Equal(ski, cert.SubjectKeyId) {
		t.Fatalf("certificateSubjectKeyID: %x, %v; crypto/x509 says %x", ski, err, cert.SubjectKeyId)
	}
	sd := &SignedData{Certificates: [][]byte{signedTestPartyFor(t, "ecdsa2").cert, p.cert}}
	if c, ok := sd.FindCertificate(&SignerInfo{Version: 3, SubjectKeyID: cert.SubjectKeyId}); !ok || !bytes.Equal(c, p.cert) {
		t.Error("certificate not found by subjectKeyIdentifier")
	}
	if _, ok := sd.FindCertificate(&SignerInfo{Version: 3, SubjectKeyID: []byte{1}}); ok {
		t.Error("found a certificate for an unknown subjectKeyIdentifier")
	}
	mldsaCert := signedTestPartyFor(t, "mldsa").cert
	if ski, err := certificateSubjectKeyID(mldsaCert); err != nil || ski != nil {
		t.Errorf("certificate without extensions: %x, %v", ski, err)
	}
}
