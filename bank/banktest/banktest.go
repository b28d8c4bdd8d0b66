// Package banktest runs a bank for tests: an issuer host and its ledger,
// over an in-memory database, answering ISO 8583 on 127.0.0.1 until the
// test ends. Tests that send a gateway's money through a real issuer
// (banklink, gateway, merchant) stand it up with Start.
package banktest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/store/sqlite"
)

// Bank is a running issuer host.
type Bank struct {
	Ledger *bank.Ledger
	Addr   string // where the host listens, on 127.0.0.1
}

var quiet = slog.New(slog.DiscardHandler)

// Start serves a new bank until t ends, then checks that its server
// stopped cleanly.
func Start(t testing.TB) *Bank {
	t.Helper()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ledger := bank.NewLedger(db, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &iso8583.Server{Handler: bank.NewHost(bank.NewIssuer(ledger), quiet).Handle, Log: quiet, GracePeriod: time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, iso8583.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &Bank{Ledger: ledger, Addr: ln.Addr().String()}
}

// Client connects to the host with cfg (its Log, when nil, discards),
// and is closed when t ends.
func (b *Bank) Client(t testing.TB, cfg iso8583.ClientConfig) *iso8583.Client {
	if cfg.Log == nil {
		cfg.Log = quiet
	}
	c := iso8583.NewClient(b.Addr, cfg)
	t.Cleanup(func() { c.Close() })
	return c
}

// OpenAccounts opens the merchant's settlement account and a card's
// account with limit, both in US dollars, and returns the card's account
// ID. expiry is the card's YYYYMM, as the lab gives it.
func (b *Bank) OpenAccounts(t testing.TB, merchantID, pan, expiry string, limit int64) string {
	t.Helper()
	ctx := context.Background()
	if _, err := b.Ledger.OpenMerchant(ctx, merchantID, "Corner Bookshop", 840); err != nil {
		t.Fatal(err)
	}
	acct, err := b.Ledger.OpenCard(ctx, bank.Card{PAN: pan, Expiry: expiry[2:], Holder: "cardholder", Currency: 840, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

// Check reports whether acct holds held and has balance, and whether
// the ledger audits.
func (b *Bank) Check(acct string, held, balance int64) error {
	ctx := context.Background()
	f, err := b.Ledger.Funds(ctx, acct)
	if err != nil {
		return err
	}
	if f.Held != held || f.Balance != balance {
		return fmt.Errorf("funds %+v; want held %d, balance %d", f, held, balance)
	}
	if err := b.Ledger.Audit(ctx); err != nil {
		return fmt.Errorf("ledger audit: %w", err)
	}
	return nil
}
