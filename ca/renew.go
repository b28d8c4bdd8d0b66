package ca

// Certificate renewal (request types cardRenewalSig, merRenewalBoth and
// pgwyRenewalBoth). A renewing end entity runs registration again with the
// renewal request type. Its CertReq names the certificate it renews in
// eeThumb and is signed with that certificate's key, the certificate being
// the signer certificate of the request's SignedData; each new key proves
// possession with a PoPSignature. So the signature says "the holder of the
// current certificate asks" and the PoPs say "and holds the new keys"
// (docs/spec-gaps.md, "renewal"). The renewed certificate stays valid
// until it expires or is revoked.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// RevocationRecords is implemented by stores that keep the CA's own
// revocations (SQLStore does), so that a renewal of a certificate revoked
// here is refused even before any CRL lists it.
type RevocationRecords interface {
	Revoked(ctx context.Context, serial *big.Int) (bool, error)
}

var _ RevocationRecords = (*SQLStore)(nil)

// Revoked implements RevocationRecords.
func (s *SQLStore) Revoked(ctx context.Context, serial *big.Int) (bool, error) {
	rs, err := s.db.Revocations(ctx)
	if err != nil {
		return false, fmt.Errorf("ca: revocations: %w", err)
	}
	for _, r := range rs {
		if r.Serial.Cmp(serial) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// checkCurrent checks the certificate a renewal renews: the request's
// signer certificate (whose key made the request's signature, verified in
// OpenEnc or OpenEncX) must be the one eeThumb names, of the requester's
// type, chain to the roots through this CA's hierarchy, be within its
// validity and not be revoked. Every failure is a SET Error: the request
// is not authentic as a renewal.
func (c *CA) checkCurrent(ctx context.Context, data *msg.CertReqData, signerCert []byte, eeType pki.CertType) (*pki.Certificate, error) {
	if data.EEThumb == nil {
		return nil, msg.Errorf(msg.DecodingFailure, "renewal CertReq without eeThumb")
	}
	if !data.EEThumb.Matches(signerCert) {
		// Typically signed with the new key alone: the holder of the
		// certificate being renewed did not sign.
		return nil, msg.Errorf(msg.SignatureFailure, "renewal CertReq is not signed with the key of the certificate its eeThumb names")
	}
	cur, err := pki.ParseCertificate(signerCert)
	if err != nil {
		return nil, msg.Errorf(msg.InvalidCertificate, "certificate to renew: %w", err)
	}
	if err := c.verifyCurrent(ctx, cur, eeType); err != nil {
		return nil, err
	}
	return cur, nil
}

// verifyCurrent is checkCurrent's check of the certificate itself: chain,
// type, validity now, and revocation by CRL or by the CA's own records.
func (c *CA) verifyCurrent(ctx context.Context, cur *pki.Certificate, eeType pki.CertType) error {
	opts := pki.VerifyOptions{
		Roots: c.cfg.Roots, Intermediates: c.cfg.Authority.Chain, Now: c.cfg.Now(),
		CertType: eeType, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if c.cfg.Revocation != nil {
		crls, bci, err := c.cfg.Revocation.Revocation(ctx)
		if err != nil {
			// Not knowing whether it is revoked is no ground to renew it.
			return msg.Errorf(msg.InvalidCertificate, "revocation status of the certificate to renew: %w", err)
		}
		opts.CRLs, opts.BrandCRLIdentifier = crls, bci
	}
	if _, err := cur.Verify(opts); err != nil {
		return &msg.ProtocolError{Code: pki.ErrorCode(err), Err: fmt.Errorf("certificate to renew: %w", err)}
	}
	if rr, ok := c.cfg.Store.(RevocationRecords); ok {
		revoked, err := rr.Revoked(ctx, cur.SerialNumber)
		if err != nil {
			return msg.Errorf(msg.UnspecifiedFailure, "revocation records: %w", err)
		}
		if revoked {
			return msg.Errorf(msg.RevokedCertificate, "certificate to renew (serial %d) is revoked", cur.SerialNumber)
		}
	}
	return nil
}

// recheckCurrent checks again, when the operator approves a held
// renewal, the certificate it renews (raw, kept with the request). A
// certificate revoked or expired meanwhile refuses the renewal: fail is
// the ErrorCode a fresh renewal would be answered with and status the
// refusal recorded with it. err is the CA's own failure (revocation status
// unknown included: the operator may try again).
func (c *CA) recheckCurrent(ctx context.Context, data *msg.CertReqData, raw []byte) (status msg.CertStatus, fail msg.ErrorCode, err error) {
	eeType := pki.CertTypeCard
	switch {
	case data.RequestType == msg.CardRenewalSig:
	case data.RequestType.Gateway():
		eeType = pki.CertTypePgwy
	default:
		eeType = pki.CertTypeMer
	}
	cur, err := pki.ParseCertificate(raw)
	if err != nil {
		return msg.CertStatus{}, 0, fmt.Errorf("certificate to renew: %w", err)
	}
	err = c.verifyCurrent(ctx, cur, eeType)
	var pe *msg.ProtocolError
	switch {
	case err == nil:
		return msg.CertStatus{}, 0, nil
	case !errors.As(err, &pe) || pe.Code == msg.UnspecifiedFailure:
		return msg.CertStatus{}, 0, err
	}
	if c.cfg.Revocation != nil && pe.Code == msg.InvalidCertificate {
		// Could be "revocation status unknown": not the applicant's fault
		// and maybe passing; leave the request for another decision.
		if _, _, rerr := c.cfg.Revocation.Revocation(ctx); rerr != nil {
			return msg.CertStatus{}, 0, err
		}
	}
	code := msg.RejectByAgent
	if c.cardholderCA() {
		code = msg.RejectByIssuer
	}
	return msg.CertStatus{CertStatusCode: code, EEMessage: truncate("the certificate to renew is no longer valid: "+pe.Code.String(), 128)}, pe.Code, nil
}

// checkRenewalPoP requires a PoPSignature by every key the renewal asks
// to have certified, and checks each. The request's own signature is the
// current key's, so unlike an initial request none of the new keys is
// proved by it.
func checkRenewalPoP(data *msg.CertReqData) error {
	k := data.PublicKeySorE
	if k.PublicKeyS != nil && bytes.Equal(k.PublicKeyS, k.PublicKeyE) {
		return msg.Errorf(msg.SignatureFailure, "CertReq: signature and key-exchange keys are the same")
	}
	proved, err := checkPoPSignatures(data) // merchant.go
	if err != nil {
		return err
	}
	if (k.PublicKeyS != nil && !proved[msg.PoPKeyS]) || (k.PublicKeyE != nil && !proved[msg.PoPKeyE]) {
		return msg.Errorf(msg.SignatureFailure, "renewal CertReq without proof of possession of every new key")
	}
	return nil
}

// reusesKey reports whether the renewal asks to certify again the key of
// the certificate it renews.
func reusesKey(data *msg.CertReqData, cur *pki.Certificate) bool {
	k := data.PublicKeySorE
	return bytes.Equal(k.PublicKeyS, cur.RawSubjectPublicKeyInfo) || bytes.Equal(k.PublicKeyE, cur.RawSubjectPublicKeyInfo)
}

// sameSubject reports whether tmpl would name the subject cur names.
func sameSubject(tmpl *pki.Template, cur *pki.Certificate) bool {
	name, err := asn1.Marshal(tmpl.Subject.ToRDNSequence())
	return err == nil && bytes.Equal(name, cur.RawSubject)
}

// handleCardRenewal is CR5 → CR6 for cardRenewalSig. Besides what an
// initial request proves (the card, through AcctInfo), the renewer proves
// it holds the current certificate (its key signed) and that the
// certificate is this card's: AcctInfo's CardSecret is, in a renewal, the
// PANSecret bound into the current certificate, and hex(HMAC(PANSecret,
// PAN ‖ expiry)) must be that certificate's subject. The new certificate
// binds a fresh PANSecret, CardSecret ⊕ NonceCCA as always.
func (c *CA) handleCardRenewal(ctx context.Context, data *msg.CertReqData, acct *msg.AcctInfo, signerCert []byte) (*msg.CertRes, error) {
	st := c.cfg.Suite
	cur, err := c.checkRenewal(ctx, data, signerCert, pki.CertTypeCard)
	if err != nil {
		return nil, err
	}
	ch, err := c.takeChallenge(ctx, data.ChallCA)
	if err != nil {
		return nil, err
	}

	res := &msg.CertResData{RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	card := acct.PANData0
	issuer, refused, err := c.holderIssuer(data, ch, res, card.PAN, false) // ca.go
	if issuer == nil {
		return refused, err
	}
	old, err := pki.CardholderTemplate(cur.PublicKey, card.PAN, card.CardExpiry, card.CardSecret[:], st.Hash(), c.cfg.Now())
	if err != nil || !sameSubject(old, cur) {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "the certificate to renew is not this card's"}
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
	panSecret := PANSecret(card.CardSecret, nonceCCA)
	tmpl, err := pki.CardholderTemplate(pub, card.PAN, card.CardExpiry, panSecret[:], st.Hash(), c.cfg.Now())
	if err != nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByIssuer, EEMessage: "card data not accepted"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	// The issuer decides on a renewal as on a first registration; a held
	// one is issued on approval like any pending cardholder request.
	if r, done, err := c.askIssuer(ctx, issuer, data, card.PAN[:min(6, len(card.PAN))], nonceCCA, tmpl, cur.Raw, res); done {
		return r, err
	}
	keys := [][]byte{data.PublicKeySorE.PublicKeyS, data.PublicKeySorE.PublicKeyE}
	status, thumbs, certs, err := c.issueHolder(ctx, tmpl, nonceCCA, keys, "cardholder certificate renewed", "renews", cur.SerialNumber)
	if err != nil {
		return nil, err
	}
	res.CertStatus, res.CertThumbs = status, thumbs
	return c.certRes(res, certs, data.CABackKeyData)
}

// checkRenewal is what every renewal proves before its chall-CA is taken:
// the current certificate, of type eeType, is valid and its holder
// signed; every new key is proved; the back key is usable. It returns the
// current certificate.
func (c *CA) checkRenewal(ctx context.Context, data *msg.CertReqData, signerCert []byte, eeType pki.CertType) (*pki.Certificate, error) {
	cur, err := c.checkCurrent(ctx, data, signerCert, eeType)
	if err != nil {
		return nil, err
	}
	if err := checkRenewalPoP(data); err != nil {
		return nil, err
	}
	if err := c.checkBackKey(data); err != nil {
		return nil, err
	}
	return cur, nil
}

// handleEERenewal is MR3 → MR4 for merRenewalBoth and pgwyRenewalBoth.
// The acquirer approves the renewal as it would a first registration, and
// the identity it approves must be the one the current certificate names.
func (c *CA) handleEERenewal(ctx context.Context, data *msg.CertReqData, signerCert []byte) (*msg.CertRes, error) {
	if !c.serves(data.RequestType) {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertReq: request type %v not renewed by this %s", data.RequestType, c.kind())
	}
	if data.IDData == nil {
		return nil, msg.Errorf(msg.ChallengeMismatch, "CertReq without idData")
	}
	eeType := pki.CertTypeMer
	if data.RequestType.Gateway() {
		eeType = pki.CertTypePgwy
	}
	cur, err := c.checkRenewal(ctx, data, signerCert, eeType)
	if err != nil {
		return nil, err
	}
	res := &msg.CertResData{RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	appr, def, refused, err := c.vetEE(ctx, data, res) // merchant.go
	if refused != nil || err != nil {
		return refused, err
	}
	sigT, _, err := c.eeTemplates(data, appr, c.cfg.Now())
	if err != nil {
		return nil, err
	}
	if !sameSubject(sigT, cur) {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "the certificate to renew was issued to another subject"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	if reusesKey(data, cur) {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "a renewal must certify new keys"}
		return c.certRes(res, nil, data.CABackKeyData)
	}
	if def != nil {
		// Every renewal check passed; what is left is the acquirer's
		// decision, taken like a first registration's.
		return c.deferEE(ctx, data, def, cur.Raw, res)
	}
	status, thumbs, certs, err := c.issueEE(ctx, data, appr)
	if err != nil {
		return nil, err
	}
	if status.CertStatusCode == msg.RequestComplete {
		c.cfg.Log.Info("ca: "+c.kind()+" certificates renewed", "renews", cur.SerialNumber)
	}
	res.CertStatus, res.CertThumbs = status, thumbs
	return c.certRes(res, certs, data.CABackKeyData)
}
