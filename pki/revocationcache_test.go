package pki

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"
)

func newTestCache(f *suiteFixture) *RevocationCache {
	now := testNow.Add(24 * time.Hour)
	return NewRevocationCache([]*Certificate{f.h.Root.Cert}, func() time.Time { return now })
}

func testBCI(t testing.TB, f *suiteFixture, seq int, crls map[*Authority]*CRL) []byte {
	t.Helper()
	tmpl := &BrandCRLIdentifier{SequenceNum: seq, BrandID: "SETpay", NotBefore: crlThis, NotAfter: crlNext}
	for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
		if c := crls[a]; c != nil {
			tmpl.CRLIdentifiers = append(tmpl.CRLIdentifiers, NewCRLIdentifier(a.Cert, c, f.hash))
		}
	}
	raw, err := f.h.Brand.IssueBCI(rand.Reader, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRevocationCacheLearns(t *testing.T) {
	for _, suite := range []string{"modern", "set1"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert}
			c := newTestCache(f)
			clean := map[*Authority]*CRL{}
			var ders [][]byte
			for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
				clean[a] = issueCRL(t, a, nil, 1, crlThis, crlNext)
				ders = append(ders, clean[a].Raw)
			}
			if err := c.Add(cas, ders, testBCI(t, f, 1, clean)); err != nil {
				t.Fatalf("Add of authentic CRLs: %v", err)
			}
			opts := f.opts()
			opts.RequireCRLs = true
			v := RevocationVerifier(c, opts)
			if _, err := v(f.card.Raw, nil); err != nil {
				t.Fatalf("card with clean CRLs and RequireCRLs: %v", err)
			}
			// The same again is no error and changes nothing.
			if err := c.Add(cas, ders, nil); err != nil {
				t.Fatalf("re-Add of held CRLs: %v", err)
			}

			// A newer CCA CRL revoking the card, and a newer BCI naming it.
			revoked := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)
			next := map[*Authority]*CRL{}
			for k, v := range clean {
				next[k] = v
			}
			next[f.h.CCA] = revoked
			if err := c.Add(cas, [][]byte{revoked.Raw}, testBCI(t, f, 2, next)); err != nil {
				t.Fatal(err)
			}
			if _, err := v(f.card.Raw, nil); codeOf(err) != 6 {
				t.Fatalf("card after learning its revocation: %v, want revokedCertificate", err)
			}
			// The older CRL and BCI replayed cannot undo it.
			err := c.Add(cas, [][]byte{clean[f.h.CCA].Raw}, testBCI(t, f, 1, clean))
			if !errors.Is(err, ErrStaleCRL) {
				t.Fatalf("replayed older CRL and BCI: %v, want ErrStaleCRL", err)
			}
			if _, err := v(f.card.Raw, nil); codeOf(err) != 6 {
				t.Fatalf("card after a replayed older CRL: %v, want revokedCertificate", err)
			}
			crls, bci, _ := c.Revocation(context.Background())
			if len(crls) != 5 || bci == nil || bci.SequenceNum != 2 || c.BCI("SETpay") != bci {
				t.Fatalf("held %d CRLs, BCI %v; want 5 and sequence 2", len(crls), bci)
			}
			th := c.Thumbs(f.hash)
			if len(th.CRLThumbs) != 5 || len(th.BrandCRLIdThumbs) != 1 {
				t.Fatalf("Thumbs: %d CRLs, %d BCIs", len(th.CRLThumbs), len(th.BrandCRLIdThumbs))
			}
			found := false
			for _, tp := range th.CRLThumbs {
				if string(tp) == string(Thumbprint(revoked.Raw, f.hash)) {
					found = true
				}
			}
			if !found {
				t.Error("Thumbs lacks the thumbprint of the newest CCA CRL")
			}
		})
	}
}

func TestRevocationCacheRefusesForeign(t *testing.T) {
	f := fixture(t, "modern")
	other := fixture(t, "pq") // another hierarchy, same names
	cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert}
	c := newTestCache(f)

	foreign := issueCRL(t, other.h.CCA, revoke(f.card, ReasonKeyCompromise), 5, crlThis, crlNext)
	err := c.Add(append(cas, other.h.CCA.Cert, other.h.Brand.Cert), [][]byte{foreign.Raw}, testBCI(t, other, 9, nil))
	if !errors.Is(err, ErrBadCRL) {
		t.Fatalf("CRL and BCI of another hierarchy: %v, want ErrBadCRL", err)
	}
	// Without the issuing CA's certificate the CRL cannot be judged.
	own := issueCRL(t, f.h.CCA, nil, 1, crlThis, crlNext)
	if err := c.Add(nil, [][]byte{own.Raw}, nil); !errors.Is(err, ErrBadCRL) {
		t.Fatalf("CRL without its issuer's certificate: %v, want ErrBadCRL", err)
	}
	// Undecodable input is rejected, good items beside it are kept.
	bad := append([]byte(nil), own.Raw...)
	bad[len(bad)-1] ^= 1
	err = c.Add(cas, [][]byte{{0x30, 0x00}, bad, own.Raw}, []byte{0x01})
	if !errors.Is(err, ErrBadCRL) {
		t.Fatalf("malformed items: %v, want ErrBadCRL", err)
	}
	crls, bci, _ := c.Revocation(context.Background())
	if len(crls) != 1 || bci != nil || string(crls[0].Raw) != string(own.Raw) {
		t.Fatalf("held %d CRLs and BCI %v; want only the authentic CCA CRL", len(crls), bci)
	}
	// Same number, other contents: a conflict, the held one stays.
	twin := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 1, crlThis, crlNext)
	if err := c.Add(cas, [][]byte{twin.Raw}, nil); !errors.Is(err, ErrStaleCRL) {
		t.Fatalf("CRL reusing a held number: %v, want ErrStaleCRL", err)
	}
}

func TestRevocationCacheConcurrent(t *testing.T) {
	f := fixture(t, "modern")
	cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert}
	c := newTestCache(f)
	var crls [][]byte
	for i := range 8 {
		crls = append(crls, issueCRL(t, f.h.CCA, nil, int64(i+1), crlThis, crlNext).Raw)
	}
	var wg sync.WaitGroup
	for i := range crls {
		wg.Add(2)
		go func() { defer wg.Done(); c.Add(cas, [][]byte{crls[i]}, nil) }()
		go func() { defer wg.Done(); c.Revocation(context.Background()); c.Thumbs(f.hash) }()
	}
	wg.Wait()
	held, _, _ := c.Revocation(context.Background())
	if len(held) != 1 || held[0].Number.Int64() != 8 {
		t.Fatalf("after concurrent adds: %d CRLs, want the one numbered 8", len(held))
	}
}

func FuzzRevocationCacheAdd(f *testing.F) {
	fx := fixture(f, "modern")
	crl := issueCRL(f, fx.h.CCA, revoke(fx.card, ReasonKeyCompromise), 2, crlThis, crlNext)
	f.Add(crl.Raw, testBCI(f, fx, 1, map[*Authority]*CRL{fx.h.CCA: crl}))
	cas := []*Certificate{fx.h.Brand.Cert, fx.h.CCA.Cert}
	f.Fuzz(func(t *testing.T, crlDER, bciDER []byte) {
		c := newTestCache(fx)
		if err := c.Add(cas, [][]byte{crlDER}, bciDER); err != nil {
			if !errors.Is(err, ErrBadCRL) && !errors.Is(err, ErrStaleCRL) && !errors.Is(err, ErrCRLMismatch) {
				t.Fatalf("Add error wraps none of ErrBadCRL, ErrStaleCRL, ErrCRLMismatch: %v", err)
			}
		}
		held, _, _ := c.Revocation(context.Background())
		for _, h := range held {
			if h.CheckSignatureFrom(fx.h.CCA.Cert) != nil && h.CheckSignatureFrom(fx.h.Brand.Cert) != nil && h.CheckSignatureFrom(fx.h.Root.Cert) != nil {
				t.Fatalf("cache holds a CRL no CA of the hierarchy signed")
			}
		}
	})
}
