package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// renewFixture is a lab (for the hierarchy and its revocation lists) with
// the three registration CAs on its CCA, MCA and PCA, each served over
// loopback HTTP. The cardholder CA keeps its state in SQLite, so its own
// revocation records are checked; all three check the lab's CRLs.
type renewFixture struct {
	st               suite.Suite
	lab              *lab.Lab
	db               *sqlite.DB // the cardholder CA's
	cca, mca, pca    *ca.CA
	ccaEx, mcaEx     []byte
	ccaRT, mcaRT     wire.RoundTripper
	pcaRT            wire.RoundTripper
	now              time.Time
	issued           atomic.Int32 // certificates the CAs logged as issued or renewed
	ccaStore, eeKeys ca.Store
	// review, set before build, holds every request the CAs would
	// approve for an operator's decision.
	review bool
}

const otherMerID, otherMerName = "MER-0043", "Quayside Prints"

func newRenewFixture(t *testing.T, st suite.Suite) *renewFixture {
	t.Helper()
	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	db := sqlitetest.Memory(t)
	f := &renewFixture{st: st, db: db, now: time.Now().UTC().Truncate(time.Second)}
	var err error
	f.lab, err = lab.New(lab.Options{Suite: st, MerchantStore: ms, GatewayStore: gs, Limit: 100000,
		Now: func() time.Time { return f.now }, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.ccaStore, f.eeKeys = ca.NewSQLStore(db, 0), ca.NewMemoryStore()
	f.build(t)
	return f
}

// build makes the CAs afresh at f.now (their key-exchange certificates
// valid from then), keeping their stores.
func (f *renewFixture) build(t *testing.T) {
	t.Helper()
	h := f.lab.Hierarchy
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{
		{AcquirerBIN: acqBIN, MerID: merID, Name: merName, City: "Springfield"},
		{AcquirerBIN: acqBIN, MerID: otherMerID, Name: otherMerName, City: "Springfield"},
		{AcquirerBIN: acqBIN, BusinessID: gwBusiness, Name: gwName},
	}}
	log := slog.New(countRenewed{&f.issued})
	mk := func(a *pki.Authority, ct pki.CertType, store ca.Store) (*ca.CA, []byte, wire.RoundTripper) {
		cfg := ca.Config{
			Suite: f.st, BrandID: "SETpay", Authority: a,
			Roots: f.lab.Roots, Store: store, Revocation: f.lab.Revocations(),
			Now: func() time.Time { return f.now }, Log: log,
		}
		if ct == pki.CertTypeCCA {
			cfg.Issuers = []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: policyText, Form: &msg.RegTemplate{
				RegFormID: regFormID, RegFieldSeq: []msg.RegField{{FieldName: "Name on card", FieldRequired: true}},
			}}}
			if f.review {
				cfg.IssuerPolicy = ca.ReviewCardholders{}
			}
		} else {
			cfg.Acquirer = records
			if f.review {
				cfg.Acquirer = ca.ReviewAcquirer{AcquirerPolicy: records}
			}
		}
		c, exCert, err := lab.NewRegistrationCA(cfg, h.Brand, ct, f.now)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(transport.Handler(c.Serve, quiet))
		t.Cleanup(srv.Close)
		return c, exCert, &transport.Client{URL: srv.URL}
	}
	f.cca, f.ccaEx, f.ccaRT = mk(h.CCA, pki.CertTypeCCA, f.ccaStore)
	f.mca, f.mcaEx, f.mcaRT = mk(h.MCA, pki.CertTypeMCA, f.eeKeys)
	f.pca, _, f.pcaRT = mk(h.PCA, pki.CertTypePCA, f.eeKeys)
}

// countRenewed counts the CAs' "issued" and "renewed" log records, so a
// test can assert a refusal issued nothing.
type countRenewed struct{ n *atomic.Int32 }

func (h countRenewed) Enabled(context.Context, slog.Level) bool { return true }
func (h countRenewed) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "issued") || strings.Contains(r.Message, "renewed") {
		h.n.Add(1)
	}
	return nil
}
func (h countRenewed) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countRenewed) WithGroup(string) slog.Handler      { return h }

func (f *renewFixture) clock() func() time.Time { return func() time.Time { return f.now } }

func (f *renewFixture) walletConfig(pan string) wallet.RegisterConfig {
	return wallet.RegisterConfig{
		Suite: f.st, Roots: f.lab.Roots, Answers: map[string]string{"Name on card": "A N Other"},
		Card: wallet.Card{PAN: pan, Expiry: f.now.AddDate(3, 0, 0).Format("200601"), BrandID: "SETpay"},
		Now:  f.clock(),
	}
}

func (f *renewFixture) merchantConfig(id, name string) merchant.RegisterConfig {
	return merchant.RegisterConfig{
		Suite: f.st, BrandID: "SETpay", MerchantID: id, AcquirerBIN: acqBIN, Roots: f.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: name}, Now: f.clock(),
	}
}

func (f *renewFixture) gatewayConfig() gateway.RegisterConfig {
	return gateway.RegisterConfig{
		Suite: f.st, BrandID: "SETpay", AcquirerBIN: acqBIN, BusinessID: gwBusiness, Roots: f.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: gwName}, Now: f.clock(),
	}
}

// noneIssued runs refuse and checks no CA issued anything meanwhile.
func (f *renewFixture) noneIssued(t *testing.T, refuse func()) {
	t.Helper()
	before := f.issued.Load()
	refuse()
	if n := f.issued.Load() - before; n != 0 {
		t.Fatalf("%d certificates issued by a refused renewal", n)
	}
}

// TestRenewal, in each suite, registers two cardholders, a merchant and a
// gateway over HTTP; checks that each renewal a cardholder CA must refuse
// is refused with its code and issues nothing; renews the first
// cardholder, the merchant and the gateway; has the renewed parties —
// built from nothing but what renewal returned — complete a purchase and
// capture; and last refuses to renew an expired certificate.
func TestRenewal(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newRenewFixture(t, st)
			aliceKey, err := st.NewSigningKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			acfg := f.walletConfig(visaPAN)
			acfg.Key = aliceKey
			w0, err := wallet.Register(ctx, f.ccaRT, acfg)
			if err != nil {
				t.Fatalf("wallet.Register: %v", err)
			}
			bob, err := wallet.Register(ctx, f.ccaRT, f.walletConfig(otherVisa))
			if err != nil {
				t.Fatalf("wallet.Register: %v", err)
			}
			m0, err := merchant.Register(ctx, f.mcaRT, f.merchantConfig(merID, merName))
			if err != nil {
				t.Fatalf("merchant.Register: %v", err)
			}
			g0, err := gateway.Register(ctx, f.pcaRT, f.gatewayConfig())
			if err != nil {
				t.Fatalf("gateway.Register: %v", err)
			}
			f.cardholderRefusals(t, w0, aliceKey, bob)
			f.now = f.now.Add(24 * time.Hour)

			w1, err := wallet.Renew(ctx, f.ccaRT, f.walletConfig(visaPAN), w0)
			if err != nil {
				t.Fatalf("wallet.Renew: %v", err)
			}
			m1, err := merchant.Renew(ctx, f.mcaRT, f.merchantConfig(merID, merName), m0)
			if err != nil {
				t.Fatalf("merchant.Renew: %v", err)
			}
			g1, err := gateway.Renew(ctx, f.pcaRT, f.gatewayConfig(), g0)
			if err != nil {
				t.Fatalf("gateway.Renew: %v", err)
			}

			// Same subjects, new keys, new certificates.
			for _, p := range []struct {
				name     string
				old, new []byte
				sameName bool
			}{
				{"cardholder", w0.Cert, w1.Cert, false},
				{"merchant signature", m0.SigCert, m1.SigCert, true},
				{"merchant exchange", m0.ExCert, m1.ExCert, true},
				{"gateway signature", g0.SigCert, g1.SigCert, true},
				{"gateway exchange", g0.ExCert, g1.ExCert, true},
			} {
				o, err := pki.ParseCertificate(p.old)
				if err != nil {
					t.Fatal(err)
				}
				n, err := pki.ParseCertificate(p.new)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(o.RawSubjectPublicKeyInfo, n.RawSubjectPublicKeyInfo) || o.SerialNumber.Cmp(n.SerialNumber) == 0 {
					t.Errorf("%s: renewal kept the key or the serial", p.name)
				}
				if pki.SameSubject(p.old, p.new) != p.sameName {
					t.Errorf("%s: same subject = %v, want %v (%v → %v)", p.name, !p.sameName, p.sameName, o.Subject, n.Subject)
				}
			}
			// The cardholder's new certificate binds the same card under a
			// fresh PANSecret.
			if w1.Card.PAN != w0.Card.PAN || w1.Card.PANSecret == w0.Card.PANSecret || w1.Card.CardSecret != w0.Card.PANSecret {
				t.Errorf("renewed card: PAN kept %v, PANSecret fresh %v, CardSecret is the old PANSecret %v",
					w1.Card.PAN == w0.Card.PAN, w1.Card.PANSecret != w0.Card.PANSecret, w1.Card.CardSecret == w0.Card.PANSecret)
			}

			f.purchase(t, w1, m1, g1)

			t.Run("expired", func(t *testing.T) {
				c, err := pki.ParseCertificate(w0.Cert)
				if err != nil {
					t.Fatal(err)
				}
				f.now = c.NotAfter.Add(time.Hour)
				f.build(t)
				f.noneIssued(t, func() {
					_, err := wallet.Renew(ctx, f.ccaRT, f.walletConfig(visaPAN), w0)
					wantCode(t, err, msg.ExpiredCertificate)
				})
			})
		})
	}
}

// cardholderRefusals: each renewal a cardholder CA must refuse is refused
// with its code, and issues nothing. alice's key is aliceKey.
func (f *renewFixture) cardholderRefusals(t *testing.T, alice *wallet.Registered, aliceKey crypto.Signer, bob *wallet.Registered) {
	ctx, st := context.Background(), f.st
	t.Run("someone else's certificate", func(t *testing.T) {
		// Alice, with her own certificate, renews into Bob's card: she
		// knows his number but not his certificate's PANSecret.
		cur := *alice
		cur.Card = bob.Card
		cur.Card.PANSecret = alice.Card.PANSecret
		f.noneIssued(t, func() {
			_, err := wallet.Renew(ctx, f.ccaRT, f.walletConfig(otherVisa), &cur)
			wantStatus(t, err, msg.RejectByIssuer)
		})
	})
	t.Run("old key", func(t *testing.T) {
		cfg := f.walletConfig(visaPAN)
		cfg.Key = aliceKey
		f.noneIssued(t, func() {
			_, err := wallet.Renew(ctx, f.ccaRT, cfg, alice)
			wantStatus(t, err, msg.RejectByAgent)
		})
	})
	t.Run("no current-key signature", func(t *testing.T) {
		// Signed with the new key alone, as a first registration is.
		cfg := f.walletConfig(visaPAN)
		newKey, err := st.NewSigningKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Key = newKey
		f.noneIssued(t, func() {
			rn, res := f.toRenewalRegFormRes(t, cfg, alice)
			data, acct, err := rn.CertReqData(res)
			if err != nil {
				t.Fatal(err)
			}
			req, err := wallet.SealCertReq(st, rand.Reader, newKey, rn.ExchangeCert(), data, acct, f.now)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.callCA(f.ccaRT, req)
			wantCode(t, err, msg.SignatureFailure)
		})
	})
	t.Run("revoked", func(t *testing.T) {
		// Revoked in the CA's own records (SQLStore), with no CRL saying
		// so yet.
		c, err := pki.ParseCertificate(bob.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.IssuedCert(ctx, c.SerialNumber); err != nil {
			t.Fatalf("the CA did not record issuing the certificate: %v", err)
		}
		if err := f.db.Revoke(ctx, &store.Revocation{Serial: c.SerialNumber, Time: f.now, Reason: int(pki.ReasonKeyCompromise)}); err != nil {
			t.Fatal(err)
		}
		f.noneIssued(t, func() {
			_, err := wallet.Renew(ctx, f.ccaRT, f.walletConfig(otherVisa), bob)
			wantCode(t, err, msg.RevokedCertificate)
		})
	})
}

// purchase builds the three parties on the renewed credentials and runs a
// purchase and its capture.
func (f *renewFixture) purchase(t *testing.T, w *wallet.Registered, m *merchant.Registered, g *gateway.Registered) {
	t.Helper()
	ctx := context.Background()
	gs := sqlitetest.Memory(t)
	ms := sqlitetest.Memory(t)
	rev := f.lab.Revocations()
	gw, err := gateway.New(gateway.Config{
		Suite: f.st, Name: gwName, SigningKey: g.SigKey, SigningCert: g.SigCert,
		ExchangeKey: g.ExKey, ExchangeCert: g.ExCert, Chain: g.Chain, Roots: f.lab.Roots,
		Store: gs, Revocation: rev, Limit: func(string) int64 { return 100000 },
		Now: f.clock(), Log: quiet,
	})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ep := &wire.Endpoint{Suite: f.st, Now: f.clock()}
	mer, err := merchant.New(merchant.Config{
		Suite: f.st, MerchantID: merID, BrandID: "SETpay",
		SigningKey: m.SigKey, SigningCert: m.SigCert, ExchangeKey: m.ExKey, ExchangeCert: m.ExCert, Chain: m.Chain,
		GatewayCert: g.ExCert, GatewayChain: g.Chain, Roots: f.lab.Roots, Store: ms, Revocation: rev,
		Gateway: &wire.GatewayClient{Endpoint: ep, RT: wire.ServeFunc(gw.Serve)},
		Now:     f.clock(), Log: quiet,
	})
	if err != nil {
		t.Fatalf("merchant.New: %v", err)
	}
	wal, err := wallet.New(wallet.Config{
		Suite: f.st, Key: w.Key, Cert: w.Cert, Chain: w.Chain, Card: w.Card,
		Roots: f.lab.Roots, Revocation: rev, Now: f.clock(),
	})
	if err != nil {
		t.Fatalf("wallet.New: %v", err)
	}
	offer, err := mer.Checkout(ctx, "1 × Notes on the Synthesis of Form", lab.USD(2500))
	if err != nil {
		t.Fatal(err)
	}
	p, res, err := wal.Pay(ctx, wire.ServeFunc(mer.Serve), lab.OfferFor(offer))
	if err != nil {
		t.Fatalf("Pay with renewed credentials: %v", err)
	}
	if res.Completion != msg.AuthorizationAccepted {
		t.Fatalf("completion = %v", res.Completion)
	}
	if code, err := mer.Capture(ctx, p.TransIDs().XID); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture = %v, %v", code, err)
	}
}

// toRenewalRegFormRes runs a renewal up to the RegFormRes.
func (f *renewFixture) toRenewalRegFormRes(t *testing.T, cfg wallet.RegisterConfig, cur *wallet.Registered) (*wallet.Renewal, *msg.RegFormRes) {
	t.Helper()
	rn, init, err := wallet.NewRenewal(cfg, cur)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.callCA(f.ccaRT, init)
	if err != nil {
		t.Fatal(err)
	}
	formReq, err := rn.HandleCardCInitRes(m.(*msg.CardCInitRes))
	if err != nil {
		t.Fatal(err)
	}
	if m, err = f.callCA(f.ccaRT, formReq); err != nil {
		t.Fatal(err)
	}
	return rn, m.(*msg.RegFormRes)
}

func (f *renewFixture) callCA(rt wire.RoundTripper, m msg.Message) (msg.Message, error) {
	ep := &wire.Endpoint{Suite: f.st, Now: f.clock()}
	return ep.Call(context.Background(), rt, "CA", nil, nil, m)
}

// TestMerchantGatewayRenewalRefusals: each renewal a merchant or payment
// CA must refuse is refused with its code, and issues nothing. Revocation
// here comes from the lab's CRLs.
func TestMerchantGatewayRenewalRefusals(t *testing.T) {
	st := suite.NewModern() // set1 runs the same code in TestRenewal
	ctx := context.Background()
	f := newRenewFixture(t, st)
	shop, err := merchant.Register(ctx, f.mcaRT, f.merchantConfig(merID, merName))
	if err != nil {
		t.Fatal(err)
	}
	other, err := merchant.Register(ctx, f.mcaRT, f.merchantConfig(otherMerID, otherMerName))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.Register(ctx, f.pcaRT, f.gatewayConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("someone else's certificate", func(t *testing.T) {
		// The other merchant, with its own certificate, renews as the shop.
		f.noneIssued(t, func() {
			_, err := merchant.Renew(ctx, f.mcaRT, f.merchantConfig(merID, merName), other)
			wantMerStatus(t, err, msg.RejectByAgent)
		})
	})
	t.Run("merchant certificate at the payment CA", func(t *testing.T) {
		cfg := f.gatewayConfig()
		cur := &gateway.Registered{RawSigKey: shop.RawSigKey, SigCert: shop.SigCert, Chain: shop.Chain}
		f.noneIssued(t, func() {
			_, err := gateway.Renew(ctx, f.pcaRT, cfg, cur)
			wantCode(t, err, msg.InvalidCertificate)
		})
	})
	t.Run("old key", func(t *testing.T) {
		cfg := f.merchantConfig(merID, merName)
		cfg.SigKey = shop.RawSigKey
		f.noneIssued(t, func() {
			_, err := merchant.Renew(ctx, f.mcaRT, cfg, shop)
			wantMerStatus(t, err, msg.RejectByAgent)
		})
		gcfg := f.gatewayConfig()
		gcfg.ExKey = gw.RawExKey // certified before: the registry refuses it
		f.noneIssued(t, func() {
			_, err := gateway.Renew(ctx, f.pcaRT, gcfg, gw)
			wantMerStatus(t, err, msg.RejectByAgent)
		})
	})
	t.Run("no current-key signature", func(t *testing.T) {
		cfg := f.merchantConfig(merID, merName)
		newKey, err := st.NewSigningKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cfg.SigKey = newKey
		reg, init, err := merchant.NewRenewal(cfg, shop)
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.callCA(f.mcaRT, init)
		if err != nil {
			t.Fatal(err)
		}
		data, err := reg.CertReqData(m.(*msg.MeAqCInitRes))
		if err != nil {
			t.Fatal(err)
		}
		f.noneIssued(t, func() {
			req, err := merchant.SealCertReq(st, rand.Reader, newKey, f.mcaEx, data, f.now)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.callCA(f.mcaRT, req)
			wantCode(t, err, msg.SignatureFailure)
		})
	})
	t.Run("no proof of the new signature key", func(t *testing.T) {
		reg, init, err := merchant.NewRenewal(f.merchantConfig(merID, merName), shop)
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.callCA(f.mcaRT, init)
		if err != nil {
			t.Fatal(err)
		}
		data, err := reg.CertReqData(m.(*msg.MeAqCInitRes))
		if err != nil {
			t.Fatal(err)
		}
		var stranger crypto.Signer
		if stranger, err = st.NewSigningKey(rand.Reader); err != nil {
			t.Fatal(err)
		}
		if err := merchant.AddPoP(st, rand.Reader, data, msg.PoPKeyS, stranger); err != nil {
			t.Fatal(err)
		}
		f.noneIssued(t, func() {
			_, err := f.sendMer(reg, data)
			wantCode(t, err, msg.SignatureFailure)
		})
	})
	t.Run("revoked", func(t *testing.T) {
		if err := f.lab.Revoke(other.SigCert, pki.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
		f.noneIssued(t, func() {
			_, err := merchant.Renew(ctx, f.mcaRT, f.merchantConfig(otherMerID, otherMerName), other)
			wantCode(t, err, msg.RevokedCertificate)
		})
	})
	t.Run("expired", func(t *testing.T) {
		c, err := pki.ParseCertificate(shop.SigCert)
		if err != nil {
			t.Fatal(err)
		}
		f.now = c.NotAfter.Add(time.Hour)
		f.build(t)
		f.noneIssued(t, func() {
			_, err := merchant.Renew(ctx, f.mcaRT, f.merchantConfig(merID, merName), shop)
			wantCode(t, err, msg.ExpiredCertificate)
		})
	})
}

func (f *renewFixture) sendMer(reg *merchant.Registration, data *msg.CertReqData) (*merchant.Registered, error) {
	req, err := reg.Seal(data)
	if err != nil {
		return nil, err
	}
	m, err := f.callCA(f.mcaRT, req)
	if err != nil {
		return nil, err
	}
	return reg.HandleCertRes(m.(*msg.CertRes))
}
