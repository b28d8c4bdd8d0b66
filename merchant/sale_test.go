package merchant_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// saleWorld is newWorld with a merchant that sells with captureNow.
func saleWorld(t *testing.T, st suite.Suite) *world {
	t.Helper()
	w := newWorld(t, st)
	gw := w.gw.gw
	m, err := merchant.New(merchant.Config{
		Revocation: w.l.Revocations(),
		Suite:      st, MerchantID: "MER-0042", BrandID: "SETpay",
		SigningKey: merchant.NewSigningKey(w.mer.Key), SigningCert: w.mer.Cert,
		ExchangeKey: merchant.NewExchangeKey(w.mer.ExchangeKey), ExchangeCert: w.mer.ExchangeCert,
		Chain: w.mer.Chain, GatewayCert: gw.ExchangeCert, GatewayChain: gw.Chain,
		Roots: w.l.Roots, Store: w.ms, Gateway: w.gw, Log: quiet,
		CaptureNow: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	return w
}

// captureNowOf opens an AuthReq as the fake gateway and returns its
// captureNow.
func (g *fakeGateway) captureNowOf(req *msg.AuthReq) (bool, error) {
	tbs, _, _, err := encap.OpenEnc(g.w.st, g.gw.ExchangeKey, g.gw.ExchangeCert, req.AuthReqTBE, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE,
		pki.CertVerifier(pki.VerifyOptions{Roots: g.w.l.Roots, Now: time.Now(), CertType: pki.CertTypeMer, KeyUsage: x509.KeyUsageDigitalSignature}))
	if err != nil {
		return false, err
	}
	t, err := msg.UnmarshalAuthReqTBS(tbs)
	if err != nil {
		return false, err
	}
	return t.AuthReqData.CaptureNow, nil
}

// capturedAtOnce fills the answer's CapResPayload as a gateway that
// captured the whole amount does.
func capturedAtOnce(d *msg.AuthResData) {
	d.AuthResPayload.CapResPayload = &msg.CapResPayload{CapCode: msg.CapSuccess, CapAmt: d.AuthResPayload.AuthHeader.AuthAmt}
}

// TestSale: a merchant configured with CaptureNow asks for it in every
// AuthReq; the gateway's signed capture makes the order captured and the
// PRes capturePerformed, which the wallet accepts; anything short of a
// capture of the whole amount leaves the order authorized (or declined).
func TestSale(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := saleWorld(t, st)
			var asked []bool
			check := func(req *msg.AuthReq) error {
				now, err := w.gw.captureNowOf(req)
				asked = append(asked, now)
				return err
			}
			buy := func(mutate func(*msg.AuthResData)) (*store.Order, msg.CompletionCode) {
				t.Helper()
				w.gw.set(mutate, check)
				o := w.offer("an e-book", 12_99)
				p, preq := w.prepare(0, lab.OfferFor(o))
				res, err := w.m.HandlePReq(w.ctx, preq)
				if err != nil {
					t.Fatalf("HandlePReq: %v", err)
				}
				r, err := p.HandlePRes(res)
				if err != nil {
					t.Fatalf("wallet refused the PRes: %v", err)
				}
				if st.ID() != suite.Set1 && r.Gateway == nil {
					t.Fatal("PRes without the gateway's proof")
				}
				return w.order(msg.XID(o.LIDM)), r.Completion
			}

			o, c := buy(capturedAtOnce)
			if c != msg.CapturePerformed || o.State != store.StateCaptured || o.CaptureAmount != 12_99 || o.AuthAmount != 12_99 {
				t.Fatalf("sale: completion %v, order %s captured %d", c, o.State, o.CaptureAmount)
			}
			// Captured already: the merchant sends no CapReq for it.
			if _, err := w.m.Capture(w.ctx, msg.XID(o.XID)); err == nil {
				t.Fatal("Capture of a sold order succeeded")
			}

			// Approved without a capture: authorized, to be captured later.
			o, c = buy(nil)
			if c != msg.AuthorizationAccepted || o.State != store.StateAuthorized || o.CaptureAmount != 0 {
				t.Fatalf("approval without capture: completion %v, order %s", c, o.State)
			}
			// A capture that failed or took less than all is no sale.
			for _, bad := range []func(*msg.AuthResData){
				func(d *msg.AuthResData) {
					d.AuthResPayload.CapResPayload = &msg.CapResPayload{CapCode: msg.CapUnspecifiedFailure, CapAmt: d.AuthResPayload.AuthHeader.AuthAmt}
				},
				func(d *msg.AuthResData) {
					capturedAtOnce(d)
					d.AuthResPayload.CapResPayload.CapAmt.Amount--
				},
			} {
				o, c = buy(bad)
				if c != msg.AuthorizationAccepted || o.State != store.StateAuthorized {
					t.Fatalf("failed capture: completion %v, order %s", c, o.State)
				}
			}
			// Declined: nothing captured whatever the payload says.
			o, c = buy(func(d *msg.AuthResData) {
				d.AuthResPayload.AuthHeader.AuthCode = msg.AuthDeclined
				d.AuthResPayload.AuthHeader.ResponseData.AuthValCodes = nil
			})
			if c != msg.OrderRejected || o.State != store.StateDeclined {
				t.Fatalf("declined sale: completion %v, order %s", c, o.State)
			}
			for i, now := range asked {
				if !now {
					t.Fatalf("AuthReq %d lacks captureNow", i)
				}
			}
			if len(asked) != 5 {
				t.Fatalf("gateway saw %d AuthReqs, want 5", len(asked))
			}
		})
	}
}

// TestNoSaleUnlessAsked: a merchant without CaptureNow does not ask for
// it, and a CapResPayload it did not ask for does not make the order
// captured.
func TestNoSaleUnlessAsked(t *testing.T) {
	w := newWorld(t, suite.NewModern())
	w.gw.set(capturedAtOnce, func(req *msg.AuthReq) error {
		now, err := w.gw.captureNowOf(req)
		if err == nil && now {
			err = errors.New("captureNow set")
		}
		return err
	})
	o := w.offer("a lamp", 9_00)
	_, preq := w.prepare(0, lab.OfferFor(o))
	if _, err := w.m.HandlePReq(context.Background(), preq); err != nil {
		t.Fatal(err)
	}
	if got := w.order(msg.XID(o.LIDM)); got.State != store.StateAuthorized || got.CaptureAmount != 0 {
		t.Fatalf("order %s, captured %d; want authorized", got.State, got.CaptureAmount)
	}
}
