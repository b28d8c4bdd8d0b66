package ca

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// checkOwnCertificate refuses to act when the CA's own certificate, or
// the certificate of a CA above it, is listed in a CRL of
// Config.Revocation: whatever a revoked CA signed would be refused by
// everyone, and issuing it would hand out certificates that look valid to
// parties that have not yet learnt of the revocation. The answer is
// revokedCertificate and nothing is issued or remembered.
//
// Only revocation counts here: a CA does not stop working because a CRL is
// missing or stale (its parties judge that), nor because the source
// cannot be read — then it refuses too, as a party does that cannot learn
// a certificate's status.
func (c *CA) checkOwnCertificate(ctx context.Context) error {
	src := c.cfg.Revocation
	if src == nil {
		return nil
	}
	crls, _, err := src.Revocation(ctx)
	if err != nil {
		return msg.Errorf(msg.UnspecifiedFailure, "CA cannot learn its own revocation status: %w", err)
	}
	if len(crls) == 0 {
		return nil
	}
	a := c.cfg.Authority
	_, err = a.Cert.Verify(pki.VerifyOptions{Roots: c.cfg.Roots, Intermediates: a.Chain, Now: c.cfg.Now(), CRLs: crls})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pki.ErrRevoked):
		c.cfg.Log.Warn("refusing request: this CA's certificate chain is revoked", "err", err)
		return msg.Errorf(msg.RevokedCertificate, "this CA may no longer issue certificates: %w", err)
	default:
		return &msg.ProtocolError{Code: pki.ErrorCode(err), Err: fmt.Errorf("this CA's own certificate: %w", err)}
	}
}
