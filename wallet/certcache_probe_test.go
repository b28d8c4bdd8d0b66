package wallet_test

import (
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/wallet"
)

// TestMerchantCannotProbeWithCarriedCertificates: a merchant that puts
// another gateway's certificate in its PInitRes (certificates anyone can
// collect) must not have it filed as its own: else its next PInitReq
// would list that certificate exactly when the wallet holds it from a
// purchase elsewhere, telling the merchant the cardholder bought from a
// merchant of that acquirer. Only the chains the wallet verified count.
func TestMerchantCannotProbeWithCarriedCertificates(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	merA, gwA := w.mer, w.gw
	merB, gwB := issueMerchant(t, w.l, "MER-0077", w.t0), issueGateway(t, w.l, "Other Payment Gateway", w.t0)
	offerB := offer
	offerB.MerchantID = "MER-0077"
	buy := func(o wallet.Offer, mer, gw lab.Credential, extra ...[]byte) {
		t.Helper()
		w.mer, w.gw = mer, gw
		defer func() { w.mer, w.gw = merA, gwA }()
		p, req, err := w.w.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		s := w.merchantSigner()
		s.Chain = append(s.Chain, extra...)
		if err := p.HandlePInitRes(w.pinitRes(req, nil, s)); err != nil {
			t.Fatal(err)
		}
	}
	buy(offerB, merB, gwB)
	// A carries B's gateway certificate beside its own chains.
	buy(offer, merA, gwA, gwB.ExchangeCert, merB.Cert)
	_, req, err := w.w.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	if !lists(req.Thumbs, st, gwA.ExchangeCert) || !lists(req.Thumbs, st, merA.Cert) {
		t.Fatal("A is not listed its own certificates")
	}
	if lists(req.Thumbs, st, gwB.ExchangeCert) {
		t.Error("A is listed the other gateway's certificate it merely carried")
	}
	if lists(req.Thumbs, st, merB.Cert) {
		t.Error("A is listed the other merchant's certificate it merely carried")
	}
}
