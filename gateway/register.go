package gateway

import (
	"context"
	"crypto"
	"errors"
	"io"
	"time"

	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// Payment-gateway registration (SET's MR flow, as Book 2 has gateways
// register): Me-AqCInitReq → Me-AqCInitRes, CertReq → CertRes, against the
// brand's payment CA. The gateway gets a signature and a key-exchange
// certificate in one request. The flow is package enrol's, shared with
// merchant registration; this file names the gateway's role in it.

// role is who registers, at which kind of CA.
var role = enrol.Role{
	Who:         "gateway",
	RequestType: msg.PgwyInitialBoth,
	CAType:      pki.CertTypePCA,
	EEType:      pki.CertTypePgwy,
	SWIdent:     "setpay-gateway/0.1",
	Referred:    ErrReferred,
}

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
	// Revocation, if set, is checked with the CA's signatures: a CA
	// known to be revoked is refused (revokedCertificate).
	Revocation pki.RevocationSource

	Language string           // default "en"
	SWIdent  string           // default "setpay-gateway/0.1"
	Rand     io.Reader        // default crypto/rand
	Now      func() time.Time // default time.Now
}

func (cfg *RegisterConfig) enrol() enrol.Config {
	return enrol.Config{
		Suite: cfg.Suite, BrandID: cfg.BrandID, Roots: cfg.Roots, Answers: cfg.Answers,
		IDData: msg.IDData{AcquirerID: &msg.AcquirerID{AcquirerBIN: cfg.AcquirerBIN, AcquirerBusinessID: cfg.BusinessID}},
		SigKey: cfg.SigKey, ExKey: cfg.ExKey, Revocation: cfg.Revocation,
		Language: cfg.Language, SWIdent: cfg.SWIdent, Rand: cfg.Rand, Now: cfg.Now,
	}
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

func registered(c *enrol.Credentials) *Registered {
	return &Registered{
		SigKey: NewSigningKey(c.SigKey), SigCert: c.SigCert,
		ExKey: NewExchangeKey(c.ExKey), ExCert: c.ExCert,
		Chain: c.Chain, RawSigKey: c.SigKey, RawExKey: c.ExKey,
	}
}

// RefusedError is a CertRes that issued nothing: the CA's CertStatus.
type RefusedError = enrol.RefusedError

// ErrReferred is returned when the CA answers Me-AqCInitReq with a
// referral: it does not register this applicant.
var ErrReferred = errors.New("gateway: CA referred the registration elsewhere")

// Registration is one registration in progress. It does no I/O: each step
// takes the CA's answer and returns the next request.
type Registration = enrol.Registration[*Registered]

// NewRegistration starts a registration and returns the Me-AqCInitReq.
func NewRegistration(cfg RegisterConfig) (*Registration, *msg.MeAqCInitReq, error) {
	return enrol.New(role, cfg.enrol(), registered)
}

// AddPoP signs data's PoPInput with key and adds it as the PoPSignature
// for which, replacing any there. Exported so tests can prove possession
// of keys the registration never would.
func AddPoP(st suite.Suite, rand io.Reader, data *msg.CertReqData, which msg.PoPKey, key crypto.Signer) error {
	return role.AddPoP(st, rand, data, which, key)
}

// SealCertReq builds CertReq = Enc{EE, CA, CertReqData} signed with key,
// the signature key being certified, carried in a self-signed certificate.
// Exported so tests can build requests the registration never would.
func SealCertReq(st suite.Suite, rand io.Reader, key crypto.Signer, caExchangeCert []byte, data *msg.CertReqData, now time.Time) (*msg.CertReq, error) {
	return role.SealCertReq(st, rand, key, caExchangeCert, data, now)
}

// Register runs a whole registration against a CA reached through rt:
// Me-AqCInitReq → Me-AqCInitRes, CertReq → CertRes. rt is the only I/O.
// A pended request is a *PendingError carrying the Registration to Wait on.
func Register(ctx context.Context, rt wire.RoundTripper, cfg RegisterConfig) (*Registered, error) {
	return enrol.Register(ctx, rt, role, cfg.enrol(), registered)
}
