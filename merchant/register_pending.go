package merchant

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wire"
)

// PendingError is Register's answer when the CA pended the request (its
// CertRes said requestPended or requestInProgress): nothing is issued yet,
// and Registration.Wait asks after it with CertInqReq.
type PendingError struct {
	Registration *Registration
	Status       msg.CertStatus
}

func (e *PendingError) Error() string {
	s := regWho + ": CA pended the certificate request: " + e.Status.CertStatusCode.String()
	if e.Status.EEMessage != "" {
		s += " (" + e.Status.EEMessage + ")"
	}
	return s
}

// pendingErr turns a pending CertRes or CertInqRes status into a
// PendingError, leaving every other error as it is.
func (r *Registration) pendingErr(err error) error {
	var ref *RefusedError
	if errors.As(err, &ref) && ref.Status.CertStatusCode.Pending() {
		return &PendingError{Registration: r, Status: ref.Status}
	}
	return err
}

// CertInqReq asks after the pended CertReq: S{EE, CertInqReqTBS} naming it
// by lid-EE and chall-EE3, signed by the new signature key (the CA knows no
// other), carried like the CertReq's in a self-signed certificate. Each
// inquiry is a fresh request/response pair, so it gets a fresh RRPID, which
// the answer must echo.
func (r *Registration) CertInqReq() (*msg.CertInqReq, error) {
	if r.sigKey == nil {
		return nil, errors.New(regWho + ": CertInqReq before any CertReq")
	}
	if err := fillRandom(r.cfg.Rand, r.rrpid[:]); err != nil {
		return nil, err
	}
	st, now := r.cfg.Suite, r.cfg.Now()
	carrier, err := pki.CreateCertificate(r.cfg.Rand, &pki.Template{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "setpay " + regWho + " key (proposed)"},
		NotBefore:    now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		PublicKey: r.sigKey.Public(), KeyUsage: x509.KeyUsageDigitalSignature, CertType: regEEType,
	}, nil, r.sigKey, st.Hash())
	if err != nil {
		return nil, fmt.Errorf(regWho+": carrier certificate: %w", err)
	}
	tbs, err := (&msg.CertInqReqTBS{RRPID: r.rrpid, LIDEE: r.lidEE, ChallEE3: r.challEE3}).Marshal()
	if err != nil {
		return nil, fmt.Errorf(regWho+": CertInqReqTBS: %w", err)
	}
	signed, err := encap.S(st, r.cfg.Rand, encap.Signer{Key: r.sigKey, Cert: carrier}, msg.OIDCertInqReqTBS, tbs)
	if err != nil {
		return nil, fmt.Errorf(regWho+": signing CertInqReq: %w", err)
	}
	return &msg.CertInqReq{SignedData: signed}, nil
}

// HandleCertInqRes checks the answer to CertInqReq as HandleCertRes checks
// a CertRes; a still-pending answer is a *PendingError.
func (r *Registration) HandleCertInqRes(res *msg.CertInqRes) (*Registered, error) {
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
func (r *Registration) Wait(ctx context.Context, rt wire.RoundTripper, opts WaitOptions) (*Registered, error) {
	if opts.Every <= 0 {
		opts.Every = 30 * time.Second
	}
	if opts.Max <= 0 {
		opts.Max = 20
	}
	ep := &wire.Endpoint{Suite: r.cfg.Suite, SWIdent: r.cfg.SWIdent, Rand: r.cfg.Rand, Now: r.cfg.Now}
	var last error
	for i := range opts.Max {
		if i > 0 {
			t := time.NewTimer(opts.Every)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf(regWho+": waiting for the CA: %w", ctx.Err())
			case <-t.C:
			}
		}
		inq, err := r.CertInqReq()
		if err != nil {
			return nil, err
		}
		m, err := ep.Call(ctx, rt, "CA", nil, &r.rrpid, inq)
		if err != nil {
			return nil, fmt.Errorf("CertInqReq: %w", err)
		}
		res, ok := m.(*msg.CertInqRes)
		if !ok {
			return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CertInqReq with %s", m.Name())
		}
		out, err := r.HandleCertInqRes(res)
		var pe *PendingError
		if errors.As(err, &pe) {
			last = err
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("CertInqRes: %w", err)
		}
		return out, nil
	}
	return nil, last
}
