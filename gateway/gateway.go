// Package gateway is the payment gateway's side of SET: it acts for the
// merchant's acquirer. It opens the cardholder's payment instructions — the
// only party besides the issuer that sees the card number — checks that the
// cardholder and the merchant agree on the same purchase without ever seeing
// what was bought, asks the issuer (Config.Issuer: a bank over ISO 8583 via
// banklink, or the built-in LimitIssuer), and answers the merchant.
//
// The core does no I/O of its own: storage, clock and randomness arrive
// through Config.
package gateway

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// SigningKey is the gateway's signature key.
type SigningKey struct{ key crypto.Signer }

// NewSigningKey wraps the gateway's private signature key.
func NewSigningKey(k crypto.Signer) SigningKey { return SigningKey{key: k} }

func (k SigningKey) String() string { return fmt.Sprintf("gateway.SigningKey(%T)", k.key.Public()) }

// ExchangeKey is the gateway's key-exchange key: cardholders seal payment
// instructions and merchants seal requests to it.
type ExchangeKey struct{ key suite.ExchangeKey }

// NewExchangeKey wraps the gateway's private key-exchange key.
func NewExchangeKey(k suite.ExchangeKey) ExchangeKey { return ExchangeKey{key: k} }

func (k ExchangeKey) String() string { return fmt.Sprintf("gateway.ExchangeKey(%T)", k.key.Public()) }

// Store is what the gateway persists: authorizations, the replay cache and
// per-account spending for the built-in issuer rule.
type Store interface {
	store.GatewayStore
	store.AccountStore
}

// Config is what a gateway needs.
type Config struct {
	Suite        suite.Suite
	Name         string
	SigningKey   SigningKey
	SigningCert  []byte
	ExchangeKey  ExchangeKey
	ExchangeCert []byte
	Chain        [][]byte // PCA and brand certificates

	Roots []*pki.Certificate
	Store Store
	// Batches keeps merchants' settlement batches. Nil means Store, which
	// must then implement store.GatewayBatchStore. Every money movement
	// is written with its batch entry in one transaction, so Batches must
	// be Store's database (set it only to give Store's batch methods).
	Batches store.GatewayBatchStore
	// Revocation, if set, supplies the CRLs and BrandCRLIdentifier every
	// certificate check uses, asked afresh at each check so that a
	// revocation takes effect for the next message.
	Revocation pki.RevocationSource
	// AllowMissingCRLs accepts chains whose CAs have no current CRL (for
	// tests and set-ups without revocation); by default such a chain is
	// refused with invalidCertificate.
	AllowMissingCRLs bool

	// Issuer decides authorizations and takes captures. Nil means the
	// built-in LimitIssuer over Store and Limit.
	Issuer Issuer
	// Limit is the built-in issuer rule: the most an account may spend in
	// total. Default 5000.00 in the purchase currency's minor units.
	// Unused when Issuer is set.
	Limit func(pan string) int64
	// MaxRequestLifetime bounds how far ahead a request's expiry may lie
	// (deviation 3). Default one hour.
	MaxRequestLifetime time.Duration
	// ReplayWindow is how long a request without an expiry (set1) is
	// remembered. Default 24 hours.
	ReplayWindow time.Duration
	// ReconcileAfter is how old a claimed money movement must be before
	// reconciliation asks the issuer again (reconcile.go): younger, its
	// request may still be waiting for the issuer's answer. Default one
	// minute, beyond the ISO 8583 link's attempts.
	ReconcileAfter time.Duration

	SWIdent string
	Rand    io.Reader
	Now     func() time.Time
	Log     *slog.Logger
}

// verifier validates a merchant's or cardholder's certificate of type typ allowing usage (0:
// any) at now, against the roots and the revocation state current at the
// moment of the check. Every certificate check of a purchase goes through
// it.
func (cfg *Config) verifier(now time.Time, typ pki.CertType, usage x509.KeyUsage) encap.CertVerifier {
	return pki.RevocationVerifier(cfg.Revocation, pki.VerifyOptions{Roots: cfg.Roots, Now: now, CertType: typ, KeyUsage: usage, RequireCRLs: !cfg.AllowMissingCRLs})
}

// Gateway is a payment gateway core.
type Gateway struct {
	cfg        Config
	endpoint   wire.Endpoint
	accountKey []byte // keys the digest that names an account in the store
	claims     store.GatewayClaimStore
	inflight   sync.Map // claim IDs this process is asking the issuer about
}

// New returns a gateway after checking its configuration.
func New(cfg Config) (*Gateway, error) {
	switch {
	case cfg.Suite == nil, cfg.SigningKey.key == nil, cfg.ExchangeKey.key == nil:
		return nil, errors.New("gateway: suite and keys are required")
	case cfg.SigningCert == nil, cfg.ExchangeCert == nil:
		return nil, errors.New("gateway: certificates are required")
	case cfg.Store == nil:
		return nil, errors.New("gateway: store is required")
	}
	if cfg.Batches == nil {
		bs, ok := cfg.Store.(store.GatewayBatchStore)
		if !ok {
			return nil, errors.New("gateway: Store keeps no batches and Batches is not set")
		}
		cfg.Batches = bs
	} else if s, ok := cfg.Batches.(store.GatewayStore); !ok || s != store.GatewayStore(cfg.Store) {
		return nil, errors.New("gateway: Batches must be Store's database")
	}
	claims, ok := cfg.Batches.(store.GatewayClaimStore)
	if !ok {
		return nil, errors.New("gateway: Store keeps no claims (store.GatewayClaimStore)")
	}
	if cfg.Limit == nil {
		cfg.Limit = func(string) int64 { return 500000 }
	}
	if cfg.MaxRequestLifetime == 0 {
		cfg.MaxRequestLifetime = time.Hour
	}
	if cfg.ReconcileAfter == 0 {
		cfg.ReconcileAfter = time.Minute
	}
	if cfg.ReplayWindow == 0 {
		cfg.ReplayWindow = 24 * time.Hour
	}
	if cfg.SWIdent == "" {
		cfg.SWIdent = "setpay-gateway/0.1"
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
	g := &Gateway{cfg: cfg, claims: claims}
	// The account key is derived from the gateway's exchange certificate so
	// that every instance of one gateway names an account the same way,
	// while the digest stays meaningless to anyone else reading the store.
	g.accountKey = digest(crypto.SHA256, append([]byte("setpay account key\x00"), cfg.ExchangeCert...))
	if g.cfg.Issuer == nil {
		refs, _ := cfg.Store.(store.IssuerRefStore)
		g.cfg.Issuer = &LimitIssuer{Store: cfg.Store, Refs: refs, Limit: cfg.Limit, Key: g.accountKey, Now: cfg.Now, Rand: cfg.Rand}
	}
	g.endpoint = wire.Endpoint{Suite: cfg.Suite, Signer: g.signer(), SWIdent: cfg.SWIdent, Rand: cfg.Rand, Now: cfg.Now, Log: cfg.Log}
	return g, nil
}

func (g *Gateway) signer() *encap.Signer {
	return &encap.Signer{Key: g.cfg.SigningKey.key, Cert: g.cfg.SigningCert, Chain: g.cfg.Chain}
}

// Serve answers one SET request (a MessageWrapper's bytes) from a
// merchant: AuthReq or CapReq. Rejections become Error messages.
func (g *Gateway) Serve(ctx context.Context, req []byte) ([]byte, error) {
	return g.endpoint.Serve(ctx, req, func(ctx context.Context, w *msg.MessageWrapper) (msg.Message, error) {
		switch r := w.Message.(type) {
		case *msg.AuthReq:
			return g.HandleAuthReq(ctx, r)
		case *msg.CapReq:
			return g.HandleCapReq(ctx, r)
		case *msg.AuthRevReq:
			return g.HandleAuthRevReq(ctx, r)
		case *msg.CapRevReq:
			return g.HandleCapRevReq(ctx, r)
		case *msg.CredReq:
			return g.HandleCredReq(ctx, r)
		case *msg.CredRevReq:
			return g.HandleCredRevReq(ctx, r)
		case *msg.PCertReq:
			return g.HandlePCertReq(ctx, r)
		case *msg.BatchAdminReq:
			return g.HandleBatchAdminReq(ctx, r)
		default:
			return nil, msg.Errorf(msg.MessageNotSupported, "gateway does not accept %s", w.Message.Name())
		}
	})
}

// merchantRequest is what every merchant request yields once opened.
type merchantRequest struct {
	tbs          []byte // the signed content, as received
	signerCert   []byte // the merchant's signature certificate
	exchangeCert []byte // the merchant's key-exchange certificate, from the same SignedData
	merchantID   string
}

// openMerchantRequest opens Enc{M, P, t}: the envelope must be for this
// gateway, the signature a valid merchant's, and the merchant's
// key-exchange certificate must travel with it so the answer can be sealed.
func (g *Gateway) openMerchantRequest(env []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier) (*merchantRequest, error) {
	cfg := g.cfg
	now := cfg.Now()
	t, signed, signerCert, err := encap.OpenEnc(cfg.Suite, cfg.ExchangeKey.key, cfg.ExchangeCert, env, ctSigned, ctEnvelope,
		cfg.verifier(now, pki.CertTypeMer, x509.KeyUsageDigitalSignature))
	if err != nil {
		// Not opened — not DER, not for our key, its authentication or
		// signature fails — is one code, whichever suite and whichever
		// byte was hit: the sender learns "what you sealed did not reach
		// us intact" (docs/spec-gaps.md, "An envelope that does not open").
		return nil, msg.Classify(err, msg.SignatureFailure, "merchant request")
	}
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "merchant request: %w", err)
	}
	sig, err := pki.ParseCertificate(signerCert)
	if err != nil || sig.MerchantData == nil {
		return nil, msg.Errorf(msg.InvalidCertificate, "merchant certificate lacks merchantData")
	}
	req := &merchantRequest{tbs: t, signerCert: signerCert, merchantID: sig.MerchantData.MerID}
	// The merchant's key-exchange certificate: same subject, valid chain.
	verify := cfg.verifier(now, pki.CertTypeMer, 0)
	for i, c := range sd.Certificates {
		if bytes.Equal(c, signerCert) {
			continue
		}
		cert, err := pki.ParseCertificate(c)
		if err != nil || !bytes.Equal(cert.RawSubject, sig.RawSubject) || cert.KeyUsage&(x509.KeyUsageKeyAgreement|x509.KeyUsageKeyEncipherment) == 0 {
			continue
		}
		others := append(append([][]byte{}, sd.Certificates[:i]...), sd.Certificates[i+1:]...)
		if _, err := verify(c, others); err != nil {
			return nil, fmt.Errorf("merchant key-exchange certificate: %w", err)
		}
		req.exchangeCert = c
		break
	}
	if req.exchangeCert == nil {
		return nil, msg.Errorf(msg.MissingCertificate, "merchant request lacks the merchant's key-exchange certificate")
	}
	return req, nil
}

// checkAddressed applies deviations 1 and 3 to a merchant request in the
// modern suites: it names this gateway and carries an expiry that has not
// passed and is not absurdly far ahead. It is cheap, so it runs before the
// PI is opened. set1 requests name no gateway and carry no expiry.
func (g *Gateway) checkAddressed(kind string, pgThumb *msg.CertThumb, expiry time.Time) error {
	cfg := g.cfg
	if cfg.Suite.ID() == suite.Set1 {
		return nil
	}
	now := cfg.Now()
	switch {
	case !pgThumb.Matches(cfg.ExchangeCert):
		return msg.Errorf(msg.ThumbsMismatch, "%s is meant for another gateway", kind)
	case expiry.IsZero():
		return msg.Errorf(msg.MessageTooOld, "%s has no expiry", kind)
	case !now.Before(expiry):
		return msg.Errorf(msg.MessageTooOld, "%s expired at %s", kind, expiry.UTC().Format(time.RFC3339))
	case expiry.After(now.Add(cfg.MaxRequestLifetime)):
		return msg.Errorf(msg.MessageTooNew, "%s expires too far ahead", kind)
	}
	return nil
}

// remember enters a request in the replay cache, refusing one already
// there. It runs after every other check: the PI travels outside the
// merchant's envelope, and a tampered copy of a genuine request must not
// claim its RRPID and XID and get the genuine one refused as a replay.
// Entries live until the request's expiry (set1: the replay window).
func (g *Gateway) remember(ctx context.Context, kind string, expiry time.Time, rrpid msg.RRPID, xid msg.XID) error {
	if expiry.IsZero() {
		expiry = g.cfg.Now().Add(g.cfg.ReplayWindow)
	}
	key := digest(crypto.SHA256, []byte(kind), rrpid[:], xid[:])
	if err := g.cfg.Store.Remember(ctx, key, expiry); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return msg.Errorf(msg.MessageTooOld, "%s is a replay", kind)
		}
		return err
	}
	return nil
}

// HandleAuthReq runs the gateway's authorization steps in order: open and
// check the merchant's request, check freshness, open the cardholder's PI,
// check the dual signature and that cardholder and merchant describe the
// same purchase, decide, record, answer. A request with captureNow is a
// sale: approved, it is recorded as captured and the answer carries the
// capture's outcome (CapResPayload).
func (g *Gateway) HandleAuthReq(ctx context.Context, req *msg.AuthReq) (*msg.AuthRes, error) {
	cfg := g.cfg
	st := cfg.Suite
	mr, err := g.openMerchantRequest(req.AuthReqTBE, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE)
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalAuthReqTBS(mr.tbs)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthReqTBS: %w", err)
	}
	data := &tbs.AuthReqData
	tags := &data.AuthReqItem.AuthTags
	if tags.AuthRRTags.MerTermIDs.MerchantID != mr.merchantID {
		return nil, msg.Errorf(msg.InvalidCertificate, "AuthReq merchant ID differs from the certificate's")
	}
	if err := g.checkAddressed("AuthReq", data.PGThumb, data.Expiry); err != nil {
		return nil, err
	}
	// The PI travels beside the signed data; the signature covers its digest.
	piDER, err := req.PI.Alternative()
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PI: %w", err)
	}
	if err := encap.CheckDD(st, tbs.HPI, msg.OIDPI, piDER); err != nil {
		return nil, msg.Errorf(msg.SignatureFailure, "PI differs from the one the merchant signed: %w", err)
	}
	if req.PI.AuthToken != nil {
		// A later authorization of a split shipment or payment plan
		// (split.go).
		return g.handleSubsequentAuth(ctx, subsequentAuth{mr: mr, data: data}, req.PI.AuthToken)
	}
	if req.PI.PIDualSigned == nil {
		return nil, msg.Errorf(msg.MessageNotSupported, "only dual-signed payment instructions are accepted")
	}
	if data.AuthReqItem.AuthReqPayload.SubsequentAuthInd {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthReq marked subsequent carries a cardholder's PI")
	}
	pi, err := g.openPI(req.PI.PIDualSigned)
	if err != nil {
		return nil, err
	}
	if err := g.checkAgreement(pi, data, mr); err != nil {
		return nil, err
	}
	plan, err := checkFirstPlan(pi, &data.AuthReqItem.AuthReqPayload)
	if err != nil {
		return nil, err
	}
	if err := g.remember(ctx, "AuthReq", data.Expiry, tags.AuthRRTags.RRPID, tags.TransIDs.XID); err != nil {
		return nil, err
	}

	masked, err := pi.masked()
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PANData: %w", err)
	}
	amt := data.AuthReqItem.AuthReqPayload.AuthReqAmt
	// captureNow makes the request a sale: the issuer captures all of the
	// amount with its approval, and no CapReq follows.
	ireq := IssuerRequest{PAN: pi.pan.PAN, Expiry: pi.pan.CardExpiry, Amount: amt,
		MerchantID: mr.merchantID, XID: tags.TransIDs.XID, Capture: data.CaptureNow}
	if pi.acct != nil {
		ireq.Account = &pi.acct.Account
	}
	decision := g.decide(ctx, ireq)
	code, approval := decision.Code, decision.ApprovalCode
	sold := data.CaptureNow && code == msg.AuthApproved
	auth := &store.Authorization{
		XID:          store.XID(tags.TransIDs.XID),
		MerchantID:   mr.merchantID,
		PANMasked:    masked,
		Amount:       data.AuthReqItem.AuthReqPayload.AuthReqAmt.Amount,
		Currency:     data.AuthReqItem.AuthReqPayload.AuthReqAmt.Currency,
		AmtExp10:     data.AuthReqItem.AuthReqPayload.AuthReqAmt.AmtExp10,
		Result:       code.String(),
		ApprovalCode: approval,
		State:        authState(code),
		// An approval is answered with a CapToken (below), which its
		// follow-ups must then carry (captoken.go).
		CapTokenIssued: code == msg.AuthApproved,
	}
	if sold {
		// Recorded as captured, so that a CapReq for the XID is a
		// duplicate and reversals and credits treat it as any capture.
		auth.State = stateCaptured
		auth.Captured = amt.Amount
	}
	// Write before acknowledging: the authorization is on disk before the
	// merchant hears of it.
	// A sale's capture goes into the merchant's open batch in the same
	// transaction.
	batchID, batchSeq, err := g.createAuthorization(ctx, auth)
	if err != nil {
		g.release(ctx, ireq, decision)
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		code, approval, sold = msg.AuthPIPreviouslyUsed, "", false
	}
	cfg.Log.Info("authorization", "xid", hex.EncodeToString(tags.TransIDs.XID[:4]), "merchant", mr.merchantID,
		"pan", auth.PANMasked, "result", code.String(), "sale", data.CaptureNow)

	var captured *msg.CapResPayload
	if sold {
		// SET's AuthResPayload carries the capture's outcome when the
		// authorization captured at once; a declined sale has none, as
		// nothing was captured.
		captured = &msg.CapResPayload{CapCode: msg.CapSuccess, CapAmt: amt, BatchID: batchID, BatchSequenceNum: batchSeq}
	}
	var authToken, capToken []byte
	if code == msg.AuthApproved {
		// Something left to authorize (a split shipment, a payment plan):
		// the merchant gets an AuthToken to ask for it (split.go).
		if authToken, err = g.firstAuthToken(pi, plan, mr.merchantID, amt); err != nil {
			return nil, err
		}
		// Every approval, a sale's too, comes with the CapToken the
		// merchant sends back to capture it (captoken.go).
		if capToken, err = g.sealCapToken(tags.TransIDs.XID, mr.merchantID, tags.AuthRRTags.RRPID, amt); err != nil {
			return nil, err
		}
	}
	// Deviation 2 (the answer names the merchant and the request) is
	// applied in authRes (split.go).
	return g.authRes(mr, data, code, approval, captured, authToken, capToken)
}

// openedPI is the cardholder's payment instruction after decryption.
type openedPI struct {
	head       *msg.PIHead
	pan        *msg.PANData    // zero when the PI carries a bank account
	acct       *msg.AcctPIData // the bank account instead of a card (msg.PIAccount)
	hOIData    []byte
	cardholder *pki.Certificate
}

// openPI opens the PI sealed to this gateway and checks the dual signature
// from the payment side: the gateway holds PIData and only the digest of
// the order information.
func (g *Gateway) openPI(pi *msg.PIDualSigned) (*openedPI, error) {
	cfg := g.cfg
	st := cfg.Suite
	tbeDER, panDER, err := encap.OpenEX(st, cfg.ExchangeKey.key, cfg.ExchangeCert, pi.EXPIData, msg.OIDPIDualSignedTBE)
	if err != nil {
		// An envelope that does not open is answered as the merchant's
		// is (openMerchantRequest): signatureFailure (docs/spec-gaps.md).
		return nil, msg.Classify(err, msg.SignatureFailure, "PI envelope")
	}
	tbe, err := msg.UnmarshalPIDualSignedTBE(tbeDER)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PIDualSignedTBE: %w", err)
	}
	if err := encap.CheckDD(st, tbe.HPANData, msg.OIDPANData, panDER); err != nil {
		return nil, msg.Errorf(msg.SignatureFailure, "PANData does not match its digest: %w", err)
	}
	pa, err := msg.UnmarshalPIAccountEX(panDER)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PANData: %w", err)
	}
	pan := pa.PANData
	if pan == nil {
		pan = &msg.PANData{}
	}
	head := &tbe.PIOILink.PIHead
	// PIData = SEQUENCE { PIHead, PANData } from the bytes received, so the
	// digest is over exactly what the cardholder signed.
	piData := der.Encode(der.TagSequence, append(append([]byte{}, head.Raw()...), pa.Raw()...))
	cardCert, err := encap.VerifyDualFromPI(st, pi.PISignature, piData, tbe.PIOILink.HOIData,
		cfg.verifier(cfg.Now(), pki.CertTypeCard, x509.KeyUsageDigitalSignature))
	if err != nil {
		return nil, msg.Classify(err, msg.SignatureFailure, "dual signature")
	}
	holder, err := pki.ParseCertificate(cardCert)
	if err != nil {
		return nil, msg.Errorf(msg.InvalidCertificate, "cardholder certificate: %w", err)
	}
	return &openedPI{head: head, pan: pan, acct: pa.AcctPIData, hOIData: tbe.PIOILink.HOIData, cardholder: holder}, nil
}

// masked is the card or account as the gateway's records show it.
func (pi *openedPI) masked() (string, error) {
	if pi.acct != nil {
		return msg.MaskAccount(pi.acct.Account.Identification()), nil
	}
	return store.MaskPAN(pi.pan.PAN)
}

// checkAgreement checks that the cardholder's PI and the merchant's request
// describe the same purchase: same order digest, same order-info digest,
// same transaction, same merchant, same amount; that the PI was meant for
// this gateway (deviation 1); and that the cardholder certificate belongs
// to this card.
func (g *Gateway) checkAgreement(pi *openedPI, data *msg.AuthReqData, mr *merchantRequest) error {
	st := g.cfg.Suite
	item := &data.AuthReqItem
	if item.CheckDigests == nil {
		return msg.Errorf(msg.SignatureFailure, "AuthReq lacks CheckDigests")
	}
	if !bytes.Equal(item.CheckDigests.HOIData, pi.hOIData) {
		return msg.Errorf(msg.SignatureFailure, "merchant and cardholder disagree on the order information")
	}
	if !bytes.Equal(item.CheckDigests.HOD2, pi.head.Inputs.HOD) {
		return msg.Errorf(msg.SignatureFailure, "merchant and cardholder disagree on the order description or amount")
	}
	if pi.head.TransIDs.XID != item.AuthTags.TransIDs.XID {
		return msg.Errorf(msg.UnknownXID, "PI is for another transaction")
	}
	if pi.head.MerchantID != mr.merchantID {
		return msg.Errorf(msg.SignatureFailure, "PI names merchant %q, the request comes from %q", pi.head.MerchantID, mr.merchantID)
	}
	// A split shipment's first authorization may be for less than the
	// purchase (split.go); never for more.
	if !withinPurchase(item.AuthReqPayload.AuthReqAmt, pi.head.Inputs.PurchAmt) {
		return msg.Errorf(msg.SignatureFailure, "merchant asks %v, the cardholder agreed to %v", item.AuthReqPayload.AuthReqAmt, pi.head.Inputs.PurchAmt)
	}
	if st.ID() != suite.Set1 && !pi.head.PGThumb.Matches(g.cfg.ExchangeCert) {
		return msg.Errorf(msg.ThumbsMismatch, "the cardholder sealed this PI for another gateway")
	}
	// SET's unique cardholder ID: the certificate names HMAC(PANSecret,
	// PAN ‖ expiry), which only the card's holder and we can compute.
	mac := hmac.New(st.Hash().New, pi.pan.PANSecret[:])
	mac.Write([]byte(pi.pan.PAN + pi.pan.CardExpiry))
	id := hex.EncodeToString(mac.Sum(nil))
	if pi.acct != nil {
		id = pi.acct.Account.HolderID(st.Hash(), pi.acct.AcctSecret) // account.go in msg
	}
	if !hmac.Equal([]byte(pi.cardholder.Subject.CommonName), []byte(id)) {
		return msg.Errorf(msg.InvalidCertificate, "cardholder certificate is not for this card")
	}
	return nil
}

// decide asks the issuer. A card past its expiry and an amount that is
// not positive are declined here whatever the issuer would say; an issuer
// that cannot be asked is a system error.
func (g *Gateway) decide(ctx context.Context, req IssuerRequest) IssuerDecision {
	now := g.cfg.Now().UTC()
	if req.Account == nil && req.Expiry < now.Format("200601") {
		return IssuerDecision{Code: msg.AuthExpiredCard}
	}
	if req.Amount.Amount <= 0 {
		return IssuerDecision{Code: msg.AuthAmountError}
	}
	d, err := g.cfg.Issuer.Authorize(ctx, req)
	if err != nil {
		g.cfg.Log.Error("issuer failed", "err", err)
		return IssuerDecision{Code: msg.AuthSystemError}
	}
	if d.Code != msg.AuthApproved {
		d.ApprovalCode = ""
	}
	return d
}

// release undoes an approval that was not stored.
func (g *Gateway) release(ctx context.Context, req IssuerRequest, d IssuerDecision) {
	if d.Code != msg.AuthApproved {
		return
	}
	if err := g.cfg.Issuer.Reverse(ctx, req, d); err != nil {
		g.cfg.Log.Error("could not reverse an unrecorded approval", "err", err)
	}
}

func authState(code msg.AuthCode) string {
	if code == msg.AuthApproved {
		return "authorized"
	}
	return "declined"
}

// HandleCapReq captures authorized amounts: each item must name an
// authorization of this merchant that is not yet captured, for no more
// than was authorized.
func (g *Gateway) HandleCapReq(ctx context.Context, req *msg.CapReq) (*msg.CapRes, error) {
	cfg := g.cfg
	st := cfg.Suite
	mr, err := g.openMerchantRequest(req.CapReqTBE, msg.OIDCapReqTBS, msg.OIDCapReqTBE)
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalCapReqTBS(mr.tbs)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CapReqTBS: %w", err)
	}
	data := &tbs.CapReqData
	if data.CapRRTags.MerTermIDs.MerchantID != mr.merchantID {
		return nil, msg.Errorf(msg.InvalidCertificate, "CapReq merchant ID differs from the certificate's")
	}
	var firstXID msg.XID
	if len(data.CapItemSeq) > 0 {
		firstXID = data.CapItemSeq[0].TransIDs.XID
	}
	if err := g.checkAddressed("CapReq", data.PGThumb, data.Expiry); err != nil {
		return nil, err
	}
	// The CapTokenSeq travels beside the signed data, as the PI does
	// beside an AuthReq: checked before the request is remembered.
	tokens, err := g.capTokens(req, tbs) // captoken.go
	if err != nil {
		return nil, err
	}
	if err := g.remember(ctx, "CapReq", data.Expiry, data.CapRRTags.RRPID, firstXID); err != nil {
		return nil, err
	}
	res := msg.CapResData{CapRRTags: data.CapRRTags}
	for i, item := range data.CapItemSeq {
		payload := msg.CapResPayload{CapAmt: item.CapPayload.CapReqAmt}
		// An item whose CapToken does not match is refused before any
		// money moves.
		xid := g.target(ctx, item.TransIDs.XID, item.AuthRRPID) // the purchase's, or a later shipment's (split.go)
		if payload.CapCode = g.checkCapToken(ctx, tokens[i], mr.merchantID, xid, &item); payload.CapCode == msg.CapSuccess {
			payload.CapCode, payload.BatchID, payload.BatchSequenceNum = g.capture(ctx, mr.merchantID, xid, &item)
		}
		res.CapResItemSeq = append(res.CapResItemSeq, msg.CapResItem{
			TransIDs:      item.TransIDs,
			AuthRRPID:     item.AuthRRPID,
			CapResPayload: payload,
		})
	}
	if st.ID() != suite.Set1 {
		// Deviation 2: name the merchant and the request answered.
		thumb := msg.ThumbOf(st.Hash(), mr.signerCert)
		res.MerchantThumb = &thumb
		res.HCapReq = digest(st.Hash(), mr.tbs)
	}
	signer := g.carrying(ctx, data.MThumbs, &res.BrandCRLIdentifier)
	content, err := res.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, signer, mr.exchangeCert, msg.OIDCapResData, msg.OIDCapResTBE, content)
	if err != nil {
		return nil, err
	}
	return &msg.CapRes{CapResTBE: tbe}, nil
}

// capture applies one capture item and returns its code and, for a
// success, where the capture went in the merchant's open batch (nil: in
// none). The issuer is not called inside a store transaction (it may be a
// network away), so the capture is claimed first: the authorization turns
// "capturing" and a claim naming the movement is stored, atomically, and
// only the request that made the claim asks the issuer; a concurrent
// duplicate is refused before any money moves. The issuer's answer then
// settles the claim — captured, with its batch entry, in one transaction —
// or rolls it back. An issuer that could not be asked (no answer: the
// capture may or may not have been posted) leaves the claim for
// reconciliation (reconcile.go), which asks again under the same identity.
// A CapReq that finds the claim still open reconciles it first.
func (g *Gateway) capture(ctx context.Context, merchantID string, xid store.XID, item *msg.CapItem) (code msg.CapCode, batchID, batchSeq *int64) {
	amt := item.CapPayload.CapReqAmt
	for try := 0; ; try++ {
		c := g.newClaim(store.EntryCapture, xid, merchantID, amt)
		stuck := false
		err := g.claims.PutClaim(ctx, c, func(a *store.Authorization) error {
			if code = checkCapture(a, merchantID, amt); code != msg.CapSuccess {
				stuck = a.State == stateCapturing
				return errNoChange
			}
			a.State = stateCapturing
			return nil
		})
		switch {
		case errors.Is(err, errNoChange) && stuck && try == 0:
			// A claim left by a request that got no answer, or by a
			// gateway that stopped: settle it now, then answer.
			for _, r := range g.reconcileAuthorization(ctx, xid) {
				if r.claim.Kind == store.EntryCapture && r.settled && r.ok && r.claim.Amount == amt.Amount {
					g.cfg.Log.Info("capture completed by reconciliation", "xid", xid.String())
					b, s := batchRef(r.batch, r.seq)
					return msg.CapSuccess, b, s
				}
			}
			continue
		case errors.Is(err, errNoChange):
			return code, nil, nil
		case errors.Is(err, store.ErrNotFound):
			return msg.CapUnknownXID, nil, nil
		case err != nil:
			g.cfg.Log.Error("capture failed", "err", err)
			return msg.CapUnspecifiedFailure, nil, nil
		}
		r := g.runClaim(ctx, c)
		switch {
		case !r.answered:
			g.cfg.Log.Error("issuer capture failed; the authorization stays capturing until reconciled", "xid", xid.String(), "err", r.err)
			return msg.CapUnspecifiedFailure, nil, nil
		case !r.ok:
			return r.capCode, nil, nil
		case !r.settled:
			// The issuer took the money; the record says capturing.
			// Answer what happened at the issuer, and let
			// reconciliation finish it.
			return msg.CapSuccess, nil, nil
		}
		batchID, batchSeq = batchRef(r.batch, r.seq)
		return msg.CapSuccess, batchID, batchSeq
	}
}

// checkCapture says whether authorization a may be captured for amt by
// merchantID: CapSuccess, or why not.
func checkCapture(a *store.Authorization, merchantID string, amt msg.CurrencyAmount) msg.CapCode {
	switch {
	case a.MerchantID != merchantID:
		return msg.CapUnknownXID
	case a.State == stateCaptured, a.State == stateCapturing:
		// Capturing: another request for it is with the issuer.
		return msg.CapDuplicateRequest
	case a.State == stateReversing:
		return msg.CapUnspecifiedFailure // a reversal is with the issuer: ask again
	case a.State != stateAuthorized:
		return msg.CapInvalidAuthData
	case amt.Currency != a.Currency || amt.AmtExp10 != a.AmtExp10 || amt.Amount <= 0 || amt.Amount > a.Amount:
		return msg.CapInvalidAuthData
	}
	return msg.CapSuccess
}

var errNoChange = errors.New("gateway: no change")

func digest(h crypto.Hash, parts ...[]byte) []byte {
	d := h.New()
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum(nil)
}
