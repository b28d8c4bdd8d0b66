package gateway_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// Issuer behaviours of adjustLost.
const (
	adjustPass   = iota // ask the issuer, pass the answer on
	adjustLose          // ask the issuer, lose the answer
	adjustDrop          // lose the request: the issuer never hears of it
	adjustRefuse        // the issuer refuses: amountError, nothing moves
)

// adjustLost stands between the gateway and the bank for reversals and
// credits, with the behaviour in mode; captures and authorizations pass.
type adjustLost struct {
	gateway.Issuer
	mode atomic.Int32
}

func (a *adjustLost) ReverseAuthorization(ctx context.Context, req gateway.AdjustRequest) (msg.AuthRevCode, error) {
	switch a.mode.Load() {
	case adjustDrop:
		return 0, errors.New("timeout")
	case adjustRefuse:
		return msg.AuthRevAmountError, nil
	}
	code, err := a.Issuer.ReverseAuthorization(ctx, req)
	if a.mode.Load() == adjustLose {
		return 0, errors.New("timeout")
	}
	return code, err
}

func (a *adjustLost) adjust(ctx context.Context, req gateway.AdjustRequest, f func(context.Context, gateway.AdjustRequest) (msg.CapRevOrCredCode, error)) (msg.CapRevOrCredCode, error) {
	switch a.mode.Load() {
	case adjustDrop:
		return 0, errors.New("timeout")
	case adjustRefuse:
		return msg.CapRevOrCredAmountError, nil
	}
	code, err := f(ctx, req)
	if a.mode.Load() == adjustLose {
		return 0, errors.New("timeout")
	}
	return code, err
}

func (a *adjustLost) ReverseCapture(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	return a.adjust(ctx, req, a.Issuer.ReverseCapture)
}

func (a *adjustLost) Credit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	return a.adjust(ctx, req, a.Issuer.Credit)
}

func (a *adjustLost) ReverseCredit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	return a.adjust(ctx, req, a.Issuer.ReverseCredit)
}

// newAdjustWorld is a bank world whose reversals and credits pass through
// an adjustLost, with one purchase of 25.00 authorized (and captured, if
// capture).
func newAdjustWorld(t *testing.T, st suite.Suite, capture bool) (*bankWorld, *adjustLost, msg.XID) {
	t.Helper()
	lossy := &adjustLost{}
	b := newBankWorld(t, func(issuer gateway.Issuer) *world {
		lossy.Issuer = issuer
		return newWorldWith(t, st, 1, lossy)
	})
	pu, res, err := b.pay(0, "a lamp", 25_00)
	if err != nil || res.Completion != msg.AuthorizationAccepted {
		t.Fatalf("purchase: %v, %v", res, err)
	}
	xid := pu.TransIDs().XID
	if capture {
		if code, err := b.l.Merchant.Capture(context.Background(), xid); err != nil || code != msg.CapSuccess {
			t.Fatalf("capture: %v, %v", code, err)
		}
		b.funds(0, -25_00)
	} else {
		b.funds(25_00, 0)
	}
	return b, lossy, xid
}

// nothingLeft fails unless every claim of b's gateway is settled.
func nothingLeft(t *testing.T, b *bankWorld) {
	t.Helper()
	if r, err := b.l.Gateway.Reconcile(context.Background()); err != nil || r != (gateway.ReconcileResult{}) {
		t.Fatalf("claims left to reconcile: %+v, %v", r, err)
	}
}

// TestDuplicateAuthRevReqReconciles: an authorization reversal whose
// answer was lost leaves the authorization reversing; one asked again at
// once is a duplicate, one after ReconcileAfter has the claim reconciled
// first and is answered success — the hold released once.
func TestDuplicateAuthRevReqReconciles(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			b, lossy, xid := newAdjustWorld(t, st, false)
			lossy.mode.Store(adjustLose)
			if code, err := b.l.Merchant.ReverseAuthorization(ctx, xid, lab.USD(0)); err != nil || code != msg.AuthRevUnspecifiedFailure {
				t.Fatalf("reversal, answer lost: %v, %v", code, err)
			}
			b.funds(0, 0)
			lossy.mode.Store(adjustPass)
			if code, err := b.l.Merchant.ReverseAuthorization(ctx, xid, lab.USD(0)); err != nil || code != msg.AuthRevDuplicateRequest {
				t.Fatalf("reversal again at once: %v, %v", code, err)
			}
			if a := b.authorization(xid); a.State != "reversing" {
				t.Fatalf("after the duplicate: %+v", a)
			}
			b.clock.Set(b.t0.Add(2 * time.Minute))
			if code, err := b.l.Merchant.ReverseAuthorization(ctx, xid, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("reversal after ReconcileAfter: %v, %v", code, err)
			}
			if a := b.authorization(xid); a.State != "reversed" || a.Amount != 0 {
				t.Fatalf("reconciled: %+v", a)
			}
			b.funds(0, 0)
			nothingLeft(t, b)
		})
	}
}

// TestDuplicateCapRevReqReconciles: the same for a capture reversal.
func TestDuplicateCapRevReqReconciles(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			b, lossy, xid := newAdjustWorld(t, st, true)
			lossy.mode.Store(adjustLose)
			if code, err := b.l.Merchant.ReverseCapture(ctx, xid); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
				t.Fatalf("capture reversal, answer lost: %v, %v", code, err)
			}
			b.funds(0, 0)
			lossy.mode.Store(adjustPass)
			if code, err := b.l.Merchant.ReverseCapture(ctx, xid); err != nil || code != msg.CapRevOrCredDuplicateRequest {
				t.Fatalf("capture reversal again at once: %v, %v", code, err)
			}
			b.clock.Set(b.t0.Add(2 * time.Minute))
			if code, err := b.l.Merchant.ReverseCapture(ctx, xid); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("capture reversal after ReconcileAfter: %v, %v", code, err)
			}
			if a := b.authorization(xid); a.State != "capture-reversed" {
				t.Fatalf("reconciled: %+v", a)
			}
			b.funds(0, 0)
			nothingLeft(t, b)
		})
	}
}

// TestDuplicateCredReqAndCredRevReqReconcile: a credit whose answer was
// lost blocks a credit reversal (unspecifiedFailure: ask again) until it
// is settled; asked again it is a duplicate, then reconciled to success,
// the money credited once. A credit reversal whose answer was lost goes
// the same way.
func TestDuplicateCredReqAndCredRevReqReconcile(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			b, lossy, xid := newAdjustWorld(t, st, true)
			lossy.mode.Store(adjustLose)
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
				t.Fatalf("credit, answer lost: %v, %v", code, err)
			}
			b.funds(0, -15_00)
			lossy.mode.Store(adjustPass)
			if code, err := b.l.Merchant.ReverseCredit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
				t.Fatalf("credit reversal while the credit is unknown: %v, %v; want unspecifiedFailure", code, err)
			}
			b.funds(0, -15_00)
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredDuplicateRequest {
				t.Fatalf("credit again at once: %v, %v", code, err)
			}
			b.clock.Set(b.t0.Add(2 * time.Minute))
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit after ReconcileAfter: %v, %v", code, err)
			}
			b.funds(0, -15_00)
			nothingLeft(t, b)

			lossy.mode.Store(adjustLose)
			if code, err := b.l.Merchant.ReverseCredit(ctx, xid, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
				t.Fatalf("credit reversal, answer lost: %v, %v", code, err)
			}
			b.funds(0, -19_00)
			lossy.mode.Store(adjustPass)
			if code, err := b.l.Merchant.ReverseCredit(ctx, xid, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredDuplicateRequest {
				t.Fatalf("credit reversal again at once: %v, %v", code, err)
			}
			b.clock.Set(b.t0.Add(4 * time.Minute))
			if code, err := b.l.Merchant.ReverseCredit(ctx, xid, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit reversal after ReconcileAfter: %v, %v", code, err)
			}
			b.funds(0, -19_00)
			nothingLeft(t, b)
			// 6.00 stays credited: no more than 19.00 can be credited now.
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(19_01)); err != nil || code != msg.CapRevOrCredAmountError {
				t.Fatalf("credit above what is left: %v, %v", code, err)
			}
		})
	}
}

// TestCredRevReqAgainstRefusedCredit: a credit the issuer never heard of
// holds a credit reversal off ("ask again"), moving nothing; once
// reconciliation finds the credit refused, the reversal has nothing to
// take back, and the credit counter is where it started — a full credit
// goes through, one cent more does not.
func TestCredRevReqAgainstRefusedCredit(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			b, lossy, xid := newAdjustWorld(t, st, true)
			lossy.mode.Store(adjustDrop)
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
				t.Fatalf("credit, no answer: %v, %v", code, err)
			}
			lossy.mode.Store(adjustPass)
			for range 2 {
				if code, err := b.l.Merchant.ReverseCredit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredUnspecifiedFailure {
					t.Fatalf("credit reversal while the credit is unknown: %v, %v; want unspecifiedFailure", code, err)
				}
				b.funds(0, -25_00)
			}
			lossy.mode.Store(adjustRefuse)
			b.clock.Set(b.t0.Add(2 * time.Minute))
			if code, err := b.l.Merchant.ReverseCredit(ctx, xid, lab.USD(10_00)); err != nil || code != msg.CapRevOrCredOriginalNotFound {
				t.Fatalf("credit reversal after the credit was refused: %v, %v; want originalNotFound", code, err)
			}
			b.funds(0, -25_00)
			nothingLeft(t, b)
			lossy.mode.Store(adjustPass)
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(25_01)); err != nil || code != msg.CapRevOrCredAmountError {
				t.Fatalf("credit above the capture: %v, %v", code, err)
			}
			if code, err := b.l.Merchant.Credit(ctx, xid, lab.USD(25_00)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit of the whole capture: %v, %v", code, err)
			}
			b.funds(0, 0)
		})
	}
}
