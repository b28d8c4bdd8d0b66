package lab

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// The lab's acquirer and the parties its records know, shared by lab.New's
// directly issued certificates and the registered ecosystem.
const (
	acquirerBIN  = "400000"
	gatewayName  = "SETpay Payment Gateway"
	gatewayBizID = "1"
	merchantName = "Corner Bookshop"
	merchantCity = "Springfield"
)

// The lab's card issuers, by BIN range: the Visa-like test numbers
// (4…) and the MasterCard-like ones (5…) belong to different issuers with
// different registration forms, so a run with several cardholders
// exercises more than one. Both also have their form in French, sent to a
// wallet whose language is "fr".
var labIssuers = []ca.Issuer{
	{BINLow: "400000", BINHigh: "499999", Policy: "SETpay First Issuer cardholder certificate policy",
		Form: &msg.RegTemplate{RegFormID: 1, RegFieldSeq: []msg.RegField{
			{FieldName: "Cardholder name", FieldRequired: true},
		}},
		Forms: map[string]*msg.RegTemplate{"fr": {RegFormID: 11, RegFieldSeq: []msg.RegField{
			{FieldName: "Nom du titulaire", FieldRequired: true},
		}}}},
	{BINLow: "510000", BINHigh: "559999", Policy: "SETpay Second Issuer cardholder certificate policy",
		Form: &msg.RegTemplate{RegFormID: 2, RegFieldSeq: []msg.RegField{
			{FieldName: "Cardholder name", FieldRequired: true},
			{FieldName: "Postal code", FieldRequired: true},
		}},
		Forms: map[string]*msg.RegTemplate{"fr": {RegFormID: 12, RegFieldSeq: []msg.RegField{
			{FieldName: "Nom du titulaire", FieldRequired: true},
			{FieldName: "Code postal", FieldRequired: true},
		}}}},
	// Bank-account holders (account.go): SET's BIN is a card issuer's,
	// so accounts are registered under msg.AccountBIN.
	{BINLow: msg.AccountBIN, BINHigh: msg.AccountBIN, Policy: "SETpay Bank account holder certificate policy",
		Form: &msg.RegTemplate{RegFormID: 3, RegFieldSeq: []msg.RegField{
			{FieldName: "Cardholder name", FieldRequired: true},
		}}},
}

// cardholderAnswers fills either issuer's form, in English or French.
var cardholderAnswers = map[string]string{"Cardholder name": "Pat Example", "Postal code": "12345",
	"Nom du titulaire": "Pat Example", "Code postal": "12345"}

// Authorities are the brand's registration CAs, each a ca.CA answering
// SET's certificate-management protocol on the lab's hierarchy: the
// cardholder CA (with the lab's issuers), the merchant CA and the payment
// CA (with the lab's acquirer records).
type Authorities struct {
	Hierarchy     *pki.Hierarchy
	Roots         []*pki.Certificate
	CCA, MCA, PCA *ca.CA
	// Certificates are the hierarchy's certificates and the CAs'
	// key-exchange certificates, by name.
	Certificates map[string][]byte

	opts Options
	crls *crlState // shared with the Lab Register builds
}

// Revocations returns the CRLs and BCI the authorities published: the
// first CRL of every CA from creation on, and whatever a Lab built by
// Register revoked since.
func (a *Authorities) Revocations() pki.RevocationSource { return &a.crls.published }

// AuthorityOptions says where the CAs keep their state.
type AuthorityOptions struct {
	// CCAStore, MCAStore and PCAStore hold each CA's nonces and registry of
	// certified keys; nil means a ca.MemoryStore each.
	CCAStore, MCAStore, PCAStore ca.Store
	// CCALog, MCALog and PCALog are each CA's log; nil means slog.Default.
	CCALog, MCALog, PCALog *slog.Logger
	// CCAPolicy is the cardholder CA's ca.Config.IssuerPolicy: nil issues
	// every request at once.
	CCAPolicy ca.IssuerPolicy
}

// RoundTrippers carry each party's registration requests to its CA: the
// gateway's to the PCA, the merchant's to the MCA, the cardholders' to the
// CCA. A nil one wires the CA's core directly.
type RoundTrippers struct {
	CCA, MCA, PCA wire.RoundTripper
}

// NewAuthorities builds the CA hierarchy and the three registration CAs.
// Nothing but the hierarchy itself and the CAs' key-exchange certificates
// is issued here; the parties enrol through Register.
func NewAuthorities(opts Options, ao AuthorityOptions) (*Authorities, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	st, now := opts.Suite, opts.Now()
	h, err := pki.NewHierarchy(opts.Rand, opts.Brand, st.NewSigningKey, st.Hash(), now)
	if err != nil {
		return nil, fmt.Errorf("lab: CA hierarchy: %w", err)
	}
	a := &Authorities{Hierarchy: h, Roots: []*pki.Certificate{h.Root.Cert}, Certificates: map[string][]byte{}, opts: opts}
	// The first CRL of every CA and a BCI, so parties can require CRLs;
	// Lab.Revoke on the registered lab updates them, and the CAs check
	// their own certificates against them (a revoked CA issues nothing).
	if a.crls, err = newCRLState(h, opts.Brand, st, now, opts.Rand); err != nil {
		return nil, err
	}
	caRevocation := opts.Revocation
	if caRevocation == nil {
		caRevocation = &a.crls.published
	}
	for name, x := range map[string]*pki.Authority{"root-ca": h.Root, "brand-ca": h.Brand, "cardholder-ca": h.CCA, "merchant-ca": h.MCA, "payment-ca": h.PCA} {
		a.Certificates[name] = x.Cert.Raw
	}
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{
		{AcquirerBIN: acquirerBIN, MerID: labMerchantID, Name: merchantName, City: merchantCity},
		{AcquirerBIN: acquirerBIN, BusinessID: gatewayBizID, Name: gatewayName},
		{AcquirerBIN: acquirerBIN, MerID: SecondMerchantID, Name: SecondMerchantName, City: merchantCity},
	}, Forms: map[string]*msg.RegTemplate{"fr": {RegFormID: 2, RegFieldSeq: []msg.RegField{
		{FieldName: ca.FieldLegalName, FieldDesc: "Raison sociale", FieldRequired: true, FieldLen: 60},
	}}}}
	for _, x := range []struct {
		auth  *pki.Authority
		ct    pki.CertType
		name  string
		store ca.Store
		log   *slog.Logger
		dst   **ca.CA
	}{
		{h.CCA, pki.CertTypeCCA, "cardholder-ca", ao.CCAStore, ao.CCALog, &a.CCA},
		{h.MCA, pki.CertTypeMCA, "merchant-ca", ao.MCAStore, ao.MCALog, &a.MCA},
		{h.PCA, pki.CertTypePCA, "payment-ca", ao.PCAStore, ao.PCALog, &a.PCA},
	} {
		store := x.store
		if store == nil {
			store = ca.NewMemoryStore()
		}
		cfg := ca.Config{
			Suite: st, BrandID: opts.Brand, Authority: x.auth,
			Roots: a.Roots, Store: store, Revocation: caRevocation,
			Rand: opts.Rand, Now: opts.Now, Log: x.log,
		}
		if x.ct == pki.CertTypeCCA {
			cfg.Issuers = labIssuers
			cfg.IssuerPolicy = ao.CCAPolicy
		} else {
			cfg.Acquirer = records
		}
		var exCert []byte
		if *x.dst, exCert, err = NewRegistrationCA(cfg, h.Brand, x.ct, now); err != nil {
			return nil, fmt.Errorf("lab: %s: %w", x.name, err)
		}
		a.Certificates[x.name+"-exchange"] = exCert
	}
	return a, nil
}

// NewRegistrationCA builds a registration CA (cardholder, merchant or
// payment CA, by certType) from cfg, which lacks only the CA's key-exchange
// key and certificate: it makes the key with cfg.Rand (crypto/rand if nil)
// and has brand certify it at now. It returns the CA and that certificate.
func NewRegistrationCA(cfg ca.Config, brand *pki.Authority, certType pki.CertType, now time.Time) (*ca.CA, []byte, error) {
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	exKey, err := cfg.Suite.NewExchangeKey(r)
	if err != nil {
		return nil, nil, fmt.Errorf("key-exchange key: %w", err)
	}
	exCert, err := ca.IssueCAExchangeCert(r, brand, exKey.Public(), cfg.Authority.Cert.Subject.CommonName, certType, now)
	if err != nil {
		return nil, nil, fmt.Errorf("key-exchange certificate: %w", err)
	}
	cfg.ExchangeKey, cfg.ExchangeCert = ca.NewExchangeKey(exKey), exCert
	c, err := ca.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, exCert, nil
}

// labMerchantID is the lab merchant's ID at its acquirer.
const labMerchantID = "MER-0001"

// A second merchant the lab's acquirer knows, under AcquirerBIN, for runs
// with more than one shop (the demo's day): it is in the merchant CA's
// records, but Register enrols only the lab's own merchant.
const (
	AcquirerBIN        = acquirerBIN
	SecondMerchantID   = "MER-0002"
	SecondMerchantName = "Night Owl Records"
)

// withDefaults checks opts and fills in what New fills in.
func (opts Options) withDefaults() (Options, error) {
	if opts.Suite == nil || opts.MerchantStore == nil || opts.GatewayStore == nil {
		return opts, fmt.Errorf("lab: suite and stores are required")
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
	return opts, nil
}

// NewRegistered builds the ecosystem by registration with the CAs' cores
// wired directly: NewAuthorities, then Register.
func NewRegistered(ctx context.Context, opts Options) (*Lab, *Authorities, error) {
	a, err := NewAuthorities(opts, AuthorityOptions{})
	if err != nil {
		return nil, nil, err
	}
	l, err := a.Register(ctx, RoundTrippers{})
	return l, a, err
}

// Register enrols the gateway at the PCA, the merchant at the MCA and
// each cardholder at the CCA over the registration protocols, in that
// order, through rts, and builds the parties from nothing but what
// registration returned. The cardholders' cards are the lab's test cards,
// as in New.
func (a *Authorities) Register(ctx context.Context, rts RoundTrippers) (*Lab, error) {
	opts, st := a.opts, a.opts.Suite
	pick := func(rt wire.RoundTripper, c *ca.CA) wire.RoundTripper {
		if rt == nil {
			return wire.ServeFunc(c.Serve)
		}
		return rt
	}
	l := &Lab{Suite: st, Hierarchy: a.Hierarchy, Roots: a.Roots, Certificates: map[string][]byte{}, MerchantID: labMerchantID, opts: opts, crls: a.crls}
	if l.opts.Revocation == nil {
		l.opts.Revocation = &l.crls.published
	}
	for k, v := range a.Certificates {
		l.Certificates[k] = v
	}

	g, err := gateway.Register(ctx, pick(rts.PCA, a.PCA), gateway.RegisterConfig{
		Suite: st, BrandID: opts.Brand, AcquirerBIN: acquirerBIN, BusinessID: gatewayBizID,
		Roots: a.Roots, Answers: map[string]string{ca.FieldLegalName: gatewayName},
		Rand: opts.Rand, Now: opts.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("lab: registering the gateway: %w", err)
	}
	gc := Credential{Key: g.RawSigKey, Cert: g.SigCert, ExchangeKey: g.RawExKey, ExchangeCert: g.ExCert, Chain: g.Chain}
	if l.Gateway, err = l.buildGateway(gatewayName, gc); err != nil {
		return nil, err
	}

	m, err := merchant.Register(ctx, pick(rts.MCA, a.MCA), merchant.RegisterConfig{
		Suite: st, BrandID: opts.Brand, MerchantID: labMerchantID, AcquirerBIN: acquirerBIN,
		Roots: a.Roots, Answers: map[string]string{ca.FieldLegalName: merchantName},
		Rand: opts.Rand, Now: opts.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("lab: registering the merchant: %w", err)
	}
	mc := Credential{Key: m.RawSigKey, Cert: m.SigCert, ExchangeKey: m.RawExKey, ExchangeCert: m.ExCert, Chain: m.Chain}
	if err := l.buildMerchant(mc, gc, l.gatewayRT()); err != nil {
		return nil, err
	}

	for i := range opts.Cardholders {
		card := wallet.Card{PAN: CardPAN(i), Expiry: opts.Now().AddDate(3, 0, 0).Format("200601"), BrandID: opts.Brand}
		r, err := wallet.Register(ctx, pick(rts.CCA, a.CCA), wallet.RegisterConfig{
			Suite: st, Card: card, Roots: a.Roots, Answers: cardholderAnswers,
			Rand: opts.Rand, Now: opts.Now,
		})
		if err != nil {
			return nil, fmt.Errorf("lab: registering cardholder %d: %w", i+1, err)
		}
		if err := l.addWallet(i, r.Card, r.Key, r.Cert, r.Chain); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// CardPAN is the card number of the lab's cardholder i (from 0): the
// well-known test numbers, then generated ones with a valid check digit.
func CardPAN(i int) string {
	if i < len(testPANs) {
		return testPANs[i]
	}
	pan := fmt.Sprintf("4%014d", 100000000+i)
	return pan + luhnDigit(pan)
}

// gatewayRT is how the merchant reaches the gateway: Options.GatewayRT,
// or the gateway core called directly.
func (l *Lab) gatewayRT() wire.RoundTripper {
	if l.opts.GatewayRT != nil {
		return l.opts.GatewayRT
	}
	return wire.ServeFunc(l.Gateway.Serve)
}

// addWallet builds cardholder i's wallet on its card and credential.
func (l *Lab) addWallet(i int, card wallet.Card, key wallet.SigningKey, cert []byte, chain [][]byte) error {
	l.Certificates[fmt.Sprintf("cardholder-%d", i+1)] = cert
	// A wallet shares no state with the CAs: it starts knowing no CRL and
	// learns them from the merchant's messages, as a real one would.
	// Only a revocation source the caller chose is shared.
	revocation := l.opts.Revocation
	if revocation == &l.crls.published {
		revocation = pki.NewRevocationCache(l.Roots, l.opts.Now)
	}
	w, err := wallet.New(wallet.Config{
		Suite: l.Suite, Key: key, Cert: cert, Chain: chain,
		Card: card, Roots: l.Roots, Revocation: revocation, Rand: l.opts.Rand, Now: l.opts.Now,
	})
	if err != nil {
		return fmt.Errorf("lab: cardholder %d: %w", i+1, err)
	}
	l.Wallets = append(l.Wallets, w)
	l.Cards = append(l.Cards, card)
	return nil
}

// buildGateway builds the lab's gateway on credential c.
func (l *Lab) buildGateway(name string, c Credential) (*gateway.Gateway, error) {
	l.Certificates["gateway-signature"] = c.Cert
	l.Certificates["gateway-exchange"] = c.ExchangeCert
	limit := l.opts.Limit
	gw, err := gateway.New(gateway.Config{
		Suite: l.Suite, Name: name,
		SigningKey: gateway.NewSigningKey(c.Key), SigningCert: c.Cert,
		ExchangeKey: gateway.NewExchangeKey(c.ExchangeKey), ExchangeCert: c.ExchangeCert,
		Chain: c.Chain, Roots: l.Roots, Store: l.opts.GatewayStore,
		Issuer: l.opts.Issuer, Revocation: l.opts.Revocation,
		Limit: func(string) int64 {
			if limit > 0 {
				return limit
			}
			return 500000
		},
		Rand: l.opts.Rand, Now: l.opts.Now, Log: l.opts.GatewayLog,
	})
	if err != nil {
		return nil, fmt.Errorf("lab: gateway: %w", err)
	}
	return gw, nil
}

func (l *Lab) merchantRevocation() pki.RevocationSource {
	if l.opts.MerchantRevocation != nil {
		return l.opts.MerchantRevocation
	}
	return l.opts.Revocation
}

// buildMerchant builds the lab's merchant on credential c, designating
// the gateway whose credential is g, reached through rt.
func (l *Lab) buildMerchant(c, g Credential, rt wire.RoundTripper) error {
	l.Certificates["merchant-signature"] = c.Cert
	l.Certificates["merchant-exchange"] = c.ExchangeCert
	st, r := l.Suite, l.opts.Rand
	ep := &wire.Endpoint{Suite: st, SWIdent: "setpay-merchant/0.1", Rand: r, Now: l.opts.Now, ErrorRoots: l.Roots}
	l.gwClient = &wire.GatewayClient{Endpoint: ep, RT: rt}
	m, err := merchant.New(merchant.Config{
		Suite: st, MerchantID: l.MerchantID, BrandID: l.opts.Brand,
		SigningKey: merchant.NewSigningKey(c.Key), SigningCert: c.Cert,
		ExchangeKey: merchant.NewExchangeKey(c.ExchangeKey), ExchangeCert: c.ExchangeCert,
		Chain:       c.Chain,
		GatewayCert: g.ExchangeCert, GatewayChain: g.Chain,
		Roots: l.Roots, Store: l.opts.MerchantStore, Revocation: l.merchantRevocation(),
		Gateway: l.gwClient, CaptureNow: l.opts.CaptureNow,
		Rand: r, Now: l.opts.Now, Log: l.opts.MerchantLog,
	})
	if err != nil {
		return fmt.Errorf("lab: merchant: %w", err)
	}
	l.Merchant = m
	return nil
}
