package lab

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// bankHost is a bank's issuer host serving ISO 8583 on 127.0.0.1; it can
// be stopped and started again on the same address, its books kept.
type bankHost struct {
	t      *testing.T
	ledger *bank.Ledger
	host   *bank.Host
	addr   string
	srv    *iso8583.Server
	done   chan error
}

func newBankHost(t *testing.T) *bankHost {
	t.Helper()
	db := sqlitetest.Memory(t)
	l := bank.NewLedger(db, nil)
	b := &bankHost{t: t, ledger: l, host: bank.NewHost(bank.NewIssuer(l), slog.New(slog.DiscardHandler)), addr: "127.0.0.1:0"}
	b.start()
	t.Cleanup(b.stop)
	t.Cleanup(func() {
		if err := l.Audit(context.Background()); err != nil {
			t.Errorf("ledger audit after test: %v", err)
		}
	})
	return b
}

func (b *bankHost) start() {
	b.t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	b.srv = &iso8583.Server{Handler: b.host.Handle, Log: slog.New(slog.DiscardHandler), GracePeriod: time.Second}
	b.done = make(chan error, 1)
	go func(srv *iso8583.Server, done chan error) { done <- srv.Serve(ln) }(b.srv, b.done)
}

func (b *bankHost) stop() {
	if b.srv == nil {
		return
	}
	b.srv.Close()
	if err := <-b.done; !errors.Is(err, iso8583.ErrServerClosed) {
		b.t.Errorf("Serve returned %v", err)
	}
	b.srv = nil
}

func (b *bankHost) funds(id string) bank.Funds {
	b.t.Helper()
	f, err := b.ledger.Funds(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return f
}

func (b *bankHost) audit() {
	b.t.Helper()
	if err := b.ledger.Audit(context.Background()); err != nil {
		b.t.Fatalf("ledger audit: %v", err)
	}
}

// TestPurchaseThroughBank runs purchases through a real issuer host: the
// gateway asks it over ISO 8583 (banklink), the approval places a hold,
// the capture posts the debit, a card without funds is declined with 51
// → declined, and the link survives the bank restarting.
func TestPurchaseThroughBank(t *testing.T) {
	st := suite.NewModern()
	ctx := context.Background()
	bk := newBankHost(t)
	client := iso8583.NewClient(bk.addr, iso8583.ClientConfig{Timeout: 2 * time.Second, Attempts: 3, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { client.Close() })

	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	l, err := New(Options{Suite: st, Cardholders: 2, MerchantStore: ms, GatewayStore: gs,
		Issuer: banklink.New(client, banklink.Config{AcquirerID: "4711"})})
	if err != nil {
		t.Fatal(err)
	}
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

	buy := func(w *wallet.Wallet, amount int64) (msg.XID, msg.CompletionCode, msg.AuthCode) {
		t.Helper()
		offer, err := l.Merchant.Checkout(ctx, "books", USD(amount))
		if err != nil {
			t.Fatal(err)
		}
		p, res, err := w.Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
		if err != nil {
			t.Fatalf("Pay: %v", err)
		}
		if res.Gateway == nil {
			t.Fatal("PRes without the gateway's proof")
		}
		return p.TransIDs().XID, res.Completion, res.Gateway.AuthCode
	}
	capture := func(xid msg.XID) {
		t.Helper()
		if code, err := l.Merchant.Capture(ctx, xid); err != nil || code != msg.CapSuccess {
			t.Fatalf("Capture = %v, %v", code, err)
		}
	}

	// Approved: a hold, then the capture turns it into a debit.
	xid, completion, code := buy(l.Wallets[0], 49_99)
	if completion != msg.AuthorizationAccepted || code != msg.AuthApproved {
		t.Fatalf("first purchase: %v, %v", completion, code)
	}
	if f := bk.funds(accts[0]); f.Held != 49_99 || f.Balance != 0 {
		t.Fatalf("after authorization: %+v", f)
	}
	bk.audit()
	capture(xid)
	if f := bk.funds(accts[0]); f.Held != 0 || f.Balance != -49_99 {
		t.Fatalf("after capture: %+v", f)
	}
	bk.audit()

	// Insufficient funds: ISO 51 becomes SET declined; nothing moves.
	_, completion, code = buy(l.Wallets[1], 50_00)
	if completion != msg.OrderRejected || code != msg.AuthDeclined {
		t.Fatalf("purchase over the limit: %v, %v", completion, code)
	}
	if f := bk.funds(accts[1]); f.Held != 0 || f.Balance != 0 {
		t.Fatalf("a decline moved money: %+v", f)
	}
	bk.audit()

	// The bank restarts on the same address; the link redials.
	bk.stop()
	bk.start()
	xid, completion, code = buy(l.Wallets[0], 20_00)
	if completion != msg.AuthorizationAccepted || code != msg.AuthApproved {
		t.Fatalf("purchase after the bank restarted: %v, %v", completion, code)
	}
	capture(xid)
	// The cardholder's balance is the opening (0) less what was captured.
	if f := bk.funds(accts[0]); f.Held != 0 || f.Balance != -(49_99+20_00) {
		t.Fatalf("after the second capture: %+v", f)
	}
	bk.audit()
}
