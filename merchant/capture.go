package merchant

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// Capture asks the gateway to capture an authorized order in full. The
// order is marked captured only after the gateway's signed answer says so.
func (m *Merchant) Capture(ctx context.Context, xid msg.XID) (msg.CapCode, error) {
	cfg := m.config()
	order, err := cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return 0, fmt.Errorf("merchant: capture: %w", err)
	}
	if order.State != store.StateAuthorized {
		return 0, fmt.Errorf("merchant: capture: order is %s, not authorized", order.State)
	}
	transIDs, err := msg.UnmarshalTransIDs(order.TransIDs)
	if err != nil {
		return 0, fmt.Errorf("merchant: capture: stored TransIDs: %w", err)
	}
	amount := msg.CurrencyAmount{Currency: order.Currency, Amount: order.AuthAmount, AmtExp10: order.AmtExp10}
	item, err := m.capture(ctx, cfg, "capture", transIDs, msg.RRPID(order.AuthRRPID), amount, order.CapToken)
	if err != nil {
		return 0, err
	}
	if item.CapCode != msg.CapSuccess {
		return item.CapCode, nil
	}
	if err := m.updatePart(ctx, xid, msg.RRPID(order.AuthRRPID), func(p *store.OrderPart) error {
		p.State = store.StateCaptured
		p.CaptureAmount = item.CapAmt.Amount
		return nil
	}, func(o *store.Order) error {
		o.State = store.StateCaptured
		o.CaptureAmount = item.CapAmt.Amount
		return nil
	}); err != nil {
		return 0, err
	}
	return msg.CapSuccess, nil
}

// capture asks the gateway, in a CapReq of one item, to capture amount of
// the authorization of order transIDs that authRRPID names, and checks
// the CapRes: signed by the designated gateway, answering this request
// and this authorization, and naming this merchant and this CapReq
// (deviation 2). It returns the item's result; what names the caller in
// errors. The authorization's CapToken, if the merchant holds one, goes
// with the item (captoken.go). Capture and CaptureShipment (split.go)
// share it.
func (m *Merchant) capture(ctx context.Context, cfg Config, what string, transIDs *msg.TransIDs, authRRPID msg.RRPID, amount msg.CurrencyAmount, capToken []byte) (*msg.CapResPayload, error) {
	st := cfg.Suite
	var rrpid msg.RRPID
	if _, err := io.ReadFull(cfg.Rand, rrpid[:]); err != nil {
		return nil, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	data := msg.CapReqData{
		MThumbs:   cfg.mThumbs(ctx),
		CapRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: now},
		CapItemSeq: []msg.CapItem{{
			TransIDs:   *transIDs,
			AuthRRPID:  authRRPID,
			CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: amount},
		}},
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), cfg.GatewayCert)
		data.PGThumb = &thumb
		data.Expiry = now.Add(cfg.RequestLifetime)
	}
	tokens, hTokens, err := capTokenSeq(st, [][]byte{capToken})
	if err != nil {
		return nil, err
	}
	tbs, err := (&msg.CapReqTBS{CapReqData: data, HCapTokenSeq: hTokens}).Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, msg.OIDCapReqTBS, msg.OIDCapReqTBE, tbs)
	if err != nil {
		return nil, err
	}
	res, err := cfg.Gateway.Capture(ctx, &msg.CapReq{CapReqTBE: tbe, CapTokenSeq: tokens}, &msg.MessageIDs{LIDM: transIDs.LIDM, XID: &transIDs.XID})
	if err != nil {
		return nil, fmt.Errorf("merchant: %s: %w", what, err)
	}
	content, _, signerCert, err := encap.OpenEnc(st, cfg.ExchangeKey.key, cfg.ExchangeCert, res.CapResTBE, msg.OIDCapResData, msg.OIDCapResTBE,
		cfg.verifier(cfg.Now(), pki.CertTypePgwy, x509.KeyUsageDigitalSignature), cfg.learn(msg.OIDCapResData))
	if err != nil {
		return nil, signedErr(err, "CapRes")
	}
	if !pki.SameSubject(signerCert, cfg.GatewayCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "CapRes signed by a gateway other than the designated one")
	}
	resData, err := msg.UnmarshalCapResData(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CapResData: %w", err)
	}
	if resData.CapRRTags.RRPID != rrpid || len(resData.CapResItemSeq) != 1 || resData.CapResItemSeq[0].TransIDs.XID != transIDs.XID ||
		resData.CapResItemSeq[0].AuthRRPID != authRRPID {
		return nil, msg.Errorf(msg.UnknownRRPID, "CapRes answers another request")
	}
	// Deviation 2: the answer names this merchant and this CapReq.
	if err := m.checkAnswers("CapRes", resData.MerchantThumb, resData.HCapReq, tbs); err != nil {
		return nil, err
	}
	return &resData.CapResItemSeq[0].CapResPayload, nil
}
