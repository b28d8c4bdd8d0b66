package wallet

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wire"
)

// PendingError is Register's answer when the CA pended the request (its
// CertRes said requestPended or requestInProgress): nothing is issued
// yet, and Registration.Wait asks after it with CertInqReq. The
// Registration holds the new key and the CABackKey the answer will be
// encrypted under; they live only in memory.
type PendingError struct {
	Registration *Registration
	Status       msg.CertStatus
}

func (e *PendingError) Error() string {
	s := "wallet: CA pended the certificate request: " + e.Status.CertStatusCode.String()
	if e.Status.EEMessage != "" {
		s += " (" + e.Status.EEMessage + ")"
	}
	return s
}

// pendingErr turns a pending CertRes or CertInqRes status into a
// *PendingError, leaving every other error as it is.
func (r *Registration) pendingErr(err error) error {
	var ref *RefusedError
	if errors.As(err, &ref) && ref.Status.CertStatusCode.Pending() {
		return &PendingError{Registration: r, Status: ref.Status}
	}
	return err
}

// CertInqReq asks after the pended CertReq: S{EE, CertInqReqTBS} naming it
// by lid-EE and chall-EE3, signed by the key the CertReq asked to have
// certified (the CA knows no other), carried in a self-signed certificate
// as in the CertReq. Each inquiry gets a fresh RRPID, which the answer
// must echo.
func (r *Registration) CertInqReq() (*msg.CertInqReq, error) {
	if r.key == nil {
		return nil, errors.New("wallet: CertInqReq before any CertReq")
	}
	if err := fill(r.cfg.Rand, r.rrpid[:]); err != nil {
		return nil, err
	}
	st, now := r.cfg.Suite, r.cfg.Now()
	carrier, err := pki.CreateCertificate(r.cfg.Rand, &pki.Template{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "setpay cardholder key (proposed)"},
		NotBefore:    now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		PublicKey: r.key.Public(), KeyUsage: x509.KeyUsageDigitalSignature, CertType: pki.CertTypeCard,
	}, nil, r.key, st.Hash())
	if err != nil {
		return nil, fmt.Errorf("wallet: carrier certificate: %w", err)
	}
	tbs, err := (&msg.CertInqReqTBS{RRPID: r.rrpid, LIDEE: r.lidEE, ChallEE3: r.challEE3}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: CertInqReqTBS: %w", err)
	}
	signed, err := encap.S(st, r.cfg.Rand, encap.Signer{Key: r.key, Cert: carrier}, msg.OIDCertInqReqTBS, tbs)
	if err != nil {
		return nil, fmt.Errorf("wallet: signing CertInqReq: %w", err)
	}
	return &msg.CertInqReq{SignedData: signed}, nil
}

// HandleCertInqRes checks the answer to CertInqReq as HandleCertRes checks
// a CertRes: encrypted under the CABackKey, answering this inquiry, and
// when complete a certificate bound to this card's PANSecret. A
// still-pending answer is a *PendingError, a refusal a *RefusedError.
func (r *Registration) HandleCertInqRes(res *msg.CertInqRes) (*Registered, error) {
	out, err := r.HandleCertRes(&msg.CertRes{Signed: res.Signed, Encrypted: res.Encrypted})
	return out, r.pendingErr(err)
}

// WaitOptions bound Wait: an inquiry every Every (0: 30 seconds), at most
// Max of them (0: 20).
type WaitOptions = enrol.WaitOptions

// Wait asks after a pended registration with CertInqReq until the CA
// answers with a certificate or a refusal (a *RefusedError carrying the
// CertStatus), at most opts.Max times and no longer than ctx allows. It
// returns the last *PendingError when the CA is still undecided after Max
// inquiries.
func (r *Registration) Wait(ctx context.Context, rt wire.RoundTripper, opts WaitOptions) (*Registered, error) {
	ep := &wire.Endpoint{Suite: r.cfg.Suite, SWIdent: r.cfg.SWIdent, Rand: r.cfg.Rand, Now: r.cfg.Now, ErrorVerifier: r.caVerifier()}
	return enrol.Inquiry[*Registered]{
		Who: "wallet", Endpoint: ep, RRPID: &r.rrpid,
		Request: r.CertInqReq, Handle: r.HandleCertInqRes,
		Pending: func(err error) bool { return errors.As(err, new(*PendingError)) },
	}.Wait(ctx, rt, opts)
}
