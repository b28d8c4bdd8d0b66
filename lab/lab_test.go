package lab

import (
	"context"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

func suites(t testing.TB) []suite.Suite {
	t.Helper()
	// set1 with 2048-bit RSA: a PANData does not fit SET's OAEP block
	// under a 1024-bit key.
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

func newLab(t testing.TB, st suite.Suite, cardholders int) *Lab {
	t.Helper()
	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	l, err := New(Options{Suite: st, Cardholders: cardholders, MerchantStore: ms, GatewayStore: gs, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPurchase runs the whole purchase — PInit, PReq with authorization,
// PRes, capture — between the cores wired directly, in each suite.
func TestPurchase(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			l := newLab(t, st, 1)
			offer, err := l.Merchant.Checkout(ctx, "1 × The Art of Computer Programming, vol. 1", USD(4999))
			if err != nil {
				t.Fatal(err)
			}
			p, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
			if err != nil {
				t.Fatalf("Pay: %v", err)
			}
			if res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("completion = %v", res.Completion)
			}
			if st.ID() == suite.Set1 {
				if res.Gateway != nil {
					t.Error("set1 PRes carries a gateway proof; set1 stays faithful to 1997")
				}
			} else if res.Gateway == nil || res.Gateway.AuthCode != msg.AuthApproved || res.Gateway.Amount != USD(4999) {
				t.Fatalf("gateway proof = %+v", res.Gateway)
			}
			xid := p.TransIDs().XID
			o, err := l.Merchant.Orders(ctx, 1)
			if err != nil || len(o) != 1 || o[0].State != store.StateAuthorized {
				t.Fatalf("order after PRes = %+v, %v", o, err)
			}
			code, err := l.Merchant.Capture(ctx, xid)
			if err != nil || code != msg.CapSuccess {
				t.Fatalf("Capture = %v, %v", code, err)
			}
			if code, err := l.Merchant.Capture(ctx, xid); err == nil {
				t.Fatalf("second capture of one order accepted (code %v)", code)
			}
			a, err := l.opts.GatewayStore.Authorization(ctx, store.XID(xid))
			if err != nil || a.State != "captured" || a.Captured != 4999 {
				t.Fatalf("gateway record = %+v, %v", a, err)
			}
		})
	}
}

// TestDecline: an amount over the account's limit is declined by the
// built-in issuer rule, and the cardholder learns it from both parties.
func TestDecline(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			l := newLab(t, st, 1)
			offer, err := l.Merchant.Checkout(ctx, "a yacht", USD(10001))
			if err != nil {
				t.Fatal(err)
			}
			_, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
			if err != nil {
				t.Fatalf("Pay: %v", err)
			}
			if res.Completion != msg.OrderRejected {
				t.Fatalf("completion = %v, want orderRejected", res.Completion)
			}
			if st.ID() != suite.Set1 && (res.Gateway == nil || res.Gateway.AuthCode != msg.AuthDeclined) {
				t.Fatalf("gateway proof = %+v", res.Gateway)
			}
		})
	}
}

// TestReplayedAuthReq: the gateway refuses an AuthReq it has already
// answered (deviation 3), with messageTooOld, and records nothing new.
func TestReplayedAuthReq(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			var captured []byte
			l := newLab(t, st, 1)
			// Re-wire the merchant's gateway link to keep a copy of the AuthReq.
			tap := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
				if w, err := msg.UnmarshalMessageWrapper(req); err == nil {
					if _, ok := w.Message.(*msg.AuthReq); ok {
						captured = append([]byte(nil), req...)
					}
				}
				return l.Gateway.Serve(ctx, req)
			})
			l.setGatewayRT(tap)
			offer, _ := l.Merchant.Checkout(ctx, "tea", USD(350))
			if _, _, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer)); err != nil {
				t.Fatal(err)
			}
			if captured == nil {
				t.Fatal("no AuthReq seen")
			}
			resp, err := l.Gateway.Serve(ctx, captured)
			if err != nil {
				t.Fatal(err)
			}
			w, err := msg.UnmarshalMessageWrapper(resp)
			if err != nil {
				t.Fatal(err)
			}
			em, ok := w.Message.(*msg.Error)
			if !ok {
				t.Fatalf("replayed AuthReq answered with %s", w.Message.Name())
			}
			tbs, err := wire.ErrorTBS(em)
			if err != nil {
				t.Fatal(err)
			}
			if tbs.ErrorCode != msg.MessageTooOld {
				t.Fatalf("replay answered with %v, want messageTooOld", tbs.ErrorCode)
			}
		})
	}
}
