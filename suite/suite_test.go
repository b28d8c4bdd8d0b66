package suite

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
)

// Small RSA keys: these tests are about structure, not strength.
var testSet1 = NewSet1(Set1Options{RSABits: 1024})

var ctTest = asn1.ObjectIdentifier{2, 23, 42, 0, 50} // setct-PIDualSignedTBE

// party is a key-exchange key with its certificate.
type party struct {
	key  ExchangeKey
	cert []byte
}

type fixture struct {
	alice, bob party // two recipients of one suite
	signer     crypto.Signer
	signerCert []byte
}

var (
	caOnce sync.Once
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate

	fixMu    sync.Mutex
	fixtures = map[ID]*fixture{}
)

// issue certifies pub under a throwaway test CA.
func issue(t testing.TB, pub crypto.PublicKey, serial int64) []byte {
	t.Helper()
	caOnce.Do(func() {
		var err error
		caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		caCert, _ = x509.ParseCertificate(der)
	})
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "party"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func fixtureFor(t testing.TB, st Suite) *fixture {
	t.Helper()
	fixMu.Lock()
	defer fixMu.Unlock()
	if f, ok := fixtures[st.ID()]; ok {
		return f
	}
	f := &fixture{}
	for i, p := range []*party{&f.alice, &f.bob} {
		k, err := st.NewExchangeKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p.key, p.cert = k, issue(t, k.Public(), int64(10+i))
	}
	s, err := st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.signer, f.signerCert = s, issue(t, s.Public(), 20)
	fixtures[st.ID()] = f
	return f
}

func suites() []Suite { return []Suite{testSet1, NewModern()} }

func TestByID(t *testing.T) {
	for _, id := range []ID{Set1, Modern} {
		st, err := ByID(id)
		if err != nil || st.ID() != id {
			t.Errorf("ByID(%q) = %v, %v", id, st, err)
		}
	}
	if _, err := ByID(PQ); !errors.Is(err, ErrNotAvailable) {
		t.Errorf("ByID(pq) error %v, want ErrNotAvailable", err)
	}
	if _, err := ByID("rot13"); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("ByID(rot13) error %v, want ErrUnknownSuite", err)
	}
}

func TestParameters(t *testing.T) {
	set1, _ := ByID(Set1)
	modern, _ := ByID(Modern)
	if set1.Hash() != crypto.SHA1 || set1.ContentMode() != pkcs7.ModePKCS7 {
		t.Errorf("set1: %v %v", set1.Hash(), set1.ContentMode())
	}
	if modern.Hash() != crypto.SHA256 || modern.ContentMode() != pkcs7.ModeCMS {
		t.Errorf("modern: %v %v", modern.Hash(), modern.ContentMode())
	}
	if _, err := NewSet1(Set1Options{RSABits: 512}).NewSigningKey(rand.Reader); !errors.Is(err, ErrKeyType) {
		t.Errorf("512-bit set1 key: %v, want ErrKeyType", err)
	}
}

func TestKeyTypes(t *testing.T) {
	for _, st := range suites() {
		f := fixtureFor(t, st)
		if _, ok := f.alice.key.(crypto.Signer); ok {
			t.Errorf("%s: exchange key is a crypto.Signer", st.ID())
		}
		switch st.ID() {
		case Set1:
			if k := f.signer.(*rsa.PrivateKey); k.N.BitLen() != 1024 {
				t.Errorf("set1 signing key %d bits", k.N.BitLen())
			}
			if _, ok := f.alice.key.Public().(*rsa.PublicKey); !ok {
				t.Errorf("set1 exchange public %T", f.alice.key.Public())
			}
		case Modern:
			if k := f.signer.(*ecdsa.PrivateKey); k.Curve != elliptic.P256() {
				t.Errorf("modern signing key %v", k.Curve.Params().Name)
			}
			if k, ok := f.alice.key.Public().(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
				t.Errorf("modern exchange public %T", f.alice.key.Public())
			}
		}
	}
}

func TestKeyEncoding(t *testing.T) {
	for _, st := range suites() {
		f := fixtureFor(t, st)
		b, err := MarshalExchangeKey(f.alice.key)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseExchangeKey(b)
		if err != nil {
			t.Fatal(err)
		}
		if b2, _ := MarshalExchangeKey(k); !bytes.Equal(b, b2) {
			t.Errorf("%s: exchange key does not round-trip", st.ID())
		}
		// The parsed key must still open what was sealed to the original.
		env, err := st.Seal(rand.Reader, f.alice.cert, ctTest, []byte{5, 0}, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, c, _, err := st.Open(k, f.alice.cert, env); err != nil || !bytes.Equal(c, []byte{5, 0}) {
			t.Errorf("%s: parsed key cannot open: %v", st.ID(), err)
		}

		b, err = MarshalSigningKey(f.signer)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSigningKey(b)
		if err != nil {
			t.Fatal(err)
		}
		if b2, _ := MarshalSigningKey(s); !bytes.Equal(b, b2) {
			t.Errorf("%s: signing key does not round-trip", st.ID())
		}
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	if _, err := ParseSigningKey(edDER); !errors.Is(err, ErrKeyType) {
		t.Errorf("Ed25519 signing key accepted: %v", err)
	}
	if _, err := ParseExchangeKey(edDER); !errors.Is(err, ErrKeyType) {
		t.Errorf("Ed25519 exchange key accepted: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := WrapExchangeKey(p384); !errors.Is(err, ErrKeyType) {
		t.Errorf("P-384 exchange key accepted: %v", err)
	}
	if _, err := ParseExchangeKey([]byte{0x30, 0x00}); err == nil {
		t.Error("garbage exchange key accepted")
	}
}

func TestWrapExchangeKeyECDH(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e, _ := ec.ECDH()
	k1, err := WrapExchangeKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := WrapExchangeKey(e)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Public().(*ecdsa.PublicKey).Equal(k2.Public()) {
		t.Error("ECDSA and ECDH forms of one key differ")
	}
}

var sealCases = []struct {
	name     string
	extra    []byte
	withHash bool
}{
	{"E", nil, false},
	{"EH", nil, true},
	{"EX", []byte{0x04, 0x03, 'p', 'a', 'n'}, false},
	{"EXH", []byte{0x04, 0x03, 'p', 'a', 'n'}, true},
}

var testContent = []byte{0x30, 0x0a, 0x04, 0x08, 'o', 'r', 'd', 'e', 'r', '-', '4', '2'}

func TestSealOpen(t *testing.T) {
	for _, st := range suites() {
		f := fixtureFor(t, st)
		for _, tc := range sealCases {
			t.Run(string(st.ID())+"/"+tc.name, func(t *testing.T) {
				env, err := st.Seal(rand.Reader, f.alice.cert, ctTest, testContent, tc.extra, tc.withHash)
				if err != nil {
					t.Fatal(err)
				}
				if id, err := Identify(env); err != nil || id != st.ID() {
					t.Errorf("Identify = %q, %v", id, err)
				}
				ct, content, extra, err := st.Open(f.alice.key, f.alice.cert, env)
				if err != nil {
					t.Fatal(err)
				}
				if !ct.Equal(ctTest) || !bytes.Equal(content, testContent) || !bytes.Equal(extra, tc.extra) {
					t.Errorf("Open = %v %x %x", ct, content, extra)
				}
				if tc.extra == nil && extra != nil {
					t.Errorf("extra %x appeared", extra)
				}
				// Bob's key (with his or Alice's certificate) opens nothing.
				if _, _, _, err := st.Open(f.bob.key, f.bob.cert, env); err == nil {
					t.Error("another recipient opened the envelope")
				}
				if _, _, _, err := st.Open(f.bob.key, f.alice.cert, env); err == nil {
					t.Error("wrong key with the right certificate opened the envelope")
				}
			})
		}
	}
}

// TestOpenRefusesOtherSuite: an envelope of one suite is never processed
// by another, whatever key is offered.
func TestOpenRefusesOtherSuite(t *testing.T) {
	s1, m := fixtureFor(t, testSet1), fixtureFor(t, NewModern())
	env1, err := testSet1.Seal(rand.Reader, s1.alice.cert, ctTest, testContent, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	envM, err := NewModern().Seal(rand.Reader, m.alice.cert, ctTest, testContent, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := NewModern().Open(m.alice.key, m.alice.cert, env1); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("modern opened set1 envelope: %v", err)
	}
	if _, _, _, err := testSet1.Open(s1.alice.key, s1.alice.cert, envM); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("set1 opened modern envelope: %v", err)
	}
	if _, _, _, err := testSet1.Open(m.alice.key, m.alice.cert, env1); !errors.Is(err, ErrKeyType) {
		t.Errorf("set1 with ECDH key: %v", err)
	}
	// Sealing to a certificate of the other suite's key type is refused.
	if _, err := testSet1.Seal(rand.Reader, m.alice.cert, ctTest, testContent, nil, false); !errors.Is(err, ErrKeyType) {
		t.Errorf("set1 sealed to an EC certificate: %v", err)
	}
	if _, err := NewModern().Seal(rand.Reader, s1.alice.cert, ctTest, testContent, nil, false); !errors.Is(err, ErrKeyType) {
		t.Errorf("modern sealed to an RSA certificate: %v", err)
	}
}

// TestTamper flips and truncates every byte of an envelope: Open must never
// return the original (content type, content, extra) from altered bytes.
// set1's plain E has no integrity by design, so there a flip may yield
// different plaintext, but never the same.
func TestTamper(t *testing.T) {
	for _, st := range suites() {
		f := fixtureFor(t, st)
		for _, tc := range sealCases {
			t.Run(string(st.ID())+"/"+tc.name, func(t *testing.T) {
				env, err := st.Seal(rand.Reader, f.alice.cert, ctTest, testContent, tc.extra, tc.withHash)
				if err != nil {
					t.Fatal(err)
				}
				for i := range env {
					bad := bytes.Clone(env)
					bad[i] ^= 0x01
					ct, content, extra, err := st.Open(f.alice.key, f.alice.cert, bad)
					if err == nil && ct.Equal(ctTest) && bytes.Equal(content, testContent) && bytes.Equal(extra, tc.extra) {
						t.Fatalf("flip at byte %d went unnoticed", i)
					}
					if err == nil && (st.ID() == Modern || tc.withHash) && bytes.Equal(content, testContent) == false {
						t.Fatalf("flip at byte %d changed the content of an integrity-protected envelope", i)
					}
				}
				for i := range env {
					if _, _, _, err := st.Open(f.alice.key, f.alice.cert, env[:i]); err == nil {
						t.Fatalf("truncation to %d bytes accepted", i)
					}
				}
			})
		}
	}
}

func TestSealRejectsBadInput(t *testing.T) {
	f := fixtureFor(t, NewModern())
	for _, tc := range []struct {
		name           string
		content, extra []byte
	}{
		{"content not DER", []byte{0x04, 0x05, 1}, nil},
		{"content with trailing data", []byte{0x05, 0x00, 0x00}, nil},
		{"extra not DER", testContent, []byte{0xff}},
	} {
		if _, err := NewModern().Seal(rand.Reader, f.alice.cert, ctTest, tc.content, tc.extra, false); err == nil {
			t.Errorf("%s: sealed", tc.name)
		}
	}
	for _, st := range suites() {
		if _, err := st.Seal(rand.Reader, []byte{0x30, 0x03, 0x02, 0x01, 0x00}, ctTest, testContent, nil, false); err == nil {
			t.Errorf("%s: sealed to a non-certificate", st.ID())
		}
		f := fixtureFor(t, st)
		for _, extra := range [][]byte{{}, {0x04}, {0x05, 0x00, 0x00}} {
			if _, err := st.Seal(rand.Reader, f.alice.cert, ctTest, testContent, extra, false); err == nil {
				t.Errorf("%s: sealed with extra %x", st.ID(), extra)
			}
		}
		if _, err := st.Seal(rand.Reader, f.alice.cert, ctTest, []byte("raw"), nil, false); err == nil {
			t.Errorf("%s: sealed non-DER content", st.ID())
		}
	}
}

func TestSealedContent(t *testing.T) {
	good := []struct {
		in             []byte
		content, extra []byte
	}{
		{[]byte{0x30, 0x05, 0x06, 0x01, 0x2a, 0x05, 0x00}, []byte{0x05, 0x00}, nil},
		{[]byte{0x30, 0x08, 0x06, 0x01, 0x2a, 0x05, 0x00, 0x04, 0x01, 0x07}, []byte{0x05, 0x00}, []byte{0x04, 0x01, 0x07}},
	}
	for _, g := range good {
		ct, c, e, err := parseSealedContent(g.in)
		if err != nil || !ct.Equal(asn1.ObjectIdentifier{1, 2}) || !bytes.Equal(c, g.content) || !bytes.Equal(e, g.extra) {
			t.Errorf("parse %x = %v %x %x %v", g.in, ct, c, e, err)
		}
		b, err := marshalSealedContent(asn1.ObjectIdentifier{1, 2}, g.content, g.extra)
		if err != nil || !bytes.Equal(b, g.in) {
			t.Errorf("marshal = %x %v, want %x", b, err, g.in)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{0x30, 0x00},                   // no content type
		{0x30, 0x03, 0x06, 0x01, 0x2a}, // no content
		{0x30, 0x02, 0x05, 0x00},       // content without a content type
		{0x31, 0x05, 0x06, 0x01, 0x2a, 0x05, 0x00},                         // SET, not SEQUENCE
		{0x30, 0x09, 0x06, 0x01, 0x2a, 0x05, 0x00, 0x05, 0x00, 0x05, 0x00}, // three parts
		{0x30, 0x05, 0x06, 0x01, 0x2a, 0x05, 0x00, 0x00},                   // trailing byte
		{0x30, 0x81, 0x05, 0x06, 0x01, 0x2a, 0x05, 0x00},                   // non-minimal length
		{0x30, 0x06, 0x06, 0x01, 0x2a, 0x05, 0x00},                         // truncated
	} {
		if _, _, _, err := parseSealedContent(bad); err == nil {
			t.Errorf("parse %x accepted", bad)
		}
	}
}

func TestIdentify(t *testing.T) {
	for _, st := range suites() {
		f := fixtureFor(t, st)
		signed, err := pkcs7.Sign(rand.Reader, ctTest, testContent,
			[]pkcs7.Signer{{Key: f.signer, Cert: f.signerCert, Hash: st.Hash()}},
			pkcs7.SignOptions{Mode: st.ContentMode(), Certificates: [][]byte{f.signerCert}})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := Identify(signed); err != nil || id != st.ID() {
			t.Errorf("%s SignedData identified as %q, %v", st.ID(), id, err)
		}
	}
	// An RSA key signing with SHA-256 belongs to no suite.
	f := fixtureFor(t, testSet1)
	odd, err := pkcs7.Sign(rand.Reader, ctTest, testContent,
		[]pkcs7.Signer{{Key: f.signer, Cert: f.signerCert, Hash: crypto.SHA256}},
		pkcs7.SignOptions{Mode: pkcs7.ModeCMS})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := Identify(odd); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("RSA/SHA-256 identified as %q, %v", id, err)
	}
	dd, err := pkcs7.Digest(ctTest, testContent, crypto.SHA1, pkcs7.ModePKCS7, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Identify(dd); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("DigestedData identified: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, []byte("not DER at all")} {
		if _, err := Identify(bad); err == nil {
			t.Errorf("Identify(%x) succeeded", bad)
		}
	}
}

func TestCertificatePublicKey(t *testing.T) {
	f := fixtureFor(t, NewModern())
	pub, err := certificatePublicKey(f.alice.cert)
	if err != nil || !pub.(*ecdsa.PublicKey).Equal(f.alice.key.Public()) {
		t.Fatalf("got %v, %v", pub, err)
	}
	for i := range f.alice.cert {
		if _, err := certificatePublicKey(f.alice.cert[:i]); err == nil {
			t.Fatalf("truncated certificate (%d bytes) accepted", i)
		}
	}
	if _, err := certificatePublicKey(append(bytes.Clone(f.alice.cert), 0)); err == nil {
		t.Error("trailing byte accepted")
	}
}
