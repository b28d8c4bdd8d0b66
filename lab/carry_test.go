package lab

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/setpay/setpay/crldist"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wire"
)

// lateLearner is a revocation source whose cache is made once the lab's
// roots exist.
type lateLearner struct{ pki.RevocationLearner }

// pinitTap passes wallet → merchant exchanges through and keeps the last
// PInitReq and PInitRes.
type pinitTap struct {
	next wire.RoundTripper
	mu   sync.Mutex
	req  *msg.PInitReq
	res  *msg.PInitRes
}

func (r *pinitTap) RoundTrip(ctx context.Context, b []byte) ([]byte, error) {
	if w, err := msg.UnmarshalMessageWrapper(b); err == nil {
		if m, ok := w.Message.(*msg.PInitReq); ok {
			r.mu.Lock()
			r.req = m
			r.mu.Unlock()
		}
	}
	out, err := r.next.RoundTrip(ctx, b)
	if w, err := msg.UnmarshalMessageWrapper(out); err == nil {
		if m, ok := w.Message.(*msg.PInitRes); ok {
			r.mu.Lock()
			r.res = m
			r.mu.Unlock()
		}
	}
	return out, err
}

// carried returns the number of CRLs and whether a BCI came with the
// last PInitRes.
func (r *pinitTap) carried(t *testing.T) (crls int, bci bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	sd, err := pkcs7.ParseSignedData(r.res.SignedData)
	if err != nil {
		t.Fatal(err)
	}
	d, err := msg.UnmarshalPInitResData(sd.Content)
	if err != nil {
		t.Fatal(err)
	}
	return len(sd.CRLs), d.BrandCRLIdentifier != nil
}

// TestRevocationTravelsInMessages runs revocation the way SET spreads it,
// with CRLs required by every party: the CA publishes; the merchant —
// sharing no state with the CA — fetches its CRLNotification over HTTP
// (crldist) and learns from the gateway's answers; the wallet, starting
// with an empty cache, learns every CRL and the BrandCRLIdentifier from
// the merchant's PInitRes over HTTP. A revoked cardholder is then refused
// by the merchant, and a revoked merchant by the wallet.
func TestRevocationTravelsInMessages(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms, _ := sqlite.Open(":memory:")
			gs, _ := sqlite.Open(":memory:")
			t.Cleanup(func() { ms.Close(); gs.Close() })
			merchantCache := &lateLearner{}
			l, err := New(Options{Suite: st, Cardholders: 2, MerchantStore: ms, GatewayStore: gs, Limit: 10000, MerchantRevocation: merchantCache})
			if err != nil {
				t.Fatal(err)
			}
			cache := pki.NewRevocationCache(l.Roots, nil)
			merchantCache.RevocationLearner = cache

			// The CA's CRLNotification, signed by the brand CA, of what
			// the lab publishes.
			h := l.Hierarchy
			ca := httptest.NewServer(&crldist.Notifier{
				Suite:  st,
				Signer: encap.Signer{Key: h.Brand.Key, Cert: h.Brand.Cert.Raw, Chain: [][]byte{h.CCA.Cert.Raw, h.MCA.Cert.Raw, h.PCA.Cert.Raw}},
				State: func(ctx context.Context) ([][]byte, []byte, error) {
					crls, bci, err := l.opts.Revocation.Revocation(ctx)
					if err != nil {
						return nil, nil, err
					}
					var ders [][]byte
					for _, c := range crls {
						ders = append(ders, c.Raw)
					}
					var b []byte
					if bci != nil {
						b = bci.Raw
					}
					return ders, b, nil
				},
			})
			defer ca.Close()
			fetcher := &crldist.Fetcher{URL: ca.URL + crldist.Path, Suite: st, Roots: l.Roots, Cache: cache}
			if err := fetcher.Fetch(ctx); err != nil {
				t.Fatalf("merchant's first CRL fetch: %v", err)
			}

			shop := httptest.NewServer(transport.Handler(l.Merchant.Serve, nil))
			defer shop.Close()
			rec := &pinitTap{next: &transport.Client{URL: shop.URL}}
			buy := func(i int) error {
				t.Helper()
				offer, err := l.Merchant.Checkout(ctx, "tea", USD(350))
				if err != nil {
					t.Fatal(err)
				}
				_, res, err := l.Wallets[i].Pay(ctx, rec, OfferFor(offer))
				if err == nil && res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase completed %v", res.Completion)
				}
				return err
			}

			// 1. An empty wallet learns everything from PInitRes.
			if err := buy(0); err != nil {
				t.Fatalf("wallet with an empty cache: %v", err)
			}
			if rec.req.Thumbs != nil {
				t.Errorf("an empty wallet listed thumbs %+v", rec.req.Thumbs)
			}
			if n, bci := rec.carried(t); n != 5 || !bci {
				t.Errorf("first PInitRes carried %d CRLs, BCI %v; want the 5 CAs' and a BCI", n, bci)
			}
			// Next time it lists what it holds, and nothing is resent.
			if err := buy(0); err != nil {
				t.Fatal(err)
			}
			if th := rec.req.Thumbs; th == nil || len(th.CRLThumbs) != 5 || len(th.BrandCRLIdThumbs) != 1 {
				t.Errorf("second PInitReq thumbs %+v, want 5 CRLs and a BCI", th)
			}
			if n, bci := rec.carried(t); n != 0 || bci {
				t.Errorf("second PInitRes carried %d CRLs, BCI %v; want nothing", n, bci)
			}

			// 2. The CA revokes cardholder 2. The merchant does not fetch:
			// its next AuthReq lists in mThumbs the CCA CRL it holds, the
			// gateway's AuthRes carries the newer one, and the merchant
			// then refuses the card.
			mustRevoke(t, l, "cardholder-2")
			if err := buy(0); err != nil {
				t.Fatalf("cardholder 1 after cardholder 2's revocation: %v", err)
			}
			if b := cache.BCI(l.opts.Brand); b == nil || b.SequenceNum != 2 {
				t.Fatalf("merchant holds BCI %+v after the gateway's AuthRes, want number 2", b)
			}
			err = buy(1)
			if code, remote := errCode(t, err); code != msg.RevokedCertificate || !remote {
				t.Fatalf("revoked cardholder: %v (code %v, from peer %v), want revokedCertificate from the merchant", err, code, remote)
			}

			// 3. The CA revokes the merchant; the merchant fetches (it
			// need not know it is revoked) and passes the new CRL on in
			// its next PInitRes, and the wallet refuses the merchant.
			mustRevoke(t, l, "merchant-signature")
			if err := fetcher.Fetch(ctx); err != nil {
				t.Fatal(err)
			}
			err = buy(0)
			if code, remote := errCode(t, err); code != msg.RevokedCertificate || remote {
				t.Fatalf("revoked merchant: %v (code %v, from peer %v), want the wallet's own revokedCertificate", err, code, remote)
			}
			// The MCA's new CRL at least (the CCA's may have come with
			// PRes already) and the new BCI.
			if n, bci := rec.carried(t); n < 1 || n > 2 || !bci {
				t.Errorf("PInitRes after two revocations carried %d CRLs, BCI %v; want the new ones and the new BCI", n, bci)
			}
		})
	}
}

// TestRequireCRLsWithoutRevocation: a wallet that holds no CRL and is
// sent none refuses the merchant — CRLs are required by default.
func TestRequireCRLsWithoutRevocation(t *testing.T) {
	st := suites(t)[0]
	empty := pki.RevocationSource(&pki.Revocations{})
	ms, _ := sqlite.Open(":memory:")
	gs, _ := sqlite.Open(":memory:")
	t.Cleanup(func() { ms.Close(); gs.Close() })
	l, err := New(Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gs, Limit: 10000, Revocation: empty})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pay(t, l, 0)
	if code, remote := errCode(t, err); code != msg.InvalidCertificate || remote {
		t.Fatalf("no CRLs anywhere: %v (code %v, from peer %v), want the wallet's own invalidCertificate", err, code, remote)
	}
}
