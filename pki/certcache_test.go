package pki

import (
	"bytes"
	"crypto"
	"errors"
	"testing"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// TestCertCacheRemember: what the verifier accepts is cached with its
// chain from the certificates offered; what it refuses is not.
func TestCertCacheRemember(t *testing.T) {
	f := fixture(t, "modern")
	o := f.opts()
	o.Intermediates = nil
	verify := CertVerifier(o)
	c := NewCertCache(0)
	offered := [][]byte{f.h.Brand.Cert.Raw, f.h.PCA.Cert.Raw, f.h.CCA.Cert.Raw, f.merExch.Raw}

	refuse := func([]byte, [][]byte) (crypto.PublicKey, error) { return nil, errors.New("no") }
	if _, err := c.Remember(refuse)(f.pgwySig.Raw, offered); err == nil {
		t.Fatal("refusing verifier accepted")
	}
	if c.Len() != 0 {
		t.Fatalf("a refused certificate was cached: %d held", c.Len())
	}
	if _, err := c.Remember(verify)(f.pgwySig.Raw, offered); err != nil {
		t.Fatal(err)
	}
	got := c.Certificates()
	want := [][]byte{f.h.PCA.Cert.Raw, f.h.Brand.Cert.Raw, f.pgwySig.Raw}
	if len(got) != len(want) {
		t.Fatalf("cached %d certificates, want the leaf, its PCA and brand CA (%d)", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("cached certificate %d is not the expected one", i)
		}
	}
	// Again: nothing is added twice.
	if _, err := c.Remember(verify)(f.pgwySig.Raw, offered); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 3 {
		t.Errorf("%d held after caching the same chain twice, want 3", c.Len())
	}
	// A nil cache remembers nothing and verifies as before.
	var none *CertCache
	if _, err := none.Remember(verify)(f.pgwySig.Raw, offered); err != nil {
		t.Error(err)
	}
	if none.Certificates() != nil || none.CertThumbs(crypto.SHA256, nil) != nil {
		t.Error("nil cache holds something")
	}
}

// TestCertCacheBounded: past its size the oldest certificate goes.
func TestCertCacheBounded(t *testing.T) {
	f := fixture(t, "modern")
	c := NewCertCache(2)
	accept := func([]byte, [][]byte) (crypto.PublicKey, error) { return nil, nil }
	for _, cert := range []*Certificate{f.merSig, f.merExch, f.pgwySig} {
		if _, err := c.Remember(accept)(cert.Raw, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Certificates()
	if len(got) != 2 || !bytes.Equal(got[0], f.merExch.Raw) || !bytes.Equal(got[1], f.pgwySig.Raw) {
		t.Errorf("bounded cache holds %d certificates, want the last two", len(got))
	}
}

// TestCertThumbs: the thumbs a requester lists and a responder matches.
func TestCertThumbs(t *testing.T) {
	f := fixture(t, "modern")
	c := NewCertCache(0)
	if th := c.AddThumbs(nil, crypto.SHA256, nil); th != nil {
		t.Errorf("empty cache listed %+v", th)
	}
	accept := func([]byte, [][]byte) (crypto.PublicKey, error) { return nil, nil }
	if _, err := c.Remember(accept)(f.merSig.Raw, nil); err != nil {
		t.Fatal(err)
	}
	crl := &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(crypto.SHA1), CRLThumbs: [][]byte{bytes.Repeat([]byte{1}, 20)}}
	if th := c.AddThumbs(crl, crypto.SHA256, func(*Certificate) bool { return false }); th != crl {
		t.Errorf("nothing kept, yet thumbs %+v", th)
	}
	th := c.AddThumbs(crl, crypto.SHA256, nil)
	if len(th.CRLThumbs) != 1 || len(th.CertThumbs) != 1 || len(th.CertThumbs[0]) != 20 {
		t.Fatalf("thumbs %+v: want the CRL kept and one SHA-1 certificate thumb (the list's algorithm)", th)
	}
	if crl.CertThumbs != nil {
		t.Error("AddThumbs changed its argument")
	}
	held := HeldCertThumbs(th)
	if held == nil || !held(f.merSig.Raw) || held(f.merExch.Raw) {
		t.Error("HeldCertThumbs does not match exactly the listed certificate")
	}
	if HeldCertThumbs(nil) != nil || HeldCertThumbs(crl) != nil {
		t.Error("no certificate listed, yet something would be omitted")
	}
	unknown := &msg.Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: []int{1, 2, 3}}, CertThumbs: th.CertThumbs}
	if HeldCertThumbs(unknown) != nil {
		t.Error("thumbs under an unknown digest algorithm matched")
	}
}
