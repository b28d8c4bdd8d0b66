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
)

// answerLost lets captures through to the issuer and, while lose is set,
// loses the answer: the capture is posted, the gateway hears nothing.
type answerLost struct {
	gateway.Issuer
	lose atomic.Bool
}

func (a *answerLost) Capture(ctx context.Context, req gateway.CaptureRequest) (msg.CapCode, error) {
	code, err := a.Issuer.Capture(ctx, req)
	if a.lose.Load() {
		return 0, errors.New("timeout")
	}
	return code, err
}

// TestDuplicateCapReqReconciles: a capture posted at the issuer whose
// answer was lost leaves the authorization capturing. A CapReq for it
// soon after is a duplicate (the first may still be waiting for the
// issuer); one after ReconcileAfter has the claim reconciled first — the
// issuer, asked again under the same message identity, answers from its
// records — and is answered success, with the capture's batch entry, the
// money posted once.
func TestDuplicateCapReqReconciles(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			lossy := &answerLost{}
			b := newBankWorld(t, func(issuer gateway.Issuer) *world {
				lossy.Issuer = issuer
				return newWorldWith(t, st, 1, lossy)
			})
			opened, err := b.l.Merchant.Batch(ctx, msg.BatchOpOpen, nil)
			if err != nil || opened.Code != msg.BatchAdminSuccess {
				t.Fatalf("open: %+v, %v", opened, err)
			}
			pu, res, err := b.pay(0, "a chair", 25_00)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v, %v", res, err)
			}
			lossy.lose.Store(true)
			if code, err := b.captureWith(b.mer, b.l.MerchantID, pu.TransIDs(), lab.USD(25_00), nil); err != nil || code != msg.CapUnspecifiedFailure {
				t.Fatalf("capture, answer lost: %v, %v", code, err)
			}
			b.funds(0, -25_00)
			lossy.lose.Store(false)
			if code, err := b.captureWith(b.mer, b.l.MerchantID, pu.TransIDs(), lab.USD(25_00), nil); err != nil || code != msg.CapDuplicateRequest {
				t.Fatalf("capture again at once: %v, %v", code, err)
			}
			if a := b.authorization(pu.TransIDs().XID); a.State != "capturing" {
				t.Fatalf("after the duplicate: %+v", a)
			}
			b.clock.Set(b.t0.Add(2 * time.Minute))
			if code, err := b.captureWith(b.mer, b.l.MerchantID, pu.TransIDs(), lab.USD(25_00), nil); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture after ReconcileAfter: %v, %v", code, err)
			}
			b.funds(0, -25_00)
			if a := b.authorization(pu.TransIDs().XID); a.State != "captured" || a.Captured != 25_00 {
				t.Fatalf("reconciled: %+v", a)
			}
			if code, err := b.captureWith(b.mer, b.l.MerchantID, pu.TransIDs(), lab.USD(25_00), nil); err != nil || code != msg.CapDuplicateRequest {
				t.Fatalf("capture once more: %v, %v", code, err)
			}
			s, err := b.l.Merchant.Batch(ctx, msg.BatchOpStatus, opened.ID)
			if err != nil || s.Status == nil || s.Status.CaptureCount != 1 || s.Status.CaptureTotal != lab.USD(25_00) {
				t.Fatalf("batch: %+v, %v", s, err)
			}
			if r, err := b.l.Gateway.Reconcile(ctx); err != nil || r != (gateway.ReconcileResult{}) {
				t.Fatalf("nothing left to reconcile: %+v, %v", r, err)
			}
		})
	}
}
