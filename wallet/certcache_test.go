package wallet_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

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

// secondPCA is a payment gateway CA of the lab's brand besides the lab's
// own (another acquirer's), a gateway key-exchange certificate it issued,
// and its first CRL.
type secondPCA struct {
	ca      *pki.Authority
	gateway lab.Credential // the key-exchange certificate and chain only
	crl     *pki.CRL
}

func newSecondPCA(t *testing.T, w *world) secondPCA {
	t.Helper()
	brand := w.l.Hierarchy.Brand
	key, err := w.st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := brand.Issue(rand.Reader, &pki.Template{
		Subject:   pkix.Name{Organization: []string{"Other Acquirer"}, CommonName: "Other Acquirer Payment Gateway CA"},
		NotBefore: w.t0, NotAfter: w.t0.Add(365 * 24 * time.Hour), PublicKey: key.Public(),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		IsCA:     true, CertType: pki.CertTypePCA,
	})
	if err != nil {
		t.Fatal(err)
	}
	ca := &pki.Authority{Cert: cert, Key: key, Hash: w.st.Hash(), Chain: append([]*pki.Certificate{cert}, brand.Chain...)}
	exKey, err := w.st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ca.Issue(rand.Reader, pki.GatewayExchangeTemplate(exKey.Public(), "Other Payment Gateway", w.t0))
	if err != nil {
		t.Fatal(err)
	}
	der, err := ca.IssueCRL(rand.Reader, nil, big.NewInt(1), w.t0, w.t0.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := pki.ParseCRL(der)
	if err != nil {
		t.Fatal(err)
	}
	return secondPCA{ca: ca, gateway: lab.Credential{ExchangeKey: exKey, ExchangeCert: ex.Raw, Chain: [][]byte{cert.Raw, brand.Cert.Raw}}, crl: crl}
}

func listsCRL(th *msg.Thumbs, st suite.Suite, crl *pki.CRL) bool {
	if th == nil {
		return false
	}
	want := msg.ThumbOf(st.Hash(), crl.Raw).Thumbprint
	for _, t := range th.CRLThumbs {
		if bytes.Equal(t, want) {
			return true
		}
	}
	return false
}

// labCRL returns the lab's current CRL issued by a.
func labCRL(t *testing.T, w *world, a *pki.Authority) *pki.CRL {
	t.Helper()
	crls, _, err := w.l.Revocations().Revocation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range crls {
		if bytes.Equal(c.RawIssuer, a.Cert.RawSubject) {
			return c
		}
	}
	t.Fatalf("the lab holds no CRL of %v", a.Cert)
	return nil
}

// TestMerchantNotToldOfOtherPaymentCA: merchant A's gateway is certified
// by a payment CA of its own acquirer. After buying from A, the wallet
// lists that CA's CRL to A (and A then sends no CRL at all), but never to
// merchant B, nor to a server that claims A's merchant ID from another
// origin; B is listed only the brand's common CRLs (root, brand, the
// wallet's own CA) and the BCI.
func TestMerchantNotToldOfOtherPaymentCA(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			ctx := context.Background()
			h := w.l.Hierarchy
			other := newSecondPCA(t, w)
			gwLab := w.gw
			w.gw = other.gateway // PEThumb names A's gateway

			// What merchant A holds and carries: the lab's CRLs and BCI and
			// its own acquirer's CRL.
			labCRLs, bci, err := w.l.Revocations().Revocation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var atA pki.Revocations
			atA.Set(append(append([]*pki.CRL(nil), labCRLs...), other.crl), bci)
			signerA := func(req *msg.PInitReq) encap.Signer {
				s := w.merchantSigner()
				// A works with the lab's acquirer too: the lab's BCI lists
				// its CA's CRL, which the wallet can check only with it.
				s.Chain = append(s.Chain, h.PCA.Cert.Raw)
				s.Omit = pki.HeldCertThumbs(req.Thumbs)
				crls, _, err := pki.ToCarry(ctx, &atA, req.Thumbs, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				s.CRLs = crls
				if s.CRLs == nil {
					s.CRLs = [][]byte{} // carry none, not the fixture's default
				}
				return s
			}
			offerA := offer
			offerA.Origin = "https://a.example"
			buyA := func() wallet.ThumbsReport {
				t.Helper()
				p, req, err := w.w.Start(offerA)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.HandlePInitRes(w.pinitRes(req, nil, signerA(req))); err != nil {
					t.Fatal(err)
				}
				return p.Thumbs()
			}
			start := func(o wallet.Offer) *msg.Thumbs {
				t.Helper()
				_, req, err := w.w.Start(o)
				if err != nil {
					t.Fatal(err)
				}
				return req.Thumbs
			}

			if r := buyA(); r.CarriedCRLs != 6 {
				t.Fatalf("first PInitRes from A carried %d CRLs, want 6", r.CarriedCRLs)
			}
			thA := start(offerA)
			if !listsCRL(thA, st, other.crl) {
				t.Fatal("A is not listed its own payment CA's CRL")
			}
			for _, a := range []*pki.Authority{h.Root, h.Brand, h.CCA, h.MCA, h.PCA} {
				if !listsCRL(thA, st, labCRL(t, w, a)) {
					t.Errorf("A is not listed the CRL of %v, which it sent", a.Cert)
				}
			}
			// A repeat purchase: A sends no CRL and no BCI again.
			if r := buyA(); r.CarriedCRLs != 0 || r.ListedBCIs != 1 {
				t.Errorf("repeat purchase from A: %+v, want no CRL carried and the BCI listed", r)
			}

			offerB := offer
			offerB.MerchantID, offerB.Origin = "MER-0077", "https://b.example"
			spoof := offerA
			spoof.Origin = "https://evil.example"
			for name, o := range map[string]wallet.Offer{"merchant B": offerB, "A's ID from another origin": spoof} {
				th := start(o)
				if listsCRL(th, st, other.crl) {
					t.Errorf("%s is listed the CRL of A's payment CA", name)
				}
				for _, a := range []*pki.Authority{h.MCA, h.PCA} {
					if listsCRL(th, st, labCRL(t, w, a)) {
						t.Errorf("%s is listed the CRL of %v, which A sent", name, a.Cert)
					}
				}
				for _, a := range []*pki.Authority{h.Root, h.Brand, h.CCA} {
					if !listsCRL(th, st, labCRL(t, w, a)) {
						t.Errorf("%s is not listed the common CRL of %v", name, a.Cert)
					}
				}
				if th == nil || len(th.BrandCRLIdThumbs) != 1 {
					t.Errorf("%s is not listed the brand's BCI", name)
				}
				if lists(th, st, w.mer.Cert) || lists(th, st, other.gateway.ExchangeCert) || lists(th, st, other.gateway.Chain[0]) {
					t.Errorf("%s is listed A's certificates", name)
				}
			}
			w.gw = gwLab
		})
	}
}

// TestInqResRecorded: what a verified InqRes carries counts as sent by
// its merchant, like PRes: a newer CRL it brings is listed to that
// merchant next time (and, in the modern suites, the certificate of the
// gateway whose signed result it forwarded), never to another.
func TestInqResRecorded(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			modern := st.ID() != suite.Set1
			p, preq := w.toPReq()

			// The merchant CA revokes someone: its CRL 2 and a new BCI
			// reach the wallet in the InqRes.
			if err := w.l.Revoke(issueMerchant(t, w.l, "MER-0050", w.t0).Cert, pki.ReasonKeyCompromise); err != nil {
				t.Fatal(err)
			}
			crls, bci, err := pki.ToCarry(context.Background(), w.l.Revocations(), nil, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			s := w.mer.Signer()
			s.CRLs = crls
			completion, proof := msg.OrderReceived, []byte(nil)
			if modern {
				completion, proof = msg.AuthorizationAccepted, w.proof(preq, msg.AuthApproved, nil, w.gw)
			}
			in, req := startInquiry(t, p)
			if _, err := in.HandleInqRes(w.inqRes(req, completion, proof, func(d *msg.PResData) { d.BrandCRLIdentifier = bci }, s)); err != nil {
				t.Fatal(err)
			}

			mca2 := labCRL(t, w, w.l.Hierarchy.MCA)
			if mca2.Number.Int64() != 2 {
				t.Fatalf("merchant CA CRL %v, want 2", mca2.Number)
			}
			other := offer
			other.MerchantID = "MER-0099"
			for _, c := range []struct {
				o    wallet.Offer
				want bool
			}{{offer, true}, {other, false}} {
				_, req, err := w.w.Start(c.o)
				if err != nil {
					t.Fatal(err)
				}
				if got := listsCRL(req.Thumbs, st, mca2); got != c.want {
					t.Errorf("%s: the CRL from InqRes listed %v, want %v", c.o.MerchantID, got, c.want)
				}
				if modern {
					if got := lists(req.Thumbs, st, w.gw.Cert); got != c.want {
						t.Errorf("%s: the gateway signature certificate from InqRes listed %v, want %v", c.o.MerchantID, got, c.want)
					}
				}
			}
		})
	}
}
