package enrol

import (
	"bytes"
	"context"
	"crypto"
	"fmt"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wire"
)

// Renewal of a merchant's or gateway's certificates: the registration flow
// again, with the renewal request type, fresh keys, eeThumb naming the
// current signature certificate and the CertReq signed with its key, so
// the CA knows the holder of that certificate asks; each new key proves
// possession with a PoPSignature (docs/spec-gaps.md, "renewal"). The
// current certificates stay valid until they expire.

// Current is the credential a renewal renews: the signature key and its
// certificate, with the chain sent along.
type Current struct {
	SigKey  crypto.Signer
	SigCert []byte
	Chain   [][]byte
}

// Renewal returns the role asking for the renewal of what role asks for
// first: merRenewalBoth for merInitialBoth, pgwyRenewalBoth for
// pgwyInitialBoth.
func (role Role) Renewal() (Role, error) {
	switch role.RequestType {
	case msg.MerInitialBoth:
		role.RequestType = msg.MerRenewalBoth
	case msg.PgwyInitialBoth:
		role.RequestType = msg.PgwyRenewalBoth
	default:
		return role, fmt.Errorf(role.Who+": no renewal for request type %v", role.RequestType)
	}
	return role, nil
}

// NewRenewal starts a renewal of cur and returns the Me-AqCInitReq. role
// is the first registration's; cfg's SigKey and ExKey, when set, are the
// new keys.
func NewRenewal[R any](role Role, cfg Config, cur Current, result func(*Credentials) R) (*Registration[R], *msg.MeAqCInitReq, error) {
	rr, err := role.Renewal()
	if err != nil {
		return nil, nil, err
	}
	if cur.SigKey == nil || cur.SigCert == nil {
		return nil, nil, fmt.Errorf("%s: renewal needs the current signature key and certificate", role.Who)
	}
	c, err := pki.ParseCertificate(cur.SigCert)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: current signature certificate: %w", role.Who, err)
	}
	spki, err := pki.MarshalPublicKey(cur.SigKey.Public())
	if err != nil || !bytes.Equal(spki, c.RawSubjectPublicKeyInfo) {
		return nil, nil, fmt.Errorf("%s: the current signature key is not the current certificate's", role.Who)
	}
	r, init, err := New(rr, cfg, result)
	if err != nil {
		return nil, nil, err
	}
	r.renew = &cur
	return r, init, nil
}

// renewalData names the certificate renewed and proves possession of the
// new signature key, which does not sign the request.
func (r *Registration[R]) renewalData(data *msg.CertReqData) error {
	thumb := msg.ThumbOf(r.cfg.Suite.Hash(), r.renew.SigCert)
	data.EEThumb = &thumb
	return r.role.AddPoP(r.cfg.Suite, r.cfg.Rand, data, msg.PoPKeyS, r.sigKey)
}

// sealRenewal is Seal for a renewal: Enc{EE, CA, CertReqData} signed with
// the current signature key, the current certificate as signer.
func (r *Registration[R]) sealRenewal(data *msg.CertReqData) (*msg.CertReq, error) {
	tb, err := data.Marshal()
	if err != nil {
		return nil, fmt.Errorf(r.role.Who+": CertReqData: %w", err)
	}
	s := encap.Signer{Key: r.renew.SigKey, Cert: r.renew.SigCert, Chain: r.renew.Chain}
	env, err := encap.Enc(r.cfg.Suite, r.cfg.Rand, s, r.exchangeCert, msg.OIDCertReqTBS, msg.OIDCertReqTBE, tb)
	if err != nil {
		return nil, fmt.Errorf(r.role.Who+": CertReq envelope: %w", err)
	}
	return &msg.CertReq{Enc: env}, nil
}

// Renew runs a whole renewal of cur against a CA reached through rt, as
// Register runs a registration. role is the first registration's.
func Renew[R any](ctx context.Context, rt wire.RoundTripper, role Role, cfg Config, cur Current, result func(*Credentials) R) (R, error) {
	var zero R
	reg, init, err := NewRenewal(role, cfg, cur, result)
	if err != nil {
		return zero, err
	}
	return run(ctx, rt, reg, init)
}
