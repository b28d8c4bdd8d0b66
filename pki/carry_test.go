package pki

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCarryOmitsWhatIsHeld: a responder sends the CRLs and BCI a requester
// lacks — none of what its Thumbs list, nothing issued before since — and
// a learner that adds what was sent then lists all of it.
func TestCarryOmitsWhatIsHeld(t *testing.T) {
	for _, suite := range []string{"modern", "set1"} {
		t.Run(suite, func(t *testing.T) {
			ctx := context.Background()
			f := fixture(t, suite)
			cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert}
			crls := map[*Authority]*CRL{}
			var list []*CRL
			for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
				crls[a] = issueCRL(t, a, nil, 1, crlThis, crlNext)
				list = append(list, crls[a])
			}
			bci, err := ParseBrandCRLIdentifier(testBCI(t, f, 1, crls))
			if err != nil {
				t.Fatal(err)
			}
			var responder Revocations
			responder.Set(list, bci)

			// A requester holding nothing gets everything.
			sent, sentBCI, err := ToCarry(ctx, &responder, nil, time.Time{})
			if err != nil || len(sent) != 5 || sentBCI == nil {
				t.Fatalf("to an empty requester: %d CRLs, BCI %v, %v", len(sent), sentBCI != nil, err)
			}
			requester := newTestCache(f)
			if HeldThumbs(ctx, requester, f.hash) != nil {
				t.Error("an empty cache lists thumbs")
			}
			// The root's CRL needs no certificate; the brand CA's comes along.
			LearnCarried(requester, [][]byte{f.h.Brand.Cert.Raw}, sent[:2], nil)
			held := HeldThumbs(ctx, requester, f.hash)
			if held == nil || len(held.CRLThumbs) != 2 || len(held.BrandCRLIdThumbs) != 0 {
				t.Fatalf("after two CRLs the cache lists %+v", held)
			}
			// Only the three CRLs and the BCI not held are sent.
			sent, sentBCI, err = ToCarry(ctx, &responder, held, time.Time{})
			if err != nil || len(sent) != 3 || sentBCI == nil {
				t.Fatalf("to a requester holding two: %d CRLs, BCI %v, %v", len(sent), sentBCI != nil, err)
			}
			var raws [][]byte
			for _, c := range cas {
				raws = append(raws, c.Raw)
			}
			LearnCarried(requester, raws, sent, sentBCI)
			held = HeldThumbs(ctx, requester, f.hash)
			sent, sentBCI, err = ToCarry(ctx, &responder, held, time.Time{})
			if err != nil || len(sent) != 0 || sentBCI != nil {
				t.Fatalf("to a requester holding all: %d CRLs, BCI %v, %v", len(sent), sentBCI != nil, err)
			}
			// The learner now checks a chain with CRLs required.
			opts := f.opts()
			opts.RequireCRLs = true
			opts.Now = crlThis.Add(time.Hour)
			if _, err := RevocationVerifier(requester, opts)(f.card.Raw, nil); err != nil {
				t.Fatalf("card checked against the learned CRLs: %v", err)
			}
			// The responder's own thumbs (not a learner) list all it holds.
			if th := HeldThumbs(ctx, &responder, f.hash); th == nil || len(th.CRLThumbs) != 5 || len(th.BrandCRLIdThumbs) != 1 {
				t.Errorf("Revocations thumbs %+v", th)
			}

			// Since: nothing issued at or before it is sent again.
			if sent, sentBCI, _ := ToCarry(ctx, &responder, nil, crlThis); len(sent) != 0 || sentBCI != nil {
				t.Errorf("since thisUpdate: %d CRLs, BCI %v; want none", len(sent), sentBCI != nil)
			}
			if sent, sentBCI, _ := ToCarry(ctx, &responder, nil, crlThis.Add(-time.Second)); len(sent) != 5 || sentBCI == nil {
				t.Errorf("since before thisUpdate: %d CRLs, BCI %v; want all", len(sent), sentBCI != nil)
			}
		})
	}
}

// TestLearnCarriedDropsForgeries: a CRL signed by the wrong CA is not
// learned and does not stop the good ones.
func TestLearnCarriedDropsForgeries(t *testing.T) {
	f := fixture(t, "modern")
	good := issueCRL(t, f.h.Brand, nil, 1, crlThis, crlNext)
	forged := issueCRL(t, f.h.MCA, nil, 1, crlThis, crlNext)
	forged.Raw[len(forged.Raw)-1] ^= 1
	c := newTestCache(f)
	LearnCarried(c, [][]byte{f.h.Brand.Cert.Raw, f.h.MCA.Cert.Raw}, [][]byte{forged.Raw, good.Raw}, []byte{0x30, 0x00})
	held := HeldThumbs(context.Background(), c, f.hash)
	if held == nil || len(held.CRLThumbs) != 1 || len(held.BrandCRLIdThumbs) != 0 {
		t.Fatalf("learned %+v, want the brand CA's CRL only", held)
	}
	// A source that cannot learn is left alone.
	LearnCarried(&Revocations{}, nil, [][]byte{good.Raw}, nil)
}

// TestLearnCarriedKeepsBCIAndCRLsAgreeing: a newer CRL without the BCI
// that lists it, or a newer BCI without the CRL it lists, would leave the
// cache refusing every chain through that CA (ErrNoCRL); LearnCarried
// takes neither alone, and both together.
func TestLearnCarriedKeepsBCIAndCRLsAgreeing(t *testing.T) {
	f := fixture(t, "modern")
	cas := [][]byte{f.h.Brand.Cert.Raw, f.h.CCA.Cert.Raw, f.h.MCA.Cert.Raw, f.h.PCA.Cert.Raw}
	first := map[*Authority]*CRL{}
	var ders [][]byte
	for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
		first[a] = issueCRL(t, a, nil, 1, crlThis, crlNext)
		ders = append(ders, first[a].Raw)
	}
	c := newTestCache(f)
	LearnCarried(c, cas, ders, testBCI(t, f, 1, first))
	opts := f.opts()
	opts.RequireCRLs = true
	opts.Now = crlThis.Add(time.Hour)
	check := func(want error) {
		t.Helper()
		if _, err := RevocationVerifier(c, opts)(f.card.Raw, nil); !errors.Is(err, want) {
			t.Fatalf("card: %v, want %v", err, want)
		}
	}
	check(nil)

	revoked := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)
	next := map[*Authority]*CRL{}
	for a, crl := range first {
		next[a] = crl
	}
	next[f.h.CCA] = revoked
	bci2 := testBCI(t, f, 2, next)

	LearnCarried(c, cas, [][]byte{revoked.Raw}, nil) // the CRL alone
	check(nil)
	LearnCarried(c, cas, nil, bci2) // the BCI alone
	check(nil)
	LearnCarried(c, cas, [][]byte{revoked.Raw}, bci2) // together
	check(ErrRevoked)
}
