// Package lab builds a complete SET ecosystem in one process: a brand's
// certificate authorities, a payment gateway, a merchant and cardholders,
// each with keys and certificates issued by the CAs. The demo, the
// end-to-end tests and the benchmarks all start here.
//
// Certificates are issued directly by the CAs' cores; the registration
// protocols that would carry the requests over the wire come later.
package lab

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// Options says what to build.
type Options struct {
	Suite       suite.Suite
	Brand       string // default "SETpay"
	Cardholders int    // default 1
	// Limit is the gateway's per-account spending limit in minor units.
	Limit int64
	// Issuer decides the gateway's authorizations and takes its captures
	// (for example a bank host through banklink); nil means the gateway's
	// built-in LimitIssuer with Limit.
	Issuer gateway.Issuer

	MerchantStore merchant.Store // required
	GatewayStore  gateway.Store  // required

	// GatewayRT carries the merchant's requests to the gateway; nil wires
	// the cores directly (no network).
	GatewayRT wire.RoundTripper

	// CaptureNow makes the merchant sell: every purchase is authorized and
	// captured at once (merchant.Config.CaptureNow).
	CaptureNow bool

	// Revocation is what every party checks certificates against; nil
	// means the lab's own list, which Lab.Revoke updates.
	Revocation pki.RevocationSource
	// MerchantRevocation, if set, is the merchant's own revocation source
	// in place of Revocation: a pki.RevocationCache fed from the CA's
	// CRLNotification (package crldist), say, to show revocation reaching
	// a merchant that shares no state with the CAs.
	MerchantRevocation pki.RevocationSource

	Now         func() time.Time
	Rand        io.Reader
	MerchantLog *slog.Logger
	GatewayLog  *slog.Logger
}

// Lab is a running ecosystem.
type Lab struct {
	Suite     suite.Suite
	Hierarchy *pki.Hierarchy
	Roots     []*pki.Certificate

	Gateway  *gateway.Gateway
	Merchant *merchant.Merchant
	Wallets  []*wallet.Wallet
	Cards    []wallet.Card

	// Certificates by name, for export and inspection.
	Certificates map[string][]byte

	MerchantID string
	opts       Options
	gatewayID  Credential // the gateway's, for RestartGateway
	gwClient   *wire.GatewayClient
	crls       *crlState // see revocation.go
}

// setGatewayRT re-routes the merchant's requests to the gateway.
func (l *Lab) setGatewayRT(rt wire.RoundTripper) { l.gwClient.RT = rt }

// Test cards: the PANs of well-known test card numbers of the era's brands
// (not real accounts).
var testPANs = []string{"4111111111111111", "4012888888881881", "5555555555554444", "5105105105105100", "4222222222222220"}

// New builds the ecosystem.
func New(opts Options) (*Lab, error) {
	if opts.Suite == nil || opts.MerchantStore == nil || opts.GatewayStore == nil {
		return nil, fmt.Errorf("lab: suite and stores are required")
	}
	if opts.Brand == "" {
		opts.Brand = "SETpay"
	}
	if opts.Cardholders <= 0 {
		opts.Cardholders = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	st := opts.Suite
	now := opts.Now()
	h, err := pki.NewHierarchy(opts.Rand, opts.Brand, st.NewSigningKey, st.Hash(), now)
	if err != nil {
		return nil, fmt.Errorf("lab: CA hierarchy: %w", err)
	}
	l := &Lab{Suite: st, Hierarchy: h, Roots: []*pki.Certificate{h.Root.Cert}, Certificates: map[string][]byte{}, MerchantID: "MER-0001", opts: opts}
	if l.crls, err = newCRLState(h, opts.Brand, st, now, opts.Rand); err != nil {
		return nil, err
	}
	if l.opts.Revocation == nil {
		l.opts.Revocation = &l.crls.published
	}
	for name, a := range map[string]*pki.Authority{"root-ca": h.Root, "brand-ca": h.Brand, "cardholder-ca": h.CCA, "merchant-ca": h.MCA, "payment-ca": h.PCA} {
		l.Certificates[name] = a.Cert.Raw
	}

	const gatewayName = "SETpay Payment Gateway"
	gc, err := l.IssueGateway(gatewayName, l.opts.Now())
	if err != nil {
		return nil, err
	}
	if l.Gateway, err = l.buildGateway(gatewayName, gc); err != nil {
		return nil, err
	}
	l.gatewayID = gc
	mc, err := l.IssueMerchant(l.MerchantID, "Corner Bookshop", l.opts.Now())
	if err != nil {
		return nil, err
	}
	if err := l.buildMerchant(mc, gc, l.gatewayRT()); err != nil {
		return nil, err
	}
	for i := range opts.Cardholders {
		if err := l.newCardholder(i); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *Lab) newCardholder(i int) error {
	card, c, err := l.IssueCardholder(CardPAN(i), l.opts.Now())
	if err != nil {
		return err
	}
	return l.addWallet(i, card, wallet.NewSigningKey(c.Key), c.Cert, c.Chain)
}

// luhnDigit returns the Luhn check digit for the digits in s.
func luhnDigit(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return fmt.Sprint((10 - sum%10) % 10)
}

// OfferFor turns a merchant offer into what the wallet needs.
func OfferFor(o *merchant.Offer) wallet.Offer {
	return wallet.Offer{LIDM: o.LIDM, Amount: o.Amount, Description: []byte(o.Description), MerchantID: o.MerchantID}
}

// USD returns an amount in US cents.
func USD(cents int64) msg.CurrencyAmount {
	return msg.CurrencyAmount{Currency: 840, Amount: cents, AmtExp10: -2}
}
