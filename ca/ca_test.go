package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

func suites() []suite.Suite {
	// set1 with 2048-bit RSA: a PANData0 does not fit SET's OAEP block
	// under a 1024-bit key.
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

const (
	visaPAN     = "4111111111111111" // BIN 411111: issuer with a form
	mcPAN       = "5555555555554444" // BIN 555555: issuer asking nothing
	unknownPAN  = "6011111111111117" // BIN 601111: no issuer here
	otherVisa   = "4012888888881881"
	policyText  = "SETpay cardholder certificate policy, version 1"
	regFormID   = 7
	branchValue = "B-17"
)

// fixture is a lab (for the hierarchy and a merchant to buy from) and a
// cardholder CA on the lab's CCA, with a clock the test moves.
type fixture struct {
	st     suite.Suite
	lab    *lab.Lab
	ca     *ca.CA
	store  *ca.MemoryStore
	exCert []byte
	now    time.Time
	issued atomic.Int32 // certificates the CA logged as issued
}

func newFixture(t testing.TB, st suite.Suite) *fixture {
	t.Helper()
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close(); gs.Close() })
	f := &fixture{st: st, store: ca.NewMemoryStore(), now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return f.now }
	f.lab, err = lab.New(lab.Options{Suite: st, MerchantStore: ms, GatewayStore: gs, Limit: 100000, Now: clock,
		MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	exKey, err := st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.exCert, err = ca.IssueExchangeCert(rand.Reader, f.lab.Hierarchy.Brand, exKey.Public(), "SETpay Cardholder CA", f.now)
	if err != nil {
		t.Fatal(err)
	}
	f.ca, err = ca.New(ca.Config{
		Suite: st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: f.exCert,
		Roots: f.lab.Roots, Store: f.store, Now: clock,
		Issuers: []ca.Issuer{
			{BINLow: "400000", BINHigh: "499999", Policy: policyText, Form: &msg.RegTemplate{
				RegFormID: regFormID,
				RegFieldSeq: []msg.RegField{
					{FieldName: "Name on card", FieldRequired: true, FieldLen: 40},
					{FieldName: "Postal code", FieldLen: 10},
					{FieldName: "Branch", FieldInvisible: true, FieldValue: branchValue},
				},
			}, Forms: map[string]*msg.RegTemplate{"fr": frenchForm()}},
			{BINLow: "510000", BINHigh: "559999", Policy: policyText},
		},
		Log: slog.New(countIssued{&f.issued}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// countIssued is a slog handler that counts "issued" records, so tests can
// assert that a refusal issued nothing.
type countIssued struct{ n *atomic.Int32 }

func (h countIssued) Enabled(context.Context, slog.Level) bool { return true }
func (h countIssued) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "issued") {
		h.n.Add(1)
	}
	return nil
}
func (h countIssued) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countIssued) WithGroup(string) slog.Handler      { return h }

var quiet = slog.New(slog.DiscardHandler)

func (f *fixture) regConfig(pan string) wallet.RegisterConfig {
	return wallet.RegisterConfig{
		Suite: f.st, Roots: f.lab.Roots,
		Card:    wallet.Card{PAN: pan, Expiry: f.now.AddDate(2, 0, 0).Format("200601"), BrandID: "SETpay"},
		Answers: map[string]string{"Name on card": "A N Other", "Postal code": "12345"},
		Now:     func() time.Time { return f.now },
	}
}

func (f *fixture) rt() wire.RoundTripper { return wire.ServeFunc(f.ca.Serve) }

// call sends m to the CA the way the wallet does.
func (f *fixture) call(t testing.TB, m msg.Message) (msg.Message, error) {
	t.Helper()
	ep := &wire.Endpoint{Suite: f.st, Now: func() time.Time { return f.now }}
	return ep.Call(context.Background(), f.rt(), "CA", nil, nil, m)
}

// toRegFormRes runs a registration up to the CA's RegFormRes.
func (f *fixture) toRegFormRes(t testing.TB, cfg wallet.RegisterConfig) (*wallet.Registration, *msg.RegFormRes) {
	t.Helper()
	reg, init, err := wallet.NewRegistration(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.call(t, init)
	if err != nil {
		t.Fatalf("CardCInitReq: %v", err)
	}
	formReq, err := reg.HandleCardCInitRes(m.(*msg.CardCInitRes))
	if err != nil {
		t.Fatalf("CardCInitRes: %v", err)
	}
	m, err = f.call(t, formReq)
	if err != nil {
		t.Fatalf("RegFormReq: %v", err)
	}
	return reg, m.(*msg.RegFormRes)
}

// challCA reads the CA's nonce out of a RegFormRes.
func (f *fixture) challCA(t testing.TB, res *msg.RegFormRes) msg.Challenge {
	t.Helper()
	tbs, _, err := encap.OpenS(f.st, res.SignedData, msg.OIDRegFormResTBS, pki.CertVerifier(pki.VerifyOptions{Roots: f.lab.Roots, Now: f.now}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := msg.UnmarshalRegFormResTBS(tbs)
	if err != nil {
		t.Fatal(err)
	}
	return d.ChallCA
}

// certReq builds a CertReq the wallet never would: data as mutate leaves
// it, PublicKeyS the key of certKey, signed with signKey.
func (f *fixture) certReq(t testing.TB, challCA msg.Challenge, pan string, certKey, signKey crypto.Signer, mutate func(*msg.CertReqData)) *msg.CertReq {
	t.Helper()
	spki, err := pki.MarshalPublicKey(certKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	data := &msg.CertReqData{
		LIDEE: []byte("lid-ee"), ChallCA: challCA, RequestType: msg.CardInitialSig,
		RequestDate: f.now, RegFormID: regFormID,
		RegForm: []msg.RegFormItem{{FieldName: "Name on card", FieldValue: "A N Other"}, {FieldName: "Branch", FieldValue: branchValue}},
	}
	data.PublicKeySorE.PublicKeyS = spki
	if mutate != nil {
		mutate(data)
	}
	acct := &msg.AcctInfo{PANData0: &msg.PANData0{PAN: pan, CardExpiry: f.now.AddDate(2, 0, 0).Format("200601")}}
	req, err := wallet.SealCertReq(f.st, rand.Reader, signKey, f.exCert, data, acct, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (f *fixture) newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := f.st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantCode(t testing.TB, err error, code msg.ErrorCode) {
	t.Helper()
	var pe *msg.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a SET Error, want %v", err, code)
	}
	if pe.Code != code {
		t.Fatalf("ErrorCode = %v, want %v (%v)", pe.Code, code, err)
	}
}

func wantStatus(t testing.TB, err error, code msg.CertStatusCode) *wallet.RefusedError {
	t.Helper()
	var re *wallet.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a CertStatus refusal, want %v", err, code)
	}
	if re.Status.CertStatusCode != code {
		t.Fatalf("CertStatus = %v, want %v (%v)", re.Status.CertStatusCode, code, err)
	}
	return re
}

// TestRegisterThenPurchase registers a card over the protocol, then pays
// with the registered credentials: the gateway checks the certificate's
// PANSecret hash against the PANData the wallet sends, so this holds only
// if the CA and the wallet derived the same PANSecret.
func TestRegisterThenPurchase(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, st)
			for _, pan := range []string{visaPAN, mcPAN} {
				reg, err := wallet.Register(ctx, f.rt(), f.regConfig(pan))
				if err != nil {
					t.Fatalf("Register %s: %v", pan[:6], err)
				}
				assertNoPAN(t, reg.Cert, pan)
				cert, err := pki.ParseCertificate(reg.Cert)
				if err != nil {
					t.Fatal(err)
				}
				if cert.CertType != pki.CertTypeCard || cert.KeyUsage != x509.KeyUsageDigitalSignature {
					t.Errorf("certificate type %v usage %v", cert.CertType, cert.KeyUsage)
				}
				if !bytes.Equal(cert.RawIssuer, f.lab.Hierarchy.CCA.Cert.RawSubject) {
					t.Error("certificate not issued by the cardholder CA")
				}
				if reg.Card.PANSecret == reg.Card.CardSecret || reg.Card.PANSecret == (msg.Secret{}) {
					t.Error("PANSecret is not CardSecret ⊕ a nonce")
				}

				w, err := wallet.New(wallet.Config{Suite: st, Key: reg.Key, Cert: reg.Cert, Chain: reg.Chain, Card: reg.Card,
					Roots: f.lab.Roots, Now: func() time.Time { return f.now }})
				if err != nil {
					t.Fatal(err)
				}
				offer, err := f.lab.Merchant.Checkout(ctx, "1 × Registered goods", lab.USD(1999))
				if err != nil {
					t.Fatal(err)
				}
				_, res, err := w.Pay(ctx, wire.ServeFunc(f.lab.Merchant.Serve), lab.OfferFor(offer))
				if err != nil {
					t.Fatalf("Pay with registered card: %v", err)
				}
				if res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("completion = %v", res.Completion)
				}
			}
			if n := f.issued.Load(); n != 2 {
				t.Errorf("issued %d certificates, want 2", n)
			}
		})
	}
}

// TestRefusals checks each way a registration must fail, with its SET
// code, and that none issues a certificate.
func TestRefusals(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, st)

			t.Run("wrong PoP", func(t *testing.T) {
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				req := f.certReq(t, f.challCA(t, res), visaPAN, f.newKey(t), f.newKey(t), nil)
				_, err := f.call(t, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("bad PoPSignature", func(t *testing.T) {
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				k := f.newKey(t)
				req := f.certReq(t, f.challCA(t, res), visaPAN, k, k, func(d *msg.CertReqData) {
					d.PoPSignatures = []msg.PoPSignature{{PoPKey: msg.PoPKeyS, SignatureAlgorithm: f.lab.Hierarchy.CCA.Cert.SignatureAlgorithm, Signature: []byte{1, 2, 3}}}
				})
				_, err := f.call(t, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("missing chall-CA", func(t *testing.T) {
				k := f.newKey(t)
				_, err := f.call(t, f.certReq(t, msg.Challenge{1, 2, 3}, visaPAN, k, k, nil))
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("stale chall-CA", func(t *testing.T) {
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				saved := f.now
				defer func() { f.now = saved }()
				f.now = f.now.Add(31 * time.Minute)
				k := f.newKey(t)
				_, err := f.call(t, f.certReq(t, f.challCA(t, res), visaPAN, k, k, nil))
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("replayed CertReq", func(t *testing.T) {
				reg, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				req, err := reg.HandleRegFormRes(res)
				if err != nil {
					t.Fatal(err)
				}
				m, err := f.call(t, req)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := reg.HandleCertRes(m.(*msg.CertRes)); err != nil {
					t.Fatal(err)
				}
				before := f.issued.Load()
				_, err = f.call(t, req)
				wantCode(t, err, msg.ChallengeMismatch)
				if f.issued.Load() != before {
					t.Error("replay issued a certificate")
				}
			})
			t.Run("chall-CA of another card", func(t *testing.T) {
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				k := f.newKey(t)
				_, err := f.call(t, f.certReq(t, f.challCA(t, res), otherVisa, k, k, nil))
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("reused key", func(t *testing.T) {
				cfg := f.regConfig(visaPAN)
				cfg.Key = f.newKey(t)
				if _, err := wallet.Register(ctx, f.rt(), cfg); err != nil {
					t.Fatal(err)
				}
				before := f.issued.Load()
				cfg.Card.PAN = otherVisa
				_, err := wallet.Register(ctx, f.rt(), cfg)
				wantStatus(t, err, msg.RejectByAgent)
				if f.issued.Load() != before {
					t.Error("a reused key was certified")
				}
			})
			t.Run("tampered RegFormRes", func(t *testing.T) {
				reg, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				i := bytes.Index(res.SignedData, []byte(branchValue))
				if i < 0 {
					t.Fatal("form not found in RegFormRes")
				}
				bad := bytes.Clone(res.SignedData)
				bad[i] ^= 0x01
				_, err := reg.HandleRegFormRes(&msg.RegFormRes{SignedData: bad})
				wantCode(t, err, msg.SignatureFailure)
			})
			formCases := []struct {
				name   string
				mutate func(*msg.CertReqData)
			}{
				{"invisible field altered", func(d *msg.CertReqData) { d.RegForm[1].FieldValue = "B-99" }},
				{"required field missing", func(d *msg.CertReqData) { d.RegForm = d.RegForm[1:] }},
				{"unknown field", func(d *msg.CertReqData) {
					d.RegForm = append(d.RegForm, msg.RegFormItem{FieldName: "Mother's maiden name", FieldValue: "x"})
				}},
				{"other form", func(d *msg.CertReqData) { d.RegFormID = regFormID + 1 }},
			}
			for _, c := range formCases {
				t.Run("form: "+c.name, func(t *testing.T) {
					_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
					k := f.newKey(t)
					m, err := f.call(t, f.certReq(t, f.challCA(t, res), visaPAN, k, k, c.mutate))
					if err != nil {
						t.Fatal(err)
					}
					d := certResData(t, f, m)
					if d.CertStatus.CertStatusCode != msg.RejectByIssuer || len(d.CertStatus.FailedItemSeq) == 0 || d.CertThumbs != nil {
						t.Fatalf("CertStatus %v, failed items %v, thumbs %v", d.CertStatus.CertStatusCode, d.CertStatus.FailedItemSeq, d.CertThumbs)
					}
				})
			}
			t.Run("unknown BIN at RegFormReq", func(t *testing.T) {
				_, err := wallet.Register(ctx, f.rt(), f.regConfig(unknownPAN))
				if !errors.Is(err, wallet.ErrReferred) {
					t.Fatalf("err = %v, want a referral", err)
				}
			})
			t.Run("unknown BIN at CertReq", func(t *testing.T) {
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				k := f.newKey(t)
				m, err := f.call(t, f.certReq(t, f.challCA(t, res), unknownPAN, k, k, nil))
				if err != nil {
					t.Fatal(err)
				}
				if d := certResData(t, f, m); d.CertStatus.CertStatusCode != msg.InvalidBIN {
					t.Fatalf("CertStatus = %v, want invalidBIN", d.CertStatus.CertStatusCode)
				}
			})
			t.Run("not a CA message", func(t *testing.T) {
				_, err := f.call(t, &msg.PInitReq{LocalIDC: []byte("x"), Language: "en", BrandID: "SETpay", BIN: "411111"})
				wantCode(t, err, msg.MessageNotSupported)
			})
			t.Run("other brand", func(t *testing.T) {
				cfg := f.regConfig(visaPAN)
				cfg.Card.BrandID = "OtherBrand"
				_, err := wallet.Register(ctx, f.rt(), cfg)
				wantCode(t, err, msg.UnspecifiedFailure)
			})
			// Every subtest above that reached issuance did so on purpose:
			// replayed CertReq and reused key register once each.
			if n := f.issued.Load(); n != 2 {
				t.Errorf("issued %d certificates, want exactly the 2 legitimate ones", n)
			}
		})
	}
}

func certResData(t testing.TB, f *fixture, m msg.Message) *msg.CertResData {
	t.Helper()
	res, ok := m.(*msg.CertRes)
	if !ok || res.Signed == nil {
		t.Fatalf("CA answered %T", m)
	}
	tbs, _, err := encap.OpenS(f.st, res.Signed, msg.OIDCertResData, pki.CertVerifier(pki.VerifyOptions{Roots: f.lab.Roots, Now: f.now, CertType: pki.CertTypeCCA}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := msg.UnmarshalCertResData(tbs)
	if err != nil {
		t.Fatal(err)
	}
	if d.CertStatus.NonceCCA != nil {
		t.Error("a refusal carries nonceCCA")
	}
	return d
}

// panForms are the encodings of a PAN a certificate could hide it in:
// ASCII, UTF-16 (either byte order), packed BCD (either nibble alignment).
func panForms(pan string) map[string][]byte {
	forms := map[string][]byte{"ASCII": []byte(pan), "BCD": bcd(pan), "BCD shifted": bcd(pan[1:])}
	var be, le []byte
	for _, u := range utf16.Encode([]rune(pan)) {
		be = append(be, byte(u>>8), byte(u))
		le = append(le, byte(u), byte(u>>8))
	}
	forms["UTF-16BE"], forms["UTF-16LE"] = be, le
	return forms
}

// assertNoPAN fails if der holds the PAN in any of panForms.
func assertNoPAN(t testing.TB, der []byte, pan string) {
	t.Helper()
	for name, b := range panForms(pan) {
		if bytes.Contains(der, b) {
			t.Errorf("certificate contains the PAN as %s", name)
		}
	}
}

// bcd packs digits two to a byte, dropping a trailing odd digit.
func bcd(digits string) []byte {
	var out []byte
	for i := 0; i+1 < len(digits); i += 2 {
		out = append(out, (digits[i]-'0')<<4|(digits[i+1]-'0'))
	}
	return out
}

// TestPANScanSees makes sure the scan would see a PAN: each form, embedded
// in a real certificate's bytes, is found.
func TestPANScanSees(t *testing.T) {
	f := newFixture(t, suite.NewModern())
	base := f.lab.Hierarchy.CCA.Cert.Raw
	for name, b := range panForms(visaPAN) {
		der := append(append(bytes.Clone(base[:40]), b...), base[40:]...)
		found := false
		for _, b2 := range panForms(visaPAN) {
			found = found || bytes.Contains(der, b2)
		}
		if !found {
			t.Errorf("%s: the scan misses the PAN", name)
		}
	}
	assertNoPAN(t, base, visaPAN)
}
