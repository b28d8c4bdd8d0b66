package wallet

import (
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Revocation state travels in SET's messages: the wallet lists in
// PInitReq the CRLs and BrandCRLIdentifier it holds (Thumbs) — to each
// merchant only those it may be told of (certcache.go) — and the
// merchant's PInitRes and PRes carry what it lacks: the BCI in the
// signed data, the CRLs in the SignedData's crls field. A wallet whose
// Config.Revocation is a pki.RevocationLearner (a *pki.RevocationCache,
// the default) learns them before it checks the certificates of the same
// message, so a wallet that starts with nothing can still check every
// chain.

// thumbs lists, for PInitReq to merchant k, the CRLs, BCI and
// certificates the wallet holds that k may be told of (certcache.go): the
// brand's common ones, and those k sent before.
func (w *Wallet) thumbs(k merchantKey) *msg.Thumbs {
	cfg := &w.cfg
	h := cfg.Suite.Hash()
	t := &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h)}
	crls, bci := cfg.revocationHeld()
	if len(crls) > 0 {
		cas := cfg.knownCAs()
		for _, crl := range crls {
			if cfg.commonCRL(crl, cas) || w.seen.sent(k, crl.Raw) {
				t.CRLThumbs = append(t.CRLThumbs, msg.ThumbOf(h, crl.Raw).Thumbprint)
			}
		}
	}
	if bci != nil && (bci.BrandID == cfg.Card.BrandID || w.seen.sent(k, bci.Raw)) {
		t.BrandCRLIdThumbs = [][]byte{msg.ThumbOf(h, bci.Raw).Thumbprint}
	}
	if len(t.CRLThumbs) == 0 && len(t.BrandCRLIdThumbs) == 0 {
		t = nil
	}
	return cfg.Certificates.AddThumbs(t, h, w.forMerchant(k))
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
