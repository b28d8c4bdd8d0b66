package wallet_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wallet"
)

// walletMaker returns a function making wallets, each starting with empty
// caches as 'setpay wallet pay' does each run, for one new cardholder of
// w's lab.
func walletMaker(t *testing.T, w *world) func() *wallet.Wallet {
	t.Helper()
	card, c, err := w.l.IssueCardholder(lab.CardPAN(10), w.t0)
	if err != nil {
		t.Fatal(err)
	}
	return func() *wallet.Wallet {
		t.Helper()
		nw, err := wallet.New(wallet.Config{Suite: w.st, Key: wallet.NewSigningKey(c.Key), Cert: c.Cert, Chain: c.Chain, Card: card, Roots: w.l.Roots,
			Revocation: pki.NewRevocationCache(w.l.Roots, nil)})
		if err != nil {
			t.Fatal(err)
		}
		return nw
	}
}

// omitting is the merchant's signer leaving out what req lists as held.
func omitting(w *world, req *msg.PInitReq) encap.Signer {
	s := w.merchantSigner()
	s.Omit = pki.HeldCertThumbs(req.Thumbs)
	return s
}

// memoryFile mirrors the saved layout (wallet/memory.go), so that the
// test can tamper with an item and recompute the checksum.
type memoryFile struct {
	Memory asn1.RawValue
	Digest []byte
}

type memoryBody struct {
	Version      int
	Certificates []asn1.RawValue
	CRLs         []asn1.RawValue
	BCIs         []asn1.RawValue
	Merchants    []struct {
		MerID  string `asn1:"utf8"`
		Origin string `asn1:"utf8,optional,tag:0"`
		Thumbs [][]byte
	}
}

// rewrite decodes a saved memory, lets change alter it, and re-encodes it
// with a valid checksum: what someone who edits the file can do.
func rewrite(t *testing.T, saved []byte, change func(*memoryBody)) []byte {
	t.Helper()
	var f memoryFile
	if _, err := asn1.Unmarshal(saved, &f); err != nil {
		t.Fatal(err)
	}
	var m memoryBody
	if _, err := asn1.Unmarshal(f.Memory.FullBytes, &m); err != nil {
		t.Fatal(err)
	}
	change(&m)
	body, err := asn1.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	out, err := asn1.Marshal(memoryFile{Memory: asn1.RawValue{FullBytes: body}, Digest: sum[:]})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flipLast changes the last byte of an item: inside a certificate's or
// CRL's signature.
func flipLast(v *asn1.RawValue) {
	b := bytes.Clone(v.FullBytes)
	b[len(b)-1] ^= 1
	*v = asn1.RawValue{FullBytes: b}
}

// TestMemoryCarriesCaches: a wallet that loads what an earlier run saved
// lists the merchant's and gateway's certificates and the CRLs in its
// PInitReq, and the merchant's PInitRes, leaving them out, still verifies.
// Tampered memory is refused or dropped item by item, with an error to
// warn about, and the wallet still pays.
func TestMemoryCarriesCaches(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			w.toPReq()
			saved, err := w.w.SaveMemory()
			if err != nil {
				t.Fatal(err)
			}

			freshWallet := walletMaker(t, w)
			next := freshWallet()
			if err := next.LoadMemory(saved); err != nil {
				t.Fatalf("loading a good memory: %v", err)
			}
			p, req, err := next.Start(offer)
			if err != nil {
				t.Fatal(err)
			}
			for name, cert := range map[string][]byte{"merchant": w.mer.Cert, "gateway key-exchange": w.gw.ExchangeCert, "brand CA": w.mer.Chain[1]} {
				if !lists(req.Thumbs, st, cert) {
					t.Errorf("PInitReq after loading does not list the %s certificate", name)
				}
			}
			if len(req.Thumbs.CRLThumbs) == 0 || len(req.Thumbs.BrandCRLIdThumbs) != 1 {
				t.Errorf("PInitReq after loading lists %d CRLs and %d BCIs", len(req.Thumbs.CRLThumbs), len(req.Thumbs.BrandCRLIdThumbs))
			}
			res := w.pinitRes(req, nil, omitting(w, req))
			sd, err := pkcs7.ParseSignedData(res.SignedData)
			if err != nil {
				t.Fatal(err)
			}
			// The merchant's key-exchange certificate still travels: the
			// wallet never checks it, so never holds it.
			if len(sd.Certificates) != 1 || !bytes.Equal(sd.Certificates[0], w.mer.ExchangeCert) || len(sd.CRLs) != 0 {
				t.Errorf("merchant still sent %d certificates and %d CRLs", len(sd.Certificates), len(sd.CRLs))
			}
			if err := p.HandlePInitRes(res); err != nil {
				t.Fatalf("PInitRes relying on loaded memory: %v", err)
			}
			if r := p.Thumbs(); r.CarriedCerts != 1 || r.ListedCerts == 0 {
				t.Errorf("thumbs report %+v", r)
			}

			// Corruption anywhere: the whole memory is ignored.
			ignoring := freshWallet()
			for _, i := range []int{0, 5, len(saved) / 2, len(saved) - 1} {
				bad := bytes.Clone(saved)
				bad[i] ^= 0x40
				if err := ignoring.LoadMemory(bad); !errors.Is(err, wallet.ErrBadMemory) {
					t.Errorf("byte %d flipped: %v, want ErrBadMemory", i, err)
				}
			}
			for name, bad := range map[string][]byte{
				"empty":     nil,
				"truncated": saved[:len(saved)-1],
				"trailing":  append(bytes.Clone(saved), 0),
				"version 2": rewrite(t, saved, func(m *memoryBody) { m.Version = 2 }),
			} {
				if err := ignoring.LoadMemory(bad); !errors.Is(err, wallet.ErrBadMemory) {
					t.Errorf("%s: %v, want ErrBadMemory", name, err)
				}
			}

			if _, req, err := ignoring.Start(offer); err != nil || (req.Thumbs != nil && (len(req.Thumbs.CertThumbs) != 0 || len(req.Thumbs.CRLThumbs) != 0)) {
				t.Errorf("a wallet that refused its memory lists %+v (%v)", req.Thumbs, err)
			}

			// Edited with a valid checksum: what does not verify is
			// dropped and reported; the rest is used.
			tampered := rewrite(t, saved, func(m *memoryBody) {
				for i, c := range m.Certificates {
					if bytes.Equal(c.FullBytes, w.mer.Cert) {
						flipLast(&m.Certificates[i])
					}
				}
				for i := range m.CRLs {
					flipLast(&m.CRLs[i])
				}
			})
			edited := freshWallet()
			err = edited.LoadMemory(tampered)
			if err == nil || errors.Is(err, wallet.ErrBadMemory) {
				t.Fatalf("tampered items: %v, want a warning naming them", err)
			}
			p, req, err = edited.Start(offer)
			if err != nil {
				t.Fatal(err)
			}
			if lists(req.Thumbs, st, w.mer.Cert) {
				t.Error("a tampered certificate is listed")
			}
			if req.Thumbs != nil && len(req.Thumbs.CRLThumbs) != 0 {
				t.Errorf("tampered CRLs are listed: %d", len(req.Thumbs.CRLThumbs))
			}
			if err := p.HandlePInitRes(w.pinitRes(req, nil, omitting(w, req))); err != nil {
				t.Fatalf("PInitRes after a tampered memory: %v", err)
			}
		})
	}
}

// TestMemoryKeepsMerchantRecord: the record of which merchant sent which
// certificate survives a save and load, so that after loading a merchant
// is still not listed another merchant's gateway.
func TestMemoryKeepsMerchantRecord(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	w.toPReq()
	saved, err := w.w.SaveMemory()
	if err != nil {
		t.Fatal(err)
	}
	freshWallet := walletMaker(t, w)
	next := freshWallet()
	if err := next.LoadMemory(saved); err != nil {
		t.Fatal(err)
	}
	other := offer
	other.MerchantID = "MER-0099"
	for _, c := range []struct {
		o    wallet.Offer
		want bool
	}{{offer, true}, {other, false}} {
		_, req, err := next.Start(c.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := lists(req.Thumbs, st, w.gw.ExchangeCert); got != c.want {
			t.Errorf("%s: gateway listed %v, want %v", c.o.MerchantID, got, c.want)
		}
	}
	// Saved again, it lists to each merchant what it listed before.
	again, err := next.SaveMemory()
	if err != nil {
		t.Fatal(err)
	}
	third := freshWallet()
	if err := third.LoadMemory(again); err != nil {
		t.Fatal(err)
	}
	for _, o := range []wallet.Offer{offer, other} {
		_, a, err := next.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := third.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		if !sameSet(a.Thumbs.CertThumbs, b.Thumbs.CertThumbs) {
			t.Errorf("%s: %d certificates listed before a save and load, %d after", o.MerchantID, len(a.Thumbs.CertThumbs), len(b.Thumbs.CertThumbs))
		}
	}
}

func sameSet(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || bytes.Equal(x, y)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestMemoryKeepsOriginAndCRLs: the record survives a save and load with
// the origin the merchant was reached at and the CRLs it sent: after
// loading, the merchant at that origin is listed its CRLs (and sends
// none), while the same merchant ID at another origin is listed only the
// brand's common ones.
func TestMemoryKeepsOriginAndCRLs(t *testing.T) {
	st := suites()[0]
	w := newWorld(t, st)
	h := w.l.Hierarchy
	atShop := offer
	atShop.Origin = "https://shop.example:8445"
	p, req, err := w.w.Start(atShop)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner())); err != nil {
		t.Fatal(err)
	}
	saved, err := w.w.SaveMemory()
	if err != nil {
		t.Fatal(err)
	}
	next := walletMaker(t, w)()
	if err := next.LoadMemory(saved); err != nil {
		t.Fatal(err)
	}

	p, req, err = next.Start(atShop)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*pki.Authority{h.Root, h.Brand, h.CCA, h.MCA, h.PCA} {
		if !listsCRL(req.Thumbs, st, labCRL(t, w, a)) {
			t.Errorf("after loading, the merchant is not listed the CRL of %v it sent", a.Cert)
		}
	}
	if err := p.HandlePInitRes(w.pinitRes(req, nil, omitting(w, req))); err != nil {
		t.Fatal(err)
	}
	if r := p.Thumbs(); r.CarriedCRLs != 0 {
		t.Errorf("after loading, the merchant still sent %d CRLs", r.CarriedCRLs)
	}

	elsewhere := offer
	elsewhere.Origin = "https://elsewhere.example"
	_, req, err = next.Start(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*pki.Authority{h.MCA, h.PCA} {
		if listsCRL(req.Thumbs, st, labCRL(t, w, a)) {
			t.Errorf("the merchant's ID at another origin is listed the CRL of %v", a.Cert)
		}
	}
	if lists(req.Thumbs, st, w.mer.Cert) || lists(req.Thumbs, st, w.gw.ExchangeCert) {
		t.Error("the merchant's ID at another origin is listed its certificates")
	}
	if !listsCRL(req.Thumbs, st, labCRL(t, w, h.Root)) || !lists(req.Thumbs, st, w.mer.Chain[1]) {
		t.Error("the merchant's ID at another origin is not listed the brand's common items")
	}
}
