package merchant

import (
	"context"
	"encoding/asn1"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Revocation state travels in SET's messages. Toward the cardholder the
// merchant is the responder: PInitRes carries the BrandCRLIdentifier (in
// PInitResData) and the CRLs (in the SignedData's crls field) the wallet
// did not list in PInitReq's Thumbs, and PRes carries what was issued
// since PInitRes. Toward the gateway it is the requester: its requests
// list in MThumbs what its revocation source holds, and what the
// gateway's answers carry is learned — when Config.Revocation is a
// pki.RevocationLearner — before the gateway's certificate is checked.

// mThumbs lists what the merchant's revocation source holds, for the
// MThumbs of its requests to the gateway.
func (cfg *Config) mThumbs(ctx context.Context) *msg.Thumbs {
	return cfg.Certificates.AddThumbs(pki.HeldThumbs(ctx, cfg.Revocation, cfg.Suite.Hash()), cfg.Suite.Hash(), nil)
}

// carry returns the CRLs and BCI to put in a response to a requester that
// holds held and was sent, before since, everything issued then. A
// revocation source that fails leaves the response without them: the
// requester's own checks then decide.
func (cfg *Config) carry(ctx context.Context, held *msg.Thumbs, since time.Time) (crls [][]byte, bci []byte) {
	crls, bci, err := pki.ToCarry(ctx, cfg.Revocation, held, since)
	if err != nil {
		cfg.Log.Warn("revocation state not carried", "err", err)
		return nil, nil
	}
	return crls, bci
}

// learn returns the option that feeds what a gateway response of content
// type ct carries to the merchant's revocation source before the
// gateway's certificate is checked.
func (cfg *Config) learn(ct asn1.ObjectIdentifier) encap.OpenOption {
	return encap.Options(cfg.held(), encap.WithCarried(func(c *encap.Carried) {
		var bci []byte
		if c.Content != nil {
			bci = responseBCI(ct, c.Content)
		}
		cas := append(append([][]byte(nil), c.Certificates...), cfg.Chain...)
		pki.LearnCarried(cfg.Revocation, cas, c.CRLs, bci)
	}))
}

// responseBCI finds the brandCRLIdentifier in the (not yet verified)
// content of a gateway response; nil if none or undecodable.
func responseBCI(ct asn1.ObjectIdentifier, content []byte) []byte {
	switch {
	case ct.Equal(msg.OIDAuthResTBS):
		if d, err := msg.UnmarshalAuthResTBS(content); err == nil {
			return d.AuthResData.BrandCRLIdentifier
		}
	case ct.Equal(msg.OIDCapResData):
		if d, err := msg.UnmarshalCapResData(content); err == nil {
			return d.BrandCRLIdentifier
		}
	case ct.Equal(msg.OIDAuthRevResData):
		if d, err := msg.UnmarshalAuthRevResData(content); err == nil {
			return d.BrandCRLIdentifier
		}
	case ct.Equal(msg.OIDCapRevResData), ct.Equal(msg.OIDCredResData), ct.Equal(msg.OIDCredRevResData):
		if d, err := msg.UnmarshalCapRevOrCredResData(content); err == nil {
			return d.BrandCRLIdentifier
		}
	case ct.Equal(msg.OIDPCertResTBS):
		if d, err := msg.UnmarshalPCertResTBS(content); err == nil {
			return d.BrandCRLIdentifier
		}
	}
	return nil
}
