package gateway_test

import (
	"encoding/asn1"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// itemReqWithTokens sends a CapRevReq, CredReq or CredRevReq (kind) of
// one item from the lab's merchant for the captured order xid: its
// capture of capAmt, the movement of amount (ignored for CapRevReq),
// with tokens as the CapTokenSeq and hTokens as the digest the merchant
// signs. It returns the item's code or the gateway's rejection.
func (w *world) itemReqWithTokens(kind string, xid msg.XID, capAmt, amount msg.CurrencyAmount, tokens *msg.CapTokenSeq, hTokens []byte) (msg.CapRevOrCredCode, error) {
	w.t.Helper()
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil {
		w.t.Fatal(err)
	}
	transIDs, err := msg.UnmarshalTransIDs(o.TransIDs)
	if err != nil {
		w.t.Fatal(err)
	}
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	item := msg.CapRevOrCredReqItem{TransIDs: *transIDs, AuthRRPID: msg.RRPID(o.AuthRRPID),
		CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: capAmt}, CapRevOrCredReqDate: now}
	if kind != "CapRevReq" {
		item.CapRevOrCredReqAmt = &amount
	}
	data := msg.CapRevOrCredReqData{
		CapRevOrCredRRTags:     msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: w.l.MerchantID}, CurrentDate: now},
		CapRevOrCredReqItemSeq: []msg.CapRevOrCredReqItem{item},
	}
	data.PGThumb, data.Expiry = w.addressed(now)
	tbs, err := (&msg.CapRevOrCredReqTBS{CapRevOrCredReqData: data, HCapTokenSeq: hTokens}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	var ctTBS, ctTBE, ctRes, ctResTBE asn1.ObjectIdentifier
	switch kind {
	case "CapRevReq":
		ctTBS, ctTBE, ctRes, ctResTBE = msg.OIDCapRevReqTBS, msg.OIDCapRevReqTBE, msg.OIDCapRevResData, msg.OIDCapRevResTBE
	case "CredReq":
		ctTBS, ctTBE, ctRes, ctResTBE = msg.OIDCredReqTBS, msg.OIDCredReqTBE, msg.OIDCredResData, msg.OIDCredResTBE
	default:
		ctTBS, ctTBE, ctRes, ctResTBE = msg.OIDCredRevReqTBS, msg.OIDCredRevReqTBE, msg.OIDCredRevResData, msg.OIDCredRevResTBE
	}
	tbe := w.toGateway(ctTBS, ctTBE, tbs)
	var resTBE []byte
	switch kind {
	case "CapRevReq":
		res, err := w.l.Gateway.HandleCapRevReq(w.ctx, &msg.CapRevReq{CapRevReqTBE: tbe, CapTokenSeq: tokens})
		if err != nil {
			return 0, err
		}
		resTBE = res.CapRevResTBE
	case "CredReq":
		res, err := w.l.Gateway.HandleCredReq(w.ctx, &msg.CredReq{CredReqTBE: tbe, CapTokenSeq: tokens})
		if err != nil {
			return 0, err
		}
		resTBE = res.CredResTBE
	default:
		res, err := w.l.Gateway.HandleCredRevReq(w.ctx, &msg.CredRevReq{CredRevReqTBE: tbe, CapTokenSeq: tokens})
		if err != nil {
			return 0, err
		}
		resTBE = res.CredRevResTBE
	}
	content := w.fromGateway(resTBE, ctRes, ctResTBE)
	rd, err := msg.UnmarshalCapRevOrCredResData(content)
	if err != nil || len(rd.CapRevOrCredResItemSeq) != 1 {
		w.t.Fatalf("%s answer: %v", kind, err)
	}
	return rd.CapRevOrCredResItemSeq[0].CapRevOrCredCode, nil
}

// tokenSeqOf returns a CapTokenSeq of tokens and its digest, as the
// merchant signs it.
func tokenSeqOf(t testing.TB, st suite.Suite, tokens ...[]byte) (*msg.CapTokenSeq, []byte) {
	t.Helper()
	seq := &msg.CapTokenSeq{Tokens: tokens}
	b, err := seq.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h, err := encap.DD(st, msg.OIDCapTokenSeq, b)
	if err != nil {
		t.Fatal(err)
	}
	return seq, h
}

// TestItemCapTokenChecks: capture reversals, credits and credit reversals
// that carry CapTokens are held to them as captures are. A CapTokenSeq
// the merchant did not sign, or of the wrong length, is an Error; a token
// of another purchase, or for less than the capture the item names, is
// the item's invalidCapToken and moves nothing (an item without a token
// for an authorization the gateway issued one: capTokenMissing); the right
// token lets the movement through.
func TestItemCapTokenChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			capture := func(desc string) (msg.XID, []byte) {
				t.Helper()
				xid, token := w.authorized(desc)
				if code, err := w.l.Merchant.Capture(w.ctx, xid); err != nil || code != msg.CapSuccess {
					t.Fatalf("capture: %v, %v", code, err)
				}
				return xid, token
			}
			one, oneToken := capture("a coat")
			two, twoToken := capture("a hat")
			captured := lab.USD(20_00)
			spent := func(what string, want int64) {
				t.Helper()
				if got := w.spent(w.l.Cards[0].PAN); got != want {
					t.Fatalf("%s: the card has spent %d, want %d", what, got, want)
				}
			}
			spent("two captures", 40_00)

			mine, hMine := tokenSeqOf(t, st, oneToken)
			theirs, hTheirs := tokenSeqOf(t, st, twoToken)
			long, hLong := tokenSeqOf(t, st, oneToken, nil)
			for _, kind := range []string{"CapRevReq", "CredReq", "CredRevReq"} {
				_, err := w.itemReqWithTokens(kind, one, captured, lab.USD(1_00), mine, nil)
				wantCode(t, err, msg.SignatureFailure)
				_, err = w.itemReqWithTokens(kind, one, captured, lab.USD(1_00), mine, hTheirs)
				wantCode(t, err, msg.SignatureFailure)
				_, err = w.itemReqWithTokens(kind, one, captured, lab.USD(1_00), long, hLong)
				wantCode(t, err, msg.DecodingFailure)
				if code, err := w.itemReqWithTokens(kind, one, captured, lab.USD(1_00), theirs, hTheirs); err != nil || code != msg.CapRevOrCredInvalidCapToken {
					t.Fatalf("%s under another purchase's token: %v, %v; want invalidCapToken", kind, code, err)
				}
				if code, err := w.itemReqWithTokens(kind, one, captured, lab.USD(1_00), nil, nil); err != nil || code != msg.CapRevOrCredCapTokenMissing {
					t.Fatalf("%s without the token issued: %v, %v; want capTokenMissing", kind, code, err)
				}
				above := captured
				above.Amount++
				if code, err := w.itemReqWithTokens(kind, one, above, lab.USD(1_00), mine, hMine); err != nil || code != msg.CapRevOrCredInvalidCapToken {
					t.Fatalf("%s naming a capture above the token's: %v, %v; want invalidCapToken", kind, code, err)
				}
			}
			spent("after the refusals", 40_00)
			if a := w.authorization(one); a.State != "captured" {
				t.Fatalf("after the refusals: %+v", a)
			}

			if code, err := w.itemReqWithTokens("CredReq", one, captured, lab.USD(5_00), mine, hMine); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit under its token: %v, %v", code, err)
			}
			spent("credit", 35_00)
			if code, err := w.itemReqWithTokens("CredRevReq", one, captured, lab.USD(2_00), mine, hMine); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit reversal under its token: %v, %v", code, err)
			}
			spent("credit reversal", 37_00)
			if code, err := w.itemReqWithTokens("CapRevReq", two, captured, captured, theirs, hTheirs); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("capture reversal under its token: %v, %v", code, err)
			}
			spent("capture reversal", 17_00)
		})
	}
}
