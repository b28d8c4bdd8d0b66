package lab

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// useSaleMerchant replaces the lab's merchant with one of the same
// merchant ID, store and gateway link that sells with captureNow.
func useSaleMerchant(t *testing.T, l *Lab) {
	t.Helper()
	c, err := l.IssueMerchant(l.MerchantID, "Corner Bookshop", l.opts.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err := merchant.New(merchant.Config{
		Suite: l.Suite, MerchantID: l.MerchantID, BrandID: l.opts.Brand,
		SigningKey: merchant.NewSigningKey(c.Key), SigningCert: c.Cert,
		ExchangeKey: merchant.NewExchangeKey(c.ExchangeKey), ExchangeCert: c.ExchangeCert,
		Chain:       c.Chain,
		GatewayCert: l.Certificates["gateway-exchange"], GatewayChain: chain(l.Hierarchy.PCA),
		Roots: l.Roots, Store: l.opts.MerchantStore, Revocation: l.opts.Revocation,
		Gateway: l.gwClient, Log: slog.New(slog.DiscardHandler),
		CaptureNow: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Merchant = m
}

// sale runs a whole purchase with the lab's (sale) merchant and returns
// its XID and what the wallet concluded.
func sale(t *testing.T, l *Lab, cardholder int, cents int64) (msg.XID, msg.CompletionCode, msg.AuthCode) {
	t.Helper()
	ctx := context.Background()
	offer, err := l.Merchant.Checkout(ctx, "an e-book", USD(cents))
	if err != nil {
		t.Fatal(err)
	}
	p, res, err := l.Wallets[cardholder].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	var code msg.AuthCode
	if res.Gateway != nil {
		code = res.Gateway.AuthCode
	} else if l.Suite.ID() != suite.Set1 {
		t.Fatal("PRes without the gateway's proof")
	}
	return p.TransIDs().XID, res.Completion, code
}

// recaptureRefused makes the merchant's record of a sold order say
// authorized again — a merchant that lost track — and checks that the
// gateway refuses its CapReq as a duplicate.
func recaptureRefused(t *testing.T, l *Lab, xid msg.XID) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Merchant.Capture(ctx, xid); err == nil {
		t.Fatal("the merchant captured a sold order")
	}
	if _, err := l.opts.MerchantStore.UpdateOrder(ctx, store.XID(xid), func(o *store.Order) error {
		o.State = store.StateAuthorized
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if code, err := l.Merchant.Capture(ctx, xid); err != nil || code != msg.CapDuplicateRequest {
		t.Fatalf("CapReq after a sale = %v, %v; want capDuplicateRequest", code, err)
	}
}

// TestSale runs sales end to end with the gateway's built-in issuer: the
// wallet hears capturePerformed with the gateway's approval, merchant and
// gateway both record the order captured, a sale over the limit is
// rejected with nothing captured, and the gateway refuses to capture a
// sale again.
func TestSale(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms := sqlitetest.Memory(t)
			gs := sqlitetest.Memory(t)
			l, err := New(Options{Suite: st, MerchantStore: ms, GatewayStore: gs, Limit: 50_00,
				MerchantLog: slog.New(slog.DiscardHandler), GatewayLog: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			useSaleMerchant(t, l)

			xid, completion, code := sale(t, l, 0, 12_99)
			if completion != msg.CapturePerformed || (st.ID() != suite.Set1 && code != msg.AuthApproved) {
				t.Fatalf("sale: %v, %v", completion, code)
			}
			o, err := ms.Order(ctx, store.XID(xid))
			if err != nil || o.State != store.StateCaptured || o.CaptureAmount != 12_99 {
				t.Fatalf("merchant recorded %+v, %v", o, err)
			}
			a, err := gs.Authorization(ctx, store.XID(xid))
			if err != nil || a.State != "captured" || a.Captured != 12_99 {
				t.Fatalf("gateway recorded %+v, %v", a, err)
			}
			recaptureRefused(t, l, xid)

			xid, completion, _ = sale(t, l, 0, 40_00) // 37.01 left
			if completion != msg.OrderRejected {
				t.Fatalf("sale over the limit: %v", completion)
			}
			if o, err := ms.Order(ctx, store.XID(xid)); err != nil || o.State != store.StateDeclined || o.CaptureAmount != 0 {
				t.Fatalf("merchant recorded the declined sale as %+v, %v", o, err)
			}
			if a, err := gs.Authorization(ctx, store.XID(xid)); err != nil || a.State != "declined" || a.Captured != 0 {
				t.Fatalf("gateway recorded the declined sale as %+v, %v", a, err)
			}
		})
	}
}

// TestSaleThroughBank runs sales through a real issuer host: the gateway
// sends a 0200, whose approval posts the debit with no hold; a sale over
// the limit moves nothing; a second capture of a sale is refused and
// moves nothing; the ledger balances throughout.
func TestSaleThroughBank(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { saleThroughBank(t, st) })
	}
}

func saleThroughBank(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	bk := newBankHost(t)
	client := iso8583.NewClient(bk.addr, iso8583.ClientConfig{Timeout: 2 * time.Second, Attempts: 3, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { client.Close() })
	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	l, err := New(Options{Suite: st, Cardholders: 2, MerchantStore: ms, GatewayStore: gs,
		Issuer:      banklink.New(client, banklink.Config{AcquirerID: "4711", Log: slog.New(slog.DiscardHandler)}),
		MerchantLog: slog.New(slog.DiscardHandler), GatewayLog: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	useSaleMerchant(t, l)
	if _, err := bk.ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
		t.Fatal(err)
	}
	var accts []string
	for i, c := range l.Cards {
		limit := int64(100_00)
		if i == 1 {
			limit = 10_00
		}
		id, err := bk.ledger.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: "cardholder", Currency: 840, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, id)
	}

	xid, completion, code := sale(t, l, 0, 49_99)
	if completion != msg.CapturePerformed || (st.ID() != suite.Set1 && code != msg.AuthApproved) {
		t.Fatalf("sale: %v, %v", completion, code)
	}
	if f := bk.funds(accts[0]); f.Held != 0 || f.Balance != -49_99 {
		t.Fatalf("after the sale: %+v, want held 0, balance -49.99", f)
	}
	bk.audit()

	recaptureRefused(t, l, xid)
	if f := bk.funds(accts[0]); f.Held != 0 || f.Balance != -49_99 {
		t.Fatalf("a refused capture moved money: %+v", f)
	}
	bk.audit()

	// Insufficient funds: declined, and nothing moves.
	_, completion, code = sale(t, l, 1, 50_00)
	if completion != msg.OrderRejected || (st.ID() != suite.Set1 && code != msg.AuthDeclined) {
		t.Fatalf("sale over the limit: %v, %v", completion, code)
	}
	if f := bk.funds(accts[1]); f.Held != 0 || f.Balance != 0 {
		t.Fatalf("a declined sale moved money: %+v", f)
	}
	bk.audit()
}
