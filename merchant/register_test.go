package merchant_test

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

func newRegCAs(t testing.TB, st suite.Suite) *regCAs { return newRegCAsWith(t, st, nil) }

// newRegCAsWith is newRegCAs with the acquirer's records wrapped by wrap
// (nil: used as they are).
func newRegCAsWith(t testing.TB, st suite.Suite, wrap func(*ca.AcquirerRecords) ca.AcquirerPolicy) *regCAs {
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
	var policy ca.AcquirerPolicy = records
	if wrap != nil {
		policy = wrap(records)
	}
	store := ca.NewMemoryStore()
	for _, x := range []struct {
		a   *pki.Authority
		ct  pki.CertType
		dst **ca.CA
	}{{r.lab.Hierarchy.MCA, pki.CertTypeMCA, &r.mca}, {r.lab.Hierarchy.PCA, pki.CertTypePCA, &r.pca}} {
		if *x.dst, _, err = lab.NewRegistrationCA(ca.Config{Suite: st, BrandID: "SETpay", Authority: x.a,
			Roots: r.lab.Roots, Store: store, Acquirer: policy, Now: clock, Log: discard}, r.lab.Hierarchy.Brand, x.ct, r.now); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// TestRegisterThenPurchase registers a gateway at the PCA and a merchant
// at the MCA over the protocol, builds both from nothing but what
// registration returned, and has the lab's cardholder buy from the
// merchant: the wallet checks the merchant's signature certificate, seals
// the PI to the gateway's key-exchange certificate, and the gateway checks
// the merchant's, so the purchase completes only if every registered
// credential is right.
func TestRegisterThenPurchase(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			r := newRegCAs(t, st)
			clock := func() time.Time { return r.now }
			g, err := gateway.Register(ctx, wire.ServeFunc(r.pca.Serve), gateway.RegisterConfig{
				Suite: st, BrandID: "SETpay", AcquirerBIN: "400000", BusinessID: "17", Roots: r.lab.Roots,
				Answers: map[string]string{ca.FieldLegalName: "SETpay Acquirer Gateway"}, Now: clock,
			})
			if err != nil {
				t.Fatalf("gateway.Register: %v", err)
			}
			m, err := merchant.Register(ctx, wire.ServeFunc(r.mca.Serve), merchant.RegisterConfig{
				Suite: st, BrandID: "SETpay", MerchantID: "MER-0042", AcquirerBIN: "400000", Roots: r.lab.Roots,
				Answers: map[string]string{ca.FieldLegalName: "Harbour Books"}, Now: clock,
			})
			if err != nil {
				t.Fatalf("merchant.Register: %v", err)
			}
			purchaseWith(t, r, g, m)
		})
	}
}

// purchaseWith builds a gateway and a merchant from nothing but what
// registration returned and has the lab's cardholder buy from the
// merchant, through capture.
func purchaseWith(t *testing.T, r *regCAs, g *gateway.Registered, m *merchant.Registered) {
	t.Helper()
	ctx, st := context.Background(), r.lab.Suite
	clock := func() time.Time { return r.now }
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
		SigningKey: m.SigKey, SigningCert: m.SigCert, ExchangeKey: m.ExKey, ExchangeCert: m.ExCert, Chain: m.Chain,
		GatewayCert: g.ExCert, GatewayChain: g.Chain, Roots: r.lab.Roots, Store: mstore,
		Gateway: &wire.GatewayClient{Endpoint: &wire.Endpoint{Suite: st, Now: clock}, RT: wire.ServeFunc(gw.Serve)},
		Now:     clock, Log: regQuietLog(),
	})
	if err != nil {
		t.Fatalf("merchant.New with registered credentials: %v", err)
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
}

// TestRegisterRefused: the merchant sees the CA's refusals as such.
func TestRegisterRefused(t *testing.T) {
	st := suite.NewModern()
	ctx := context.Background()
	r := newRegCAs(t, st)
	cfg := merchant.RegisterConfig{
		Suite: st, BrandID: "SETpay", MerchantID: "MER-0042", AcquirerBIN: "400000", Roots: r.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: "Harbour Books"}, Now: func() time.Time { return r.now },
	}
	bad := cfg
	bad.MerchantID = "MER-0043"
	if _, err := merchant.Register(ctx, wire.ServeFunc(r.mca.Serve), bad); !errors.Is(err, merchant.ErrReferred) {
		t.Errorf("unknown merID: %v, want a referral", err)
	}
	bad = cfg
	bad.Answers = map[string]string{ca.FieldLegalName: "Someone Else Ltd"}
	var re *merchant.RefusedError
	if _, err := merchant.Register(ctx, wire.ServeFunc(r.mca.Serve), bad); !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByAgent {
		t.Errorf("wrong legal name: %v, want RejectByAgent", err)
	}
	var pe *msg.ProtocolError
	if _, err := merchant.Register(ctx, wire.ServeFunc(r.pca.Serve), cfg); !errors.As(err, &pe) {
		t.Errorf("merchant at the payment CA: %v, want a SET Error", err)
	}
	// None of the refusals spent the merchant's identity.
	if _, err := merchant.Register(ctx, wire.ServeFunc(r.mca.Serve), cfg); err != nil {
		t.Fatalf("honest registration after the refusals: %v", err)
	}
}

func regQuietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
