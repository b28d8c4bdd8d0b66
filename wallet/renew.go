package wallet

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"io"

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
	return rn.reg.regFormReq(res, msg.CardRenewalSig, rn.reg.cfg.Card.regFormExtra) // account.go
}

// CertReqData checks CR4 and builds the content of the renewal CertReq:
// the form answered, a back key, the new key with its proof of possession,
// eeThumb naming the current certificate, and the AcctInfo whose
// CardSecret is the current PANSecret. Seal turns them into the CertReq;
// HandleRegFormRes does both.
func (rn *Renewal) CertReqData(res *msg.RegFormRes) (*msg.CertReqData, *msg.AcctInfo, error) {
	r, st := rn.reg, rn.reg.cfg.Suite
	data, err := r.certReqData(res, msg.CardRenewalSig)
	if err != nil {
		return nil, nil, err
	}
	thumb := msg.ThumbOf(st.Hash(), rn.cur.Cert)
	data.EEThumb = &thumb
	// HandleCertRes derives the new PANSecret from this and NonceCCA.
	r.cardSecret = rn.cur.Card.PANSecret
	if err := AddPoP(st, r.cfg.Rand, data, r.key); err != nil {
		return nil, nil, err
	}
	acct := &msg.AcctInfo{PANData0: &msg.PANData0{PAN: r.cfg.Card.PAN, CardExpiry: r.cfg.Card.Expiry, CardSecret: r.cardSecret}}
	if err := fill(r.cfg.Rand, acct.PANData0.EXNonce[:]); err != nil {
		return nil, nil, err
	}
	if r.cfg.Card.Account != nil {
		// A bank account's AcctData carries the current secret in exNonce
		// (ca/account.go).
		acct = r.cfg.Card.acctInfo(r.cardSecret) // account.go
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

// sealCertReqAs makes CertReq = EncX{EE, CA, CertReqData, AcctInfo}
// signed by s: the current certificate's key in a renewal, the new key in
// its carrier certificate in a registration (SealCertReq).
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
// as Register does, with cardRenewalSig; a renewal the CA holds is a
// *PendingError, as a registration is. rt is the only I/O. cur stays
// valid until it expires; the result replaces it.
func Renew(ctx context.Context, rt wire.RoundTripper, cfg RegisterConfig, cur *Registered) (*Registered, error) {
	rn, init, err := NewRenewal(cfg, cur)
	if err != nil {
		return nil, err
	}
	return run(ctx, rt, rn.reg, rn, init) // register.go
}
