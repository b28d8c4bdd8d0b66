package banklink_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestGatewayRestart authorizes three purchases through the issuer host,
// then replaces the gateway and its link by new ones over the same
// database file — nothing of the old processes' memory left — and
// captures, reverses and credits them: every follow-up names the right
// authorization to the issuer, and the bank's ledger balances.
func TestGatewayRestart(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { gatewayRestart(t, st) })
	}
}

func gatewayRestart(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)

	bankDB, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bankDB.Close() })
	ledger := bank.NewLedger(bankDB, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &iso8583.Server{Handler: bank.NewHost(bank.NewIssuer(ledger), quiet).Handle, Log: quiet, GracePeriod: time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, iso8583.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	link := func(db *sqlite.DB) (*banklink.Link, *iso8583.Client) {
		c := iso8583.NewClient(ln.Addr().String(), iso8583.ClientConfig{Timeout: 5 * time.Second, Attempts: 1, Log: quiet})
		return banklink.New(c, banklink.Config{AcquirerID: "4711", Log: quiet, Store: db}), c
	}

	path := filepath.Join(t.TempDir(), "gateway.db")
	gs, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	link1, client1 := link(gs)
	// The merchant reaches whichever gateway the lab has now.
	var l *lab.Lab
	rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return l.Gateway.Serve(ctx, req) })
	l, err = lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gs, Issuer: link1,
		GatewayRT: rt, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
		t.Fatal(err)
	}
	c := l.Cards[0]
	acct, err := ledger.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: "cardholder", Currency: 840, Limit: 100_00})
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, held, balance int64) {
		t.Helper()
		f, err := ledger.Funds(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		if f.Held != held || f.Balance != balance {
			t.Fatalf("%s: %+v, want held %d balance %d", step, f, held, balance)
		}
		if err := ledger.Audit(ctx); err != nil {
			t.Fatalf("%s: ledger audit: %v", step, err)
		}
	}
	buy := func(amount int64) msg.XID {
		t.Helper()
		offer, err := l.Merchant.Checkout(ctx, "books", lab.USD(amount))
		if err != nil {
			t.Fatal(err)
		}
		p, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), lab.OfferFor(offer))
		if err != nil || res.Completion != msg.AuthorizationAccepted {
			t.Fatalf("Pay: %v, %v", res, err)
		}
		return p.TransIDs().XID
	}
	toCapture, toReverse, toCredit := buy(30_00), buy(20_00), buy(10_00)
	want("authorized", 60_00, 0)

	// The restart: the old link's connection and the database handle
	// close; a new gateway and link open the same file.
	client1.Close()
	if err := gs.Close(); err != nil {
		t.Fatal(err)
	}
	gs2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs2.Close() })
	link2, client2 := link(gs2)
	t.Cleanup(func() { client2.Close() })
	if err := l.RestartGateway(gs2, link2); err != nil {
		t.Fatal(err)
	}

	if code, err := l.Merchant.Capture(ctx, toCapture); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture after restart: %v, %v", code, err)
	}
	want("captured", 30_00, -30_00)
	if code, err := l.Merchant.ReverseAuthorization(ctx, toReverse, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
		t.Fatalf("reversal after restart: %v, %v", code, err)
	}
	want("reversed", 10_00, -30_00)
	if code, err := l.Merchant.Capture(ctx, toCredit); err != nil || code != msg.CapSuccess {
		t.Fatalf("second capture after restart: %v, %v", code, err)
	}
	if code, err := l.Merchant.Credit(ctx, toCredit, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit after restart: %v, %v", code, err)
	}
	want("credited", 0, -36_00)
}
