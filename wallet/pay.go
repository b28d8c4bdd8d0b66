package wallet

import (
	"context"
	"fmt"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wire"
)

// endpoint is what the wallet calls a merchant with. A SET Error the
// merchant answers with is checked against the wallet's roots, so that the
// caller can tell (wire.PeerError.Origin) an Error the merchant signed
// from an unsigned one anybody on the path could have made.
func (cfg *Config) endpoint() *wire.Endpoint {
	return &wire.Endpoint{Suite: cfg.Suite, SWIdent: cfg.SWIdent, Rand: cfg.Rand, Now: cfg.Now, ErrorRoots: cfg.Roots}
}

// Pay runs a whole purchase against a merchant reached through rt:
// PInitReq → PInitRes, PReq → PRes. rt is the only I/O; in the browser it
// is fetch, in the demo HTTP, in tests a direct call.
func (w *Wallet) Pay(ctx context.Context, rt wire.RoundTripper, offer Offer) (*Purchase, *Result, error) {
	ep := w.cfg.endpoint()
	p, req, err := w.Start(offer)
	if err != nil {
		return nil, nil, err
	}
	m, err := ep.Call(ctx, rt, "merchant", &msg.MessageIDs{LIDC: p.lidC, LIDM: offer.LIDM}, &req.RRPID, req)
	if err != nil {
		return p, nil, fmt.Errorf("PInitReq: %w", err)
	}
	initRes, ok := m.(*msg.PInitRes)
	if !ok {
		return p, nil, msg.Errorf(msg.WrapperMsgMismatch, "merchant answered PInitReq with %s", m.Name())
	}
	if err := p.HandlePInitRes(initRes); err != nil {
		return p, nil, fmt.Errorf("PInitRes: %w", err)
	}
	preq, err := p.PReq()
	if err != nil {
		return p, nil, err
	}
	xid := p.transIDs.XID
	m, err = ep.Call(ctx, rt, "merchant", &msg.MessageIDs{LIDC: p.lidC, LIDM: offer.LIDM, XID: &xid}, &p.preqRRPID, preq)
	if err != nil {
		return p, nil, fmt.Errorf("PReq: %w", err)
	}
	pres, ok := m.(*msg.PRes)
	if !ok {
		return p, nil, msg.Errorf(msg.WrapperMsgMismatch, "merchant answered PReq with %s", m.Name())
	}
	res, err := p.HandlePRes(pres)
	if err != nil {
		return p, nil, fmt.Errorf("PRes: %w", err)
	}
	return p, res, nil
}
