package wallet_test

import (
	"bytes"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
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
// toward another merchant only the brand's common hierarchy: never the
// first merchant's own, its CA's or its gateway's, which would tell it
// where else the cardholder shops.
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
	for name, cert := range map[string][]byte{"merchant signature": w.mer.Cert, "gateway key-exchange": w.gw.ExchangeCert, "merchant CA": w.mer.Chain[0], "brand CA": w.mer.Chain[1]} {
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
	for name, cert := range map[string][]byte{"merchant signature": w.mer.Cert, "gateway key-exchange": w.gw.ExchangeCert, "merchant CA": w.mer.Chain[0], "gateway CA": w.gw.Chain[0]} {
		if lists(req.Thumbs, st, cert) {
			t.Errorf("PInitReq to another merchant lists the first merchant's %s certificate", name)
		}
	}
	if !lists(req.Thumbs, st, w.mer.Chain[1]) {
		t.Error("PInitReq to another merchant does not list the brand CA's certificate")
	}
}

// TestMerchantNotToldOfOtherGateway: two merchants with their own
// gateways; after buying from both, each merchant's PInitReq lists its own
// gateway's certificate and never the other's, and the merchant that
// names the offer's merchant ID falsely gets nothing filed under it.
func TestMerchantNotToldOfOtherGateway(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	merA, gwA := w.mer, w.gw
	merB, gwB := issueMerchant(t, w.l, "MER-0077", w.t0), issueGateway(t, w.l, "Other Payment Gateway", w.t0)
	offerB := offer
	offerB.MerchantID = "MER-0077"
	buy := func(o wallet.Offer, mer, gw lab.Credential) {
		t.Helper()
		w.mer, w.gw = mer, gw
		defer func() { w.mer, w.gw = merA, gwA }()
		p, req, err := w.w.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner())); err != nil {
			t.Fatal(err)
		}
	}
	start := func(o wallet.Offer) *msg.Thumbs {
		t.Helper()
		_, req, err := w.w.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		return req.Thumbs
	}
	buy(offer, merA, gwA)
	buy(offerB, merB, gwB)
	a, b := start(offer), start(offerB)
	if !lists(a, st, gwA.ExchangeCert) || !lists(b, st, gwB.ExchangeCert) {
		t.Error("a merchant is not listed its own gateway's certificate")
	}
	if lists(a, st, gwB.ExchangeCert) || lists(b, st, gwA.ExchangeCert) {
		t.Error("a merchant is listed the other merchant's gateway")
	}
	if lists(a, st, merB.Cert) || lists(b, st, merA.Cert) {
		t.Error("a merchant is listed the other merchant's certificate")
	}

	// Merchant B claims to be MER-0123 at checkout: what it sends is not
	// filed under MER-0123 (it would be listed to the real one).
	liar := offerB
	liar.MerchantID = "MER-0123"
	w.mer, w.gw = merB, gwB
	p, req, err := w.w.Start(liar)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner()))
	w.mer, w.gw = merA, gwA
	if th := start(liar); lists(th, st, merB.Cert) || lists(th, st, gwB.ExchangeCert) {
		t.Error("certificates of a merchant were filed under the merchant ID it claimed")
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
