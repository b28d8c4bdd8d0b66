package wallet_test

import (
	"bytes"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

func lists(th *msg.Thumbs, st suite.Suite, cert []byte) bool {
	if th == nil {
		return false
	}
	want := msg.ThumbOf(st.Hash(), cert).Thumbprint
	for _, t := range th.CertThumbs {
		if bytes.Equal(t, want) {
			return true
		}
	}
	return false
}

// TestWalletListsVerifiedCertificates: after a purchase, PInitReq lists
// the merchant's and gateway's certificates the wallet verified — but
// toward another merchant never the first merchant's own, which would
// tell it where else the cardholder shops.
func TestWalletListsVerifiedCertificates(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	_, req, err := w.w.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	if req.Thumbs != nil && len(req.Thumbs.CertThumbs) != 0 {
		t.Fatalf("a new wallet listed %d certificates", len(req.Thumbs.CertThumbs))
	}
	w.toPReq()

	_, req, err = w.w.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	for name, cert := range map[string][]byte{"merchant signature": w.mer.Cert, "gateway key-exchange": w.gw.ExchangeCert, "merchant CA": w.mer.Chain[0]} {
		if !lists(req.Thumbs, st, cert) {
			t.Errorf("second PInitReq does not list the %s certificate", name)
		}
	}
	other := offer
	other.MerchantID = "MER-0099"
	_, req, err = w.w.Start(other)
	if err != nil {
		t.Fatal(err)
	}
	if lists(req.Thumbs, st, w.mer.Cert) {
		t.Error("PInitReq to another merchant lists the first merchant's certificate")
	}
	if !lists(req.Thumbs, st, w.gw.ExchangeCert) {
		t.Error("PInitReq to another merchant does not list the gateway's certificate")
	}
}

// TestCachedCertificateCheckedAgain: a PInitRes that leaves out the
// certificates the wallet listed verifies from the cache; once the
// merchant is revoked, the cached certificate is refused like a carried
// one — the cache saves bytes, not checks.
func TestCachedCertificateCheckedAgain(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	w.toPReq()

	omitting := func(req *msg.PInitReq) encap.Signer {
		s := w.merchantSigner()
		s.Omit = pki.HeldCertThumbs(req.Thumbs)
		return s
	}
	p, req, err := w.w.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.HandlePInitRes(w.pinitRes(req, nil, omitting(req))); err != nil {
		t.Fatalf("PInitRes relying on the cache: %v", err)
	}
	if _, err := p.PReq(); err != nil {
		t.Fatal(err)
	}

	if err := w.l.Revoke(w.mer.Cert, pki.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	p, req, err = w.w.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	if !lists(req.Thumbs, st, w.mer.Cert) {
		t.Fatal("PInitReq does not list the cached merchant certificate")
	}
	wantCode(t, p.HandlePInitRes(w.pinitRes(req, nil, omitting(req))), msg.RevokedCertificate)
}
