package gateway

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

// Payment-gateway registration (SET's MR flow, as Book 2 has gateways
// register): Me-AqCInitReq → Me-AqCInitRes, CertReq → CertRes, against the
// brand's payment CA. The gateway gets a signature and a key-exchange
// certificate in one request. The code mirrors merchant/register.go; only
// the role (request type, CA and certificate types, IDData) differs.

// The role of this registration: who registers, at which kind of CA.
const (
	regRequestType = msg.PgwyInitialBoth
	regCAType      = pki.CertTypePCA
	regEEType      = pki.CertTypePgwy
	regWho         = "gateway"
)

// RegisterConfig is what gateway registration needs.
type RegisterConfig struct {
	Suite   suite.Suite
	BrandID string
	// AcquirerBIN and BusinessID identify the acquirer the gateway acts
	// for (AcquirerID; BusinessID "" is absent): the CA checks them against
	// the acquirer's records.
	AcquirerBIN string
	BusinessID  string
	Roots       []*pki.Certificate
	// Answers fills the CA's registration form, by field name. Invisible
	// fields are returned as the CA sent them.
	Answers map[string]string
	// SigKey and ExKey are the keys to have certified; nil makes fresh
	// ones.
	SigKey crypto.Signer
	ExKey  suite.ExchangeKey

	Language string           // default "en"
	SWIdent  string           // default "setpay-gateway/0.1"
	Rand     io.Reader        // default crypto/rand
	Now      func() time.Time // default time.Now
}

func (cfg *RegisterConfig) idData() msg.IDData {
	return msg.IDData{AcquirerID: &msg.AcquirerID{AcquirerBIN: cfg.AcquirerBIN, AcquirerBusinessID: cfg.BusinessID}}
}

func (cfg *RegisterConfig) swIdent() string {
	if cfg.SWIdent == "" {
		return "setpay-gateway/0.1"
	}
	return cfg.SWIdent
}

// Registered is what registration yields, ready for Config.
type Registered struct {
	SigKey  SigningKey
	SigCert []byte
	ExKey   ExchangeKey
	ExCert  []byte
	Chain   [][]byte // the CA and brand certificates, sent with signatures

	// The raw keys, for storing them.
	RawSigKey crypto.Signer
	RawExKey  suite.ExchangeKey
}

// RefusedError is a CertRes that issued nothing: the CA's CertStatus.
type RefusedError struct{ Status msg.CertStatus }

func (e *RefusedError) Error() string {
	s := regWho + ": CA refused the certificate request: " + e.Status.CertStatusCode.String()
	if e.Status.EEMessage != "" {
		s += " (" + e.Status.EEMessage + ")"
	}
	return s
}

// ErrReferred is returned when the CA answers Me-AqCInitReq with a
// referral: it does not register this applicant.
var ErrReferred = errors.New(regWho + ": CA referred the registration elsewhere")

// Registration is one registration in progress. It does no I/O: each step
// takes the CA's answer and returns the next request.
type Registration struct {
	cfg RegisterConfig

	lidEE   []byte
	rrpid   msg.RRPID
	challEE msg.Challenge

	caSigner     []byte
	exchangeCert []byte
	challEE3     msg.Challenge

	sigKey crypto.Signer
	exKey  suite.ExchangeKey
}

// NewRegistration starts a registration and returns the Me-AqCInitReq.
func NewRegistration(cfg RegisterConfig) (*Registration, *msg.MeAqCInitReq, error) {
	if cfg.Suite == nil || len(cfg.Roots) == 0 {
		return nil, nil, errors.New(regWho + ": registration needs a suite and roots")
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	cfg.SWIdent = cfg.swIdent()
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Registration{cfg: cfg, lidEE: make([]byte, 20)}
	if err := fillRandom(cfg.Rand, r.lidEE, r.rrpid[:], r.challEE[:]); err != nil {
		return nil, nil, err
	}
	return r, &msg.MeAqCInitReq{
		RRPID: r.rrpid, LocalIDEE: r.lidEE, ChallEE: r.challEE, RequestType: regRequestType,
		IDData: cfg.idData(), BrandID: cfg.BrandID, Language: cfg.Language,
	}, nil
}

func fillRandom(r io.Reader, bufs ...[]byte) error {
	for _, b := range bufs {
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf(regWho+": randomness: %w", err)
		}
	}
	return nil
}

// openCA opens S{CA, t}, which must be signed by a CA of the right type,
// the same one throughout.
func (r *Registration) openCA(signed []byte, ct asn1.ObjectIdentifier, what string) ([]byte, *pkcs7.SignedData, error) {
	v := pki.CertVerifier(pki.VerifyOptions{Roots: r.cfg.Roots, Now: r.cfg.Now(), CertType: regCAType, KeyUsage: x509.KeyUsageDigitalSignature})
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
func (r *Registration) CertReqData(res *msg.MeAqCInitRes) (*msg.CertReqData, error) {
	st := r.cfg.Suite
	t, sd, err := r.openCA(res.SignedData, msg.OIDMeAqCInitResTBS, "Me-AqCInitRes")
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalMeAqCInitResTBS(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "Me-AqCInitResTBS: %w", err)
	}
	if tbs.RRPID != r.rrpid || tbs.ChallEE != r.challEE || !bytes.Equal(tbs.LIDEE, r.lidEE) || tbs.RequestType != regRequestType {
		return nil, msg.Errorf(msg.ChallengeMismatch, "Me-AqCInitRes does not answer this Me-AqCInitReq")
	}
	if ref := tbs.RegFormOrReferral.ReferralData; ref != nil {
		return nil, fmt.Errorf("%w: %s", ErrReferred, ref.Reason)
	}
	if err := r.findExchangeCert(sd, tbs.CAEThumb); err != nil {
		return nil, err
	}
	id := r.cfg.idData()
	data := &msg.CertReqData{
		LIDEE: r.lidEE, LIDCA: tbs.LIDCA, ChallCA: tbs.ChallCA, RequestType: regRequestType,
		RequestDate: r.cfg.Now().UTC().Truncate(time.Second), IDData: &id,
	}
	if form := tbs.RegFormOrReferral.RegFormData.RegTemplate; form != nil {
		data.RegFormID = form.RegFormID
		if data.RegForm, err = r.answer(form); err != nil {
			return nil, err
		}
	}
	if err := fillRandom(r.cfg.Rand, data.RRPID[:], data.ChallEE3[:]); err != nil {
		return nil, err
	}
	r.rrpid, r.challEE3 = data.RRPID, data.ChallEE3
	if r.sigKey = r.cfg.SigKey; r.sigKey == nil {
		if r.sigKey, err = st.NewSigningKey(r.cfg.Rand); err != nil {
			return nil, fmt.Errorf(regWho+": new signing key: %w", err)
		}
	}
	if r.exKey = r.cfg.ExKey; r.exKey == nil {
		if r.exKey, err = st.NewExchangeKey(r.cfg.Rand); err != nil {
			return nil, fmt.Errorf(regWho+": new key-exchange key: %w", err)
		}
	}
	if data.PublicKeySorE.PublicKeyS, err = pki.MarshalPublicKey(r.sigKey.Public()); err != nil {
		return nil, fmt.Errorf(regWho+": signature public key: %w", err)
	}
	if data.PublicKeySorE.PublicKeyE, err = pki.MarshalPublicKey(r.exKey.Public()); err != nil {
		return nil, fmt.Errorf(regWho+": key-exchange public key: %w", err)
	}
	exSigner, err := exchangeSigner(r.exKey)
	if err != nil {
		return nil, err
	}
	if err := AddPoP(st, r.cfg.Rand, data, msg.PoPKeyE, exSigner); err != nil {
		return nil, err
	}
	return data, nil
}

// exchangeSigner is the key-exchange key in its signing form, used only
// for the proof of possession: RSA as it is, a P-256 ECDH key as ECDSA
// with the same scalar (docs/spec-gaps.md, deviation 6).
func exchangeSigner(k suite.ExchangeKey) (crypto.Signer, error) {
	der, err := suite.MarshalExchangeKey(k)
	if err != nil {
		return nil, fmt.Errorf(regWho+": key-exchange key: %w", err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf(regWho+": key-exchange key: %w", err)
	}
	s, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf(regWho+": key-exchange key %T cannot prove possession by signing", p)
	}
	return s, nil
}

// AddPoP signs data's PoPInput with key and adds it as the PoPSignature
// for which, replacing any there. Exported so tests can prove possession
// of keys the registration never would.
func AddPoP(st suite.Suite, rand io.Reader, data *msg.CertReqData, which msg.PoPKey, key crypto.Signer) error {
	input, err := data.PoPInput()
	if err != nil {
		return fmt.Errorf(regWho+": PoPInput: %w", err)
	}
	alg, err := pkcs7.SignatureAlgorithmFor(key.Public(), st.Hash())
	if err != nil {
		return fmt.Errorf(regWho+": PoP algorithm: %w", err)
	}
	sig, err := pkcs7.SignMessage(rand, key, alg, input)
	if err != nil {
		return fmt.Errorf(regWho+": PoP signature: %w", err)
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
// signed with the new signature key.
func (r *Registration) Seal(data *msg.CertReqData) (*msg.CertReq, error) {
	return SealCertReq(r.cfg.Suite, r.cfg.Rand, r.sigKey, r.exchangeCert, data, r.cfg.Now())
}

// HandleMeAqCInitRes checks MR2 and returns the CertReq (MR3).
func (r *Registration) HandleMeAqCInitRes(res *msg.MeAqCInitRes) (*msg.CertReq, error) {
	data, err := r.CertReqData(res)
	if err != nil {
		return nil, err
	}
	return r.Seal(data)
}

// SealCertReq builds CertReq = Enc{EE, CA, CertReqData} signed with key,
// the signature key being certified: it has no certificate yet, so a
// self-signed one carries it, and the CA takes from it only the key (which
// must be data's publicKeyS). Exported so tests can build requests the
// registration never would.
func SealCertReq(st suite.Suite, rand io.Reader, key crypto.Signer, caExchangeCert []byte, data *msg.CertReqData, now time.Time) (*msg.CertReq, error) {
	carrier, err := pki.CreateCertificate(rand, &pki.Template{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "setpay " + regWho + " key (proposed)"},
		NotBefore:    now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		PublicKey: key.Public(), KeyUsage: x509.KeyUsageDigitalSignature, CertType: regEEType,
	}, nil, key, st.Hash())
	if err != nil {
		return nil, fmt.Errorf(regWho+": carrier certificate: %w", err)
	}
	tb, err := data.Marshal()
	if err != nil {
		return nil, fmt.Errorf(regWho+": CertReqData: %w", err)
	}
	env, err := encap.Enc(st, rand, encap.Signer{Key: key, Cert: carrier}, caExchangeCert, msg.OIDCertReqTBS, msg.OIDCertReqTBE, tb)
	if err != nil {
		return nil, fmt.Errorf(regWho+": CertReq envelope: %w", err)
	}
	return &msg.CertReq{Enc: env}, nil
}

// findExchangeCert picks the certificate thumb names out of the CA's
// SignedData and checks it is a key-exchange certificate of the right CA
// type chaining to the roots.
func (r *Registration) findExchangeCert(sd *pkcs7.SignedData, thumb msg.CertThumb) error {
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
		if _, err := cert.Verify(pki.VerifyOptions{Roots: r.cfg.Roots, Intermediates: inter, Now: r.cfg.Now(), CertType: regCAType}); err != nil {
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
func (r *Registration) answer(form *msg.RegTemplate) ([]msg.RegFormItem, error) {
	var items []msg.RegFormItem
	for _, f := range form.RegFieldSeq {
		v := r.cfg.Answers[f.FieldName]
		if f.FieldInvisible {
			v = f.FieldValue
		}
		if f.FieldRequired && v == "" {
			return nil, fmt.Errorf(regWho+": registration form field %q is required", f.FieldName)
		}
		if len(v) > f.MaxLen() {
			return nil, fmt.Errorf(regWho+": answer to %q is longer than %d", f.FieldName, f.MaxLen())
		}
		items = append(items, msg.RegFormItem{FieldName: f.FieldName, FieldValue: v})
	}
	return items, nil
}

// HandleCertRes checks MR4 and returns the credentials: the CA's answer to
// this request, status requestComplete, and two certificates chaining to
// the roots, one for each new key with the usage SET gives it.
func (r *Registration) HandleCertRes(res *msg.CertRes) (*Registered, error) {
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
		return nil, &RefusedError{Status: data.CertStatus}
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
	out := &Registered{Chain: chain, RawSigKey: r.sigKey, RawExKey: r.exKey}
	for _, c := range found {
		cert, err := pki.ParseCertificate(c)
		if err != nil {
			return nil, msg.Errorf(msg.InvalidCertificate, regWho+" certificate: %w", err)
		}
		if _, err := cert.Verify(pki.VerifyOptions{Roots: r.cfg.Roots, Intermediates: inter, Now: r.cfg.Now(), CertType: regEEType}); err != nil {
			return nil, msg.Errorf(pki.ErrorCode(err), regWho+" certificate: %w", err)
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
	out.SigKey, out.ExKey = NewSigningKey(r.sigKey), NewExchangeKey(r.exKey)
	return out, nil
}

func (r *Registration) isRoot(c []byte) bool {
	for _, root := range r.cfg.Roots {
		if bytes.Equal(root.Raw, c) {
			return true
		}
	}
	return false
}

// Register runs a whole registration against a CA reached through rt:
// Me-AqCInitReq → Me-AqCInitRes, CertReq → CertRes. rt is the only I/O.
func Register(ctx context.Context, rt wire.RoundTripper, cfg RegisterConfig) (*Registered, error) {
	reg, init, err := NewRegistration(cfg)
	if err != nil {
		return nil, err
	}
	ep := &wire.Endpoint{Suite: reg.cfg.Suite, SWIdent: reg.cfg.SWIdent, Rand: reg.cfg.Rand, Now: reg.cfg.Now}
	m, err := ep.Call(ctx, rt, "CA", nil, &init.RRPID, init)
	if err != nil {
		return nil, fmt.Errorf("Me-AqCInitReq: %w", err)
	}
	initRes, ok := m.(*msg.MeAqCInitRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered Me-AqCInitReq with %s", m.Name())
	}
	certReq, err := reg.HandleMeAqCInitRes(initRes)
	if err != nil {
		return nil, fmt.Errorf("Me-AqCInitRes: %w", err)
	}
	if m, err = ep.Call(ctx, rt, "CA", nil, &reg.rrpid, certReq); err != nil {
		return nil, fmt.Errorf("CertReq: %w", err)
	}
	certRes, ok := m.(*msg.CertRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "CA answered CertReq with %s", m.Name())
	}
	out, err := reg.HandleCertRes(certRes)
	if err != nil {
		// A pended request is no failure: the *PendingError carries the
		// Registration to Wait on.
		return nil, fmt.Errorf("CertRes: %w", reg.pendingErr(err))
	}
	return out, nil
}
