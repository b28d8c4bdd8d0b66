package merchant_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/wire"
)

// TestReversalOrderStates runs each reversal and credit through a real
// gateway and checks the order the merchant keeps after each, and that an
// order in the wrong state is refused before anything is sent.
func TestReversalOrderStates(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms, err := sqlite.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			gs, err := sqlite.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ms.Close(); gs.Close() })
			quiet := slog.New(slog.DiscardHandler)
			l, err := lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gs, MerchantLog: quiet, GatewayLog: quiet})
			if err != nil {
				t.Fatal(err)
			}
			m := l.Merchant
			buy := func(cents int64) msg.XID {
				t.Helper()
				offer, err := m.Checkout(ctx, "tea", lab.USD(cents))
				if err != nil {
					t.Fatal(err)
				}
				p, _, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(m.Serve), lab.OfferFor(offer))
				if err != nil {
					t.Fatal(err)
				}
				return p.TransIDs().XID
			}
			order := func(xid msg.XID, state store.OrderState, authAmount int64) {
				t.Helper()
				o, err := ms.Order(ctx, store.XID(xid))
				if err != nil || o.State != state || o.AuthAmount != authAmount {
					t.Fatalf("order = %+v, %v; want %s with %d authorized", o, err, state, authAmount)
				}
			}

			xid := buy(900)
			if _, err := m.ReverseCapture(ctx, xid); err == nil {
				t.Fatal("capture reversal of an uncaptured order was sent")
			}
			if _, err := m.Credit(ctx, xid, lab.USD(100)); err == nil {
				t.Fatal("credit of an uncaptured order was sent")
			}
			if code, err := m.ReverseAuthorization(ctx, xid, lab.USD(400)); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("partial reversal: %v, %v", code, err)
			}
			order(xid, store.StateAuthorized, 400)
			if code, err := m.ReverseAuthorization(ctx, xid, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("full reversal: %v, %v", code, err)
			}
			order(xid, store.StateReversed, 0)
			if _, err := m.Capture(ctx, xid); err == nil {
				t.Fatal("capture of a reversed order was sent")
			}

			xid = buy(500)
			if code, err := m.Capture(ctx, xid); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture: %v, %v", code, err)
			}
			if code, err := m.Credit(ctx, xid, lab.USD(501)); err != nil || code != msg.CapRevOrCredAmountError {
				t.Fatalf("credit above the capture: %v, %v", code, err)
			}
			order(xid, store.StateCaptured, 500)
			if code, err := m.Credit(ctx, xid, lab.USD(200)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit: %v, %v", code, err)
			}
			order(xid, store.StateCredited, 500)
			if code, err := m.ReverseCredit(ctx, xid, lab.USD(200)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit reversal: %v, %v", code, err)
			}
			if code, err := m.ReverseCapture(ctx, xid); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("capture reversal: %v, %v", code, err)
			}
			order(xid, store.StateCaptureReversed, 500)
		})
	}
}
