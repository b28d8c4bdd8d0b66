package pki

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// issueTestBCI is testBCI with a chosen notBefore, signed by brand for
// brandID.
func issueTestBCI(t testing.TB, f *suiteFixture, brand *Authority, brandID string, seq int, notBefore time.Time, crls map[*Authority]*CRL) []byte {
	t.Helper()
	tmpl := &BrandCRLIdentifier{SequenceNum: seq, BrandID: brandID, NotBefore: notBefore, NotAfter: crlNext}
	for a, c := range crls {
		tmpl.CRLIdentifiers = append(tmpl.CRLIdentifiers, NewCRLIdentifier(a.Cert, c, f.hash))
	}
	raw, err := brand.IssueBCI(rand.Reader, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// firstCRLs issues CRL 1 of every CA of f.
func firstCRLs(t testing.TB, f *suiteFixture) (map[*Authority]*CRL, [][]byte) {
	t.Helper()
	m := map[*Authority]*CRL{}
	var ders [][]byte
	for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
		m[a] = issueCRL(t, a, nil, 1, crlThis, crlNext)
		ders = append(ders, m[a].Raw)
	}
	return m, ders
}

func with(m map[*Authority]*CRL, a *Authority, crl *CRL) map[*Authority]*CRL {
	out := map[*Authority]*CRL{}
	for k, v := range m {
		out[k] = v
	}
	out[a] = crl
	return out
}

// seqOf is b's sequence number, -1 for none.
func seqOf(b *BrandCRLIdentifier) int {
	if b == nil {
		return -1
	}
	return b.SequenceNum
}

// heldCRL returns the number of the CRL of issuer the cache holds.
func heldCRL(t *testing.T, c *RevocationCache, issuer *Certificate) int64 {
	t.Helper()
	crls, _, _ := c.Revocation(context.Background())
	for _, crl := range crls {
		if crl.CheckSignatureFrom(issuer) == nil {
			return crl.Number.Int64()
		}
	}
	return 0
}

// TestAddNeverGoesBackwards: Add — what crldist.Fetcher feeds a fetched
// CRLNotification to — keeps the rules Learn keeps. A replayed, genuine
// but old notification (BCI 1 with the CRLs it lists) must not install
// its BCI beside a newer CRL already held (every chain through that CA
// would fail for want of the CRL the BCI pins); a newer CRL alone must not
// be taken while the brand's BCI pins another; and "newer" means a higher
// number and no earlier thisUpdate (CRL) or a higher sequence number and
// no earlier notBefore (BCI).
func TestAddNeverGoesBackwards(t *testing.T) {
	for _, suite := range []string{"modern", "set1"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert}
			first, ders := firstCRLs(t, f)
			bci1 := testBCI(t, f, 1, first)
			c := newTestCache(f)
			opts := f.opts()
			opts.RequireCRLs = true
			check := func(what string) {
				t.Helper()
				if _, err := RevocationVerifier(c, opts)(f.card.Raw, nil); err != nil {
					t.Fatalf("card %s: %v", what, err)
				}
			}

			// CRLs without a BCI, then the CCA's next one.
			if err := c.Add(cas, ders, nil); err != nil {
				t.Fatal(err)
			}
			second := issueCRL(t, f.h.CCA, nil, 2, crlThis, crlNext)
			if err := c.Add(cas, [][]byte{second.Raw}, nil); err != nil {
				t.Fatal(err)
			}
			check("with CCA CRL 2")

			// The old notification replayed.
			if err := c.Add(cas, ders, bci1); !errors.Is(err, ErrStaleCRL) {
				t.Fatalf("replayed BCI 1 and its CRLs: %v, want ErrStaleCRL", err)
			}
			if b := c.BCI("SETpay"); b != nil {
				t.Fatalf("took BCI %d, which pins a CRL older than one held", b.SequenceNum)
			}
			check("after a replayed notification")

			// The current BCI alone: every CRL it lists is held.
			bci2 := testBCI(t, f, 2, with(first, f.h.CCA, second))
			if err := c.Add(cas, nil, bci2); err != nil {
				t.Fatalf("BCI 2 naming the held CRLs: %v", err)
			}
			check("with BCI 2")

			// A newer CCA CRL without the BCI that lists it waits.
			third := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 3, crlThis, crlNext)
			if err := c.Add(cas, [][]byte{third.Raw}, nil); !errors.Is(err, ErrCRLMismatch) {
				t.Fatalf("CCA CRL 3 while BCI 2 pins CRL 2: %v, want ErrCRLMismatch", err)
			}
			if n := heldCRL(t, c, f.h.CCA.Cert); n != 2 {
				t.Fatalf("holds CCA CRL %d, want 2", n)
			}
			check("after CRL 3 alone")
			// A newer BCI listing a CRL neither held nor offered waits too.
			bci3 := testBCI(t, f, 3, with(first, f.h.CCA, third))
			if err := c.Add(cas, nil, bci3); !errors.Is(err, ErrCRLMismatch) {
				t.Fatalf("BCI 3 without CRL 3: %v, want ErrCRLMismatch", err)
			}
			check("after BCI 3 alone")
			// Both together are taken.
			if err := c.Add(cas, [][]byte{third.Raw}, bci3); err != nil {
				t.Fatalf("CRL 3 with BCI 3: %v", err)
			}
			if _, err := RevocationVerifier(c, opts)(f.card.Raw, nil); !errors.Is(err, ErrRevoked) {
				t.Fatalf("card after CRL 3 and BCI 3: %v, want ErrRevoked", err)
			}

			// A higher sequence number with an earlier notBefore is not newer.
			bci4 := issueTestBCI(t, f, f.h.Brand, "SETpay", 4, crlThis.Add(-time.Hour), with(first, f.h.CCA, third))
			if err := c.Add(cas, nil, bci4); !errors.Is(err, ErrStaleCRL) {
				t.Fatalf("BCI 4 issued before BCI 3: %v, want ErrStaleCRL", err)
			}
			if n := seqOf(c.BCI("SETpay")); n != 3 {
				t.Fatalf("holds BCI %d, want 3", n)
			}

			// A higher CRL number with an earlier thisUpdate is not newer.
			d := newTestCache(f)
			if err := d.Add(cas, [][]byte{second.Raw}, nil); err != nil {
				t.Fatal(err)
			}
			early := issueCRL(t, f.h.CCA, nil, 5, crlThis.Add(-time.Hour), crlNext)
			if err := d.Add(cas, [][]byte{early.Raw}, nil); !errors.Is(err, ErrStaleCRL) {
				t.Fatalf("CRL 5 issued before CRL 2: %v, want ErrStaleCRL", err)
			}
			if n := heldCRL(t, d, f.h.CCA.Cert); n != 2 {
				t.Fatalf("holds CCA CRL %d, want 2", n)
			}
		})
	}
}

// consistent fails t if the cache holds a BCI that lists a CRL it does
// not hold: the lock-out every rule above is there to prevent.
func consistent(t *testing.T, f *suiteFixture, c *RevocationCache) {
	t.Helper()
	crls, _, _ := c.Revocation(context.Background())
	if b := c.BCI("SETpay"); b != nil {
		if err := b.Covers(crls, []*Certificate{f.h.Root.Cert, f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert}); err != nil {
			t.Fatalf("cache holds BCI %d and CRLs that disagree: %v", b.SequenceNum, err)
		}
	}
}

// TestLearnConcurrent: Learn decides and installs under one lock, so two
// messages learned at once cannot leave a BCI beside a CRL it does not
// list, and the newest state wins whatever the order.
func TestLearnConcurrent(t *testing.T) {
	f := fixture(t, "modern")
	cas := [][]byte{f.h.Brand.Cert.Raw, f.h.CCA.Cert.Raw}
	const goroutines, rounds = 8, 50

	// A replayed BCI 1 racing a newer CRL carried alone: whichever is
	// learned first, the other must be refused.
	crl1 := issueCRL(t, f.h.CCA, nil, 1, crlThis, crlNext)
	crl2 := issueCRL(t, f.h.CCA, nil, 2, crlThis, crlNext)
	bci1 := testBCI(t, f, 1, map[*Authority]*CRL{f.h.CCA: crl1})
	for range rounds {
		c := newTestCache(f)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range goroutines {
			wg.Go(func() {
				<-start
				if g%2 == 0 {
					c.Learn(cas, [][]byte{crl1.Raw}, bci1)
				} else {
					c.Learn(cas, [][]byte{crl2.Raw}, nil)
				}
			})
		}
		close(start)
		wg.Wait()
		consistent(t, f, c)
	}

	// States 1..n, each a CCA CRL and the BCI naming it, learned in every
	// order: the cache ends with state n.
	const n = 6
	var states [n][2][]byte
	for i := range n {
		crl := issueCRL(t, f.h.CCA, nil, int64(i+1), crlThis, crlNext)
		states[i] = [2][]byte{crl.Raw, testBCI(t, f, i+1, map[*Authority]*CRL{f.h.CCA: crl})}
	}
	c := newTestCache(f)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				s := states[(g+i*(g+1))%n]
				c.Learn(cas, [][]byte{s[0]}, s[1])
			}
		})
	}
	wg.Wait()
	for _, s := range states { // every state once more, in order
		c.Learn(cas, [][]byte{s[0]}, s[1])
	}
	consistent(t, f, c)
	if got := seqOf(c.BCI("SETpay")); got != n {
		t.Fatalf("holds BCI %d, want %d", got, n)
	}
	if got := heldCRL(t, c, f.h.CCA.Cert); got != n {
		t.Fatalf("holds CCA CRL %d, want %d", got, n)
	}
}

// otherBrand is a second brand CA, "Other", under f's root.
func otherBrand(t *testing.T, f *suiteFixture) *Authority {
	t.Helper()
	key, err := suites[f.name].caGen(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := f.h.Root.Issue(rand.Reader, &Template{
		Subject:       pkix.Name{Organization: []string{"Other"}, CommonName: "Other Brand CA"},
		NotBefore:     testNow,
		NotAfter:      testNow.Add(365 * 24 * time.Hour),
		PublicKey:     key.Public(),
		KeyUsage:      x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		IsCA:          true,
		MaxPathLen:    1,
		CertType:      CertTypeBCA,
		HashedRootKey: f.h.Brand.Cert.HashedRootKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Authority{Cert: cert, Key: key, Hash: f.hash, Chain: []*Certificate{cert, f.h.Root.Cert}}
}

// TestBCIOnlyFromItsBrand: with two brands under one root, a brand CA can
// sign a BCI for its own brand only; one naming the other brand is refused
// by Verify, by the cache and by chain validation.
func TestBCIOnlyFromItsBrand(t *testing.T) {
	for _, suite := range []string{"modern", "set1"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			other := otherBrand(t, f)
			first, ders := firstCRLs(t, f)
			otherCRL := issueCRL(t, other, nil, 1, crlThis, crlNext)
			cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert, other.Cert}

			genuine := testBCI(t, f, 1, first)
			forgedDER := issueTestBCI(t, f, other, "SETpay", 9, crlThis, first)
			forged, err := ParseBrandCRLIdentifier(forgedDER)
			if err != nil {
				t.Fatal(err)
			}
			if err := forged.Verify(other.Cert); !errors.Is(err, ErrBadCRL) || !strings.Contains(err.Error(), "SETpay") {
				t.Fatalf("BCI for SETpay signed by the Other brand CA: Verify = %v, want ErrBadCRL naming the brand", err)
			}
			ownDER := issueTestBCI(t, f, other, "Other", 1, crlThis, map[*Authority]*CRL{f.h.Root: first[f.h.Root], other: otherCRL})
			own, err := ParseBrandCRLIdentifier(ownDER)
			if err != nil {
				t.Fatal(err)
			}
			if err := own.Verify(other.Cert); err != nil {
				t.Fatalf("Other's own BCI: %v", err)
			}
			if err := own.Verify(f.h.Brand.Cert); !errors.Is(err, ErrBadCRL) {
				t.Fatalf("Other's BCI checked against SETpay's brand CA: %v, want ErrBadCRL", err)
			}

			c := newTestCache(f)
			if err := c.Add(cas, ders, genuine); err != nil {
				t.Fatal(err)
			}
			if err := c.Add(cas, nil, forgedDER); !errors.Is(err, ErrBadCRL) {
				t.Fatalf("Add of the cross-brand BCI: %v, want ErrBadCRL", err)
			}
			if err := c.Add(cas, [][]byte{otherCRL.Raw}, ownDER); err != nil {
				t.Fatalf("Add of Other's own BCI: %v", err)
			}
			if n := seqOf(c.BCI("SETpay")); n != 1 {
				t.Fatalf("SETpay's BCI is %d, want the genuine 1", n)
			}
			if n := seqOf(c.BCI("Other")); n != 1 {
				t.Fatalf("Other's BCI is %d, want 1", n)
			}

			// Chain validation: the card's chain has SETpay's brand CA.
			opts := f.opts()
			opts.CRLs = append(slicesOf(first), otherCRL)
			opts.BrandCRLIdentifier = forged
			if _, err := f.card.Verify(opts); !errors.Is(err, ErrBadCRL) {
				t.Fatalf("card under the cross-brand BCI: %v, want ErrBadCRL", err)
			}
		})
	}
}

func slicesOf(m map[*Authority]*CRL) []*CRL {
	var out []*CRL
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

// TestLearnReportsRejections: what Learn drops is logged with the reason,
// and dropping it does not keep out what is good beside it.
func TestLearnReportsRejections(t *testing.T) {
	f := fixture(t, "modern")
	cas := [][]byte{f.h.Brand.Cert.Raw, f.h.CCA.Cert.Raw, f.h.MCA.Cert.Raw}
	var buf bytes.Buffer
	c := newTestCache(f)
	c.Log = slog.New(slog.NewJSONHandler(&buf, nil))

	good := issueCRL(t, f.h.Brand, nil, 1, crlThis, crlNext)
	forged := issueCRL(t, f.h.MCA, nil, 1, crlThis, crlNext)
	forged.Raw[len(forged.Raw)-1] ^= 1
	c.Learn(cas, [][]byte{forged.Raw, good.Raw, {0x30, 0x00}}, []byte{0x01})
	if n := heldCRL(t, c, f.h.Brand.Cert); n != 1 {
		t.Fatalf("the good CRL was not learned beside the bad ones")
	}
	// Learning what is held again is not a rejection.
	c.Learn(cas, [][]byte{good.Raw}, nil)

	var reasons []string
	for line := range strings.Lines(buf.String()) {
		var rec struct {
			Level, Msg, Err string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level != "WARN" || rec.Err == "" {
			t.Errorf("record %+v: want a warning with the reason", rec)
		}
		reasons = append(reasons, rec.Err)
	}
	// The forged CRL, the malformed CRL and the malformed BCI.
	if len(reasons) != 3 {
		t.Fatalf("logged %d rejections, want 3:\n%s", len(reasons), buf.String())
	}
	for i, want := range []string{"bad signature", "CRL 2", "BrandCRLIdentifier"} {
		if !strings.Contains(reasons[i], want) {
			t.Errorf("rejection %d = %q, want it to mention %q", i, reasons[i], want)
		}
	}

	// A stale CRL is reported as such.
	buf.Reset()
	newer := issueCRL(t, f.h.Brand, nil, 2, crlThis, crlNext)
	c.Learn(cas, [][]byte{newer.Raw}, nil)
	c.Learn(cas, [][]byte{good.Raw}, nil)
	if !strings.Contains(buf.String(), "older than the one held") {
		t.Fatalf("stale CRL not reported: %s", buf.String())
	}
}
