package wallet

import (
	"errors"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Certificates travel like revocation state (issue 4, FLOWS.md §2.12
// thumbprints): PInitReq lists in its certThumbs the merchants' and
// gateways' certificates the wallet holds from earlier purchases
// (Config.Certificates, fed only by certificates that verified), and the
// merchant leaves those out of PInitRes and PRes. The wallet then finds a
// signer's certificate and chain in the message first and in its cache
// second; either way the certificate is verified again, against the roots
// and the current CRLs, before it counts.

// forMerchant keeps, of the cached certificates, all but other merchants'
// own: listing those would tell this merchant where else the cardholder
// shops. CA and gateway certificates name no one's purchases.
func forMerchant(merchantID string) func(*pki.Certificate) bool {
	return func(c *pki.Certificate) bool {
		return c.MerchantData == nil || c.MerchantData.MerID == merchantID
	}
}

// held returns the option that offers the cached certificates to the
// signature checks of a merchant's message.
func (cfg *Config) held() encap.OpenOption {
	return encap.WithHeld(cfg.Certificates.Certificates())
}

// withHeld returns certs followed by the cached certificates, for finding
// a certificate a message names by thumbprint (PEThumb).
func (cfg *Config) withHeld(certs [][]byte) [][]byte {
	return append(certs[:len(certs):len(certs)], cfg.Certificates.Certificates()...)
}

// signedErr classifies a failed signature check on a merchant's or
// gateway's message: a signer certificate neither carried nor held is
// missingCertificate; the rest as msg.Classify does.
func signedErr(err error, what string) error {
	if errors.Is(err, encap.ErrMissingCertificate) {
		return msg.Errorf(msg.MissingCertificate, "%s: %w", what, err)
	}
	return msg.Classify(err, msg.SignatureFailure, what)
}
