package lab_test

// The benchmarks live in the external test package because package bench,
// which holds the purchase driver and the crypto floor they share with
// `setpay bench`, imports lab.

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/bench"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
)

// benchSuites are the suites at their default sizes (RSA-2048 for set1).
func benchSuites() []suite.Suite {
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

// BenchmarkPurchase measures one whole purchase — checkout, PInitReq/Res,
// PReq/PRes with AuthReq/AuthRes, capture — with both parties' records in
// in-memory SQLite, wired in process and over loopback HTTP. Divide by
// BenchmarkCryptoFloor of the same suite for what the machinery adds.
func BenchmarkPurchase(b *testing.B) {
	for _, st := range benchSuites() {
		b.Run(string(st.ID()), func(b *testing.B) {
			b.Run("inprocess", func(b *testing.B) {
				p, err := bench.NewPurchaser(st, bench.PurchaserOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				runPurchases(b, p)
			})
			b.Run("http", func(b *testing.B) {
				runPurchases(b, newHTTPPurchaser(b, st))
			})
		})
	}
}

func runPurchases(b *testing.B, p *bench.Purchaser) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Purchase(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// newHTTPPurchaser serves the merchant and the gateway each on its own
// 127.0.0.1 port; the wallet reaches the merchant and the merchant the
// gateway through transport.Client, as separate deployments would.
func newHTTPPurchaser(b *testing.B, st suite.Suite) *bench.Purchaser {
	quiet := slog.New(slog.DiscardHandler)
	// The gateway exists only once the lab is built, after its URL is
	// needed: the handler finds it here.
	var gw atomic.Pointer[gateway.Gateway]
	gwSrv := httptest.NewServer(transport.Handler(func(ctx context.Context, req []byte) ([]byte, error) {
		return gw.Load().Serve(ctx, req)
	}, quiet))
	b.Cleanup(gwSrv.Close)
	p, err := bench.NewPurchaser(st, bench.PurchaserOptions{GatewayRT: &transport.Client{URL: gwSrv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	gw.Store(p.Lab.Gateway)
	mSrv := httptest.NewServer(transport.Handler(p.Lab.Merchant.Serve, quiet))
	b.Cleanup(mSrv.Close)
	p.Merchant = &transport.Client{URL: mSrv.URL}
	return p
}

// BenchmarkCryptoFloor performs exactly the cryptography of one purchase
// (bench.Ops has the audited count: 8 signatures, 6 envelopes sealed and
// 6 opened, 10 signature checks (9 in set1), 12 certificate-chain
// validations (11), 15 digests, 3 HMACs) straight on encap and pki, with
// no messages, stores or transport.
func BenchmarkCryptoFloor(b *testing.B) {
	for _, st := range benchSuites() {
		b.Run(string(st.ID()), func(b *testing.B) {
			h, err := pki.NewHierarchy(rand.Reader, "SETpay", st.NewSigningKey, st.Hash(), time.Now())
			if err != nil {
				b.Fatal(err)
			}
			f, err := bench.NewFloor(st, rand.Reader, h)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
