package pki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// testNow is the fixed clock of every fixture.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testMerchant = MerchantData{
	MerID:          "MER-000123",
	MerAcquirerBIN: "412345",
	MerNames: []MerName{
		{Language: "en", Name: "Acme Books", City: "Springfield", StateProvince: "IL", PostalCode: "62701", CountryName: "USA"},
		{Language: "ru", Name: "Книги Акме", City: "Спрингфилд", CountryName: "США"},
	},
	MerCountry:  840,
	MerAuthFlag: true,
}

const (
	testPAN    = "4111111111111111"
	testExpiry = "202912"
)

var testPANSecret = []byte("0123456789abcdef0123")

// suiteFixture is one hierarchy with every end-entity certificate, built
// once per test binary because key generation dominates test time.
type suiteFixture struct {
	name string
	hash crypto.Hash
	h    *Hierarchy

	card, merSig, merExch, pgwySig, pgwyExch *Certificate
	cardKey                                  crypto.Signer
}

type suiteSpec struct {
	name    string
	hash    crypto.Hash
	caGen   KeyGen                              // CA keys
	sigGen  KeyGen                              // end-entity signature keys
	exchPub func(t testing.TB) crypto.PublicKey // end-entity key-exchange keys
}

func rsaGen(bits int) KeyGen {
	return func(r io.Reader) (crypto.Signer, error) { return rsa.GenerateKey(r, bits) }
}

func ecdsaGen(r io.Reader) (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), r) }

func mldsaGen(r io.Reader) (crypto.Signer, error) {
	_, sk, err := mldsa65.GenerateKey(r)
	return sk, err
}

var suites = map[string]suiteSpec{
	"set1": {
		name: "set1", hash: crypto.SHA1,
		// The root gets 2048 bits, everything below 1024, as SET deployed.
		caGen: func() KeyGen {
			first := true
			return func(r io.Reader) (crypto.Signer, error) {
				if first {
					first = false
					return rsa.GenerateKey(r, 2048)
				}
				return rsa.GenerateKey(r, 1024)
			}
		}(),
		sigGen: rsaGen(1024),
		exchPub: func(t testing.TB) crypto.PublicKey {
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Fatal(err)
			}
			return k.Public()
		},
	},
	"modern": {
		name: "modern", hash: crypto.SHA256, caGen: ecdsaGen, sigGen: ecdsaGen,
		exchPub: func(t testing.TB) crypto.PublicKey {
			k, err := ecdh.P256().GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return k.PublicKey()
		},
	},
	"pq": {
		name: "pq", hash: crypto.SHA256, caGen: mldsaGen, sigGen: mldsaGen,
		// ML-KEM exchange certificates come with the pq suite; until
		// then the exchange slot carries a P-256 ECDH key.
		exchPub: func(t testing.TB) crypto.PublicKey {
			k, err := ecdh.P256().GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return k.PublicKey()
		},
	},
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[string]*suiteFixture{}
)

func fixture(t testing.TB, suite string) *suiteFixture {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[suite]; ok {
		return f
	}
	spec := suites[suite]
	h, err := NewHierarchy(rand.Reader, "SETpay", spec.caGen, spec.hash, testNow)
	if err != nil {
		t.Fatalf("%s: NewHierarchy: %v", suite, err)
	}
	f := &suiteFixture{name: suite, hash: spec.hash, h: h}
	mustIssue := func(a *Authority, tmpl *Template) *Certificate {
		c, err := a.Issue(rand.Reader, tmpl)
		if err != nil {
			t.Fatalf("%s: Issue %v: %v", suite, tmpl.CertType, err)
		}
		return c
	}
	newSig := func() crypto.Signer {
		k, err := spec.sigGen(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	f.cardKey = newSig()
	ct, err := CardholderTemplate(f.cardKey.Public(), testPAN, testExpiry, testPANSecret, spec.hash, testNow)
	if err != nil {
		t.Fatal(err)
	}
	f.card = mustIssue(h.CCA, ct)
	f.merSig = mustIssue(h.MCA, MerchantSignatureTemplate(newSig().Public(), testMerchant, testNow))
	f.merExch = mustIssue(h.MCA, MerchantExchangeTemplate(spec.exchPub(t), testMerchant, testNow))
	f.pgwySig = mustIssue(h.PCA, GatewaySignatureTemplate(newSig().Public(), "SETpay Gateway 1", testNow))
	f.pgwyExch = mustIssue(h.PCA, GatewayExchangeTemplate(spec.exchPub(t), "SETpay Gateway 1", testNow))
	fixtures[suite] = f
	return f
}

func (f *suiteFixture) opts() VerifyOptions {
	return VerifyOptions{
		Roots:         []*Certificate{f.h.Root.Cert},
		Intermediates: []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert},
		Now:           testNow.Add(24 * time.Hour),
	}
}

// all lists every certificate of the fixture with a file-friendly name.
func (f *suiteFixture) all() []namedCert {
	return []namedCert{
		{"root", f.h.Root.Cert}, {"brand", f.h.Brand.Cert}, {"cca", f.h.CCA.Cert},
		{"mca", f.h.MCA.Cert}, {"pca", f.h.PCA.Cert}, {"card", f.card},
		{"mer-sig", f.merSig}, {"mer-exch", f.merExch},
		{"pgwy-sig", f.pgwySig}, {"pgwy-exch", f.pgwyExch},
	}
}

type namedCert struct {
	name string
	cert *Certificate
}
