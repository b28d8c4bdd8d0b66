package merchant

import (
	"context"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// HandleInqReq answers a cardholder's purchase inquiry with a signed
// InqRes: a PResData whose completion code is the order's current state,
// echoing the inquiry's RRPID and chall-C2. In the modern suites the
// gateway's signed authorization result travels with it, as in PRes
// (deviation 4).
//
// Only the unsigned form is accepted: SET assigns no content type to a
// signed InqReqData (docs/spec-gaps.md, "inquiry"). The inquiry must name
// the transaction by its whole TransIDs, which only the cardholder and the
// merchant hold, so a stranger who learns an XID learns nothing.
func (m *Merchant) HandleInqReq(ctx context.Context, req *msg.InqReq) (*msg.InqRes, error) {
	cfg := m.config()
	if req.InqReqUnsigned == nil {
		return nil, msg.Errorf(msg.MessageNotSupported, "signed InqReq is not supported: no content type is assigned to it")
	}
	d := req.InqReqUnsigned
	order, err := cfg.Store.Order(ctx, store.XID(d.TransIDs.XID))
	if err != nil {
		return nil, lookupError(err, msg.UnknownXID)
	}
	got, err := d.TransIDs.Marshal()
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "InqReq TransIDs: %w", err)
	}
	if order.TransIDs == nil || string(got) != string(order.TransIDs) {
		// Same code as a missing order: whether an XID exists is not for
		// someone who cannot name the whole transaction to learn.
		return nil, msg.Errorf(msg.UnknownXID, "InqReq names no transaction of this merchant")
	}
	completion, proof := inquiryState(order)
	if cfg.Suite.ID() == suite.Set1 {
		proof = nil
	}
	data := &msg.PResData{
		TransIDs:       d.TransIDs,
		RRPID:          d.RRPID,
		ChallC:         d.ChallC2,
		PResPayloadSeq: []msg.PResPayload{{CompletionCode: completion, AuthResSigned: proof}},
	}
	content, err := data.Marshal()
	if err != nil {
		return nil, err
	}
	signer := *m.signer()
	if proof != nil {
		// The wallet may hold the gateway's certificates no longer.
		signer.Chain = appendNew(signer.Chain, m.proofCerts(&cfg, proof)...)
	}
	signed, err := encap.S(cfg.Suite, cfg.Rand, signer, msg.OIDPResData, content)
	if err != nil {
		return nil, err
	}
	return &msg.InqRes{SignedData: signed}, nil
}

// inquiryState maps an order's state to the completion code an inquiry
// reports, with the gateway's signed result when the merchant holds one.
func inquiryState(o *store.Order) (msg.CompletionCode, []byte) {
	switch o.State {
	case store.StateInitiated:
		return msg.OrderNotReceived, nil
	case store.StatePurchaseRequested:
		return msg.OrderReceived, nil
	case store.StateAuthorized:
		return msg.AuthorizationAccepted, o.GatewayAuthRes
	case store.StateCaptured:
		return msg.CapturePerformed, o.GatewayAuthRes
	case store.StateDeclined:
		return msg.OrderRejected, o.GatewayAuthRes
	case store.StateCredited:
		// The gateway's approval would contradict the code: no proof.
		return msg.CreditPerformed, nil
	case store.StateReversed, store.StateCaptureReversed:
		// The sale was undone after approval; the approval is no proof of
		// that, so none is sent.
		return msg.OrderRejected, nil
	default: // failed: the gateway never answered
		return msg.OrderRejected, nil
	}
}
