package merchant_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// newLab is a whole ecosystem: the lab's own merchant talks to the lab's
// own gateway through its Serve, so requests cross the SET envelope.
// limit is the gateway's per-account spending limit in cents.
func newLab(t testing.TB, st suite.Suite, limit int64) *lab.Lab {
	t.Helper()
	open := func() *sqlite.DB {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	l, err := lab.New(lab.Options{Suite: st, Limit: limit, MerchantStore: open(), GatewayStore: open(), MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func checkout(t testing.TB, l *lab.Lab, cents int64) wallet.Offer {
	t.Helper()
	o, err := l.Merchant.Checkout(context.Background(), "a book", lab.USD(cents))
	if err != nil {
		t.Fatal(err)
	}
	return lab.OfferFor(o)
}

func wantInquiry(t testing.TB, p *wallet.Purchase, rt wire.RoundTripper, want msg.CompletionCode, proof msg.AuthCode, modern bool) {
	t.Helper()
	res, err := p.Inquire(context.Background(), rt)
	if err != nil {
		t.Fatalf("inquiry: %v", err)
	}
	if res.Completion != want {
		t.Fatalf("inquiry reports %v, want %v", res.Completion, want)
	}
	switch {
	case !modern && res.Gateway != nil:
		t.Fatal("set1 inquiry carries a gateway proof")
	case modern && proof < 0 && res.Gateway != nil:
		t.Fatalf("inquiry carries a gateway proof (%v) the merchant cannot have", res.Gateway.AuthCode)
	case modern && proof >= 0 && (res.Gateway == nil || res.Gateway.AuthCode != proof):
		t.Fatalf("inquiry proof %+v, want the gateway's signed %v", res.Gateway, proof)
	}
}

func TestInquiry(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			modern := st.ID() != suite.Set1
			l := newLab(t, st, 10000)
			rt := wire.ServeFunc(l.Merchant.Serve)
			const none = msg.AuthCode(-1)

			// After PInitRes, before PReq: the order is not yet received.
			wo := checkout(t, l, 1500)
			p, initReq, err := l.Wallets[0].Start(wo)
			if err != nil {
				t.Fatal(err)
			}
			initRes, err := l.Merchant.HandlePInitReq(ctx, initReq)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.HandlePInitRes(initRes); err != nil {
				t.Fatal(err)
			}
			wantInquiry(t, p, rt, msg.OrderNotReceived, none, modern)

			// After PRes: authorized, with the gateway's word.
			p, res, err := l.Wallets[0].Pay(ctx, rt, checkout(t, l, 2500))
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v %+v", err, res)
			}
			wantInquiry(t, p, rt, msg.AuthorizationAccepted, msg.AuthApproved, modern)

			// After capture.
			code, err := l.Merchant.Capture(ctx, p.TransIDs().XID)
			if err != nil || code != msg.CapSuccess {
				t.Fatalf("capture: %v %v", code, err)
			}
			wantInquiry(t, p, rt, msg.CapturePerformed, msg.AuthApproved, modern)

			// After a credit: the approval would contradict the code, so
			// no gateway proof comes with it.
			if code, err := l.Merchant.Credit(ctx, p.TransIDs().XID, lab.USD(500)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit: %v %v", code, err)
			}
			wantInquiry(t, p, rt, msg.CreditPerformed, none, modern)

			// Declined: over the limit; the gateway's signed decline is shown.
			p, res, err = l.Wallets[0].Pay(ctx, rt, checkout(t, l, 9000))
			if err != nil || res.Completion != msg.OrderRejected {
				t.Fatalf("over-limit purchase: %v %+v", err, res)
			}
			in, req, err := p.StartInquiry()
			if err != nil {
				t.Fatal(err)
			}
			ans, err := l.Merchant.HandleInqReq(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			ires, err := in.HandleInqRes(ans)
			if err != nil {
				t.Fatal(err)
			}
			if ires.Completion != msg.OrderRejected || (modern && (ires.Gateway == nil || ires.Gateway.AuthCode == msg.AuthApproved)) {
				t.Fatalf("declined order reported as %v, proof %+v", ires.Completion, ires.Gateway)
			}

			// An answer to another inquiry (another chall-C2) is refused.
			in1, req1, _ := p.StartInquiry()
			_, req2, _ := p.StartInquiry()
			q := *req2.InqReqUnsigned
			q.RRPID = req1.InqReqUnsigned.RRPID
			ans, err = l.Merchant.HandleInqReq(ctx, &msg.InqReq{InqReqUnsigned: &q})
			if err != nil {
				t.Fatal(err)
			}
			_, err = in1.HandleInqRes(ans)
			wantCode(t, err, msg.ChallengeMismatch)
		})
	}
}

func TestInquiryRefusals(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			l := newLab(t, st, 10000)
			p, _, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), checkout(t, l, 1500))
			if err != nil {
				t.Fatal(err)
			}
			_, req, err := p.StartInquiry()
			if err != nil {
				t.Fatal(err)
			}
			good := *req.InqReqUnsigned
			ask := func(mutate func(*msg.InqReqData)) error {
				d := good
				mutate(&d)
				_, err := l.Merchant.HandleInqReq(ctx, &msg.InqReq{InqReqUnsigned: &d})
				return err
			}
			wantCode(t, ask(func(d *msg.InqReqData) { rand.Read(d.TransIDs.XID[:]) }), msg.UnknownXID)
			// The right XID with another LID-C: whoever asks must know the
			// whole transaction, not only its XID.
			wantCode(t, ask(func(d *msg.InqReqData) { d.TransIDs.LIDC = []byte("someone else") }), msg.UnknownXID)
			if err := ask(func(*msg.InqReqData) {}); err != nil {
				t.Fatalf("honest inquiry refused: %v", err)
			}
			_, err = l.Merchant.HandleInqReq(ctx, &msg.InqReq{InqReqSigned: []byte{0x30, 0}})
			wantCode(t, err, msg.MessageNotSupported)

			// Through Serve, the refusal is a SET Error with the code.
			bad := good
			rand.Read(bad.TransIDs.XID[:])
			ep := &wire.Endpoint{Suite: st}
			_, err = ep.Call(ctx, wire.ServeFunc(l.Merchant.Serve), "merchant", nil, &bad.RRPID, &msg.InqReq{InqReqUnsigned: &bad})
			wantCode(t, err, msg.UnknownXID)
		})
	}
}
