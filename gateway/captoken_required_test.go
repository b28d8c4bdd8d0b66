package gateway_test

import (
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// TestCapTokenRequired: once the gateway has answered an authorization
// with a CapToken, a capture, capture reversal, credit, credit reversal or
// authorization reversal that names it without the token is refused with
// the code a wrong token gets, and nothing moves; the same request with
// the token goes through. Another merchant naming the authorization
// without a token is told unknownXID, as before: nothing says a token
// exists.
func TestCapTokenRequired(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			pan := w.l.Cards[0].PAN
			pay := func(desc string) msg.XID {
				t.Helper()
				p, res, err := w.pay(0, desc, 20_00)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase: %v, %v", res, err)
				}
				xid := p.TransIDs().XID
				if a := w.authorization(xid); a == nil || !a.CapTokenIssued {
					t.Fatalf("approved authorization recorded as %+v, want CapTokenIssued", a)
				}
				return xid
			}
			one, two := pay("a coat"), pay("a hat")
			spent := func(what string, want int64) {
				t.Helper()
				if got := w.spent(pan); got != want {
					t.Fatalf("%s: the card has spent %d, want %d", what, got, want)
				}
			}
			spent("two authorizations", 40_00)

			// Authorization reversal without its token: unknownXID.
			if code, err := w.authRevWithBaggage(two, lab.USD(20_00), lab.USD(0), nil, nil); err != nil || code != msg.AuthRevUnknownXID {
				t.Fatalf("authorization reversal without the token: %v, %v; want unknownXID", code, err)
			}
			if a := w.authorization(two); a.State != "authorized" || a.Amount != 20_00 {
				t.Fatalf("refused reversal changed the record: %+v", a)
			}
			spent("refused reversal", 40_00)

			// Capture without its token: capTokenMissing, nothing claimed.
			if code, err := w.capReqWithTokens(one, lab.USD(20_00), nil, nil, nil); err != nil || code != msg.CapCapTokenMissing {
				t.Fatalf("capture without the token: %v, %v; want capTokenMissing", code, err)
			}
			if a := w.authorization(one); a.State != "authorized" || a.Captured != 0 {
				t.Fatalf("refused capture changed the record: %+v", a)
			}
			rival := issueMerchant(t, w.l, "MER-0002", w.t0)
			tid := w.transIDsOf(one)
			if code, err := w.captureWith(rival, "MER-0002", tid, lab.USD(20_00), nil); err != nil || code != msg.CapUnknownXID {
				t.Fatalf("another merchant's capture without a token: %v, %v; want unknownXID", code, err)
			}
			if code, err := w.captureWith(w.mer, w.l.MerchantID, tid, lab.USD(20_00), nil); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture with the token: %v, %v", code, err)
			}

			// Every follow-up of the capture, without its token.
			captured := lab.USD(20_00)
			for _, kind := range []string{"CapRevReq", "CredReq", "CredRevReq"} {
				if code, err := w.itemReqWithTokens(kind, one, captured, lab.USD(1_00), nil, nil); err != nil || code != msg.CapRevOrCredCapTokenMissing {
					t.Fatalf("%s without the token: %v, %v; want capTokenMissing", kind, code, err)
				}
			}
			if a := w.authorization(one); a.State != "captured" || a.Captured != 20_00 {
				t.Fatalf("refused items changed the record: %+v", a)
			}
			spent("refused items", 40_00)
			if code, err := w.credReqWith(tid, lab.USD(5_00), nil); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit with the token: %v, %v", code, err)
			}
			spent("credit", 35_00)
		})
	}
}

// TestCapTokenNotIssued: an authorization the gateway's records say got
// no CapToken (one recorded before tokens were issued) is captured,
// credited and reversed without one, its amounts checked on the record.
func TestCapTokenNotIssued(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			pan := w.l.Cards[0].PAN
			legacy := func(desc string) msg.XID {
				t.Helper()
				p, res, err := w.pay(0, desc, 20_00)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase: %v, %v", res, err)
				}
				xid := p.TransIDs().XID
				if _, err := w.gs.UpdateAuthorization(w.ctx, store.XID(xid), func(a *store.Authorization) error {
					a.CapTokenIssued = false
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return xid
			}
			one, two := legacy("a coat"), legacy("a hat")

			if code, err := w.capReqWithTokens(one, lab.USD(20_01), nil, nil, nil); err != nil || code != msg.CapInvalidAuthData {
				t.Fatalf("capture above the authorization: %v, %v; want invalidAuthData", code, err)
			}
			if code, err := w.capReqWithTokens(one, lab.USD(20_00), nil, nil, nil); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture without a token: %v, %v", code, err)
			}
			if code, err := w.itemReqWithTokens("CredReq", one, lab.USD(20_00), lab.USD(5_00), nil, nil); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit without a token: %v, %v", code, err)
			}
			if code, err := w.authRevWithBaggage(two, lab.USD(20_00), lab.USD(0), nil, nil); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("authorization reversal without a token: %v, %v", code, err)
			}
			if got := w.spent(pan); got != 15_00 {
				t.Fatalf("the card has spent %d, want 1500", got)
			}
		})
	}
}

// transIDsOf returns the TransIDs the lab's merchant issued for xid.
func (w *world) transIDsOf(xid msg.XID) msg.TransIDs {
	w.t.Helper()
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil {
		w.t.Fatal(err)
	}
	tid, err := msg.UnmarshalTransIDs(o.TransIDs)
	if err != nil {
		w.t.Fatal(err)
	}
	return *tid
}
