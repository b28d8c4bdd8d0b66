// Package ca is the core of a SET cardholder certificate authority: it
// answers the registration protocol (CardCInitReq → CardCInitRes,
// RegFormReq → RegFormRes, CertReq → CertRes) and issues cardholder
// certificates through a pki.Authority.
//
// The core does no I/O: Serve takes a request's bytes and returns the
// response's, like the merchant and gateway cores; transport moves them.
// What it remembers between messages (the CA nonces it handed out and the
// keys it certified) lives behind Store.
package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// Issuer is one card issuer the CA registers cardholders for: the BIN
// range it owns and the registration form it wants filled in, per
// language.
type Issuer struct {
	// BINLow and BINHigh bound the issuer's BINs (the first six PAN
	// digits), inclusive.
	BINLow, BINHigh string
	// Form is the registration form in the default language, sent for
	// any language Forms lacks; nil asks for nothing.
	Form *msg.RegTemplate
	// Forms are the form in other languages, by the language tag a
	// RegFormReq names (e.g. "fr"; matched ignoring case, and a request
	// for "fr-CA" gets "fr" when there is no "fr-CA"). Every RegFormID,
	// Form's included, must be unique among the CA's issuers: the CertReq
	// is checked against the form whose ID its chall-CA remembers.
	Forms map[string]*msg.RegTemplate
	// Policy is the certificate policy text shown to the cardholder.
	Policy string
}

// FormFor returns the issuer's form for language lang (Form if none).
func (i *Issuer) FormFor(lang string) *msg.RegTemplate { return pickForm(i.Form, i.Forms, lang) }

// pickForm returns the form of forms for lang: an exact match ignoring
// case, else the primary language subtag's, else def.
func pickForm(def *msg.RegTemplate, forms map[string]*msg.RegTemplate, lang string) *msg.RegTemplate {
	if len(forms) == 0 || lang == "" {
		return def
	}
	primary, _, _ := strings.Cut(lang, "-")
	var sub *msg.RegTemplate
	for tag, f := range forms {
		switch {
		case strings.EqualFold(tag, lang):
			return f
		case strings.EqualFold(tag, primary):
			sub = f
		}
	}
	if sub != nil {
		return sub
	}
	return def
}

// formByID returns the form among def and forms whose RegFormID is id:
// the one a chall-CA was issued with. Nil if none (no form was sent).
func formByID(def *msg.RegTemplate, forms map[string]*msg.RegTemplate, id int64) *msg.RegTemplate {
	if def != nil && def.RegFormID == id {
		return def
	}
	for _, f := range forms {
		if f != nil && f.RegFormID == id {
			return f
		}
	}
	return nil
}

// serves reports whether bin falls in the issuer's range.
func (i *Issuer) serves(bin string) bool {
	return len(bin) == len(i.BINLow) && len(bin) == len(i.BINHigh) && i.BINLow <= bin && bin <= i.BINHigh
}

// ExchangeKey is the CA's key-exchange (decryption) key. It is its own type
// so the CA's signing key cannot be passed in its place.
type ExchangeKey struct{ key suite.ExchangeKey }

// NewExchangeKey wraps a key-exchange key for the CA.
func NewExchangeKey(k suite.ExchangeKey) ExchangeKey { return ExchangeKey{key: k} }

func (k ExchangeKey) String() string { return fmt.Sprintf("ca.ExchangeKey(%T)", k.key.Public()) }

// Config is what a CA needs: a cardholder CA (Authority of type CCA)
// uses Issuers, a merchant or payment CA (MCA, PCA) uses Acquirer.
type Config struct {
	Suite   suite.Suite
	BrandID string
	// Authority is the cardholder CA: it signs every response and issues
	// the certificates.
	Authority *pki.Authority
	// ExchangeKey and ExchangeCert are the CA's key-exchange key and
	// certificate (see IssueExchangeCert): cardholders seal RegFormReq
	// and CertReq to it.
	ExchangeKey  ExchangeKey
	ExchangeCert []byte
	Roots        []*pki.Certificate
	Issuers      []Issuer
	// Acquirer approves merchants (at a merchant CA) or payment gateways
	// (at a payment CA); required there, unused by a cardholder CA.
	Acquirer AcquirerPolicy
	// IssuerPolicy approves cardholders at a cardholder CA; nil issues
	// every request that passes the CA's checks at once.
	IssuerPolicy IssuerPolicy
	Store        Store
	// Revocation is what a renewed certificate is checked against (with
	// the Store's own records, when it keeps them); nil checks only those.
	// The CA also checks its own certificate chain against it before every
	// request, and refuses all of them once it is revoked (revoked.go).
	Revocation pki.RevocationSource
	// ChallengeTTL is how long a chall-CA stays good; 0 means 30 minutes.
	ChallengeTTL time.Duration

	SWIdent string           // default "setpay-ca/0.1"
	Rand    io.Reader        // default crypto/rand
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default slog.Default()
}

// CA is a cardholder certificate authority.
type CA struct {
	cfg      Config
	signer   encap.Signer // for responses: carries the exchange certificate and the chain
	endpoint *wire.Endpoint
	caeThumb msg.CertThumb
	panKey   []byte // keys the PAN MACs in remembered challenges
}

// New returns a CA.
func New(cfg Config) (*CA, error) {
	if cfg.Suite == nil || cfg.Authority == nil || cfg.ExchangeKey.key == nil || cfg.ExchangeCert == nil || cfg.Store == nil {
		return nil, errors.New("ca: suite, authority, exchange key and certificate, and store are required")
	}
	switch ct := cfg.Authority.Cert.CertType; {
	case ct&pki.CertTypeCCA != 0:
	case ct&(pki.CertTypeMCA|pki.CertTypePCA) != 0:
		if cfg.Acquirer == nil {
			return nil, errors.New("ca: a merchant or payment CA needs an acquirer policy")
		}
	default:
		return nil, errors.New("ca: the authority is not a cardholder, merchant or payment CA")
	}
	ids := map[int64]bool{}
	for i, is := range cfg.Issuers {
		if len(is.BINLow) != 6 || len(is.BINHigh) != 6 || is.BINLow > is.BINHigh || is.Policy == "" {
			return nil, fmt.Errorf("ca: issuer %d: need a six-digit BIN range and a policy", i)
		}
		forms := []*msg.RegTemplate{is.Form}
		for lang, f := range is.Forms {
			if lang == "" || f == nil {
				return nil, fmt.Errorf("ca: issuer %d: a form needs a language and a template", i)
			}
			forms = append(forms, f)
		}
		for _, f := range forms {
			if f == nil {
				continue
			}
			if ids[f.RegFormID] {
				return nil, fmt.Errorf("ca: issuer %d: regFormID %d used twice", i, f.RegFormID)
			}
			ids[f.RegFormID] = true
		}
	}
	if cfg.ChallengeTTL <= 0 {
		cfg.ChallengeTTL = 30 * time.Minute
	}
	if cfg.SWIdent == "" {
		cfg.SWIdent = "setpay-ca/0.1"
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
	panKey, err := challengeKey(cfg.Authority)
	if err != nil {
		return nil, err
	}
	c := &CA{cfg: cfg, caeThumb: msg.ThumbOf(cfg.Suite.Hash(), cfg.ExchangeCert), panKey: panKey}
	var chain [][]byte
	for _, cert := range cfg.Authority.Chain {
		// The root is the receiver's anchor; the CA's own certificate is
		// the signer's.
		if cert.CertType&pki.CertTypeRCA == 0 && !bytes.Equal(cert.Raw, cfg.Authority.Cert.Raw) {
			chain = append(chain, cert.Raw)
		}
	}
	a := cfg.Authority
	errSigner := &encap.Signer{Key: a.Key, Cert: a.Cert.Raw, Chain: chain}
	c.signer = encap.Signer{Key: a.Key, Cert: a.Cert.Raw, Chain: append([][]byte{cfg.ExchangeCert}, chain...)}
	c.endpoint = &wire.Endpoint{Suite: cfg.Suite, Signer: errSigner, SWIdent: cfg.SWIdent, Rand: cfg.Rand, Now: cfg.Now, Log: cfg.Log}
	return c, nil
}

// IssueExchangeCert has brand (the brand CA) certify a key-exchange key
// for the cardholder CA called name: certificate type CCA, key usage key
// agreement (ECDH) or key encipherment (RSA), valid from now for a year
// (clipped to the brand CA's own validity).
func IssueExchangeCert(r io.Reader, brand *pki.Authority, pub crypto.PublicKey, name string, now time.Time) ([]byte, error) {
	return IssueCAExchangeCert(r, brand, pub, name, pki.CertTypeCCA, now)
}

// Serve answers one request's bytes with the response's: CardCInitReq,
// RegFormReq or CertReq at a cardholder CA, Me-AqCInitReq or CertReq at a
// merchant or payment CA. Every rejection becomes a SET Error message.
func (c *CA) Serve(ctx context.Context, req []byte) ([]byte, error) {
	return c.endpoint.Serve(ctx, req, func(ctx context.Context, w *msg.MessageWrapper) (msg.Message, error) {
		if err := c.checkOwnCertificate(ctx); err != nil {
			return nil, err // a revoked CA issues nothing (revoked.go)
		}
		if !c.cardholderCA() {
			switch r := w.Message.(type) {
			case *msg.MeAqCInitReq:
				return c.HandleMeAqCInitReq(ctx, r)
			case *msg.CertReq:
				return c.handleEECertReq(ctx, r)
			case *msg.CertInqReq:
				return c.HandleCertInqReq(ctx, r)
			default:
				return nil, msg.Errorf(msg.MessageNotSupported, "%s does not accept %s", c.kind(), w.Message.Name())
			}
		}
		switch r := w.Message.(type) {
		case *msg.CardCInitReq:
			return c.HandleCardCInitReq(ctx, r)
		case *msg.RegFormReq:
			return c.HandleRegFormReq(ctx, r)
		case *msg.CertReq:
			return c.HandleCertReq(ctx, r)
		case *msg.CertInqReq:
			return c.HandleCertInqReq(ctx, r)
		default:
			return nil, msg.Errorf(msg.MessageNotSupported, "cardholder CA does not accept %s", w.Message.Name())
		}
	})
}

// HandleCardCInitReq answers CR1 with the CA's signed greeting, naming the
// key-exchange certificate the cardholder seals to. It keeps no state.
func (c *CA) HandleCardCInitReq(_ context.Context, req *msg.CardCInitReq) (*msg.CardCInitRes, error) {
	if req.BrandID != c.cfg.BrandID {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CardCInitReq for brand %q; this CA serves %q", req.BrandID, c.cfg.BrandID)
	}
	tbs := &msg.CardCInitResTBS{RRPID: req.RRPID, LIDEE: req.LIDEE, ChallEE: req.ChallEE, CAEThumb: c.caeThumb}
	signed, err := c.sign(msg.OIDCardCInitResTBS, tbs)
	if err != nil {
		return nil, err
	}
	return &msg.CardCInitRes{SignedData: signed}, nil
}

// HandleRegFormReq answers CR3: it opens the EXH envelope, picks the form
// of the card's issuer and sends it with a fresh chall-CA, remembered
// against the card so the CertReq must come for the same PAN.
func (c *CA) HandleRegFormReq(ctx context.Context, req *msg.RegFormReq) (*msg.RegFormRes, error) {
	st := c.cfg.Suite
	t, p, err := encap.OpenEXH(st, c.cfg.ExchangeKey.key, c.cfg.ExchangeCert, req.Envelope, msg.OIDRegFormReqTBE)
	if err != nil {
		return nil, msg.Classify(err, envelopeCode, "RegFormReq envelope")
	}
	data, err := msg.UnmarshalRegFormReqData(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "RegFormReqData: %w", err)
	}
	ra, err := msg.UnmarshalRegFormAcct(p) // PANOnly, or a bank account (account.go)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "RegFormReq PANOnly: %w", err)
	}
	pan := ra.PANOnly
	if data.RequestType != msg.CardInitialSig && data.RequestType != msg.CardRenewalSig {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "RegFormReq: request type %v not supported by this CA", data.RequestType)
	}
	res := &msg.RegFormResTBS{
		RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE2: data.ChallEE2, LIDCA: data.LIDCA,
		CAEThumb: &c.caeThumb, RequestType: data.RequestType,
	}
	if ra.AcctData != nil {
		if err := c.accountRegForm(ctx, ra.AcctData, res); err != nil {
			return nil, err
		}
		signed, err := c.sign(msg.OIDRegFormResTBS, res)
		if err != nil {
			return nil, err
		}
		return &msg.RegFormRes{SignedData: signed}, nil
	}
	issuer := c.issuerFor(pan.PAN)
	if issuer == nil {
		// A referral with no URL: SET's way of saying "not here" before any
		// nonce exists (docs/spec-gaps.md, "ca: cardholder registration").
		res.RegFormOrReferral.ReferralData = &msg.ReferralData{Reason: "this CA does not register cards of this BIN"}
	} else {
		form := issuer.FormFor(data.Language)
		res.RegFormOrReferral.RegFormData = &msg.RegFormData{RegTemplate: form, Policy: issuer.Policy}
		if _, err := io.ReadFull(c.cfg.Rand, res.ChallCA[:]); err != nil {
			return nil, msg.Errorf(msg.UnspecifiedFailure, "chall-CA: %w", err)
		}
		ch := Challenge{Issued: c.cfg.Now(), PANMAC: c.panMAC(pan.PAN)}
		if form != nil {
			ch.RegFormID = form.RegFormID
		}
		if err := c.cfg.Store.PutChallenge(ctx, res.ChallCA, ch); err != nil {
			return nil, msg.Errorf(msg.UnspecifiedFailure, "remembering chall-CA: %w", err)
		}
	}
	signed, err := c.sign(msg.OIDRegFormResTBS, res)
	if err != nil {
		return nil, err
	}
	return &msg.RegFormRes{SignedData: signed}, nil
}

// HandleCertReq runs CR5's checks in order and, when they pass, issues the
// cardholder certificate (CR6). Failures of the protocol itself (envelope,
// signature, proof of possession, chall-CA) are SET Errors; refusals of a
// well-formed request (BIN, form, a key certified before) are a CertRes
// whose CertStatus says why. Nothing is issued unless every check passed.
func (c *CA) HandleCertReq(ctx context.Context, req *msg.CertReq) (*msg.CertRes, error) {
	if req.EncX == nil {
		return nil, msg.Errorf(msg.DecodingFailure, "cardholder CertReq must be EncX: the account data rides in it")
	}
	st := c.cfg.Suite
	t, p, signerCert, err := encap.OpenEncX(st, c.cfg.ExchangeKey.key, c.cfg.ExchangeCert, req.EncX,
		msg.OIDCertReqTBS, msg.OIDCertReqTBEX, proposedKey)
	if err != nil {
		return nil, msg.Classify(err, envelopeCode, "CertReq")
	}
	data, err := msg.UnmarshalCertReqData(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertReqData: %w", err)
	}
	acct, err := msg.UnmarshalAcctInfo(p)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertReq AcctInfo: %w", err)
	}
	if acct.AcctData != nil {
		return c.accountCertReq(ctx, data, acct.AcctData, signerCert) // account.go
	}
	if acct.PANData0 == nil {
		return nil, msg.Errorf(msg.DecodingFailure, "cardholder CertReq without PANData0")
	}
	if data.RequestType == msg.CardRenewalSig {
		return c.handleCardRenewal(ctx, data, acct, signerCert) // renew.go
	}
	if data.RequestType != msg.CardInitialSig {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertReq: request type %v not supported by this CA", data.RequestType)
	}
	if err := c.checkPoP(data, signerCert); err != nil {
		return nil, err
	}
	if err := c.checkBackKey(data); err != nil {
		return nil, err
	}
	ch, err := c.takeChallenge(ctx, data.ChallCA)
	if err != nil {
		return nil, err
	}

	// From here the request is authentic and fresh: refusals of its
	// content are answers. The BIN comes before the nonce's binding to the
	// card, so a card no issuer here owns is told so (invalidBIN) whatever
	// nonce it came with.
	res := &msg.CertResData{RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	issuer, refused, err := c.holderIssuer(data, ch, res, acct.PANData0.PAN, false)
	if issuer == nil {
		return refused, err
	}
	pub, nonceCCA, err := c.holderKey(data)
	if err != nil {
		return nil, err
	}
	panSecret := PANSecret(acct.PANData0.CardSecret, nonceCCA)
	tmpl, err := pki.CardholderTemplate(pub, acct.PANData0.PAN, acct.PANData0.CardExpiry, panSecret[:], st.Hash(), c.cfg.Now())
	if err != nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "card data not accepted"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	if r, done, err := c.askIssuer(ctx, issuer, data, acct.PANData0.PAN[:6], nonceCCA, tmpl, nil, res); done {
		return r, err // refused or pended by the issuer (pending_card.go)
	}
	status, thumbs, certs, err := c.issueHolder(ctx, tmpl, nonceCCA, [][]byte{data.PublicKeySorE.PublicKeyS}, "cardholder certificate issued")
	if err != nil {
		return nil, err
	}
	res.CertStatus, res.CertThumbs = status, thumbs
	return c.certRes(res, certs, data.CABackKeyData)
}

// holderIssuer finds the issuer that registers a cardholder's card (id is
// the PAN) or bank account (account is set and id is the account's
// identification; the issuer is the one holding msg.AccountBIN), and
// checks that the request's chall-CA was issued for that card or account
// and that it answers the issuer's form. A refusal is the CertRes to
// answer with; the issuer is nil then.
func (c *CA) holderIssuer(data *msg.CertReqData, ch Challenge, res *msg.CertResData, id string, account bool) (*Issuer, *msg.CertRes, error) {
	bin, what, none := id, "card", "this CA does not register cards of this BIN"
	if account {
		bin, what, none = msg.AccountBIN, "account", "this CA does not register bank accounts"
	}
	issuer := c.issuerFor(bin)
	if issuer == nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.InvalidBIN, EEMessage: none}
		refused, err := c.certRes(res, nil, data.CABackKeyData)
		return nil, refused, err
	}
	if !hmac.Equal(ch.PANMAC, c.panMAC(id)) {
		return nil, nil, msg.Errorf(msg.ChallengeMismatch, "CertReq: chall-CA was issued for another %s", what)
	}
	// The form sent, in whichever language: the one chall-CA remembers.
	if failed := checkForm(formByID(issuer.Form, issuer.Forms, ch.RegFormID), ch.RegFormID, data); failed != nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "registration form not accepted", FailedItemSeq: failed}
		refused, err := c.certRes(res, nil, data.CABackKeyData)
		return nil, refused, err
	}
	return issuer, nil, nil
}

// holderKey parses the key a cardholder request asks to certify and
// draws NonceCCA, the CA's half of the secret its certificate will bind.
func (c *CA) holderKey(data *msg.CertReqData) (crypto.PublicKey, msg.Nonce, error) {
	var nonceCCA msg.Nonce
	pub, err := pki.ParsePublicKey(data.PublicKeySorE.PublicKeyS)
	if err != nil {
		return nil, nonceCCA, msg.Errorf(msg.DecodingFailure, "CertReq publicKeyS: %w", err)
	}
	if _, err := io.ReadFull(c.cfg.Rand, nonceCCA[:]); err != nil {
		return nil, nonceCCA, msg.Errorf(msg.UnspecifiedFailure, "nonceCCA: %w", err)
	}
	return pub, nonceCCA, nil
}

// checkBackKey refuses a CABackKey the suite cannot encrypt under, before
// the challenge is spent: the answer could not be sent safely.
func (c *CA) checkBackKey(data *msg.CertReqData) error {
	if b := data.CABackKeyData; b != nil {
		if err := suite.CheckBackKey(c.cfg.Suite, b.BackAlgID, b.BackKey); err != nil {
			return msg.Errorf(msg.DecodingFailure, "CertReq caBackKeyData: %w", err)
		}
	}
	return nil
}

// recordKeys enters keys (SubjectPublicKeyInfo DER; nil ones are skipped)
// in the registry of certified keys. It is consulted last, just before
// issuing, so a refused request burns no key; certified reports a key
// certified before, which refuses the request (after burning the keys
// before it).
func (c *CA) recordKeys(ctx context.Context, keys ...[]byte) (certified bool, err error) {
	for _, k := range keys {
		if k == nil {
			continue
		}
		d := c.cfg.Suite.Hash().New()
		d.Write(k)
		if err := c.cfg.Store.RecordKey(ctx, d.Sum(nil)); err != nil {
			if !errors.Is(err, ErrKeyCertified) {
				return false, msg.Errorf(msg.UnspecifiedFailure, "key registry: %w", err)
			}
			return true, nil
		}
	}
	return false, nil
}

// issueHolder ends every cardholder request that passed its checks — a
// card's, a bank account's, a renewal's: keys enter the key registry, and
// tmpl is issued and answered with nonceCCA, the CA's half of the secret
// the certificate binds. A key certified before is a refusal in the
// status; errors are the CA's failures. what and logArgs say in the log
// what was issued.
func (c *CA) issueHolder(ctx context.Context, tmpl *pki.Template, nonceCCA msg.Nonce, keys [][]byte, what string, logArgs ...any) (msg.CertStatus, []msg.CertThumb, [][]byte, error) {
	certified, err := c.recordKeys(ctx, keys...)
	if err != nil {
		return msg.CertStatus{}, nil, nil, err
	}
	if certified {
		return msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "this public key is already certified"}, nil, nil, nil
	}
	cert, err := c.issue(ctx, tmpl)
	if err != nil {
		return msg.CertStatus{}, nil, nil, msg.Errorf(msg.UnspecifiedFailure, "issuing: %w", err)
	}
	c.cfg.Log.Info("ca: "+what, append([]any{"serial", cert.SerialNumber, "subject", cert.Subject.CommonName}, logArgs...)...)
	status := msg.CertStatus{CertStatusCode: msg.RequestComplete, NonceCCA: &nonceCCA}
	return status, []msg.CertThumb{msg.ThumbOf(c.cfg.Suite.Hash(), cert.Raw)}, [][]byte{cert.Raw}, nil
}

// PANSecret is the secret bound into a cardholder certificate:
// CardSecret ⊕ NonceCCA, the cardholder's half and the CA's.
func PANSecret(cardSecret msg.Secret, nonceCCA msg.Nonce) msg.Secret {
	var s msg.Secret
	for i := range s {
		s[i] = cardSecret[i] ^ nonceCCA[i]
	}
	return s
}

// proposedKey is the CertVerifier of a cardholder's first CertReq: the
// signer has no certificate yet, so it sends a self-signed one for the key
// it asks to have certified, and that certificate is taken only as a
// carrier of the key. checkPoP then holds the key to publicKeyS.
func proposedKey(certDER []byte, _ [][]byte) (crypto.PublicKey, error) {
	cert, err := pki.ParseCertificate(certDER)
	if err != nil {
		// Inside an envelope not yet verified: envelopeCode, not
		// decodingFailure.
		return nil, fmt.Errorf("signer certificate: %w", err)
	}
	return cert.PublicKey, nil
}

// checkPoP is deviation 6's proof of possession for a cardholder: the
// request's signature verified (in OpenEncX) with the key of the signer
// certificate, which must be the key being certified; any PoPSignature the
// request carries must verify too.
func (c *CA) checkPoP(data *msg.CertReqData, signerCert []byte) error {
	cert, err := pki.ParseCertificate(signerCert)
	if err != nil {
		return msg.Errorf(msg.DecodingFailure, "CertReq signer certificate: %w", err)
	}
	if !hmac.Equal(cert.RawSubjectPublicKeyInfo, data.PublicKeySorE.PublicKeyS) {
		return msg.Errorf(msg.SignatureFailure, "CertReq is not signed with the key it asks to certify")
	}
	if len(data.PoPSignatures) == 0 {
		return nil
	}
	input, err := data.PoPInput()
	if err != nil {
		return msg.Errorf(msg.DecodingFailure, "PoPInput: %w", err)
	}
	for _, pop := range data.PoPSignatures {
		if pop.PoPKey != msg.PoPKeyS {
			return msg.Errorf(msg.SignatureFailure, "PoPSignature for a key a cardholder does not certify")
		}
		if err := pkcs7.VerifySignature(cert.PublicKey, pop.SignatureAlgorithm, input, pop.Signature); err != nil {
			return msg.Errorf(msg.SignatureFailure, "PoPSignature: %w", err)
		}
	}
	return nil
}

// takeChallenge consumes chall-CA and checks it was issued recently.
func (c *CA) takeChallenge(ctx context.Context, challCA msg.Challenge) (Challenge, error) {
	ch, err := c.cfg.Store.TakeChallenge(ctx, challCA)
	if errors.Is(err, ErrNoChallenge) {
		return Challenge{}, msg.Errorf(msg.ChallengeMismatch, "CertReq: chall-CA was never issued or is already used")
	}
	if err != nil {
		return Challenge{}, msg.Errorf(msg.UnspecifiedFailure, "CertReq: chall-CA lookup: %w", err)
	}
	if age := c.cfg.Now().Sub(ch.Issued); age > c.cfg.ChallengeTTL || age < -time.Minute {
		return Challenge{}, msg.Errorf(msg.ChallengeMismatch, "CertReq: chall-CA issued %v ago, good for %v", age.Round(time.Second), c.cfg.ChallengeTTL)
	}
	return ch, nil
}

// checkForm checks the answered registration form against the issuer's
// template: the same form, every required field answered, no unknown or
// repeated field, lengths within bounds, and invisible fields returned
// with the value the CA put in them. It returns the failed items, nil when
// the form is accepted.
func checkForm(form *msg.RegTemplate, wantID int64, data *msg.CertReqData) []msg.FailedItem {
	var failed []msg.FailedItem
	if form == nil {
		if len(data.RegForm) != 0 || data.RegFormID != 0 {
			failed = append(failed, msg.FailedItem{ItemNumber: 0, ItemReason: "no form was asked for"})
		}
		return failed
	}
	if data.RegFormID != wantID || form.RegFormID != wantID {
		return []msg.FailedItem{{ItemNumber: 0, ItemReason: "regFormID is not the form sent"}}
	}
	fields := map[string]*msg.RegField{}
	for i := range form.RegFieldSeq {
		fields[form.RegFieldSeq[i].FieldName] = &form.RegFieldSeq[i]
	}
	seen := map[string]bool{}
	for i, item := range data.RegForm {
		f := fields[item.FieldName]
		switch {
		case f == nil:
			failed = append(failed, msg.FailedItem{ItemNumber: int64(i), ItemReason: "no such field"})
		case seen[item.FieldName]:
			failed = append(failed, msg.FailedItem{ItemNumber: int64(i), ItemReason: "field answered twice"})
		case len(item.FieldValue) > f.MaxLen():
			failed = append(failed, msg.FailedItem{ItemNumber: int64(i), ItemReason: "answer too long"})
		case f.FieldInvisible && item.FieldValue != f.FieldValue:
			failed = append(failed, msg.FailedItem{ItemNumber: int64(i), ItemReason: "invisible field altered"})
		case f.FieldRequired && item.FieldValue == "":
			failed = append(failed, msg.FailedItem{ItemNumber: int64(i), ItemReason: "required field empty"})
		}
		seen[item.FieldName] = true
	}
	for i, f := range form.RegFieldSeq {
		if (f.FieldRequired || f.FieldInvisible) && !seen[f.FieldName] {
			failed = append(failed, msg.FailedItem{ItemNumber: int64(len(data.RegForm) + i), ItemReason: "field missing: " + truncate(f.FieldName, 100)})
		}
	}
	return failed
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// certRes signs res; the certificates issued travel in the SignedData. With a
// back key the answer is EncK{CABackKey, CA, CertResData}, the encrypted
// CertRes alternative: the CertStatus of a cardholder carries NonceCCA, half
// of the PANSecret, which must not cross the wire in the clear. Without one
// (the requester asked for none) it is the signed alternative.
func (c *CA) certRes(res *msg.CertResData, certs [][]byte, back *msg.BackKeyData) (*msg.CertRes, error) {
	s := c.signer
	s.Chain = append(append([][]byte(nil), certs...), c.signer.Chain[1:]...) // not the exchange certificate
	b, err := res.Marshal()
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertResData: %w", err)
	}
	if back != nil {
		k := encap.BackKey{Alg: back.BackAlgID, Key: back.BackKey}
		enc, err := encap.EncK(c.cfg.Suite, c.cfg.Rand, s, k, msg.OIDCertResData, msg.OIDCertResTBE, b)
		if err != nil {
			return nil, msg.Errorf(msg.UnspecifiedFailure, "encrypting CertRes: %w", err)
		}
		return &msg.CertRes{Encrypted: enc}, nil
	}
	signed, err := encap.S(c.cfg.Suite, c.cfg.Rand, s, msg.OIDCertResData, b)
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "signing CertRes: %w", err)
	}
	return &msg.CertRes{Signed: signed}, nil
}

// sign makes S{CA, t}, with the CA's key-exchange certificate and chain.
func (c *CA) sign(ct asn1.ObjectIdentifier, t interface{ Marshal() ([]byte, error) }) ([]byte, error) {
	b, err := t.Marshal()
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "encoding %v: %w", ct, err)
	}
	signed, err := encap.S(c.cfg.Suite, c.cfg.Rand, c.signer, ct, b)
	if err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "signing: %w", err)
	}
	return signed, nil
}

func (c *CA) issuerFor(pan string) *Issuer {
	if len(pan) < 6 {
		return nil
	}
	for i := range c.cfg.Issuers {
		if c.cfg.Issuers[i].serves(pan[:6]) {
			return &c.cfg.Issuers[i]
		}
	}
	return nil
}

func (c *CA) panMAC(pan string) []byte {
	return encap.HMAC(c.cfg.Suite, c.panKey, []byte(pan))
}

// envelopeCode answers a request whose envelope or signed structure the
// CA cannot open: sealed to another key, failing its authentication, not
// well formed, or its signature not verifying. SET has no decryption
// code, and until the content is opened and its signature verified the CA
// cannot tell tampering from corruption (under set1's DES-CBC the same
// flipped byte surfaces as garbage DER or as a bad signature, depending
// on where it lands), so all of it is signatureFailure in every suite, as
// at the gateway (docs/spec-gaps.md, "An envelope that does not open").
// decodingFailure is kept for content that opened and verified but does
// not decode; certificate problems keep their own codes.
const envelopeCode = msg.SignatureFailure

// challengeKey derives the key of the MACs that bind a remembered chall-CA
// to a card or an applicant from the CA's own private key, so that a CA
// restarted on its persistent store still recognises the challenges it
// handed out, and no other secret needs keeping.
func challengeKey(a *pki.Authority) ([]byte, error) {
	pkcs8, err := suite.MarshalSigningKey(a.Key)
	if err != nil {
		return nil, fmt.Errorf("ca: deriving the challenge key: %w", err)
	}
	return hkdf.Key(sha256.New, pkcs8, nil, "setpay ca challenge binding", 32)
}

// IssuedRecorder is implemented by stores that keep every certificate the
// CA issues (SQLStore does), so that it can later be revoked by serial.
type IssuedRecorder interface {
	RecordIssued(ctx context.Context, cert *pki.Certificate) error
}

// issue signs a certificate and, when the store keeps them, records it
// before the response that carries it is sent.
func (c *CA) issue(ctx context.Context, tmpl *pki.Template) (*pki.Certificate, error) {
	cert, err := c.cfg.Authority.Issue(c.cfg.Rand, tmpl)
	if err != nil {
		return nil, err
	}
	if r, ok := c.cfg.Store.(IssuedRecorder); ok {
		if err := r.RecordIssued(ctx, cert); err != nil {
			return nil, fmt.Errorf("recording certificate %s: %w", cert.SerialNumber, err)
		}
	}
	return cert, nil
}
