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
	st := cfg.Suite
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
	var rrpid msg.RRPID
	if _, err := io.ReadFull(cfg.Rand, rrpid[:]); err != nil {
		return 0, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	amount := msg.CurrencyAmount{Currency: order.Currency, Amount: order.AuthAmount, AmtExp10: order.AmtExp10}
	data := msg.CapReqData{
		CapRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: now},
		CapItemSeq: []msg.CapItem{{
			TransIDs:   *transIDs,
			AuthRRPID:  msg.RRPID(order.AuthRRPID),
			CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: amount},
		}},
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), cfg.GatewayCert)
		data.PGThumb = &thumb
		data.Expiry = now.Add(cfg.RequestLifetime)
	}
	tbs, err := (&msg.CapReqTBS{CapReqData: data}).Marshal()
	if err != nil {
		return 0, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, msg.OIDCapReqTBS, msg.OIDCapReqTBE, tbs)
	if err != nil {
		return 0, err
	}
	res, err := cfg.Gateway.Capture(ctx, &msg.CapReq{CapReqTBE: tbe}, &msg.MessageIDs{LIDM: transIDs.LIDM, XID: &transIDs.XID})
	if err != nil {
		return 0, fmt.Errorf("merchant: capture: %w", err)
	}
	content, _, signerCert, err := encap.OpenEnc(st, cfg.ExchangeKey.key, cfg.ExchangeCert, res.CapResTBE, msg.OIDCapResData, msg.OIDCapResTBE,
		cfg.verifier(cfg.Now(), pki.CertTypePgwy, x509.KeyUsageDigitalSignature))
	if err != nil {
		return 0, msg.Classify(err, msg.SignatureFailure, "CapRes")
	}
	if !pki.SameSubject(signerCert, cfg.GatewayCert) {
		return 0, msg.Errorf(msg.SignatureFailure, "CapRes signed by a gateway other than the designated one")
	}
	resData, err := msg.UnmarshalCapResData(content)
	if err != nil {
		return 0, msg.Errorf(msg.DecodingFailure, "CapResData: %w", err)
	}
	if resData.CapRRTags.RRPID != rrpid || len(resData.CapResItemSeq) != 1 || resData.CapResItemSeq[0].TransIDs.XID != xid {
		return 0, msg.Errorf(msg.UnknownRRPID, "CapRes answers another request")
	}
	// Deviation 2: the answer names this merchant and this CapReq.
	if err := m.checkAnswers("CapRes", resData.MerchantThumb, resData.HCapReq, tbs); err != nil {
		return 0, err
	}
	item := resData.CapResItemSeq[0].CapResPayload
	if item.CapCode != msg.CapSuccess {
		return item.CapCode, nil
	}
	if _, err := cfg.Store.UpdateOrder(ctx, store.XID(xid), func(o *store.Order) error {
		o.State = store.StateCaptured
		o.CaptureAmount = item.CapAmt.Amount
		return nil
	}); err != nil {
		return 0, err
	}
	return msg.CapSuccess, nil
}
