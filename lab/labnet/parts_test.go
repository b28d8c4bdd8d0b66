package labnet_test

import (
	"bytes"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/lab/labnet"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// The tests here drive the merchant's side of CapTokens beyond capture,
// over the wire: every capture reversal, credit, credit reversal and
// authorization reversal carries the token of the authorization it names,
// taken from the part of the order the merchant keeps for it; and a
// merchant that presents another authorization's token is refused, with
// nothing moved.

// partsOf returns the merchant's parts of order xid.
func (w *tokenWorld) partsOf(t *testing.T, xid msg.XID) []store.OrderPart {
	t.Helper()
	parts, err := w.n.Lab.Merchant.Parts(w.ctx, xid)
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

// wantPart checks part i of order xid.
func (w *tokenWorld) wantPart(t *testing.T, xid msg.XID, i int, state store.OrderState, auth, captured, credited int64) {
	t.Helper()
	parts := w.partsOf(t, xid)
	if i >= len(parts) {
		t.Fatalf("order has %d parts, want part %d", len(parts), i)
	}
	p := parts[i]
	if p.State != state || p.AuthAmount != auth || p.CaptureAmount != captured || p.CreditAmount != credited {
		t.Errorf("part %d: %s, %d authorized, %d captured, %d credited; want %s, %d, %d, %d",
			i, p.State, p.AuthAmount, p.CaptureAmount, p.CreditAmount, state, auth, captured, credited)
	}
}

// carried fails unless the last request of type kind to the gateway
// carried token, alone, beside its signed data.
func (w *tokenWorld) carried(t *testing.T, kind string, token []byte) {
	t.Helper()
	ex := w.sent(t, labnet.Gateway, kind)
	mw, err := msg.UnmarshalMessageWrapper(ex.Request)
	if err != nil {
		t.Fatal(err)
	}
	var seq *msg.CapTokenSeq
	switch m := mw.Message.(type) {
	case *msg.CapRevReq:
		seq = m.CapTokenSeq
	case *msg.CredReq:
		seq = m.CapTokenSeq
	case *msg.CredRevReq:
		seq = m.CapTokenSeq
	case *msg.AuthRevReq:
		if m.AuthRevReqBaggage == nil {
			t.Fatalf("%s carries no baggage", kind)
		}
		if m.AuthRevReqBaggage.PI.AuthToken == nil && m.AuthRevReqBaggage.PI.PIDualSigned == nil {
			t.Errorf("%s baggage carries no PI of the authorization", kind)
		}
		seq = &msg.CapTokenSeq{Tokens: [][]byte{m.AuthRevReqBaggage.CapToken}}
	default:
		t.Fatalf("%s is a %T", kind, mw.Message)
	}
	if seq == nil || len(seq.Tokens) != 1 {
		t.Fatalf("%s carries CapTokenSeq %v, want one token", kind, seq)
	}
	if !bytes.Equal(seq.Tokens[0], token) {
		t.Errorf("%s carries another token than its authorization's", kind)
	}
}

// swapCapToken puts token in part i of the merchant's record of xid (and
// in the order's own field when it is the latest part): a merchant
// presenting another authorization's token.
func (w *tokenWorld) swapCapToken(t *testing.T, xid msg.XID, i int, token []byte) {
	t.Helper()
	if _, err := w.n.MerchantStore.UpdateOrder(w.ctx, store.XID(xid), func(o *store.Order) error {
		if i == len(o.Parts)-1 {
			o.CapToken = token
		}
		o.Parts[i].CapToken = token
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPartsCarryCapTokens ships an order in two parts and reverses and
// credits each part, named by index or RRPID from the merchant's own
// record; every request carries that part's token.
func TestPartsCarryCapTokens(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := newTokenWorld(t, id)
			m := w.n.Lab.Merchant
			gw := labnet.Gateway
			w.run(t, "split order", func(t *testing.T) {
				xid := w.split(t, 100_00, 20_00)
				w.captureShipment(t, xid, 20_00)
				w.authorize(t, xid, 80_00, msg.AuthApproved)
				w.captureShipment(t, xid, 80_00)
				parts := w.partsOf(t, xid)
				if len(parts) != 2 {
					t.Fatalf("order keeps %d parts, want 2", len(parts))
				}
				if bytes.Equal(parts[0].AuthRRPID, parts[1].AuthRRPID) || parts[0].CapToken == nil || parts[1].CapToken == nil ||
					bytes.Equal(parts[0].CapToken, parts[1].CapToken) {
					t.Fatal("the parts are not named by their own RRPIDs and tokens")
				}
				w.wantPart(t, xid, 0, store.StateCaptured, 20_00, 20_00, 0)
				w.wantPart(t, xid, 1, store.StateCaptured, 80_00, 80_00, 0)
				w.n.Link(gw).Take()

				if code, err := m.CreditPart(w.ctx, xid, merchant.PartIndex(0), lab.USD(5_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("CreditPart of the first part: %v, %v", code, err)
				}
				w.spent[0] -= 5_00
				w.carried(t, "CredReq", parts[0].CapToken)
				w.wantPart(t, xid, 0, store.StateCredited, 20_00, 20_00, 5_00)

				byRRPID := merchant.PartRRPID(msg.RRPID(parts[0].AuthRRPID))
				if code, err := m.ReversePartCredit(w.ctx, xid, byRRPID, lab.USD(5_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReversePartCredit of the first part: %v, %v", code, err)
				}
				w.spent[0] += 5_00
				w.carried(t, "CredRevReq", parts[0].CapToken)
				w.wantPart(t, xid, 0, store.StateCaptured, 20_00, 20_00, 0)

				if code, err := m.ReversePartCapture(w.ctx, xid, merchant.PartIndex(1)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("ReversePartCapture of the second part: %v, %v", code, err)
				}
				w.spent[0] -= 80_00
				w.carried(t, "CapRevReq", parts[1].CapToken)
				w.wantPart(t, xid, 1, store.StateCaptureReversed, 80_00, 80_00, 0)
				w.wantPart(t, xid, 0, store.StateCaptured, 20_00, 20_00, 0)

				if _, err := m.CreditPart(w.ctx, xid, merchant.PartIndex(2), lab.USD(1)); err == nil {
					t.Error("CreditPart of a part the order does not have went ahead")
				}
			})
			w.run(t, "authorization reversed", func(t *testing.T) {
				offer, err := m.Checkout(w.ctx, "a lamp", lab.USD(30_00))
				if err != nil {
					t.Fatal(err)
				}
				xid := w.payOffer(t, offer, nil, 30_00)
				token := w.partsOf(t, xid)[0].CapToken
				w.n.Link(gw).Take()
				if code, err := m.ReverseAuthorization(w.ctx, xid, lab.USD(10_00)); err != nil || code != msg.AuthRevSuccess {
					t.Fatalf("partial ReverseAuthorization: %v, %v", code, err)
				}
				w.held -= 20_00
				w.carried(t, "AuthRevReq", token)
				w.wantPart(t, xid, 0, store.StateAuthorized, 10_00, 0, 0)
				// What is left is captured under the same token.
				if code, err := m.Capture(w.ctx, xid); err != nil || code != msg.CapSuccess {
					t.Fatalf("Capture after the reversal: %v, %v", code, err)
				}
				w.held -= 10_00
				w.spent[0] += 10_00
				w.wantPart(t, xid, 0, store.StateCaptured, 10_00, 10_00, 0)
			})
			w.run(t, "order kept before parts", func(t *testing.T) {
				// An order stored without parts has its latest
				// authorization as its one part, with its token.
				offer, err := m.Checkout(w.ctx, "a rug", lab.USD(40_00))
				if err != nil {
					t.Fatal(err)
				}
				xid := w.payOffer(t, offer, nil, 40_00)
				if code, err := m.Capture(w.ctx, xid); err != nil || code != msg.CapSuccess {
					t.Fatalf("Capture: %v, %v", code, err)
				}
				w.held -= 40_00
				w.spent[0] += 40_00
				if _, err := w.n.MerchantStore.UpdateOrder(w.ctx, store.XID(xid), func(o *store.Order) error {
					o.Parts = nil
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				w.wantPart(t, xid, 0, store.StateCaptured, 40_00, 40_00, 0)
				w.n.Link(gw).Take()
				if code, err := m.Credit(w.ctx, xid, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredSuccess {
					t.Fatalf("Credit: %v, %v", code, err)
				}
				w.spent[0] -= 4_00
				w.carried(t, "CredReq", w.order(t, xid).CapToken)
				if stored := w.order(t, xid).Parts; len(stored) != 1 || stored[0].CreditAmount != 4_00 {
					t.Errorf("stored parts after the credit: %+v, want the one part, 4.00 credited", stored)
				}
			})
		})
	}
}

// TestAnotherAuthorizationsCapToken has the merchant present the token of
// another authorization — of another purchase, or of the same purchase's
// other part — with a capture reversal, a credit, a credit reversal and an
// authorization reversal: each is refused and moves nothing.
func TestAnotherAuthorizationsCapToken(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := newTokenWorld(t, id)
			m := w.n.Lab.Merchant
			buy := func(t *testing.T, cents int64) msg.XID {
				offer, err := m.Checkout(w.ctx, "a chair", lab.USD(cents))
				if err != nil {
					t.Fatal(err)
				}
				return w.payOffer(t, offer, nil, cents)
			}
			w.run(t, "refused", func(t *testing.T) {
				other := buy(t, 15_00)
				otherToken := w.partsOf(t, other)[0].CapToken

				// A split order, both parts captured: its first part
				// presents its second part's token, its second the other
				// purchase's.
				xid := w.split(t, 50_00, 20_00)
				w.captureShipment(t, xid, 20_00)
				w.authorize(t, xid, 30_00, msg.AuthApproved)
				w.captureShipment(t, xid, 30_00)
				parts := w.partsOf(t, xid)
				w.swapCapToken(t, xid, 0, parts[1].CapToken)
				w.swapCapToken(t, xid, 1, otherToken)
				w.mark(t)
				for _, tt := range []struct {
					name string
					do   func() (msg.CapRevOrCredCode, error)
				}{
					{"credit", func() (msg.CapRevOrCredCode, error) {
						return m.CreditPart(w.ctx, xid, merchant.PartIndex(0), lab.USD(1_00))
					}},
					{"credit reversal", func() (msg.CapRevOrCredCode, error) {
						return m.ReversePartCredit(w.ctx, xid, merchant.PartIndex(0), lab.USD(1_00))
					}},
					{"capture reversal", func() (msg.CapRevOrCredCode, error) {
						return m.ReversePartCapture(w.ctx, xid, merchant.PartIndex(1))
					}},
					{"credit of the latest", func() (msg.CapRevOrCredCode, error) { return m.Credit(w.ctx, xid, lab.USD(1_00)) }},
				} {
					if code, err := tt.do(); err != nil || code != msg.CapRevOrCredInvalidCapToken {
						t.Errorf("%s under another authorization's token: %v, %v; want %v", tt.name, code, err, msg.CapRevOrCredInvalidCapToken)
					}
				}
				w.unchanged(t, w.marked)
				w.wantPart(t, xid, 0, store.StateCaptured, 20_00, 20_00, 0)
				w.wantPart(t, xid, 1, store.StateCaptured, 30_00, 30_00, 0)

				// An authorization not captured, reversed under the other
				// purchase's token: AuthRevCode has no invalidCapToken.
				open := buy(t, 12_00)
				w.swapCapToken(t, open, 0, otherToken)
				w.mark(t)
				if code, err := m.ReverseAuthorization(w.ctx, open, lab.USD(0)); err != nil || code != msg.AuthRevUnknownXID {
					t.Errorf("authorization reversal under another authorization's token: %v, %v; want %v", code, err, msg.AuthRevUnknownXID)
				}
				w.unchanged(t, w.marked)
				w.wantPart(t, open, 0, store.StateAuthorized, 12_00, 0, 0)
			})
		})
	}
}
