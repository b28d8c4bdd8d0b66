package ca_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

const (
	acqBIN      = "400000"
	merID       = "MER-0042"
	merName     = "Harbour Books"
	gwBusiness  = "17"
	gwName      = "SETpay Acquirer Gateway"
	unknownMer  = "MER-9999"
	otherAcqBIN = "499999"
)

// mrFixture is a lab (for the hierarchy) with a merchant CA and a payment
// CA on the lab's MCA and PCA, one key registry between them, and a clock
// the test moves.
type mrFixture struct {
	st       suite.Suite
	lab      *lab.Lab
	mca, pca *ca.CA
	mcaEx    []byte // the MCA's key-exchange certificate
	now      time.Time
	issued   atomic.Int32
}

func newMRFixture(t testing.TB, st suite.Suite) *mrFixture {
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
	f := &mrFixture{st: st, now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return f.now }
	f.lab, err = lab.New(lab.Options{Suite: st, MerchantStore: ms, GatewayStore: gs, Limit: 100000, Now: clock,
		MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{
		{AcquirerBIN: acqBIN, MerID: merID, Name: merName, City: "Springfield"},
		{AcquirerBIN: acqBIN, BusinessID: gwBusiness, Name: gwName},
	}}
	store := ca.NewMemoryStore()
	f.mca, f.mcaEx = f.newCA(t, f.lab.Hierarchy.MCA, pki.CertTypeMCA, records, store)
	f.pca, _ = f.newCA(t, f.lab.Hierarchy.PCA, pki.CertTypePCA, records, store)
	return f
}

func (f *mrFixture) newCA(t testing.TB, a *pki.Authority, ct pki.CertType, p ca.AcquirerPolicy, store ca.Store) (*ca.CA, []byte) {
	t.Helper()
	c, exCert, err := lab.NewRegistrationCA(ca.Config{
		Suite: f.st, BrandID: "SETpay", Authority: a,
		Roots: f.lab.Roots, Store: store, Acquirer: p, Now: func() time.Time { return f.now },
		Log: slog.New(countIssued{&f.issued}),
	}, f.lab.Hierarchy.Brand, ct, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return c, exCert
}

// exSigner is a key-exchange key in its signing form, as the registration
// uses it for the proof of possession.
func exSigner(t testing.TB, k suite.ExchangeKey) crypto.Signer {
	t.Helper()
	der, err := suite.MarshalExchangeKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return p.(crypto.Signer)
}

func (f *mrFixture) merchantConfig() merchant.RegisterConfig {
	return merchant.RegisterConfig{
		Suite: f.st, BrandID: "SETpay", MerchantID: merID, AcquirerBIN: acqBIN, Roots: f.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: merName}, Now: func() time.Time { return f.now },
	}
}

func (f *mrFixture) gatewayConfig() gateway.RegisterConfig {
	return gateway.RegisterConfig{
		Suite: f.st, BrandID: "SETpay", AcquirerBIN: acqBIN, BusinessID: gwBusiness, Roots: f.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: gwName}, Now: func() time.Time { return f.now },
	}
}

func (f *mrFixture) call(t testing.TB, c *ca.CA, m msg.Message) (msg.Message, error) {
	t.Helper()
	ep := &wire.Endpoint{Suite: f.st, Now: func() time.Time { return f.now }}
	return ep.Call(context.Background(), wire.ServeFunc(c.Serve), "CA", nil, nil, m)
}

// merchantData runs a merchant registration up to the CertReqData it
// would send, for the test to alter.
func (f *mrFixture) merchantData(t testing.TB, cfg merchant.RegisterConfig) (*merchant.Registration, *msg.CertReqData) {
	t.Helper()
	reg, init, err := merchant.NewRegistration(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.call(t, f.mca, init)
	if err != nil {
		t.Fatalf("Me-AqCInitReq: %v", err)
	}
	data, err := reg.CertReqData(m.(*msg.MeAqCInitRes))
	if err != nil {
		t.Fatalf("Me-AqCInitRes: %v", err)
	}
	return reg, data
}

// send seals data as reg would and returns the CA's answer as reg reads it.
func (f *mrFixture) send(t testing.TB, reg *merchant.Registration, data *msg.CertReqData) (*merchant.Registered, error) {
	t.Helper()
	req, err := reg.Seal(data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.call(t, f.mca, req)
	if err != nil {
		return nil, err
	}
	return reg.HandleCertRes(m.(*msg.CertRes))
}

func wantMerStatus(t testing.TB, err error, code msg.CertStatusCode) {
	t.Helper()
	var re *merchant.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a CertStatus refusal, want %v", err, code)
	}
	if re.Status.CertStatusCode != code {
		t.Fatalf("CertStatus = %v, want %v (%v)", re.Status.CertStatusCode, code, err)
	}
}

// TestMerchantGatewayRegistration registers a merchant at the MCA and a
// gateway at the PCA over the protocol and checks what each got: two
// certificates of its type, one per key and usage, the merchant's carrying
// the acquirer's record of it.
func TestMerchantGatewayRegistration(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newMRFixture(t, st)
			m, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), f.merchantConfig())
			if err != nil {
				t.Fatalf("merchant.Register: %v", err)
			}
			sig, err := pki.ParseCertificate(m.SigCert)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := pki.ParseCertificate(m.ExCert)
			if err != nil {
				t.Fatal(err)
			}
			if sig.CertType != pki.CertTypeMer || ex.CertType != pki.CertTypeMer {
				t.Errorf("certificate types %v, %v", sig.CertType, ex.CertType)
			}
			if sig.KeyUsage != x509.KeyUsageDigitalSignature || ex.KeyUsage&x509.KeyUsageDigitalSignature != 0 {
				t.Errorf("key usages %v, %v: SET keeps signature and key exchange apart", sig.KeyUsage, ex.KeyUsage)
			}
			if md := sig.MerchantData; md == nil || md.MerID != merID || md.MerAcquirerBIN != acqBIN || md.MerNames[0].Name != merName {
				t.Errorf("merchantData = %+v", sig.MerchantData)
			}
			g, err := gateway.Register(ctx, wire.ServeFunc(f.pca.Serve), f.gatewayConfig())
			if err != nil {
				t.Fatalf("gateway.Register: %v", err)
			}
			gs, err := pki.ParseCertificate(g.SigCert)
			if err != nil {
				t.Fatal(err)
			}
			if gs.CertType != pki.CertTypePgwy || gs.Subject.CommonName != gwName {
				t.Errorf("gateway certificate %v %q", gs.CertType, gs.Subject.CommonName)
			}
			if n := f.issued.Load(); n != 2 {
				t.Errorf("%d issuance log records, want 2", n)
			}
		})
	}
}

// TestMerchantRegistrationRefusals: each defective request is refused
// with its SET Error or CertStatus, and nothing is issued.
func TestMerchantRegistrationRefusals(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := newMRFixture(t, st)
			ctx := context.Background()

			t.Run("signature key PoP", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				// The request is signed by another key than the one it
				// asks to have certified.
				other, err := st.NewSigningKey(rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				req, err := merchant.SealCertReq(st, rand.Reader, other, f.mcaEx, data, f.now)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.call(t, f.mca, req)
				wantCode(t, err, msg.SignatureFailure)
				// The forged request did not burn the nonce: the same data
				// sealed by the right key is still accepted. (Its issuance
				// is taken off the count the refusals must leave at zero.)
				if _, err := f.send(t, reg, data); err != nil {
					t.Fatalf("honest request after the forged one: %v", err)
				}
				f.issued.Add(-1)
			})
			t.Run("exchange key PoP", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				data.PoPSignatures[0].Signature[len(data.PoPSignatures[0].Signature)/2] ^= 1
				_, err := f.send(t, reg, data)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("exchange key PoP by another key", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				other, err := st.NewSigningKey(rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if err := merchant.AddPoP(st, rand.Reader, data, msg.PoPKeyE, other); err != nil {
					t.Fatal(err)
				}
				_, err = f.send(t, reg, data)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("no exchange key PoP", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				data.PoPSignatures = nil
				_, err := f.send(t, reg, data)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("missing chall-CA", func(t *testing.T) {
				// A well-proven request whose chall-CA is not one the CA
				// handed out: the PoP is re-made over the new PoPInput.
				cfg := f.merchantConfig()
				exKey, err := st.NewExchangeKey(rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ExKey = exKey
				reg, data := f.merchantData(t, cfg)
				data.ChallCA = msg.Challenge{}
				if err := merchant.AddPoP(st, rand.Reader, data, msg.PoPKeyE, exSigner(t, exKey)); err != nil {
					t.Fatal(err)
				}
				_, err = f.send(t, reg, data)
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("stale chall-CA", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				f.now = f.now.Add(31 * time.Minute)
				defer func() { f.now = f.now.Add(-31 * time.Minute) }()
				_, err := f.send(t, reg, data)
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("identity not the one vetted", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				data.IDData = &msg.IDData{MerchantAcquirerID: &msg.MerchantAcquirerID{MerchantBIN: acqBIN, MerchantID: "MER-0043"}}
				_, err := f.send(t, reg, data)
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("no identity", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				data.IDData = nil
				_, err := f.send(t, reg, data)
				wantCode(t, err, msg.ChallengeMismatch)
			})
			t.Run("merID not in records", func(t *testing.T) {
				cfg := f.merchantConfig()
				cfg.MerchantID = unknownMer
				_, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), cfg)
				if !errors.Is(err, merchant.ErrReferred) {
					t.Fatalf("err = %v, want a referral", err)
				}
			})
			t.Run("BIN not in records", func(t *testing.T) {
				cfg := f.merchantConfig()
				cfg.AcquirerBIN = otherAcqBIN
				_, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), cfg)
				if !errors.Is(err, merchant.ErrReferred) {
					t.Fatalf("err = %v, want a referral", err)
				}
			})
			t.Run("legal name not the acquirer's", func(t *testing.T) {
				cfg := f.merchantConfig()
				cfg.Answers = map[string]string{ca.FieldLegalName: "Harbour Books & Guns"}
				_, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), cfg)
				wantMerStatus(t, err, msg.RejectByAgent)
			})
			t.Run("tampered RegForm", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				data.RegForm = append(data.RegForm, msg.RegFormItem{FieldName: "Favourite colour", FieldValue: "red"})
				_, err := f.send(t, reg, data)
				wantMerStatus(t, err, msg.RejectByAgent)
			})
			t.Run("tampered RegFormID", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				data.RegFormID++
				_, err := f.send(t, reg, data)
				wantMerStatus(t, err, msg.RejectByAgent)
			})
			t.Run("tampered in transit", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				req, err := reg.Seal(data)
				if err != nil {
					t.Fatal(err)
				}
				req.Enc[len(req.Enc)-20] ^= 1
				_, err = f.call(t, f.mca, req)
				var pe *msg.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("tampered CertReq: %v, want a SET Error", err)
				}
			})
			t.Run("merchant at the PCA", func(t *testing.T) {
				_, err := merchant.Register(ctx, wire.ServeFunc(f.pca.Serve), f.merchantConfig())
				wantCode(t, err, msg.UnspecifiedFailure)
			})
			t.Run("gateway at the MCA", func(t *testing.T) {
				_, err := gateway.Register(ctx, wire.ServeFunc(f.mca.Serve), f.gatewayConfig())
				wantCode(t, err, msg.UnspecifiedFailure)
			})
			if n := f.issued.Load(); n != 0 {
				t.Fatalf("refusals issued %d times", n)
			}
			t.Run("reused key", func(t *testing.T) {
				first, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), f.merchantConfig())
				if err != nil {
					t.Fatal(err)
				}
				// Same signature key, fresh exchange key; then fresh
				// signature key, same exchange key; then the merchant's
				// key offered by a gateway at the other CA.
				cfg := f.merchantConfig()
				cfg.SigKey = first.RawSigKey
				_, err = merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), cfg)
				wantMerStatus(t, err, msg.RejectByAgent)
				cfg = f.merchantConfig()
				cfg.ExKey = first.RawExKey
				_, err = merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), cfg)
				wantMerStatus(t, err, msg.RejectByAgent)
				gcfg := f.gatewayConfig()
				gcfg.SigKey = first.RawSigKey
				_, err = gateway.Register(ctx, wire.ServeFunc(f.pca.Serve), gcfg)
				var re *gateway.RefusedError
				if !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByAgent {
					t.Fatalf("gateway with the merchant's key: %v", err)
				}
				if n := f.issued.Load(); n != 1 {
					t.Fatalf("%d issuances, want only the first registration's", n)
				}
			})
		})
	}
}

// FuzzMerchantServe feeds arbitrary bytes to a merchant CA: it must answer
// (an Error message) or fail cleanly, never panic, and never issue. The
// seeds are a Me-AqCInitReq and a valid CertReq whose chall-CA is spent
// before fuzzing starts.
func FuzzMerchantServe(f *testing.F) {
	fx := newMRFixture(f, suite.NewModern())
	reg, init, err := merchant.NewRegistration(fx.merchantConfig())
	if err != nil {
		f.Fatal(err)
	}
	res, err := fx.call(f, fx.mca, init)
	if err != nil {
		f.Fatal(err)
	}
	req, err := reg.HandleMeAqCInitRes(res.(*msg.MeAqCInitRes))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := fx.call(f, fx.mca, req); err != nil {
		f.Fatal(err)
	}
	hdr := &msg.MessageHeader{Date: fx.now, SWIdent: "fuzz"}
	for _, m := range []msg.Message{init, req} {
		b, err := msg.Wrap(hdr, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := fx.issued.Load()
		out, err := fx.mca.Serve(context.Background(), b)
		if err == nil && len(out) == 0 {
			t.Fatal("no answer and no error")
		}
		if fx.issued.Load() != before {
			t.Fatal("a fuzzed request was issued certificates")
		}
	})
}
