package lab

import (
	"context"
	"encoding/asn1"
	"sync"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// certTap passes messages through and counts the certificates in the
// SignedData of each response — opening the gateway's envelopes with the
// merchant's key-exchange key. rewrite, if set, may change a request.
type certTap struct {
	t       *testing.T
	st      suite.Suite
	next    wire.RoundTripper
	merch   Credential
	rewrite func(*msg.MessageWrapper)

	mu     sync.Mutex
	counts map[string][]int // message name → certificates, in order
	all    []int            // certificates of every response, in order
}

func (c *certTap) RoundTrip(ctx context.Context, b []byte) ([]byte, error) {
	if c.rewrite != nil {
		w, err := msg.UnmarshalMessageWrapper(b)
		if err != nil {
			c.t.Fatal(err)
		}
		c.rewrite(w)
		if b, err = w.Marshal(); err != nil {
			c.t.Fatal(err)
		}
	}
	out, err := c.next.RoundTrip(ctx, b)
	if err != nil {
		return out, err
	}
	w, werr := msg.UnmarshalMessageWrapper(out)
	if werr != nil {
		c.t.Fatal(werr)
	}
	var signed []byte
	switch m := w.Message.(type) {
	case *msg.PInitRes:
		signed = m.SignedData
	case *msg.PRes:
		signed = m.SignedData
	case *msg.AuthRes:
		signed = c.open(m.AuthResTBE, msg.OIDAuthResTBE)
	case *msg.CapRes:
		signed = c.open(m.CapResTBE, msg.OIDCapResTBE)
	default:
		return out, err
	}
	sd, perr := pkcs7.ParseSignedData(signed)
	if perr != nil {
		c.t.Fatalf("%s: %v", w.Message.Name(), perr)
	}
	c.mu.Lock()
	c.counts[w.Message.Name()] = append(c.counts[w.Message.Name()], len(sd.Certificates))
	c.all = append(c.all, len(sd.Certificates))
	c.mu.Unlock()
	return out, err
}

// open returns the SignedData inside the gateway's envelope to the merchant.
func (c *certTap) open(env []byte, ct asn1.ObjectIdentifier) []byte {
	signed, err := encap.OpenE(c.st, c.merch.ExchangeKey, c.merch.ExchangeCert, env, ct)
	if err != nil {
		c.t.Fatalf("opening %v: %v", ct, err)
	}
	return signed
}

// newCertLab returns a lab whose merchant's credential the test holds,
// with taps between wallet and merchant and between merchant and gateway.
func newCertLab(t *testing.T, st suite.Suite) (l *Lab, toMerchant, toGateway *certTap) {
	t.Helper()
	l = newLab(t, st, 1)
	mc, err := l.IssueMerchant(l.MerchantID, "Corner Bookshop", l.opts.Now())
	if err != nil {
		t.Fatal(err)
	}
	toGateway = &certTap{t: t, st: st, next: wire.ServeFunc(l.Gateway.Serve), merch: mc, counts: map[string][]int{}}
	if err := l.buildMerchant(mc, l.gatewayID, toGateway); err != nil {
		t.Fatal(err)
	}
	toMerchant = &certTap{t: t, st: st, next: wire.ServeFunc(l.Merchant.Serve), merch: mc, counts: map[string][]int{}}
	return l, toMerchant, toGateway
}

// TestCertificatesSentOnce: SET's Thumbs for certificates (issue 4). A
// wallet's second purchase lists the merchant's and gateway's
// certificates it verified in the first, and the merchant leaves them
// out; the merchant's second requests list the gateway's, and the gateway
// leaves them out. Both purchases still verify: the receivers take the
// certificates from their caches and check them again.
func TestCertificatesSentOnce(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			l, toMerchant, toGateway := newCertLab(t, st)
			var lastReq *msg.PInitReq
			toMerchant.rewrite = func(w *msg.MessageWrapper) {
				if r, ok := w.Message.(*msg.PInitReq); ok {
					lastReq = r
				}
			}
			for range 2 {
				offer, err := l.Merchant.Checkout(ctx, "tea", USD(350))
				if err != nil {
					t.Fatal(err)
				}
				p, res, err := l.Wallets[0].Pay(ctx, toMerchant, OfferFor(offer))
				if err != nil {
					t.Fatal(err)
				}
				if res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase completed %v", res.Completion)
				}
				if st.ID() != suite.Set1 && res.Gateway == nil {
					t.Fatal("no gateway proof checked")
				}
				if code, err := l.Merchant.Capture(ctx, p.TransIDs().XID); err != nil || code != msg.CapSuccess {
					t.Fatalf("capture: %v %v", code, err)
				}
			}
			if th := lastReq.Thumbs; th == nil || len(th.CertThumbs) == 0 {
				t.Errorf("second PInitReq lists no certificates: %+v", th)
			}
			fewer := func(tap *certTap, name string) {
				t.Helper()
				n := tap.counts[name]
				if len(n) != 2 {
					t.Fatalf("%s seen %d times, want 2", name, len(n))
				}
				if n[1] >= n[0] {
					t.Errorf("%s carried %d certificates the first time, %d the second; want fewer", name, n[0], n[1])
				}
				t.Logf("%s: %d then %d certificates", name, n[0], n[1])
			}
			fewer(toMerchant, "PInitRes")
			fewer(toGateway, "AuthRes")
			// The gateway's answers: AuthRes, CapRes, AuthRes, CapRes.
			// From the merchant's second request (the first CapReq) on,
			// the gateway's certificates are listed and left out.
			if n := toGateway.all; len(n) != 4 || n[0] == 0 || n[1] >= n[0] || n[2] >= n[0] || n[3] >= n[0] {
				t.Errorf("gateway answers carried %v certificates; want every one after the first to carry fewer", n)
			}
			// PRes leaves out what PInitRes of the same purchase gave the
			// wallet; in the modern suites it adds the gateway's signature
			// certificate for the forwarded result, once. set1 forwards
			// no result: its PRes carries no certificate either time.
			if st.ID() == suite.Set1 {
				if n := toMerchant.counts["PRes"]; len(n) != 2 || n[0] != 0 || n[1] != 0 {
					t.Errorf("set1 PRes certificates %v, want [0 0]", n)
				}
			} else {
				fewer(toMerchant, "PRes")
				if n := toMerchant.counts["PRes"]; n[1] != 0 {
					t.Errorf("second PRes carried %d certificates, want none", n[1])
				}
			}
		})
	}
}

// TestListedCertificateMissing: a wallet that lists a certificate it does
// not hold gets a PInitRes without it and refuses it with
// missingCertificate, not a signature failure.
func TestListedCertificateMissing(t *testing.T) {
	st := suites(t)[0]
	ctx := context.Background()
	l, toMerchant, _ := newCertLab(t, st)
	merchantCert := l.Certificates["merchant-signature"]
	toMerchant.rewrite = func(w *msg.MessageWrapper) {
		if r, ok := w.Message.(*msg.PInitReq); ok {
			r.Thumbs = &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(st.Hash()), CertThumbs: [][]byte{msg.ThumbOf(st.Hash(), merchantCert).Thumbprint}}
		}
	}
	offer, err := l.Merchant.Checkout(ctx, "tea", USD(350))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = l.Wallets[0].Pay(ctx, toMerchant, OfferFor(offer))
	if code, remote := errCode(t, err); code != msg.MissingCertificate || remote {
		t.Fatalf("PInitRes without the signer's certificate: %v (code %v, from peer %v), want the wallet's own missingCertificate", err, code, remote)
	}
	if n := toMerchant.counts["PInitRes"]; len(n) != 1 {
		t.Fatalf("PInitRes seen %v", n)
	}
}
