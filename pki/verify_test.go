package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"

	"github.com/setpay/setpay/internal/pkcs7"
)

func TestHierarchyEverySuite(t *testing.T) {
	for _, suite := range []string{"set1", "modern", "pq"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			wantAlg := map[string]pkcs7.AlgorithmIdentifier{
				"set1":   {Algorithm: pkcs7.OIDSHA1WithRSA, Parameters: asn1.NullBytes},
				"modern": {Algorithm: pkcs7.OIDECDSAWithSHA256},
				"pq":     {Algorithm: pkcs7.OIDMLDSA65},
			}[suite]
			for _, nc := range f.all() {
				alg := nc.cert.SignatureAlgorithm
				if !alg.Algorithm.Equal(wantAlg.Algorithm) || !bytes.Equal(alg.Parameters, wantAlg.Parameters) {
					t.Errorf("%s: signature algorithm %v params %x, want %v params %x", nc.name, alg.Algorithm, alg.Parameters, wantAlg.Algorithm, wantAlg.Parameters)
				}
			}
			type leafCase struct {
				name string
				cert *Certificate
				typ  CertType
				ku   x509.KeyUsage
				ca   *Authority
			}
			exchKU := x509.KeyUsageKeyAgreement
			if suite == "set1" {
				exchKU = x509.KeyUsageKeyEncipherment
			}
			for _, lc := range []leafCase{
				{"card", f.card, CertTypeCard, x509.KeyUsageDigitalSignature, f.h.CCA},
				{"mer-sig", f.merSig, CertTypeMer, x509.KeyUsageDigitalSignature, f.h.MCA},
				{"mer-exch", f.merExch, CertTypeMer, exchKU, f.h.MCA},
				{"pgwy-sig", f.pgwySig, CertTypePgwy, x509.KeyUsageDigitalSignature, f.h.PCA},
				{"pgwy-exch", f.pgwyExch, CertTypePgwy, exchKU, f.h.PCA},
			} {
				if lc.cert.KeyUsage != lc.ku {
					t.Errorf("%s: KeyUsage %#x, want %#x", lc.name, lc.cert.KeyUsage, lc.ku)
				}
				opts := f.opts()
				opts.CertType, opts.KeyUsage = lc.typ, lc.ku
				chain, err := lc.cert.Verify(opts)
				if err != nil {
					t.Fatalf("%s: Verify: %v", lc.name, err)
				}
				want := []*Certificate{lc.cert, lc.ca.Cert, f.h.Brand.Cert, f.h.Root.Cert}
				if len(chain) != len(want) {
					t.Fatalf("%s: chain of %d, want %d", lc.name, len(chain), len(want))
				}
				for i := range want {
					if !bytes.Equal(chain[i].Raw, want[i].Raw) {
						t.Errorf("%s: chain[%d] = %v, want %v", lc.name, i, chain[i], want[i])
					}
				}
				if lc.cert.IsCA || lc.cert.HashedRootKey != nil {
					t.Errorf("%s: end entity with IsCA=%v hashedRootKey=%x", lc.name, lc.cert.IsCA, lc.cert.HashedRootKey)
				}
			}
			// Authorities' own chains.
			for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
				chain, err := a.Cert.Verify(f.opts())
				if err != nil {
					t.Fatalf("%v: %v", a.Cert, err)
				}
				if len(chain) != len(a.Chain) {
					t.Errorf("%v: Verify chain %d, Authority.Chain %d", a.Cert, len(chain), len(a.Chain))
				}
				if !a.Cert.IsCA || a.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
					t.Errorf("%v: not a signing CA", a.Cert)
				}
			}
			rkt := RootKeyThumbprint(f.h.Root.Cert.RawSubjectPublicKeyInfo, f.hash)
			for _, c := range []*Certificate{f.h.Root.Cert, f.h.Brand.Cert} {
				if !bytes.Equal(c.HashedRootKey, rkt) || c.HashedRootKeyAlg != f.hash {
					t.Errorf("%v: hashedRootKey %x (%v), want %x", c, c.HashedRootKey, c.HashedRootKeyAlg, rkt)
				}
			}
			for _, c := range []*Certificate{f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert} {
				if c.HashedRootKey != nil {
					t.Errorf("%v: unexpected hashedRootKey", c)
				}
			}
			if got := []CertType{f.h.Root.Cert.CertType, f.h.Brand.Cert.CertType, f.h.CCA.Cert.CertType, f.h.MCA.Cert.CertType, f.h.PCA.Cert.CertType}; got[0] != CertTypeRCA || got[1] != CertTypeBCA || got[2] != CertTypeCCA || got[3] != CertTypeMCA || got[4] != CertTypePCA {
				t.Errorf("CA types %v", got)
			}
			if md := f.merSig.MerchantData; md == nil || md.MerID != testMerchant.MerID || len(md.MerNames) != 2 || md.MerNames[1].Name != "Книги Акме" {
				t.Errorf("merchant data %+v", md)
			}
		})
	}
}

func TestKeyTypesPerSuite(t *testing.T) {
	check := func(name string, c *Certificate, ok func(crypto.PublicKey) bool) {
		t.Helper()
		if !ok(c.PublicKey) {
			t.Errorf("%s: public key %T", name, c.PublicKey)
		}
	}
	isRSA := func(p crypto.PublicKey) bool { _, ok := p.(*rsa.PublicKey); return ok }
	isEC := func(p crypto.PublicKey) bool { _, ok := p.(*ecdsa.PublicKey); return ok }
	isML := func(p crypto.PublicKey) bool { _, ok := p.(*mldsa65.PublicKey); return ok }
	s1 := fixture(t, "set1")
	check("set1 root", s1.h.Root.Cert, isRSA)
	if n := s1.h.Root.Cert.PublicKey.(*rsa.PublicKey).N.BitLen(); n != 2048 {
		t.Errorf("set1 root is %d bits", n)
	}
	if n := s1.card.PublicKey.(*rsa.PublicKey).N.BitLen(); n != 1024 {
		t.Errorf("set1 card is %d bits", n)
	}
	m := fixture(t, "modern")
	check("modern card", m.card, isEC)
	check("modern pgwy-exch", m.pgwyExch, isEC)
	// The ECDH exchange key comes back usable for ECDH.
	if _, err := m.pgwyExch.PublicKey.(*ecdsa.PublicKey).ECDH(); err != nil {
		t.Errorf("pgwy-exch ECDH: %v", err)
	}
	pq := fixture(t, "pq")
	check("pq card", pq.card, isML)
	check("pq root", pq.h.Root.Cert, isML)
}

func TestVerifyFailures(t *testing.T) {
	f := fixture(t, "modern")
	other := fixture(t, "set1") // same brand name, so same subject names

	reparse := func(t *testing.T, raw []byte) *Certificate {
		t.Helper()
		c, err := ParseCertificate(raw)
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		return c
	}
	flip := func(raw []byte, i int) []byte {
		out := bytes.Clone(raw)
		out[i] ^= 0x01
		return out
	}
	// A sub-CA under the CCA, which has pathLenConstraint 0.
	subKey, _ := ecdsaGen(rand.Reader)
	subCA := mustCreate(t, &Template{
		SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "sub CCA"},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour * 24 * 365), PublicKey: subKey.Public(),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, MaxPathLen: -1, CertType: CertTypeCCA,
	}, f.h.CCA.Cert, f.h.CCA.Key)
	leafKey, _ := ecdsaGen(rand.Reader)
	ct, _ := CardholderTemplate(leafKey.Public(), testPAN, testExpiry, testPANSecret, crypto.SHA256, testNow)
	ct.SerialNumber = big.NewInt(78)
	underSub := mustCreate(t, ct, subCA, subKey)

	// A card certificate signed by the MCA (a CA without the card bit).
	ct2 := *ct
	ct2.SerialNumber = big.NewInt(79)
	cardFromMCA := mustCreate(t, &ct2, f.h.MCA.Cert, f.h.MCA.Key)

	// A card-typed certificate "issued" by an end entity.
	ct3 := *ct
	ct3.SerialNumber = big.NewInt(80)
	cardFromCard := mustCreate(t, &ct3, f.card, f.cardKey)

	// Unknown critical extension.
	ct4 := *ct
	ct4.SerialNumber = big.NewInt(81)
	ct4.ExtraExtensions = []Extension{{ID: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00}}}
	withUnknown := mustCreate(t, &ct4, f.h.CCA.Cert, f.h.CCA.Key)
	// The same extension non-critical is fine.
	ct4.ExtraExtensions[0].Critical = false
	ct4.SerialNumber = big.NewInt(82)
	withNonCritical := mustCreate(t, &ct4, f.h.CCA.Cert, f.h.CCA.Key)

	// A brand certificate whose hashedRootKey names some other key.
	bk, _ := ecdsaGen(rand.Reader)
	badBrand := mustCreate(t, &Template{
		SerialNumber: big.NewInt(83), Subject: pkix.Name{CommonName: "bad brand"},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour * 24 * 365), PublicKey: bk.Public(),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, MaxPathLen: 1, CertType: CertTypeBCA,
		HashedRootKey: bytes.Repeat([]byte{7}, 32),
	}, f.h.Root.Cert, f.h.Root.Key)

	sigOff := len(f.card.Raw) - 5 // inside the signature BIT STRING
	cnOff := bytes.Index(f.card.Raw, []byte(f.card.Subject.CommonName))

	cases := []struct {
		name   string
		cert   *Certificate
		mutate func(*VerifyOptions)
		want   error
	}{
		{"expired", f.card, func(o *VerifyOptions) { o.Now = f.card.NotAfter.Add(time.Second) }, ErrExpired},
		{"not yet valid", f.card, func(o *VerifyOptions) { o.Now = f.card.NotBefore.Add(-time.Second) }, ErrExpired},
		{"CA expired", f.card, func(o *VerifyOptions) { o.Now = f.h.CCA.Cert.NotAfter.Add(time.Hour) }, ErrExpired},
		{"wrong root", f.card, func(o *VerifyOptions) { o.Roots = []*Certificate{other.h.Root.Cert} }, ErrUnknownIssuer},
		{"other hierarchy's intermediates", f.card, func(o *VerifyOptions) {
			o.Intermediates = []*Certificate{other.h.Brand.Cert, other.h.CCA.Cert}
		}, ErrUnknownIssuer},
		{"no intermediates", f.card, func(o *VerifyOptions) { o.Intermediates = nil }, ErrUnknownIssuer},
		{"tampered signature byte", reparse(t, flip(f.card.Raw, sigOff)), nil, ErrBadSignature},
		{"tampered subject byte", reparse(t, flip(f.card.Raw, cnOff)), nil, ErrBadSignature},
		{"tampered CA signature", f.card, func(o *VerifyOptions) {
			o.Intermediates = []*Certificate{f.h.Brand.Cert, reparse(t, flip(f.h.CCA.Cert.Raw, len(f.h.CCA.Cert.Raw)-5))}
		}, ErrBadSignature},
		{"leaf type wrong", f.card, func(o *VerifyOptions) { o.CertType = CertTypeMer }, ErrWrongType},
		{"leaf usage wrong", f.card, func(o *VerifyOptions) { o.KeyUsage = x509.KeyUsageKeyEncipherment }, ErrWrongUsage},
		{"CA without the bit", cardFromMCA, nil, ErrWrongType},
		{"issuer not a CA", cardFromCard, func(o *VerifyOptions) { o.Intermediates = append(o.Intermediates, f.card) }, ErrWrongUsage},
		{"pathLen exceeded", underSub, func(o *VerifyOptions) { o.Intermediates = append(o.Intermediates, subCA) }, ErrWrongUsage},
		{"unknown critical extension", withUnknown, nil, ErrUnhandledCritical},
		{"hashedRootKey mismatch", badBrand, nil, ErrHashedRootKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := f.opts()
			if tc.mutate != nil {
				tc.mutate(&opts)
			}
			_, err := tc.cert.Verify(opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := withNonCritical.Verify(f.opts()); err != nil {
		t.Errorf("non-critical unknown extension: %v", err)
	}
	if len(withUnknown.UnknownCritical) != 1 || len(withNonCritical.UnknownCritical) != 0 {
		t.Errorf("UnknownCritical = %v / %v", withUnknown.UnknownCritical, withNonCritical.UnknownCritical)
	}
}

func mustCreate(t *testing.T, tmpl *Template, issuer *Certificate, key crypto.Signer) *Certificate {
	t.Helper()
	raw, err := CreateCertificate(rand.Reader, tmpl, issuer, key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssueRules(t *testing.T) {
	f := fixture(t, "modern")
	k, _ := ecdsaGen(rand.Reader)
	// A CA refuses to issue types outside its own.
	if _, err := f.h.MCA.Issue(rand.Reader, GatewaySignatureTemplate(k.Public(), "gw", testNow)); !errors.Is(err, ErrWrongType) {
		t.Errorf("MCA issuing pgwy: %v", err)
	}
	if _, err := f.h.Root.Issue(rand.Reader, GatewaySignatureTemplate(k.Public(), "gw", testNow)); !errors.Is(err, ErrWrongType) {
		t.Errorf("root issuing pgwy: %v", err)
	}
	// Validity is clipped to the issuer's and the serial filled in.
	tmpl := GatewaySignatureTemplate(k.Public(), "gw", testNow.Add(-time.Hour))
	tmpl.NotAfter = testNow.Add(100 * 365 * 24 * time.Hour)
	c, err := f.h.PCA.Issue(rand.Reader, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if !c.NotBefore.Equal(f.h.PCA.Cert.NotBefore) || !c.NotAfter.Equal(f.h.PCA.Cert.NotAfter) {
		t.Errorf("validity %v..%v not clipped to %v..%v", c.NotBefore, c.NotAfter, f.h.PCA.Cert.NotBefore, f.h.PCA.Cert.NotAfter)
	}
	if tmpl.SerialNumber != nil || c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() != 127 {
		t.Errorf("serial %v (template %v)", c.SerialNumber, tmpl.SerialNumber)
	}
	// Wrong issuer key.
	if _, err := CreateCertificate(rand.Reader, &Template{SerialNumber: big.NewInt(1), NotBefore: testNow, NotAfter: testNow.Add(time.Hour), PublicKey: k.Public(), CertType: CertTypeCard}, f.h.CCA.Cert, f.h.MCA.Key, crypto.SHA256); err == nil {
		t.Error("CreateCertificate with a key not matching the issuer certificate succeeded")
	}
	// MayIssue table.
	for _, tc := range []struct {
		ca, child CertType
		ok        bool
	}{
		{CertTypeRCA, CertTypeBCA, true}, {CertTypeRCA, CertTypeCCA, false},
		{CertTypeBCA, CertTypeCCA | CertTypeMCA, true}, {CertTypeBCA, CertTypeCard, false},
		{CertTypeGCA, CertTypePCA, true}, {CertTypeCCA, CertTypeCard, true}, {CertTypeCCA, CertTypeMer, false},
		{CertTypeMCA, CertTypeMer, true}, {CertTypePCA, CertTypePgwy, true}, {CertTypeCCA | CertTypeMCA, CertTypeCard | CertTypeMer, true},
		{CertTypeCard, CertTypeCard, false}, {CertTypeCCA, 0, false},
	} {
		if got := MayIssue(tc.ca, tc.child); got != tc.ok {
			t.Errorf("MayIssue(%v, %v) = %v", tc.ca, tc.child, got)
		}
	}
}

func TestThumbprint(t *testing.T) {
	f := fixture(t, "modern")
	want := sha256.Sum256(f.card.Raw)
	if got := Thumbprint(f.card.Raw, crypto.SHA256); !bytes.Equal(got, want[:]) {
		t.Errorf("Thumbprint = %x, want %x", got, want)
	}
	if bytes.Equal(Thumbprint(f.card.Raw, crypto.SHA256), Thumbprint(f.merSig.Raw, crypto.SHA256)) {
		t.Error("distinct certificates share a thumbprint")
	}
}
