package bench

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// Ops counts the cryptographic operations of one purchase (PInit, PReq
// with AuthReq/AuthRes, PRes, then capture), summed over the three
// parties. Floor.Run performs exactly these, in this order:
//
//	step                        party     sign seal open verify chain DD HMAC
//	PInitRes S{}                merchant     1
//	PInitRes OpenS              wallet                      1     1
//	gateway exchange cert       wallet                            1
//	HOD, DualSign, H(PANData)   wallet       1                          4
//	TransStain                  wallet                                     1
//	PI EX{}                     wallet            1
//	dual signature (OI side)    merchant                    1     1   1
//	HOD check, H(OIData), H(PI) merchant                                3
//	AuthReq Enc{} = S + E       merchant     1    1
//	AuthReq OpenEnc             gateway                1    1     1
//	merchant exchange cert      gateway                           1
//	H(PI) check                 gateway                                 1
//	PI OpenEX                   gateway                1
//	H(PANData) check            gateway                                 1
//	dual signature (PI side)    gateway                     1     1   1
//	cardholder ID, account      gateway                                    2
//	CapToken Enc{} to itself    gateway      1    1
//	H(AuthResBaggage)           gateway                                 1
//	AuthRes Enc{}               gateway      1    1
//	AuthRes OpenEnc             merchant               1    1     1
//	H(AuthResBaggage) check     merchant                                1
//	PRes S{}                    merchant     1
//	PRes OpenS                  wallet                      1     1
//	gateway proof OpenS (*)     wallet                      1     1
//	H(CapTokenSeq)              merchant                                1
//	CapReq Enc{}                merchant     1    1
//	CapReq OpenEnc              gateway                1    1     1
//	merchant exchange cert      gateway                           1
//	H(CapTokenSeq) check        gateway                                 1
//	CapToken OpenEnc (own cert) gateway                1    1
//	CapRes Enc{}                gateway      1    1
//	CapRes OpenEnc              merchant               1    1     1
//	total                                    8    6    6   10    12  15    3
//
// (*) deviation 4, not in set1: there verify is 9 and chain 11.
//
// "chain" is one certificate-path validation (pki.CertVerifier): leaf,
// its CA and the brand CA each verified up to the root, three signature
// checks each, so chain validation is most of the floor. Certificate
// thumbprints (a hash of one certificate, about ten per purchase) are left
// out as negligible.
//
// The counts come from reading wallet.Pay and Purchase's handlers,
// merchant.HandlePInitReq, HandlePReq and Capture, and gateway's
// HandleAuthReq and HandleCapReq; the package tests check the sign, seal
// and open columns against a real purchase.
type Ops struct {
	Sign, Seal, Open, Verify, Chain, DD, HMAC int
}

func (o Ops) String() string {
	return fmt.Sprintf("%d signatures, %d envelopes sealed and %d opened, %d signature checks, %d chain validations, %d digests, %d HMACs",
		o.Sign, o.Seal, o.Open, o.Verify, o.Chain, o.DD, o.HMAC)
}

// OpsFor returns the operation counts of one purchase under st.
func OpsFor(st suite.Suite) Ops {
	o := Ops{Sign: 8, Seal: 6, Open: 6, Verify: 10, Chain: 12, DD: 15, HMAC: 3}
	if st.ID() == suite.Set1 {
		o.Verify, o.Chain = 9, 11 // no gateway proof in PRes
	}
	return o
}

// Approximate sizes of what a purchase signs, digests and seals, in bytes.
// Hashing and bulk encryption scale with them but stay small next to the
// public-key operations.
const (
	sizeHODInput    = 120
	sizePIData      = 300
	sizeOIData      = 260
	sizePANData     = 80 // rides in the OAEP block under set1: keep it small
	sizePIOILink    = 300
	sizePInitResDat = 180
	sizeAuthReqTBS  = 500
	sizeAuthResTBS  = 260
	sizePResData    = 120 // plus the gateway's proof in the modern suites
	sizeCapReqTBS   = 220
	sizeCapResData  = 200
	sizeCapTokenDat = 80
)

// party is one end entity: a signing key and, where the role has one, a
// key-exchange key, with their certificates.
type party struct {
	signer encap.Signer
	exKey  suite.ExchangeKey
	exCert []byte
}

// Floor performs the cryptographic work of one purchase straight on the
// encap operators and pki's chain validation, with no messages, stores or
// transport: what a purchase could cost at best.
type Floor struct {
	st    suite.Suite
	rand  io.Reader
	now   func() time.Time
	roots []*pki.Certificate

	cardholder, merchant, gateway party
	// merchantInit signs PInitRes: the merchant's chain plus the gateway
	// certificate and its chain, as merchant.HandlePInitReq sends them.
	merchantInit encap.Signer
	gatewayChain [][]byte // PCA and brand certificates

	contents map[string][]byte
}

// NewFloor issues the end-entity keys and certificates a purchase uses
// under h, the CA hierarchy (whose keys must be of suite st).
func NewFloor(st suite.Suite, rand io.Reader, h *pki.Hierarchy) (*Floor, error) {
	now := time.Now()
	f := &Floor{st: st, rand: rand, now: time.Now, roots: []*pki.Certificate{h.Root.Cert}, contents: map[string][]byte{}}
	md := pki.MerchantData{
		MerID: "MER-FLOOR", MerAcquirerBIN: "400000", MerCountry: 840, MerAuthFlag: true,
		MerNames: []pki.MerName{{Language: "en", Name: "Floor Shop", City: "Springfield", CountryName: "US"}},
	}
	var err error
	if f.merchant, err = f.newParty(h.MCA,
		func(pub crypto.PublicKey) *pki.Template { return pki.MerchantSignatureTemplate(pub, md, now) },
		func(pub crypto.PublicKey) *pki.Template { return pki.MerchantExchangeTemplate(pub, md, now) }); err != nil {
		return nil, fmt.Errorf("bench: merchant: %w", err)
	}
	// The merchant sends its key-exchange certificate with its signatures,
	// so the gateway can seal answers to it (merchant.signer).
	f.merchant.signer.Chain = append([][]byte{f.merchant.exCert}, f.merchant.signer.Chain...)
	const gw = "Floor Gateway"
	if f.gateway, err = f.newParty(h.PCA,
		func(pub crypto.PublicKey) *pki.Template { return pki.GatewaySignatureTemplate(pub, gw, now) },
		func(pub crypto.PublicKey) *pki.Template { return pki.GatewayExchangeTemplate(pub, gw, now) }); err != nil {
		return nil, fmt.Errorf("bench: gateway: %w", err)
	}
	if f.cardholder, err = f.newCardholder(h.CCA, now); err != nil {
		return nil, fmt.Errorf("bench: cardholder: %w", err)
	}
	f.gatewayChain = chainOf(h.PCA)
	f.merchantInit = f.merchant.signer
	f.merchantInit.Chain = append(append(append([][]byte{}, f.merchant.signer.Chain...), f.gateway.exCert), f.gatewayChain...)
	for name, n := range map[string]int{
		"HODInput": sizeHODInput, "PIData": sizePIData, "OIData": sizeOIData, "PANData": sizePANData,
		"PIOILink": sizePIOILink, "PInitResData": sizePInitResDat, "AuthReqTBS": sizeAuthReqTBS,
		"AuthResTBS": sizeAuthResTBS, "PResData": sizePResData, "CapReqTBS": sizeCapReqTBS, "CapResData": sizeCapResData,
		"CapTokenData": sizeCapTokenDat,
	} {
		f.contents[name] = sequenceOf(n)
	}
	return f, nil
}

// newParty makes a merchant or gateway: signature and key-exchange
// certificates from ca.
func (f *Floor) newParty(ca *pki.Authority, sigTmpl, exTmpl func(crypto.PublicKey) *pki.Template) (party, error) {
	sigKey, err := f.st.NewSigningKey(f.rand)
	if err != nil {
		return party{}, err
	}
	sigCert, err := ca.Issue(f.rand, sigTmpl(sigKey.Public()))
	if err != nil {
		return party{}, err
	}
	exKey, err := f.st.NewExchangeKey(f.rand)
	if err != nil {
		return party{}, err
	}
	exCert, err := ca.Issue(f.rand, exTmpl(exKey.Public()))
	if err != nil {
		return party{}, err
	}
	return party{signer: encap.Signer{Key: sigKey, Cert: sigCert.Raw, Chain: chainOf(ca)}, exKey: exKey, exCert: exCert.Raw}, nil
}

func (f *Floor) newCardholder(ca *pki.Authority, now time.Time) (party, error) {
	key, err := f.st.NewSigningKey(f.rand)
	if err != nil {
		return party{}, err
	}
	tmpl, err := pki.CardholderTemplate(key.Public(), "4111111111111111", now.AddDate(3, 0, 0).Format("200601"), make([]byte, 20), f.st.Hash(), now)
	if err != nil {
		return party{}, err
	}
	cert, err := ca.Issue(f.rand, tmpl)
	if err != nil {
		return party{}, err
	}
	return party{signer: encap.Signer{Key: key, Cert: cert.Raw, Chain: chainOf(ca)}}, nil
}

// chainOf returns the certificates an end entity of a sends with its
// signatures: a and its issuers, the root excepted (as lab does).
func chainOf(a *pki.Authority) [][]byte {
	var out [][]byte
	for _, c := range a.Chain {
		if c.CertType&pki.CertTypeRCA == 0 {
			out = append(out, c.Raw)
		}
	}
	return out
}

// sequenceOf returns a DER SEQUENCE of n bytes in all, holding one OCTET
// STRING: content of a realistic size for the operators, which insist on a
// SEQUENCE.
func sequenceOf(n int) []byte {
	inner := der.Encode(der.TagOctetString, make([]byte, n-8))
	return der.Encode(der.TagSequence, inner)
}

// verifier validates chains bare: pki remembers signatures it verified,
// which the floor must not profit from, so each validation forgets them
// first and does every signature check of the path.
func (f *Floor) verifier(t pki.CertType, usage x509.KeyUsage) encap.CertVerifier {
	v := pki.CertVerifier(pki.VerifyOptions{Roots: f.roots, Now: f.now(), CertType: t, KeyUsage: usage})
	return func(leaf []byte, chain [][]byte) (crypto.PublicKey, error) {
		pki.ForgetVerifiedSignatures()
		return v(leaf, chain)
	}
}

// Run performs one purchase's cryptographic operations (see Ops). Every
// check runs on what the step before produced, so each verifies for real.
func (f *Floor) Run() error {
	st, r, c := f.st, f.rand, f.contents
	sig := x509.KeyUsageDigitalSignature

	// PInit: the merchant signs, the wallet checks it and the gateway's
	// key-exchange certificate that came with it.
	pinit, err := encap.S(st, r, f.merchantInit, msg.OIDPInitResData, c["PInitResData"])
	if err != nil {
		return fmt.Errorf("PInitRes: %w", err)
	}
	if _, _, err := encap.OpenS(st, pinit, msg.OIDPInitResData, f.verifier(pki.CertTypeMer, sig)); err != nil {
		return fmt.Errorf("PInitRes: %w", err)
	}
	if _, err := f.verifier(pki.CertTypePgwy, 0)(f.gateway.exCert, f.gatewayChain); err != nil {
		return fmt.Errorf("gateway certificate: %w", err)
	}

	// PReq: the wallet dual-signs and seals the PI to the gateway.
	hod, err := encap.DD(st, msg.OIDHODInput, c["HODInput"])
	if err != nil {
		return err
	}
	piSig, hPIData, hOIData, err := encap.DualSign(st, r, f.cardholder.signer, c["PIData"], c["OIData"])
	if err != nil {
		return fmt.Errorf("dual signature: %w", err)
	}
	hPAN, err := encap.DD(st, msg.OIDPANData, c["PANData"])
	if err != nil {
		return err
	}
	encap.HMAC(st, hod, hPAN) // TransStain
	exPI, err := encap.EX(st, r, f.gateway.exCert, msg.OIDPIDualSignedTBE, c["PIOILink"], c["PANData"])
	if err != nil {
		return fmt.Errorf("PI: %w", err)
	}
	pi := der.Encode(der.TagSequence, append(append([]byte{}, piSig...), exPI...))

	// The merchant checks its half, builds and sends AuthReq.
	if _, err := encap.VerifyDualFromOI(st, piSig, c["OIData"], hPIData, f.verifier(pki.CertTypeCard, sig)); err != nil {
		return fmt.Errorf("dual signature (merchant): %w", err)
	}
	if err := encap.CheckDD(st, hod, msg.OIDHODInput, c["HODInput"]); err != nil {
		return err
	}
	if _, err := encap.DD(st, msg.OIDOIData, c["OIData"]); err != nil {
		return err
	}
	hPI, err := encap.DD(st, msg.OIDPI, pi)
	if err != nil {
		return err
	}
	authReq, err := encap.Enc(st, r, f.merchant.signer, f.gateway.exCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, c["AuthReqTBS"])
	if err != nil {
		return fmt.Errorf("AuthReq: %w", err)
	}

	// The gateway opens both halves, checks them, answers.
	if err := f.openMerchantRequest(authReq, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE); err != nil {
		return fmt.Errorf("AuthReq: %w", err)
	}
	if err := encap.CheckDD(st, hPI, msg.OIDPI, pi); err != nil {
		return err
	}
	if _, _, err := encap.OpenEX(st, f.gateway.exKey, f.gateway.exCert, exPI, msg.OIDPIDualSignedTBE); err != nil {
		return fmt.Errorf("PI: %w", err)
	}
	if err := encap.CheckDD(st, hPAN, msg.OIDPANData, c["PANData"]); err != nil {
		return err
	}
	if _, err := encap.VerifyDualFromPI(st, piSig, c["PIData"], hOIData, f.verifier(pki.CertTypeCard, sig)); err != nil {
		return fmt.Errorf("dual signature (gateway): %w", err)
	}
	encap.HMAC(st, hPAN, c["PANData"]) // unique cardholder ID
	encap.HMAC(st, hOIData, hPAN)      // account name in the store
	capToken, err := encap.Enc(st, r, f.gateway.signer, f.gateway.exCert, msg.OIDCapTokenTBS, msg.OIDCapTokenTBE, c["CapTokenData"])
	if err != nil {
		return fmt.Errorf("CapToken: %w", err)
	}
	baggage := der.Encode(der.TagSequence, der.Encode(der.Explicit(0), capToken))
	hBaggage, err := encap.DD(st, msg.OIDAuthResBaggage, baggage)
	if err != nil {
		return err
	}
	authRes, err := encap.Enc(st, r, f.gateway.signer, f.merchant.exCert, msg.OIDAuthResTBS, msg.OIDAuthResTBE, c["AuthResTBS"])
	if err != nil {
		return fmt.Errorf("AuthRes: %w", err)
	}

	// The merchant opens AuthRes and answers the wallet, forwarding the
	// gateway's signed result in the modern suites.
	_, proof, _, err := encap.OpenEnc(st, f.merchant.exKey, f.merchant.exCert, authRes, msg.OIDAuthResTBS, msg.OIDAuthResTBE, f.verifier(pki.CertTypePgwy, sig))
	if err != nil {
		return fmt.Errorf("AuthRes: %w", err)
	}
	if err := encap.CheckDD(st, hBaggage, msg.OIDAuthResBaggage, baggage); err != nil {
		return err
	}
	presData := c["PResData"]
	if st.ID() != suite.Set1 {
		presData = der.Encode(der.TagSequence, append(append([]byte{}, presData...), proof...))
	}
	pres, err := encap.S(st, r, f.merchant.signer, msg.OIDPResData, presData)
	if err != nil {
		return fmt.Errorf("PRes: %w", err)
	}
	if _, _, err := encap.OpenS(st, pres, msg.OIDPResData, f.verifier(pki.CertTypeMer, sig)); err != nil {
		return fmt.Errorf("PRes: %w", err)
	}
	if st.ID() != suite.Set1 {
		if _, _, err := encap.OpenS(st, proof, msg.OIDAuthResTBS, f.verifier(pki.CertTypePgwy, sig)); err != nil {
			return fmt.Errorf("gateway proof: %w", err)
		}
	}

	// Capture, with the CapToken back.
	tokenSeq := der.Encode(der.TagSequence, capToken)
	hTokenSeq, err := encap.DD(st, msg.OIDCapTokenSeq, tokenSeq)
	if err != nil {
		return err
	}
	capReq, err := encap.Enc(st, r, f.merchant.signer, f.gateway.exCert, msg.OIDCapReqTBS, msg.OIDCapReqTBE, c["CapReqTBS"])
	if err != nil {
		return fmt.Errorf("CapReq: %w", err)
	}
	if err := f.openMerchantRequest(capReq, msg.OIDCapReqTBS, msg.OIDCapReqTBE); err != nil {
		return fmt.Errorf("CapReq: %w", err)
	}
	if err := encap.CheckDD(st, hTokenSeq, msg.OIDCapTokenSeq, tokenSeq); err != nil {
		return err
	}
	own := func(cert []byte, _ [][]byte) (crypto.PublicKey, error) {
		c, err := pki.ParseCertificate(cert)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
	if _, _, _, err := encap.OpenEnc(st, f.gateway.exKey, f.gateway.exCert, capToken, msg.OIDCapTokenTBS, msg.OIDCapTokenTBE, own); err != nil {
		return fmt.Errorf("CapToken: %w", err)
	}
	capRes, err := encap.Enc(st, r, f.gateway.signer, f.merchant.exCert, msg.OIDCapResData, msg.OIDCapResTBE, c["CapResData"])
	if err != nil {
		return fmt.Errorf("CapRes: %w", err)
	}
	if _, _, _, err := encap.OpenEnc(st, f.merchant.exKey, f.merchant.exCert, capRes, msg.OIDCapResData, msg.OIDCapResTBE, f.verifier(pki.CertTypePgwy, sig)); err != nil {
		return fmt.Errorf("CapRes: %w", err)
	}
	return nil
}

// openMerchantRequest is the gateway's opening of a merchant request: the
// envelope, the inner signature and chain, then the merchant's
// key-exchange certificate's chain.
func (f *Floor) openMerchantRequest(env []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier) error {
	st := f.st
	if _, _, _, err := encap.OpenEnc(st, f.gateway.exKey, f.gateway.exCert, env, ctSigned, ctEnvelope, f.verifier(pki.CertTypeMer, x509.KeyUsageDigitalSignature)); err != nil {
		return err
	}
	others := append([][]byte{f.merchant.signer.Cert}, f.merchant.signer.Chain[1:]...)
	if _, err := f.verifier(pki.CertTypeMer, 0)(f.merchant.exCert, others); err != nil {
		return fmt.Errorf("merchant exchange certificate: %w", err)
	}
	return nil
}
