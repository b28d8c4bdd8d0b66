// Package merchant is the merchant's side of SET. It sells: it answers the
// cardholder's purchase initialization, checks the dual-signed purchase
// request against the order it holds, asks the payment gateway to authorize
// and later capture, and answers the cardholder.
//
// The merchant sees the order information and only a digest of the payment
// information: the card number is sealed to the gateway and never reaches
// this package's memory, store or logs.
//
// The core does no I/O of its own: the gateway, storage, clock and
// randomness arrive through Config.
package merchant

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// SigningKey is the merchant's signature key.
type SigningKey struct{ key crypto.Signer }

// NewSigningKey wraps the merchant's private signature key.
func NewSigningKey(k crypto.Signer) SigningKey { return SigningKey{key: k} }

func (k SigningKey) String() string { return fmt.Sprintf("merchant.SigningKey(%T)", k.key.Public()) }

// ExchangeKey is the merchant's key-exchange key: the gateway seals its
// answers to it.
type ExchangeKey struct{ key suite.ExchangeKey }

// NewExchangeKey wraps the merchant's private key-exchange key.
func NewExchangeKey(k suite.ExchangeKey) ExchangeKey { return ExchangeKey{key: k} }

func (k ExchangeKey) String() string { return fmt.Sprintf("merchant.ExchangeKey(%T)", k.key.Public()) }

// GatewayClient is how the merchant reaches its payment gateway.
type GatewayClient interface {
	Authorize(ctx context.Context, req *msg.AuthReq, ids *msg.MessageIDs) (*msg.AuthRes, error)
	Capture(ctx context.Context, req *msg.CapReq, ids *msg.MessageIDs) (*msg.CapRes, error)
}

// Store is what the merchant persists.
type Store = store.MerchantStore

// Config is what a merchant needs.
type Config struct {
	Suite      suite.Suite
	MerchantID string
	BrandID    string

	SigningKey   SigningKey
	SigningCert  []byte
	ExchangeKey  ExchangeKey
	ExchangeCert []byte
	Chain        [][]byte // MCA and brand certificates

	// The gateway the merchant's acquirer designates: its key-exchange
	// certificate and chain, sent to cardholders in PInitRes.
	GatewayCert  []byte
	GatewayChain [][]byte

	Roots   []*pki.Certificate
	Store   Store
	Gateway GatewayClient
	// Revocation, if set, supplies the CRLs and BrandCRLIdentifier every
	// certificate check uses, asked afresh at each check so that a
	// revocation takes effect for the next message. What it holds is
	// carried to cardholders and learned from the gateway (revocation.go).
	Revocation pki.RevocationSource
	// AllowMissingCRLs accepts chains whose CAs have no current CRL (for
	// tests and set-ups without revocation); by default such a chain is
	// refused with invalidCertificate.
	AllowMissingCRLs bool
	// Certificates, if set, remembers the gateway certificates that
	// verified, so that requests list them in MThumbs and the gateway
	// leaves them out (certcache.go). Nil means a new one.
	Certificates *pki.CertCache

	// RequestLifetime bounds how long the gateway may accept a request
	// after it was made (deviation 3). Default 5 minutes.
	RequestLifetime time.Duration

	// CaptureNow makes every purchase a sale: the AuthReq asks the gateway
	// to capture with the authorization (captureNow), for merchants that
	// deliver at once, such as digital goods. An order the gateway
	// captured is recorded captured and answered capturePerformed; no
	// CapReq follows. If the gateway authorizes without capturing, the
	// order is authorized and Capture takes it later.
	CaptureNow bool

	SWIdent string
	Rand    io.Reader
	Now     func() time.Time
	Log     *slog.Logger
}

// verifier validates a cardholder's or gateway's certificate of type typ allowing usage (0:
// any) at now, against the roots and the revocation state current at the
// moment of the check. Every certificate check of a purchase goes through
// it.
func (cfg *Config) verifier(now time.Time, typ pki.CertType, usage x509.KeyUsage) encap.CertVerifier {
	v := pki.RevocationVerifier(cfg.Revocation, pki.VerifyOptions{Roots: cfg.Roots, Now: now, CertType: typ, KeyUsage: usage, RequireCRLs: !cfg.AllowMissingCRLs})
	if typ == pki.CertTypePgwy {
		return cfg.Certificates.Remember(v) // cardholders' certificates are not worth caching
	}
	return v
}

// Merchant is a merchant core.
type Merchant struct {
	cfg      Config
	endpoint wire.Endpoint
	// gateway, once set, replaces cfg.GatewayCert and cfg.GatewayChain
	// (see UseGatewayCertificates); read them through config.
	gateway atomic.Pointer[GatewayCertificates]
	// walletHeld is what each purchase's wallet holds after PInitRes
	// (certcache.go).
	walletHeld walletHeld
}

// New returns a merchant after checking its configuration.
func New(cfg Config) (*Merchant, error) {
	switch {
	case cfg.Suite == nil, cfg.SigningKey.key == nil, cfg.ExchangeKey.key == nil:
		return nil, errors.New("merchant: suite and keys are required")
	case cfg.SigningCert == nil, cfg.ExchangeCert == nil, cfg.GatewayCert == nil:
		return nil, errors.New("merchant: own and gateway certificates are required")
	case cfg.Store == nil, cfg.Gateway == nil:
		return nil, errors.New("merchant: store and gateway client are required")
	case cfg.MerchantID == "":
		return nil, errors.New("merchant: merchant ID is required")
	}
	if cfg.RequestLifetime == 0 {
		cfg.RequestLifetime = 5 * time.Minute
	}
	if cfg.SWIdent == "" {
		cfg.SWIdent = "setpay-merchant/0.1"
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Certificates == nil {
		cfg.Certificates = pki.NewCertCache(0)
	}
	m := &Merchant{cfg: cfg}
	m.endpoint = wire.Endpoint{Suite: cfg.Suite, Signer: m.signer(), SWIdent: cfg.SWIdent, Rand: cfg.Rand, Now: cfg.Now, Log: cfg.Log}
	return m, nil
}

// signer signs with the merchant's signature key and sends its chain plus
// its key-exchange certificate, so the gateway can seal answers to it.
func (m *Merchant) signer() *encap.Signer {
	chain := append([][]byte{m.cfg.ExchangeCert}, m.cfg.Chain...)
	return &encap.Signer{Key: m.cfg.SigningKey.key, Cert: m.cfg.SigningCert, Chain: chain}
}

// Offer is the SET initiation the merchant gives the shopper's wallet at
// checkout: the order, its price and the local ID naming it.
type Offer struct {
	LIDM        []byte
	MerchantID  string
	BrandID     string
	Amount      msg.CurrencyAmount
	Description string
}

// Checkout records a new order and returns the offer for the wallet. The
// order is stored before the offer is given out.
func (m *Merchant) Checkout(ctx context.Context, description string, amount msg.CurrencyAmount) (*Offer, error) {
	if description == "" || len(description) > 4096 {
		return nil, errors.New("merchant: order description must be 1 to 4096 bytes")
	}
	if amount.Amount <= 0 {
		return nil, errors.New("merchant: amount must be positive")
	}
	var xid msg.XID
	if _, err := io.ReadFull(m.cfg.Rand, xid[:]); err != nil {
		return nil, err
	}
	o := &store.Order{
		XID:         store.XID(xid),
		LIDM:        xid[:], // the merchant's local ID is its XID (docs/spec-gaps.md)
		Brand:       m.cfg.BrandID,
		Description: description,
		Amount:      amount.Amount,
		Currency:    amount.Currency,
		AmtExp10:    amount.AmtExp10,
		State:       store.StateInitiated,
	}
	if err := m.cfg.Store.CreateOrder(ctx, o); err != nil {
		return nil, fmt.Errorf("merchant: record order: %w", err)
	}
	return &Offer{LIDM: o.LIDM, MerchantID: m.cfg.MerchantID, BrandID: m.cfg.BrandID, Amount: amount, Description: description}, nil
}

// Serve answers one SET request (a MessageWrapper's bytes) from a
// cardholder: PInitReq or PReq. Rejections become Error messages.
func (m *Merchant) Serve(ctx context.Context, req []byte) ([]byte, error) {
	return m.endpoint.Serve(ctx, req, func(ctx context.Context, w *msg.MessageWrapper) (msg.Message, error) {
		switch r := w.Message.(type) {
		case *msg.PInitReq:
			return m.HandlePInitReq(ctx, r)
		case *msg.PReq:
			return m.HandlePReq(ctx, r)
		case *msg.InqReq:
			return m.HandleInqReq(ctx, r)
		default:
			return nil, msg.Errorf(msg.MessageNotSupported, "merchant does not accept %s", w.Message.Name())
		}
	})
}

// HandlePInitReq answers a purchase initialization: it finds the order the
// wallet names, assigns the transaction IDs and a merchant challenge, and
// signs them together with the gateway certificate the PI must be sealed to.
func (m *Merchant) HandlePInitReq(ctx context.Context, req *msg.PInitReq) (*msg.PInitRes, error) {
	cfg := m.config()
	if len(req.LocalIDM) != len(msg.XID{}) {
		return nil, msg.Errorf(msg.UnknownLID, "PInitReq names no order of this merchant")
	}
	xid := msg.XID(req.LocalIDM)
	if req.BrandID != cfg.BrandID {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "brand %q not accepted", req.BrandID)
	}
	var challM msg.Challenge
	if _, err := io.ReadFull(cfg.Rand, challM[:]); err != nil {
		return nil, err
	}
	transIDs := msg.TransIDs{
		LIDC:     req.LocalIDC,
		LIDM:     req.LocalIDM,
		XID:      xid,
		PReqDate: cfg.Now().UTC().Truncate(time.Second),
		Language: req.Language,
	}
	tidDER, err := transIDs.Marshal()
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PInitReq: %w", err)
	}
	_, err = cfg.Store.UpdateOrder(ctx, store.XID(xid), func(o *store.Order) error {
		if o.State != store.StateInitiated {
			return msg.Errorf(msg.UnknownLID, "order is %s, not awaiting payment", o.State)
		}
		o.LIDC = req.LocalIDC
		o.TransIDs = tidDER
		o.ChallC = req.ChallC[:]
		o.ChallM = challM[:]
		return nil
	})
	if err != nil {
		return nil, lookupError(err, msg.UnknownLID)
	}
	data := &msg.PInitResData{
		TransIDs: transIDs,
		RRPID:    req.RRPID,
		ChallC:   req.ChallC,
		ChallM:   challM,
		PEThumb:  msg.ThumbOf(cfg.Suite.Hash(), cfg.GatewayCert),
	}
	crls, bci := cfg.carry(ctx, req.Thumbs, time.Time{})
	data.BrandCRLIdentifier = bci
	content, err := data.Marshal()
	if err != nil {
		return nil, err
	}
	signer := *m.signer()
	signer.Chain = append(append(signer.Chain, cfg.GatewayCert), cfg.GatewayChain...)
	signer.CRLs = crls
	signer.Omit = pki.HeldCertThumbs(req.Thumbs)
	signed, err := encap.S(cfg.Suite, cfg.Rand, signer, msg.OIDPInitResData, content)
	if err != nil {
		return nil, err
	}
	m.walletHeld.remember(xid, signer.Omit, append([][]byte{signer.Cert}, signer.Chain...))
	return &msg.PInitRes{SignedData: signed}, nil
}

// HandlePReq runs the merchant's purchase steps in order: the order and
// transaction are known, the challenges echo, the dual signature holds over
// the order information, the order digest matches what was sold; then the
// gateway authorizes and the merchant answers.
func (m *Merchant) HandlePReq(ctx context.Context, req *msg.PReq) (*msg.PRes, error) {
	cfg := m.config()
	if req.DualSigned == nil {
		return nil, msg.Errorf(msg.SignatureRequired, "this merchant accepts only dual-signed purchase requests")
	}
	ds := req.DualSigned
	oi := &ds.OIDualSigned.OIData
	order, err := cfg.Store.Order(ctx, store.XID(oi.TransIDs.XID))
	if err != nil {
		return nil, lookupError(err, msg.UnknownXID)
	}
	if err := checkTransaction(order, oi); err != nil {
		return nil, err
	}
	if _, err := encap.VerifyDualFromOI(cfg.Suite, ds.PIDualSigned.PISignature, oi.Raw(), ds.OIDualSigned.HPIData,
		cfg.verifier(cfg.Now(), pki.CertTypeCard, x509.KeyUsageDigitalSignature)); err != nil {
		return nil, msg.Classify(err, msg.SignatureFailure, "dual signature")
	}
	amount := msg.CurrencyAmount{Currency: order.Currency, Amount: order.Amount, AmtExp10: order.AmtExp10}
	hodInput, err := (&msg.HODInput{OD: []byte(order.Description), PurchAmt: amount, ODSalt: oi.ODSalt}).Marshal()
	if err != nil {
		return nil, err
	}
	if err := encap.CheckDD(cfg.Suite, oi.HOD, msg.OIDHODInput, hodInput); err != nil {
		// The cardholder signed another order or price: refuse the order.
		cfg.Log.Info("order digest mismatch", "xid", fmt.Sprintf("%x", oi.TransIDs.XID[:4]))
		return m.pres(oi, msg.OrderRejected, nil)
	}

	authAmt := amount
	if 0 < order.FirstAuthAmount && order.FirstAuthAmount < order.Amount {
		authAmt.Amount = order.FirstAuthAmount // a split shipment's first part (split.go)
	}
	authReq, authRRPID, tbsDER, err := m.authReq(ds, oi, authAmt)
	if err != nil {
		return nil, err
	}
	// Write before acting: the order records the authorization request
	// before it leaves, so a crash leaves a trace to reconcile.
	if _, err := cfg.Store.UpdateOrder(ctx, order.XID, func(o *store.Order) error {
		if o.State != store.StateInitiated {
			return msg.Errorf(msg.UnspecifiedFailure, "order is already %s", o.State)
		}
		o.State = store.StatePurchaseRequested
		o.AuthRRPID = authRRPID[:]
		return nil
	}); err != nil {
		return nil, lookupError(err, msg.UnknownXID)
	}
	ids := &msg.MessageIDs{LIDM: oi.TransIDs.LIDM, XID: &oi.TransIDs.XID}
	res, err := cfg.Gateway.Authorize(ctx, authReq, ids)
	if err != nil {
		m.markFailed(ctx, order.XID)
		return nil, fmt.Errorf("authorization: %w", err)
	}
	result, err := m.checkAuthRes(res, authRRPID, oi.TransIDs.XID, tbsDER)
	if err != nil {
		m.markFailed(ctx, order.XID)
		return nil, err
	}
	approved := result.code == msg.AuthApproved
	// The gateway's signed word that it captured: only for a sale asked
	// for, and only for the whole amount authorized.
	captured := approved && cfg.CaptureNow && result.capture != nil &&
		result.capture.CapCode == msg.CapSuccess && result.capture.CapAmt == result.amount
	var piDER []byte // kept with the part for a reversal's baggage (parts.go)
	if approved {
		if piDER, err = authReq.PI.Marshal(); err != nil {
			return nil, err
		}
	}
	if _, err := cfg.Store.UpdateOrder(ctx, order.XID, func(o *store.Order) error {
		if approved {
			o.State = store.StateAuthorized
			o.AuthAmount = result.amount.Amount
			part := newPart(authRRPID, result, piDER)
			if captured {
				o.State = store.StateCaptured
				o.CaptureAmount = result.capture.CapAmt.Amount
				part.State, part.CaptureAmount = store.StateCaptured, o.CaptureAmount
			}
			o.Parts = []store.OrderPart{part}
		} else {
			o.State = store.StateDeclined
		}
		o.AuthCode = result.code.String()
		o.GatewayAuthRes = result.signed
		o.AuthToken = result.authToken
		o.CapToken = result.capToken
		return nil
	}); err != nil {
		return nil, err
	}
	completion := msg.OrderRejected
	switch {
	case captured:
		completion = msg.CapturePerformed
	case approved:
		completion = msg.AuthorizationAccepted
	}
	var proof []byte
	if cfg.Suite.ID() != suite.Set1 {
		proof = result.signed // deviation 4: the gateway's own word reaches the cardholder
	}
	return m.pres(oi, completion, proof)
}

// checkTransaction checks a PReq's order information against the order
// and the PInitRes the merchant sent.
func checkTransaction(o *store.Order, oi *msg.OIData) error {
	if o.State != store.StateInitiated || o.TransIDs == nil {
		return msg.Errorf(msg.UnknownXID, "no purchase is awaited for this transaction (order %s)", o.State)
	}
	got, err := oi.TransIDs.Marshal()
	if err != nil || string(got) != string(o.TransIDs) {
		return msg.Errorf(msg.UnknownXID, "TransIDs differ from those in PInitRes")
	}
	if string(oi.ChallC[:]) != string(o.ChallC) {
		return msg.Errorf(msg.ChallengeMismatch, "chall-C differs from PInitReq")
	}
	if oi.ChallM == nil || string(oi.ChallM[:]) != string(o.ChallM) {
		return msg.Errorf(msg.ChallengeMismatch, "chall-M does not echo PInitRes")
	}
	return nil
}

// authReq builds the AuthReq for a verified purchase: the merchant's
// signed authorization data, sealed to the gateway, with the cardholder's
// PI passed on unopened.
func (m *Merchant) authReq(ds *msg.PReqDualSigned, oi *msg.OIData, amount msg.CurrencyAmount) (*msg.AuthReq, msg.RRPID, []byte, error) {
	cfg := m.config()
	st := cfg.Suite
	var rrpid msg.RRPID
	if _, err := io.ReadFull(cfg.Rand, rrpid[:]); err != nil {
		return nil, rrpid, nil, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	hOIData, err := encap.DD(st, msg.OIDOIData, oi.Raw())
	if err != nil {
		return nil, rrpid, nil, err
	}
	pi := msg.PI{PIDualSigned: &ds.PIDualSigned}
	piDER, err := pi.Alternative()
	if err != nil {
		return nil, rrpid, nil, err
	}
	hPI, err := encap.DD(st, msg.OIDPI, piDER)
	if err != nil {
		return nil, rrpid, nil, err
	}
	data := msg.AuthReqData{
		MThumbs: cfg.mThumbs(context.Background()),
		AuthReqItem: msg.AuthReqItem{
			AuthTags: msg.AuthTags{
				AuthRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: now},
				TransIDs:   oi.TransIDs,
			},
			CheckDigests:   &msg.CheckDigests{HOIData: hOIData, HOD2: oi.HOD},
			AuthReqPayload: msg.AuthReqPayload{AuthReqAmt: amount},
		},
	}
	if st.ID() != suite.Set1 {
		// Deviations 1 and 3: name the gateway, bound the request's life.
		thumb := msg.ThumbOf(st.Hash(), cfg.GatewayCert)
		data.PGThumb = &thumb
		data.Expiry = now.Add(cfg.RequestLifetime)
	}
	data.CaptureNow = cfg.CaptureNow
	tbs, err := (&msg.AuthReqTBS{AuthReqData: data, HPI: hPI}).Marshal()
	if err != nil {
		return nil, rrpid, nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, tbs)
	if err != nil {
		return nil, rrpid, nil, err
	}
	return &msg.AuthReq{AuthReqTBE: tbe, PI: pi}, rrpid, tbs, nil
}

type authResult struct {
	code    msg.AuthCode
	amount  msg.CurrencyAmount
	capture *msg.CapResPayload // present when the gateway captured at once
	signed  []byte             // the gateway's SignedData over AuthResTBS
	// authToken is the AuthToken from the baggage, for a later
	// authorization (split.go); nil if none.
	authToken []byte
	// capToken is the CapToken from the baggage, sent back with the
	// capture (captoken.go); nil if none.
	capToken []byte
}

// checkAuthRes opens the gateway's answer and checks it answers this
// request, from the designated gateway, for this merchant.
func (m *Merchant) checkAuthRes(res *msg.AuthRes, rrpid msg.RRPID, xid msg.XID, authReqTBS []byte) (*authResult, error) {
	cfg := m.config()
	st := cfg.Suite
	content, signed, signerCert, err := encap.OpenEnc(st, cfg.ExchangeKey.key, cfg.ExchangeCert, res.AuthResTBE, msg.OIDAuthResTBS, msg.OIDAuthResTBE,
		cfg.verifier(cfg.Now(), pki.CertTypePgwy, x509.KeyUsageDigitalSignature), cfg.learn(msg.OIDAuthResTBS))
	if err != nil {
		return nil, signedErr(err, "AuthRes")
	}
	if !pki.SameSubject(signerCert, cfg.GatewayCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRes signed by a gateway other than the designated one")
	}
	tbs, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthResTBS: %w", err)
	}
	d := &tbs.AuthResData
	if d.AuthTags.AuthRRTags.RRPID != rrpid {
		return nil, msg.Errorf(msg.UnknownRRPID, "AuthRes answers another request")
	}
	if d.AuthTags.TransIDs.XID != xid {
		return nil, msg.Errorf(msg.UnknownXID, "AuthRes is for another transaction")
	}
	if st.ID() != suite.Set1 {
		// Deviation 2: the answer names this merchant and this request.
		if !d.MerchantThumb.Matches(cfg.SigningCert) {
			return nil, msg.Errorf(msg.ThumbsMismatch, "AuthRes answers another merchant")
		}
		if string(d.HAuthReq) != string(digest(st.Hash(), authReqTBS)) {
			return nil, msg.Errorf(msg.SignatureFailure, "AuthRes answers another AuthReq")
		}
	}
	token, err := checkAuthResBaggage(st, res.AuthResBaggage, tbs.HAuthResBaggage)
	if err != nil {
		return nil, err
	}
	h := d.AuthResPayload.AuthHeader
	return &authResult{code: h.AuthCode, amount: h.AuthAmt, capture: d.AuthResPayload.CapResPayload, signed: signed, authToken: token,
		capToken: capTokenOf(res.AuthResBaggage)}, nil
}

// pres builds the signed purchase response.
func (m *Merchant) pres(oi *msg.OIData, completion msg.CompletionCode, gatewayProof []byte) (*msg.PRes, error) {
	cfg := m.config()
	data := &msg.PResData{
		TransIDs:       oi.TransIDs,
		RRPID:          oi.RRPID,
		ChallC:         oi.ChallC,
		PResPayloadSeq: []msg.PResPayload{{CompletionCode: completion, AuthResSigned: gatewayProof}},
	}
	// PInitRes, at PReqDate, carried what the wallet lacked then; PRes
	// carries what was issued since.
	crls, bci := cfg.carry(context.Background(), nil, oi.TransIDs.PReqDate)
	data.BrandCRLIdentifier = bci
	content, err := data.Marshal()
	if err != nil {
		return nil, err
	}
	signer := *m.signer()
	signer.CRLs = crls
	if gatewayProof != nil {
		signer.Chain = appendNew(signer.Chain, m.proofCerts(&cfg, gatewayProof)...)
	}
	signer.Omit = m.walletHeld.holds(oi.TransIDs.XID)
	signed, err := encap.S(cfg.Suite, cfg.Rand, signer, msg.OIDPResData, content)
	if err != nil {
		return nil, err
	}
	return &msg.PRes{SignedData: signed}, nil
}

func (m *Merchant) markFailed(ctx context.Context, xid store.XID) {
	if _, err := m.cfg.Store.UpdateOrder(ctx, xid, func(o *store.Order) error {
		o.State = store.StateFailed
		return nil
	}); err != nil {
		m.cfg.Log.Error("could not record failed authorization", "err", err)
	}
}

// Orders returns the most recent orders.
func (m *Merchant) Orders(ctx context.Context, limit int) ([]*store.Order, error) {
	return m.cfg.Store.Orders(ctx, limit)
}

func digest(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// lookupError maps a store lookup failure to a SET error: not found is the
// protocol's code; anything else is ours.
func lookupError(err error, notFound msg.ErrorCode) error {
	if _, ok := errors.AsType[*msg.ProtocolError](err); ok {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		return &msg.ProtocolError{Code: notFound, Err: err}
	}
	return err
}
