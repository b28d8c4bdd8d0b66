package labnet_test

import (
	"bytes"
	"testing"

	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/lab/labnet"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wallet"
)

// TestAccountTokenFlows pays a split shipment and an instalment plan from
// a bank account over the wire: the first authorization brings the
// merchant an AuthToken sealed around the account (an AcctToken, never
// readable by the merchant), and each later authorization under it goes
// to the bank by account — DE 102, no PAN — and is captured on its own.
func TestAccountTokenFlows(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := newTokenWorld(t, id)
			i, iban, account, err := w.n.AddAccountHolder(w.ctx, accountOpening)
			if err != nil {
				t.Fatal(err)
			}
			h := &holder{iban: iban, wallet: i, account: account, balance: accountOpening}
			pay := func(t *testing.T, wo wallet.Offer) msg.XID {
				t.Helper()
				p, res, err := w.n.Lab.Wallets[h.wallet].Pay(w.ctx, w.n.Link(labnet.Merchant), wo)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("Pay from the account: %v, %v", res, err)
				}
				return p.TransIDs().XID
			}
			capture := func(t *testing.T, xid msg.XID, cents int64) {
				t.Helper()
				if code, err := w.n.Lab.Merchant.CaptureShipment(w.ctx, xid); err != nil || code != msg.CapSuccess {
					t.Fatalf("CaptureShipment: %v, %v", code, err)
				}
				h.balance -= cents
			}
			// later authorizes cents more of xid under its token and
			// checks the bank was asked by account.
			later := func(t *testing.T, xid msg.XID, cents int64) {
				t.Helper()
				o := w.order(t, xid)
				if o.AuthToken == nil {
					t.Fatal("the merchant holds no AuthToken for a purchase paid from an account")
				}
				if bytes.Contains(o.AuthToken, []byte(iban)) || bytes.Contains(o.AuthToken, []byte(iban[4:])) {
					t.Error("the merchant's AuthToken holds the IBAN in the clear")
				}
				w.n.BankRequests()
				code, err := w.n.Lab.Merchant.AuthorizeShipment(w.ctx, xid, cents)
				if err != nil || code != msg.AuthApproved {
					t.Fatalf("AuthorizeShipment(%d) = %v, %v", cents, code, err)
				}
				reqs := w.n.BankRequests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests to the bank for one later authorization", len(reqs))
				}
				m, err := iso8583.Unmarshal(reqs[0])
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := m.Get(102); got != iban {
					t.Errorf("the later authorization names account %q in DE 102, want the holder's IBAN", got)
				}
				if _, ok := m.Get(2); ok {
					t.Error("the later authorization from a bank account carries a PAN")
				}
				w.wantAccount(t, h, cents)
			}
			w.run(t, "split shipment", func(t *testing.T) {
				offer, err := w.n.Lab.Merchant.CheckoutSplit(w.ctx, "three volumes", lab.USD(60_00), 20_00)
				if err != nil {
					t.Fatal(err)
				}
				xid := pay(t, lab.OfferFor(offer))
				w.wantAccount(t, h, 20_00)
				capture(t, xid, 20_00)
				later(t, xid, 25_00)
				capture(t, xid, 25_00)
				later(t, xid, 15_00)
				capture(t, xid, 15_00)
				w.wantOrder(t, xid, 60_00, 60_00, false)
				w.wantAccount(t, h, 0)
				if code, err := w.n.Lab.Merchant.AuthorizeShipment(w.ctx, xid, 1); err == nil && code == msg.AuthApproved {
					t.Error("authorized beyond a complete purchase")
				}
				w.wantAccount(t, h, 0)
			})
			w.run(t, "instalments", func(t *testing.T) {
				offer, err := w.n.Lab.Merchant.Checkout(w.ctx, "a piano", lab.USD(40_00))
				if err != nil {
					t.Fatal(err)
				}
				wo := lab.OfferFor(offer)
				wo.Plan = wallet.InstalmentPlan(2)
				xid := pay(t, wo)
				capture(t, xid, 40_00)
				later(t, xid, 40_00)
				capture(t, xid, 40_00)
				w.wantOrder(t, xid, 80_00, 80_00, false)
				w.wantAccount(t, h, 0)
			})
		})
	}
}
