package crldist_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/crldist"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

var pass = []byte("crldist test passphrase")

func openDir(t *testing.T, st suite.Suite) *cadir.Hierarchy {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Brand: "TestBrand", Passphrase: pass, KDF: keyfile.Scrypt{LogN: 10, R: 8, P: 1}}); err != nil {
		t.Fatal(err)
	}
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{RootKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// A party with its own cache, in effect another process, learns of a
// revocation made in the CA directory with one fetch over HTTP.
func TestFetchLearnsRevocation(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			h := openDir(t, st)
			mux := http.NewServeMux()
			mux.Handle(crldist.Path, h.Notifier(nil))
			srv := httptest.NewServer(mux)
			defer srv.Close()

			roots := []*pki.Certificate{h.PKI.Root.Cert}
			cache := pki.NewRevocationCache(roots, nil)
			f := &crldist.Fetcher{URL: srv.URL + crldist.Path, Suite: st, Roots: roots, Cache: cache}
			if err := f.Fetch(ctx); err != nil {
				t.Fatalf("first fetch: %v", err)
			}
			// The party can require CRLs for the MCA's chain at once.
			opts := pki.VerifyOptions{Roots: roots, Intermediates: []*pki.Certificate{h.PKI.Brand.Cert}, RequireCRLs: true}
			check := pki.RevocationVerifier(cache, opts)
			if _, err := check(h.PKI.MCA.Cert.Raw, nil); err != nil {
				t.Fatalf("MCA with the fetched CRLs required: %v", err)
			}
			// A fetch of the same state changes nothing and is no error.
			if err := f.Fetch(ctx); err != nil {
				t.Fatalf("second fetch: %v", err)
			}
			if _, _, _, err := h.RevokeCert(ctx, h.PKI.MCA.Cert.Raw, pki.ReasonCACompromise); err != nil {
				t.Fatal(err)
			}
			if _, err := check(h.PKI.MCA.Cert.Raw, nil); err != nil {
				t.Fatalf("before the next fetch the party cannot know: %v", err)
			}
			if err := f.Fetch(ctx); err != nil {
				t.Fatalf("fetch after revocation: %v", err)
			}
			if _, err := check(h.PKI.MCA.Cert.Raw, nil); msg.CodeOf(err) != msg.RevokedCertificate {
				t.Fatalf("MCA after the fetch: %v, want revokedCertificate", err)
			}
			th := cache.Thumbs(st.Hash())
			if len(th.CRLThumbs) != 5 || len(th.BrandCRLIdThumbs) != 1 {
				t.Fatalf("cache thumbs: %d CRLs, %d BCIs", len(th.CRLThumbs), len(th.BrandCRLIdThumbs))
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	st := suite.NewModern()
	h := openDir(t, st)
	ctx := context.Background()
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	good, err := h.Notifier(nil).Notification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := crldist.Open(st, good, roots, nil, time.Now()); err != nil {
		t.Fatalf("good notification: %v", err)
	}
	// Another hierarchy's roots: the signer is unknown.
	other := openDir(t, st)
	if _, _, _, err := crldist.Open(st, good, []*pki.Certificate{other.PKI.Root.Cert}, nil, time.Now()); err == nil {
		t.Error("notification accepted under foreign roots")
	}
	// Signed by an issuing CA, not the brand: refused.
	n := h.Notifier(nil)
	n.Signer = encap.Signer{Key: h.PKI.CCA.Key, Cert: h.PKI.CCA.Cert.Raw, Chain: [][]byte{h.PKI.Brand.Cert.Raw}}
	byCCA, err := n.Notification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := crldist.Open(st, byCCA, roots, nil, time.Now()); err == nil {
		t.Error("notification signed by the CCA accepted")
	}
	// The crls field lies outside the signature: one left out of a
	// notification whose signed thumbs name it is refused.
	content, _, err := encap.OpenS(st, good, msg.OIDCRLNotificationTBS, func([]byte, [][]byte) (crypto.PublicKey, error) {
		return h.PKI.Brand.Cert.PublicKey, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cadir.ReadPublished(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	stripped, err := pkcs7.Sign(rand.Reader, msg.OIDCRLNotificationTBS, content,
		[]pkcs7.Signer{{Key: h.PKI.Brand.Key, Cert: h.PKI.Brand.Cert.Raw, Hash: st.Hash()}},
		pkcs7.SignOptions{Mode: st.ContentMode(), Certificates: [][]byte{h.PKI.Brand.Cert.Raw, h.PKI.CCA.Cert.Raw}, CRLs: p.CRLs[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := crldist.Open(st, stripped, roots, nil, time.Now()); msg.CodeOf(err) != msg.ThumbsMismatch {
		t.Errorf("notification with a CRL left out: %v, want thumbsMismatch", err)
	}
	// Garbage and the wrong method.
	if _, _, _, err := crldist.Open(st, []byte{0x30, 0x00}, roots, nil, time.Now()); msg.CodeOf(err) != msg.DecodingFailure {
		t.Errorf("garbage: %v", err)
	}
	rec := httptest.NewRecorder()
	h.Notifier(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, crldist.Path, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d", rec.Code)
	}
}

func TestPollStops(t *testing.T) {
	st := suite.NewModern()
	h := openDir(t, st)
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.Handle(crldist.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 2 {
			http.Error(w, "down for a moment", http.StatusServiceUnavailable)
			return
		}
		h.Notifier(nil).ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	cache := pki.NewRevocationCache(roots, nil)
	f := &crldist.Fetcher{URL: srv.URL + crldist.Path, Suite: st, Roots: roots, Cache: cache}
	ctx, cancel := context.WithCancel(context.Background())
	var failures atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- f.Poll(ctx, time.Millisecond, func(err error) {
			failures.Add(1)
		})
	}()
	// Wait (bounded) for three fetches, one of them failed.
	for i := 0; i < 2000 && hits.Load() < 3; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll returned %v, want context.Canceled", err)
	}
	if hits.Load() < 3 || failures.Load() < 1 {
		t.Fatalf("%d fetches, %d failures reported", hits.Load(), failures.Load())
	}
	crls, bci, _ := cache.Revocation(context.Background())
	if len(crls) != 5 || bci == nil {
		t.Fatalf("cache after polling: %d CRLs, BCI %v", len(crls), bci)
	}
	if err := f.Poll(context.Background(), 0, nil); err == nil {
		t.Error("Poll with no interval started")
	}
}

func FuzzOpen(f *testing.F) {
	st := suite.NewModern()
	dir := filepath.Join(f.TempDir(), "ca")
	if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Brand: "TestBrand", Passphrase: pass, KDF: keyfile.Scrypt{LogN: 10, R: 8, P: 1}, Rand: rand.Reader}); err != nil {
		f.Fatal(err)
	}
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close()
	good, err := h.Notifier(nil).Notification(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	f.Fuzz(func(t *testing.T, b []byte) {
		crls, _, _, err := crldist.Open(st, b, roots, nil, time.Now())
		if err != nil {
			if _, ok := errors.AsType[*msg.ProtocolError](err); !ok {
				t.Fatalf("error without a SET code: %v", err)
			}
			return
		}
		if len(crls) != 5 {
			t.Fatalf("accepted notification with %d CRLs", len(crls))
		}
	})
}

// TestFetchRefusesReplayedNotification: someone on the path of GET /crl
// answers with an old, genuine notification. A party that meanwhile
// learned a newer CRL from a message must keep it, and must not take the
// old BCI that pins the CRL before it: that would refuse every chain
// through that CA until the next BCI.
func TestFetchRefusesReplayedNotification(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			h := openDir(t, st)
			old, err := h.Notifier(nil).Notification(ctx)
			if err != nil {
				t.Fatal(err)
			}
			replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", crldist.ContentType)
				w.Write(old)
			}))
			defer replay.Close()

			// The brand CA revokes the MCA: a new brand CRL and BCI.
			if _, _, _, err := h.RevokeCert(ctx, h.PKI.MCA.Cert.Raw, pki.ReasonCACompromise); err != nil {
				t.Fatal(err)
			}
			p, err := cadir.ReadPublished(h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			roots := []*pki.Certificate{h.PKI.Root.Cert}
			cache := pki.NewRevocationCache(roots, nil)
			// A peer carried the new CRLs, without a BCI.
			certs := [][]byte{h.PKI.Brand.Cert.Raw, h.PKI.CCA.Cert.Raw, h.PKI.MCA.Cert.Raw, h.PKI.PCA.Cert.Raw}
			pki.LearnCarried(cache, certs, p.CRLs, nil)
			opts := pki.VerifyOptions{Roots: roots, Intermediates: []*pki.Certificate{h.PKI.Brand.Cert}, RequireCRLs: true}
			check := pki.RevocationVerifier(cache, opts)
			if _, err := check(h.PKI.CCA.Cert.Raw, nil); err != nil {
				t.Fatalf("CCA with the learned CRLs: %v", err)
			}

			f := &crldist.Fetcher{URL: replay.URL + crldist.Path, Suite: st, Roots: roots, Cache: cache}
			if err := f.Fetch(ctx); !errors.Is(err, pki.ErrStaleCRL) {
				t.Fatalf("fetch of the replayed notification: %v, want ErrStaleCRL", err)
			}
			if b := cache.BCI("TestBrand"); b != nil {
				t.Fatalf("took the replayed BCI %d", b.SequenceNum)
			}
			if _, err := check(h.PKI.CCA.Cert.Raw, nil); err != nil {
				t.Fatalf("CCA after the replayed notification: %v", err)
			}
			if _, err := check(h.PKI.MCA.Cert.Raw, nil); msg.CodeOf(err) != msg.RevokedCertificate {
				t.Fatalf("MCA after the replayed notification: %v, want revokedCertificate", err)
			}
		})
	}
}
