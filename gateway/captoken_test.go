package gateway_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
)

// capReqWithTokens sends a CapReq of one item from the lab's merchant for
// the order xid, asking amount, with tokens as its CapTokenSeq (nil:
// none) and hTokens as the digest the merchant signs, and returns the
// gateway's capture code or its rejection.
func (w *world) capReqWithTokens(xid msg.XID, amount msg.CurrencyAmount, authRRPID *msg.RRPID, tokens *msg.CapTokenSeq, hTokens []byte) (msg.CapCode, error) {
	w.t.Helper()
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil {
		w.t.Fatal(err)
	}
	transIDs, err := msg.UnmarshalTransIDs(o.TransIDs)
	if err != nil {
		w.t.Fatal(err)
	}
	rr := msg.RRPID(o.AuthRRPID)
	if authRRPID != nil {
		rr = *authRRPID
	}
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	data := msg.CapReqData{
		CapRRTags:  msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: w.l.MerchantID}, CurrentDate: now},
		CapItemSeq: []msg.CapItem{{TransIDs: *transIDs, AuthRRPID: rr, CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: amount}}},
	}
	data.PGThumb, data.Expiry = w.addressed(now)
	tbs, err := (&msg.CapReqTBS{CapReqData: data, HCapTokenSeq: hTokens}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	c := w.mer
	tbe, err := encap.Enc(w.st, rand.Reader, c.Signer(), w.gatewayExchangeCert(), msg.OIDCapReqTBS, msg.OIDCapReqTBE, tbs)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.l.Gateway.HandleCapReq(w.ctx, &msg.CapReq{CapReqTBE: tbe, CapTokenSeq: tokens})
	if err != nil {
		return 0, err
	}
	content, _, _, err := encap.OpenEnc(w.st, c.ExchangeKey, c.ExchangeCert, res.CapResTBE, msg.OIDCapResData, msg.OIDCapResTBE, w.verifier(pki.CertTypePgwy))
	if err != nil {
		w.t.Fatalf("opening CapRes: %v", err)
	}
	rd, err := msg.UnmarshalCapResData(content)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(rd.CapResItemSeq) != 1 {
		w.t.Fatalf("CapRes answers %d items", len(rd.CapResItemSeq))
	}
	return rd.CapResItemSeq[0].CapResPayload.CapCode, nil
}

// TestCapTokenChecks sends CapReqs by hand with the CapToken the gateway
// gave an approved purchase: a CapTokenSeq the merchant did not sign, or
// whose digest or length is wrong, is an Error; a token for another
// authorization or for less than the capture asks is invalidCapToken; in
// each case nothing is captured; the genuine token captures.
func TestCapTokenChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			p, res, err := w.pay(0, "books", 12_34)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase: %v, %v", res, err)
			}
			xid := p.TransIDs().XID
			o, err := w.ms.Order(w.ctx, store.XID(xid))
			if err != nil {
				t.Fatal(err)
			}
			if o.CapToken == nil {
				t.Fatal("the approved order holds no CapToken")
			}
			seq := &msg.CapTokenSeq{Tokens: [][]byte{o.CapToken}}
			seqDER, err := seq.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			h, err := encap.DD(st, msg.OIDCapTokenSeq, seqDER)
			if err != nil {
				t.Fatal(err)
			}
			two := &msg.CapTokenSeq{Tokens: [][]byte{o.CapToken, nil}}
			twoDER, err := two.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			hTwo, err := encap.DD(st, msg.OIDCapTokenSeq, twoDER)
			if err != nil {
				t.Fatal(err)
			}
			amt := lab.USD(12_34)
			notCaptured := func(what string) {
				t.Helper()
				if a := w.authorization(xid); a.State != "authorized" || a.Captured != 0 {
					t.Fatalf("%s: authorization %s, captured %d", what, a.State, a.Captured)
				}
			}

			_, err = w.capReqWithTokens(xid, amt, nil, seq, nil)
			wantCode(t, err, msg.SignatureFailure)
			notCaptured("unsigned CapTokenSeq")
			_, err = w.capReqWithTokens(xid, amt, nil, nil, h)
			wantCode(t, err, msg.SignatureFailure)
			notCaptured("signed CapTokenSeq missing")
			_, err = w.capReqWithTokens(xid, amt, nil, seq, hTwo)
			wantCode(t, err, msg.SignatureFailure)
			notCaptured("CapTokenSeq differing from its digest")
			_, err = w.capReqWithTokens(xid, amt, nil, two, hTwo)
			wantCode(t, err, msg.DecodingFailure)
			notCaptured("CapTokenSeq longer than the items")

			var other msg.RRPID
			fillRand(t, other[:])
			if code, err := w.capReqWithTokens(xid, amt, &other, seq, h); err != nil || code != msg.CapInvalidCapToken {
				t.Fatalf("token of another authorization: %v, %v", code, err)
			}
			notCaptured("token of another authorization")
			more := amt
			more.Amount++
			if code, err := w.capReqWithTokens(xid, more, nil, seq, h); err != nil || code != msg.CapInvalidCapToken {
				t.Fatalf("capture above the token's amount: %v, %v", code, err)
			}
			notCaptured("capture above the token's amount")

			if code, err := w.capReqWithTokens(xid, amt, nil, seq, h); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture under the token: %v, %v", code, err)
			}
			if a := w.authorization(xid); a.State != "captured" || a.Captured != 12_34 {
				t.Fatalf("after the capture: %s, captured %d", a.State, a.Captured)
			}
		})
	}
}
