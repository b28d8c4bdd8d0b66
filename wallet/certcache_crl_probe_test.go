package wallet_test

import (
	"context"
	"testing"
	"time"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wallet"
)

// TestMerchantCannotProbeWithCarriedCRLs: the CRL version of
// TestMerchantCannotProbeWithCarriedCertificates. Merchant A carries, in
// its PInitRes, the CRL of another acquirer's payment CA (CRLs anyone can
// collect) without that CA's certificate. Were it filed as sent by A, A's
// next PInitReq would list it exactly when the wallet holds it from a
// purchase at a merchant of that acquirer (B), telling A where else the
// cardholder bought. Only CRLs issued by a CA of A's own checked chains,
// or by a CA every merchant may be told of, count as A's.
func TestMerchantCannotProbeWithCarriedCRLs(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			h := w.l.Hierarchy
			other := newSecondPCA(t, w)
			merA, gwA := w.mer, w.gw
			merB := issueMerchant(t, w.l, "MER-0077", w.t0)
			offerA, offerB := offer, offer
			offerA.Origin = "https://a.example"
			offerB.MerchantID, offerB.Origin = "MER-0077", "https://b.example"

			buy := func(o wallet.Offer, mer, gw lab.Credential, chain ...[]byte) {
				t.Helper()
				w.mer, w.gw = mer, gw
				defer func() { w.mer, w.gw = merA, gwA }()
				p, req, err := w.w.Start(o)
				if err != nil {
					t.Fatal(err)
				}
				crls, _, err := pki.ToCarry(context.Background(), w.l.Revocations(), req.Thumbs, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				s := w.merchantSigner()
				s.Chain = append(s.Chain, chain...)
				s.CRLs = append(crls, other.crl.Raw)
				if err := p.HandlePInitRes(w.pinitRes(req, nil, s)); err != nil {
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

			// B's gateway is certified by the other payment CA: the wallet
			// learns that CA's CRL from B, and lists it back to B.
			// (B works with the lab's acquirer too: the lab's BCI lists
			// its CA's CRL, which the wallet can check only with it.)
			buy(offerB, merB, other.gateway, h.PCA.Cert.Raw)
			if !listsCRL(start(offerB), st, other.crl) {
				t.Fatal("B is not listed its own payment CA's CRL")
			}

			// A, of the lab's acquirer, carries that CRL beside its own.
			buy(offerA, merA, gwA)
			thA := start(offerA)
			if listsCRL(thA, st, other.crl) {
				t.Error("A is listed the other payment CA's CRL it merely carried")
			}
			for _, a := range []*pki.Authority{h.Root, h.Brand, h.CCA, h.MCA, h.PCA} {
				if !listsCRL(thA, st, labCRL(t, w, a)) {
					t.Errorf("A is not listed the CRL of %v, of its own chains or common", a.Cert)
				}
			}
			if thA == nil || len(thA.BrandCRLIdThumbs) != 1 {
				t.Error("A is not listed the brand's BCI")
			}
		})
	}
}
