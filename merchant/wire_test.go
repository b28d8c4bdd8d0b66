package merchant_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/wire"
)

// TestServeMangledPReq feeds the merchant's Serve every truncation and every
// byte-flip of a real PReq that never reached it. Each variant must be
// answered with a SET Error — never a PRes — and without a panic.
//
// Flips cover the inner message only (the bytes of MessageRaw): the
// MessageHeader is unsigned by SET's design, so tampering with it is out of
// scope.
//
// The merchant cannot check the PI's envelope (only the gateway can open
// it), so flips there are forwarded by design; the fake gateway stands in
// for the real one and refuses any PI that is not the cardholder's, and
// fails the test if the merchant forwards anything else it should have
// caught: a PI whose signature changed, or a request whose PI is intact
// (then the change was in the order information, which the merchant checks).
func TestServeMangledPReq(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			o := w.offer("a teapot", 1200)
			var held []byte
			tap := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
				if mw, err := msg.UnmarshalMessageWrapper(req); err == nil {
					if _, ok := mw.Message.(*msg.PReq); ok {
						held = append([]byte(nil), req...)
						return nil, errors.New("tap: PReq held back")
					}
				}
				return w.m.Serve(ctx, req)
			})
			if _, _, err := w.l.Wallets[0].Pay(w.ctx, tap, lab.OfferFor(o)); err == nil || held == nil {
				t.Fatalf("PReq not held: %v", err)
			}
			mw, err := msg.UnmarshalMessageWrapper(held)
			if err != nil {
				t.Fatal(err)
			}
			orig := mw.Message.(*msg.PReq).DualSigned.PIDualSigned
			forwarded := 0
			w.gw.set(nil, func(req *msg.AuthReq) error {
				pi := req.PI.PIDualSigned
				switch {
				case pi == nil:
					t.Error("merchant forwarded a PReq without a dual-signed PI")
				case !bytes.Equal(pi.PISignature, orig.PISignature):
					t.Error("merchant forwarded a PI whose dual signature was tampered with")
				case bytes.Equal(pi.EXPIData, orig.EXPIData):
					t.Error("merchant forwarded a PReq whose order information was tampered with")
				}
				forwarded++
				return msg.Errorf(msg.SignatureFailure, "fake gateway: not the cardholder's PI")
			})
			xid := msg.XID(o.LIDM)
			before := w.order(xid)
			answer := func(what string, i int, variant []byte) {
				t.Helper()
				n := w.gw.count()
				resp, err := w.m.Serve(w.ctx, variant)
				if err != nil {
					t.Fatalf("%s at %d: Serve: %v", what, i, err)
				}
				rw, err := msg.UnmarshalMessageWrapper(resp)
				if err != nil {
					t.Fatalf("%s at %d: response does not decode: %v", what, i, err)
				}
				if _, ok := rw.Message.(*msg.Error); !ok {
					t.Fatalf("%s at %d answered with %s", what, i, rw.Message.Name())
				}
				if w.gw.count() != n {
					// The failed authorization moved the order on; put it
					// back so the next variant meets the same state.
					if _, err := w.ms.UpdateOrder(w.ctx, store.XID(xid), func(o *store.Order) error {
						o.State, o.AuthRRPID = before.State, before.AuthRRPID
						return nil
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			for n := range len(held) {
				answer("truncation", n, held[:n])
			}
			inner := mw.MessageRaw()
			start := bytes.Index(held, inner)
			variant := append([]byte(nil), held...)
			for i := start; i < start+len(inner); i++ {
				variant[i] ^= 0xff
				answer("flip", i, variant)
				variant[i] = held[i]
			}
			t.Logf("%d truncations, %d flips, %d forwarded (PI envelope)", len(held), len(inner), forwarded)
			// Control: the original goes through.
			w.gw.set(nil, nil)
			resp, err := w.m.Serve(w.ctx, held)
			if err != nil {
				t.Fatal(err)
			}
			if rw, err := msg.UnmarshalMessageWrapper(resp); err != nil || rw.Message.Name() != "PRes" {
				t.Fatalf("original PReq answered with %v, %v", rw, err)
			}
		})
	}
}
