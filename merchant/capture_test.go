package merchant_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
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

// capGateway is the fake gateway, answering captures too: with what the
// real gateway would send, after mutate.
type capGateway struct {
	*fakeGateway
	mutate func(*msg.CapResData)
}

func (g *capGateway) Capture(ctx context.Context, req *msg.CapReq, ids *msg.MessageIDs) (*msg.CapRes, error) {
	st := g.w.st
	tbs, _, signerCert, err := encap.OpenEnc(st, g.gw.ExchangeKey, g.gw.ExchangeCert, req.CapReqTBE, msg.OIDCapReqTBS, msg.OIDCapReqTBE,
		pki.CertVerifier(pki.VerifyOptions{Roots: g.w.l.Roots, Now: time.Now(), CertType: pki.CertTypeMer, KeyUsage: x509.KeyUsageDigitalSignature}))
	if err != nil {
		return nil, err
	}
	t, err := msg.UnmarshalCapReqTBS(tbs)
	if err != nil {
		return nil, err
	}
	d := msg.CapResData{CapRRTags: t.CapReqData.CapRRTags}
	for _, it := range t.CapReqData.CapItemSeq {
		d.CapResItemSeq = append(d.CapResItemSeq, msg.CapResItem{TransIDs: it.TransIDs, AuthRRPID: it.AuthRRPID,
			CapResPayload: msg.CapResPayload{CapCode: msg.CapSuccess, CapAmt: it.CapPayload.CapReqAmt}})
	}
	if st.ID() != suite.Set1 {
		th := msg.ThumbOf(st.Hash(), signerCert)
		d.MerchantThumb = &th
		h := st.Hash().New()
		h.Write(tbs)
		d.HCapReq = h.Sum(nil)
	}
	if g.mutate != nil {
		g.mutate(&d)
	}
	content, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, rand.Reader, g.gw.Signer(), g.w.mer.ExchangeCert, msg.OIDCapResData, msg.OIDCapResTBE, content)
	if err != nil {
		return nil, err
	}
	return &msg.CapRes{CapResTBE: tbe}, nil
}

// TestCapResNamesMerchantAndRequest: in the modern suite (deviation 2) a
// CapRes must name the merchant and the CapReq it answers; one that names
// another merchant, none, or another request is refused and the order
// stays authorized. set1's CapRes names neither and is taken as it is.
func TestCapResNamesMerchantAndRequest(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			gw := &capGateway{fakeGateway: w.gw}
			m, err := merchant.New(merchant.Config{
				Revocation: w.l.Revocations(),
				Suite:      st, MerchantID: "MER-0042", BrandID: "SETpay",
				SigningKey: merchant.NewSigningKey(w.mer.Key), SigningCert: w.mer.Cert,
				ExchangeKey: merchant.NewExchangeKey(w.mer.ExchangeKey), ExchangeCert: w.mer.ExchangeCert,
				Chain: w.mer.Chain, GatewayCert: w.gw.gw.ExchangeCert, GatewayChain: w.gw.gw.Chain,
				Roots: w.l.Roots, Store: w.ms, Gateway: gw, Log: quiet,
			})
			if err != nil {
				t.Fatal(err)
			}
			authorized := func() msg.XID {
				t.Helper()
				o := w.offer("a lamp", 700)
				_, preq := w.prepare(0, lab.OfferFor(o))
				if _, err := w.m.HandlePReq(w.ctx, preq); err != nil {
					t.Fatal(err)
				}
				return msg.XID(o.LIDM)
			}
			rival := issueMerchant(t, w.l, "MER-0043", w.t0)
			type refusal struct {
				name   string
				mutate func(*msg.CapResData)
				want   msg.ErrorCode
			}
			var refusals []refusal
			if st.ID() != suite.Set1 {
				refusals = []refusal{
					{"another merchant", func(d *msg.CapResData) { th := msg.ThumbOf(st.Hash(), rival.Cert); d.MerchantThumb = &th }, msg.ThumbsMismatch},
					{"no merchant", func(d *msg.CapResData) { d.MerchantThumb = nil }, msg.ThumbsMismatch},
					{"another request", func(d *msg.CapResData) { d.HCapReq[0] ^= 1 }, msg.SignatureFailure},
					{"no request", func(d *msg.CapResData) { d.HCapReq = nil }, msg.SignatureFailure},
				}
			}
			for _, c := range refusals {
				xid := authorized()
				gw.mutate = c.mutate
				_, err := m.Capture(w.ctx, xid)
				wantCode(t, err, c.want)
				if got := w.order(xid).State; got != store.StateAuthorized {
					t.Fatalf("%s: order is %s after a refused CapRes", c.name, got)
				}
			}
			gw.mutate = nil
			xid := authorized()
			if code, err := m.Capture(w.ctx, xid); err != nil || code != msg.CapSuccess {
				t.Fatalf("honest CapRes: %v, %v", code, err)
			}
			if got := w.order(xid).State; got != store.StateCaptured {
				t.Fatalf("order is %s after capture", got)
			}
		})
	}
}
