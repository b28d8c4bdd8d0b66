package wallet_test

import (
	"bytes"
	"context"
	"crypto"
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
	ca     *ca.CA
	exKey  suite.ExchangeKey
	exCert []byte
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
	return &regWorld{world: w, ca: c, exKey: exKey, exCert: exCert}
}

func (w *regWorld) config() wallet.RegisterConfig {
	return wallet.RegisterConfig{
		Suite: w.st, Roots: w.l.Roots, Answers: map[string]string{"Name": "Pat"},
		Card: wallet.Card{PAN: "4111111111111111", Expiry: w.t0.AddDate(1, 0, 0).Format("200601"), BrandID: "SETpay"},
		Now:  func() time.Time { return w.t0 },
	}
}

// backKey reads the CABackKey out of a CertReq, as the CA does.
func (w *regWorld) backKey(req *msg.CertReq) (encap.BackKey, error) {
	t, _, _, err := encap.OpenEncX(w.st, w.exKey, w.exCert, req.EncX, msg.OIDCertReqTBS, msg.OIDCertReqTBEX,
		func(certDER []byte, _ [][]byte) (crypto.PublicKey, error) {
			c, err := pki.ParseCertificate(certDER)
			if err != nil {
				return nil, err
			}
			return c.PublicKey, nil
		})
	if err != nil {
		return encap.BackKey{}, err
	}
	data, err := msg.UnmarshalCertReqData(t)
	if err != nil {
		return encap.BackKey{}, err
	}
	if data.CABackKeyData == nil {
		return encap.BackKey{}, errors.New("CertReq without a CABackKey")
	}
	return encap.BackKey{Alg: data.CABackKeyData.BackAlgID, Key: data.CABackKeyData.BackKey}, nil
}

// rewriteCertRes is a transport that lets the CA answer, then has the
// CA's own key re-sign a CertResData that edit changed and re-encrypt it
// under the CABackKey: a CA that lies. With signedOnly it answers with the
// signed alternative instead, as a downgrading CA or attacker would.
func (w *regWorld) rewriteCertRes(t testing.TB, edit func(*msg.CertResData), signedOnly bool) wire.RoundTripper {
	ep := &wire.Endpoint{Suite: w.st, Now: func() time.Time { return w.t0 }}
	return wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		return ep.Serve(ctx, req, func(ctx context.Context, mw *msg.MessageWrapper) (msg.Message, error) {
			var back encap.BackKey
			if cr, ok := mw.Message.(*msg.CertReq); ok {
				var err error
				if back, err = w.backKey(cr); err != nil {
					t.Error(err)
					return nil, err
				}
			}
			out, err := ep.Call(ctx, wire.ServeFunc(w.ca.Serve), "CA", nil, mw.Header.RRPID, mw.Message)
			res, ok := out.(*msg.CertRes)
			if err != nil || !ok {
				return out, err
			}
			if res.Encrypted == nil {
				err := errors.New("CA answered CertRes unencrypted")
				t.Error(err)
				return nil, err
			}
			if bytes.Contains(res.Raw(), w.l.Hierarchy.CCA.Cert.Raw) {
				t.Error("CertRes carries the CA certificate in the clear")
			}
			inner, err := encap.OpenEK(w.st, back, res.Encrypted, msg.OIDCertResTBE)
			if err != nil {
				t.Error(err)
				return nil, err
			}
			tbs, _, err := encap.OpenS(w.st, inner, msg.OIDCertResData, pki.CertVerifier(pki.VerifyOptions{Roots: w.l.Roots, Now: w.t0}))
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
			sd, err := pkcs7Certs(inner)
			if err != nil {
				t.Error(err)
				return nil, err
			}
			s := encap.Signer{Key: cca.Key, Cert: cca.Cert.Raw, Chain: sd}
			if signedOnly {
				signed, err := encap.S(w.st, rand.Reader, s, msg.OIDCertResData, b)
				if err != nil {
					t.Error(err)
					return nil, err
				}
				return &msg.CertRes{Signed: signed}, nil
			}
			enc, err := encap.EncK(w.st, rand.Reader, s, back, msg.OIDCertResData, msg.OIDCertResTBE, b)
			if err != nil {
				t.Error(err)
				return nil, err
			}
			return &msg.CertRes{Encrypted: enc}, nil
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
			_, err := wallet.Register(context.Background(), w.rewriteCertRes(t, c.edit, false), w.config())
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

// TestRegisterRefusesSignedCertRes: the wallet sent a CABackKey, so a
// CertRes in the signed alternative, however authentic, is a downgrade that
// would have shown NonceCCA on the wire; it is refused.
func TestRegisterRefusesSignedCertRes(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newRegWorld(t, st)
			_, err := wallet.Register(context.Background(), w.rewriteCertRes(t, func(*msg.CertResData) {}, true), w.config())
			if err == nil || !strings.Contains(err.Error(), "not encrypted") {
				t.Fatalf("signed CertRes accepted: %v", err)
			}
			// The same answer encrypted is accepted: the refusal is the
			// downgrade, not the content.
			if _, err := wallet.Register(context.Background(), w.rewriteCertRes(t, func(*msg.CertResData) {}, false), w.config()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCertResHidesNonceCCA: NonceCCA, half of the PANSecret, never appears
// in the CertRes bytes on the wire.
func TestCertResHidesNonceCCA(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newRegWorld(t, st)
			var wireRes []byte
			tap := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
				res, err := w.ca.Serve(ctx, req)
				wireRes = res
				return res, err
			})
			reg, err := wallet.Register(context.Background(), tap, w.config())
			if err != nil {
				t.Fatal(err)
			}
			var nonce msg.Secret
			for i := range nonce {
				nonce[i] = reg.Card.PANSecret[i] ^ reg.Card.CardSecret[i]
			}
			if nonce == (msg.Secret{}) || wireRes == nil {
				t.Fatal("no NonceCCA or no CertRes seen")
			}
			if bytes.Contains(wireRes, nonce[:]) {
				t.Error("NonceCCA in the clear in CertRes")
			}
		})
	}
}
