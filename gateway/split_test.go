package gateway_test

import (
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
)

// answer is an AuthRes as the merchant reads it.
type answer struct {
	code    msg.AuthCode
	amount  msg.CurrencyAmount
	token   []byte // from the baggage, checked against the signed digest
	request *msg.AuthReq
	rrpid   msg.RRPID
}

// authorizeAs sends data with pi, signed by merchant credential c, and
// opens the answer; err is the gateway's rejection.
func (w *world) authorizeAs(c lab.Credential, data msg.AuthReqData, pi msg.PI) (*answer, error) {
	w.t.Helper()
	req := w.seal(c, data, w.hPI(pi), pi)
	res, err := w.l.Gateway.HandleAuthReq(w.ctx, req)
	if err != nil {
		return nil, err
	}
	content, _, _, err := encap.OpenEnc(w.st, c.ExchangeKey, c.ExchangeCert, res.AuthResTBE, msg.OIDAuthResTBS, msg.OIDAuthResTBE, w.verifier(pki.CertTypePgwy))
	if err != nil {
		w.t.Fatalf("opening AuthRes: %v", err)
	}
	tbs, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		w.t.Fatal(err)
	}
	w.noteCapToken(&data, res)
	a := &answer{code: tbs.AuthResData.AuthResPayload.AuthHeader.AuthCode, amount: tbs.AuthResData.AuthResPayload.AuthHeader.AuthAmt,
		request: req, rrpid: data.AuthReqItem.AuthTags.AuthRRTags.RRPID}
	if res.AuthResBaggage != nil {
		b, err := res.AuthResBaggage.Marshal()
		if err != nil {
			w.t.Fatal(err)
		}
		if err := encap.CheckDD(w.st, tbs.HAuthResBaggage, msg.OIDAuthResBaggage, b); err != nil {
			w.t.Fatalf("baggage not signed: %v", err)
		}
		a.token = res.AuthResBaggage.AuthToken
	} else if tbs.HAuthResBaggage != nil {
		w.t.Fatal("signed baggage missing")
	}
	return a, nil
}

// subsequentData is an honest AuthReqData asking cents more under a token.
func (w *world) subsequentData(transIDs msg.TransIDs, cents int64) msg.AuthReqData {
	d := w.authData(transIDs, nil, nil, lab.USD(cents))
	d.AuthReqItem.CheckDigests = nil
	d.AuthReqItem.AuthReqPayload.SubsequentAuthInd = true
	return d
}

// subsequent asks cents more under token as the lab's merchant.
func (w *world) subsequent(transIDs msg.TransIDs, token []byte, cents int64) *answer {
	w.t.Helper()
	a, err := w.authorizeAs(w.mer, w.subsequentData(transIDs, cents), msg.PI{AuthToken: token})
	if err != nil {
		w.t.Fatalf("subsequent authorization rejected: %v", err)
	}
	return a
}

func wantAuth(t testing.TB, a *answer, code msg.AuthCode, wantToken bool) {
	t.Helper()
	if a.code != code || (a.token != nil) != wantToken {
		t.Fatalf("answered %v with token %v; want %v with token %v", a.code, a.token != nil, code, wantToken)
	}
}

// firstAuth authorizes cents of a purchase of purchase cents (with plan)
// from a fresh cardholder and returns the answer, the PI spec and the
// cardholder's PAN.
func (w *world) firstAuth(purchase, cents int64, plan *msg.InstallRecurData) (*answer, forgedPI, string) {
	w.t.Helper()
	holder, card := w.newCardholder()
	s := w.honestSpec(holder, card, purchase)
	if plan != nil {
		b, err := plan.Marshal()
		if err != nil {
			w.t.Fatal(err)
		}
		s.plan = b
	}
	f := w.forgePI(s)
	a, err := w.authorizeAs(w.mer, w.authData(f.transIDs, f.hOIData, f.hod, lab.USD(cents)), f.pi)
	if err != nil {
		w.t.Fatalf("first authorization rejected: %v", err)
	}
	return a, f, card.PAN
}

// TestSplitShipmentGateway runs a split shipment against the gateway: a
// first authorization for part of the purchase brings a token, each later
// one a fresh token until the purchase is authorized in full, each part is
// captured on its own; and every abuse of a token is refused with its
// code, spending nothing.
func TestSplitShipmentGateway(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			first, f, pan := w.firstAuth(100_00, 40_00, nil)
			wantAuth(t, first, msg.AuthApproved, true)

			second := w.subsequent(f.transIDs, first.token, 35_00)
			wantAuth(t, second, msg.AuthApproved, true)
			if w.spent(pan) != 75_00 {
				t.Fatalf("spent %d after two shipments", w.spent(pan))
			}
			shipment := gateway.ShipmentXID(st.Hash(), f.transIDs.XID, second.rrpid)
			if a := w.authorization(shipment); a == nil || a.Amount != 35_00 || a.State != "authorized" {
				t.Fatalf("second shipment recorded as %+v", a)
			}

			// Each part is captured on its own, the later one by its
			// AuthReq's RRPID.
			if code, err := w.captureWith(w.mer, w.l.MerchantID, f.transIDs, lab.USD(40_00), nil); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture of the first shipment: %v, %v", code, err)
			}
			named := func(d *msg.CapReqData) { d.CapItemSeq[0].AuthRRPID = second.rrpid }
			// Above its CapToken, which names the shipment's amount.
			if code, err := w.captureWith(w.mer, w.l.MerchantID, f.transIDs, lab.USD(35_01), named); err != nil || code != msg.CapInvalidCapToken {
				t.Fatalf("capture above the shipment: %v, %v", code, err)
			}
			if code, err := w.captureWith(w.mer, w.l.MerchantID, f.transIDs, lab.USD(35_00), named); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture of the second shipment: %v, %v", code, err)
			}
			if a := w.authorization(shipment); a.State != "captured" || a.Captured != 35_00 {
				t.Fatalf("second shipment after capture: %+v", a)
			}

			noChange := func(what string) {
				t.Helper()
				if got := w.spent(pan); got != 75_00 {
					t.Fatalf("%s: spent %d, want 75.00 unchanged", what, got)
				}
			}
			t.Run("above the remaining amount", func(t *testing.T) {
				w.t = t
				wantAuth(t, w.subsequent(f.transIDs, second.token, 25_01), msg.AuthAmountError, false)
				noChange("above the remaining amount")
			})
			t.Run("token used before", func(t *testing.T) {
				w.t = t
				wantAuth(t, w.subsequent(f.transIDs, first.token, 10_00), msg.AuthPIPreviouslyUsed, false)
				noChange("token used before")
			})
			t.Run("replayed AuthReq", func(t *testing.T) {
				w.t = t
				_, err := w.l.Gateway.HandleAuthReq(w.ctx, second.request)
				wantCode(t, err, msg.MessageTooOld)
				noChange("replayed AuthReq")
			})
			t.Run("tampered token", func(t *testing.T) {
				w.t = t
				bad := append([]byte(nil), second.token...)
				bad[len(bad)-20] ^= 1
				_, err := w.authorizeAs(w.mer, w.subsequentData(f.transIDs, 10_00), msg.PI{AuthToken: bad})
				if err == nil || msg.CodeOf(err) == msg.UnspecifiedFailure {
					t.Fatalf("tampered token: %v", err)
				}
				noChange("tampered token")
			})
			t.Run("token of another merchant", func(t *testing.T) {
				w.t = t
				thief := issueMerchant(t, w.l, "MER-0002", w.t0)
				d := w.subsequentData(f.transIDs, 10_00)
				d.AuthReqItem.AuthTags.AuthRRTags.MerTermIDs.MerchantID = "MER-0002"
				a, err := w.authorizeAs(thief, d, msg.PI{AuthToken: second.token})
				if err != nil {
					t.Fatal(err)
				}
				wantAuth(t, a, msg.AuthPIAuthMismatch, false)
				noChange("token of another merchant")
			})
			t.Run("token for another purchase", func(t *testing.T) {
				w.t = t
				wantAuth(t, w.subsequent(w.newTransIDs(), second.token, 10_00), msg.AuthPIAuthMismatch, false)
				noChange("token for another purchase")
			})
			t.Run("not marked subsequent", func(t *testing.T) {
				w.t = t
				d := w.subsequentData(f.transIDs, 10_00)
				d.AuthReqItem.AuthReqPayload.SubsequentAuthInd = false
				_, err := w.authorizeAs(w.mer, d, msg.PI{AuthToken: second.token})
				wantCode(t, err, msg.DecodingFailure)
				noChange("not marked subsequent")
			})

			// The rest of the purchase: approved, and no token is left.
			w.t = t
			last := w.subsequent(f.transIDs, second.token, 25_00)
			wantAuth(t, last, msg.AuthApproved, false)
			if w.spent(pan) != 100_00 {
				t.Fatalf("spent %d after the last shipment", w.spent(pan))
			}
		})
	}
}

// TestSplitAfterReversal: once the purchase's authorization is reversed,
// its token authorizes nothing.
func TestSplitAfterReversal(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			first, f, pan := w.firstAuth(100_00, 40_00, nil)
			wantAuth(t, first, msg.AuthApproved, true)
			if _, err := w.gs.UpdateAuthorization(w.ctx, store.XID(f.transIDs.XID), func(a *store.Authorization) error {
				a.State = "reversed" // as HandleAuthRevReq records a full reversal
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			wantAuth(t, w.subsequent(f.transIDs, first.token, 10_00), msg.AuthInvalidTransaction, false)
			if got := w.spent(pan); got != 40_00 {
				t.Fatalf("spent %d, want 40.00", got)
			}
		})
	}
}

// TestRecurringGateway holds the merchant to the cardholder's recurring
// plan: not sooner than its frequency, not after its expiry, not above
// each payment's amount, not under another plan.
func TestRecurringGateway(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			plan := &msg.InstallRecurData{Recurring: &msg.Recurring{RecurringFrequency: 1, RecurringExpiry: w.t0.Add(50 * time.Hour)}}
			first, f, pan := w.firstAuth(9_99, 9_99, plan)
			wantAuth(t, first, msg.AuthApproved, true)

			tooSoon := w.subsequent(f.transIDs, first.token, 9_99)
			wantAuth(t, tooSoon, msg.AuthRecurringTooSoon, false)
			w.clock.Set(w.t0.Add(25 * time.Hour))
			wantAuth(t, w.subsequent(f.transIDs, first.token, 10_00), msg.AuthAmountError, false)
			other := w.subsequentData(f.transIDs, 9_99)
			other.AuthReqItem.AuthReqPayload.InstallRecurData = mustMarshal(t, &msg.InstallRecurData{InstallTotalTrans: 12})
			a, err := w.authorizeAs(w.mer, other, msg.PI{AuthToken: first.token})
			if err != nil {
				t.Fatal(err)
			}
			wantAuth(t, a, msg.AuthInstallRecurMismatch, false)
			if got := w.spent(pan); got != 9_99 {
				t.Fatalf("refusals spent: %d", got)
			}

			second := w.subsequent(f.transIDs, first.token, 9_99)
			wantAuth(t, second, msg.AuthApproved, true) // 49h < expiry: one more due
			w.clock.Set(w.t0.Add(51 * time.Hour))
			wantAuth(t, w.subsequent(f.transIDs, second.token, 9_99), msg.AuthRecurringExpired, false)
			if got := w.spent(pan); got != 2*9_99 {
				t.Fatalf("spent %d, want two payments", got)
			}
		})
	}
}

// TestInstalmentsGateway: an instalment plan gets exactly its number of
// authorizations; the last answer carries no token.
func TestInstalmentsGateway(t *testing.T) {
	w := newWorld(t, suites()[0], 1)
	first, f, pan := w.firstAuth(30_00, 30_00, &msg.InstallRecurData{InstallTotalTrans: 3})
	wantAuth(t, first, msg.AuthApproved, true)
	second := w.subsequent(f.transIDs, first.token, 30_00)
	wantAuth(t, second, msg.AuthApproved, true)
	third := w.subsequent(f.transIDs, second.token, 30_00)
	wantAuth(t, third, msg.AuthApproved, false)
	if got := w.spent(pan); got != 90_00 {
		t.Fatalf("spent %d", got)
	}
}

// TestPlanTheMerchantInvents: the merchant cannot add a plan the
// cardholder did not sign.
func TestPlanTheMerchantInvents(t *testing.T) {
	w := newWorld(t, suites()[0], 1)
	holder, card := w.newCardholder()
	f := w.forgePI(w.honestSpec(holder, card, 10_00))
	d := w.authData(f.transIDs, f.hOIData, f.hod, lab.USD(10_00))
	d.AuthReqItem.AuthReqPayload.InstallRecurData = mustMarshal(t, &msg.InstallRecurData{InstallTotalTrans: 12})
	_, err := w.authorizeAs(w.mer, d, f.pi)
	wantCode(t, err, msg.SignatureFailure)
	if w.spent(card.PAN) != 0 || w.authorization(f.transIDs.XID) != nil {
		t.Fatal("an invented plan was acted on")
	}
}

func mustMarshal(t testing.TB, v interface{ Marshal() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
