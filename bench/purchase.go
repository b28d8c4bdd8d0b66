package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/gateway"
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

	bank    *bankHost // nil: the gateway's built-in LimitIssuer decides
	closers []func() error
}

// PurchaserOptions says how to build a Purchaser's lab.
type PurchaserOptions struct {
	// GatewayRT carries the merchant's requests to the gateway; nil wires
	// them in process. See lab.Options.GatewayRT.
	GatewayRT wire.RoundTripper
	// Bank puts a real issuer host behind the gateway: its ledger in
	// in-memory SQLite, reached over ISO 8583 on a 127.0.0.1 port through
	// banklink, every card opened there with the largest credit limit.
	// Without it the gateway's built-in LimitIssuer decides.
	Bank bool
	// Cardholders is how many wallets (and cards) the lab has, for
	// purchases running side by side, one wallet each. Default 1.
	Cardholders int
}

// NewPurchaser builds a lab under st. The parties log nothing: a log line
// per purchase would be measured too.
func NewPurchaser(st suite.Suite, opts PurchaserOptions) (*Purchaser, error) {
	p := &Purchaser{}
	var issuer gateway.Issuer
	if opts.Bank {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			return nil, fmt.Errorf("bench: bank ledger: %w", err)
		}
		p.closers = append(p.closers, db.Close)
		if p.bank, err = startBank(db); err != nil {
			p.Close()
			return nil, err
		}
		// Stop the host before its database closes (closers run in order).
		p.closers = append([]func() error{p.bank.close}, p.closers...)
		issuer = p.bank.link
	}
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
		Suite: st, Limit: noLimit, Cardholders: opts.Cardholders, Issuer: issuer,
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
	if p.bank != nil {
		if err := p.openAccounts(context.Background()); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// openAccounts opens, at the bank, the merchant's settlement account and
// an account for each of the lab's cards.
func (p *Purchaser) openAccounts(ctx context.Context) error {
	if _, err := p.bank.ledger.OpenMerchant(ctx, p.Lab.MerchantID, "Corner Bookshop", 840); err != nil {
		return fmt.Errorf("bench: bank: %w", err)
	}
	for _, c := range p.Lab.Cards {
		// The wallet's expiry is YYYYMM, the issuer's YYMM.
		card := bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: "cardholder", Currency: 840, Limit: bankLimit}
		id, err := p.bank.ledger.OpenCard(ctx, card)
		if err != nil {
			return fmt.Errorf("bench: bank: %w", err)
		}
		p.bank.cards = append(p.bank.cards, id)
	}
	return nil
}

// Purchase runs one whole purchase: checkout, PInitReq/PInitRes,
// PReq/PRes with AuthReq/AuthRes in between, and capture. Anything short
// of an authorized and captured order is an error.
func (p *Purchaser) Purchase(ctx context.Context) error {
	xid, err := p.Authorize(ctx, 0)
	if err != nil {
		return err
	}
	code, err := p.Lab.Merchant.Capture(ctx, xid)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if code != msg.CapSuccess {
		return fmt.Errorf("capture: %v, want success", code)
	}
	return nil
}

// Authorize runs one authorization with the lab's wallet i: checkout,
// PInitReq/PInitRes, PReq → AuthReq → (the issuer: the LimitIssuer, or
// the bank's 0100/0110) → AuthRes → PRes. It captures nothing, so with a
// bank the approval's hold stays. Anything short of an accepted order is
// an error. Calls with different wallets may run concurrently.
func (p *Purchaser) Authorize(ctx context.Context, i int) (msg.XID, error) {
	l := p.Lab
	if i < 0 || i >= len(l.Wallets) {
		return msg.XID{}, fmt.Errorf("bench: no wallet %d (the lab has %d)", i, len(l.Wallets))
	}
	offer, err := l.Merchant.Checkout(ctx, "1 × The Art of Computer Programming, vol. 1", lab.USD(4999))
	if err != nil {
		return msg.XID{}, fmt.Errorf("checkout: %w", err)
	}
	purchase, res, err := l.Wallets[i].Pay(ctx, p.Merchant, lab.OfferFor(offer))
	if err != nil {
		return msg.XID{}, fmt.Errorf("pay: %w", err)
	}
	if res.Completion != msg.AuthorizationAccepted {
		return msg.XID{}, fmt.Errorf("pay: completion %v, want authorizationAccepted", res.Completion)
	}
	return purchase.TransIDs().XID, nil
}

// Audit checks the bank's ledger invariants (bank.Ledger.Audit); without
// a bank there is nothing to check.
func (p *Purchaser) Audit(ctx context.Context) error {
	if p.bank == nil {
		return nil
	}
	return p.bank.ledger.Audit(ctx)
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
