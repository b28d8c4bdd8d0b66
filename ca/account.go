package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Bank-account holders register as cardholders do (CR1–CR6), naming a
// bank account where a cardholder names a card:
//
//   - RegFormReq's extra data is msg.RegFormAcct with AcctData (the
//     account's identification) instead of PANOnly; the issuer whose BIN
//     range holds msg.AccountBIN gives the form, and chall-CA is bound to
//     the account as it is to a PAN;
//   - CertReq's AcctInfo is AcctData (SET's own alternative) instead of
//     PANData0. AcctData has no secret of its own, so its exNonce — fresh,
//     random, and sealed to the CA as CardSecret is — is the holder's half
//     of the account secret: AcctSecret = exNonce ⊕ NonceCCA;
//   - the certificate's subject is hex(HMAC(AcctSecret, identification))
//     (msg.BankAccount.HolderID), never the account itself, just as a
//     card's is hex(HMAC(PANSecret, PAN ‖ expiry));
//   - a renewal (cardRenewalSig) proves the account as a card's does: its
//     exNonce is the current AcctSecret (accountRenewal).
//
// docs/spec-gaps.md records the reconstruction.

// AccountHolderTemplate returns the certificate template of a bank-account
// holder's signature key: a cardholder certificate whose subject is the
// account's holder ID under secret. It is valid for two years, as a card's
// is at most (a bank account does not expire).
func AccountHolderTemplate(pub crypto.PublicKey, acct msg.BankAccount, secret msg.Secret, h crypto.Hash, now time.Time) (*pki.Template, error) {
	if err := acct.Check(); err != nil {
		return nil, err
	}
	if secret == (msg.Secret{}) || !h.Available() {
		return nil, errors.New("ca: an account secret and an available hash are required")
	}
	return &pki.Template{
		Subject:   pkix.Name{CommonName: acct.HolderID(h, secret)},
		NotBefore: now,
		NotAfter:  now.AddDate(2, 0, 0),
		PublicKey: pub,
		KeyUsage:  x509.KeyUsageDigitalSignature,
		CertType:  pki.CertTypeCard,
	}, nil
}

// accountRegForm answers a RegFormReq whose extra data names a bank
// account: the form of the issuer that registers accounts, or a referral
// when there is none. res is filled in as for a card.
func (c *CA) accountRegForm(ctx context.Context, ad *msg.AcctData, res *msg.RegFormResTBS) error {
	issuer := c.issuerFor(msg.AccountBIN)
	if issuer == nil {
		res.RegFormOrReferral.ReferralData = &msg.ReferralData{Reason: "this CA does not register bank accounts"}
		return nil
	}
	res.RegFormOrReferral.RegFormData = &msg.RegFormData{RegTemplate: issuer.Form, Policy: issuer.Policy}
	if _, err := io.ReadFull(c.cfg.Rand, res.ChallCA[:]); err != nil {
		return msg.Errorf(msg.UnspecifiedFailure, "chall-CA: %w", err)
	}
	ch := Challenge{Issued: c.cfg.Now(), PANMAC: c.panMAC(ad.AcctIdentification)}
	if issuer.Form != nil {
		ch.RegFormID = issuer.Form.RegFormID
	}
	if err := c.cfg.Store.PutChallenge(ctx, res.ChallCA, ch); err != nil {
		return msg.Errorf(msg.UnspecifiedFailure, "remembering chall-CA: %w", err)
	}
	return nil
}

// accountCertReq runs CR5 for a bank-account holder: the card flow's
// checks in the same order, with the account where the PAN was.
func (c *CA) accountCertReq(ctx context.Context, data *msg.CertReqData, ad *msg.AcctData, signerCert []byte) (*msg.CertRes, error) {
	st := c.cfg.Suite
	if data.RequestType != msg.CardInitialSig && data.RequestType != msg.CardRenewalSig {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertReq: request type %v not supported for bank accounts", data.RequestType)
	}
	acct, err := msg.ParseAccountIdentification(ad.AcctIdentification)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertReq AcctData: %w", err)
	}
	if data.RequestType == msg.CardRenewalSig {
		return c.accountRenewal(ctx, data, ad, acct, signerCert)
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
	res := &msg.CertResData{RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	issuer, refused, err := c.holderIssuer(data, ch, res, ad.AcctIdentification, true) // ca.go
	if issuer == nil {
		return refused, err
	}
	pub, nonceCCA, err := c.holderKey(data)
	if err != nil {
		return nil, err
	}
	secret := PANSecret(msg.Secret(ad.EXNonce), nonceCCA)
	tmpl, err := AccountHolderTemplate(pub, acct, secret, st.Hash(), c.cfg.Now())
	if err != nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "account data not accepted"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	if r, done, err := c.askIssuer(ctx, issuer, data, msg.AccountBIN, nonceCCA, tmpl, nil, res); done {
		return r, err
	}
	status, thumbs, certs, err := c.issueHolder(ctx, tmpl, nonceCCA, [][]byte{data.PublicKeySorE.PublicKeyS}, "bank-account holder certificate issued")
	if err != nil {
		return nil, err
	}
	res.CertStatus, res.CertThumbs = status, thumbs
	return c.certRes(res, certs, data.CABackKeyData)
}

// accountRenewal is CR5 → CR6 for a bank-account holder's cardRenewalSig,
// as handleCardRenewal (renew.go) is for a card. The renewer proves it
// holds the current certificate (its key signed the request) and that the
// certificate is this account's: in a renewal AcctData's exNonce is the
// AcctSecret bound into the current certificate, and the account's holder
// ID under it must be that certificate's subject. The new certificate
// binds a fresh secret, that value ⊕ NonceCCA, as a first registration's
// binds exNonce ⊕ NonceCCA.
func (c *CA) accountRenewal(ctx context.Context, data *msg.CertReqData, ad *msg.AcctData, acct msg.BankAccount, signerCert []byte) (*msg.CertRes, error) {
	st := c.cfg.Suite
	cur, err := c.checkRenewal(ctx, data, signerCert, pki.CertTypeCard) // renew.go
	if err != nil {
		return nil, err
	}
	ch, err := c.takeChallenge(ctx, data.ChallCA)
	if err != nil {
		return nil, err
	}
	res := &msg.CertResData{RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	issuer, refused, err := c.holderIssuer(data, ch, res, ad.AcctIdentification, true) // ca.go
	if issuer == nil {
		return refused, err
	}
	current := msg.Secret(ad.EXNonce)
	old, err := AccountHolderTemplate(cur.PublicKey, acct, current, st.Hash(), c.cfg.Now())
	if err != nil || !sameSubject(old, cur) {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "the certificate to renew is not this account's"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	if reusesKey(data, cur) {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "a renewal must certify a new key"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	pub, nonceCCA, err := c.holderKey(data)
	if err != nil {
		return nil, err
	}
	tmpl, err := AccountHolderTemplate(pub, acct, PANSecret(current, nonceCCA), st.Hash(), c.cfg.Now())
	if err != nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "account data not accepted"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	if r, done, err := c.askIssuer(ctx, issuer, data, msg.AccountBIN, nonceCCA, tmpl, cur.Raw, res); done {
		return r, err
	}
	keys := [][]byte{data.PublicKeySorE.PublicKeyS, data.PublicKeySorE.PublicKeyE}
	status, thumbs, certs, err := c.issueHolder(ctx, tmpl, nonceCCA, keys, "bank-account holder certificate renewed", "renews", cur.SerialNumber)
	if err != nil {
		return nil, err
	}
	res.CertStatus, res.CertThumbs = status, thumbs
	return c.certRes(res, certs, data.CABackKeyData)
}
