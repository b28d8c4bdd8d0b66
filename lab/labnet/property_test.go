package labnet_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/lab/labnet"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// order is what the model knows of one purchase.
type order struct {
	xid                          msg.XID
	authorized, captured, credit int64
	reversed, capRev             bool
	// A split order ships in parts: total is its purchase amount, and
	// authorized and captured add up its parts.
	split bool
	total int64
}

// TestLedgerOverTheWire drives random sequences of purchases, partial and
// full authorization reversals, captures, credits, capture reversals,
// credit reversals, split shipments (the purchase authorizes a first part;
// each later part is authorized under the gateway's AuthToken, perhaps
// for more than is left, and captured on its own) and replays of earlier
// requests through the merchant, over HTTP to the gateway and over ISO
// 8583 to the bank (a fresh ecosystem per run; TestMain lowers rapid's
// default number of runs), and checks after every step that each answer
// is what the model expects and that the bank's books hold: the audit
// passes, debits equal credits, and the card's balance is opening −
// captured + credited and its hold what the model has authorized and not
// captured.
func TestLedgerOverTheWire(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := newWorld(t, suite.Modern, false)
		m := w.n.Lab.Merchant
		var orders []*order
		pick := func(ok func(*order) bool) *order {
			var c []*order
			for _, o := range orders {
				if ok(o) {
					c = append(c, o)
				}
			}
			if len(c) == 0 {
				return nil
			}
			return c[rapid.IntRange(0, len(c)-1).Draw(rt, "order")]
		}
		open := func(o *order) bool { return !o.split && !o.reversed && o.captured == 0 && o.authorized > 0 }
		captured := func(o *order) bool { return !o.split && o.captured > 0 && !o.capRev }
		// A split order with a part to capture, or one more to authorize.
		shipping := func(o *order) bool { return o.split && o.captured < o.total }

		var sent [][]byte // every request the gateway answered
		// collect moves the requests the gateway answered since the last
		// call to sent, or, unless keep, forgets them.
		collect := func(keep bool) {
			for _, ex := range w.n.Link(labnet.Gateway).Take() {
				if _, isErr := labnet.ErrorCode(ex.Response); keep && ex.Response != nil && !isErr {
					sent = append(sent, ex.Request)
				}
			}
		}
		steps := rapid.IntRange(1, 12).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 8).Draw(rt, "action") {
			case 0: // purchase
				cents := rapid.Int64Range(1, 3000).Draw(rt, "cents")
				p, res, err := w.n.Pay(w.ctx, 0, "something", cents)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					rt.Fatalf("Pay %d: %v, %v", cents, res, err)
				}
				orders = append(orders, &order{xid: p.TransIDs().XID, authorized: cents})
			case 1: // authorization reversal, partial or full
				o := pick(open)
				if o == nil {
					continue
				}
				left := rapid.Int64Range(0, o.authorized-1).Draw(rt, "left")
				code, err := m.ReverseAuthorization(w.ctx, o.xid, lab.USD(left))
				if err != nil || code != msg.AuthRevSuccess {
					rt.Fatalf("ReverseAuthorization to %d of %d: %v, %v", left, o.authorized, code, err)
				}
				o.authorized, o.reversed = left, left == 0
			case 2: // capture
				o := pick(open)
				if o == nil {
					continue
				}
				code, err := m.Capture(w.ctx, o.xid)
				if err != nil || code != msg.CapSuccess {
					rt.Fatalf("Capture: %v, %v", code, err)
				}
				o.captured = o.authorized
				w.spent[0] += o.captured
			case 3: // credit, perhaps more than is left to credit
				o := pick(captured)
				if o == nil {
					continue
				}
				cents := rapid.Int64Range(1, o.captured+100).Draw(rt, "credit")
				want := msg.CapRevOrCredSuccess
				if o.credit+cents > o.captured {
					want = msg.CapRevOrCredAmountError
				}
				code, err := m.Credit(w.ctx, o.xid, lab.USD(cents))
				if err != nil || code != want {
					rt.Fatalf("Credit %d of %d (%d credited): %v, %v; want %v", cents, o.captured, o.credit, code, err, want)
				}
				if code == msg.CapRevOrCredSuccess {
					o.credit += cents
					w.spent[0] -= cents
				}
			case 4: // capture reversal: only of a capture nothing was credited on
				o := pick(captured)
				if o == nil {
					continue
				}
				want := msg.CapRevOrCredSuccess
				if o.credit > 0 {
					want = msg.CapRevOrCredAmountError
				}
				code, err := m.ReverseCapture(w.ctx, o.xid)
				if err != nil || code != want {
					rt.Fatalf("ReverseCapture (%d credited): %v, %v; want %v", o.credit, code, err, want)
				}
				if code == msg.CapRevOrCredSuccess {
					o.capRev = true
					w.spent[0] -= o.captured
				}
			case 5: // credit reversal, perhaps of more than was credited
				o := pick(captured)
				if o == nil {
					continue
				}
				cents := rapid.Int64Range(1, o.captured).Draw(rt, "credit reversal")
				want := msg.CapRevOrCredSuccess
				if cents > o.credit {
					want = msg.CapRevOrCredOriginalNotFound
				}
				code, err := m.ReverseCredit(w.ctx, o.xid, lab.USD(cents))
				if err != nil || code != want {
					rt.Fatalf("ReverseCredit %d (%d credited): %v, %v; want %v", cents, o.credit, code, err, want)
				}
				if code == msg.CapRevOrCredSuccess {
					o.credit -= cents
					w.spent[0] += cents
				}
			case 6: // replay of an earlier request
				if len(sent) == 0 {
					continue
				}
				req := sent[rapid.IntRange(0, len(sent)-1).Draw(rt, "replayed")]
				resp, err := w.n.Send(w.ctx, labnet.Gateway, req)
				if err != nil {
					rt.Fatal(err)
				}
				if code, ok := labnet.ErrorCode(resp); !ok || code != msg.MessageTooOld {
					rt.Fatalf("replayed %s answered %s (%v)", typeOf(req), typeOf(resp), code)
				}
			case 7: // split purchase: the first part authorized, then
				// a step or two of its shipping
				total := rapid.Int64Range(2, 3000).Draw(rt, "total")
				first := rapid.Int64Range(1, total-1).Draw(rt, "first part")
				offer, err := m.CheckoutSplit(w.ctx, "parts", lab.USD(total), first)
				if err != nil {
					rt.Fatal(err)
				}
				p, res, err := w.n.Lab.Wallets[0].Pay(w.ctx, w.n.Link(labnet.Merchant), lab.OfferFor(offer))
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					rt.Fatalf("Pay %d of %d: %v, %v", first, total, res, err)
				}
				o := &order{xid: p.TransIDs().XID, authorized: first, split: true, total: total}
				orders = append(orders, o)
				for range rapid.IntRange(0, 2).Draw(rt, "shipping steps") {
					w.checkModel(rt, orders)
					w.ship(rt, o, collect)
				}
			case 8: // a split order's next step
				if o := pick(shipping); o != nil {
					w.ship(rt, o, collect)
				}
			}
			collect(true)
			w.checkModel(rt, orders)
		}
	})
}

// ship takes split order o one step on: it captures its latest part, or
// authorizes the next, perhaps for more than is left. collect is the
// test's: every AuthReq, approved or refused, is kept for replay, and a
// replay must be refused as one.
func (w *world) ship(rt *rapid.T, o *order, collect func(keep bool)) {
	m := w.n.Lab.Merchant
	if o.captured < o.authorized {
		code, err := m.CaptureShipment(w.ctx, o.xid)
		if err != nil || code != msg.CapSuccess {
			rt.Fatalf("CaptureShipment: %v, %v", code, err)
		}
		w.spent[0] += o.authorized - o.captured
		o.captured = o.authorized
		return
	}
	collect(true)
	left := o.total - o.authorized
	cents := rapid.Int64Range(1, left+100).Draw(rt, "part")
	want := msg.AuthApproved
	if cents > left {
		want = msg.AuthAmountError
	}
	code, err := m.AuthorizeShipment(w.ctx, o.xid, cents)
	if err != nil || code != want {
		rt.Fatalf("AuthorizeShipment %d of %d left: %v, %v; want %v", cents, left, code, err, want)
	}
	if code == msg.AuthApproved {
		o.authorized += cents
	}
	collect(true)
}

// checkModel checks the books against the model.
func (w *world) checkModel(rt *rapid.T, orders []*order) {
	if err := w.n.Check(w.ctx); err != nil {
		rt.Fatalf("ledger: %v", err)
	}
	f, err := w.n.Ledger.Funds(w.ctx, w.n.Cards[0])
	if err != nil {
		rt.Fatal(err)
	}
	var held int64
	for _, o := range orders {
		if !o.reversed {
			held += o.authorized - o.captured
		}
	}
	if f.Balance != -w.spent[0] || f.Held != held {
		rt.Fatalf("card balance %d held %d, want %d held %d", f.Balance, f.Held, -w.spent[0], held)
	}
}
