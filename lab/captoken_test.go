package lab

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/wire"
)

// TestCapToken runs captures under the CapToken the gateway hands out with
// each approval, through a real issuer host, in each suite: the merchant
// keeps the token with the order and sends it back; a token of another
// purchase and a tampered token are refused with invalidCapToken, and
// nothing moves at the bank or in the gateway's records; the genuine token
// captures.
func TestCapToken(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			bk := newBankHost(t)
			client := iso8583.NewClient(bk.addr, iso8583.ClientConfig{Timeout: 2 * time.Second, Attempts: 3, Log: slog.New(slog.DiscardHandler)})
			t.Cleanup(func() { client.Close() })
			ms := sqlitetest.Memory(t)
			gs := sqlitetest.Memory(t)
			l, err := New(Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gs,
				Issuer: banklink.New(client, banklink.Config{AcquirerID: "4711"})})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bk.ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
				t.Fatal(err)
			}
			c := l.Cards[0]
			acct, err := bk.ledger.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: "cardholder", Currency: 840, Limit: 100_00})
			if err != nil {
				t.Fatal(err)
			}

			buy := func(amount int64) msg.XID {
				t.Helper()
				offer, err := l.Merchant.Checkout(ctx, "books", USD(amount))
				if err != nil {
					t.Fatal(err)
				}
				p, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
				if err != nil {
					t.Fatalf("Pay: %v", err)
				}
				if res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase: %v", res.Completion)
				}
				return p.TransIDs().XID
			}
			setToken := func(xid msg.XID, token []byte) {
				t.Helper()
				if _, err := ms.UpdateOrder(ctx, store.XID(xid), func(o *store.Order) error { o.CapToken = token; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			// unchanged checks that a refused capture moved nothing: the
			// bank holds both authorizations, has debited nothing, and the
			// gateway's record of a is still an uncaptured authorization.
			unchanged := func(a msg.XID, what string) {
				t.Helper()
				if f := bk.funds(acct); f.Held != 12_34+5_00 || f.Balance != 0 {
					t.Fatalf("%s moved money at the bank: %+v", what, f)
				}
				bk.audit()
				auth, err := gs.Authorization(ctx, store.XID(a))
				if err != nil {
					t.Fatal(err)
				}
				if auth.State != "authorized" || auth.Captured != 0 {
					t.Fatalf("%s changed the gateway's record: %s, captured %d", what, auth.State, auth.Captured)
				}
				o, err := ms.Order(ctx, store.XID(a))
				if err != nil {
					t.Fatal(err)
				}
				if o.State != store.StateAuthorized || o.CaptureAmount != 0 {
					t.Fatalf("%s changed the merchant's order: %s, captured %d", what, o.State, o.CaptureAmount)
				}
			}

			a, b := buy(12_34), buy(5_00)
			oa, err := ms.Order(ctx, store.XID(a))
			if err != nil {
				t.Fatal(err)
			}
			ob, err := ms.Order(ctx, store.XID(b))
			if err != nil {
				t.Fatal(err)
			}
			if oa.CapToken == nil || ob.CapToken == nil || bytes.Equal(oa.CapToken, ob.CapToken) {
				t.Fatalf("orders do not each hold their own CapToken (%d, %d bytes)", len(oa.CapToken), len(ob.CapToken))
			}
			genuine := oa.CapToken

			// The token of another purchase of the same merchant.
			setToken(a, ob.CapToken)
			if code, err := l.Merchant.Capture(ctx, a); err != nil || code != msg.CapInvalidCapToken {
				t.Fatalf("capture under another purchase's token = %v, %v; want invalidCapToken", code, err)
			}
			unchanged(a, "a capture under another purchase's token")

			// A tampered token: its last byte is inside the ciphertext.
			tampered := bytes.Clone(genuine)
			tampered[len(tampered)-1] ^= 0x01
			setToken(a, tampered)
			if code, err := l.Merchant.Capture(ctx, a); err != nil || code != msg.CapInvalidCapToken {
				t.Fatalf("capture under a tampered token = %v, %v; want invalidCapToken", code, err)
			}
			unchanged(a, "a capture under a tampered token")

			// The genuine token captures.
			setToken(a, genuine)
			if code, err := l.Merchant.Capture(ctx, a); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture under its own token = %v, %v", code, err)
			}
			if f := bk.funds(acct); f.Held != 5_00 || f.Balance != -12_34 {
				t.Fatalf("after the capture: %+v", f)
			}
			o, err := ms.Order(ctx, store.XID(a))
			if err != nil {
				t.Fatal(err)
			}
			if o.State != store.StateCaptured || o.CaptureAmount != 12_34 {
				t.Fatalf("order after the capture: %s, captured %d", o.State, o.CaptureAmount)
			}
		})
	}
}
