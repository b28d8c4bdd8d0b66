package merchant_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestRefreshSwapsGatewayCertificates: the gateway is replaced by one
// with new certificates (a renewal); purchases fail until the merchant
// refreshes, and the next purchase and capture after it use the new
// certificates. Then refreshes run while purchases do (run with -race).
func TestRefreshSwapsGatewayCertificates(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) { refreshSwaps(t, st) })
	}
}

func refreshSwaps(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	open := func() *sqlite.DB {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	var current atomic.Pointer[gateway.Gateway]
	rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return current.Load().Serve(ctx, req) })
	l, err := lab.New(lab.Options{Suite: st, Cardholders: 2, MerchantStore: open(), GatewayStore: open(),
		GatewayRT: rt, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	current.Store(l.Gateway)
	pay := func(wallet int) (msg.XID, bool) {
		t.Helper()
		o, err := l.Merchant.Checkout(ctx, "a map", lab.USD(250))
		if err != nil {
			t.Error(err)
			return msg.XID{}, false
		}
		p, res, err := l.Wallets[wallet].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), lab.OfferFor(o))
		if err != nil || res.Completion != msg.AuthorizationAccepted {
			return msg.XID{}, false
		}
		return p.TransIDs().XID, true
	}
	if _, ok := pay(0); !ok {
		t.Fatal("purchase before the renewal failed")
	}

	// The gateway renews: same name, new keys and certificates.
	nc, err := l.IssueGateway("SETpay Payment Gateway", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := gateway.New(gateway.Config{Suite: st, Name: "SETpay Payment Gateway",
		SigningKey: gateway.NewSigningKey(nc.Key), SigningCert: nc.Cert,
		ExchangeKey: gateway.NewExchangeKey(nc.ExchangeKey), ExchangeCert: nc.ExchangeCert,
		Chain: nc.Chain, Roots: l.Roots, Store: open(), Revocation: l.Revocations(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	current.Store(renewed)
	if _, ok := pay(0); ok {
		t.Fatal("a purchase sealed to the old certificate was authorized")
	}
	got, err := l.Merchant.RefreshGatewayCertificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Exchange, nc.ExchangeCert) {
		t.Fatal("PCertRes did not deliver the renewed key-exchange certificate")
	}
	xid, ok := pay(0)
	if !ok {
		t.Fatal("purchase after the refresh failed")
	}
	if code, err := l.Merchant.Capture(ctx, xid); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture after the refresh: %v, %v", code, err)
	}

	// Refreshes while purchases run: each request sees one set of
	// certificates, whole.
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				if _, ok := pay(w); !ok {
					t.Error("purchase during refreshes failed")
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 3 {
			if _, err := l.Merchant.RefreshGatewayCertificates(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
}
