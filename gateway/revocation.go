package gateway

import (
	"context"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Revocation state travels in SET's messages: every answer to a merchant
// (AuthRes, CapRes, AuthRevRes, CapRevRes, CredRes, CredRevRes, PCertRes)
// carries the current BrandCRLIdentifier in its brandCRLIdentifier field
// and the CRLs in the SignedData's crls field, leaving out what the
// request's MThumbs listed as held. The merchant then checks the next
// cardholder against the same lists the gateway checks against.

// carrying returns the gateway's signer carrying the CRLs a merchant that
// holds held lacks and leaving out the certificates held lists (the
// merchant checks them from its cache), and sets *bci to the
// BrandCRLIdentifier to put in the response (nil if held lists it). A
// revocation source that fails leaves the answer without them: the
// merchant's own checks then decide.
func (g *Gateway) carrying(ctx context.Context, held *msg.Thumbs, bci *[]byte) encap.Signer {
	s := *g.signer()
	s.Omit = pki.HeldCertThumbs(held)
	crls, b, err := pki.ToCarry(ctx, g.cfg.Revocation, held, time.Time{})
	if err != nil {
		g.cfg.Log.Warn("revocation state not carried", "err", err)
		return s
	}
	s.CRLs = crls
	*bci = b
	return s
}
