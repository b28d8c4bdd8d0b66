package wallet_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// regWorld is a cardholder CA on the lab's CCA, serving BINs 400000–499999
// with a one-field form.
type regWorld struct {
	*world
	ca *ca.CA
}

func newRegWorld(t testing.TB, st suite.Suite) *regWorld {
	t.Helper()
	w := newWorld(t, st)
	exKey, err := st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	exCert, err := ca.IssueExchangeCert(rand.Reader, w.l.Hierarchy.Brand, exKey.Public(), "Test CCA", w.t0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.New(ca.Config{
		Suite: st, BrandID: "SETpay", Authority: w.l.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: exCert, Roots: w.l.Roots, Store: ca.NewMemoryStore(),
		Issuers: []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: "test policy", Form: &msg.RegTemplate{
			RegFormID: 1, RegFieldSeq: []msg.RegField{{FieldName: "Name", FieldRequired: true}},
		}}},
		Now: func() time.Time { return w.t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &regWorld{world: w, ca: c}
}

func (w *regWorld) config() wallet.RegisterConfig {
	return wallet.RegisterConfig{
		Suite: w.st, Roots: w.l.Roots, Answers: map[string]string{"Name": "Pat"},
		Card: wallet.Card{PAN: "4111111111111111", Expiry: w.t0.AddDate(1, 0, 0).Format("200601"), BrandID: "SETpay"},
		Now:  func() time.Time { return w.t0 },
	}
}

// rewriteCertRes is a transport that lets the CA answer, then has the
// CA's own key re-sign a CertResData that edit changed: a CA that lies.
func (w *regWorld) rewriteCertRes(t testing.TB, edit func(*msg.CertResData)) wire.RoundTripper {
	ep := &wire.Endpoint{Suite: w.st, Now: func() time.Time { return w.t0 }}
	return wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		return ep.Serve(ctx, req, func(ctx context.Context, mw *msg.MessageWrapper) (msg.Message, error) {
			out, err := ep.Call(ctx, wire.ServeFunc(w.ca.Serve), "CA", nil, mw.Header.RRPID, mw.Message)
			res, ok := out.(*msg.CertRes)
			if err != nil || !ok {
				return out, err
			}
			tbs, _, err := encap.OpenS(w.st, res.Signed, msg.OIDCertResData, pki.CertVerifier(pki.VerifyOptions{Roots: w.l.Roots, Now: w.t0}))
			if err != nil {
				t.Error(err)
				return nil, err
			}
			d, err := msg.UnmarshalCertResData(tbs)
			if err != nil {
				t.Error(err)
				return nil, err
			}
			edit(d)
			b, err := d.Marshal()
			if err != nil {
				t.Error(err)
				return nil, err
			}
			cca := w.l.Hierarchy.CCA
			sd, err := pkcs7Certs(res.Signed)
			if err != nil {
				t.Error(err)
				return nil, err
			}
			signed, err := encap.S(w.st, rand.Reader, encap.Signer{Key: cca.Key, Cert: cca.Cert.Raw, Chain: sd}, msg.OIDCertResData, b)
			if err != nil {
				t.Error(err)
				return nil, err
			}
			return &msg.CertRes{Signed: signed}, nil
		})
	})
}

func TestRegister(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newRegWorld(t, st)
			reg, err := wallet.Register(context.Background(), wire.ServeFunc(w.ca.Serve), w.config())
			if err != nil {
				t.Fatal(err)
			}
			if reg.Card.PANSecret == (msg.Secret{}) || reg.Card.CardSecret == (msg.Secret{}) {
				t.Error("secrets not set")
			}
			if strings.Contains(reg.Key.String(), "Private") {
				t.Error("key prints its secret")
			}
			if _, err := wallet.New(wallet.Config{Suite: st, Key: reg.Key, Cert: reg.Cert, Chain: reg.Chain, Card: reg.Card, Roots: w.l.Roots}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRegisterRefusesLyingCA(t *testing.T) {
	st := suite.NewModern()
	w := newRegWorld(t, st)
	cases := map[string]struct {
		edit func(*msg.CertResData)
		code msg.ErrorCode
		want string // in the error text: which check caught it
	}{
		// Another nonceCCA: the certificate's subject no longer hashes this
		// card under the PANSecret the wallet computes.
		"nonceCCA":  {func(d *msg.CertResData) { d.CertStatus.NonceCCA[0] ^= 1 }, msg.InvalidCertificate, "subject"},
		"chall-EE3": {func(d *msg.CertResData) { d.ChallEE3[0] ^= 1 }, msg.ChallengeMismatch, "does not answer"},
		"thumb":     {func(d *msg.CertResData) { d.CertThumbs[0].Thumbprint[0] ^= 1 }, msg.MissingCertificate, "does not carry"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := wallet.Register(context.Background(), w.rewriteCertRes(t, c.edit), w.config())
			var pe *msg.ProtocolError
			if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want code %v (%s)", err, c.code, c.want)
			}
		})
	}
}

// TestRegisterRefusesNonCA: a merchant's certificate cannot answer as the
// cardholder CA.
func TestRegisterRefusesNonCA(t *testing.T) {
	st := suite.NewModern()
	w := newRegWorld(t, st)
	reg, init, err := wallet.NewRegistration(w.config())
	if err != nil {
		t.Fatal(err)
	}
	tbs := &msg.CardCInitResTBS{RRPID: init.RRPID, LIDEE: init.LIDEE, ChallEE: init.ChallEE, CAEThumb: msg.ThumbOf(st.Hash(), w.mer.ExchangeCert)}
	b, err := tbs.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := encap.S(st, rand.Reader, w.mer.Signer(), msg.OIDCardCInitResTBS, b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.HandleCardCInitRes(&msg.CardCInitRes{SignedData: signed})
	var pe *msg.ProtocolError
	if !errors.As(err, &pe) || pe.Code != msg.InvalidCertificate {
		t.Fatalf("a merchant answered as the CA: %v", err)
	}
}

// TestRegisterNeedsRequiredAnswers: the wallet does not send a form with a
// required field empty.
func TestRegisterNeedsRequiredAnswers(t *testing.T) {
	w := newRegWorld(t, suite.NewModern())
	cfg := w.config()
	cfg.Answers = nil
	_, err := wallet.Register(context.Background(), wire.ServeFunc(w.ca.Serve), cfg)
	if err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("err = %v, want a required-field error", err)
	}
}

// pkcs7Certs returns the certificates a SignedData carries besides its
// signer's.
func pkcs7Certs(signed []byte) ([][]byte, error) {
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, c := range sd.Certificates {
		if own, ok := sd.FindCertificate(&sd.SignerInfos[0]); ok && bytes.Equal(own, c) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}
