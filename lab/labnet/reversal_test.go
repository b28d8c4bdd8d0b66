package labnet_test

import (
	"testing"

	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/lab/labnet"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// TestSaleReversals reverses and credits sales (authorized and captured
// at once) over the wire, through to the bank: a sale's capture reversed,
// a sale credited and the credit reversed, each request replayed, and a
// reversal of a sale already reversed refused.
func TestSaleReversals(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := sharedWorld(t, id, true)
			gw := labnet.Gateway
			sell := func(t *testing.T, cents int64) msg.XID {
				_, xid := w.buy(t, cents)
				w.spent[0] += cents
				return xid
			}
			w.run(t, "sale reversed", func(t *testing.T) {
				xid := sell(t, 2500)
				w.n.Link(gw).Take()
				code, err := w.n.Lab.Merchant.ReverseCapture(w.ctx, xid)
				if err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReverseCapture of a sale: %v, %v", code, err)
				}
				w.spent[0] -= 2500
				w.replay(t, w.sent(t, gw, "CapRevReq"))
			})
			w.run(t, "sale credited, credit reversed", func(t *testing.T) {
				xid := sell(t, 3000)
				w.credit(t, xid, 1000)
				w.n.Link(gw).Take()
				w.reverseCredit(t, xid, 400)
				w.replay(t, w.sent(t, gw, "CredRevReq"))
				// What was credited and taken back can be credited again,
				// never more than the sale.
				w.credit(t, xid, 2400)
				w.mark(t)
				code, err := w.n.Lab.Merchant.Credit(w.ctx, xid, lab.USD(1))
				if err != nil || code != msg.CapRevOrCredAmountError {
					t.Errorf("credit beyond the sale: %v, %v; want %v", code, err, msg.CapRevOrCredAmountError)
				}
				w.unchanged(t, w.marked)
			})
			w.run(t, "repeated at the bank", func(t *testing.T) {
				// Every ISO 8583 request of a sale, its credit, the
				// credit's reversal and the sale's reversal, sent again
				// straight to the bank: answered as the original, posted
				// once.
				w.n.BankRequests()
				xid := sell(t, 2000)
				w.credit(t, xid, 500)
				w.reverseCredit(t, xid, 500)
				if code, err := w.n.Lab.Merchant.ReverseCapture(w.ctx, xid); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReverseCapture of a sale: %v, %v", code, err)
				}
				w.spent[0] -= 2000
				reqs := w.n.BankRequests()
				if len(reqs) < 4 {
					t.Fatalf("%d ISO 8583 requests for a sale, a credit and two reversals", len(reqs))
				}
				before := w.snapshot(t)
				for _, req := range reqs {
					m, err := iso8583.Unmarshal(req)
					if err != nil {
						t.Fatal(err)
					}
					resp, err := w.n.SendBank(w.ctx, req)
					if err != nil {
						t.Fatalf("repeating %s: %v", m.MTI, err)
					}
					r, err := iso8583.Unmarshal(resp)
					if err != nil {
						t.Fatal(err)
					}
					if r.ResponseCode() != iso8583.Approved {
						t.Errorf("repeated %s (STAN %s) answered %s %s, the original 00", m.MTI, m.STAN(), r.MTI, r.ResponseCode())
					}
				}
				w.unchanged(t, before)
			})
			w.run(t, "sale reversed twice", func(t *testing.T) {
				xid := sell(t, 1800)
				code, err := w.n.Lab.Merchant.ReverseCapture(w.ctx, xid)
				if err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReverseCapture of a sale: %v, %v", code, err)
				}
				w.spent[0] -= 1800
				w.force(t, xid, store.StateCaptured)
				w.mark(t)
				code, err = w.n.Lab.Merchant.ReverseCapture(w.ctx, xid)
				if err != nil || code != msg.CapRevOrCredAlreadyReversed {
					t.Errorf("second reversal of a sale: %v, %v; want %v", code, err, msg.CapRevOrCredAlreadyReversed)
				}
				w.unchanged(t, w.marked)
			})
		})
	}
}

// TestShipmentReversals reverses and credits one shipment of an order
// shipped in parts, over the wire, named by the RRPID of its AuthReq:
// only that shipment's capture goes back, never more than it took, and
// the other shipment's stands.
func TestShipmentReversals(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := newTokenWorld(t, id)
			m := w.n.Lab.Merchant
			// twoShipped is an order of 100.00 shipped in two parts,
			// 20.00 and 80.00, both captured; it returns the RRPIDs
			// naming each.
			twoShipped := func(t *testing.T) (xid msg.XID, first, second msg.RRPID) {
				xid = w.split(t, 100_00, 20_00)
				w.captureShipment(t, xid, 20_00)
				first = w.latest(t, xid)
				w.authorize(t, xid, 80_00, msg.AuthApproved)
				w.captureShipment(t, xid, 80_00)
				second = w.latest(t, xid)
				if first == second {
					t.Fatal("both shipments are named by one RRPID")
				}
				return xid, first, second
			}
			w.run(t, "reverse the second shipment", func(t *testing.T) {
				xid, _, second := twoShipped(t)
				w.mark(t)
				// The shipment's CapToken, sent with the item, is for
				// 80.00: the gateway refuses more before looking further.
				if code, err := m.ReverseShipmentCapture(w.ctx, xid, second, lab.USD(80_01)); err != nil || code != msg.CapRevOrCredInvalidCapToken {
					t.Errorf("reversal of more than the second shipment took: %v, %v; want %v", code, err, msg.CapRevOrCredInvalidCapToken)
				}
				w.unchanged(t, w.marked)
				if code, err := m.ReverseShipmentCapture(w.ctx, xid, second, lab.USD(80_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReverseShipmentCapture of the second shipment: %v, %v", code, err)
				}
				w.spent[0] -= 80_00
				w.checkBooks(t)
				w.mark(t)
				if code, err := m.ReverseShipmentCapture(w.ctx, xid, second, lab.USD(80_00)); err != nil || code != msg.CapRevOrCredAlreadyReversed {
					t.Errorf("second reversal of the second shipment: %v, %v; want %v", code, err, msg.CapRevOrCredAlreadyReversed)
				}
				w.unchanged(t, w.marked)
			})
			w.run(t, "credit the second shipment", func(t *testing.T) {
				// More than the first shipment took: only the second can
				// give it back.
				xid, first, second := twoShipped(t)
				if code, err := m.CreditShipment(w.ctx, xid, second, lab.USD(80_00), lab.USD(50_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("CreditShipment of the second shipment: %v, %v", code, err)
				}
				w.spent[0] -= 50_00
				if code, err := m.ReverseShipmentCredit(w.ctx, xid, second, lab.USD(80_00), lab.USD(5_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReverseShipmentCredit of the second shipment: %v, %v", code, err)
				}
				w.spent[0] += 5_00
				w.checkBooks(t)
				w.mark(t)
				if code, err := m.CreditShipment(w.ctx, xid, second, lab.USD(80_00), lab.USD(35_01)); err != nil || code != msg.CapRevOrCredAmountError {
					t.Errorf("credit beyond the second shipment: %v, %v; want %v", code, err, msg.CapRevOrCredAmountError)
				}
				if code, err := m.CreditShipment(w.ctx, xid, first, lab.USD(20_00), lab.USD(20_01)); err != nil || code != msg.CapRevOrCredAmountError {
					t.Errorf("credit beyond the first shipment: %v, %v; want %v", code, err, msg.CapRevOrCredAmountError)
				}
				w.unchanged(t, w.marked)
				// The first shipment's own credit.
				if code, err := m.CreditShipment(w.ctx, xid, first, lab.USD(20_00), lab.USD(20_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("CreditShipment of the first shipment: %v, %v", code, err)
				}
				w.spent[0] -= 20_00
			})
		})
	}
}

// latest returns the RRPID naming order xid's latest authorization.
func (w *tokenWorld) latest(t *testing.T, xid msg.XID) msg.RRPID {
	t.Helper()
	r, err := w.n.Lab.Merchant.LatestShipment(w.ctx, xid)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
