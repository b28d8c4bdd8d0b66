package gateway_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// wantCode fails the test unless err is a SET rejection with code want.
func wantCode(t testing.TB, err error, want msg.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want rejection with %v", want)
	}
	if got := msg.CodeOf(err); got != want {
		t.Fatalf("rejected with %v (%v); want %v", got, err, want)
	}
}

// wantApproved fails the test unless the gateway approved; why says why
// approval is right (a set1 request, which the modern checks do not cover).
func wantApproved(t testing.TB, code msg.AuthCode, err error, why string) {
	t.Helper()
	if err != nil {
		t.Fatalf("rejected: %v; want approved: %s", err, why)
	}
	if code != msg.AuthApproved {
		t.Fatalf("answered %v; want approved: %s", code, why)
	}
}

// randomPAN returns a fresh 16-digit test PAN, so that each test spends
// from its own account.
func randomPAN(t testing.TB) string {
	n, err := rand.Int(rand.Reader, big.NewInt(1e15))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("4%015d", n)
}

// spent reads an account's total from the gateway's store. The account is
// named by HMAC-SHA256(SHA-256("setpay account key\x00" ‖ exchange cert),
// PAN), as gateway.New derives it; if that derivation changes, the tests
// using this fail loudly (they would read zero).
func (w *world) spent(pan string) int64 {
	w.t.Helper()
	k := crypto.SHA256.New()
	k.Write([]byte("setpay account key\x00"))
	k.Write(w.gatewayExchangeCert())
	mac := hmac.New(crypto.SHA256.New, k.Sum(nil))
	mac.Write([]byte(pan))
	n, err := w.gs.Spent(w.ctx, mac.Sum(nil))
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) newCardholder() (lab.Credential, wallet.Card) {
	return issueCardholder(w.t, w.l, randomPAN(w.t), w.t0)
}

// TestAuthReqChecks runs each of the gateway's authorization checks against
// a request that violates it and nothing else.
func TestAuthReqChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 2)
			modern := st.ID() != suite.Set1
			thumbOf := func(cert []byte) *msg.CertThumb { th := msg.ThumbOf(st.Hash(), cert); return &th }
			other := issueGateway(t, w.l, "Other Payment Gateway", w.t0)

			// The controls: requests built by the fixture are approved, so
			// each rejection below is due to the one thing changed.
			t.Run("honest merchant request", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a map", 700)
				code, err := w.authorize(w.honestData(pu), w.hPI(pu.pi()), pu.pi())
				if err != nil || code != msg.AuthApproved {
					t.Fatalf("honest AuthReq: %v, %v", code, err)
				}
				if a := w.authorization(pu.oi().TransIDs.XID); a == nil || a.State != "authorized" || a.Amount != 700 {
					t.Fatalf("record = %+v", a)
				}
			})
			t.Run("honest forged PI", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				f := w.forgePI(w.honestSpec(holder, card, 800))
				if code, err := w.authorizeForged(f, lab.USD(800)); err != nil || code != msg.AuthApproved {
					t.Fatalf("honest forged PI: %v, %v", code, err)
				}
				if got := w.spent(card.PAN); got != 800 {
					t.Fatalf("spent %d, want 800", got)
				}
			})

			t.Run("replayed AuthReq", func(t *testing.T) {
				w.t = t
				p, res, err := w.pay(0, "tea", 350)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("Pay: %v, %v", res, err)
				}
				before := w.spent(w.l.Cards[0].PAN)
				resp, err := w.l.Gateway.Serve(w.ctx, lastSeen[*msg.AuthReq](w))
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("replay answered with %v, want messageTooOld", code)
				}
				if after := w.spent(w.l.Cards[0].PAN); after != before {
					t.Fatalf("replay moved spending from %d to %d", before, after)
				}
				if a := w.authorization(p.TransIDs().XID); a == nil || a.Amount != 350 || a.State != "authorized" {
					t.Fatalf("record after replay = %+v", a)
				}
			})

			// Deviation 3 is modern-only: a set1 (1997) AuthReq has no
			// expiry, so the gateway has only its replay cache, and an
			// expiry someone adds anyway is not checked. Each modern case
			// below has a set1 counterpart asserting exactly that.
			t.Run("expired", func(t *testing.T) {
				if !modern {
					w.t = t
					pu := w.startPurchase(0, "a lamp", 900)
					data := w.honestData(pu)
					data.Expiry = w.clock.Now().Add(-time.Hour)
					code, err := w.authorize(data, w.hPI(pu.pi()), pu.pi())
					wantApproved(t, code, err, "set1 checks no expiry")
					return
				}
				w.t = t
				defer w.clock.Set(w.t0)
				req := w.heldAuthReq(w.t0.Add(time.Hour))
				w.clock.Set(w.t0.Add(time.Hour + 6*time.Minute)) // the merchant gave it 5 minutes
				resp, err := w.l.Gateway.Serve(w.ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("expired AuthReq answered with %v, want messageTooOld", code)
				}
				// Control: the same bytes within their lifetime are answered.
				w.clock.Set(w.t0.Add(time.Hour + time.Minute))
				w.wantAnswered(req)
			})

			t.Run("expiry too far ahead", func(t *testing.T) {
				if !modern {
					w.t = t
					pu := w.startPurchase(0, "a lamp", 900)
					data := w.honestData(pu)
					data.Expiry = w.clock.Now().Add(30 * 24 * time.Hour)
					code, err := w.authorize(data, w.hPI(pu.pi()), pu.pi())
					wantApproved(t, code, err, "set1 checks no expiry")
					return
				}
				w.t = t
				defer w.clock.Set(w.t0)
				req := w.heldAuthReq(w.t0.Add(3 * time.Hour))
				w.clock.Set(w.t0.Add(time.Hour)) // expiry is 2h05 ahead; at most 1h is allowed
				resp, err := w.l.Gateway.Serve(w.ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooNew {
					t.Fatalf("far-future AuthReq answered with %v, want messageTooNew", code)
				}
				w.clock.Set(w.t0.Add(3*time.Hour + time.Minute))
				w.wantAnswered(req)
			})

			t.Run("AuthReq for another gateway", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a lamp", 900)
				data := w.honestData(pu)
				data.PGThumb = thumbOf(other.ExchangeCert)
				code, err := w.authorize(data, w.hPI(pu.pi()), pu.pi())
				if !modern {
					// A set1 AuthReq names no gateway (deviation 1): the
					// field, added anyway, is not checked.
					wantApproved(t, code, err, "set1 checks no gateway name")
					return
				}
				wantCode(t, err, msg.ThumbsMismatch)
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})

			t.Run("AuthReq without expiry", func(t *testing.T) {
				if !modern {
					// The merchant's own set1 AuthReq, which carries no
					// expiry, is answered long after a modern one would
					// have expired, as long as the replay window (a day)
					// lasts; its replay is still refused.
					w.t = t
					defer w.clock.Set(w.t0)
					req := w.heldAuthReq(w.t0.Add(time.Hour))
					w.clock.Set(w.t0.Add(time.Hour + 23*time.Hour))
					w.wantAnswered(req)
					resp, err := w.l.Gateway.Serve(w.ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					if code := errorCode(t, resp); code != msg.MessageTooOld {
						t.Fatalf("replayed set1 AuthReq answered with %v, want messageTooOld", code)
					}
					return
				}
				w.t = t
				pu := w.startPurchase(0, "a lamp", 900)
				data := w.honestData(pu)
				data.Expiry = time.Time{}
				_, err := w.authorize(data, w.hPI(pu.pi()), pu.pi())
				wantCode(t, err, msg.MessageTooOld)
			})

			t.Run("PI sealed to another gateway", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				s := w.honestSpec(holder, card, 500)
				s.sealTo = other.ExchangeCert
				if modern {
					s.pgThumb = thumbOf(other.ExchangeCert)
				}
				f := w.forgePI(s)
				_, err := w.authorizeForged(f, lab.USD(500))
				// Not for our key: the envelope does not open.
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(f.transIDs.XID)
				if got := w.spent(card.PAN); got != 0 {
					t.Fatalf("spent %d", got)
				}
			})

			t.Run("PI names another gateway", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				s := w.honestSpec(holder, card, 500)
				s.pgThumb = thumbOf(other.ExchangeCert) // sealed to us, meant for them
				f := w.forgePI(s)
				code, err := w.authorizeForged(f, lab.USD(500))
				if !modern {
					// A set1 PIHead names no gateway (deviation 1): the
					// field, added anyway, is not checked.
					wantApproved(t, code, err, "set1 checks no gateway name")
					return
				}
				wantCode(t, err, msg.ThumbsMismatch)
				w.wantNoRecord(f.transIDs.XID)
			})

			t.Run("PI of another purchase swapped in", func(t *testing.T) {
				w.t = t
				pu1, pu2 := w.startPurchase(0, "one", 100), w.startPurchase(0, "two", 100)
				_, err := w.authorize(w.honestData(pu1), w.hPI(pu1.pi()), pu2.pi())
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu1.oi().TransIDs.XID)
				w.wantNoRecord(pu2.oi().TransIDs.XID)
			})

			t.Run("PI of another purchase with its digest", func(t *testing.T) {
				w.t = t
				// The merchant signs the other PI's digest too: the order
				// information digests no longer agree.
				pu1, pu2 := w.startPurchase(0, "one", 100), w.startPurchase(0, "two", 100)
				_, err := w.authorize(w.honestData(pu1), w.hPI(pu2.pi()), pu2.pi())
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu1.oi().TransIDs.XID)
				w.wantNoRecord(pu2.oi().TransIDs.XID)
			})

			t.Run("merchant asks more than the cardholder agreed", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a book", 1000)
				data := w.honestData(pu)
				data.AuthReqItem.AuthReqPayload.AuthReqAmt = lab.USD(1001)
				_, err := w.authorize(data, w.hPI(pu.pi()), pu.pi())
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})

			t.Run("dual signature by another cardholder", func(t *testing.T) {
				w.t = t
				pu0, pu1 := w.startPurchase(0, "mine", 100), w.startPurchase(1, "theirs", 100)
				pi := msg.PI{PIDualSigned: &msg.PIDualSigned{
					PISignature: pu1.preq.DualSigned.PIDualSigned.PISignature,
					EXPIData:    pu0.preq.DualSigned.PIDualSigned.EXPIData,
				}}
				_, err := w.authorize(w.honestData(pu0), w.hPI(pi), pi)
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu0.oi().TransIDs.XID)
			})

			t.Run("cardholder certificate for another PAN", func(t *testing.T) {
				w.t = t
				holder, _ := w.newCardholder()
				_, victim := w.newCardholder()
				s := w.honestSpec(holder, victim, 100) // signs with its own key, pays with another's card
				f := w.forgePI(s)
				_, err := w.authorizeForged(f, lab.USD(100))
				wantCode(t, err, msg.InvalidCertificate)
				w.wantNoRecord(f.transIDs.XID)
				if got := w.spent(victim.PAN); got != 0 {
					t.Fatalf("victim's account spent %d", got)
				}
			})

			t.Run("merchant ID differs from the certificate", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a pen", 100)
				data := w.honestData(pu)
				data.AuthReqItem.AuthTags.AuthRRTags.MerTermIDs.MerchantID = "MER-0002"
				_, err := w.authorize(data, w.hPI(pu.pi()), pu.pi())
				wantCode(t, err, msg.InvalidCertificate)
			})

			t.Run("PI names another merchant", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				s := w.honestSpec(holder, card, 100)
				s.merchantID = "MER-0002"
				f := w.forgePI(s)
				_, err := w.authorizeForged(f, lab.USD(100))
				wantCode(t, err, msg.SignatureFailure)
			})

			t.Run("PI for another transaction", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				f := w.forgePI(w.honestSpec(holder, card, 100))
				data := w.authData(w.newTransIDs(), f.hOIData, f.hod, lab.USD(100))
				_, err := w.authorize(data, w.hPI(f.pi), f.pi)
				wantCode(t, err, msg.UnknownXID)
			})

			t.Run("digests", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				f := w.forgePI(w.honestSpec(holder, card, 100))
				flip := func(b []byte) []byte { c := append([]byte(nil), b...); c[len(c)-1] ^= 1; return c }
				for name, mutate := range map[string]func(*msg.AuthReqData){
					"no CheckDigests":          func(d *msg.AuthReqData) { d.AuthReqItem.CheckDigests = nil },
					"order information digest": func(d *msg.AuthReqData) { d.AuthReqItem.CheckDigests.HOIData = flip(f.hOIData) },
					"order digest":             func(d *msg.AuthReqData) { d.AuthReqItem.CheckDigests.HOD2 = flip(f.hod) },
				} {
					data := w.authData(f.transIDs, f.hOIData, f.hod, lab.USD(100))
					mutate(&data)
					_, err := w.authorize(data, w.hPI(f.pi), f.pi)
					if msg.CodeOf(err) != msg.SignatureFailure {
						t.Errorf("%s: %v, want signatureFailure", name, err)
					}
				}
				w.wantNoRecord(f.transIDs.XID)
			})

			t.Run("signed by a gateway, not a merchant", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a cup", 100)
				_, err := w.l.Gateway.HandleAuthReq(w.ctx, w.seal(other, w.honestData(pu), w.hPI(pu.pi()), pu.pi()))
				if err == nil {
					t.Fatal("AuthReq signed by a gateway accepted")
				}
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})

			t.Run("merchant key-exchange certificate missing", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a cup", 100)
				c := w.mer
				c.ExchangeCert = nil
				_, err := w.l.Gateway.HandleAuthReq(w.ctx, w.seal(c, w.honestData(pu), w.hPI(pu.pi()), pu.pi()))
				wantCode(t, err, msg.MissingCertificate)
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})

			t.Run("declined card spends nothing", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				for _, c := range []struct {
					cents int64
					want  msg.AuthCode
				}{{6000, msg.AuthApproved}, {5000, msg.AuthDeclined}, {4000, msg.AuthApproved}, {1, msg.AuthDeclined}} {
					f := w.forgePI(w.honestSpec(holder, card, c.cents))
					code, err := w.authorizeForged(f, lab.USD(c.cents))
					if err != nil || code != c.want {
						t.Fatalf("%d: %v, %v; want %v", c.cents, code, err, c.want)
					}
					a := w.authorization(f.transIDs.XID)
					if a == nil || a.Amount != c.cents || (a.State == "declined") != (c.want == msg.AuthDeclined) {
						t.Fatalf("%d: record %+v", c.cents, a)
					}
				}
				if got := w.spent(card.PAN); got != limit {
					t.Fatalf("spent %d, want %d (declines must spend nothing)", got, limit)
				}
			})

			t.Run("zero amount", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				f := w.forgePI(w.honestSpec(holder, card, 0))
				code, err := w.authorizeForged(f, lab.USD(0))
				if err != nil || code != msg.AuthAmountError {
					t.Fatalf("zero amount: %v, %v", code, err)
				}
			})
		})
	}
}

// heldAuthReq runs a purchase at time at through the lab's merchant and
// returns its AuthReq, which the tap keeps from the gateway.
func (w *world) heldAuthReq(at time.Time) []byte {
	w.t.Helper()
	w.clock.Set(at)
	w.setHold(true)
	defer w.setHold(false)
	if _, _, err := w.pay(0, "held", 100); err == nil {
		w.t.Fatal("purchase completed though its AuthReq was held")
	}
	return lastSeen[*msg.AuthReq](w)
}

// wantAnswered fails unless the gateway answers req with an AuthRes.
func (w *world) wantAnswered(req []byte) {
	w.t.Helper()
	resp, err := w.l.Gateway.Serve(w.ctx, req)
	if err != nil {
		w.t.Fatal(err)
	}
	mw, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, ok := mw.Message.(*msg.AuthRes); !ok {
		w.t.Fatalf("control request answered with %s (code %v)", mw.Message.Name(), errorCode(w.t, resp))
	}
}

func (w *world) wantNoRecord(xid msg.XID) {
	w.t.Helper()
	if a := w.authorization(xid); a != nil {
		w.t.Fatalf("a rejected request left an authorization: %+v", a)
	}
}

// TestCapReqChecks runs the gateway's capture rules.
func TestCapReqChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			modern := st.ID() != suite.Set1
			merID := w.l.MerchantID
			holder, card := w.newCardholder()
			approved := w.forgePI(w.honestSpec(holder, card, 1000))
			if code, err := w.authorizeForged(approved, lab.USD(1000)); err != nil || code != msg.AuthApproved {
				t.Fatalf("authorization: %v, %v", code, err)
			}
			declined := w.forgePI(w.honestSpec(holder, card, limit))
			if code, err := w.authorizeForged(declined, lab.USD(limit)); err != nil || code != msg.AuthDeclined {
				t.Fatalf("authorization over the limit: %v, %v", code, err)
			}
			tid := approved.transIDs

			capCode := func(t *testing.T, c lab.Credential, merID string, tid msg.TransIDs, amt msg.CurrencyAmount, mutate func(*msg.CapReqData), want msg.CapCode) {
				t.Helper()
				w.t = t
				got, err := w.captureWith(c, merID, tid, amt, mutate)
				if err != nil || got != want {
					t.Fatalf("capture: %v, %v; want %v", got, err, want)
				}
			}
			t.Run("without authorization", func(t *testing.T) {
				capCode(t, w.mer, merID, w.newTransIDs(), lab.USD(100), nil, msg.CapUnknownXID)
			})
			// The CapToken the capture carries names the amount
			// authorized: asking more, or in another currency, fails it
			// first (an authorization issued no token answers
			// invalidAuthData: TestCapTokenNotIssued).
			t.Run("above the authorized amount", func(t *testing.T) {
				capCode(t, w.mer, merID, tid, lab.USD(1001), nil, msg.CapInvalidCapToken)
			})
			t.Run("another currency", func(t *testing.T) {
				capCode(t, w.mer, merID, tid, msg.CurrencyAmount{Currency: 978, Amount: 1000, AmtExp10: -2}, nil, msg.CapInvalidCapToken)
			})
			t.Run("another merchant's authorization", func(t *testing.T) {
				rival := issueMerchant(t, w.l, "MER-0002", w.t0)
				capCode(t, rival, "MER-0002", tid, lab.USD(1000), nil, msg.CapUnknownXID)
			})
			t.Run("declined authorization", func(t *testing.T) {
				capCode(t, w.mer, merID, declined.transIDs, lab.USD(limit), nil, msg.CapInvalidAuthData)
			})
			t.Run("merchant ID differs from the certificate", func(t *testing.T) {
				w.t = t
				_, err := w.captureWith(w.mer, "MER-0002", tid, lab.USD(1000), nil)
				wantCode(t, err, msg.InvalidCertificate)
			})
			// set1 (1997) CapReq names no gateway and carries no expiry
			// (deviations 1 and 3): the fields, added anyway, are not
			// checked, and the capture goes through. It captures an
			// authorization of its own, so tid stays uncaptured.
			set1Captures := func(t *testing.T, mutate func(*msg.CapReqData)) {
				t.Helper()
				w.t = t
				f := w.forgePI(w.honestSpec(holder, card, 100))
				code, err := w.authorizeForged(f, lab.USD(100))
				wantApproved(t, code, err, "an honest request")
				capCode(t, w.mer, merID, f.transIDs, lab.USD(100), mutate, msg.CapSuccess)
				if a := w.authorization(f.transIDs.XID); a.State != "captured" || a.Captured != 100 {
					t.Fatalf("record = %+v", a)
				}
			}
			t.Run("for another gateway", func(t *testing.T) {
				w.t = t
				other := issueGateway(t, w.l, "Other Payment Gateway", w.t0)
				forOther := func(d *msg.CapReqData) {
					th := msg.ThumbOf(st.Hash(), other.ExchangeCert)
					d.PGThumb = &th
				}
				if !modern {
					set1Captures(t, forOther)
					return
				}
				_, err := w.captureWith(w.mer, merID, tid, lab.USD(1000), forOther)
				wantCode(t, err, msg.ThumbsMismatch)
			})
			t.Run("expired", func(t *testing.T) {
				w.t = t
				expired := func(d *msg.CapReqData) { d.Expiry = w.clock.Now().Add(-time.Second) }
				if !modern {
					set1Captures(t, expired)
					return
				}
				_, err := w.captureWith(w.mer, merID, tid, lab.USD(1000), expired)
				wantCode(t, err, msg.MessageTooOld)
			})
			// Nothing above captured anything.
			w.t = t
			if a := w.authorization(tid.XID); a.State != "authorized" || a.Captured != 0 {
				t.Fatalf("rejected captures changed the record: %+v", a)
			}
			t.Run("capture then double capture", func(t *testing.T) {
				capCode(t, w.mer, merID, tid, lab.USD(1000), nil, msg.CapSuccess)
				if a := w.authorization(tid.XID); a.State != "captured" || a.Captured != 1000 {
					t.Fatalf("record = %+v", a)
				}
				capCode(t, w.mer, merID, tid, lab.USD(1000), nil, msg.CapDuplicateRequest)
				capCode(t, w.mer, merID, tid, lab.USD(1), nil, msg.CapDuplicateRequest)
				if a := w.authorization(tid.XID); a.Captured != 1000 {
					t.Fatalf("record after double capture = %+v", a)
				}
			})
			t.Run("replayed CapReq", func(t *testing.T) {
				w.t = t
				p, res, err := w.pay(0, "tea", 350)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("Pay: %v, %v", res, err)
				}
				xid := p.TransIDs().XID
				if code, err := w.l.Merchant.Capture(w.ctx, xid); err != nil || code != msg.CapSuccess {
					t.Fatalf("Capture: %v, %v", code, err)
				}
				resp, err := w.l.Gateway.Serve(w.ctx, lastSeen[*msg.CapReq](w))
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("replayed CapReq answered with %v, want messageTooOld", code)
				}
			})
		})
	}
}
