package lab

import (
	"crypto"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// Credential is what one of the lab's CAs issues to a party: a signing key
// and its certificate and, for merchants and gateways, a key-exchange key
// and its certificate.
//
// lab.New issues the ecosystem's own parties with these; tests issue more
// (a rival merchant, a gateway nobody chose) to sign and seal what the
// honest cores never would.
type Credential struct {
	Key          crypto.Signer
	Cert         []byte
	ExchangeKey  suite.ExchangeKey // nil for a cardholder
	ExchangeCert []byte            // nil for a cardholder
	// Chain is what a signature carries besides Cert: the issuing CA and
	// the brand CA. The root is the receiver's trust anchor.
	Chain [][]byte
}

// Signer signs as c. It sends c's key-exchange certificate, if any, ahead
// of the chain, as a merchant does so that the gateway can seal its answer
// to it. The chain is a fresh slice: callers may append to it.
func (c Credential) Signer() encap.Signer {
	chain := make([][]byte, 0, 1+len(c.Chain))
	if c.ExchangeCert != nil {
		chain = append(chain, c.ExchangeCert)
	}
	return encap.Signer{Key: c.Key, Cert: c.Cert, Chain: append(chain, c.Chain...)}
}

// IssueMerchant has the merchant CA issue signature and key-exchange
// certificates, valid from now, to the merchant merID trading as name
// (with the lab's acquirer BIN, in the US). Keys and serial numbers come
// from Options.Rand.
func (l *Lab) IssueMerchant(merID, name string, now time.Time) (Credential, error) {
	md := pki.MerchantData{
		MerID: merID, MerAcquirerBIN: "400000", MerCountry: 840, MerAuthFlag: true,
		MerNames: []pki.MerName{{Language: "en", Name: name, City: "Springfield", CountryName: "US"}},
	}
	return l.issuePair(l.Hierarchy.MCA, "merchant",
		func(pub crypto.PublicKey) *pki.Template { return pki.MerchantSignatureTemplate(pub, md, now) },
		func(pub crypto.PublicKey) *pki.Template { return pki.MerchantExchangeTemplate(pub, md, now) })
}

// IssueGateway has the payment CA issue signature and key-exchange
// certificates, valid from now, to the payment gateway called name.
func (l *Lab) IssueGateway(name string, now time.Time) (Credential, error) {
	return l.issuePair(l.Hierarchy.PCA, "gateway",
		func(pub crypto.PublicKey) *pki.Template { return pki.GatewaySignatureTemplate(pub, name, now) },
		func(pub crypto.PublicKey) *pki.Template { return pki.GatewayExchangeTemplate(pub, name, now) })
}

// issuePair makes a signing key and a key-exchange key and has ca certify
// each with the template its function makes. role names the party in
// errors.
func (l *Lab) issuePair(ca *pki.Authority, role string, sigTmpl, exTmpl func(crypto.PublicKey) *pki.Template) (Credential, error) {
	st, r := l.Suite, l.opts.Rand
	key, err := st.NewSigningKey(r)
	if err != nil {
		return Credential{}, fmt.Errorf("lab: %s signing key: %w", role, err)
	}
	cert, err := ca.Issue(r, sigTmpl(key.Public()))
	if err != nil {
		return Credential{}, fmt.Errorf("lab: %s signature certificate: %w", role, err)
	}
	exKey, err := st.NewExchangeKey(r)
	if err != nil {
		return Credential{}, fmt.Errorf("lab: %s key-exchange key: %w", role, err)
	}
	exCert, err := ca.Issue(r, exTmpl(exKey.Public()))
	if err != nil {
		return Credential{}, fmt.Errorf("lab: %s key-exchange certificate: %w", role, err)
	}
	return Credential{Key: key, Cert: cert.Raw, ExchangeKey: exKey, ExchangeCert: exCert.Raw, Chain: chain(ca)}, nil
}

// IssueCardholder makes a card of the lab's brand for pan, expiring three
// years from now, with fresh PAN and card secrets, and has the cardholder
// CA issue a signature certificate for it, valid from now. The certificate
// hides the PAN behind the PAN secret, as SET's cardholder certificates do;
// the card is what the wallet needs to reveal it to the gateway.
func (l *Lab) IssueCardholder(pan string, now time.Time) (wallet.Card, Credential, error) {
	st, r := l.Suite, l.opts.Rand
	card := wallet.Card{PAN: pan, Expiry: now.AddDate(3, 0, 0).Format("200601"), BrandID: l.opts.Brand}
	if _, err := io.ReadFull(r, card.PANSecret[:]); err != nil {
		return wallet.Card{}, Credential{}, fmt.Errorf("lab: PAN secret: %w", err)
	}
	if _, err := io.ReadFull(r, card.CardSecret[:]); err != nil {
		return wallet.Card{}, Credential{}, fmt.Errorf("lab: card secret: %w", err)
	}
	key, err := st.NewSigningKey(r)
	if err != nil {
		return wallet.Card{}, Credential{}, fmt.Errorf("lab: cardholder signing key: %w", err)
	}
	tmpl, err := pki.CardholderTemplate(key.Public(), card.PAN, card.Expiry, card.PANSecret[:], st.Hash(), now)
	if err != nil {
		return wallet.Card{}, Credential{}, fmt.Errorf("lab: cardholder certificate: %w", err)
	}
	cert, err := l.Hierarchy.CCA.Issue(r, tmpl)
	if err != nil {
		return wallet.Card{}, Credential{}, fmt.Errorf("lab: cardholder certificate: %w", err)
	}
	return card, Credential{Key: key, Cert: cert.Raw, Chain: chain(l.Hierarchy.CCA)}, nil
}

// chain returns the certificates sent with an end entity's signatures:
// its CA and the brand CA (the root is the receiver's trust anchor).
func chain(a *pki.Authority) [][]byte {
	var out [][]byte
	for _, c := range a.Chain {
		if c.CertType&pki.CertTypeRCA != 0 {
			continue
		}
		out = append(out, c.Raw)
	}
	return out
}
