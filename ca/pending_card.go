package ca

// Pending cardholder requests (docs/spec-gaps.md, "ca: pending requests").
// A cardholder CertReq the issuer's policy defers is kept without the card
// number: the CA draws NonceCCA and computes the certificate's subject
// (the PANSecret hash) at once, exactly as for immediate issuance, and
// keeps those; the certificate is signed when the operator approves.

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Cardholder is a cardholder asking for a certificate, as the issuer's
// policy sees it: never the card number.
type Cardholder struct {
	RequestType msg.RequestType
	// BIN is the card's first six digits, Issuer the issuer owning them.
	BIN    string
	Issuer *Issuer
	// Form is the answered registration form, already checked against
	// the issuer's template.
	Form []msg.RegFormItem
}

// IssuerPolicy is the issuer's approval of a cardholder registration, the
// cardholder CA's counterpart of AcquirerPolicy. Without one (Config's
// IssuerPolicy nil) every request that passes the CA's checks is issued at
// once.
type IssuerPolicy interface {
	// Approve decides on a: nil issues now, a *Deferral pends the request
	// for an operator (see CA.Decide), a *Refusal is answered with a
	// CertRes carrying its code; other errors are the CA's failure.
	Approve(ctx context.Context, a *Cardholder) error
}

// CardPending is what a pended cardholder request needs at the decision
// besides its CertReqData. It holds no card number: the subject is
// already the PANSecret hash.
type CardPending struct {
	// NonceCCA is the CA's half of the PANSecret, drawn when the request
	// came, as for immediate issuance.
	NonceCCA msg.Nonce
	// Subject is the certificate's common name, hex(HMAC(PANSecret,
	// PAN ‖ expiry)).
	Subject string
	// NotAfter is the end of validity the certificate would have had if
	// issued at once: a pending request does not extend it.
	NotAfter time.Time
	// BINRange names the issuer for the operator: "400000-599999".
	BINRange string
}

// askIssuer consults the issuer's policy on a cardholder request that
// passed every check; tmpl and nonceCCA are what immediate issuance would
// use. done reports that the policy answered (refused or pended) and r,
// err are the answer; otherwise the CA issues now.
func (c *CA) askIssuer(ctx context.Context, issuer *Issuer, data *msg.CertReqData, bin string, nonceCCA msg.Nonce, tmpl *pki.Template, renews []byte, res *msg.CertResData) (r *msg.CertRes, done bool, err error) {
	if c.cfg.IssuerPolicy == nil {
		return nil, false, nil
	}
	err = c.cfg.IssuerPolicy.Approve(ctx, &Cardholder{RequestType: data.RequestType, BIN: bin, Issuer: issuer, Form: data.RegForm})
	var ref *Refusal
	var def *Deferral
	switch {
	case err == nil:
		return nil, false, nil
	case errors.As(err, &ref):
		res.CertStatus = msg.CertStatus{CertStatusCode: ref.Code, EEMessage: truncate(ref.Message, 128), FailedItemSeq: ref.Failed}
		r, err = c.certRes(res, nil, data.CABackKeyData)
		return r, true, err
	case errors.As(err, &def):
		r, err = c.deferCard(ctx, data, def, issuer, nonceCCA, tmpl, renews, res)
		return r, true, err
	default:
		return nil, true, msg.Errorf(msg.UnspecifiedFailure, "issuer policy: %w", err)
	}
}

// deferCard pends a cardholder request the issuer deferred; renews is the
// certificate a renewal renews, nil for a first registration. Nothing is
// recorded in the key registry until the decision.
func (c *CA) deferCard(ctx context.Context, data *msg.CertReqData, def *Deferral, issuer *Issuer, nonceCCA msg.Nonce, tmpl *pki.Template, renews []byte, res *msg.CertResData) (*msg.CertRes, error) {
	ps, err := c.pendingStore()
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "%w", err)
	}
	raw, err := data.Marshal()
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertReqData: %w", err)
	}
	card := &CardPending{
		NonceCCA: nonceCCA, Subject: tmpl.Subject.CommonName, NotAfter: tmpl.NotAfter,
		BINRange: issuer.BINLow + "-" + issuer.BINHigh,
	}
	p := &PendingRequest{Created: c.cfg.Now(), Data: raw, Card: card, Renews: renews}
	if err := ps.PutPending(ctx, data.ChallEE3, p); err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "pending request: %w", err)
	}
	m := def.Message
	if m == "" {
		m = "the issuer has not decided yet; ask again with CertInqReq"
	}
	c.cfg.Log.Info("ca: cardholder request pended", "request", fmt.Sprintf("%x", data.ChallEE3[:]))
	// No NonceCCA in a pending answer: it is sent once, with the
	// certificate it completes.
	res.CertStatus = msg.CertStatus{CertStatusCode: msg.RequestPended, EEMessage: truncate(m, 128)}
	return c.certRes(res, nil, data.CABackKeyData)
}

// issueCard issues an approved pending cardholder request's certificate
// with the subject, NonceCCA and end of validity fixed when it came, valid
// from now; a key certified meanwhile refuses it.
func (c *CA) issueCard(ctx context.Context, data *msg.CertReqData, card *CardPending) (msg.CertStatus, []msg.CertThumb, [][]byte, error) {
	st := c.cfg.Suite
	if card == nil {
		return msg.CertStatus{}, nil, nil, errors.New("pending cardholder request without its card record")
	}
	pub, err := pki.ParsePublicKey(data.PublicKeySorE.PublicKeyS)
	if err != nil {
		return msg.CertStatus{}, nil, nil, fmt.Errorf("publicKeyS: %w", err)
	}
	now, notAfter := c.cfg.Now(), card.NotAfter
	if !notAfter.After(now) {
		return msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "the card expired while the request was pending"}, nil, nil, nil
	}
	tmpl := &pki.Template{
		Subject: pkix.Name{CommonName: card.Subject}, NotBefore: now, NotAfter: notAfter,
		PublicKey: pub, KeyUsage: x509.KeyUsageDigitalSignature, CertType: pki.CertTypeCard,
	}
	d := st.Hash().New()
	d.Write(data.PublicKeySorE.PublicKeyS)
	if err := c.cfg.Store.RecordKey(ctx, d.Sum(nil)); err != nil {
		if !errors.Is(err, ErrKeyCertified) {
			return msg.CertStatus{}, nil, nil, fmt.Errorf("key registry: %w", err)
		}
		return msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "this public key is already certified"}, nil, nil, nil
	}
	cert, err := c.issue(ctx, tmpl)
	if err != nil {
		return msg.CertStatus{}, nil, nil, fmt.Errorf("issuing: %w", err)
	}
	c.cfg.Log.Info("ca: cardholder certificate issued", "serial", cert.SerialNumber, "subject", cert.Subject.CommonName)
	nonce := card.NonceCCA
	status := msg.CertStatus{CertStatusCode: msg.RequestComplete, NonceCCA: &nonce}
	return status, []msg.CertThumb{msg.ThumbOf(st.Hash(), cert.Raw)}, [][]byte{cert.Raw}, nil
}

// ReviewAcquirer wraps an AcquirerPolicy so that every request it would
// approve waits for an operator's decision instead (its refusals stay
// refusals): a merchant or payment CA run with human review.
type ReviewAcquirer struct{ AcquirerPolicy }

// Approve implements AcquirerPolicy.
func (r ReviewAcquirer) Approve(ctx context.Context, a *Applicant) (*Approval, error) {
	appr, err := r.AcquirerPolicy.Approve(ctx, a)
	if err != nil {
		return nil, err
	}
	return nil, &Deferral{Approval: appr, Message: "held for the acquirer's review; ask again with CertInqReq"}
}

// ReviewCardholders is an IssuerPolicy that holds every cardholder request
// for an operator's decision.
type ReviewCardholders struct{}

// Approve implements IssuerPolicy.
func (ReviewCardholders) Approve(context.Context, *Cardholder) error {
	return &Deferral{Message: "held for the issuer's review; ask again with CertInqReq"}
}
