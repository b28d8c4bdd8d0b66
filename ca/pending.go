package ca

// Pending requests (docs/spec-gaps.md, "ca: pending requests and
// CertInqReq"). When the acquirer cannot decide at once, the CA answers the
// CertReq with requestPended and keeps what it needs to issue later; an
// operator decides with Decide, and the merchant or gateway asks after its
// request with CertInqReq, signed by the signature key its CertReq proved
// possession of, until the answer is final.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Deferral is an AcquirerPolicy's or IssuerPolicy's "not yet": Approve
// returns it when the decision needs an operator. Approval is the identity
// a merchant's or gateway's certificates will carry if the operator
// approves; nil for a cardholder.
type Deferral struct {
	Approval *Approval
	Message  string // shown to the applicant; "" for a default
}

func (d *Deferral) Error() string { return "ca: decision deferred to an operator: " + d.Message }

// ErrNoPending is returned by PendingStore for a request it does not hold
// (never pended, or its final answer already delivered).
var ErrNoPending = errors.New("ca: no such pending request")

// ErrDecided is returned by PendingStore.DecidePending for a request that
// was decided already.
var ErrDecided = errors.New("ca: pending request already decided")

// PendingRequest is what the CA keeps about a pended CertReq.
type PendingRequest struct {
	Created time.Time
	// Data is the DER of the CertReqData the CA validated: the keys, the
	// back key, the request's identifiers.
	Data []byte
	// Approval is the identity a merchant's or gateway's certificates
	// will carry; nil for a cardholder.
	Approval *Approval
	// Card is what a cardholder's certificate needs besides Data; nil for
	// a merchant or gateway.
	Card *CardPending
	// Renews is the DER of the certificate a renewal renews (the
	// CertReq's signer certificate), checked again at the decision; nil
	// for a first registration and in records kept before renewals were.
	Renews []byte
	// Status is the final answer; its code is zero while undecided.
	Status msg.CertStatus
	// Fail, when not zero, makes the final answer a SET Error with this
	// code instead of a CertInqRes: the request was refused at the
	// decision for a reason a fresh request is answered with an Error
	// for (the certificate to renew was revoked or expired meanwhile).
	// Status then holds the refusal, for the operator.
	Fail   msg.ErrorCode
	Thumbs []msg.CertThumb
	Certs  [][]byte
}

// Decided reports whether the operator has decided p.
func (p *PendingRequest) Decided() bool { return p.Status.CertStatusCode != 0 }

// PendingStore is implemented by stores that can keep pended requests
// (MemoryStore and SQLStore do). A CA whose store does not answers a Deferral as the
// CA's failure. Requests are named by the chall-EE3 of their CertReq.
type PendingStore interface {
	// PutPending records a new undecided request; an error if id is
	// taken.
	PutPending(ctx context.Context, id msg.Challenge, p *PendingRequest) error
	// Pending returns the request, or ErrNoPending.
	Pending(ctx context.Context, id msg.Challenge) (*PendingRequest, error)
	// DecidePending records the final answer of an undecided request
	// (fail as PendingRequest.Fail): ErrNoPending if there is none,
	// ErrDecided if it is decided.
	DecidePending(ctx context.Context, id msg.Challenge, status msg.CertStatus, thumbs []msg.CertThumb, certs [][]byte, fail msg.ErrorCode) error
	// TakePending returns and forgets a request, so a final answer is
	// delivered once; ErrNoPending if it is not there.
	TakePending(ctx context.Context, id msg.Challenge) (*PendingRequest, error)
	// PendingIDs lists the undecided requests, for the operator, oldest
	// first where the store knows the order.
	PendingIDs(ctx context.Context) ([]msg.Challenge, error)
}

func (c *CA) pendingStore() (PendingStore, error) {
	ps, ok := c.cfg.Store.(PendingStore)
	if !ok {
		return nil, fmt.Errorf("ca: store %T cannot keep pending requests", c.cfg.Store)
	}
	return ps, nil
}

// deferEE pends a merchant or gateway CertReq the acquirer deferred. The
// keys are checked now (a request that could never be issued is not kept)
// but not recorded in the key registry: nothing is certified until the
// decision.
// renews is the certificate a renewal renews, nil for a first
// registration.
func (c *CA) deferEE(ctx context.Context, data *msg.CertReqData, def *Deferral, renews []byte, res *msg.CertResData) (*msg.CertRes, error) {
	ps, err := c.pendingStore()
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "%w", err)
	}
	if _, _, err := c.eeTemplates(data, def.Approval, c.cfg.Now()); err != nil {
		return nil, err
	}
	raw, err := data.Marshal()
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertReqData: %w", err)
	}
	p := &PendingRequest{Created: c.cfg.Now(), Data: raw, Approval: def.Approval, Renews: renews}
	if err := ps.PutPending(ctx, data.ChallEE3, p); err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "pending request: %w", err)
	}
	m := def.Message
	if m == "" {
		m = "the acquirer has not decided yet; ask again with CertInqReq"
	}
	c.cfg.Log.Info("ca: "+c.kind()+" request pended", "request", fmt.Sprintf("%x", data.ChallEE3[:]))
	res.CertStatus = msg.CertStatus{CertStatusCode: msg.RequestPended, EEMessage: truncate(m, 128)}
	return c.certRes(res, nil, data.CABackKeyData)
}

// PendingIDs lists the requests waiting for Decide.
func (c *CA) PendingIDs(ctx context.Context) ([]msg.Challenge, error) {
	ps, err := c.pendingStore()
	if err != nil {
		return nil, err
	}
	all, err := ps.PendingIDs(ctx)
	if err != nil {
		return nil, err
	}
	// A merchant CA and a payment CA may share a store: each lists and
	// decides only the requests it serves.
	var ids []msg.Challenge
	for _, id := range all {
		if _, _, err := c.pendingHere(ctx, ps, id); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// pendingHere returns a pending request this CA serves; ErrNoPending for
// one of another CA sharing the store.
func (c *CA) pendingHere(ctx context.Context, ps PendingStore, id msg.Challenge) (*PendingRequest, *msg.CertReqData, error) {
	p, err := ps.Pending(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	data, err := msg.UnmarshalCertReqData(p.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: pending request %x: %w", id[:], err)
	}
	if !c.servesPending(data.RequestType) {
		return nil, nil, ErrNoPending
	}
	return p, data, nil
}

// servesPending reports whether c decides and answers pended requests of
// type t: cardholders' initial requests at a cardholder CA, the requests
// serves names at a merchant or payment CA. A cardholder CA holds
// renewals too (its IssuerPolicy decides on them, ca/renew.go).
func (c *CA) servesPending(t msg.RequestType) bool {
	if c.cardholderCA() {
		return t == msg.CardInitialSig || t == msg.CardRenewalSig
	}
	return c.serves(t)
}

// Decide is the operator's decision on a pending request: approve issues
// its certificates (unless a key was certified meanwhile, which refuses
// it), refuse is Refuse with the default reason. The answer waits for the
// applicant's next CertInqReq.
func (c *CA) Decide(ctx context.Context, id msg.Challenge, approve bool) error {
	if !approve {
		return c.Refuse(ctx, id, "")
	}
	ps, err := c.pendingStore()
	if err != nil {
		return err
	}
	p, data, err := c.pendingHere(ctx, ps, id)
	if err != nil {
		return err
	}
	if p.Decided() {
		return ErrDecided
	}
	// A renewal's current certificate may have been revoked, or have
	// expired, while the request waited (its key stolen, the thief
	// asking): approving is then refusing, as a fresh renewal would be.
	if p.Renews != nil {
		status, fail, err := c.recheckCurrent(ctx, data, p.Renews)
		if err != nil {
			return fmt.Errorf("ca: pending request %x: %w", id[:], err)
		}
		if fail != 0 {
			c.cfg.Log.Info("ca: pending renewal refused at the decision", "request", fmt.Sprintf("%x", id[:]), "error", fail.String())
			return ps.DecidePending(ctx, id, status, nil, nil, fail)
		}
	}
	// Two concurrent approvals both reach here; the key registry lets
	// only the first issue, and the second's DecidePending fails.
	var status msg.CertStatus
	var thumbs []msg.CertThumb
	var certs [][]byte
	if c.cardholderCA() {
		status, thumbs, certs, err = c.issueCard(ctx, data, p.Card)
	} else {
		status, thumbs, certs, err = c.issueEE(ctx, data, p.Approval)
	}
	if err != nil {
		return fmt.Errorf("ca: pending request %x: %w", id[:], err)
	}
	c.cfg.Log.Info("ca: pending request decided", "request", fmt.Sprintf("%x", id[:]), "status", status.CertStatusCode.String())
	return ps.DecidePending(ctx, id, status, thumbs, certs, 0)
}

// Refuse is the operator's refusal of a pending request: its answer is
// rejectByAgent at a merchant or payment CA and rejectByIssuer at a
// cardholder CA (the operator decides for the issuer there), with reason
// as the message shown to the applicant ("" for a default). reason must be
// printable ASCII (a VisibleString) of at most 128 characters.
func (c *CA) Refuse(ctx context.Context, id msg.Challenge, reason string) error {
	if len(reason) > 128 {
		return fmt.Errorf("ca: refusal reason longer than 128 characters")
	}
	for i := 0; i < len(reason); i++ {
		if reason[i] < 0x20 || reason[i] > 0x7e {
			return fmt.Errorf("ca: refusal reason must be printable ASCII")
		}
	}
	ps, err := c.pendingStore()
	if err != nil {
		return err
	}
	p, _, err := c.pendingHere(ctx, ps, id)
	if err != nil {
		return err
	}
	if p.Decided() {
		return ErrDecided
	}
	status := msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "refused by the acquirer"}
	if c.cardholderCA() {
		status = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "refused by the issuer"}
	}
	if reason != "" {
		status.EEMessage = reason
	}
	c.cfg.Log.Info("ca: pending request refused", "request", fmt.Sprintf("%x", id[:]))
	return ps.DecidePending(ctx, id, status, nil, nil, 0)
}

// PendingInfo describes a pending request for the operator.
type PendingInfo struct {
	ID          msg.Challenge
	Created     time.Time
	RequestType msg.RequestType
	// Subject is whom the request is for: the merchant's or gateway's
	// approved identity; for a cardholder, the issuer's BIN range (the
	// CA keeps no card number).
	Subject string
	Decided bool
}

// PendingInfo returns what an operator needs to decide request id.
func (c *CA) PendingInfo(ctx context.Context, id msg.Challenge) (*PendingInfo, error) {
	ps, err := c.pendingStore()
	if err != nil {
		return nil, err
	}
	p, data, err := c.pendingHere(ctx, ps, id)
	if err != nil {
		return nil, err
	}
	info := &PendingInfo{ID: id, Created: p.Created, RequestType: data.RequestType, Decided: p.Decided()}
	switch {
	case p.Approval != nil && p.Approval.Merchant != nil:
		md := p.Approval.Merchant
		info.Subject = fmt.Sprintf("merchant %s at acquirer %s", md.MerID, md.MerAcquirerBIN)
		if len(md.MerNames) > 0 {
			info.Subject += fmt.Sprintf(" (%q)", md.MerNames[0].Name)
		}
	case p.Approval != nil && p.Approval.GatewayName != "":
		info.Subject = fmt.Sprintf("payment gateway %q", p.Approval.GatewayName)
	case p.Card != nil:
		info.Subject = "cardholder of BIN range " + p.Card.BINRange
	}
	return info, nil
}

// HandleCertInqReq answers a CertInqReq about a pended request: still
// pending, or the final answer (refusal or certificates), delivered once
// and encrypted under the request's back key when it gave one. The
// inquiry must be signed by the signature key the CertReq proved
// possession of and name the request by its lid-EE and chall-EE3.
func (c *CA) HandleCertInqReq(ctx context.Context, req *msg.CertInqReq) (*msg.CertInqRes, error) {
	ps, err := c.pendingStore()
	if err != nil {
		return nil, msg.Errorf(msg.MessageNotSupported, "CertInqReq: this CA keeps no pending requests")
	}
	t, signerCert, err := encap.OpenS(c.cfg.Suite, req.SignedData, msg.OIDCertInqReqTBS, proposedKey)
	if err != nil {
		return nil, msg.Classify(err, envelopeCode, "CertInqReq")
	}
	inq, err := msg.UnmarshalCertInqReqTBS(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertInqReqTBS: %w", err)
	}
	p, data, err := c.pendingHere(ctx, ps, inq.ChallEE3)
	if errors.Is(err, ErrNoPending) {
		return nil, msg.Errorf(msg.UnknownLID, "CertInqReq: no pending request with this chall-EE3")
	}
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertInqReq: %w", err)
	}
	cert, err := pki.ParseCertificate(signerCert)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertInqReq signer certificate: %w", err)
	}
	// The signature key is the only secret binding the inquirer to the
	// CertReq: chall-EE3 and lid-EE alone could have been observed.
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, data.PublicKeySorE.PublicKeyS) {
		return nil, msg.Errorf(msg.SignatureFailure, "CertInqReq is not signed with the key of the request it names")
	}
	if !bytes.Equal(inq.LIDEE, data.LIDEE) {
		return nil, msg.Errorf(msg.UnknownLID, "CertInqReq: lid-EE is not the request's")
	}
	res := &msg.CertResData{RRPID: inq.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	if !p.Decided() {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RequestPended, EEMessage: "the acquirer has not decided yet"}
		return c.certInqRes(res, nil, data.CABackKeyData)
	}
	// Taken, not read: the final answer goes out once, and a replayed
	// inquiry then names no request.
	if p, err = ps.TakePending(ctx, inq.ChallEE3); err != nil {
		if errors.Is(err, ErrNoPending) {
			return nil, msg.Errorf(msg.UnknownLID, "CertInqReq: no pending request with this chall-EE3")
		}
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertInqReq: pending take: %w", err)
	}
	if p.Fail != 0 {
		return nil, msg.Errorf(p.Fail, "CertInqReq: the request was refused: %s", p.Status.EEMessage)
	}
	res.CertStatus, res.CertThumbs = p.Status, p.Thumbs
	return c.certInqRes(res, p.Certs, data.CABackKeyData)
}

// certInqRes is certRes in CertInqRes's clothes: the same CertResData,
// signed or encrypted alike.
func (c *CA) certInqRes(res *msg.CertResData, certs [][]byte, back *msg.BackKeyData) (*msg.CertInqRes, error) {
	r, err := c.certRes(res, certs, back)
	if err != nil {
		return nil, err
	}
	return &msg.CertInqRes{Signed: r.Signed, Encrypted: r.Encrypted}, nil
}
