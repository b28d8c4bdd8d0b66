package gateway_test

import (
	"crypto/rand"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// TestUnopenedEnvelopeCode: an envelope the gateway cannot open — sealed
// to another gateway's key, or (modern) failing its authentication — is
// answered signatureFailure, whether it is the merchant's AuthReq
// envelope or the cardholder's PI inside it, in both suites
// (docs/spec-gaps.md, "An envelope that does not open"). Nothing is
// recorded.
func TestUnopenedEnvelopeCode(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			other := issueGateway(t, w.l, "Other Payment Gateway", w.t0)
			modern := st.ID() != suite.Set1

			t.Run("AuthReq sealed to another gateway", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a rug", 300)
				tbs, err := (&msg.AuthReqTBS{AuthReqData: w.honestData(pu), HPI: w.hPI(pu.pi())}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				tbe, err := encap.Enc(st, rand.Reader, w.mer.Signer(), other.ExchangeCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, tbs)
				if err != nil {
					t.Fatal(err)
				}
				_, err = w.l.Gateway.HandleAuthReq(w.ctx, &msg.AuthReq{AuthReqTBE: tbe, PI: pu.pi()})
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})

			t.Run("PI sealed to another gateway", func(t *testing.T) {
				w.t = t
				holder, card := w.newCardholder()
				s := w.honestSpec(holder, card, 300)
				s.sealTo = other.ExchangeCert
				f := w.forgePI(s)
				_, err := w.authorizeForged(f, lab.USD(300))
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(f.transIDs.XID)
			})

			if !modern {
				// set1's DES-CBC envelope authenticates nothing: a flipped
				// byte opens to garbage, which the signature under it
				// refuses (TestTampered in lab/labnet).
				return
			}
			// The last byte of an AuthEnvelopedData is its GCM tag's.
			t.Run("AuthReq envelope fails its authentication", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a vase", 300)
				req := w.seal(w.mer, w.honestData(pu), w.hPI(pu.pi()), pu.pi())
				req.AuthReqTBE = flipLast(req.AuthReqTBE)
				_, err := w.l.Gateway.HandleAuthReq(w.ctx, req)
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})
			t.Run("PI envelope fails its authentication", func(t *testing.T) {
				w.t = t
				pu := w.startPurchase(0, "a bowl", 300)
				pi := *pu.pi().PIDualSigned
				pi.EXPIData = flipLast(pi.EXPIData)
				_, err := w.authorize(w.honestData(pu), w.hPI(msg.PI{PIDualSigned: &pi}), msg.PI{PIDualSigned: &pi})
				wantCode(t, err, msg.SignatureFailure)
				w.wantNoRecord(pu.oi().TransIDs.XID)
			})
		})
	}
}

func flipLast(b []byte) []byte {
	b = append([]byte(nil), b...)
	b[len(b)-1] ^= 0x01
	return b
}
