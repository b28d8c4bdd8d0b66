package enrol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wire"
)

// PendingError is Register's answer when the CA pended the request (its
// CertRes said requestPended or requestInProgress): nothing is issued yet,
// and Registration.Wait asks after it with CertInqReq.
type PendingError[R any] struct {
	Registration *Registration[R]
	Status       msg.CertStatus
}

func (e *PendingError[R]) Error() string {
	who := ""
	if e.Registration != nil {
		who = e.Registration.role.Who
	}
	return statusText(who, "pended", e.Status)
}

// pendingErr turns a pending CertRes or CertInqRes status into a
// PendingError, leaving every other error as it is.
func (r *Registration[R]) pendingErr(err error) error {
	var ref *RefusedError
	if errors.As(err, &ref) && ref.Status.CertStatusCode.Pending() {
		return &PendingError[R]{Registration: r, Status: ref.Status}
	}
	return err
}

// CertInqReq asks after the pended CertReq: S{EE, CertInqReqTBS} naming it
// by lid-EE and chall-EE3, signed by the new signature key (the CA knows no
// other), carried like the CertReq's in a self-signed certificate. Each
// inquiry is a fresh request/response pair, so it gets a fresh RRPID, which
// the answer must echo.
func (r *Registration[R]) CertInqReq() (*msg.CertInqReq, error) {
	who := r.role.Who
	if r.sigKey == nil {
		return nil, errors.New(who + ": CertInqReq before any CertReq")
	}
	if err := fillRandom(who, r.cfg.Rand, r.rrpid[:]); err != nil {
		return nil, err
	}
	st := r.cfg.Suite
	carrier, err := r.role.carrier(st, r.cfg.Rand, r.sigKey, r.cfg.Now())
	if err != nil {
		return nil, err
	}
	tbs, err := (&msg.CertInqReqTBS{RRPID: r.rrpid, LIDEE: r.lidEE, ChallEE3: r.challEE3}).Marshal()
	if err != nil {
		return nil, fmt.Errorf(who+": CertInqReqTBS: %w", err)
	}
	signed, err := encap.S(st, r.cfg.Rand, encap.Signer{Key: r.sigKey, Cert: carrier}, msg.OIDCertInqReqTBS, tbs)
	if err != nil {
		return nil, fmt.Errorf(who+": signing CertInqReq: %w", err)
	}
	return &msg.CertInqReq{SignedData: signed}, nil
}

// HandleCertInqRes checks the answer to CertInqReq as HandleCertRes checks
// a CertRes; a still-pending answer is a *PendingError.
func (r *Registration[R]) HandleCertInqRes(res *msg.CertInqRes) (R, error) {
	out, err := r.HandleCertRes(&msg.CertRes{Signed: res.Signed, Encrypted: res.Encrypted})
	return out, r.pendingErr(err)
}

// WaitOptions bound Wait.
type WaitOptions struct {
	// Every is the pause between inquiries; 0 means 30 seconds.
	Every time.Duration
	// Max bounds the number of inquiries; 0 means 20.
	Max int
}

// Wait asks after a pended registration with CertInqReq until the CA
// answers with certificates or a refusal, at most opts.Max times and no
// longer than ctx allows. It returns the last *PendingError when the CA
// is still undecided after Max inquiries.
func (r *Registration[R]) Wait(ctx context.Context, rt wire.RoundTripper, opts WaitOptions) (R, error) {
	return Inquiry[R]{
		Who: r.role.Who, Endpoint: r.endpoint(), RRPID: &r.rrpid,
		Request: r.CertInqReq, Handle: r.HandleCertInqRes,
		Pending: func(err error) bool { return errors.As(err, new(*PendingError[R])) },
	}.Wait(ctx, rt, opts)
}

// Inquiry is the CertInqReq loop of a held registration, shared by
// enrol's parties and the wallet, whose registrations differ in type.
type Inquiry[R any] struct {
	Who      string // for errors: "merchant", "wallet", …
	Endpoint *wire.Endpoint
	RRPID    *msg.RRPID
	Request  func() (*msg.CertInqReq, error)
	Handle   func(*msg.CertInqRes) (R, error)
	Pending  func(error) bool // Handle's answer that the CA still holds the request
}

// Wait sends a CertInqReq every opts.Every until Handle returns
// certificates or an error other than a pending one, at most opts.Max
// times and no longer than ctx allows; then it returns the last pending
// error.
func (q Inquiry[R]) Wait(ctx context.Context, rt wire.RoundTripper, opts WaitOptions) (R, error) {
	var zero R
	if opts.Every <= 0 {
		opts.Every = 30 * time.Second
	}
	if opts.Max <= 0 {
		opts.Max = 20
	}
	var last error
	for i := range opts.Max {
		if i > 0 {
			t := time.NewTimer(opts.Every)
			select {
			case <-ctx.Done():
				t.Stop()
				return zero, fmt.Errorf("%s: waiting for the CA: %w", q.Who, ctx.Err())
			case <-t.C:
			}
		}
		inq, err := q.Request()
		if err != nil {
			return zero, err
		}
		m, err := q.Endpoint.Call(ctx, rt, "CA", nil, q.RRPID, inq)
		if err != nil {
			return zero, fmt.Errorf("CertInqReq: %w", err)
		}
		res, ok := m.(*msg.CertInqRes)
		if !ok {
			return zero, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CertInqReq with %s", m.Name())
		}
		out, err := q.Handle(res)
		if err != nil && q.Pending(err) {
			last = err
			continue
		}
		if err != nil {
			return zero, fmt.Errorf("CertInqRes: %w", err)
		}
		return out, nil
	}
	return zero, last
}
