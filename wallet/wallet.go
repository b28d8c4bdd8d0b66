// Package wallet is the cardholder's side of SET: it starts a purchase,
// checks the merchant's answer, builds the dual-signed purchase request so
// that the merchant learns the order but not the card and the gateway the
// card but not the order, and checks the purchase response.
//
// The core does no I/O: it takes decoded messages and returns messages to
// send. It builds for GOOS=js GOARCH=wasm (the browser wallet).
package wallet

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// SigningKey is the cardholder's signature key. It is its own type so a
// merchant's or gateway's key cannot be passed in its place, and it never
// prints its secret.
type SigningKey struct{ key crypto.Signer }

// NewSigningKey wraps a private signing key for the wallet.
func NewSigningKey(k crypto.Signer) SigningKey { return SigningKey{key: k} }

func (k SigningKey) String() string { return fmt.Sprintf("wallet.SigningKey(%T)", k.key.Public()) }

// Card is the payment card a wallet pays with. PANSecret is the secret the
// cardholder CA bound into the certificate; CardSecret keys TransStain.
type Card struct {
	PAN        string // 12–19 digits
	Expiry     string // YYYYMM
	PANSecret  msg.Secret
	CardSecret msg.Secret
	BrandID    string
	// Account, if set, is a bank account paid from instead of a card
	// (account.go): PAN and Expiry are then empty and PANSecret is the
	// account's secret.
	Account *msg.BankAccount
}

// BIN is the bank identification number: the first six PAN digits.
func (c Card) BIN() string {
	if c.Account != nil {
		return accountBIN
	}
	return c.PAN[:6]
}

// String masks the PAN: first six and last four digits only.
func (c Card) String() string {
	if c.Account != nil {
		return "Card(" + c.Account.String() + ")"
	}
	return "Card(" + MaskPAN(c.PAN) + ")"
}

// MaskPAN keeps the first six and last four digits of a PAN.
func MaskPAN(pan string) string {
	if len(pan) < 12 {
		return "…"
	}
	return pan[:6] + "…" + pan[len(pan)-4:]
}

// Config is what a wallet needs.
type Config struct {
	Suite suite.Suite
	Key   SigningKey
	Cert  []byte   // the cardholder's signature certificate
	Chain [][]byte // CCA and brand certificates sent with signatures
	Card  Card
	Roots []*pki.Certificate
	// Revocation, if set, supplies the CRLs and BrandCRLIdentifier every
	// certificate check uses, asked afresh at each check. A
	// *pki.RevocationCache also learns what the merchant's messages carry
	// (revocation.go), so it may start empty. Nil means a new, empty one.
	Revocation pki.RevocationSource
	// AllowMissingCRLs accepts chains whose CAs have no current CRL (for
	// tests and set-ups without revocation); by default such a chain is
	// refused with invalidCertificate.
	AllowMissingCRLs bool
	// Certificates, if set, remembers the merchants' and gateways'
	// certificates that verified, so that PInitReq lists them and the
	// merchant leaves them out (certcache.go: to each merchant only the
	// brand's CAs and what that merchant sent before). Nil means a new
	// one. Wallet.SaveMemory and LoadMemory carry it, and Revocation when
	// it learns, from one run to the next (memory.go).
	Certificates *pki.CertCache

	Language string           // e.g. "en"; default "en"
	SWIdent  string           // software identification in message headers
	Rand     io.Reader        // default crypto/rand
	Now      func() time.Time // default time.Now
}

// verifier validates a merchant's or gateway's certificate of type typ
// allowing usage (0: any) at now, against the roots and the revocation
// state current at the moment of the check.
func (cfg *Config) verifier(now time.Time, typ pki.CertType, usage x509.KeyUsage) encap.CertVerifier {
	return cfg.Certificates.Remember(pki.RevocationVerifier(cfg.Revocation, pki.VerifyOptions{Roots: cfg.Roots, Now: now, CertType: typ, KeyUsage: usage, RequireCRLs: !cfg.AllowMissingCRLs}))
}

// Wallet is a cardholder wallet.
type Wallet struct {
	cfg  Config
	seen merchantsSeen // who sent which certificate (certcache.go)
}

// New returns a wallet.
func New(cfg Config) (*Wallet, error) {
	if cfg.Suite == nil || cfg.Key.key == nil || cfg.Cert == nil {
		return nil, fmt.Errorf("wallet: suite, key and certificate are required")
	}
	if err := cfg.Card.check(); err != nil {
		return nil, err
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	if cfg.SWIdent == "" {
		cfg.SWIdent = "setpay-wallet/0.1"
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Revocation == nil {
		// A wallet needs no revocation set-up: it learns the CRLs from
		// the merchant's messages (revocation.go).
		cfg.Revocation = pki.NewRevocationCache(cfg.Roots, cfg.Now)
	}
	if cfg.Certificates == nil {
		cfg.Certificates = pki.NewCertCache(0)
	}
	return &Wallet{cfg: cfg}, nil
}

// Offer is what the merchant's SET initiation tells the wallet before
// PInitReq: which order, for how much, and what was bought. (SET leaves
// shopping to the browser; docs/spec-gaps.md describes our initiation.)
type Offer struct {
	LIDM        []byte
	Amount      msg.CurrencyAmount
	Description []byte // the order description the cardholder agreed to
	MerchantID  string
	// Origin is where the wallet reaches the merchant: the scheme, host
	// and port of the URL it sends PInitReq to ("https://shop.example"),
	// empty when there is no such place (in-process). With MerchantID it
	// keys the wallet's record of what the merchant sent before, which
	// decides what PInitReq tells it (certcache.go): a server claiming
	// another merchant's ID at checkout is told nothing the wallet
	// learned from that one.
	Origin string
	// Plan, if set, is the recurring or instalment plan the cardholder
	// agrees to: signed into the PI, so that the gateway holds the
	// merchant to it (recurring.go). Amount is then each payment's.
	Plan *msg.InstallRecurData
}

// Purchase is one purchase in progress, from PInitReq to PRes.
type Purchase struct {
	w     *Wallet
	offer Offer

	lidC   []byte
	rrpid  msg.RRPID
	challC msg.Challenge

	// From PInitRes.
	transIDs     msg.TransIDs
	challM       msg.Challenge
	merchantCert []byte
	gatewayCert  []byte // the gateway key-exchange certificate PEThumb named
	gatewayChain [][]byte
	pinitCerts   [][]byte // the certificates PInitRes carried or the wallet held

	// From PReq, kept to check PRes.
	preqRRPID msg.RRPID

	thumbs ThumbsReport
}

// ThumbsReport says what SET's thumbprints saved in a purchase: what the
// wallet's PInitReq listed as held, and what the merchant's PInitRes
// carried all the same.
type ThumbsReport struct {
	ListedCerts, ListedCRLs, ListedBCIs int
	CarriedCerts, CarriedCRLs           int
	PInitResBytes                       int // the SignedData's size
}

// Thumbs reports what the purchase's thumbprints saved (complete once
// HandlePInitRes has run).
func (p *Purchase) Thumbs() ThumbsReport { return p.thumbs }

// Start begins a purchase for offer and returns the PInitReq to send.
func (w *Wallet) Start(offer Offer) (*Purchase, *msg.PInitReq, error) {
	if len(offer.LIDM) == 0 || len(offer.Description) == 0 {
		return nil, nil, fmt.Errorf("wallet: offer needs LID-M and an order description")
	}
	p := &Purchase{w: w, offer: offer, lidC: make([]byte, 20)}
	if err := fill(w.cfg.Rand, p.lidC, p.rrpid[:], p.challC[:]); err != nil {
		return nil, nil, err
	}
	req := &msg.PInitReq{
		RRPID:    p.rrpid,
		Language: w.cfg.Language,
		LocalIDC: p.lidC,
		LocalIDM: offer.LIDM,
		ChallC:   p.challC,
		BrandID:  w.cfg.Card.BrandID,
		BIN:      w.cfg.Card.BIN(),
		Thumbs:   w.thumbs(p.merchant()),
	}
	if t := req.Thumbs; t != nil {
		p.thumbs = ThumbsReport{ListedCerts: len(t.CertThumbs), ListedCRLs: len(t.CRLThumbs), ListedBCIs: len(t.BrandCRLIdThumbs)}
	}
	return p, req, nil
}

// HandlePInitRes checks the merchant's signed PInitRes: the merchant's
// signature and certificate, the echoed RRPID and challenge, and the
// gateway key-exchange certificate the merchant named (PEThumb).
func (p *Purchase) HandlePInitRes(res *msg.PInitRes) error {
	st := p.w.cfg.Suite
	now := p.w.cfg.Now()
	if sd, err := pkcs7.ParseSignedData(res.SignedData); err == nil {
		p.thumbs.CarriedCerts, p.thumbs.CarriedCRLs = len(sd.Certificates), len(sd.CRLs)
	}
	p.thumbs.PInitResBytes = len(res.SignedData)
	content, signerCert, err := encap.OpenS(st, res.SignedData, msg.OIDPInitResData, p.w.cfg.verifier(now, pki.CertTypeMer, x509.KeyUsageDigitalSignature), p.w.cfg.learn(pInitResBCI))
	if err != nil {
		return signedErr(err, "PInitRes signature")
	}
	data, err := msg.UnmarshalPInitResData(content)
	if err != nil {
		return msg.Errorf(msg.DecodingFailure, "PInitResData: %w", err)
	}
	if data.RRPID != p.rrpid {
		return msg.Errorf(msg.UnknownRRPID, "PInitRes answers another request")
	}
	if data.ChallC != p.challC {
		return msg.Errorf(msg.ChallengeMismatch, "PInitRes does not echo chall-C")
	}
	if string(data.TransIDs.LIDM) != string(p.offer.LIDM) || string(data.TransIDs.LIDC) != string(p.lidC) {
		return msg.Errorf(msg.UnknownLID, "PInitRes TransIDs name another purchase")
	}
	certs, err := signedCertificates(res.SignedData)
	if err != nil {
		return msg.Errorf(msg.DecodingFailure, "PInitRes: %w", err)
	}
	certs = p.w.cfg.withHeld(certs)
	gw, chain := findThumb(certs, &data.PEThumb)
	if gw == nil {
		return msg.Errorf(msg.MissingCertificate, "PInitRes lacks the gateway certificate PEThumb names")
	}
	if err := checkExchangeCert(gw); err != nil {
		return err
	}
	if _, err := p.w.cfg.verifier(now, pki.CertTypePgwy, 0)(gw, chain); err != nil {
		return msg.Classify(err, msg.InvalidCertificate, "gateway certificate")
	}
	p.transIDs = data.TransIDs
	p.challM = data.ChallM
	p.merchantCert = signerCert
	p.gatewayCert = gw
	p.gatewayChain = chain
	p.pinitCerts = certs
	p.noteSigned([][]byte{res.SignedData}, signerCert, gw, data.BrandCRLIdentifier)
	return nil
}

// PReq builds the dual-signed purchase request. The order information goes
// to the merchant in clear with only a digest of the payment information;
// the payment information goes inside an envelope only the gateway opens,
// with only a digest of the order.
func (p *Purchase) PReq() (*msg.PReq, error) {
	if p.gatewayCert == nil {
		return nil, fmt.Errorf("wallet: PReq before a verified PInitRes")
	}
	cfg := p.w.cfg
	st := cfg.Suite
	var odSalt msg.Nonce
	var exNonce msg.Nonce
	if err := fill(cfg.Rand, odSalt[:], exNonce[:], p.preqRRPID[:]); err != nil {
		return nil, err
	}

	hodInput, err := (&msg.HODInput{OD: p.offer.Description, PurchAmt: p.offer.Amount, ODSalt: odSalt}).Marshal()
	if err != nil {
		return nil, err
	}
	hod, err := encap.DD(st, msg.OIDHODInput, hodInput)
	if err != nil {
		return nil, err
	}
	challM := p.challM
	oiData, err := (&msg.OIData{
		TransIDs: p.transIDs,
		RRPID:    p.preqRRPID,
		ChallC:   p.challC,
		HOD:      hod,
		ODSalt:   odSalt,
		ChallM:   &challM,
		BrandID:  cfg.Card.BrandID,
		BIN:      cfg.Card.BIN(),
	}).Marshal()
	if err != nil {
		return nil, err
	}
	head := msg.PIHead{
		TransIDs:   p.transIDs,
		Inputs:     msg.Inputs{HOD: hod, PurchAmt: p.offer.Amount},
		MerchantID: p.offer.MerchantID,
		TransStain: encap.HMAC(st, cfg.Card.CardSecret[:], p.transIDs.XID[:]),
		SWIdent:    cfg.SWIdent,
	}
	if st.ID() != suite.Set1 {
		// Deviation 1: the dual signature names the gateway.
		thumb := msg.ThumbOf(st.Hash(), p.gatewayCert)
		head.PGThumb = &thumb
	}
	if head.InstallRecurData, err = planField(p.offer.Plan); err != nil {
		return nil, err
	}
	// panData is the PANData position: the card, or the bank account.
	panData, piData, err := cfg.Card.piData(head, exNonce)
	if err != nil {
		return nil, err
	}
	signer := encap.Signer{Key: cfg.Key.key, Cert: cfg.Cert, Chain: cfg.Chain}
	piSignature, hPIData, hOIData, err := encap.DualSign(st, cfg.Rand, signer, piData, oiData)
	if err != nil {
		return nil, err
	}
	hPANData, err := encap.DD(st, msg.OIDPANData, panData)
	if err != nil {
		return nil, err
	}
	tbe, err := (&msg.PIDualSignedTBE{PIOILink: msg.PIOILink{PIHead: head, HOIData: hOIData}, HPANData: hPANData}).Marshal()
	if err != nil {
		return nil, err
	}
	exPIData, err := encap.EX(st, cfg.Rand, p.gatewayCert, msg.OIDPIDualSignedTBE, tbe, panData)
	if err != nil {
		return nil, err
	}
	oi, err := msg.UnmarshalOIData(oiData)
	if err != nil {
		return nil, err
	}
	return &msg.PReq{DualSigned: &msg.PReqDualSigned{
		PIDualSigned: msg.PIDualSigned{PISignature: piSignature, EXPIData: exPIData},
		OIDualSigned: msg.OIDualSigned{OIData: *oi, HPIData: hPIData},
	}}, nil
}

// Result is what the cardholder learns from PRes.
type Result struct {
	Completion msg.CompletionCode
	// Gateway is set when the gateway's own signed authorization result
	// came with PRes and checked out (deviation 4): proof that the gateway,
	// not only the merchant, approved.
	Gateway *GatewayProof
}

// GatewayProof is the gateway-signed authorization result.
type GatewayProof struct {
	AuthCode msg.AuthCode
	Amount   msg.CurrencyAmount
	Signed   []byte // the gateway's SignedData, byte for byte
}

// HandlePRes checks the merchant's signed purchase response and, in the
// modern suites, the gateway's signed authorization result inside it.
func (p *Purchase) HandlePRes(res *msg.PRes) (*Result, error) {
	cfg := p.w.cfg
	st := cfg.Suite
	now := cfg.Now()
	content, signerCert, err := encap.OpenS(st, res.SignedData, msg.OIDPResData, cfg.verifier(now, pki.CertTypeMer, x509.KeyUsageDigitalSignature), cfg.learn(pResBCI), encap.WithHeld(p.pinitCerts))
	if err != nil {
		return nil, signedErr(err, "PRes signature")
	}
	if string(signerCert) != string(p.merchantCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "PRes signed by another merchant than PInitRes")
	}
	data, err := msg.UnmarshalPResData(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PResData: %w", err)
	}
	if data.RRPID != p.preqRRPID {
		return nil, msg.Errorf(msg.UnknownRRPID, "PRes answers another request")
	}
	if data.ChallC != p.challC {
		return nil, msg.Errorf(msg.ChallengeMismatch, "PRes does not echo chall-C")
	}
	if data.TransIDs.XID != p.transIDs.XID {
		return nil, msg.Errorf(msg.UnknownXID, "PRes is for another transaction")
	}
	if len(data.PResPayloadSeq) != 1 {
		return nil, msg.Errorf(msg.DecodingFailure, "PRes carries %d payloads, want 1", len(data.PResPayloadSeq))
	}
	payload := data.PResPayloadSeq[0]
	result := &Result{Completion: payload.CompletionCode}
	if st.ID() == suite.Set1 {
		p.noteSigned([][]byte{res.SignedData}, data.BrandCRLIdentifier)
		return result, nil
	}
	if payload.AuthResSigned == nil {
		if payload.CompletionCode == msg.AuthorizationAccepted || payload.CompletionCode == msg.CapturePerformed {
			return nil, msg.Errorf(msg.SignatureRequired, "PRes claims authorization without the gateway's signed result")
		}
		p.noteSigned([][]byte{res.SignedData}, data.BrandCRLIdentifier)
		return result, nil
	}
	proof, err := p.checkGatewayProof(payload.AuthResSigned, res.SignedData)
	if err != nil {
		return nil, err
	}
	merchantSaysYes := payload.CompletionCode == msg.AuthorizationAccepted || payload.CompletionCode == msg.CapturePerformed
	if merchantSaysYes != (proof.AuthCode == msg.AuthApproved) {
		return nil, msg.Errorf(msg.SignatureFailure, "merchant reports %v but the gateway signed %v", payload.CompletionCode, proof.AuthCode)
	}
	result.Gateway = proof
	p.noteSigned([][]byte{res.SignedData, payload.AuthResSigned}, data.BrandCRLIdentifier)
	return result, nil
}

// checkGatewayProof verifies the gateway's signed AuthResTBS forwarded in
// PRes: a valid gateway signature, for this transaction, answering this
// merchant (deviation 2), from the gateway whose key-exchange certificate
// the PI was sealed to. The gateway's certificates may travel in the
// merchant's SignedData outer, which carries the proof, rather than in the
// proof itself (certcache.go).
func (p *Purchase) checkGatewayProof(signed, outer []byte) (*GatewayProof, error) {
	cfg := p.w.cfg
	carried, _ := signedCertificates(outer)
	content, signerCert, err := encap.OpenS(cfg.Suite, signed, msg.OIDAuthResTBS, cfg.verifier(cfg.Now(), pki.CertTypePgwy, x509.KeyUsageDigitalSignature), cfg.learn(authResBCI), encap.WithHeld(carried))
	if err != nil {
		return nil, signedErr(err, "gateway authorization result")
	}
	if !pki.SameSubject(signerCert, p.gatewayCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "authorization result signed by another gateway than the one the PI was sealed to")
	}
	tbs, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthResTBS: %w", err)
	}
	d := tbs.AuthResData
	if d.AuthTags.TransIDs.XID != p.transIDs.XID {
		return nil, msg.Errorf(msg.UnknownXID, "gateway result is for another transaction")
	}
	if !d.MerchantThumb.Matches(p.merchantCert) {
		return nil, msg.Errorf(msg.ThumbsMismatch, "gateway result answers another merchant")
	}
	h := d.AuthResPayload.AuthHeader
	// Approved for the purchase, or for less: the first part of a split
	// shipment (merchant.CheckoutSplit). Never for more.
	a, o := h.AuthAmt, p.offer.Amount
	if h.AuthCode == msg.AuthApproved && (a.Currency != o.Currency || a.AmtExp10 != o.AmtExp10 || a.Amount > o.Amount || a.Amount <= 0) {
		return nil, msg.Errorf(msg.SignatureFailure, "gateway approved %v, the purchase was for %v", h.AuthAmt, p.offer.Amount)
	}
	return &GatewayProof{AuthCode: h.AuthCode, Amount: h.AuthAmt, Signed: signed}, nil
}

// exchangeUsages are the key usages of a key-exchange certificate: key
// agreement for ECDH keys, key encipherment for RSA and KEM keys (as pki
// issues them).
const exchangeUsages = x509.KeyUsageKeyAgreement | x509.KeyUsageKeyEncipherment

// checkExchangeCert refuses a gateway certificate PEThumb names that is not
// a key-exchange certificate. SET gives a gateway separate signature and
// key-exchange certificates; sealing the PI to a signature-only key would
// use a key for what its certificate does not allow (and a merchant could
// point the wallet at any certificate the gateway signs with). The
// certificate type is checked with the chain.
func checkExchangeCert(der []byte) error {
	c, err := pki.ParseCertificate(der)
	if err != nil {
		return msg.Errorf(msg.InvalidCertificate, "gateway certificate: %w", err)
	}
	if c.KeyUsage&exchangeUsages == 0 {
		return msg.Errorf(msg.InvalidCertificate, "gateway certificate %v is not a key-exchange certificate (key usage %#x): %w", c, c.KeyUsage, pki.ErrWrongUsage)
	}
	return nil
}

// TransIDs returns the transaction identifiers the merchant assigned.
func (p *Purchase) TransIDs() msg.TransIDs { return p.transIDs }

func fill(r io.Reader, bufs ...[]byte) error {
	for _, b := range bufs {
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("wallet: randomness: %w", err)
		}
	}
	return nil
}

// signedCertificates returns the certificates a SignedData carries.
func signedCertificates(signed []byte) ([][]byte, error) {
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, err
	}
	return sd.Certificates, nil
}

// findThumb returns the certificate whose thumbprint is t and the others
// as its possible chain.
func findThumb(certs [][]byte, t *msg.CertThumb) (cert []byte, rest [][]byte) {
	for i, c := range certs {
		if t.Matches(c) {
			rest = append(append(rest, certs[:i]...), certs[i+1:]...)
			return c, rest
		}
	}
	return nil, nil
}
