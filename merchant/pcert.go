package merchant

import (
	"context"
	"crypto/x509"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// GatewayCertificates are the gateway's certificates as PCertRes delivered
// them, each verified up to the merchant's roots.
type GatewayCertificates struct {
	Signature []byte   // the gateway's signature certificate (it signed PCertRes)
	Exchange  []byte   // its key-exchange certificate: what PIs and requests are sealed to
	Chain     [][]byte // the other certificates PCertRes carried (PCA, brand)
}

// RefreshGatewayCertificates asks the gateway for its current
// certificates (PCertReq) and, once PCertRes checks out, puts them to use
// (UseGatewayCertificates) and returns them. PCertRes must be signed by a
// payment gateway certificate valid under the merchant's roots, by the
// same gateway (same subject) the merchant designates, answer this
// request, and list only that gateway's valid certificates.
//
// A purchase already past PInitRes when the certificates change still
// has its PI sealed to the old key-exchange certificate; a gateway that
// no longer holds that key refuses it.
func (m *Merchant) RefreshGatewayCertificates(ctx context.Context) (*GatewayCertificates, error) {
	cfg := m.config()
	st := cfg.Suite
	var rrpid msg.RRPID
	if _, err := io.ReadFull(cfg.Rand, rrpid[:]); err != nil {
		return nil, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	data := msg.PCertReqData{
		PCertRRTags:    msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: now},
		BrandAndBINSeq: []msg.BrandAndBIN{{BrandID: cfg.BrandID}},
		MThumbs:        cfg.mThumbs(ctx),
	}
	if st.ID() != suite.Set1 {
		// No pgThumb: the merchant asks because it may no longer hold the
		// gateway's current certificate, and naming the old one would
		// have a renewed gateway refuse the request. Nothing in PCertReq
		// is for one gateway only.
		data.Expiry = now.Add(cfg.RequestLifetime)
	}
	content, err := data.Marshal()
	if err != nil {
		return nil, err
	}
	signed, err := encap.S(st, cfg.Rand, *m.signer(), msg.OIDPCertReqData, content)
	if err != nil {
		return nil, err
	}
	// call (reversal.go) carries any request over the gateway client.
	res, err := call[*msg.PCertRes](ctx, m, &msg.PCertReq{SignedData: signed}, nil)
	if err != nil {
		return nil, err
	}
	certs, err := m.checkPCertRes(res, rrpid, content)
	if err != nil {
		return nil, err
	}
	m.UseGatewayCertificates(certs)
	return certs, nil
}

// UseGatewayCertificates makes c the designated gateway's certificates:
// requests from now on are sealed to c.Exchange, and PInitRes hands it
// and c.Chain to cardholders. Safe to call while the merchant serves;
// a request under way finishes with the certificates it started with.
func (m *Merchant) UseGatewayCertificates(c *GatewayCertificates) {
	cp := &GatewayCertificates{Signature: c.Signature, Exchange: c.Exchange, Chain: append([][]byte(nil), c.Chain...)}
	m.gateway.Store(cp)
}

// config returns the merchant's configuration with the designated
// gateway's current certificates. Every request reads it once, so that
// one request never mixes old and new certificates.
func (m *Merchant) config() Config {
	cfg := m.cfg
	if g := m.gateway.Load(); g != nil {
		cfg.GatewayCert, cfg.GatewayChain = g.Exchange, g.Chain
	}
	return cfg
}

// checkPCertRes verifies a PCertRes answering the request with RRPID
// rrpid and PCertReqData reqData.
func (m *Merchant) checkPCertRes(res *msg.PCertRes, rrpid msg.RRPID, reqData []byte) (*GatewayCertificates, error) {
	cfg := m.config()
	st := cfg.Suite
	now := cfg.Now()
	tbsDER, signerCert, err := encap.OpenS(st, res.SignedData, msg.OIDPCertResTBS,
		cfg.verifier(now, pki.CertTypePgwy, x509.KeyUsageDigitalSignature), cfg.learn(msg.OIDPCertResTBS))
	if err != nil {
		return nil, signedErr(err, "PCertRes")
	}
	if !pki.SameSubject(signerCert, cfg.GatewayCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "PCertRes signed by a gateway other than the designated one")
	}
	tbs, err := msg.UnmarshalPCertResTBS(tbsDER)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PCertResTBS: %w", err)
	}
	if tbs.PCertRRTags.RRPID != rrpid {
		return nil, msg.Errorf(msg.UnknownRRPID, "PCertRes answers another request")
	}
	if st.ID() != suite.Set1 {
		if !tbs.MerchantThumb.Matches(cfg.SigningCert) {
			return nil, msg.Errorf(msg.ThumbsMismatch, "PCertRes answers another merchant")
		}
		if string(tbs.HPCertReq) != string(digest(st.Hash(), reqData)) {
			return nil, msg.Errorf(msg.SignatureFailure, "PCertRes answers another PCertReq")
		}
	}
	var item *msg.PCertResItem
	for i := range tbs.PCertResItemSeq {
		if tbs.PCertResItemSeq[i].BrandAndBIN.BrandID == cfg.BrandID {
			item = &tbs.PCertResItemSeq[i]
			break
		}
	}
	if item == nil {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "PCertRes has no answer for brand %q", cfg.BrandID)
	}
	if item.PCertCode != msg.PCertSuccess {
		return nil, msg.Errorf(msg.UnspecifiedFailure, "gateway refused the certificate request: %v", item.PCertCode)
	}
	sd, err := pkcs7.ParseSignedData(res.SignedData)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PCertRes: %w", err)
	}
	out := &GatewayCertificates{Signature: signerCert}
	listed := map[string]bool{}
	verify := cfg.verifier(now, pki.CertTypePgwy, 0)
	for i := range item.CertThumbs {
		c, others := findCert(sd.Certificates, &item.CertThumbs[i])
		if c == nil {
			return nil, msg.Errorf(msg.MissingCertificate, "PCertRes lists a certificate it does not carry")
		}
		// Every listed certificate must be this gateway's: a valid payment
		// gateway certificate with the signer's subject. Otherwise a
		// gateway could hand a merchant someone else's key to seal to.
		if _, err := verify(c, others); err != nil {
			return nil, msg.Classify(err, msg.InvalidCertificate, "PCertRes certificate")
		}
		if !pki.SameSubject(c, signerCert) {
			return nil, msg.Errorf(msg.InvalidCertificate, "PCertRes lists a certificate of another party")
		}
		listed[string(c)] = true
		cert, err := pki.ParseCertificate(c)
		if err != nil {
			return nil, msg.Errorf(msg.InvalidCertificate, "PCertRes certificate: %w", err)
		}
		if cert.KeyUsage&(x509.KeyUsageKeyAgreement|x509.KeyUsageKeyEncipherment) != 0 && out.Exchange == nil {
			out.Exchange = c
		}
	}
	if out.Exchange == nil {
		return nil, msg.Errorf(msg.MissingCertificate, "PCertRes lists no key-exchange certificate")
	}
	for _, c := range sd.Certificates {
		if !listed[string(c)] && string(c) != string(signerCert) {
			out.Chain = append(out.Chain, c)
		}
	}
	return out, nil
}

// findCert returns the certificate whose thumbprint is t and the others.
func findCert(certs [][]byte, t *msg.CertThumb) (cert []byte, rest [][]byte) {
	for i, c := range certs {
		if t.Matches(c) {
			rest = append(append(rest, certs[:i]...), certs[i+1:]...)
			return c, rest
		}
	}
	return nil, nil
}
