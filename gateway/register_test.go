package gateway_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// regCAs is a lab with a merchant CA and a payment CA on its hierarchy,
// knowing one merchant and one gateway of acquirer BIN 400000.
type regCAs struct {
	lab      *lab.Lab
	mca, pca *ca.CA
	now      time.Time
}

func newRegCAs(t testing.TB, st suite.Suite) *regCAs {
	t.Helper()
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close(); gs.Close() })
	r := &regCAs{now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return r.now }
	discard := regQuietLog()
	r.lab, err = lab.New(lab.Options{Suite: st, MerchantStore: ms, GatewayStore: gs, Limit: 100000, Now: clock, MerchantLog: discard, GatewayLog: discard})
	if err != nil {
		t.Fatal(err)
	}
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{
		{AcquirerBIN: "400000", MerID: "MER-0042", Name: "Harbour Books", City: "Springfield"},
		{AcquirerBIN: "400000", BusinessID: "17", Name: "SETpay Acquirer Gateway"},
	}}
	store := ca.NewMemoryStore()
	for _, x := range []struct {
		a   *pki.Authority
		ct  pki.CertType
		dst **ca.CA
	}{{r.lab.Hierarchy.MCA, pki.CertTypeMCA, &r.mca}, {r.lab.Hierarchy.PCA, pki.CertTypePCA, &r.pca}} {
		if *x.dst, _, err = lab.NewRegistrationCA(ca.Config{Suite: st, BrandID: "SETpay", Authority: x.a,
			Roots: r.lab.Roots, Store: store, Acquirer: records, Now: clock, Log: discard}, r.lab.Hierarchy.Brand, x.ct, r.now); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// TestRegisterThenPurchase registers a gateway at the PCA over the
// protocol, builds it from nothing but what registration returned, and has
// the lab's cardholder buy from a merchant that designates it: the wallet
// seals the PI to the registered key-exchange certificate and checks the
// gateway's signature in the answer, and the merchant checks the gateway's
// signature certificate, so the purchase completes only if the registered
// credentials are right.
func TestRegisterThenPurchase(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			r := newRegCAs(t, st)
			clock := func() time.Time { return r.now }
			g, err := gateway.Register(ctx, wire.ServeFunc(r.pca.Serve), gatewayRegConfig(r))
			if err != nil {
				t.Fatalf("gateway.Register: %v", err)
			}
			c, err := r.lab.IssueMerchant("MER-0042", "Harbour Books", r.now)
			if err != nil {
				t.Fatal(err)
			}
			gstore, err := sqlite.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			mstore, err := sqlite.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { gstore.Close(); mstore.Close() })
			gw, err := gateway.New(gateway.Config{
				Revocation: r.lab.Revocations(),
				Suite:      st, Name: "SETpay Acquirer Gateway",
				SigningKey: g.SigKey, SigningCert: g.SigCert, ExchangeKey: g.ExKey, ExchangeCert: g.ExCert, Chain: g.Chain,
				Roots: r.lab.Roots, Store: gstore, Limit: func(string) int64 { return 100000 }, Now: clock, Log: regQuietLog(),
			})
			if err != nil {
				t.Fatalf("gateway.New with registered credentials: %v", err)
			}
			mer, err := merchant.New(merchant.Config{
				Revocation: r.lab.Revocations(),
				Suite:      st, MerchantID: "MER-0042", BrandID: "SETpay",
				SigningKey: merchant.NewSigningKey(c.Key), SigningCert: c.Cert,
				ExchangeKey: merchant.NewExchangeKey(c.ExchangeKey), ExchangeCert: c.ExchangeCert, Chain: c.Chain,
				GatewayCert: g.ExCert, GatewayChain: g.Chain, Roots: r.lab.Roots, Store: mstore,
				Gateway: &wire.GatewayClient{Endpoint: &wire.Endpoint{Suite: st, Now: clock}, RT: wire.ServeFunc(gw.Serve)},
				Now:     clock, Log: regQuietLog(),
			})
			if err != nil {
				t.Fatal(err)
			}
			offer, err := mer.Checkout(ctx, "1 × A Pattern Language", lab.USD(3500))
			if err != nil {
				t.Fatal(err)
			}
			p, res, err := r.lab.Wallets[0].Pay(ctx, wire.ServeFunc(mer.Serve), lab.OfferFor(offer))
			if err != nil {
				t.Fatalf("Pay: %v", err)
			}
			if res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("completion = %v", res.Completion)
			}
			if code, err := mer.Capture(ctx, p.TransIDs().XID); err != nil || code != msg.CapSuccess {
				t.Fatalf("Capture = %v, %v", code, err)
			}
		})
	}
}

func gatewayRegConfig(r *regCAs) gateway.RegisterConfig {
	return gateway.RegisterConfig{
		Suite: r.lab.Suite, BrandID: "SETpay", AcquirerBIN: "400000", BusinessID: "17", Roots: r.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: "SETpay Acquirer Gateway"}, Now: func() time.Time { return r.now },
	}
}

// TestRegisterRefused: the gateway sees the CA's refusals as such, and
// registers once they are out of the way.
func TestRegisterRefused(t *testing.T) {
	ctx := context.Background()
	r := newRegCAs(t, suite.NewModern())
	cfg := gatewayRegConfig(r)
	bad := cfg
	bad.BusinessID = "18"
	if _, err := gateway.Register(ctx, wire.ServeFunc(r.pca.Serve), bad); !errors.Is(err, gateway.ErrReferred) {
		t.Errorf("unknown acquirer business ID: %v, want a referral", err)
	}
	bad = cfg
	bad.Answers = map[string]string{ca.FieldLegalName: "Someone Else Ltd"}
	var re *gateway.RefusedError
	if _, err := gateway.Register(ctx, wire.ServeFunc(r.pca.Serve), bad); !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByAgent {
		t.Errorf("wrong legal name: %v, want RejectByAgent", err)
	}
	var pe *msg.ProtocolError
	if _, err := gateway.Register(ctx, wire.ServeFunc(r.mca.Serve), cfg); !errors.As(err, &pe) {
		t.Errorf("gateway at the merchant CA: %v, want a SET Error", err)
	}
	if _, err := gateway.Register(ctx, wire.ServeFunc(r.pca.Serve), cfg); err != nil {
		t.Fatalf("honest registration after the refusals: %v", err)
	}
}

func regQuietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
