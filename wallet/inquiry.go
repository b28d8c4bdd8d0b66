package wallet

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// InquiryResult is what the cardholder learns from InqRes: the order's
// state as the merchant signs it and, in the modern suites, the gateway's
// signed authorization result when the merchant holds one.
type InquiryResult struct {
	Completion msg.CompletionCode
	Gateway    *GatewayProof
}

// Inquiry is one purchase inquiry in progress: the InqReq sent and what
// its answer must echo.
type Inquiry struct {
	p      *Purchase
	rrpid  msg.RRPID
	challC msg.Challenge // chall-C2: fresh, so an old answer cannot be replayed
}

// StartInquiry builds an InqReq asking the merchant for the state of p.
// It is sent unsigned: SET assigns no content type to a signed InqReqData
// (docs/spec-gaps.md, "inquiry"); the whole TransIDs, known only to the
// cardholder and the merchant, name the transaction.
func (p *Purchase) StartInquiry() (*Inquiry, *msg.InqReq, error) {
	if p.merchantCert == nil {
		return nil, nil, fmt.Errorf("wallet: inquiry before a verified PInitRes")
	}
	in := &Inquiry{p: p}
	if err := fill(p.w.cfg.Rand, in.rrpid[:], in.challC[:]); err != nil {
		return nil, nil, err
	}
	req := &msg.InqReq{InqReqUnsigned: &msg.InqReqData{TransIDs: p.transIDs, RRPID: in.rrpid, ChallC2: in.challC}}
	return in, req, nil
}

// HandleInqRes checks the merchant's signed answer as HandlePRes checks
// PRes: the same merchant that signed PInitRes, echoing this inquiry's
// RRPID and chall-C2, for this transaction; in the modern suites a
// completion that claims authorization or capture must come with the
// gateway's signed approval. What a good answer carried is recorded as
// that merchant's, as for PRes (certcache.go).
func (in *Inquiry) HandleInqRes(res *msg.InqRes) (*InquiryResult, error) {
	p := in.p
	cfg := p.w.cfg
	content, signerCert, err := encap.OpenS(cfg.Suite, res.SignedData, msg.OIDPResData, cfg.verifier(cfg.Now(), pki.CertTypeMer, x509.KeyUsageDigitalSignature), cfg.learn(pResBCI), encap.WithHeld(p.pinitCerts))
	if err != nil {
		return nil, signedErr(err, "InqRes signature")
	}
	if string(signerCert) != string(p.merchantCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "InqRes signed by another merchant than PInitRes")
	}
	data, err := msg.UnmarshalPResData(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "InqRes PResData: %w", err)
	}
	if data.RRPID != in.rrpid {
		return nil, msg.Errorf(msg.UnknownRRPID, "InqRes answers another request")
	}
	if data.ChallC != in.challC {
		return nil, msg.Errorf(msg.ChallengeMismatch, "InqRes does not echo chall-C2")
	}
	if data.TransIDs.XID != p.transIDs.XID {
		return nil, msg.Errorf(msg.UnknownXID, "InqRes is for another transaction")
	}
	if len(data.PResPayloadSeq) != 1 {
		return nil, msg.Errorf(msg.DecodingFailure, "InqRes carries %d payloads, want 1", len(data.PResPayloadSeq))
	}
	payload := data.PResPayloadSeq[0]
	result := &InquiryResult{Completion: payload.CompletionCode}
	if cfg.Suite.ID() == suite.Set1 {
		p.noteSigned([][]byte{res.SignedData}, data.BrandCRLIdentifier)
		return result, nil
	}
	merchantSaysYes := payload.CompletionCode == msg.AuthorizationAccepted || payload.CompletionCode == msg.CapturePerformed
	if payload.AuthResSigned == nil {
		if merchantSaysYes {
			return nil, msg.Errorf(msg.SignatureRequired, "InqRes claims authorization without the gateway's signed result")
		}
		p.noteSigned([][]byte{res.SignedData}, data.BrandCRLIdentifier)
		return result, nil
	}
	proof, err := p.checkGatewayProof(payload.AuthResSigned, res.SignedData)
	if err != nil {
		return nil, err
	}
	if merchantSaysYes != (proof.AuthCode == msg.AuthApproved) {
		return nil, msg.Errorf(msg.SignatureFailure, "merchant reports %v but the gateway signed %v", payload.CompletionCode, proof.AuthCode)
	}
	result.Gateway = proof
	p.noteSigned([][]byte{res.SignedData, payload.AuthResSigned}, data.BrandCRLIdentifier)
	return result, nil
}

// Inquire asks the merchant reached through rt for the state of p.
func (p *Purchase) Inquire(ctx context.Context, rt wire.RoundTripper) (*InquiryResult, error) {
	cfg := p.w.cfg
	in, req, err := p.StartInquiry()
	if err != nil {
		return nil, err
	}
	ep := cfg.endpoint()
	xid := p.transIDs.XID
	m, err := ep.Call(ctx, rt, "merchant", &msg.MessageIDs{LIDC: p.lidC, LIDM: p.offer.LIDM, XID: &xid}, &in.rrpid, req)
	if err != nil {
		return nil, fmt.Errorf("InqReq: %w", err)
	}
	res, ok := m.(*msg.InqRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "merchant answered InqReq with %s", m.Name())
	}
	return in.HandleInqRes(res)
}
