package gateway_test

import (
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// authRevWithBaggage sends an AuthRevReq from the lab's merchant reducing
// the authorization of order xid to newAmt, saying authorized is what it
// holds, with baggage beside the signed data and hBaggage as the digest
// the merchant signs. It returns the answer's code or the gateway's
// rejection.
func (w *world) authRevWithBaggage(xid msg.XID, authorized, newAmt msg.CurrencyAmount, baggage *msg.AuthRevReqBaggage, hBaggage []byte) (msg.AuthRevCode, error) {
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
	mer := msg.MerTermIDs{MerchantID: w.l.MerchantID}
	data := msg.AuthRevReqData{
		AuthRevTags: msg.AuthRevTags{AuthRevRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: mer, CurrentDate: now}, TransIDs: *transIDs},
		AuthReqData: msg.AuthReqData{AuthReqItem: msg.AuthReqItem{
			AuthTags:       msg.AuthTags{AuthRRTags: msg.RRTags{RRPID: msg.RRPID(o.AuthRRPID), MerTermIDs: mer, CurrentDate: transIDs.PReqDate}, TransIDs: *transIDs},
			AuthReqPayload: msg.AuthReqPayload{AuthReqAmt: authorized},
		}},
		AuthResPayload: msg.AuthResPayload{AuthHeader: msg.AuthHeader{AuthAmt: authorized, AuthCode: msg.AuthApproved}},
		AuthNewAmt:     newAmt,
	}
	data.PGThumb, data.Expiry = w.addressed(now)
	tbs, err := (&msg.AuthRevReqTBS{AuthRevReqData: data, HAuthRevReqBaggage: hBaggage}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	tbe := w.toGateway(msg.OIDAuthRevReqTBS, msg.OIDAuthRevReqTBE, tbs)
	res, err := w.l.Gateway.HandleAuthRevReq(w.ctx, &msg.AuthRevReq{AuthRevReqTBE: tbe, AuthRevReqBaggage: baggage})
	if err != nil {
		return 0, err
	}
	content := w.fromGateway(res.AuthRevResTBE, msg.OIDAuthRevResData, msg.OIDAuthRevResTBE)
	d, err := msg.UnmarshalAuthRevResData(content)
	if err != nil {
		w.t.Fatalf("AuthRevResData: %v", err)
	}
	return d.AuthRevCode, nil
}

// baggageOf returns the AuthRevReqBaggage of order xid's PI with token,
// and its digest, as the merchant signs it.
func (w *world) baggageOf(xid msg.XID, token []byte) (*msg.AuthRevReqBaggage, []byte) {
	w.t.Helper()
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil || len(o.Parts) != 1 || o.Parts[0].PI == nil {
		w.t.Fatalf("order %+v, %v: no part with a PI", o, err)
	}
	pi, err := msg.UnmarshalPI(o.Parts[0].PI)
	if err != nil {
		w.t.Fatal(err)
	}
	g := &msg.AuthRevReqBaggage{PI: *pi, CapToken: token}
	b, err := g.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	h, err := encap.DD(w.st, msg.OIDAuthRevReqBaggage, b)
	if err != nil {
		w.t.Fatal(err)
	}
	return g, h
}

// TestAuthRevCapTokenChecks: an authorization reversal whose baggage
// carries a CapToken is held to it. Baggage the merchant did not sign is
// an Error; a token of another purchase, or for less than the request
// says is authorized, is unknownXID (AuthRevCode has no invalidCapToken)
// and releases nothing, as does a request without baggage for an
// authorization the gateway issued a token for; the right token lets the
// reversal through.
func TestAuthRevCapTokenChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			authorize := w.authorized
			one, oneToken := authorize("a coat")
			_, twoToken := authorize("a hat")
			authorized := lab.USD(20_00)
			wantAuthorized := func(what string, want int64) {
				t.Helper()
				if a := w.authorization(one); a.State != "authorized" || a.Amount != want {
					t.Fatalf("%s: authorization %s of %d, want authorized %d", what, a.State, a.Amount, want)
				}
			}

			mine, hMine := w.baggageOf(one, oneToken)
			theirs, hTheirs := w.baggageOf(one, twoToken)
			_, err := w.authRevWithBaggage(one, authorized, lab.USD(0), mine, nil)
			wantCode(t, err, msg.SignatureFailure)
			_, err = w.authRevWithBaggage(one, authorized, lab.USD(0), nil, hMine)
			wantCode(t, err, msg.SignatureFailure)
			_, err = w.authRevWithBaggage(one, authorized, lab.USD(0), mine, hTheirs)
			wantCode(t, err, msg.SignatureFailure)
			if code, err := w.authRevWithBaggage(one, authorized, lab.USD(0), theirs, hTheirs); err != nil || code != msg.AuthRevUnknownXID {
				t.Fatalf("reversal under another purchase's token: %v, %v; want unknownXID", code, err)
			}
			above := authorized
			above.Amount++
			if code, err := w.authRevWithBaggage(one, above, lab.USD(0), mine, hMine); err != nil || code != msg.AuthRevUnknownXID {
				t.Fatalf("reversal claiming more authorized than the token: %v, %v; want unknownXID", code, err)
			}
			wantAuthorized("after the refusals", 20_00)

			if code, err := w.authRevWithBaggage(one, authorized, lab.USD(15_00), mine, hMine); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("partial reversal under its token: %v, %v", code, err)
			}
			wantAuthorized("partial reversal", 15_00)
			if code, err := w.authRevWithBaggage(one, lab.USD(15_00), lab.USD(10_00), nil, nil); err != nil || code != msg.AuthRevUnknownXID {
				t.Fatalf("partial reversal without the token issued: %v, %v; want unknownXID", code, err)
			}
			wantAuthorized("reversal without baggage", 15_00)
		})
	}
}
