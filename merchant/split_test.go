package merchant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/bank/banktest"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// splitClock is a settable clock for every party of a split lab.
type splitClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *splitClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *splitClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// splitLab is a lab with sqlite stores, a settable clock and, if issuer is
// not nil, that issuer behind the gateway.
type splitLab struct {
	*lab.Lab
	t     *testing.T
	ctx   context.Context
	ms    *sqlite.DB
	gs    *sqlite.DB
	clock *splitClock
	t0    time.Time
}

func newSplitLab(t *testing.T, st suite.Suite, issuer gateway.Issuer) *splitLab {
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
	t0 := time.Now().UTC().Truncate(time.Second)
	c := &splitClock{t: t0}
	l, err := lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gs, Issuer: issuer,
		Limit: 1000_00, Now: c.Now, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return &splitLab{Lab: l, t: t, ctx: context.Background(), ms: ms, gs: gs, clock: c, t0: t0}
}

// pay runs the wallet's purchase of offer (with plan, if any) and returns
// its XID.
func (s *splitLab) pay(offer *merchant.Offer, plan *msg.InstallRecurData) msg.XID {
	s.t.Helper()
	wo := lab.OfferFor(offer)
	wo.Plan = plan
	p, res, err := s.Wallets[0].Pay(s.ctx, wire.ServeFunc(s.Merchant.Serve), wo)
	if err != nil {
		s.t.Fatalf("Pay: %v", err)
	}
	if res.Completion != msg.AuthorizationAccepted {
		s.t.Fatalf("purchase: %v", res.Completion)
	}
	return p.TransIDs().XID
}

// wantOrder checks the merchant's record: state, amounts authorized and
// captured, and whether it holds a token.
func (s *splitLab) wantOrder(xid msg.XID, state store.OrderState, auth, captured int64, token bool) {
	s.t.Helper()
	o, err := s.ms.Order(s.ctx, store.XID(xid))
	if err != nil {
		s.t.Fatal(err)
	}
	if o.State != state || o.AuthAmount != auth || o.CaptureAmount != captured || (o.AuthToken != nil) != token {
		s.t.Fatalf("order is %s, %d authorized, %d captured, token %v; want %s, %d, %d, token %v",
			o.State, o.AuthAmount, o.CaptureAmount, o.AuthToken != nil, state, auth, captured, token)
	}
}

func (s *splitLab) authorize(xid msg.XID, cents int64, want msg.AuthCode) {
	s.t.Helper()
	code, err := s.Merchant.AuthorizeShipment(s.ctx, xid, cents)
	if err != nil || code != want {
		s.t.Fatalf("AuthorizeShipment(%d) = %v, %v; want %v", cents, code, err, want)
	}
}

func (s *splitLab) capture(xid msg.XID) {
	s.t.Helper()
	if code, err := s.Merchant.CaptureShipment(s.ctx, xid); err != nil || code != msg.CapSuccess {
		s.t.Fatalf("CaptureShipment = %v, %v", code, err)
	}
}

// TestSplitShipment ships an order in three parts: the purchase authorizes
// the first, each later part is authorized under the token the one before
// brought and captured on its own, an authorization beyond the purchase is
// refused, and the purchase is complete when the parts add up to it.
func TestSplitShipment(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			s := newSplitLab(t, st, nil)
			offer, err := s.Merchant.CheckoutSplit(s.ctx, "three volumes", lab.USD(100_00), 40_00)
			if err != nil {
				t.Fatal(err)
			}
			xid := s.pay(offer, nil)
			s.wantOrder(xid, store.StateAuthorized, 40_00, 0, true)
			if _, err := s.Merchant.AuthorizeShipment(s.ctx, xid, 10_00); err == nil {
				t.Fatal("a second shipment was authorized before the first was captured")
			}
			s.capture(xid)
			s.wantOrder(xid, store.StateCaptured, 40_00, 40_00, true)

			s.authorize(xid, 35_00, msg.AuthApproved)
			s.wantOrder(xid, store.StateAuthorized, 75_00, 40_00, true)
			s.capture(xid)

			// Beyond the purchase: refused; the token still serves.
			s.authorize(xid, 25_01, msg.AuthAmountError)
			s.wantOrder(xid, store.StateCaptured, 75_00, 75_00, true)

			s.authorize(xid, 25_00, msg.AuthApproved)
			s.capture(xid)
			s.wantOrder(xid, store.StateCaptured, 100_00, 100_00, false)
			if _, err := s.Merchant.AuthorizeShipment(s.ctx, xid, 1); err == nil {
				t.Fatal("authorized beyond a complete purchase")
			}
			// The gateway has three authorizations, each captured in full.
			a, err := s.gs.Authorization(s.ctx, store.XID(xid))
			if err != nil || a.Amount != 40_00 || a.Captured != 40_00 {
				t.Fatalf("first shipment at the gateway: %+v, %v", a, err)
			}
		})
	}
}

// TestSplitAfterReversal: once the purchase's authorization is reversed,
// its token authorizes nothing more, even for a merchant that lost track.
func TestSplitAfterReversal(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) { splitAfterReversal(t, st) })
	}
}

func splitAfterReversal(t *testing.T, st suite.Suite) {
	s := newSplitLab(t, st, nil)
	offer, err := s.Merchant.CheckoutSplit(s.ctx, "two boxes", lab.USD(50_00), 20_00)
	if err != nil {
		t.Fatal(err)
	}
	xid := s.pay(offer, nil)
	if code, err := s.Merchant.ReverseAuthorization(s.ctx, xid, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
		t.Fatalf("reversal: %v, %v", code, err)
	}
	if _, err := s.Merchant.AuthorizeShipment(s.ctx, xid, 10_00); err == nil {
		t.Fatal("a reversed order authorized a shipment")
	}
	if _, err := s.ms.UpdateOrder(s.ctx, store.XID(xid), func(o *store.Order) error {
		o.State, o.CaptureAmount = store.StateAuthorized, o.AuthAmount
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.authorize(xid, 10_00, msg.AuthInvalidTransaction)
}

// TestRecurringPayments: the cardholder's wallet signs a daily plan; the
// merchant charges under it no sooner than a day apart and not after it
// expires.
func TestRecurringPayments(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			s := newSplitLab(t, st, nil)
			offer, err := s.Merchant.Checkout(s.ctx, "daily paper", lab.USD(1_50))
			if err != nil {
				t.Fatal(err)
			}
			xid := s.pay(offer, wallet.RecurringPlan(1, s.t0.Add(50*time.Hour)))
			s.wantOrder(xid, store.StateAuthorized, 1_50, 0, true)
			s.capture(xid)

			s.authorize(xid, 1_50, msg.AuthRecurringTooSoon)
			s.clock.Set(s.t0.Add(25 * time.Hour))
			s.authorize(xid, 1_51, msg.AuthAmountError)
			s.authorize(xid, 1_50, msg.AuthApproved)
			s.capture(xid)
			s.wantOrder(xid, store.StateCaptured, 3_00, 3_00, true)

			s.clock.Set(s.t0.Add(51 * time.Hour))
			s.authorize(xid, 1_50, msg.AuthRecurringExpired)
			s.wantOrder(xid, store.StateCaptured, 3_00, 3_00, true)
		})
	}
}

// TestInstalments: a plan of two instalments gives the merchant exactly
// one authorization after the purchase.
func TestInstalments(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) { instalments(t, st) })
	}
}

func instalments(t *testing.T, st suite.Suite) {
	s := newSplitLab(t, st, nil)
	offer, err := s.Merchant.Checkout(s.ctx, "a sofa, in two", lab.USD(200_00))
	if err != nil {
		t.Fatal(err)
	}
	xid := s.pay(offer, wallet.InstalmentPlan(2))
	s.capture(xid)
	s.authorize(xid, 200_00, msg.AuthApproved)
	s.capture(xid)
	s.wantOrder(xid, store.StateCaptured, 400_00, 400_00, false)
}

// newSplitBankLab is newSplitLab whose gateway asks a bank host over ISO
// 8583 on loopback. funds checks the card's account at the bank and
// audits the ledger.
func newSplitBankLab(t *testing.T, st suite.Suite) (s *splitLab, funds func(held, balance int64)) {
	t.Helper()
	bk := banktest.Start(t)
	client := bk.Client(t, iso8583.ClientConfig{Timeout: 2 * time.Second, Attempts: 3})
	s = newSplitLab(t, st, banklink.New(client, banklink.Config{AcquirerID: "4711", Log: quiet}))
	c := s.Cards[0]
	acct := bk.OpenAccounts(t, s.MerchantID, c.PAN, c.Expiry, 100_00)
	return s, func(held, balance int64) {
		t.Helper()
		if err := bk.Check(acct, held, balance); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSplitThroughBank ships an order in two parts through a real issuer
// host over ISO 8583: each part is its own hold at the issuer and its own
// completion; a refused authorization moves nothing; the ledger balances
// after every step.
func TestSplitThroughBank(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) { splitThroughBank(t, st) })
	}
}

func splitThroughBank(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	s, funds := newSplitBankLab(t, st)

	offer, err := s.Merchant.CheckoutSplit(ctx, "two crates", lab.USD(80_00), 30_00)
	if err != nil {
		t.Fatal(err)
	}
	xid := s.pay(offer, nil)
	funds(30_00, 0)
	s.capture(xid)
	funds(0, -30_00)

	s.authorize(xid, 50_01, msg.AuthAmountError) // beyond the purchase: the issuer is not asked
	funds(0, -30_00)
	s.authorize(xid, 50_00, msg.AuthApproved)
	funds(50_00, -30_00)
	s.capture(xid)
	funds(0, -80_00)
	s.wantOrder(xid, store.StateCaptured, 80_00, 80_00, false)
}
