package banklink_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// lossyIssuer passes every request to the issuer and, while lose is set,
// throws away the answer to captures, authorization reversals and credits
// of either kind: the money has moved at the issuer, the gateway hears
// nothing — a timeout after posting, or a crash before the gateway could
// record the answer.
type lossyIssuer struct {
	gateway.Issuer
	lose atomic.Bool
}

var errLost = errors.New("answer lost")

func (l *lossyIssuer) lost() error {
	if l.lose.Load() {
		return errLost
	}
	return nil
}

func (l *lossyIssuer) Capture(ctx context.Context, req gateway.CaptureRequest) (msg.CapCode, error) {
	code, err := l.Issuer.Capture(ctx, req)
	return code, errors.Join(err, l.lost())
}

func (l *lossyIssuer) ReverseAuthorization(ctx context.Context, req gateway.AdjustRequest) (msg.AuthRevCode, error) {
	code, err := l.Issuer.ReverseAuthorization(ctx, req)
	return code, errors.Join(err, l.lost())
}

func (l *lossyIssuer) Credit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	code, err := l.Issuer.Credit(ctx, req)
	return code, errors.Join(err, l.lost())
}

func (l *lossyIssuer) ReverseCredit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	code, err := l.Issuer.ReverseCredit(ctx, req)
	return code, errors.Join(err, l.lost())
}

// TestReconcileAfterCrash: a capture, an authorization reversal, a credit
// and a credit reversal each reach the issuer and move money, but the
// gateway never hears the answer; then the gateway stops. A new gateway
// and link over the same database file reconcile: each movement is asked
// again under its message identity, the issuer answers from its records,
// and the gateway records every one — captured, reversed, batched — with
// the bank's ledger balanced and every amount posted exactly once.
func TestReconcileAfterCrash(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { reconcileAfterCrash(t, st) })
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func reconcileAfterCrash(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	lossy := &lossyIssuer{}
	r := newRestartLab(t, st, clk.Now, func(link gateway.Issuer) gateway.Issuer {
		lossy.Issuer = link
		return lossy
	})
	l, want := r.Lab, r.want
	m := l.Merchant
	opened, err := m.Batch(ctx, msg.BatchOpOpen, nil)
	if err != nil || opened.Code != msg.BatchAdminSuccess || opened.ID == nil {
		t.Fatalf("open batch: %+v, %v", opened, err)
	}
	buy := func(amount int64) msg.XID {
		t.Helper()
		offer, err := m.Checkout(ctx, "books", lab.USD(amount))
		if err != nil {
			t.Fatal(err)
		}
		p, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(m.Serve), lab.OfferFor(offer))
		if err != nil || res.Completion != msg.AuthorizationAccepted {
			t.Fatalf("Pay: %v, %v", res, err)
		}
		return p.TransIDs().XID
	}
	state := func(xid msg.XID) *store.Authorization {
		t.Helper()
		a, err := r.gs.Authorization(ctx, store.XID(xid))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	toCapture, toReverse, toCredit := buy(30_00), buy(20_00), buy(10_00)
	if code, err := m.Capture(ctx, toCredit); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture: %v, %v", code, err)
	}
	want("authorized", 50_00, -10_00)

	lossy.lose.Store(true)
	if code, err := m.Capture(ctx, toCapture); err != nil || code != msg.CapUnspecifiedFailure {
		t.Fatalf("capture, answer lost: %v, %v", code, err)
	}
	if code, err := m.ReverseAuthorization(ctx, toReverse, lab.USD(5_00)); err != nil || code != msg.AuthRevUnspecifiedFailure {
		t.Fatalf("reversal, answer lost: %v, %v", code, err)
	}
	if code, err := m.Credit(ctx, toCredit, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
		t.Fatalf("credit, answer lost: %v, %v", code, err)
	}
	// At the bank everything moved: 30 captured, 15 of 20 released, 4 credited.
	want("answers lost", 5_00, -36_00)
	if a := state(toCapture); a.State != "capturing" {
		t.Fatalf("capture with its answer lost: %+v", a)
	}

	// The crash: the gateway and its link go; new ones open the file.
	r.restart()
	// Too young to be asked about again: their requests may be waiting.
	if res, err := l.Gateway.Reconcile(ctx); err != nil || res.Settled != 0 || res.Pending != 3 {
		t.Fatalf("early reconcile: %+v, %v", res, err)
	}
	clk.Add(2 * time.Minute)
	if res, err := l.Gateway.Reconcile(ctx); err != nil || res.Settled != 3 || res.Pending != 0 {
		t.Fatalf("reconcile: %+v, %v", res, err)
	}
	want("reconciled", 5_00, -36_00) // nothing moved twice
	if a := state(toCapture); a.State != "captured" || a.Captured != 30_00 {
		t.Fatalf("reconciled capture: %+v", a)
	}
	if a := state(toReverse); a.State != "authorized" || a.Amount != 5_00 {
		t.Fatalf("reconciled reversal: %+v", a)
	}
	if res, err := l.Gateway.Reconcile(ctx); err != nil || res != (gateway.ReconcileResult{}) {
		t.Fatalf("reconcile with nothing left: %+v, %v", res, err)
	}
	s, err := m.Batch(ctx, msg.BatchOpStatus, opened.ID)
	if err != nil || s.Status == nil {
		t.Fatalf("status: %+v, %v", s, err)
	}
	if b := s.Status; b.CaptureCount != 2 || b.CaptureTotal != lab.USD(40_00) || b.CreditCount != 1 || b.CreditTotal != lab.USD(4_00) {
		t.Fatalf("batch %+v; want captures 2 / 40.00, credits 1 / 4.00", b)
	}

	// A credit reversal whose answer is lost, reconciled by a gateway
	// that did not stop.
	lossy2 := &lossyIssuer{Issuer: r.link}
	lossy2.lose.Store(true)
	if err := l.RestartGateway(r.gs, lossy2); err != nil {
		t.Fatal(err)
	}
	if code, err := m.ReverseCredit(ctx, toCredit, lab.USD(1_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
		t.Fatalf("credit reversal, answer lost: %v, %v", code, err)
	}
	want("credit reversal", 5_00, -37_00)
	clk.Add(2 * time.Minute)
	// Still no answer: the claim stays, and asking moved nothing again.
	if res, err := l.Gateway.Reconcile(ctx); err != nil || res.Settled != 0 || res.Pending != 1 {
		t.Fatalf("reconcile, answer lost again: %+v, %v", res, err)
	}
	want("credit reversal asked again", 5_00, -37_00)
	lossy2.lose.Store(false)
	if res, err := l.Gateway.Reconcile(ctx); err != nil || res.Settled != 1 {
		t.Fatalf("reconcile: %+v, %v", res, err)
	}
	want("credit reversal reconciled", 5_00, -37_00)
	s, err = m.Batch(ctx, msg.BatchOpStatus, opened.ID)
	if err != nil || s.Status == nil {
		t.Fatalf("status: %+v, %v", s, err)
	}
	if b := s.Status; b.CaptureCount != 3 || b.CaptureTotal != lab.USD(41_00) || b.CreditTotal != lab.USD(4_00) {
		t.Fatalf("batch %+v; want captures 3 / 41.00", b)
	}
}
