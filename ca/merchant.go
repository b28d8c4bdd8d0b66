package ca

// Merchant and payment-gateway registration (SET's MR flow, FLOWS.md §2.2):
// Me-AqCInitReq → Me-AqCInitRes (which carries the registration form: there
// is no RegFormReq for merchants and gateways), then CertReq → CertRes
// issuing a signature and a key-exchange certificate at once. A merchant CA
// (MCA) registers merchants, a payment CA (PCA) payment gateways; which one
// a CA is comes from its Authority's certificate type.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Applicant is a merchant or payment gateway asking to register, as the
// acquirer's policy sees it.
type Applicant struct {
	RequestType msg.RequestType
	// ID is the identity the applicant claimed in Me-AqCInitReq: a
	// MerchantAcquirerID for merchants, an AcquirerID for gateways.
	ID msg.IDData
	// Form is the answered registration form; nil in Me-AqCInitReq.
	Form []msg.RegFormItem
	// Language is the language Me-AqCInitReq asked for; "" at CertReq.
	Language string
	// RegFormID is, at CertReq, the regFormID of the form that was sent
	// (which its chall-CA remembers): RegForm must return that form, in
	// whatever language it was. 0 in Me-AqCInitReq.
	RegFormID int64
}

// Approval is what the acquirer approved: the identity the certificates
// will carry.
type Approval struct {
	// Merchant is the merchantData of a merchant's certificates.
	Merchant *pki.MerchantData
	// GatewayName is the subject of a payment gateway's certificates.
	GatewayName string
}

// Refusal is an AcquirerPolicy's reasoned "no" to a CertReq; the CA
// answers it with a CertRes carrying Code.
type Refusal struct {
	Code    msg.CertStatusCode
	Message string
	Failed  []msg.FailedItem
}

func (r *Refusal) Error() string { return "ca: acquirer refused: " + r.Message }

// ErrNotInRecords is returned by AcquirerPolicy.RegForm for an applicant
// the acquirer does not know.
var ErrNotInRecords = errors.New("ca: applicant not in the acquirer's records")

// AcquirerPolicy is the acquirer's approval of a merchant or gateway
// registration, pluggable so a real acquirer can consult its own systems.
// It is asked twice: at Me-AqCInitReq for the form (before any nonce
// exists), and at CertReq, with the answered form, for the decision.
type AcquirerPolicy interface {
	// RegForm returns the registration form (nil asks for nothing) and
	// the certificate policy text for a; ErrNotInRecords when the acquirer
	// does not know a.ID.
	RegForm(ctx context.Context, a *Applicant) (form *msg.RegTemplate, policy string, err error)
	// Approve decides on a, whose form the CA has already checked against
	// the template. A *Refusal is answered with a CertRes; other errors
	// are the CA's failure.
	Approve(ctx context.Context, a *Applicant) (*Approval, error)
}

// AcquirerRecord is one merchant or gateway as its acquirer knows it.
type AcquirerRecord struct {
	// AcquirerBIN is the acquirer's BIN (six digits).
	AcquirerBIN string
	// MerID is the merchant's ID at the acquirer; "" for a gateway.
	MerID string
	// BusinessID is a gateway's acquirerBusinessID; "" when it sends none.
	BusinessID string
	// Name is the legal name: the registration form's FieldLegalName must
	// match it, and the certificates carry it.
	Name    string
	City    string
	Country int // ISO 3166 numeric; 0 means 840
	// Form and Forms, when either is set, are this applicant's
	// registration form, by language as AcquirerRecords.Forms, in place
	// of AcquirerRecords' own: an acquirer that asks some merchants more
	// than others. The same rules hold (FieldLegalName kept, RegFormIDs
	// distinct among this record's forms, Form nil meaning
	// DefaultAcquirerForm).
	Form  *msg.RegTemplate
	Forms map[string]*msg.RegTemplate
}

// FieldLegalName is the field of AcquirerRecords' default form the
// applicant's legal name goes in.
const FieldLegalName = "Legal name"

// AcquirerRecords is the default AcquirerPolicy: a table of the
// acquirer's merchants and gateways. An applicant is known when its
// IDData names a record (merchant BIN and merID; gateway BIN and business
// ID), and approved when the legal name it gives in the form is the
// record's (case and surrounding space ignored).
type AcquirerRecords struct {
	Records []AcquirerRecord
	// Form is the registration form in the default language; nil means
	// DefaultAcquirerForm.
	Form *msg.RegTemplate
	// Forms are the form in other languages, by language tag, chosen as
	// Issuer.Forms are. Each must keep the FieldLegalName field, and
	// every RegFormID must differ from the others' and Form's.
	Forms  map[string]*msg.RegTemplate
	Policy string // default "SETpay merchant and gateway certificate policy"
}

func (r *AcquirerRecords) find(id msg.IDData) *AcquirerRecord {
	for i := range r.Records {
		rec := &r.Records[i]
		switch {
		case id.MerchantAcquirerID != nil:
			if rec.MerID != "" && rec.MerID == id.MerchantAcquirerID.MerchantID && rec.AcquirerBIN == id.MerchantAcquirerID.MerchantBIN {
				return rec
			}
		case id.AcquirerID != nil:
			if rec.MerID == "" && rec.AcquirerBIN == id.AcquirerID.AcquirerBIN && rec.BusinessID == id.AcquirerID.AcquirerBusinessID {
				return rec
			}
		}
	}
	return nil
}

// forms returns rec's form set: its own when it has one, else the
// records'; a set without a default form has DefaultAcquirerForm's.
func (r *AcquirerRecords) forms(rec *AcquirerRecord) (*msg.RegTemplate, map[string]*msg.RegTemplate) {
	def, forms := rec.Form, rec.Forms
	if def == nil && len(forms) == 0 {
		def, forms = r.Form, r.Forms
	}
	if def == nil {
		def = DefaultAcquirerForm()
	}
	return def, forms
}

// DefaultAcquirerForm is the form of an AcquirerRecords (or record) that
// sets none: one required FieldLegalName field, RegFormID 1.
func DefaultAcquirerForm() *msg.RegTemplate {
	return &msg.RegTemplate{RegFormID: 1, RegFieldSeq: []msg.RegField{{FieldName: FieldLegalName, FieldRequired: true, FieldLen: 60}}}
}

// RegForm implements AcquirerPolicy. The form is looked up in the
// applicant's record's set only: the chall-CA binds the identity vetted
// with it (identityMAC), so a RegFormID cannot be carried over from
// another record's form.
func (r *AcquirerRecords) RegForm(_ context.Context, a *Applicant) (*msg.RegTemplate, string, error) {
	rec := r.find(a.ID)
	if rec == nil {
		return nil, "", ErrNotInRecords
	}
	p := r.Policy
	if p == "" {
		p = "SETpay merchant and gateway certificate policy"
	}
	def, forms := r.forms(rec)
	if a.RegFormID != 0 {
		if f := formByID(def, forms, a.RegFormID); f != nil {
			return f, p, nil
		}
	}
	return pickForm(def, forms, a.Language), p, nil
}

// Approve implements AcquirerPolicy.
func (r *AcquirerRecords) Approve(_ context.Context, a *Applicant) (*Approval, error) {
	rec := r.find(a.ID)
	if rec == nil {
		return nil, &Refusal{Code: msg.InvalidBIN, Message: "not in the acquirer's records"}
	}
	name, idx := "", int64(-1)
	for i, item := range a.Form {
		if item.FieldName == FieldLegalName {
			name, idx = item.FieldValue, int64(i)
		}
	}
	if idx < 0 || !strings.EqualFold(strings.TrimSpace(name), strings.TrimSpace(rec.Name)) {
		if idx < 0 {
			idx = 0
		}
		return nil, &Refusal{Code: msg.RejectByAgent, Message: "legal name is not the acquirer's record",
			Failed: []msg.FailedItem{{ItemNumber: idx, ItemReason: "legal name does not match"}}}
	}
	country := rec.Country
	if country == 0 {
		country = 840
	}
	if a.ID.AcquirerID != nil {
		return &Approval{GatewayName: rec.Name}, nil
	}
	return &Approval{Merchant: &pki.MerchantData{
		MerID: rec.MerID, MerAcquirerBIN: rec.AcquirerBIN, MerCountry: country, MerAuthFlag: true,
		MerNames: []pki.MerName{{Language: "en", Name: rec.Name, City: rec.City, CountryName: "US"}},
	}}, nil
}

// IssueCAExchangeCert is IssueExchangeCert for a CA of any type: the
// merchant CA's and payment CA's key-exchange certificates carry their
// own certificate type, which merchants and gateways check.
func IssueCAExchangeCert(r io.Reader, brand *pki.Authority, pub crypto.PublicKey, name string, certType pki.CertType, now time.Time) ([]byte, error) {
	usage := x509.KeyUsageKeyEncipherment
	if _, ok := pub.(*ecdsa.PublicKey); ok {
		usage = x509.KeyUsageKeyAgreement
	}
	cert, err := brand.Issue(r, &pki.Template{
		Subject:   pkix.Name{Organization: brand.Cert.Subject.Organization, CommonName: name + " Key Exchange"},
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
		PublicKey: pub, KeyUsage: usage, CertType: certType,
	})
	if err != nil {
		return nil, fmt.Errorf("ca: key-exchange certificate: %w", err)
	}
	return cert.Raw, nil
}

// cardholderCA reports whether c registers cardholders; otherwise it is a
// merchant or payment CA.
func (c *CA) cardholderCA() bool { return c.cfg.Authority.Cert.CertType&pki.CertTypeCCA != 0 }

// serves reports whether c registers the requester of t: merchants at an
// MCA, gateways at a PCA, and only the "both keys" requests, initial or
// renewal.
func (c *CA) serves(t msg.RequestType) bool {
	ct := c.cfg.Authority.Cert.CertType
	switch t {
	case msg.MerInitialBoth, msg.MerRenewalBoth:
		return ct&pki.CertTypeMCA != 0
	case msg.PgwyInitialBoth, msg.PgwyRenewalBoth:
		return ct&pki.CertTypePCA != 0
	}
	return false
}

// identityMAC binds a chall-CA to the identity and request type vetted in
// Me-AqCInitReq (W7). It is kept in Challenge.PANMAC, the field that binds
// a cardholder's chall-CA to the card.
func (c *CA) identityMAC(t msg.RequestType, id *msg.IDData) []byte {
	var s string
	switch {
	case id == nil:
		s = "none"
	case id.MerchantAcquirerID != nil:
		s = "mer " + strconv.Quote(id.MerchantAcquirerID.MerchantBIN) + " " + strconv.Quote(id.MerchantAcquirerID.MerchantID)
	case id.AcquirerID != nil:
		s = "acq " + strconv.Quote(id.AcquirerID.AcquirerBIN) + " " + strconv.Quote(id.AcquirerID.AcquirerBusinessID)
	}
	return encap.HMAC(c.cfg.Suite, c.panKey, []byte("MR "+strconv.Itoa(int(t))+" "+s))
}

// HandleMeAqCInitReq answers MR1 with MR2: the registration form for an
// applicant the acquirer knows, with a fresh chall-CA remembered against
// the claimed identity; a referral (and no nonce) for one it does not.
func (c *CA) HandleMeAqCInitReq(ctx context.Context, req *msg.MeAqCInitReq) (*msg.MeAqCInitRes, error) {
	if c.cardholderCA() {
		return nil, msg.Errorf(msg.MessageNotSupported, "a cardholder CA does not register merchants or gateways")
	}
	if req.BrandID != c.cfg.BrandID {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "Me-AqCInitReq for brand %q; this CA serves %q", req.BrandID, c.cfg.BrandID)
	}
	if !c.serves(req.RequestType) {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "Me-AqCInitReq: request type %v not registered by this %s", req.RequestType, c.kind())
	}
	if (req.RequestType.Merchant() && req.IDData.MerchantAcquirerID == nil) || (req.RequestType.Gateway() && req.IDData.AcquirerID == nil) {
		return nil, msg.Errorf(msg.DecodingFailure, "Me-AqCInitReq: idData does not fit request type %v", req.RequestType)
	}
	res := &msg.MeAqCInitResTBS{RRPID: req.RRPID, LIDEE: req.LocalIDEE, ChallEE: req.ChallEE, RequestType: req.RequestType, CAEThumb: c.caeThumb}
	if _, err := io.ReadFull(c.cfg.Rand, res.ChallCA[:]); err != nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "chall-CA: %w", err)
	}
	form, policy, err := c.cfg.Acquirer.RegForm(ctx, &Applicant{RequestType: req.RequestType, ID: req.IDData, Language: req.Language})
	switch {
	case errors.Is(err, ErrNotInRecords):
		// The chall-CA sent with a referral is random and never stored, so
		// no CertReq can follow it.
		res.RegFormOrReferral.ReferralData = &msg.ReferralData{Reason: "the acquirer has no record of this merchant or gateway"}
	case err != nil:
		return nil, msg.Errorf(msg.UnspecifiedFailure, "acquirer policy: %w", err)
	default:
		res.RegFormOrReferral.RegFormData = &msg.RegFormData{RegTemplate: form, Policy: policy}
		ch := Challenge{Issued: c.cfg.Now(), PANMAC: c.identityMAC(req.RequestType, &req.IDData)}
		if form != nil {
			ch.RegFormID = form.RegFormID
		}
		if err := c.cfg.Store.PutChallenge(ctx, res.ChallCA, ch); err != nil {
			return nil, msg.Errorf(msg.UnspecifiedFailure, "remembering chall-CA: %w", err)
		}
	}
	signed, err := c.sign(msg.OIDMeAqCInitResTBS, res)
	if err != nil {
		return nil, err
	}
	return &msg.MeAqCInitRes{SignedData: signed}, nil
}

func (c *CA) kind() string {
	if c.cfg.Authority.Cert.CertType&pki.CertTypePCA != 0 {
		return "payment CA"
	}
	return "merchant CA"
}

// handleEECertReq is MR3 → MR4 at a merchant or payment CA. As for
// cardholders, failures of the protocol (envelope, signature, proof of
// possession, chall-CA and its binding to the vetted identity) are SET
// Errors, refusals of an authentic and fresh request are a CertRes whose
// CertStatus says why, and nothing is issued unless every check passed.
func (c *CA) handleEECertReq(ctx context.Context, req *msg.CertReq) (*msg.CertRes, error) {
	if req.Enc == nil {
		// No AcctDataField is ever asked for, so there is no account data
		// to ride in EncX.
		return nil, msg.Errorf(msg.DecodingFailure, "merchant or gateway CertReq must be Enc: this CA asks for no account data")
	}
	st := c.cfg.Suite
	t, _, signerCert, err := encap.OpenEnc(st, c.cfg.ExchangeKey.key, c.cfg.ExchangeCert, req.Enc,
		msg.OIDCertReqTBS, msg.OIDCertReqTBE, proposedKey)
	if err != nil {
		return nil, msg.Classify(err, envelopeCode, "CertReq")
	}
	data, err := msg.UnmarshalCertReqData(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CertReqData: %w", err)
	}
	if data.RequestType.Renewal() {
		return c.handleEERenewal(ctx, data, signerCert) // renew.go
	}
	if !c.serves(data.RequestType) {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "CertReq: request type %v not registered by this %s", data.RequestType, c.kind())
	}
	if data.IDData == nil {
		// W7: the request must name, under the requester's signature, the
		// identity the CA vetted.
		return nil, msg.Errorf(msg.ChallengeMismatch, "CertReq without idData")
	}
	if err := c.checkEEPoP(data, signerCert); err != nil {
		return nil, err
	}
	// Nothing in a merchant's CertRes is secret; an answer encrypted
	// anyway is fine, under a key the suite can use.
	if err := c.checkBackKey(data); err != nil {
		return nil, err
	}
	res := &msg.CertResData{RRPID: data.RRPID, LIDEE: data.LIDEE, ChallEE3: data.ChallEE3, LIDCA: data.LIDCA}
	appr, def, refused, err := c.vetEE(ctx, data, res)
	if refused != nil || err != nil {
		return refused, err
	}
	if def != nil {
		return c.deferEE(ctx, data, def, nil, res)
	}
	status, thumbs, certs, err := c.issueEE(ctx, data, appr)
	if err != nil {
		return nil, err
	}
	res.CertStatus, res.CertThumbs = status, thumbs
	return c.certRes(res, certs, data.CABackKeyData)
}

// vetEE takes the chall-CA of an authentic merchant or gateway request,
// first or renewal, checks it was issued for the identity the request
// names, and asks the acquirer: the form it wants, then its decision. A
// refusal is the CertRes to answer with; a deferral is returned with the
// approval it would give, for the caller to hold the request once its
// own checks have passed.
func (c *CA) vetEE(ctx context.Context, data *msg.CertReqData, res *msg.CertResData) (*Approval, *Deferral, *msg.CertRes, error) {
	ch, err := c.takeChallenge(ctx, data.ChallCA)
	if err != nil {
		return nil, nil, nil, err
	}
	if !hmac.Equal(ch.PANMAC, c.identityMAC(data.RequestType, data.IDData)) {
		return nil, nil, nil, msg.Errorf(msg.ChallengeMismatch, "CertReq: chall-CA was issued for another identity or request type")
	}
	app := &Applicant{RequestType: data.RequestType, ID: *data.IDData, Form: data.RegForm, RegFormID: ch.RegFormID}
	form, _, err := c.cfg.Acquirer.RegForm(ctx, app)
	if errors.Is(err, ErrNotInRecords) {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.InvalidBIN, EEMessage: "the acquirer has no record of this merchant or gateway"}
		refused, err := c.certRes(res, nil, data.CABackKeyData)
		return nil, nil, refused, err
	}
	if err != nil {
		return nil, nil, nil, msg.Errorf(msg.UnspecifiedFailure, "acquirer policy: %w", err)
	}
	if failed := checkForm(form, ch.RegFormID, data); failed != nil {
		res.CertStatus = msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "registration form not accepted", FailedItemSeq: failed}
		refused, err := c.certRes(res, nil, data.CABackKeyData)
		return nil, nil, refused, err
	}
	appr, err := c.cfg.Acquirer.Approve(ctx, app)
	var ref *Refusal
	if errors.As(err, &ref) {
		res.CertStatus = msg.CertStatus{CertStatusCode: ref.Code, EEMessage: truncate(ref.Message, 128), FailedItemSeq: ref.Failed}
		refused, err := c.certRes(res, nil, data.CABackKeyData)
		return nil, nil, refused, err
	}
	var def *Deferral
	if errors.As(err, &def) {
		return def.Approval, def, nil, nil
	}
	if err != nil {
		return nil, nil, nil, msg.Errorf(msg.UnspecifiedFailure, "acquirer policy: %w", err)
	}
	return appr, nil, nil, nil
}

// eeTemplates builds the two certificate templates of an approved merchant
// or gateway request.
func (c *CA) eeTemplates(data *msg.CertReqData, appr *Approval, now time.Time) (sigT, exT *pki.Template, err error) {
	pubS, err := pki.ParsePublicKey(data.PublicKeySorE.PublicKeyS)
	if err != nil {
		return nil, nil, msg.Errorf(msg.DecodingFailure, "CertReq publicKeyS: %w", err)
	}
	pubE, err := pki.ParsePublicKey(data.PublicKeySorE.PublicKeyE)
	if err != nil {
		return nil, nil, msg.Errorf(msg.DecodingFailure, "CertReq publicKeyE: %w", err)
	}
	switch {
	case data.RequestType.Merchant() && appr != nil && appr.Merchant != nil:
		return pki.MerchantSignatureTemplate(pubS, *appr.Merchant, now), pki.MerchantExchangeTemplate(pubE, *appr.Merchant, now), nil
	case data.RequestType.Gateway() && appr != nil && appr.GatewayName != "":
		return pki.GatewaySignatureTemplate(pubS, appr.GatewayName, now), pki.GatewayExchangeTemplate(pubE, appr.GatewayName, now), nil
	default:
		return nil, nil, msg.Errorf(msg.UnspecifiedFailure, "acquirer policy approved no identity for %v", data.RequestType)
	}
}

// issueEE issues an approved merchant's or gateway's two certificates, or
// says in the status why not (a key certified before). Errors are the CA's
// failures.
func (c *CA) issueEE(ctx context.Context, data *msg.CertReqData, appr *Approval) (msg.CertStatus, []msg.CertThumb, [][]byte, error) {
	st := c.cfg.Suite
	sigT, exT, err := c.eeTemplates(data, appr, c.cfg.Now())
	if err != nil {
		return msg.CertStatus{}, nil, nil, err
	}
	// The key registry is consulted last, just before issuing, so a
	// refused request burns no key. Both keys are recorded; a request
	// whose second key was certified before burns its first.
	if certified, err := c.recordKeys(ctx, data.PublicKeySorE.PublicKeyS, data.PublicKeySorE.PublicKeyE); err != nil {
		return msg.CertStatus{}, nil, nil, err
	} else if certified {
		return msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "a public key of this request is already certified"}, nil, nil, nil
	}
	sig, err := c.issue(ctx, sigT)
	if err != nil {
		return msg.CertStatus{}, nil, nil, msg.Errorf(msg.UnspecifiedFailure, "issuing the signature certificate: %w", err)
	}
	ex, err := c.issue(ctx, exT)
	if err != nil {
		return msg.CertStatus{}, nil, nil, msg.Errorf(msg.UnspecifiedFailure, "issuing the key-exchange certificate: %w", err)
	}
	c.cfg.Log.Info("ca: "+c.kind()+" certificates issued", "signature", sig.SerialNumber, "exchange", ex.SerialNumber, "subject", sig.Subject.CommonName)
	thumbs := []msg.CertThumb{msg.ThumbOf(st.Hash(), sig.Raw), msg.ThumbOf(st.Hash(), ex.Raw)}
	return msg.CertStatus{CertStatusCode: msg.RequestComplete}, thumbs, [][]byte{sig.Raw, ex.Raw}, nil
}

// checkEEPoP is deviation 6's proof of possession for both new keys: the
// signature key made the request's signature (the signer certificate,
// verified in OpenEnc, carries publicKeyS), and the key-exchange key must
// sign PoPInput in a PoPSignature — an RSA signature in set1, an ECDSA
// signature with the ECDH scalar in modern (docs/spec-gaps.md).
func (c *CA) checkEEPoP(data *msg.CertReqData, signerCert []byte) error {
	cert, err := pki.ParseCertificate(signerCert)
	if err != nil {
		return msg.Errorf(msg.DecodingFailure, "CertReq signer certificate: %w", err)
	}
	k := data.PublicKeySorE
	if !hmac.Equal(cert.RawSubjectPublicKeyInfo, k.PublicKeyS) {
		return msg.Errorf(msg.SignatureFailure, "CertReq is not signed with the signature key it asks to certify")
	}
	if bytes.Equal(k.PublicKeyS, k.PublicKeyE) {
		// SET keeps the two apart; one key in both roles would also let
		// the signature PoP stand in for the exchange key's.
		return msg.Errorf(msg.SignatureFailure, "CertReq: signature and key-exchange keys are the same")
	}
	proved, err := checkPoPSignatures(data)
	if err != nil {
		return err
	}
	if !proved[msg.PoPKeyE] {
		return msg.Errorf(msg.SignatureFailure, "CertReq: no proof of possession of the key-exchange key")
	}
	return nil
}

// checkPoPSignatures verifies every PoPSignature of data with the key of
// PublicKeySorE it names, and reports which keys are proved.
func checkPoPSignatures(data *msg.CertReqData) (proved [2]bool, err error) {
	k := data.PublicKeySorE
	input, err := data.PoPInput()
	if err != nil {
		return proved, msg.Errorf(msg.DecodingFailure, "PoPInput: %w", err)
	}
	for _, pop := range data.PoPSignatures {
		spki := k.PublicKeyS
		if pop.PoPKey == msg.PoPKeyE {
			spki = k.PublicKeyE
		}
		pub, err := pki.ParsePublicKey(spki)
		if err != nil {
			return proved, msg.Errorf(msg.DecodingFailure, "CertReq public key: %w", err)
		}
		if err := pkcs7.VerifySignature(pub, pop.SignatureAlgorithm, input, pop.Signature); err != nil {
			return proved, msg.Errorf(msg.SignatureFailure, "PoPSignature for key %d: %w", pop.PoPKey, err)
		}
		proved[pop.PoPKey] = true
	}
	return proved, nil
}
