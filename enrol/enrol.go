// Package enrol is the end entity's side of SET's merchant and
// payment-gateway registration (the MR flow): Me-AqCInitReq →
// Me-AqCInitRes, CertReq → CertRes, and CertInqReq polling while the CA
// pends the request. The two roles differ only in request type, identity,
// CA and certificate types and naming, which a Role carries; the merchant
// and gateway packages wrap it in their own types.
package enrol

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

// Role is who registers, at which kind of CA: what merchant and gateway
// registration do not share.
type Role struct {
	Who         string          // names the role in errors and the carrier certificate: "merchant"
	RequestType msg.RequestType // MerInitialBoth, PgwyInitialBoth
	CAType      pki.CertType    // the CA that must sign: MCA, PCA
	EEType      pki.CertType    // the certificates expected: Mer, Pgwy
	SWIdent     string          // the default software identification
	// Referred is wrapped in the error returned when the CA refers the
	// registration elsewhere, so callers can test for it with errors.Is.
	Referred error
}

// Config is what a registration needs, the identity already made IDData.
type Config struct {
	Suite   suite.Suite
	BrandID string
	// IDData identifies the applicant as its acquirer knows it: the CA
	// checks it against the acquirer's records.
	IDData msg.IDData
	Roots  []*pki.Certificate
	// Answers fills the CA's registration form, by field name. Invisible
	// fields are returned as the CA sent them.
	Answers map[string]string
	// SigKey and ExKey are the keys to have certified; nil makes fresh
	// ones.
	SigKey crypto.Signer
	ExKey  suite.ExchangeKey
	// Revocation, if set, is checked when the CA's signature is: a
	// Me-AqCInitRes or CertRes signed by a revoked CA (or under a revoked
	// brand) is refused with revokedCertificate.
	Revocation pki.RevocationSource

	Language string           // default "en"
	SWIdent  string           // default Role.SWIdent
	Rand     io.Reader        // default crypto/rand
	Now      func() time.Time // default time.Now
}

// Credentials is what a registration yields: the two keys, their
// certificates and the CA chain sent with signatures.
type Credentials struct {
	SigKey  crypto.Signer
	SigCert []byte
	ExKey   suite.ExchangeKey
	ExCert  []byte
	Chain   [][]byte
}

// RefusedError is a CertRes that issued nothing: the CA's CertStatus.
type RefusedError struct {
	Who    string // the role refused; "" reads as "enrol"
	Status msg.CertStatus
}

func (e *RefusedError) Error() string {
	return statusText(e.Who, "refused", e.Status)
}

func statusText(who, what string, st msg.CertStatus) string {
	if who == "" {
		who = "enrol"
	}
	s := who + ": CA " + what + " the certificate request: " + st.CertStatusCode.String()
	if st.EEMessage != "" {
		s += " (" + st.EEMessage + ")"
	}
	return s
}

// Registration is one registration in progress. It does no I/O: each step
// takes the CA's answer and returns the next request. R is the role's
// own form of the credentials, made by the result function given to New.
type Registration[R any] struct {
	role   Role
	cfg    Config
	result func(*Credentials) R

	lidEE   []byte
	rrpid   msg.RRPID
	challEE msg.Challenge

	caSigner     []byte
	exchangeCert []byte
	challEE3     msg.Challenge

	sigKey crypto.Signer
	exKey  suite.ExchangeKey

	renew *Current // the credential renewed; nil in a first registration (renew.go)
	caURL string   // recorded in the state for resuming (resume.go)
}

// New starts a registration and returns the Me-AqCInitReq. result turns
// the issued credentials into the role's type.
func New[R any](role Role, cfg Config, result func(*Credentials) R) (*Registration[R], *msg.MeAqCInitReq, error) {
	if cfg.Suite == nil || len(cfg.Roots) == 0 {
		return nil, nil, errors.New(role.Who + ": registration needs a suite and roots")
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	if cfg.SWIdent == "" {
		cfg.SWIdent = role.SWIdent
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Registration[R]{role: role, cfg: cfg, result: result, lidEE: make([]byte, 20)}
	if err := fillRandom(role.Who, cfg.Rand, r.lidEE, r.rrpid[:], r.challEE[:]); err != nil {
		return nil, nil, err
	}
	return r, &msg.MeAqCInitReq{
		RRPID: r.rrpid, LocalIDEE: r.lidEE, ChallEE: r.challEE, RequestType: role.RequestType,
		IDData: cfg.IDData, BrandID: cfg.BrandID, Language: cfg.Language,
	}, nil
}

func fillRandom(who string, r io.Reader, bufs ...[]byte) error {
	for _, b := range bufs {
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf(who+": randomness: %w", err)
		}
	}
	return nil
}

// openCA opens S{CA, t}, which must be signed by a CA of the right type,
// the same one throughout.
func (r *Registration[R]) openCA(signed []byte, ct asn1.ObjectIdentifier, what string) ([]byte, *pkcs7.SignedData, error) {
	v := pki.RevocationVerifier(r.cfg.Revocation, pki.VerifyOptions{Roots: r.cfg.Roots, Now: r.cfg.Now(), CertType: r.role.CAType, KeyUsage: x509.KeyUsageDigitalSignature})
	t, signer, err := encap.OpenS(r.cfg.Suite, signed, ct, v)
	if err != nil {
		return nil, nil, msg.Classify(err, msg.SignatureFailure, what)
	}
	if r.caSigner != nil && !bytes.Equal(signer, r.caSigner) {
		return nil, nil, msg.Errorf(msg.SignatureFailure, "%s is signed by another CA than Me-AqCInitRes", what)
	}
	r.caSigner = signer
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, nil, msg.Errorf(msg.DecodingFailure, "%s: %w", what, err)
	}
	return t, sd, nil
}

// CertReqData checks MR2 and builds the content of the CertReq: the
// vetted identity, chall-CA and form echoed under the request signature
// (W7), both new public keys and a proof of possession of the key-exchange
// key. Seal turns it into the CertReq; HandleMeAqCInitRes does both.
func (r *Registration[R]) CertReqData(res *msg.MeAqCInitRes) (*msg.CertReqData, error) {
	st, who := r.cfg.Suite, r.role.Who
	t, sd, err := r.openCA(res.SignedData, msg.OIDMeAqCInitResTBS, "Me-AqCInitRes")
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalMeAqCInitResTBS(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "Me-AqCInitResTBS: %w", err)
	}
	if tbs.RRPID != r.rrpid || tbs.ChallEE != r.challEE || !bytes.Equal(tbs.LIDEE, r.lidEE) || tbs.RequestType != r.role.RequestType {
		return nil, msg.Errorf(msg.ChallengeMismatch, "Me-AqCInitRes does not answer this Me-AqCInitReq")
	}
	if ref := tbs.RegFormOrReferral.ReferralData; ref != nil {
		referred := r.role.Referred
		if referred == nil {
			referred = errors.New(who + ": CA referred the registration elsewhere")
		}
		return nil, fmt.Errorf("%w: %s", referred, ref.Reason)
	}
	if err := r.findExchangeCert(sd, tbs.CAEThumb); err != nil {
		return nil, err
	}
	id := r.cfg.IDData
	data := &msg.CertReqData{
		LIDEE: r.lidEE, LIDCA: tbs.LIDCA, ChallCA: tbs.ChallCA, RequestType: r.role.RequestType,
		RequestDate: r.cfg.Now().UTC().Truncate(time.Second), IDData: &id,
	}
	if form := tbs.RegFormOrReferral.RegFormData.RegTemplate; form != nil {
		data.RegFormID = form.RegFormID
		if data.RegForm, err = r.answer(form); err != nil {
			return nil, err
		}
	}
	if err := fillRandom(who, r.cfg.Rand, data.RRPID[:], data.ChallEE3[:]); err != nil {
		return nil, err
	}
	r.rrpid, r.challEE3 = data.RRPID, data.ChallEE3
	if r.sigKey = r.cfg.SigKey; r.sigKey == nil {
		if r.sigKey, err = st.NewSigningKey(r.cfg.Rand); err != nil {
			return nil, fmt.Errorf(who+": new signing key: %w", err)
		}
	}
	if r.exKey = r.cfg.ExKey; r.exKey == nil {
		if r.exKey, err = st.NewExchangeKey(r.cfg.Rand); err != nil {
			return nil, fmt.Errorf(who+": new key-exchange key: %w", err)
		}
	}
	if data.PublicKeySorE.PublicKeyS, err = pki.MarshalPublicKey(r.sigKey.Public()); err != nil {
		return nil, fmt.Errorf(who+": signature public key: %w", err)
	}
	if data.PublicKeySorE.PublicKeyE, err = pki.MarshalPublicKey(r.exKey.Public()); err != nil {
		return nil, fmt.Errorf(who+": key-exchange public key: %w", err)
	}
	exSigner, err := exchangeSigner(who, r.exKey)
	if err != nil {
		return nil, err
	}
	if err := r.role.AddPoP(st, r.cfg.Rand, data, msg.PoPKeyE, exSigner); err != nil {
		return nil, err
	}
	if r.renew != nil {
		if err := r.renewalData(data); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// exchangeSigner is the key-exchange key in its signing form, used only
// for the proof of possession: RSA as it is, a P-256 ECDH key as ECDSA
// with the same scalar (docs/spec-gaps.md, deviation 6).
func exchangeSigner(who string, k suite.ExchangeKey) (crypto.Signer, error) {
	der, err := suite.MarshalExchangeKey(k)
	if err != nil {
		return nil, fmt.Errorf(who+": key-exchange key: %w", err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf(who+": key-exchange key: %w", err)
	}
	s, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf(who+": key-exchange key %T cannot prove possession by signing", p)
	}
	return s, nil
}

// AddPoP signs data's PoPInput with key and adds it as the PoPSignature
// for which, replacing any there. Exported so tests can prove possession
// of keys the registration never would.
func (role Role) AddPoP(st suite.Suite, rand io.Reader, data *msg.CertReqData, which msg.PoPKey, key crypto.Signer) error {
	input, err := data.PoPInput()
	if err != nil {
		return fmt.Errorf(role.Who+": PoPInput: %w", err)
	}
	alg, err := pkcs7.SignatureAlgorithmFor(key.Public(), st.Hash())
	if err != nil {
		return fmt.Errorf(role.Who+": PoP algorithm: %w", err)
	}
	sig, err := pkcs7.SignMessage(rand, key, alg, input)
	if err != nil {
		return fmt.Errorf(role.Who+": PoP signature: %w", err)
	}
	pops := data.PoPSignatures[:0:0]
	for _, p := range data.PoPSignatures {
		if p.PoPKey != which {
			pops = append(pops, p)
		}
	}
	data.PoPSignatures = append(pops, msg.PoPSignature{PoPKey: which, SignatureAlgorithm: alg, Signature: sig})
	return nil
}

// Seal makes the CertReq (MR3) from data: Enc{EE, CA, CertReqData}
// signed with the new signature key (a renewal's with the current one).
func (r *Registration[R]) Seal(data *msg.CertReqData) (*msg.CertReq, error) {
	if r.renew != nil {
		return r.sealRenewal(data)
	}
	return r.role.SealCertReq(r.cfg.Suite, r.cfg.Rand, r.sigKey, r.exchangeCert, data, r.cfg.Now())
}

// HandleMeAqCInitRes checks MR2 and returns the CertReq (MR3).
func (r *Registration[R]) HandleMeAqCInitRes(res *msg.MeAqCInitRes) (*msg.CertReq, error) {
	data, err := r.CertReqData(res)
	if err != nil {
		return nil, err
	}
	return r.Seal(data)
}

// carrier is a self-signed certificate for key, which has no certificate
// yet: the CA takes from it only the key.
func (role Role) carrier(st suite.Suite, rand io.Reader, key crypto.Signer, now time.Time) ([]byte, error) {
	c, err := pki.CreateCertificate(rand, &pki.Template{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "setpay " + role.Who + " key (proposed)"},
		NotBefore:    now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		PublicKey: key.Public(), KeyUsage: x509.KeyUsageDigitalSignature, CertType: role.EEType,
	}, nil, key, st.Hash())
	if err != nil {
		return nil, fmt.Errorf(role.Who+": carrier certificate: %w", err)
	}
	return c, nil
}

// SealCertReq builds CertReq = Enc{EE, CA, CertReqData} signed with key,
// the signature key being certified: it has no certificate yet, so a
// self-signed one carries it, and the CA takes from it only the key (which
// must be data's publicKeyS). Exported so tests can build requests the
// registration never would.
func (role Role) SealCertReq(st suite.Suite, rand io.Reader, key crypto.Signer, caExchangeCert []byte, data *msg.CertReqData, now time.Time) (*msg.CertReq, error) {
	carrier, err := role.carrier(st, rand, key, now)
	if err != nil {
		return nil, err
	}
	tb, err := data.Marshal()
	if err != nil {
		return nil, fmt.Errorf(role.Who+": CertReqData: %w", err)
	}
	env, err := encap.Enc(st, rand, encap.Signer{Key: key, Cert: carrier}, caExchangeCert, msg.OIDCertReqTBS, msg.OIDCertReqTBE, tb)
	if err != nil {
		return nil, fmt.Errorf(role.Who+": CertReq envelope: %w", err)
	}
	return &msg.CertReq{Enc: env}, nil
}

// findExchangeCert picks the certificate thumb names out of the CA's
// SignedData and checks it is a key-exchange certificate of the right CA
// type chaining to the roots.
func (r *Registration[R]) findExchangeCert(sd *pkcs7.SignedData, thumb msg.CertThumb) error {
	inter := intermediates(sd.Certificates)
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
		if _, err := cert.Verify(pki.VerifyOptions{Roots: r.cfg.Roots, Intermediates: inter, Now: r.cfg.Now(), CertType: r.role.CAType}); err != nil {
			return msg.Errorf(pki.ErrorCode(err), "CA key-exchange certificate: %w", err)
		}
		r.exchangeCert = c
		return nil
	}
	return msg.Errorf(msg.MissingCertificate, "CA key-exchange certificate named by caeThumb is not in Me-AqCInitRes")
}

func intermediates(certs [][]byte) []*pki.Certificate {
	var out []*pki.Certificate
	for _, c := range certs {
		if pc, err := pki.ParseCertificate(c); err == nil {
			out = append(out, pc)
		}
	}
	return out
}

// answer fills form from the configured answers.
func (r *Registration[R]) answer(form *msg.RegTemplate) ([]msg.RegFormItem, error) {
	var items []msg.RegFormItem
	for _, f := range form.RegFieldSeq {
		v := r.cfg.Answers[f.FieldName]
		if f.FieldInvisible {
			v = f.FieldValue
		}
		if f.FieldRequired && v == "" {
			return nil, fmt.Errorf(r.role.Who+": registration form field %q is required", f.FieldName)
		}
		if len(v) > f.MaxLen() {
			return nil, fmt.Errorf(r.role.Who+": answer to %q is longer than %d", f.FieldName, f.MaxLen())
		}
		items = append(items, msg.RegFormItem{FieldName: f.FieldName, FieldValue: v})
	}
	return items, nil
}

// HandleCertRes checks MR4 and returns the credentials: the CA's answer to
// this request, status requestComplete, and two certificates chaining to
// the roots, one for each new key with the usage SET gives it. Any other
// status, pending ones included, is a *RefusedError.
func (r *Registration[R]) HandleCertRes(res *msg.CertRes) (R, error) {
	var zero R
	c, err := r.handleCertRes(res)
	if err != nil {
		return zero, err
	}
	return r.result(c), nil
}

func (r *Registration[R]) handleCertRes(res *msg.CertRes) (*Credentials, error) {
	who := r.role.Who
	if res.Signed == nil {
		// No back key was sent: nothing in this CertRes is secret.
		return nil, msg.Errorf(msg.DecodingFailure, "CertRes encrypted though no CABackKey was sent")
	}
	t, sd, err := r.openCA(res.Signed, msg.OIDCertResData, "CertRes")
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
		return nil, &RefusedError{Who: who, Status: data.CertStatus}
	}
	if len(data.CertThumbs) != 2 {
		return nil, msg.Errorf(msg.DecodingFailure, "CertRes: complete without exactly two certificates")
	}
	issued := map[int]bool{}
	var found [2][]byte
	for i, c := range sd.Certificates {
		for j := range data.CertThumbs {
			if data.CertThumbs[j].Matches(c) {
				issued[i], found[j] = true, c
			}
		}
	}
	if found[0] == nil || found[1] == nil {
		return nil, msg.Errorf(msg.MissingCertificate, "CertRes does not carry the certificates it names")
	}
	var chain [][]byte
	for i, c := range sd.Certificates {
		if !issued[i] && !r.isRoot(c) {
			chain = append(chain, c)
		}
	}
	inter := intermediates(chain)
	out := &Credentials{Chain: chain, SigKey: r.sigKey, ExKey: r.exKey}
	for _, c := range found {
		cert, err := pki.ParseCertificate(c)
		if err != nil {
			return nil, msg.Errorf(msg.InvalidCertificate, who+" certificate: %w", err)
		}
		if _, err := cert.Verify(pki.VerifyOptions{Roots: r.cfg.Roots, Intermediates: inter, Now: r.cfg.Now(), CertType: r.role.EEType}); err != nil {
			return nil, msg.Errorf(pki.ErrorCode(err), who+" certificate: %w", err)
		}
		sigSPKI, _ := pki.MarshalPublicKey(r.sigKey.Public())
		exSPKI, _ := pki.MarshalPublicKey(r.exKey.Public())
		switch {
		case bytes.Equal(cert.RawSubjectPublicKeyInfo, sigSPKI) && cert.KeyUsage&x509.KeyUsageDigitalSignature != 0 && out.SigCert == nil:
			out.SigCert = c
		case bytes.Equal(cert.RawSubjectPublicKeyInfo, exSPKI) && cert.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) != 0 &&
			cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 && out.ExCert == nil:
			out.ExCert = c
		default:
			return nil, msg.Errorf(msg.InvalidCertificate, "CertRes certificate is not for a key requested, with its usage")
		}
	}
	return out, nil
}

func (r *Registration[R]) isRoot(c []byte) bool {
	for _, root := range r.cfg.Roots {
		if bytes.Equal(root.Raw, c) {
			return true
		}
	}
	return false
}

// Register runs a whole registration against a CA reached through rt:
// Me-AqCInitReq → Me-AqCInitRes, CertReq → CertRes. rt is the only I/O.
// A pended request is a *PendingError carrying the Registration to Wait on.
func Register[R any](ctx context.Context, rt wire.RoundTripper, role Role, cfg Config, result func(*Credentials) R) (R, error) {
	var zero R
	reg, init, err := New(role, cfg, result)
	if err != nil {
		return zero, err
	}
	return run(ctx, rt, reg, init)
}

// run is Register's flow from the Me-AqCInitReq on, shared with Renew.
func run[R any](ctx context.Context, rt wire.RoundTripper, reg *Registration[R], init *msg.MeAqCInitReq) (R, error) {
	var zero R
	ep := reg.endpoint()
	m, err := ep.Call(ctx, rt, "CA", nil, &init.RRPID, init)
	if err != nil {
		return zero, fmt.Errorf("Me-AqCInitReq: %w", err)
	}
	initRes, ok := m.(*msg.MeAqCInitRes)
	if !ok {
		return zero, msg.Errorf(msg.WrapperMsgMismatch, "CA answered Me-AqCInitReq with %s", m.Name())
	}
	certReq, err := reg.HandleMeAqCInitRes(initRes)
	if err != nil {
		return zero, fmt.Errorf("Me-AqCInitRes: %w", err)
	}
	if m, err = ep.Call(ctx, rt, "CA", nil, &reg.rrpid, certReq); err != nil {
		return zero, fmt.Errorf("CertReq: %w", err)
	}
	certRes, ok := m.(*msg.CertRes)
	if !ok {
		return zero, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CertReq with %s", m.Name())
	}
	out, err := reg.HandleCertRes(certRes)
	if err != nil {
		// A pended request is no failure: the *PendingError carries the
		// Registration to Wait on.
		return zero, fmt.Errorf("CertRes: %w", reg.pendingErr(err))
	}
	return out, nil
}

// endpoint is the Endpoint the flow calls the CA through. A signed Error
// is reported as the CA's (wire.ErrorVerified) only when its signer is a
// CA of the role's type under the roots, as the CA's messages must be; an
// unsigned one is reported as such.
func (r *Registration[R]) endpoint() *wire.Endpoint {
	verify := pki.CertVerifier(pki.VerifyOptions{Roots: r.cfg.Roots, Now: r.cfg.Now(), CertType: r.role.CAType})
	return &wire.Endpoint{Suite: r.cfg.Suite, SWIdent: r.cfg.SWIdent, Rand: r.cfg.Rand, Now: r.cfg.Now, ErrorVerifier: verify, ErrorRoots: r.cfg.Roots}
}
