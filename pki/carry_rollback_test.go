package pki

import (
	"errors"
	"testing"
	"time"
)

// TestLearnCarriedRefusesBCIBehindHeldCRL: a cache that learned a CCA's
// CRL 2 before any BCI must not take a replayed older BCI that pins CRL 1:
// the cache keeps only the newer CRL, so the BCI would make every chain
// through that CA fail with ErrNoCRL until a newer BCI came along. A
// replayed BCI is authentic, and it is learned before the message that
// carries it is authenticated, so anyone could send it.
func TestLearnCarriedRefusesBCIBehindHeldCRL(t *testing.T) {
	for _, suite := range []string{"modern", "set1"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			cas := [][]byte{f.h.Brand.Cert.Raw, f.h.CCA.Cert.Raw, f.h.MCA.Cert.Raw, f.h.PCA.Cert.Raw}
			first := map[*Authority]*CRL{}
			var ders [][]byte
			for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
				first[a] = issueCRL(t, a, nil, 1, crlThis, crlNext)
				ders = append(ders, first[a].Raw)
			}
			bci1 := testBCI(t, f, 1, first)
			c := newTestCache(f)
			opts := f.opts()
			opts.RequireCRLs = true
			opts.Now = crlThis.Add(time.Hour)
			check := func(what string, want error) {
				t.Helper()
				if _, err := RevocationVerifier(c, opts)(f.card.Raw, nil); !errors.Is(err, want) {
					t.Fatalf("card %s: %v, want %v", what, err, want)
				}
			}

			// CRLs without a BCI (a fetch, or a peer that sends none),
			// then the CCA's next CRL, still without a BCI.
			LearnCarried(c, cas, ders, nil)
			second := issueCRL(t, f.h.CCA, nil, 2, crlThis, crlNext)
			LearnCarried(c, cas, [][]byte{second.Raw}, nil)
			check("with CCA CRL 2", nil)

			// The old BCI replayed with the CRLs it lists.
			LearnCarried(c, cas, ders, bci1)
			check("after a replayed BCI pinning CCA CRL 1", nil)
			if b := c.BCI("SETpay"); b != nil {
				t.Fatalf("took BCI %d, which lists a CRL older than one held", b.SequenceNum)
			}
		})
	}
}
