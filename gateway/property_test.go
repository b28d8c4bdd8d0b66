package gateway_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// TestSpendingProperty runs random sequences of purchases, captures and
// replays by two cardholders against one gateway with a spending limit and
// checks after every step that the gateway's books add up: each account has
// spent exactly what was approved for it, nothing is captured twice, and no
// capture exceeds its authorization.
func TestSpendingProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := newWorld(t, suite.NewModern(), 2)
		approved := [2]int64{}
		var xids []msg.XID
		captured := map[msg.XID]int{}
		var lastAuth, lastCap []byte

		steps := rapid.IntRange(1, 8).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 3).Draw(rt, "action") {
			case 0: // purchase
				i := rapid.IntRange(0, 1).Draw(rt, "cardholder")
				cents := rapid.Int64Range(1, 6000).Draw(rt, "cents")
				p, res, err := w.pay(i, "something", cents)
				if err != nil {
					rt.Fatalf("Pay: %v", err)
				}
				wantOK := approved[i]+cents <= limit
				if ok := res.Completion == msg.AuthorizationAccepted; ok != wantOK {
					rt.Fatalf("%d on top of %d: completion %v", cents, approved[i], res.Completion)
				}
				if wantOK {
					approved[i] += cents
					xids = append(xids, p.TransIDs().XID)
				}
				lastAuth = lastSeen[*msg.AuthReq](w)
			case 1: // capture an earlier approval (perhaps again)
				if len(xids) == 0 {
					continue
				}
				xid := xids[rapid.IntRange(0, len(xids)-1).Draw(rt, "order")]
				code, err := w.l.Merchant.Capture(w.ctx, xid)
				if err == nil && code == msg.CapSuccess {
					captured[xid]++
					lastCap = lastSeen[*msg.CapReq](w)
				} else if captured[xid] == 0 {
					rt.Fatalf("first capture of an approval failed: %v, %v", code, err)
				}
			case 2: // replay the last AuthReq
				if lastAuth == nil {
					continue
				}
				w.wantReplayRefused(rt, lastAuth)
			case 3: // replay the last CapReq
				if lastCap == nil {
					continue
				}
				w.wantReplayRefused(rt, lastCap)
			}

			for i := range 2 {
				if got := w.spent(w.l.Cards[i].PAN); got != approved[i] {
					rt.Fatalf("cardholder %d: gateway counts %d spent, %d was approved", i, got, approved[i])
				}
			}
			for _, xid := range xids {
				a := w.authorization(xid)
				if captured[xid] > 1 {
					rt.Fatalf("order captured %d times", captured[xid])
				}
				if a.Captured > a.Amount || (a.State == "captured") != (captured[xid] == 1) {
					rt.Fatalf("authorization %+v after %d captures", a, captured[xid])
				}
			}
		}
	})
}

func (w *world) wantReplayRefused(rt *rapid.T, req []byte) {
	resp, err := w.l.Gateway.Serve(w.ctx, req)
	if err != nil {
		rt.Fatal(err)
	}
	mw, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		rt.Fatal(err)
	}
	if _, ok := mw.Message.(*msg.Error); !ok {
		rt.Fatalf("replay answered with %s", mw.Message.Name())
	}
}
