package wallet

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// Renewal of a cardholder certificate (cardRenewalSig): registration again,
// CardCInitReq to CertRes, with three differences. The CertReq is signed
// with the current certificate's key, the current certificate as signer and
// named in eeThumb, so the CA knows its holder asks; the new key proves
// possession with a PoPSignature instead. And AcctInfo's CardSecret is the
// PANSecret of the current certificate, which lets the CA check that
// certificate is this card's; the new certificate binds a fresh PANSecret,
// that value ⊕ the CA's new NonceCCA (docs/spec-gaps.md, "renewal"). The
// current certificate stays valid until it expires.

// Renewal is one cardholder renewal in progress. Like Registration it
// does no I/O.
type Renewal struct {
	reg *Registration
	cur *Registered
}

// NewRenewal starts renewing cur and returns the CardCInitReq. cfg is as
// for registration, except that the card is cur's; cfg.Key, when set, is
// the new key.
func NewRenewal(cfg RegisterConfig, cur *Registered) (*Renewal, *msg.CardCInitReq, error) {
	if cur == nil || cur.Key.key == nil || cur.Cert == nil {
		return nil, nil, fmt.Errorf("wallet: renewal needs the current key and certificate")
	}
	c, err := pki.ParseCertificate(cur.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: current certificate: %w", err)
	}
	spki, err := pki.MarshalPublicKey(cur.Key.key.Public())
	if err != nil || !bytes.Equal(spki, c.RawSubjectPublicKeyInfo) {
		return nil, nil, fmt.Errorf("wallet: the current key is not the current certificate's")
	}
	if cur.Card.PANSecret == (msg.Secret{}) {
		return nil, nil, fmt.Errorf("wallet: renewal needs the current certificate's PANSecret")
	}
	cfg.Card = cur.Card
	reg, init, err := NewRegistration(cfg)
	if err != nil {
		return nil, nil, err
	}
	return &Renewal{reg: reg, cur: cur}, init, nil
}

// HandleCardCInitRes checks CR2 and returns the RegFormReq (CR3) asking
// for cardRenewalSig.
func (rn *Renewal) HandleCardCInitRes(res *msg.CardCInitRes) (*msg.RegFormReq, error) {
	r := rn.reg
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
	data := &msg.RegFormReqData{RRPID: r.rrpid, LIDEE: r.lidEE, RequestType: msg.CardRenewalSig, Language: r.cfg.Language}
	pan := &msg.PANOnly{PAN: r.cfg.Card.PAN}
	if err := fill(r.cfg.Rand, data.RRPID[:], data.ChallEE2[:], pan.EXNonce[:]); err != nil {
		return nil, err
	}
	r.rrpid, r.challEE2 = data.RRPID, data.ChallEE2
	tb, err := data.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: RegFormReqData: %w", err)
	}
	pb, err := pan.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: PANOnly: %w", err)
	}
	env, err := encap.EXH(r.cfg.Suite, r.cfg.Rand, r.exchangeCert, msg.OIDRegFormReqTBE, tb, pb)
	if err != nil {
		return nil, fmt.Errorf("wallet: RegFormReq envelope: %w", err)
	}
	return &msg.RegFormReq{Envelope: env}, nil
}

// CertReqData checks CR4 and builds the content of the renewal CertReq:
// the form answered, a back key, the new key with its proof of possession,
// eeThumb naming the current certificate, and the AcctInfo whose
// CardSecret is the current PANSecret. Seal turns them into the CertReq;
// HandleRegFormRes does both.
func (rn *Renewal) CertReqData(res *msg.RegFormRes) (*msg.CertReqData, *msg.AcctInfo, error) {
	r, st := rn.reg, rn.reg.cfg.Suite
	t, _, err := r.openCA(res.SignedData, msg.OIDRegFormResTBS, "RegFormRes")
	if err != nil {
		return nil, nil, err
	}
	tbs, err := msg.UnmarshalRegFormResTBS(t)
	if err != nil {
		return nil, nil, msg.Errorf(msg.DecodingFailure, "RegFormResTBS: %w", err)
	}
	if tbs.RRPID != r.rrpid || tbs.ChallEE2 != r.challEE2 || !bytes.Equal(tbs.LIDEE, r.lidEE) || tbs.RequestType != msg.CardRenewalSig {
		return nil, nil, msg.Errorf(msg.ChallengeMismatch, "RegFormRes does not answer this RegFormReq")
	}
	if tbs.CAEThumb != nil && !tbs.CAEThumb.Equal(&r.caeThumb) {
		return nil, nil, msg.Errorf(msg.ThumbsMismatch, "RegFormRes names another CA key-exchange certificate")
	}
	if ref := tbs.RegFormOrReferral.ReferralData; ref != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrReferred, ref.Reason)
	}
	thumb := msg.ThumbOf(st.Hash(), rn.cur.Cert)
	data := &msg.CertReqData{
		LIDEE: r.lidEE, ChallCA: tbs.ChallCA, RequestType: msg.CardRenewalSig,
		RequestDate: r.cfg.Now().UTC().Truncate(time.Second), EEThumb: &thumb,
	}
	if r.backKey, err = encap.NewBackKey(st, r.cfg.Rand); err != nil {
		return nil, nil, fmt.Errorf("wallet: CABackKey: %w", err)
	}
	data.CABackKeyData = &msg.BackKeyData{BackAlgID: r.backKey.Alg, BackKey: r.backKey.Key}
	if form := tbs.RegFormOrReferral.RegFormData.RegTemplate; form != nil {
		data.RegFormID = form.RegFormID
		if data.RegForm, err = r.answer(form); err != nil {
			return nil, nil, err
		}
	}
	if err := fill(r.cfg.Rand, data.RRPID[:], data.ChallEE3[:]); err != nil {
		return nil, nil, err
	}
	r.rrpid, r.challEE3 = data.RRPID, data.ChallEE3
	// HandleCertRes derives the new PANSecret from this and NonceCCA.
	r.cardSecret = rn.cur.Card.PANSecret
	if r.key = r.cfg.Key; r.key == nil {
		if r.key, err = st.NewSigningKey(r.cfg.Rand); err != nil {
			return nil, nil, fmt.Errorf("wallet: new signing key: %w", err)
		}
	}
	if data.PublicKeySorE.PublicKeyS, err = pki.MarshalPublicKey(r.key.Public()); err != nil {
		return nil, nil, fmt.Errorf("wallet: new public key: %w", err)
	}
	if err := AddPoP(st, r.cfg.Rand, data, r.key); err != nil {
		return nil, nil, err
	}
	acct := &msg.AcctInfo{PANData0: &msg.PANData0{PAN: r.cfg.Card.PAN, CardExpiry: r.cfg.Card.Expiry, CardSecret: r.cardSecret}}
	if err := fill(r.cfg.Rand, acct.PANData0.EXNonce[:]); err != nil {
		return nil, nil, err
	}
	return data, acct, nil
}

// Seal makes the renewal CertReq (CR5): EncX{EE, CA, CertReqData,
// AcctInfo} signed with the current key, the current certificate and its
// chain in the SignedData.
func (rn *Renewal) Seal(data *msg.CertReqData, acct *msg.AcctInfo) (*msg.CertReq, error) {
	r := rn.reg
	s := encap.Signer{Key: rn.cur.Key.key, Cert: rn.cur.Cert, Chain: rn.cur.Chain}
	return sealCertReqAs(r.cfg.Suite, r.cfg.Rand, s, r.exchangeCert, data, acct)
}

// HandleRegFormRes checks CR4 and returns the renewal CertReq (CR5).
func (rn *Renewal) HandleRegFormRes(res *msg.RegFormRes) (*msg.CertReq, error) {
	data, acct, err := rn.CertReqData(res)
	if err != nil {
		return nil, err
	}
	return rn.Seal(data, acct)
}

// ExchangeCert is the CA key-exchange certificate the CertReq is sealed
// to, known after HandleCardCInitRes. Tests use it to seal requests the
// wallet never would.
func (rn *Renewal) ExchangeCert() []byte { return rn.reg.exchangeCert }

// HandleCertRes checks CR6 as for a registration and returns the new
// credentials: the new key, its certificate, and the card with the new
// PANSecret.
func (rn *Renewal) HandleCertRes(res *msg.CertRes) (*Registered, error) {
	return rn.reg.HandleCertRes(res)
}

// AddPoP signs data's PoPInput with key, the new signing key, and sets it
// as data's PoPSignature: the proof of possession of a renewal, whose
// request the current key signs.
func AddPoP(st suite.Suite, rand io.Reader, data *msg.CertReqData, key crypto.Signer) error {
	input, err := data.PoPInput()
	if err != nil {
		return fmt.Errorf("wallet: PoPInput: %w", err)
	}
	alg, err := pkcs7.SignatureAlgorithmFor(key.Public(), st.Hash())
	if err != nil {
		return fmt.Errorf("wallet: PoP algorithm: %w", err)
	}
	sig, err := pkcs7.SignMessage(rand, key, alg, input)
	if err != nil {
		return fmt.Errorf("wallet: PoP signature: %w", err)
	}
	data.PoPSignatures = []msg.PoPSignature{{PoPKey: msg.PoPKeyS, SignatureAlgorithm: alg, Signature: sig}}
	return nil
}

func sealCertReqAs(st suite.Suite, rand io.Reader, s encap.Signer, caExchangeCert []byte, data *msg.CertReqData, acct *msg.AcctInfo) (*msg.CertReq, error) {
	tb, err := data.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: CertReqData: %w", err)
	}
	pb, err := acct.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: AcctInfo: %w", err)
	}
	env, err := encap.EncX(st, rand, s, caExchangeCert, msg.OIDCertReqTBS, msg.OIDCertReqTBEX, tb, pb)
	if err != nil {
		return nil, fmt.Errorf("wallet: CertReq envelope: %w", err)
	}
	return &msg.CertReq{EncX: env}, nil
}

// Renew runs a whole renewal of cur against a CA reached through rt:
// CardCInitReq → CardCInitRes, RegFormReq → RegFormRes, CertReq → CertRes,
// as Register does, with cardRenewalSig. rt is the only I/O. cur stays
// valid until it expires; the result replaces it.
func Renew(ctx context.Context, rt wire.RoundTripper, cfg RegisterConfig, cur *Registered) (*Registered, error) {
	rn, init, err := NewRenewal(cfg, cur)
	if err != nil {
		return nil, err
	}
	r := rn.reg
	ep := &wire.Endpoint{Suite: r.cfg.Suite, SWIdent: r.cfg.SWIdent, Rand: r.cfg.Rand, Now: r.cfg.Now}
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
	formReq, err := rn.HandleCardCInitRes(initRes)
	if err != nil {
		return nil, fmt.Errorf("CardCInitRes: %w", err)
	}
	if m, err = call(r.rrpid, formReq); err != nil {
		return nil, fmt.Errorf("RegFormReq: %w", err)
	}
	formRes, ok := m.(*msg.RegFormRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered RegFormReq with %s", m.Name())
	}
	certReq, err := rn.HandleRegFormRes(formRes)
	if err != nil {
		return nil, fmt.Errorf("RegFormRes: %w", err)
	}
	if m, err = call(r.rrpid, certReq); err != nil {
		return nil, fmt.Errorf("CertReq: %w", err)
	}
	certRes, ok := m.(*msg.CertRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CertReq with %s", m.Name())
	}
	out, err := rn.HandleCertRes(certRes)
	if err != nil {
		return nil, fmt.Errorf("CertRes: %w", err)
	}
	return out, nil
}
