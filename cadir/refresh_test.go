package cadir_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/crldist"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A served hierarchy keeps its CRLs current on its own: after 4 simulated
// days the issuing and brand CAs' CRLs and the BCI are re-signed, and after
// 8 (past the first CRLs' week) a party fed only by GET /crl still
// verifies a cardholder's chain with CRLs required, where the first CRLs
// would no longer do.
func TestKeepCRLsFresh(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { testKeepCRLsFresh(t, st) })
	}
}

func testKeepCRLsFresh(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	dir := filepath.Join(t.TempDir(), "ca")
	if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Brand: "TestBrand", Passphrase: pass, KDF: fastKDF, Now: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	url := serveDir(t, h)
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	reg, err := wallet.Register(ctx, &transport.Client{URL: url + "/cca"}, wallet.RegisterConfig{
		Suite: st, Card: wallet.Card{PAN: "4111111111111111", Expiry: clock.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"}, Roots: roots,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A party: a revocation cache fed by crldist, requiring CRLs.
	party := func() (*pki.RevocationCache, func() error) {
		cache := pki.NewRevocationCache(roots, clock.Now)
		f := &crldist.Fetcher{URL: url + crldist.Path, Suite: st, Roots: roots, Cache: cache, Now: clock.Now}
		return cache, func() error { return f.Fetch(ctx) }
	}
	verify := func(cache *pki.RevocationCache) error {
		_, err := pki.RevocationVerifier(cache, pki.VerifyOptions{Roots: roots, Now: clock.Now(), RequireCRLs: true})(reg.Cert, reg.Chain)
		return err
	}
	stale, fetchStale := party()
	if err := fetchStale(); err != nil {
		t.Fatal(err)
	}
	fresh, fetch := party()

	// At start nothing is due.
	r, err := h.RefreshCRLs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.CRLs) != 0 || r.BCI || len(r.Stale) != 0 {
		t.Fatalf("fresh directory refreshed: %+v", r)
	}

	// Day 4: past half of the week, the loop re-signs at its first check.
	clock.Add(4 * 24 * time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	var got *cadir.Refreshed
	err = h.KeepCRLsFresh(rctx, time.Hour, cadir.DefaultRefreshAt, func(r *cadir.Refreshed, err error) {
		if err != nil {
			t.Errorf("refresh: %v", err)
		}
		got = r
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("KeepCRLsFresh returned %v", err)
	}
	if got == nil || !slices.Equal(got.CRLs, []string{cadir.Brand, cadir.CCA, cadir.MCA, cadir.PCA}) || !got.BCI || len(got.Stale) != 0 {
		t.Fatalf("day 4: %+v, want brand, cca, mca, pca and the BCI re-signed", got)
	}
	if !got.RootNextUpdate.Equal(clock.Now().Add(-4 * 24 * time.Hour).Add(cadir.RootCRLValidity)) {
		t.Errorf("root CRL current until %v: want a year from init", got.RootNextUpdate)
	}
	checkServedFresh(t, dir, clock.Now())
	if err := fetch(); err != nil {
		t.Fatal(err)
	}
	if err := verify(fresh); err != nil {
		t.Fatalf("day 4: %v", err)
	}
	// Checking again changes nothing.
	if r, err := h.RefreshCRLs(ctx, 0); err != nil || len(r.CRLs) != 0 || r.BCI {
		t.Fatalf("second check on day 4: %+v, %v", r, err)
	}

	// Day 8: the first week's CRLs have lapsed.
	clock.Add(4 * 24 * time.Hour)
	if err := verify(stale); !errors.Is(err, pki.ErrNoCRL) {
		t.Fatalf("day 8 with the day-0 CRLs: %v, want ErrNoCRL", err)
	}
	if _, err := h.RefreshCRLs(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkServedFresh(t, dir, clock.Now())
	if err := fetch(); err != nil {
		t.Fatal(err)
	}
	if err := verify(fresh); err != nil {
		t.Fatalf("day 8: %v", err)
	}
	// The stale party recovers at its next fetch too.
	if err := fetchStale(); err != nil {
		t.Fatal(err)
	}
	if err := verify(stale); err != nil {
		t.Fatalf("day 8 after fetching: %v", err)
	}
}

// checkServedFresh checks that every CRL in dir is current at now and
// that the BCI is current and names each by its number.
func checkServedFresh(t *testing.T, dir string, now time.Time) {
	t.Helper()
	crls, bci, err := cadir.DirRevocation(dir).Revocation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(crls) != len(cadir.AllCAs) || bci == nil || !bci.CurrentAt(now) {
		t.Fatalf("%d CRLs, BCI %v", len(crls), bci)
	}
	for _, c := range crls {
		if now.Before(c.ThisUpdate) || !now.Before(c.NextUpdate) {
			t.Errorf("CRL of %s valid %v to %v, now %v", c.Issuer.CommonName, c.ThisUpdate, c.NextUpdate, now)
		}
		found := false
		for _, id := range bci.CRLIdentifiers {
			found = found || id.CRLNumber.Cmp(c.Number) == 0
		}
		if !found {
			t.Errorf("BCI does not name CRL %v of %s", c.Number, c.Issuer.CommonName)
		}
	}
}

// A CRL written without its BCI (a process stopped in between) makes the
// next check re-sign the BCI, though nothing is due by time; the root's
// CRL, due but with its key closed, is reported, and re-signed once the
// key is open.
func TestRefreshRepairsBCIAndRoot(t *testing.T) {
	ctx := context.Background()
	st := suite.NewModern()
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	dir := filepath.Join(t.TempDir(), "ca")
	if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Brand: "TestBrand", Passphrase: pass, KDF: fastKDF, Now: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	clock.Add(time.Minute)
	if _, err := h.IssueCRL(ctx, cadir.MCA); err != nil {
		t.Fatal(err)
	}
	r, err := h.RefreshCRLs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.CRLs) != 0 || !r.BCI {
		t.Fatalf("after a CRL without its BCI: %+v, want only the BCI re-signed", r)
	}
	checkServedFresh(t, dir, clock.Now())

	if _, err := h.RefreshCRLs(ctx, 1.5); err == nil {
		t.Error("refresh point 1.5 accepted")
	}

	clock.Add(200 * 24 * time.Hour) // past half the root CRL's year
	r, err = h.RefreshCRLs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Stale, []string{cadir.Root}) || slices.Contains(r.CRLs, cadir.Root) {
		t.Fatalf("root CRL due, key closed: %+v", r)
	}
	h.Close()
	h, err = cadir.Open(dir, pass, cadir.OpenOptions{Now: clock.Now, RootKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r, err = h.RefreshCRLs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stale) != 0 || !slices.Contains(r.CRLs, cadir.Root) || !r.RootNextUpdate.Equal(clock.Now().Add(cadir.RootCRLValidity)) {
		t.Fatalf("root CRL due, key open: %+v", r)
	}
	checkServedFresh(t, dir, clock.Now())
}
