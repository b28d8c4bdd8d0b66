package wallet

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// RegisterConfig is what cardholder registration needs.
type RegisterConfig struct {
	Suite suite.Suite
	// Card is the card to register: PAN, Expiry and BrandID. Its secrets
	// are ignored; registration makes them.
	Card  Card
	Roots []*pki.Certificate
	// Answers fills the CA's registration form, by field name. Invisible
	// fields are returned as the CA sent them.
	Answers map[string]string
	// Key is the signing key to have certified; nil makes a fresh one.
	Key crypto.Signer
	// Revocation, if set, is checked when the CA's signature is: a
	// CardCInitRes, RegFormRes or CertRes signed by a revoked CA (or
	// under a revoked brand) is refused with revokedCertificate.
	Revocation pki.RevocationSource

	Language string           // default "en"
	SWIdent  string           // default "setpay-wallet/0.1"
	Rand     io.Reader        // default crypto/rand
	Now      func() time.Time // default time.Now
}

// Registered is what registration yields: everything Config needs
// besides the roots.
type Registered struct {
	Key   SigningKey
	Cert  []byte   // the cardholder signature certificate
	Chain [][]byte // the CCA and brand certificates, sent with signatures
	// Card carries the PANSecret bound into Cert and the CardSecret.
	Card Card
}

// RefusedError is a CertRes that issued nothing: the CA's CertStatus.
type RefusedError struct{ Status msg.CertStatus }

func (e *RefusedError) Error() string {
	s := "wallet: CA refused the certificate request: " + e.Status.CertStatusCode.String()
	if e.Status.EEMessage != "" {
		s += " (" + e.Status.EEMessage + ")"
	}
	return s
}

// ErrReferred is returned when the CA answers RegFormReq with a referral:
// it does not register this card.
var ErrReferred = errors.New("wallet: CA referred the registration elsewhere")

// Registration is one cardholder registration in progress, CardCInitReq
// to CertRes. It does no I/O: each step takes the CA's answer and returns
// the next request.
type Registration struct {
	cfg RegisterConfig

	lidEE   []byte
	rrpid   msg.RRPID
	challEE msg.Challenge

	caSigner     []byte // the CA's signature certificate, from CardCInitRes
	caeThumb     msg.CertThumb
	exchangeCert []byte

	challEE2 msg.Challenge
	challEE3 msg.Challenge

	key        crypto.Signer
	cardSecret msg.Secret
	// backKey is the CABackKey sent in CertReqData; CertRes must come
	// back encrypted under it.
	backKey encap.BackKey
	caURL   string // recorded in the state for resuming (resume.go)
}

// NewRegistration starts a registration and returns the CardCInitReq.
func NewRegistration(cfg RegisterConfig) (*Registration, *msg.CardCInitReq, error) {
	if cfg.Suite == nil || len(cfg.Roots) == 0 {
		return nil, nil, errors.New("wallet: registration needs a suite and roots")
	}
	if err := cfg.Card.check(); err != nil { // a card or a bank account (account.go)
		return nil, nil, err
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
	r := &Registration{cfg: cfg, lidEE: make([]byte, 20)}
	if err := fill(cfg.Rand, r.lidEE, r.rrpid[:], r.challEE[:]); err != nil {
		return nil, nil, err
	}
	return r, &msg.CardCInitReq{RRPID: r.rrpid, LIDEE: r.lidEE, ChallEE: r.challEE, BrandID: cfg.Card.BrandID}, nil
}

// caVerifier accepts a cardholder CA's signature certificate.
func (r *Registration) caVerifier() encap.CertVerifier {
	return pki.RevocationVerifier(r.cfg.Revocation, pki.VerifyOptions{Roots: r.cfg.Roots, Now: r.cfg.Now(), CertType: pki.CertTypeCCA, KeyUsage: x509.KeyUsageDigitalSignature})
}

// openCA opens S{CA, t}, which must be signed by a cardholder CA (and the
// same one as before, once known).
func (r *Registration) openCA(signed []byte, ct asn1.ObjectIdentifier, what string) ([]byte, *pkcs7.SignedData, error) {
	t, signer, err := encap.OpenS(r.cfg.Suite, signed, ct, r.caVerifier())
	if err != nil {
		return nil, nil, msg.Classify(err, msg.SignatureFailure, what)
	}
	if r.caSigner != nil && !bytes.Equal(signer, r.caSigner) {
		return nil, nil, msg.Errorf(msg.SignatureFailure, "%s is signed by another CA than CardCInitRes", what)
	}
	r.caSigner = signer
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, nil, msg.Errorf(msg.DecodingFailure, "%s: %w", what, err)
	}
	return t, sd, nil
}

// HandleCardCInitRes checks CR2 and returns the RegFormReq (CR3), sealed
// to the CA key-exchange certificate CardCInitRes named.
func (r *Registration) HandleCardCInitRes(res *msg.CardCInitRes) (*msg.RegFormReq, error) {
	return r.regFormReq(res, msg.CardInitialSig, r.cfg.Card.regFormExtra) // account.go
}

// regFormReq checks CR2 and returns the RegFormReq (CR3) asking for the
// form of requestType, with extra(PANOnly) as its extra data: the step
// registration and renewal share.
func (r *Registration) regFormReq(res *msg.CardCInitRes, requestType msg.RequestType, extra func(*msg.PANOnly) ([]byte, error)) (*msg.RegFormReq, error) {
	t, sd, err := r.openCA(res.SignedData, msg.OIDCardCInitResTBS, "CardCInitRes")
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalCardCInitResTBS(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CardCInitResTBS: %w", err)
	}
	if tbs.RRPID != r.rrpid || tbs.ChallEE != r.challEE || !bytes.Equal(tbs.LIDEE, r.lidEE) {
		return nil, msg.Errorf(msg.ChallengeMismatch, "CardCInitRes does not answer this CardCInitReq")
	}
	if err := r.findExchangeCert(sd, tbs.CAEThumb); err != nil {
		return nil, err
	}
	r.caeThumb = tbs.CAEThumb

	data := &msg.RegFormReqData{RRPID: r.rrpid, LIDEE: r.lidEE, RequestType: requestType, Language: r.cfg.Language}
	pan := &msg.PANOnly{PAN: r.cfg.Card.PAN}
	if err := fill(r.cfg.Rand, data.RRPID[:], data.ChallEE2[:], pan.EXNonce[:]); err != nil {
		return nil, err
	}
	r.rrpid, r.challEE2 = data.RRPID, data.ChallEE2
	tb, err := data.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: RegFormReqData: %w", err)
	}
	pb, err := extra(pan)
	if err != nil {
		return nil, fmt.Errorf("wallet: PANOnly: %w", err)
	}
	env, err := encap.EXH(r.cfg.Suite, r.cfg.Rand, r.exchangeCert, msg.OIDRegFormReqTBE, tb, pb)
	if err != nil {
		return nil, fmt.Errorf("wallet: RegFormReq envelope: %w", err)
	}
	return &msg.RegFormReq{Envelope: env}, nil
}

// findExchangeCert picks the certificate thumb names out of the CA's
// SignedData and checks it is a cardholder CA key-exchange certificate.
func (r *Registration) findExchangeCert(sd *pkcs7.SignedData, thumb msg.CertThumb) error {
	for _, c := range sd.Certificates {
		if !thumb.Matches(c) {
			continue
		}
		cert, err := pki.ParseCertificate(c)
		if err != nil {
			return msg.Errorf(msg.InvalidCertificate, "CA key-exchange certificate: %w", err)
		}
		if cert.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
			return msg.Errorf(msg.InvalidCertificate, "CA key-exchange certificate does not allow key exchange")
		}
		var inter []*pki.Certificate
		for _, o := range sd.Certificates {
			if oc, err := pki.ParseCertificate(o); err == nil {
				inter = append(inter, oc)
			}
		}
		if _, err := cert.Verify(pki.VerifyOptions{Roots: r.cfg.Roots, Intermediates: inter, Now: r.cfg.Now(), CertType: pki.CertTypeCCA}); err != nil {
			return msg.Errorf(pki.ErrorCode(err), "CA key-exchange certificate: %w", err)
		}
		r.exchangeCert = c
		return nil
	}
	return msg.Errorf(msg.MissingCertificate, "CA key-exchange certificate named by caeThumb is not in CardCInitRes")
}

// HandleRegFormRes checks CR4, fills in the form and returns the CertReq
// (CR5): EncX signed with the new key, carrying the card and the
// CardSecret in its extra data.
func (r *Registration) HandleRegFormRes(res *msg.RegFormRes) (*msg.CertReq, error) {
	data, err := r.certReqData(res, msg.CardInitialSig, r.cardSecret[:])
	if err != nil {
		return nil, err
	}
	acct := &msg.AcctInfo{PANData0: &msg.PANData0{PAN: r.cfg.Card.PAN, CardExpiry: r.cfg.Card.Expiry, CardSecret: r.cardSecret}}
	if err := fill(r.cfg.Rand, acct.PANData0.EXNonce[:]); err != nil {
		return nil, err
	}
	if r.cfg.Card.Account != nil {
		acct = r.cfg.Card.acctInfo(r.cardSecret) // account.go
	}
	return SealCertReq(r.cfg.Suite, r.cfg.Rand, r.key, r.exchangeCert, data, acct, r.cfg.Now())
}

// certReqData checks CR4, the answer to a RegFormReq for requestType, and
// starts the CertReqData registration and renewal share: the form
// answered, a fresh CABackKey, RRPID and chall-EE3, and publicKeyS, the
// key to certify (cfg.Key, or a new one). secrets are filled with fresh
// random bytes along with RRPID and chall-EE3.
func (r *Registration) certReqData(res *msg.RegFormRes, requestType msg.RequestType, secrets ...[]byte) (*msg.CertReqData, error) {
	st := r.cfg.Suite
	t, _, err := r.openCA(res.SignedData, msg.OIDRegFormResTBS, "RegFormRes")
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalRegFormResTBS(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "RegFormResTBS: %w", err)
	}
	if tbs.RRPID != r.rrpid || tbs.ChallEE2 != r.challEE2 || !bytes.Equal(tbs.LIDEE, r.lidEE) || tbs.RequestType != requestType {
		return nil, msg.Errorf(msg.ChallengeMismatch, "RegFormRes does not answer this RegFormReq")
	}
	if tbs.CAEThumb != nil && !tbs.CAEThumb.Equal(&r.caeThumb) {
		return nil, msg.Errorf(msg.ThumbsMismatch, "RegFormRes names another CA key-exchange certificate")
	}
	if ref := tbs.RegFormOrReferral.ReferralData; ref != nil {
		return nil, fmt.Errorf("%w: %s", ErrReferred, ref.Reason)
	}
	data := &msg.CertReqData{
		LIDEE: r.lidEE, ChallCA: tbs.ChallCA, RequestType: requestType,
		RequestDate: r.cfg.Now().UTC().Truncate(time.Second),
	}
	if r.backKey, err = encap.NewBackKey(st, r.cfg.Rand); err != nil {
		return nil, fmt.Errorf("wallet: CABackKey: %w", err)
	}
	data.CABackKeyData = &msg.BackKeyData{BackAlgID: r.backKey.Alg, BackKey: r.backKey.Key}
	if form := tbs.RegFormOrReferral.RegFormData.RegTemplate; form != nil {
		data.RegFormID = form.RegFormID
		data.RegForm, err = r.answer(form)
		if err != nil {
			return nil, err
		}
	}
	if err := fill(r.cfg.Rand, append([][]byte{data.RRPID[:], data.ChallEE3[:]}, secrets...)...); err != nil {
		return nil, err
	}
	r.rrpid, r.challEE3 = data.RRPID, data.ChallEE3
	r.key = r.cfg.Key
	if r.key == nil {
		if r.key, err = st.NewSigningKey(r.cfg.Rand); err != nil {
			return nil, fmt.Errorf("wallet: new signing key: %w", err)
		}
	}
	if data.PublicKeySorE.PublicKeyS, err = pki.MarshalPublicKey(r.key.Public()); err != nil {
		return nil, fmt.Errorf("wallet: new public key: %w", err)
	}
	return data, nil
}

// answer fills form from the configured answers.
func (r *Registration) answer(form *msg.RegTemplate) ([]msg.RegFormItem, error) {
	items := make([]msg.RegFormItem, 0, len(form.RegFieldSeq))
	for _, f := range form.RegFieldSeq {
		v := r.cfg.Answers[f.FieldName]
		if f.FieldInvisible {
			v = f.FieldValue
		}
		if f.FieldRequired && v == "" {
			return nil, fmt.Errorf("wallet: registration form field %q is required", f.FieldName)
		}
		if len(v) > f.MaxLen() {
			return nil, fmt.Errorf("wallet: answer to %q is longer than %d", f.FieldName, f.MaxLen())
		}
		items = append(items, msg.RegFormItem{FieldName: f.FieldName, FieldValue: v})
	}
	if len(items) == 0 {
		return nil, nil
	}
	return items, nil
}

// SealCertReq builds CertReq = EncX{EE, CA, CertReqData, AcctInfo} signed
// with key, the key being certified: it has no certificate yet, so a
// self-signed one carries it, and the CA takes from it only the key (which
// must be data's publicKeyS). Exported so tests can build requests the
// wallet never would.
func SealCertReq(st suite.Suite, rand io.Reader, key crypto.Signer, caExchangeCert []byte, data *msg.CertReqData, acct *msg.AcctInfo, now time.Time) (*msg.CertReq, error) {
	carrier, err := pki.CreateCertificate(rand, &pki.Template{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "setpay cardholder key (proposed)"},
		NotBefore:    now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		PublicKey: key.Public(), KeyUsage: x509.KeyUsageDigitalSignature, CertType: pki.CertTypeCard,
	}, nil, key, st.Hash())
	if err != nil {
		return nil, fmt.Errorf("wallet: carrier certificate: %w", err)
	}
	return sealCertReqAs(st, rand, encap.Signer{Key: key, Cert: carrier}, caExchangeCert, data, acct) // renew.go
}

// HandleCertRes checks CR6 and returns the credentials: the CA's answer to
// this request, status requestComplete, and a certificate for the new key
// that chains to the roots and whose subject is hex(HMAC(PANSecret,
// PAN ‖ expiry)) for PANSecret = CardSecret ⊕ NonceCCA.
func (r *Registration) HandleCertRes(res *msg.CertRes) (*Registered, error) {
	st := r.cfg.Suite
	// A back key was sent, so only EncK is acceptable: a signed CertRes
	// would have carried NonceCCA in the clear (no downgrade).
	if res.Encrypted == nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertRes not encrypted under the CABackKey sent (downgrade refused)")
	}
	signed, err := encap.OpenEK(st, r.backKey, res.Encrypted, msg.OIDCertResTBE)
	if err != nil {
		return nil, msg.Classify(err, msg.DecodingFailure, "CertRes")
	}
	t, sd, err := r.openCA(signed, msg.OIDCertResData, "CertRes")
	if err != nil {
		return nil, err
	}
	data, err := msg.UnmarshalCertResData(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertResData: %w", err)
	}
	if data.RRPID != r.rrpid || data.ChallEE3 != r.challEE3 || !bytes.Equal(data.LIDEE, r.lidEE) {
		return nil, msg.Errorf(msg.ChallengeMismatch, "CertRes does not answer this CertReq")
	}
	if data.CertStatus.CertStatusCode != msg.RequestComplete {
		return nil, &RefusedError{Status: data.CertStatus}
	}
	if data.CertStatus.NonceCCA == nil || len(data.CertThumbs) != 1 {
		return nil, msg.Errorf(msg.DecodingFailure, "CertRes: complete without nonceCCA or exactly one certificate")
	}
	var certDER []byte
	var chain [][]byte
	var inter []*pki.Certificate
	for _, c := range sd.Certificates {
		if data.CertThumbs[0].Matches(c) {
			certDER = c
			continue
		}
		oc, err := pki.ParseCertificate(c)
		if err != nil {
			return nil, msg.Errorf(msg.InvalidCertificate, "CertRes certificate: %w", err)
		}
		chain = append(chain, c)
		inter = append(inter, oc)
	}
	if certDER == nil {
		return nil, msg.Errorf(msg.MissingCertificate, "CertRes does not carry the certificate it names")
	}
	cert, err := pki.ParseCertificate(certDER)
	if err != nil {
		return nil, msg.Errorf(msg.InvalidCertificate, "cardholder certificate: %w", err)
	}
	if _, err := cert.Verify(pki.VerifyOptions{Roots: r.cfg.Roots, Intermediates: inter, Now: r.cfg.Now(),
		CertType: pki.CertTypeCard, KeyUsage: x509.KeyUsageDigitalSignature}); err != nil {
		return nil, msg.Errorf(pki.ErrorCode(err), "cardholder certificate: %w", err)
	}
	spki, err := pki.MarshalPublicKey(r.key.Public())
	if err != nil || !bytes.Equal(spki, cert.RawSubjectPublicKeyInfo) {
		return nil, msg.Errorf(msg.InvalidCertificate, "cardholder certificate is not for the key requested")
	}
	card := r.cfg.Card
	card.CardSecret = r.cardSecret
	nonce := *data.CertStatus.NonceCCA
	for i := range card.PANSecret {
		card.PANSecret[i] = r.cardSecret[i] ^ nonce[i]
	}
	if want := card.holderID(st.Hash()); cert.Subject.CommonName != want { // account.go
		return nil, msg.Errorf(msg.InvalidCertificate, "cardholder certificate subject is not this card's PANSecret hash")
	}
	return &Registered{Key: NewSigningKey(r.key), Cert: certDER, Chain: chain, Card: card}, nil
}

// Register runs a whole cardholder registration against a CA reached
// through rt: CardCInitReq → CardCInitRes, RegFormReq → RegFormRes,
// CertReq → CertRes. rt is the only I/O. A pended request is a
// *PendingError carrying the Registration to Wait on.
func Register(ctx context.Context, rt wire.RoundTripper, cfg RegisterConfig) (*Registered, error) {
	reg, init, err := NewRegistration(cfg)
	if err != nil {
		return nil, err
	}
	return run(ctx, rt, reg, reg, init)
}

// steps are the three answers of a registration or a renewal.
type steps interface {
	HandleCardCInitRes(*msg.CardCInitRes) (*msg.RegFormReq, error)
	HandleRegFormRes(*msg.RegFormRes) (*msg.CertReq, error)
	HandleCertRes(*msg.CertRes) (*Registered, error)
}

// run is the exchange Register and Renew share, from the CardCInitReq
// on: reg keeps the identifiers each request is sent under, s answers.
func run(ctx context.Context, rt wire.RoundTripper, reg *Registration, s steps, init *msg.CardCInitReq) (*Registered, error) {
	ep := &wire.Endpoint{Suite: reg.cfg.Suite, SWIdent: reg.cfg.SWIdent, Rand: reg.cfg.Rand, Now: reg.cfg.Now, ErrorVerifier: reg.caVerifier()}
	call := func(rrpid msg.RRPID, m msg.Message) (msg.Message, error) {
		return ep.Call(ctx, rt, "CA", nil, &rrpid, m)
	}
	m, err := call(init.RRPID, init)
	if err != nil {
		return nil, fmt.Errorf("CardCInitReq: %w", err)
	}
	initRes, ok := m.(*msg.CardCInitRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CardCInitReq with %s", m.Name())
	}
	formReq, err := s.HandleCardCInitRes(initRes)
	if err != nil {
		return nil, fmt.Errorf("CardCInitRes: %w", err)
	}
	if m, err = call(reg.rrpid, formReq); err != nil {
		return nil, fmt.Errorf("RegFormReq: %w", err)
	}
	formRes, ok := m.(*msg.RegFormRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered RegFormReq with %s", m.Name())
	}
	certReq, err := s.HandleRegFormRes(formRes)
	if err != nil {
		return nil, fmt.Errorf("RegFormRes: %w", err)
	}
	if m, err = call(reg.rrpid, certReq); err != nil {
		return nil, fmt.Errorf("CertReq: %w", err)
	}
	certRes, ok := m.(*msg.CertRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CertReq with %s", m.Name())
	}
	out, err := s.HandleCertRes(certRes)
	if err != nil {
		// A pended request is a *PendingError to Wait on (register_pending.go).
		return nil, fmt.Errorf("CertRes: %w", reg.pendingErr(err))
	}
	return out, nil
}
