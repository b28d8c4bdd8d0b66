package wallet

import (
	"context"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Revocation state travels in SET's messages: the wallet lists in
// PInitReq the CRLs and BrandCRLIdentifier it holds (Thumbs), and the
// merchant's PInitRes and PRes carry what it lacks — the BCI in the
// signed data, the CRLs in the SignedData's crls field. A wallet whose
// Config.Revocation is a pki.RevocationLearner (a *pki.RevocationCache,
// the default) learns them before it checks the certificates of the same message, so
// a wallet that starts with nothing can still check every chain.

// thumbs lists what the wallet's revocation source holds, and the
// certificates it holds that merchant merchantID may send
// (certcache.go), for PInitReq.
func (w *Wallet) thumbs(merchantID string) *msg.Thumbs {
	cfg := &w.cfg
	return cfg.Certificates.AddThumbs(pki.HeldThumbs(context.Background(), cfg.Revocation, cfg.Suite.Hash()), cfg.Suite.Hash(), w.forMerchant(merchantID))
}

// learn returns the option that feeds the CRLs a signed message carries,
// and the BCI bci finds in its (not yet verified) content, to the wallet's
// revocation source before the signer's certificate is checked.
func (cfg *Config) learn(bci func(content []byte) []byte) encap.OpenOption {
	return encap.Options(cfg.held(), encap.WithCarried(func(c *encap.Carried) {
		var b []byte
		if bci != nil && c.Content != nil {
			b = bci(c.Content)
		}
		// The wallet's own chain names its CCA, whose CRL the merchant
		// sends but whose certificate it has no reason to.
		cas := append(append([][]byte(nil), c.Certificates...), cfg.Chain...)
		pki.LearnCarried(cfg.Revocation, cas, c.CRLs, b)
	}))
}

func pInitResBCI(content []byte) []byte {
	d, err := msg.UnmarshalPInitResData(content)
	if err != nil {
		return nil
	}
	return d.BrandCRLIdentifier
}

func pResBCI(content []byte) []byte {
	d, err := msg.UnmarshalPResData(content)
	if err != nil {
		return nil
	}
	return d.BrandCRLIdentifier
}

func authResBCI(content []byte) []byte {
	d, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		return nil
	}
	return d.AuthResData.BrandCRLIdentifier
}
