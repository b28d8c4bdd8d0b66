package pki

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/setpay/setpay/msg"
)

func codeOf(err error) msg.ErrorCode {
	var pe *msg.ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

// TestRevocationVerifierLive: the verifier asks its source at every call,
// so a CRL published after the verifier was made revokes at the next check.
func TestRevocationVerifierLive(t *testing.T) {
	f := fixture(t, "modern")
	var src Revocations
	verify := RevocationVerifier(&src, f.opts())
	inter := [][]byte{f.h.CCA.Cert.Raw}
	if _, err := verify(f.card.Raw, inter); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	src.Update(issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext), nil)
	if _, err := verify(f.card.Raw, inter); codeOf(err) != msg.RevokedCertificate {
		t.Fatalf("after revocation: %v, want revokedCertificate", err)
	}
	// Other certificates of other CAs are untouched.
	if _, err := verify(f.merSig.Raw, [][]byte{f.h.MCA.Cert.Raw}); err != nil {
		t.Fatalf("unrevoked merchant: %v", err)
	}
}

// TestRevocationsUpdateOrder: an older or equal CRL number from the same CA
// cannot replace the current CRL, so replaying a pre-revocation CRL does
// not undo a revocation; a newer number does replace it.
func TestRevocationsUpdateOrder(t *testing.T) {
	f := fixture(t, "modern")
	var src Revocations
	clean1 := issueCRL(t, f.h.CCA, nil, 1, crlThis, crlNext)
	revoked2 := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)
	clean3 := issueCRL(t, f.h.CCA, nil, 3, crlThis, crlNext)
	mca := issueCRL(t, f.h.MCA, nil, 1, crlThis, crlNext)

	src.Update(clean1, nil)
	src.Update(mca, nil)
	src.Update(revoked2, nil)
	src.Update(clean1, nil) // replay
	crls, _, _ := src.Revocation(context.Background())
	if len(crls) != 2 || !containsCRL(crls, revoked2) || !containsCRL(crls, mca) {
		t.Fatalf("after replay: %d CRLs, revoking CRL held: %v", len(crls), containsCRL(crls, revoked2))
	}
	src.Update(clean3, nil)
	after, _, _ := src.Revocation(context.Background())
	if len(after) != 2 || !containsCRL(after, clean3) || containsCRL(after, revoked2) {
		t.Fatal("newer CRL did not replace the older one")
	}
	// What Revocation handed out earlier is not changed under the caller.
	if !containsCRL(crls, revoked2) {
		t.Fatal("Update modified a slice already handed out")
	}
}

func containsCRL(crls []*CRL, c *CRL) bool {
	for _, x := range crls {
		if x == c {
			return true
		}
	}
	return false
}

type failingSource struct{}

func (failingSource) Revocation(context.Context) ([]*CRL, *BrandCRLIdentifier, error) {
	return nil, nil, errors.New("CRL distribution point unreachable")
}

// TestRevocationVerifierFailsClosed: when the revocation state cannot be
// had, the certificate is refused.
func TestRevocationVerifierFailsClosed(t *testing.T) {
	f := fixture(t, "modern")
	_, err := RevocationVerifier(failingSource{}, f.opts())(f.card.Raw, [][]byte{f.h.CCA.Cert.Raw})
	if codeOf(err) != msg.InvalidCertificate {
		t.Fatalf("with a failing source: %v, want invalidCertificate", err)
	}
}

// TestRevocationsConcurrent: readers and writers at once (run with -race).
func TestRevocationsConcurrent(t *testing.T) {
	f := fixture(t, "modern")
	var src Revocations
	crls := []*CRL{
		issueCRL(t, f.h.CCA, nil, 1, crlThis, crlNext),
		issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext),
	}
	verify := RevocationVerifier(&src, f.opts())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if i == 0 {
					src.Update(crls[j%2], nil)
				} else {
					verify(f.card.Raw, [][]byte{f.h.CCA.Cert.Raw})
				}
			}
		}()
	}
	wg.Wait()
	if _, err := verify(f.card.Raw, [][]byte{f.h.CCA.Cert.Raw}); codeOf(err) != msg.RevokedCertificate {
		t.Fatalf("after concurrent updates: %v, want revokedCertificate (CRL 2 wins)", err)
	}
}
