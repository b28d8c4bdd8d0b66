package wallet_test

import (
	"strings"
	"testing"
)

// TestMemorySavesOnlyWhatLoads: a merchant reached at an origin longer
// than a saved memory may hold is left out of the saved record, rather
// than written into a file LoadMemory then refuses whole (every
// certificate and CRL learned lost with it, at every run).
func TestMemorySavesOnlyWhatLoads(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	long := offer
	long.Origin = "https://" + strings.Repeat("a", 600) + ".example"
	p, req, err := w.w.Start(long)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner())); err != nil {
		t.Fatal(err)
	}
	saved, err := w.w.SaveMemory()
	if err != nil {
		t.Fatal(err)
	}
	next := walletMaker(t, w)()
	if err := next.LoadMemory(saved); err != nil {
		t.Fatalf("loading what SaveMemory saved: %v", err)
	}
	_, req, err = next.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	if !lists(req.Thumbs, st, w.mer.Chain[1]) {
		t.Error("the loaded wallet does not hold the brand CA's certificate")
	}
}
