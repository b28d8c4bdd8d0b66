package gateway_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/bank/banktest"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestEveryMovementBatched: a sale, a capture, a credit, a credit
// reversal and a capture reversal each go into the merchant's open batch,
// money to the merchant (sale, capture, credit reversal) among its
// captures, money back to the cardholder (credit, capture reversal) among
// its credits, so the batch says what moved.
func TestEveryMovementBatched(t *testing.T) {
	ctx := context.Background()
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			m := w.l.Merchant
			opened, err := m.Batch(ctx, msg.BatchOpOpen, nil)
			if err != nil || opened.Code != msg.BatchAdminSuccess || opened.ID == nil {
				t.Fatalf("open: %+v, %v", opened, err)
			}
			p := w.sell(w.startPurchase(0, "an e-book", 12_99), true)
			if c := p.CapResPayload; c == nil || c.BatchID == nil || *c.BatchID != *opened.ID || c.BatchSequenceNum == nil || *c.BatchSequenceNum != 1 {
				t.Fatalf("sale not batched: %+v", c)
			}
			buy := func(cents int64) msg.XID {
				t.Helper()
				pu, res, err := w.pay(0, "a kite", cents)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase: %v, %v", res, err)
				}
				if code, err := m.Capture(ctx, pu.TransIDs().XID); err != nil || code != msg.CapSuccess {
					t.Fatalf("capture: %v, %v", code, err)
				}
				return pu.TransIDs().XID
			}
			kite, glider := buy(20_00), buy(7_00)
			if code, err := m.Credit(ctx, kite, lab.USD(5_00)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit: %v, %v", code, err)
			}
			if code, err := m.ReverseCredit(ctx, kite, lab.USD(2_00)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit reversal: %v, %v", code, err)
			}
			if code, err := m.ReverseCapture(ctx, glider); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("capture reversal: %v, %v", code, err)
			}
			// Refused movements move nothing and are not batched.
			if code, err := m.ReverseCredit(ctx, kite, lab.USD(3_01)); err != nil || code == msg.CapRevOrCredSuccess {
				t.Fatalf("reversal of more than credited: %v, %v", code, err)
			}
			s, err := m.Batch(ctx, msg.BatchOpStatus, opened.ID)
			if err != nil || s.Status == nil {
				t.Fatalf("status: %+v, %v", s, err)
			}
			// Captures: sale 12.99, captures 20.00 and 7.00, credit
			// reversal 2.00. Credits: 5.00, the capture reversal 7.00.
			if b := s.Status; b.CaptureCount != 4 || b.CaptureTotal != lab.USD(41_99) || b.CreditCount != 2 || b.CreditTotal != lab.USD(12_00) {
				t.Fatalf("batch %+v; want captures 4 / 41.99, credits 2 / 12.00", b)
			}
		})
	}
}

// bankWorld is a world whose gateway asks a bank host over ISO 8583 on
// loopback, with the bank's ledger to check.
type bankWorld struct {
	*world
	bank *banktest.Bank
	acct string // the card's account at the bank
}

func newBankWorld(t *testing.T, w0 func(issuer gateway.Issuer) *world) *bankWorld {
	t.Helper()
	bk := banktest.Start(t)
	client := bk.Client(t, iso8583.ClientConfig{Timeout: 2 * time.Second, Attempts: 3})
	w := w0(banklink.New(client, banklink.Config{AcquirerID: "4711", Log: quiet}))
	c := w.l.Cards[0]
	acct := bk.OpenAccounts(t, w.l.MerchantID, c.PAN, c.Expiry, 1000_00)
	return &bankWorld{world: w, bank: bk, acct: acct}
}

// funds checks the card's account at the bank and audits the ledger.
func (b *bankWorld) funds(held, balance int64) {
	b.t.Helper()
	if err := b.bank.Check(b.acct, held, balance); err != nil {
		b.t.Fatal(err)
	}
}

// gatedIssuer holds every capture at the door: it reports each arrival
// on entered and lets it through to the issuer when release is closed.
type gatedIssuer struct {
	gateway.Issuer
	entered chan struct{}
	release chan struct{}
}

func (g *gatedIssuer) Capture(ctx context.Context, req gateway.CaptureRequest) (msg.CapCode, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.Issuer.Capture(ctx, req)
}

// TestConcurrentDuplicateCaptures: CapReqs, each a fresh request, racing
// to capture part of one authorization at a real issuer. Each would fit in
// the hold, so the issuer alone would take them all. While the first is
// with the issuer the others arrive: none may reach the issuer, each is
// answered duplicateRequest; then the first completes, and the bank has
// debited exactly the one capture answered success.
func TestConcurrentDuplicateCaptures(t *testing.T) {
	const racers = 4
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			gate := &gatedIssuer{entered: make(chan struct{}, racers), release: make(chan struct{})}
			b := newBankWorld(t, func(issuer gateway.Issuer) *world {
				gate.Issuer = issuer
				return newWorldWith(t, st, 1, gate)
			})
			pu, res, err := b.pay(0, "a barrel", 100_00)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v, %v", res, err)
			}
			b.funds(100_00, 0)
			type result struct {
				code msg.CapCode
				err  error
			}
			capture := func(out chan<- result) {
				code, err := b.captureWith(b.mer, b.l.MerchantID, pu.TransIDs(), lab.USD(40_00), nil)
				out <- result{code, err}
			}
			first := make(chan result, 1)
			go capture(first)
			<-gate.entered // the first is with the issuer
			var once sync.Once
			open := func() { once.Do(func() { close(gate.release) }) }
			defer open()
			others := make(chan result, racers-1)
			for range racers - 1 {
				go capture(others)
			}
			codes := map[msg.CapCode]int{}
			for n := 0; n < racers-1; {
				select {
				case r := <-others:
					if r.err != nil {
						t.Fatal(r.err)
					}
					codes[r.code]++
					n++
				case <-gate.entered:
					t.Error("a duplicate capture reached the issuer")
					open()
				}
			}
			open()
			r := <-first
			if r.err != nil || r.code != msg.CapSuccess {
				t.Fatalf("first capture: %v, %v", r.code, r.err)
			}
			if codes[msg.CapDuplicateRequest] != racers-1 {
				t.Fatalf("the others were answered %v; want %d duplicates", codes, racers-1)
			}
			// One capture posted; the rest of the hold stays held.
			b.funds(60_00, -40_00)
			if a := b.authorization(pu.TransIDs().XID); a.State != "captured" || a.Captured != 40_00 {
				t.Fatalf("recorded %+v", a)
			}
		})
	}
}

// newWorldWith is newWorld with issuer behind the gateway.
func newWorldWith(t *testing.T, st suite.Suite, cardholders int, issuer gateway.Issuer) *world {
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
	w := &world{t: t, ctx: context.Background(), st: st, gs: gs, ms: ms}
	w.t0 = time.Now().UTC().Truncate(time.Second)
	w.clock = &clock{t: w.t0}
	rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return w.l.Gateway.Serve(ctx, req) })
	w.l, err = lab.New(lab.Options{Suite: st, Cardholders: cardholders, MerchantStore: ms, GatewayStore: gs,
		Issuer: issuer, GatewayRT: rt, Now: w.clock.Now, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.mer = issueMerchant(t, w.l, w.l.MerchantID, w.t0)
	return w
}

// scriptedIssuer answers captures from a script before asking the issuer:
// each entry is a refusal code, an error (the issuer not reached) or nil
// (asked).
type scriptedIssuer struct {
	gateway.Issuer
	mu     sync.Mutex
	script []any // msg.CapCode or error
}

func (s *scriptedIssuer) Capture(ctx context.Context, req gateway.CaptureRequest) (msg.CapCode, error) {
	s.mu.Lock()
	var next any
	if len(s.script) > 0 {
		next, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	switch v := next.(type) {
	case msg.CapCode:
		return v, nil
	case error:
		return 0, v
	}
	return s.Issuer.Capture(ctx, req)
}

// TestCaptureClaimSettled: an issuer's refusal gives the claim back, so
// the capture can be asked again; an issuer that could not be asked
// leaves the authorization capturing — its capture may have been posted —
// and later CapReqs are duplicates, never a second debit.
func TestCaptureClaimSettled(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			script := &scriptedIssuer{script: []any{msg.CapInvalidAuthData, nil, errors.New("link down")}}
			b := newBankWorld(t, func(issuer gateway.Issuer) *world {
				script.Issuer = issuer
				return newWorldWith(t, st, 1, script)
			})
			refused, res, err := b.pay(0, "a lamp", 10_00)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v, %v", res, err)
			}
			if code, err := b.captureWith(b.mer, b.l.MerchantID, refused.TransIDs(), lab.USD(10_00), nil); err != nil || code != msg.CapInvalidAuthData {
				t.Fatalf("refused capture: %v, %v", code, err)
			}
			if a := b.authorization(refused.TransIDs().XID); a.State != "authorized" {
				t.Fatalf("after a refusal: %+v", a)
			}
			b.funds(10_00, 0)
			if code, err := b.captureWith(b.mer, b.l.MerchantID, refused.TransIDs(), lab.USD(10_00), nil); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture asked again: %v, %v", code, err)
			}
			b.funds(0, -10_00)

			unknown, res, err := b.pay(0, "a rug", 20_00)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v, %v", res, err)
			}
			if code, err := b.captureWith(b.mer, b.l.MerchantID, unknown.TransIDs(), lab.USD(20_00), nil); err != nil || code != msg.CapUnspecifiedFailure {
				t.Fatalf("capture with the issuer unreachable: %v, %v", code, err)
			}
			if a := b.authorization(unknown.TransIDs().XID); a.State != "capturing" {
				t.Fatalf("after an unknown outcome: %+v", a)
			}
			if code, err := b.captureWith(b.mer, b.l.MerchantID, unknown.TransIDs(), lab.USD(20_00), nil); err != nil || code != msg.CapDuplicateRequest {
				t.Fatalf("capture after an unknown outcome: %v, %v", code, err)
			}
			b.funds(20_00, -10_00)
		})
	}
}

// gatedReversal holds every authorization reversal at the door, as
// gatedIssuer holds captures.
type gatedReversal struct {
	gateway.Issuer
	entered chan struct{}
	release chan struct{}
}

func (g *gatedReversal) ReverseAuthorization(ctx context.Context, req gateway.AdjustRequest) (msg.AuthRevCode, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.Issuer.ReverseAuthorization(ctx, req)
}

// TestConcurrentReversals: while one authorization reversal is with the
// issuer, another of the same authorization is answered duplicateRequest
// without reaching it, and a capture is refused; the hold is released
// once.
func TestConcurrentReversals(t *testing.T) {
	ctx := context.Background()
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			gate := &gatedReversal{entered: make(chan struct{}, 2), release: make(chan struct{})}
			b := newBankWorld(t, func(issuer gateway.Issuer) *world {
				gate.Issuer = issuer
				return newWorldWith(t, st, 1, gate)
			})
			pu, res, err := b.pay(0, "a tent", 60_00)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v, %v", res, err)
			}
			xid := pu.TransIDs().XID
			type result struct {
				code msg.AuthRevCode
				err  error
			}
			reverse := func(out chan<- result, cents int64) {
				code, err := b.l.Merchant.ReverseAuthorization(ctx, xid, lab.USD(cents))
				out <- result{code, err}
			}
			first := make(chan result, 1)
			go reverse(first, 0)
			<-gate.entered
			var once sync.Once
			open := func() { once.Do(func() { close(gate.release) }) }
			defer open()
			second := make(chan result, 1)
			go reverse(second, 20_00)
			select {
			case r := <-second:
				if r.err != nil || r.code != msg.AuthRevDuplicateRequest {
					t.Errorf("second reversal: %v, %v; want duplicateRequest", r.code, r.err)
				}
			case <-gate.entered:
				t.Error("a second reversal reached the issuer")
				open()
				<-second
			}
			if code, err := b.captureWith(b.mer, b.l.MerchantID, pu.TransIDs(), lab.USD(60_00), nil); err != nil || code == msg.CapSuccess {
				t.Errorf("capture during a reversal: %v, %v", code, err)
			}
			open()
			if r := <-first; r.err != nil || r.code != msg.AuthRevSuccess {
				t.Fatalf("first reversal: %v, %v", r.code, r.err)
			}
			b.funds(0, 0)
			if a := b.authorization(xid); a.State != "reversed" || a.Amount != 0 {
				t.Fatalf("recorded %+v", a)
			}
		})
	}
}
