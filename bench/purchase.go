package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// noLimit is the gateway's spending limit in the benchmarks: high enough
// that no purchase is ever declined, low enough that a sum cannot overflow.
const noLimit = 1 << 62

// Purchaser runs whole purchases against a lab whose parties keep their
// records in in-memory SQLite databases: every purchase writes, as in a
// deployment.
type Purchaser struct {
	Lab *lab.Lab
	// Merchant carries the wallet's requests to the merchant. NewPurchaser
	// sets the direct, in-process wiring; replace it to go over a network.
	Merchant wire.RoundTripper

	closers []func() error
}

// PurchaserOptions says how to build a Purchaser's lab.
type PurchaserOptions struct {
	// GatewayRT carries the merchant's requests to the gateway; nil wires
	// them in process. See lab.Options.GatewayRT.
	GatewayRT wire.RoundTripper
}

// NewPurchaser builds a lab under st with one cardholder. The parties log
// nothing: a log line per purchase would be measured too.
func NewPurchaser(st suite.Suite, opts PurchaserOptions) (*Purchaser, error) {
	p := &Purchaser{}
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		return nil, fmt.Errorf("bench: merchant store: %w", err)
	}
	p.closers = append(p.closers, ms.Close)
	gs, err := sqlite.Open(":memory:")
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("bench: gateway store: %w", err)
	}
	p.closers = append(p.closers, gs.Close)
	quiet := slog.New(slog.DiscardHandler)
	l, err := lab.New(lab.Options{
		Suite: st, Limit: noLimit,
		MerchantStore: ms, GatewayStore: gs,
		GatewayRT:   opts.GatewayRT,
		MerchantLog: quiet, GatewayLog: quiet,
	})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	p.Lab = l
	p.Merchant = wire.ServeFunc(l.Merchant.Serve)
	return p, nil
}

// Purchase runs one whole purchase: checkout, PInitReq/PInitRes,
// PReq/PRes with AuthReq/AuthRes in between, and capture. Anything short
// of an authorized and captured order is an error.
func (p *Purchaser) Purchase(ctx context.Context) error {
	l := p.Lab
	offer, err := l.Merchant.Checkout(ctx, "1 × The Art of Computer Programming, vol. 1", lab.USD(4999))
	if err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	purchase, res, err := l.Wallets[0].Pay(ctx, p.Merchant, lab.OfferFor(offer))
	if err != nil {
		return fmt.Errorf("pay: %w", err)
	}
	if res.Completion != msg.AuthorizationAccepted {
		return fmt.Errorf("pay: completion %v, want authorizationAccepted", res.Completion)
	}
	code, err := l.Merchant.Capture(ctx, purchase.TransIDs().XID)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if code != msg.CapSuccess {
		return fmt.Errorf("capture: %v, want success", code)
	}
	return nil
}

// Close releases the stores.
func (p *Purchaser) Close() error {
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c())
	}
	p.closers = nil
	return errors.Join(errs...)
}
