package bench

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/suite"
)

// counting is a suite that counts the private-key and envelope operations
// done through it: every signing key it makes counts its signatures.
type counting struct {
	suite.Suite
	sign, seal, open atomic.Int64
}

type countingSigner struct {
	crypto.Signer
	n *atomic.Int64
}

func (s countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.Signer.Sign(r, digest, opts)
}

func (c *counting) NewSigningKey(r io.Reader) (crypto.Signer, error) {
	k, err := c.Suite.NewSigningKey(r)
	if err != nil {
		return nil, err
	}
	return countingSigner{k, &c.sign}, nil
}

func (c *counting) Seal(r io.Reader, cert []byte, ct asn1.ObjectIdentifier, content, extra []byte, withHash bool) ([]byte, error) {
	c.seal.Add(1)
	return c.Suite.Seal(r, cert, ct, content, extra, withHash)
}

func (c *counting) Open(key suite.ExchangeKey, cert, env []byte) (asn1.ObjectIdentifier, []byte, []byte, error) {
	c.open.Add(1)
	return c.Suite.Open(key, cert, env)
}

func (c *counting) reset() { c.sign.Store(0); c.seal.Store(0); c.open.Store(0) }

func (c *counting) check(t *testing.T, what string) {
	t.Helper()
	want := OpsFor(c)
	if got := c.sign.Load(); got != int64(want.Sign) {
		t.Errorf("%s made %d signatures, the Ops table says %d", what, got, want.Sign)
	}
	if got := c.seal.Load(); got != int64(want.Seal) {
		t.Errorf("%s sealed %d envelopes, the Ops table says %d", what, got, want.Seal)
	}
	if got := c.open.Load(); got != int64(want.Open) {
		t.Errorf("%s opened %d envelopes, the Ops table says %d", what, got, want.Open)
	}
}

func allSuites() []suite.Suite {
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

// TestOpsMatchPurchase holds the Ops table to what the parties really do:
// one whole purchase and one floor run make the same number of
// signatures, seals and opens, and that number is the table's.
func TestOpsMatchPurchase(t *testing.T) {
	ctx := context.Background()
	for _, base := range allSuites() {
		t.Run(string(base.ID()), func(t *testing.T) {
			st := &counting{Suite: base}
			p, err := NewPurchaser(st, PurchaserOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			f, err := NewFloor(st, rand.Reader, p.Lab.Hierarchy)
			if err != nil {
				t.Fatal(err)
			}

			st.reset()
			if err := p.Purchase(ctx); err != nil {
				t.Fatal(err)
			}
			st.check(t, "a purchase")

			st.reset()
			if err := f.Run(); err != nil {
				t.Fatal(err)
			}
			st.check(t, "the crypto floor")
		})
	}
}

// TestPurchaseRepeats: a Purchaser's purchases succeed one after another
// (no replay refusal, no decline from the spending limit).
func TestPurchaseRepeats(t *testing.T) {
	p, err := NewPurchaser(suite.NewModern(), PurchaserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 3 {
		if err := p.Purchase(context.Background()); err != nil {
			t.Fatalf("purchase %d: %v", i+1, err)
		}
	}
	orders, err := p.Lab.Merchant.Orders(context.Background(), 10)
	if err != nil || len(orders) != 3 {
		t.Fatalf("orders = %d, %v; want 3", len(orders), err)
	}
}

// TestFloorDetectsTampering: the floor's checks are real checks, not
// formalities: with the gateway's certificate from another hierarchy the
// wallet's chain validation fails.
func TestFloorDetectsTampering(t *testing.T) {
	st := suite.NewModern()
	p1, err := NewPurchaser(st, PurchaserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close()
	p2, err := NewPurchaser(st, PurchaserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	f1, err := NewFloor(st, rand.Reader, p1.Lab.Hierarchy)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := NewFloor(st, rand.Reader, p2.Lab.Hierarchy)
	if err != nil {
		t.Fatal(err)
	}
	if err := f1.Run(); err != nil {
		t.Fatalf("untampered floor: %v", err)
	}
	f1.gateway = f2.gateway
	if err := f1.Run(); err == nil {
		t.Fatal("floor accepted a gateway certified by another root")
	}
}

// TestRunTable runs the whole measurement once and checks the table
// carries every column and a ratio for the suite.
func TestRunTable(t *testing.T) {
	var phases []string
	results, err := Run(context.Background(), Options{
		Suites: []suite.Suite{suite.NewModern()}, Purchases: 2, Bank: true,
		Progress: func(p Progress) { phases = append(phases, p.Phase) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	r := results[0]
	if r.Purchases != 2 || r.Floors != 2 || r.Purchase <= 0 || r.Floor <= 0 || r.Ratio() <= 0 || r.AllocsPerPurchase == 0 {
		t.Fatalf("result = %+v", r)
	}
	if limit, bank := r.AuthsPerSecond(); r.Auths != 2 || r.BankAuths != 2 || limit <= 0 || bank <= 0 {
		t.Fatalf("authorizations: %+v", r)
	}
	if got := strings.Join(phases, " "); got != "setup setup purchase purchase floor floor auth auth setup setup auth bank auth bank" {
		t.Errorf("progress phases = %q", got)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	for _, col := range []string{"suite", "purchase mean", "crypto floor mean", "ratio", "allocs/purchase"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %q", lines[0], col)
		}
	}
	if fields := strings.Fields(lines[1]); len(fields) != 7 || fields[0] != "modern" {
		t.Errorf("row = %q", lines[1])
	}
	// The authorization table has its own header.
	auth := authTable(t, out.String())
	for _, col := range []string{"auths", "auth mean", "auths/s", "bank auths/s", "bank/limit"} {
		if !strings.Contains(auth[0], col) {
			t.Errorf("header %q lacks %q", auth[0], col)
		}
	}
	if fields := strings.Fields(auth[1]); len(fields) != 8 || fields[0] != "modern" || fields[1] != "2" || fields[4] != "2" {
		t.Errorf("authorization row = %q", auth[1])
	}

	// Without the bank its columns are dashes.
	r.BankAuths, r.BankAuth = 0, 0
	out.Reset()
	if err := WriteTable(&out, results); err != nil {
		t.Fatal(err)
	}
	auth = authTable(t, out.String())
	if fields := strings.Fields(auth[1]); len(fields) != 8 || fields[4] != "-" || fields[7] != "-" {
		t.Errorf("authorization row without the bank = %q", auth[1])
	}
}

// authTable returns the authorization table's header and first row.
func authTable(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "suite ") && strings.Contains(l, "auths/s") && i+1 < len(lines) {
			return lines[i : i+2]
		}
	}
	t.Fatalf("no authorization table:\n%s", out)
	return nil
}

// TestBankAuthorizations: through the bank host, each authorization
// places its hold on the card and nothing else, a purchase's capture
// turns its hold into a debit, authorizations from several wallets at
// once all succeed, and the ledger balances after all of it.
func TestBankAuthorizations(t *testing.T) {
	ctx := context.Background()
	p, err := NewPurchaser(suite.NewModern(), PurchaserOptions{Bank: true, Cardholders: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	funds := func(i int) bank.Funds {
		t.Helper()
		f, err := p.bank.ledger.Funds(ctx, p.bank.cards[i])
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	for range 2 {
		if _, err := p.Authorize(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	if f := funds(0); f.Held != 2*49_99 || f.Balance != 0 || f.Limit != bankLimit {
		t.Fatalf("after two authorizations: %+v", f)
	}
	if err := p.Purchase(ctx); err != nil {
		t.Fatal(err)
	}
	if f := funds(0); f.Held != 2*49_99 || f.Balance != -49_99 {
		t.Fatalf("after a captured purchase: %+v", f)
	}

	// Wallets 1 and 2 authorize side by side, each on its own card.
	const each = 3
	errs := make(chan error, 2*each)
	var wg sync.WaitGroup
	for w := 1; w <= 2; w++ {
		wg.Go(func() {
			for range each {
				_, err := p.Authorize(ctx, w)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for w := 1; w <= 2; w++ {
		if f := funds(w); f.Held != each*49_99 || f.Balance != 0 {
			t.Errorf("card %d after %d concurrent authorizations: %+v", w, each, f)
		}
	}
	if err := p.Audit(ctx); err != nil {
		t.Fatalf("ledger audit: %v", err)
	}
	if _, err := p.Authorize(ctx, 3); err == nil {
		t.Error("Authorize with a wallet the lab does not have succeeded")
	}
}

// TestRepeatStops: the duration cap ends a measurement after the first
// run that passes it, and a cancelled context ends it at once.
func TestRepeatStops(t *testing.T) {
	n := 0
	op := func() error { n++; time.Sleep(time.Millisecond); return nil }
	_, runs, err := repeat(context.Background(), Options{Purchases: 1000, Duration: time.Nanosecond}, op, func(int) {})
	if err != nil || runs != 1 || n != 1 {
		t.Fatalf("capped repeat: %d runs, %d calls, %v", runs, n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, runs, err := repeat(ctx, Options{Purchases: 1000}, op, func(int) {}); err == nil || runs != 0 {
		t.Fatalf("cancelled repeat: %d runs, %v", runs, err)
	}
}
