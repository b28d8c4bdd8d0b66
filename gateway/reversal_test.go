package gateway_test

import (
	"testing"
	"time"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// paid runs a purchase of cents by cardholder 0 and returns its TransIDs.
func (w *world) paid(desc string, cents int64) msg.TransIDs {
	w.t.Helper()
	p, res, err := w.pay(0, desc, cents)
	if err != nil || res == nil {
		w.t.Fatalf("purchase: %v", err)
	}
	return p.TransIDs()
}

// TestReversalsAndCredits runs every reversal and credit flow through the
// merchant and the gateway, and each out-of-order request, checking after
// every step the gateway's record and the issuer's spending.
func TestReversalsAndCredits(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			ctx := w.ctx
			m := w.l.Merchant
			pan := w.l.Cards[0].PAN
			wantSpent := func(want int64) {
				t.Helper()
				if got := w.spent(pan); got != want {
					t.Fatalf("spent %d, want %d", got, want)
				}
			}
			wantAuth := func(xid msg.XID, amount, captured int64, state string) {
				t.Helper()
				a := w.authorization(xid)
				if a == nil || a.Amount != amount || a.Captured != captured || a.State != state {
					t.Fatalf("authorization = %+v, want amount %d captured %d state %s", a, amount, captured, state)
				}
			}

			// Authorization reversal: partial, then full.
			tid := w.paid("book", 1000)
			wantSpent(1000)
			if code, err := m.ReverseAuthorization(ctx, tid.XID, lab.USD(600)); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("partial reversal: %v, %v", code, err)
			}
			wantAuth(tid.XID, 600, 0, "authorized")
			wantSpent(600)
			if code, err := m.ReverseAuthorization(ctx, tid.XID, lab.USD(700)); err != nil || code != msg.AuthRevAmountError {
				t.Fatalf("reversal upwards: %v, %v", code, err)
			}
			wantAuth(tid.XID, 600, 0, "authorized")
			if code, err := m.ReverseAuthorization(ctx, tid.XID, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("full reversal: %v, %v", code, err)
			}
			wantAuth(tid.XID, 0, 0, "reversed")
			wantSpent(0)
			if o, _ := w.ms.Order(ctx, store.XID(tid.XID)); o.State != store.StateReversed {
				t.Fatalf("order is %s after reversal", o.State)
			}
			t.Run("capture after reversal", func(t *testing.T) {
				w.t = t
				if code, err := w.captureWith(w.mer, w.l.MerchantID, tid, lab.USD(100), nil); err != nil || code != msg.CapInvalidAuthData {
					t.Fatalf("capture after reversal: %v, %v", code, err)
				}
				wantAuth(tid.XID, 0, 0, "reversed")
				wantSpent(0)
			})
			w.t = t

			// Capture, then credits and their reversals.
			tid = w.paid("lamp", 2000)
			if code, err := m.Capture(ctx, tid.XID); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture: %v, %v", code, err)
			}
			wantSpent(2000)
			if code, err := m.ReverseAuthorization(ctx, tid.XID, lab.USD(0)); err == nil {
				t.Fatalf("merchant sent a reversal of a captured order: %v", code)
			}
			t.Run("double capture", func(t *testing.T) {
				w.t = t
				if code, err := w.captureWith(w.mer, w.l.MerchantID, tid, lab.USD(2000), nil); err != nil || code != msg.CapDuplicateRequest {
					t.Fatalf("second capture: %v, %v", code, err)
				}
				wantAuth(tid.XID, 2000, 2000, "captured")
			})
			w.t = t
			credit := func(amount int64, want msg.CapRevOrCredCode) {
				t.Helper()
				if code, err := m.Credit(ctx, tid.XID, lab.USD(amount)); err != nil || code != want {
					t.Fatalf("credit %d: %v, %v; want %v", amount, code, err, want)
				}
			}
			reverseCredit := func(amount int64, want msg.CapRevOrCredCode) {
				t.Helper()
				if code, err := m.ReverseCredit(ctx, tid.XID, lab.USD(amount)); err != nil || code != want {
					t.Fatalf("credit reversal %d: %v, %v; want %v", amount, code, err, want)
				}
			}
			reverseCredit(100, msg.CapRevOrCredOriginalNotFound) // nothing credited yet
			wantSpent(2000)
			credit(2001, msg.CapRevOrCredAmountError) // above the captured amount
			wantSpent(2000)
			credit(500, msg.CapRevOrCredSuccess)
			wantSpent(1500)
			credit(1501, msg.CapRevOrCredAmountError) // credits would exceed the capture
			wantSpent(1500)
			reverseCredit(300, msg.CapRevOrCredSuccess)
			wantSpent(1800)
			reverseCredit(300, msg.CapRevOrCredOriginalNotFound) // only 200 left credited
			wantSpent(1800)

			t.Run("replayed CredReq", func(t *testing.T) {
				resp, err := w.l.Gateway.Serve(ctx, lastSeen[*msg.CredReq](w))
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("replay answered %v", code)
				}
				wantSpent(1800)
			})
			t.Run("replayed AuthRevReq", func(t *testing.T) {
				resp, err := w.l.Gateway.Serve(ctx, lastSeen[*msg.AuthRevReq](w))
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("replay answered %v", code)
				}
			})
			w.t = t

			// A capture partly credited is not reversed; once the credit is
			// undone it is.
			if code, err := m.ReverseCapture(ctx, tid.XID); err != nil || code != msg.CapRevOrCredAmountError {
				t.Fatalf("capture reversal of a credited capture: %v, %v", code, err)
			}
			wantSpent(1800)
			reverseCredit(200, msg.CapRevOrCredSuccess)
			wantSpent(2000)
			if code, err := m.ReverseCapture(ctx, tid.XID); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("capture reversal: %v, %v", code, err)
			}
			wantAuth(tid.XID, 2000, 2000, "capture-reversed")
			wantSpent(0)
			if o, _ := w.ms.Order(ctx, store.XID(tid.XID)); o.State != store.StateCaptureReversed {
				t.Fatalf("order is %s after capture reversal", o.State)
			}
			t.Run("replayed CapRevReq", func(t *testing.T) {
				resp, err := w.l.Gateway.Serve(ctx, lastSeen[*msg.CapRevReq](w))
				if err != nil {
					t.Fatal(err)
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("replay answered %v", code)
				}
				wantSpent(0)
			})
			t.Run("credit after capture reversal", func(t *testing.T) {
				w.t = t
				code, err := w.credReqWith(tid, lab.USD(100), nil)
				if err != nil || code != msg.CapRevOrCredAlreadyReversed {
					t.Fatalf("credit after capture reversal: %v, %v", code, err)
				}
				wantSpent(0)
			})
			w.t = t

			// Deviations 1 and 3: a modern CredReq names its gateway and
			// expires. A set1 (1997) one does neither, so there a gateway
			// name added anyway is not checked and a late request is
			// answered: each credits 100.
			set1 := st.ID() == suite.Set1
			tid = w.paid("pen", 300)
			if code, err := m.Capture(ctx, tid.XID); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture: %v, %v", code, err)
			}
			t.Run("wrong gateway", func(t *testing.T) {
				w.t = t
				other := issueGateway(t, w.l, "Another Gateway", w.t0)
				code, err := w.credReqWith(tid, lab.USD(100), func(d *msg.CapRevOrCredReqData) {
					thumb := msg.ThumbOf(w.st.Hash(), other.ExchangeCert)
					d.PGThumb = &thumb
				})
				if set1 {
					if err != nil {
						t.Fatalf("set1 CredReq naming another gateway rejected: %v; want success (set1 checks no gateway name)", err)
					}
					if code != msg.CapRevOrCredSuccess {
						t.Fatalf("set1 CredReq naming another gateway answered %v; want success", code)
					}
					wantSpent(200)
					return
				}
				wantCode(t, err, msg.ThumbsMismatch)
				wantSpent(300)
			})
			t.Run("expired", func(t *testing.T) {
				w.t = t
				w.setHold(true)
				if _, err := m.Credit(ctx, tid.XID, lab.USD(100)); err == nil {
					t.Fatal("held request answered")
				}
				w.setHold(false)
				req := lastSeen[*msg.CredReq](w)
				w.clock.Set(w.t0.Add(time.Hour))
				defer w.clock.Set(w.t0)
				resp, err := w.l.Gateway.Serve(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if set1 {
					mw, err := msg.UnmarshalMessageWrapper(resp)
					if err != nil {
						t.Fatal(err)
					}
					if _, ok := mw.Message.(*msg.CredRes); !ok {
						t.Fatalf("set1 CredReq an hour late answered with %s (code %v); want CredRes (set1 requests carry no expiry)", mw.Message.Name(), errorCode(t, resp))
					}
					wantSpent(100)
					return
				}
				if code := errorCode(t, resp); code != msg.MessageTooOld {
					t.Fatalf("expired CredReq answered %v", code)
				}
				wantSpent(300)
			})
		})
	}
}

// itemCapTokens is withCapTokens for the items of a capture reversal,
// credit or credit reversal.
func (w *world) itemCapTokens(xid msg.XID, items []msg.CapRevOrCredReqItem) (*msg.CapTokenSeq, []byte) {
	return w.withCapTokens(xid, len(items), func(i int) (msg.XID, msg.RRPID) { return items[i].TransIDs.XID, items[i].AuthRRPID },
		func(i int, rrpid msg.RRPID) { items[i].AuthRRPID = rrpid })
}

// credReqWith sends a CredReq for transIDs signed by the lab's second
// merchant credential, after mutate, and returns the item's code. Items
// naming transIDs carry the CapToken the gateway issued for it.
func (w *world) credReqWith(transIDs msg.TransIDs, amount msg.CurrencyAmount, mutate func(*msg.CapRevOrCredReqData)) (msg.CapRevOrCredCode, error) {
	w.t.Helper()
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	data := msg.CapRevOrCredReqData{
		CapRevOrCredRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: w.l.MerchantID}, CurrentDate: now},
		CapRevOrCredReqItemSeq: []msg.CapRevOrCredReqItem{{TransIDs: transIDs,
			CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: amount}, CapRevOrCredReqDate: now, CapRevOrCredReqAmt: &amount}},
	}
	data.PGThumb, data.Expiry = w.addressed(now)
	if mutate != nil {
		mutate(&data)
	}
	seq, h := w.itemCapTokens(transIDs.XID, data.CapRevOrCredReqItemSeq)
	tbs, err := (&msg.CapRevOrCredReqTBS{CapRevOrCredReqData: data, HCapTokenSeq: h}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	tbe := w.toGateway(msg.OIDCredReqTBS, msg.OIDCredReqTBE, tbs)
	res, err := w.l.Gateway.HandleCredReq(w.ctx, &msg.CredReq{CredReqTBE: tbe, CapTokenSeq: seq})
	if err != nil {
		return 0, err
	}
	content := w.fromGateway(res.CredResTBE, msg.OIDCredResData, msg.OIDCredResTBE)
	rd, err := msg.UnmarshalCapRevOrCredResData(content)
	if err != nil || len(rd.CapRevOrCredResItemSeq) != 1 {
		w.t.Fatalf("CredRes: %v", err)
	}
	return rd.CapRevOrCredResItemSeq[0].CapRevOrCredCode, nil
}
