package wallet_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wallet"
)

// TestPlanSignedIntoPI: the plan the cardholder agrees to travels in the
// PIHead the dual signature covers, where only the gateway reads it; an
// invalid plan is refused before anything is signed.
func TestPlanSignedIntoPI(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			for name, plan := range map[string]*msg.InstallRecurData{
				"recurring":   wallet.RecurringPlan(30, until),
				"instalments": wallet.InstalmentPlan(6),
				"none":        nil,
			} {
				o := offer
				o.Plan = plan
				p, req, err := w.w.Start(o)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner())); err != nil {
					t.Fatal(err)
				}
				preq, err := p.PReq()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				tbeDER, _, err := encap.OpenEX(st, w.gw.ExchangeKey, w.gw.ExchangeCert, preq.DualSigned.PIDualSigned.EXPIData, msg.OIDPIDualSignedTBE)
				if err != nil {
					t.Fatal(err)
				}
				tbe, err := msg.UnmarshalPIDualSignedTBE(tbeDER)
				if err != nil {
					t.Fatal(err)
				}
				got, err := msg.ParseInstallRecurData(tbe.PIOILink.PIHead.InstallRecurData)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				switch {
				case plan == nil && got != nil:
					t.Errorf("none: PIHead carries %+v", got)
				case plan != nil && (got == nil || !bytes.Equal(got.Raw(), mustMarshal(t, plan))):
					t.Errorf("%s: PIHead carries %+v", name, got)
				}
			}

			o := offer
			o.Plan = wallet.RecurringPlan(0, until)
			p, req, err := w.w.Start(o)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner())); err != nil {
				t.Fatal(err)
			}
			if _, err := p.PReq(); err == nil {
				t.Error("a plan of every 0 days was signed")
			}
		})
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

// TestProofOfFirstShipment: the gateway's proof may approve less than the
// purchase (the first part of a split shipment), never more.
func TestProofOfFirstShipment(t *testing.T) {
	w := newWorld(t, suites()[0])
	for cents, ok := range map[int64]bool{500: true, 1500: true, 1501: false, 0: false} {
		p, preq := w.toPReq()
		proof := w.proof(preq, msg.AuthApproved, func(d *msg.AuthResData) { d.AuthResPayload.AuthHeader.AuthAmt.Amount = cents }, w.gw)
		res, err := p.HandlePRes(w.pres(preq, msg.AuthorizationAccepted, proof, nil, w.merchantSigner()))
		if ok && (err != nil || res.Gateway == nil || res.Gateway.Amount.Amount != cents) {
			t.Errorf("approval of %d: %+v, %v", cents, res, err)
		}
		if !ok && msg.CodeOf(err) != msg.SignatureFailure {
			t.Errorf("approval of %d: %v, want signatureFailure", cents, err)
		}
	}
}
