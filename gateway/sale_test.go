package gateway_test

import (
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
)

// sell sends pu's AuthReq, with captureNow as given, signed by our
// merchant credential, and returns the gateway's answer.
func (w *world) sell(pu *purchase, captureNow bool) *msg.AuthResPayload {
	w.t.Helper()
	data := w.honestData(pu)
	data.CaptureNow = captureNow
	res, err := w.l.Gateway.HandleAuthReq(w.ctx, w.seal(w.mer, data, w.hPI(pu.pi()), pu.pi()))
	if err != nil {
		w.t.Fatalf("HandleAuthReq: %v", err)
	}
	w.noteCapToken(&data, res)
	content := w.fromGateway(res.AuthResTBE, msg.OIDAuthResTBS, msg.OIDAuthResTBE)
	tbs, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		w.t.Fatal(err)
	}
	return &tbs.AuthResData.AuthResPayload
}

// TestSale: an AuthReq with captureNow is a sale. Approved, the gateway
// records the authorization captured, answers with the capture's outcome
// and refuses a later CapReq as a duplicate; the built-in issuer counts
// the spending once. Declined, nothing is captured or spent. Without
// captureNow the answer carries no capture.
func TestSale(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			pan := w.l.Cards[0].PAN

			pu := w.startPurchase(0, "an e-book", 12_99)
			xid := pu.oi().TransIDs.XID
			p := w.sell(pu, true)
			if p.AuthHeader.AuthCode != msg.AuthApproved {
				t.Fatalf("sale: %v", p.AuthHeader.AuthCode)
			}
			if c := p.CapResPayload; c == nil || c.CapCode != msg.CapSuccess || c.CapAmt != lab.USD(12_99) {
				t.Fatalf("sale answered capture %+v, want success for 12.99", c)
			}
			if a := w.authorization(xid); a == nil || a.State != "captured" || a.Captured != 12_99 {
				t.Fatalf("sale recorded as %+v", a)
			}
			if got := w.spent(pan); got != 12_99 {
				t.Fatalf("spent %d after the sale, want 1299", got)
			}
			code, err := w.captureWith(w.mer, w.l.MerchantID, pu.oi().TransIDs, lab.USD(12_99), nil)
			if err != nil || code != msg.CapDuplicateRequest {
				t.Fatalf("CapReq after a sale = %v, %v; want capDuplicateRequest", code, err)
			}
			if a := w.authorization(xid); a.Captured != 12_99 || w.spent(pan) != 12_99 {
				t.Fatalf("refused CapReq changed the record: %+v, spent %d", a, w.spent(pan))
			}

			// Over the limit: declined, no capture, nothing spent.
			pu = w.startPurchase(0, "a piano", limit)
			p = w.sell(pu, true)
			if p.AuthHeader.AuthCode != msg.AuthDeclined || p.CapResPayload != nil {
				t.Fatalf("sale over the limit: %v, capture %+v", p.AuthHeader.AuthCode, p.CapResPayload)
			}
			if a := w.authorization(pu.oi().TransIDs.XID); a == nil || a.State != "declined" || a.Captured != 0 {
				t.Fatalf("declined sale recorded as %+v", a)
			}
			if got := w.spent(pan); got != 12_99 {
				t.Fatalf("spent %d after a declined sale, want 1299", got)
			}

			// An authorization alone answers with no capture.
			pu = w.startPurchase(0, "a lamp", 9_00)
			p = w.sell(pu, false)
			if p.AuthHeader.AuthCode != msg.AuthApproved || p.CapResPayload != nil {
				t.Fatalf("authorization: %v, capture %+v", p.AuthHeader.AuthCode, p.CapResPayload)
			}
			if a := w.authorization(pu.oi().TransIDs.XID); a.State != "authorized" || a.Captured != 0 {
				t.Fatalf("authorization recorded as %+v", a)
			}
		})
	}
}
