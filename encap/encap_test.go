package encap

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/suite"
)

// Content types the tests use (SET's 2.23.42.0 arc).
var (
	ctPIDualSignedTBE = asn1.ObjectIdentifier{2, 23, 42, 0, 50}
	ctAuthReqTBS      = asn1.ObjectIdentifier{2, 23, 42, 0, 16}
	ctAuthReqTBE      = asn1.ObjectIdentifier{2, 23, 42, 0, 52}
	ctPInitResData    = asn1.ObjectIdentifier{2, 23, 42, 0, 12}
)

// Small RSA keys where the tests are about structure; the benchmarks use
// the suites' defaults.
var testSuites = []suite.Suite{suite.NewSet1(suite.Set1Options{RSABits: 1024}), suite.NewModern()}

// exParty is a key-exchange key with its certificate.
type exParty struct {
	key  suite.ExchangeKey
	cert []byte
}

type world struct {
	alice, bob       Signer  // two cardholders
	merchant         Signer  //
	gateway, other   exParty // the gateway and a party that is not it
	verify           CertVerifier
	rejectAll        CertVerifier
	piData, oiData   []byte
	piData2, oiData2 []byte
}

var (
	caOnce sync.Once
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	serial int64 = 100

	worldMu sync.Mutex
	worlds  = map[suite.Suite]*world{}
)

func testCA() {
	caOnce.Do(func() {
		var err error
		if caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		if caCert, err = x509.ParseCertificate(der); err != nil {
			panic(err)
		}
	})
}

func issue(t testing.TB, name string, pub crypto.PublicKey) []byte {
	t.Helper()
	testCA()
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// verifyByCA is the test's CertVerifier: the certificate must be signed by
// the test CA.
func verifyByCA(certDER []byte, _ [][]byte) (crypto.PublicKey, error) {
	c, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	if err := c.CheckSignatureFrom(caCert); err != nil {
		return nil, err
	}
	return c.PublicKey, nil
}

var errRejected = errors.New("test verifier rejects every certificate")

func worldFor(t testing.TB, st suite.Suite) *world {
	t.Helper()
	worldMu.Lock()
	defer worldMu.Unlock()
	if w, ok := worlds[st]; ok {
		return w
	}
	w := &world{
		verify:    verifyByCA,
		rejectAll: func([]byte, [][]byte) (crypto.PublicKey, error) { return nil, errRejected },
		piData:    derSeq("PIHead+PANData: 4111111111111111"),
		oiData:    derSeq("OIData: one blue teapot"),
		piData2:   derSeq("PIHead+PANData: 5500000000000004"),
		oiData2:   derSeq("OIData: two red teapots"),
	}
	for _, s := range []struct {
		name string
		p    *Signer
	}{{"alice", &w.alice}, {"bob", &w.bob}, {"merchant", &w.merchant}} {
		k, err := st.NewSigningKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		*s.p = Signer{Key: k, Cert: issue(t, s.name, k.Public())}
	}
	for _, e := range []struct {
		name string
		p    *exParty
	}{{"gateway", &w.gateway}, {"other", &w.other}} {
		k, err := st.NewExchangeKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		*e.p = exParty{key: k, cert: issue(t, e.name, k.Public())}
	}
	worlds[st] = w
	return w
}

// derSeq wraps s as SEQUENCE { OCTET STRING s }, a stand-in SET type.
func derSeq(s string) []byte {
	b, err := asn1.Marshal(struct{ V []byte }{[]byte(s)})
	if err != nil {
		panic(err)
	}
	return b
}

func forEachSuite(t *testing.T, f func(t *testing.T, st suite.Suite, w *world)) {
	for _, st := range testSuites {
		t.Run(string(st.ID()), func(t *testing.T) { f(t, st, worldFor(t, st)) })
	}
}

func flipped(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestS(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbs := derSeq("PInitResData")
		signed, err := S(st, rand.Reader, w.merchant, ctPInitResData, tbs)
		if err != nil {
			t.Fatal(err)
		}
		got, cert, err := OpenS(st, signed, ctPInitResData, w.verify)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tbs) || !bytes.Equal(cert, w.merchant.Cert) {
			t.Errorf("OpenS = %x, cert %d bytes", got, len(cert))
		}
		if _, _, err := OpenS(st, signed, ctAuthReqTBS, w.verify); !errors.Is(err, ErrWrongContentType) {
			t.Errorf("other content type: %v", err)
		}
		if _, _, err := OpenS(st, signed, ctPInitResData, w.rejectAll); !errors.Is(err, ErrCertificate) || !errors.Is(err, errRejected) {
			t.Errorf("rejected certificate: %v", err)
		}
		// Alice's key presenting the merchant's certificate.
		forged, err := S(st, rand.Reader, Signer{Key: w.alice.Key, Cert: w.merchant.Cert}, ctPInitResData, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenS(st, forged, ctPInitResData, w.verify); !errors.Is(err, ErrSignature) {
			t.Errorf("wrong key for the certificate: %v", err)
		}
		for i := range signed {
			if _, _, err := OpenS(st, flipped(signed, i), ctPInitResData, w.verify); err == nil {
				t.Fatalf("flip at byte %d accepted", i)
			}
		}
		for i := range signed {
			if _, _, err := OpenS(st, signed[:i], ctPInitResData, w.verify); !errors.Is(err, ErrMalformed) {
				t.Fatalf("truncation to %d bytes: %v", i, err)
			}
		}
		// Signatures do not cross suites.
		for _, other := range testSuites {
			if other.ID() == st.ID() {
				continue
			}
			if _, _, err := OpenS(other, signed, ctPInitResData, w.verify); !errors.Is(err, ErrWrongSuite) {
				t.Errorf("%s signature accepted by %s: %v", st.ID(), other.ID(), err)
			}
			ow := worldFor(t, other)
			if _, err := S(st, rand.Reader, ow.merchant, ctPInitResData, tbs); err == nil {
				t.Errorf("%s signed with a %s key", st.ID(), other.ID())
			}
		}
	})
}

func TestSO(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbs := derSeq("AuthReqTBS")
		sig, err := SO(st, rand.Reader, w.merchant, ctAuthReqTBS, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sig, tbs) {
			t.Error("SO carries its content")
		}
		cert, err := VerifySO(st, sig, ctAuthReqTBS, tbs, w.verify)
		if err != nil || !bytes.Equal(cert, w.merchant.Cert) {
			t.Fatalf("VerifySO: %v", err)
		}
		if _, err := VerifySO(st, sig, ctAuthReqTBS, derSeq("AuthReqTBS!"), w.verify); !errors.Is(err, ErrSignature) {
			t.Errorf("other content: %v", err)
		}
		for i := range tbs {
			if _, err := VerifySO(st, sig, ctAuthReqTBS, flipped(tbs, i), w.verify); err == nil {
				t.Fatalf("content flipped at %d: %v", i, err)
			}
		}
		for i := range sig {
			if _, err := VerifySO(st, flipped(sig, i), ctAuthReqTBS, tbs, w.verify); err == nil {
				t.Fatalf("signature flipped at %d accepted", i)
			}
		}
		// S and SO are not interchangeable.
		if _, _, err := OpenS(st, sig, ctAuthReqTBS, w.verify); !errors.Is(err, ErrMalformed) {
			t.Errorf("OpenS of a detached signature: %v", err)
		}
		withContent, _ := S(st, rand.Reader, w.merchant, ctAuthReqTBS, tbs)
		if _, err := VerifySO(st, withContent, ctAuthReqTBS, tbs, w.verify); !errors.Is(err, ErrMalformed) {
			t.Errorf("VerifySO of S{}: %v", err)
		}
	})
}

func TestDD(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		dd1, err := DD(st, ctOIData, w.oiData)
		if err != nil {
			t.Fatal(err)
		}
		dd2, _ := DD(st, ctOIData, w.oiData)
		if !bytes.Equal(dd1, dd2) {
			t.Fatal("DD is not deterministic")
		}
		if bytes.Contains(dd1, w.oiData) {
			t.Error("DD carries its content")
		}
		if err := CheckDD(st, dd1, ctOIData, w.oiData); err != nil {
			t.Error(err)
		}
		if err := CheckDD(st, dd1, ctOIData, w.oiData2); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("other content: %v", err)
		}
		if err := CheckDD(st, dd1, ctPIData, w.oiData); !errors.Is(err, ErrWrongContentType) {
			t.Errorf("other content type: %v", err)
		}
		for i := range dd1 {
			if err := CheckDD(st, flipped(dd1, i), ctOIData, w.oiData); err == nil {
				t.Fatalf("flip at %d accepted", i)
			}
			if err := CheckDD(st, dd1[:i], ctOIData, w.oiData); !errors.Is(err, ErrMalformed) {
				t.Fatalf("truncation to %d: %v", i, err)
			}
		}
		for _, other := range testSuites {
			if other.ID() != st.ID() {
				if err := CheckDD(other, dd1, ctOIData, w.oiData); err == nil {
					t.Errorf("%s DD accepted by %s", st.ID(), other.ID())
				}
			}
		}
	})
}

var envelopeOps = []struct {
	name string
	seal func(st suite.Suite, cert []byte, ct asn1.ObjectIdentifier, t, p []byte) ([]byte, error)
	open func(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) (t, p []byte, err error)
	p    []byte
}{
	{"E",
		func(st suite.Suite, cert []byte, ct asn1.ObjectIdentifier, t, _ []byte) ([]byte, error) {
			return E(st, rand.Reader, cert, ct, t)
		},
		func(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) ([]byte, []byte, error) {
			t, err := OpenE(st, key, cert, env, ct)
			return t, nil, err
		}, nil},
	{"EH",
		func(st suite.Suite, cert []byte, ct asn1.ObjectIdentifier, t, _ []byte) ([]byte, error) {
			return EH(st, rand.Reader, cert, ct, t)
		},
		func(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) ([]byte, []byte, error) {
			t, err := OpenEH(st, key, cert, env, ct)
			return t, nil, err
		}, nil},
	{"EX",
		func(st suite.Suite, cert []byte, ct asn1.ObjectIdentifier, t, p []byte) ([]byte, error) {
			return EX(st, rand.Reader, cert, ct, t, p)
		},
		func(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) ([]byte, []byte, error) {
			return OpenEX(st, key, cert, env, ct)
		}, derSeq("PANData")},
	{"EXH",
		func(st suite.Suite, cert []byte, ct asn1.ObjectIdentifier, t, p []byte) ([]byte, error) {
			return EXH(st, rand.Reader, cert, ct, t, p)
		},
		func(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) ([]byte, []byte, error) {
			return OpenEXH(st, key, cert, env, ct)
		}, derSeq("PANOnly")},
}

func TestEnvelopes(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbe := derSeq("PI-OILink")
		for _, op := range envelopeOps {
			t.Run(op.name, func(t *testing.T) {
				env, err := op.seal(st, w.gateway.cert, ctPIDualSignedTBE, tbe, op.p)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(env, tbe) || (op.p != nil && bytes.Contains(env, op.p)) {
					t.Fatal("plaintext visible in the envelope")
				}
				got, p, err := op.open(st, w.gateway.key, w.gateway.cert, env, ctPIDualSignedTBE)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tbe) || !bytes.Equal(p, op.p) {
					t.Errorf("opened %x / %x", got, p)
				}
				if _, _, err := op.open(st, w.other.key, w.other.cert, env, ctPIDualSignedTBE); err == nil {
					t.Error("another party opened the envelope")
				}
				if _, _, err := op.open(st, w.other.key, w.gateway.cert, env, ctPIDualSignedTBE); !errors.Is(err, ErrDecrypt) {
					t.Errorf("wrong key with the gateway's certificate: %v", err)
				}
				if _, _, err := op.open(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBE); !errors.Is(err, ErrWrongContentType) {
					t.Errorf("other content type: %v", err)
				}
				// With and without extra data are different operators.
				if op.p == nil {
					if _, _, err := OpenEX(st, w.gateway.key, w.gateway.cert, env, ctPIDualSignedTBE); err == nil {
						t.Error("OpenEX accepted an envelope without extra data")
					}
				} else if _, err := OpenE(st, w.gateway.key, w.gateway.cert, env, ctPIDualSignedTBE); err == nil {
					t.Error("OpenE accepted an envelope with extra data")
				}
				for i := range env {
					got, p, err := op.open(st, w.gateway.key, w.gateway.cert, flipped(env, i), ctPIDualSignedTBE)
					if err == nil && bytes.Equal(got, tbe) && bytes.Equal(p, op.p) {
						t.Fatalf("flip at byte %d went unnoticed", i)
					}
				}
				for i := range env {
					if _, _, err := op.open(st, w.gateway.key, w.gateway.cert, env[:i], ctPIDualSignedTBE); err == nil {
						t.Fatalf("truncation to %d accepted", i)
					}
				}
				for _, other := range testSuites {
					if other.ID() == st.ID() {
						continue
					}
					ow := worldFor(t, other)
					if _, _, err := op.open(other, ow.gateway.key, ow.gateway.cert, env, ctPIDualSignedTBE); !errors.Is(err, ErrWrongSuite) {
						t.Errorf("%s envelope opened under %s: %v", st.ID(), other.ID(), err)
					}
				}
			})
		}
		if _, err := EX(st, rand.Reader, w.gateway.cert, ctPIDualSignedTBE, tbe, nil); err == nil {
			t.Error("EX without extra data")
		}
	})
}

func TestEnc(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbs := derSeq("AuthReqData")
		env, err := Enc(st, rand.Reader, w.merchant, w.gateway.cert, ctAuthReqTBS, ctAuthReqTBE, tbs)
		if err != nil {
			t.Fatal(err)
		}
		got, signed, cert, err := OpenEnc(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBS, ctAuthReqTBE, w.verify)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tbs) || !bytes.Equal(cert, w.merchant.Cert) {
			t.Errorf("OpenEnc = %x", got)
		}
		// The inner SignedData is returned byte for byte and stands alone.
		if again, _, err := OpenS(st, signed, ctAuthReqTBS, w.verify); err != nil || !bytes.Equal(again, tbs) {
			t.Errorf("inner SignedData: %v", err)
		}
		if _, _, _, err := OpenEnc(st, w.other.key, w.other.cert, env, ctAuthReqTBS, ctAuthReqTBE, w.verify); err == nil {
			t.Error("another party opened Enc")
		}
		if _, _, _, err := OpenEnc(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBS, ctAuthReqTBE, w.rejectAll); !errors.Is(err, ErrCertificate) {
			t.Errorf("rejected signer: %v", err)
		}
		if _, _, _, err := OpenEnc(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBE, ctAuthReqTBE, w.verify); !errors.Is(err, ErrWrongContentType) {
			t.Errorf("inner content type: %v", err)
		}
		// An envelope of an unsigned t is not Enc.
		plain, _ := E(st, rand.Reader, w.gateway.cert, ctAuthReqTBE, tbs)
		if _, _, _, err := OpenEnc(st, w.gateway.key, w.gateway.cert, plain, ctAuthReqTBS, ctAuthReqTBE, w.verify); err == nil {
			t.Error("unsigned envelope accepted as Enc")
		}
		for i := range env {
			got, _, _, err := OpenEnc(st, w.gateway.key, w.gateway.cert, flipped(env, i), ctAuthReqTBS, ctAuthReqTBE, w.verify)
			if err == nil && bytes.Equal(got, tbs) {
				t.Fatalf("flip at byte %d went unnoticed", i)
			}
		}
	})
}

func TestDualSignature(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		sig, hPI, hOI, err := DualSign(st, rand.Reader, w.alice, w.piData, w.oiData)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{sig, hPI, hOI} {
			if bytes.Contains(b, w.piData) || bytes.Contains(b, w.oiData) {
				t.Fatal("a dual-signature part carries PIData or OIData")
			}
		}
		if err := CheckDD(st, hPI, ctPIData, w.piData); err != nil {
			t.Errorf("hPIData: %v", err)
		}
		if err := CheckDD(st, hOI, ctOIData, w.oiData); err != nil {
			t.Errorf("hOIData: %v", err)
		}
		// Merchant: OIData + hPIData, no PIData. Gateway: PIData + hOIData.
		if cert, err := VerifyDualFromOI(st, sig, w.oiData, hPI, w.verify); err != nil || !bytes.Equal(cert, w.alice.Cert) {
			t.Errorf("merchant's check: %v", err)
		}
		if cert, err := VerifyDualFromPI(st, sig, w.piData, hOI, w.verify); err != nil || !bytes.Equal(cert, w.alice.Cert) {
			t.Errorf("gateway's check: %v", err)
		}

		hPI2, _ := DD(st, ctPIData, w.piData2)
		hOI2, _ := DD(st, ctOIData, w.oiData2)
		sigBob, _, _, err := DualSign(st, rand.Reader, w.bob, w.piData2, w.oiData2)
		if err != nil {
			t.Fatal(err)
		}
		forged, _, _, err := DualSign(st, rand.Reader, Signer{Key: w.bob.Key, Cert: w.alice.Cert}, w.piData, w.oiData)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			err  error
			got  func() error
		}{
			{"merchant: other OIData", ErrSignature, func() error {
				_, err := VerifyDualFromOI(st, sig, w.oiData2, hPI, w.verify)
				return err
			}},
			{"merchant: other PIData's digest", ErrSignature, func() error {
				_, err := VerifyDualFromOI(st, sig, w.oiData, hPI2, w.verify)
				return err
			}},
			{"gateway: other PIData", ErrSignature, func() error {
				_, err := VerifyDualFromPI(st, sig, w.piData2, hOI, w.verify)
				return err
			}},
			{"gateway: other OIData's digest", ErrSignature, func() error {
				_, err := VerifyDualFromPI(st, sig, w.piData, hOI2, w.verify)
				return err
			}},
			{"merchant: another cardholder's signature", ErrSignature, func() error {
				_, err := VerifyDualFromOI(st, sigBob, w.oiData, hPI, w.verify)
				return err
			}},
			{"gateway: another cardholder's signature", ErrSignature, func() error {
				_, err := VerifyDualFromPI(st, sigBob, w.piData, hOI, w.verify)
				return err
			}},
			{"merchant: another cardholder's key under Alice's certificate", ErrSignature, func() error {
				_, err := VerifyDualFromOI(st, forged, w.oiData, hPI, w.verify)
				return err
			}},
			{"gateway: another cardholder's key under Alice's certificate", ErrSignature, func() error {
				_, err := VerifyDualFromPI(st, forged, w.piData, hOI, w.verify)
				return err
			}},
			{"merchant: hOIData passed as hPIData", ErrWrongContentType, func() error {
				_, err := VerifyDualFromOI(st, sig, w.oiData, hOI, w.verify)
				return err
			}},
			{"gateway: hPIData passed as hOIData", ErrWrongContentType, func() error {
				_, err := VerifyDualFromPI(st, sig, w.piData, hPI, w.verify)
				return err
			}},
			{"merchant: rejected certificate", ErrCertificate, func() error {
				_, err := VerifyDualFromOI(st, sig, w.oiData, hPI, w.rejectAll)
				return err
			}},
			{"plain SO over OIData is no dual signature", ErrWrongContentType, func() error {
				so, err := SO(st, rand.Reader, w.alice, ctOIData, w.oiData)
				if err != nil {
					return err
				}
				_, err = VerifyDualFromOI(st, so, w.oiData, hPI, w.verify)
				return err
			}},
		} {
			if err := tc.got(); !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
		}
		for i := range sig {
			if _, err := VerifyDualFromOI(st, flipped(sig, i), w.oiData, hPI, w.verify); err == nil {
				t.Fatalf("signature flipped at %d accepted by the merchant", i)
			}
		}
		for i := range hPI {
			if _, err := VerifyDualFromOI(st, sig, w.oiData, flipped(hPI, i), w.verify); err == nil {
				t.Fatalf("hPIData flipped at %d accepted", i)
			}
		}
		for i := range hOI {
			if _, err := VerifyDualFromPI(st, sig, w.piData, flipped(hOI, i), w.verify); err == nil {
				t.Fatalf("hOIData flipped at %d accepted", i)
			}
		}
		// The dual signature is not valid in the other suite.
		for _, other := range testSuites {
			if other.ID() != st.ID() {
				if _, err := VerifyDualFromOI(other, sig, w.oiData, hPI, w.verify); err == nil {
					t.Errorf("%s dual signature accepted by %s", st.ID(), other.ID())
				}
			}
		}
	})
}

func TestHMAC(t *testing.T) {
	// RFC 2202 test case 1 (HMAC-SHA1) and RFC 4231 test case 1 (HMAC-SHA256).
	key := bytes.Repeat([]byte{0x0b}, 20)
	want := map[suite.ID]string{
		suite.Set1:   "b617318655057264e28bc0b6fb378c8ef146be00",
		suite.Modern: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	}
	for _, st := range testSuites {
		if got := hex.EncodeToString(HMAC(st, key, []byte("Hi There"))); got != want[st.ID()] {
			t.Errorf("%s: HMAC = %s, want %s", st.ID(), got, want[st.ID()])
		}
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	errs := []error{ErrSignature, ErrCertificate, ErrDigestMismatch, ErrWrongContentType, ErrDecrypt, ErrMalformed, ErrWrongSuite}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v is %v", a, b)
			}
		}
	}
}
