package ca_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/wallet"
)

// BenchmarkIssuance measures cardholder issuance (CR5–CR6) in process, by
// party, each against a bare certificate signature:
//
//	wallet-CertReq        the wallet's preparation: HandleRegFormRes (checks
//	                      the signed RegFormRes, signs and seals the CertReq)
//	ca-HandleCertReq      the CA's HandleCertReq over MemoryStore: open,
//	                      checks, issue, encrypted CertRes
//	ca-HandleCertReq-sqlite  the same over a SQLite file (WAL, fsync per commit)
//	pki-Issue             a bare pki.Authority.Issue of the same template
//
// The fixture, the registration up to RegFormRes and the cardholder's key
// generation are outside the timer. set1 generates an RSA key per operation, so run
// with a fixed count: go test -run '^$' -bench Issuance -benchtime 30x ./ca
func BenchmarkIssuance(b *testing.B) {
	for _, st := range suites() {
		b.Run(string(st.ID()), func(b *testing.B) {
			b.Run("wallet-CertReq", func(b *testing.B) {
				f := newFixture(b, st)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					reg, res := f.toRegFormRes(b, f.keyedConfig(b))
					b.StartTimer()
					if _, err := reg.HandleRegFormRes(res); err != nil {
						b.Fatal(err)
					}
				}
			})
			handle := func(b *testing.B, f *fixture) {
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					reg, res := f.toRegFormRes(b, f.keyedConfig(b))
					req, err := reg.HandleRegFormRes(res)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					cr, err := f.ca.HandleCertReq(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					if i == 0 {
						// Once, untimed: the answer is a certificate.
						b.StopTimer()
						if _, err := reg.HandleCertRes(cr); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				}
			}
			b.Run("ca-HandleCertReq", func(b *testing.B) { handle(b, newFixture(b, st)) })
			b.Run("ca-HandleCertReq-sqlite", func(b *testing.B) {
				f := newFixture(b, st)
				db, err := sqlite.Open(filepath.Join(b.TempDir(), "ca.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				f.ca = caOver(b, f, ca.NewSQLStore(db, 0))
				handle(b, f)
			})
			b.Run("pki-Issue", func(b *testing.B) {
				f := newFixture(b, st)
				k := f.newKey(b)
				tmpl, err := pki.CardholderTemplate(k.Public(), visaPAN, f.now.AddDate(2, 0, 0).Format("200601"),
					make([]byte, len(msg.Secret{})), st.Hash(), f.now)
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := f.lab.Hierarchy.CCA.Issue(rand.Reader, tmpl); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// keyedConfig is a registration with the cardholder's key made now, so the
// wallet does not generate it inside the timed step.
func (f *fixture) keyedConfig(tb testing.TB) wallet.RegisterConfig {
	cfg := f.regConfig(visaPAN)
	cfg.Key = f.newKey(tb)
	return cfg
}

// caOver returns a CA like the fixture's (same issuers and exchange
// certificate) over another store.
func caOver(tb testing.TB, f *fixture, s ca.Store) *ca.CA {
	tb.Helper()
	exKey, err := f.st.NewExchangeKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	f.exCert, err = ca.IssueExchangeCert(rand.Reader, f.lab.Hierarchy.Brand, exKey.Public(), "SETpay Cardholder CA", f.now)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ca.New(ca.Config{
		Suite: f.st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: f.exCert,
		Roots: f.lab.Roots, Store: s, Now: func() time.Time { return f.now }, Log: quiet,
		Issuers: []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: policyText, Form: &msg.RegTemplate{
			RegFormID: regFormID,
			RegFieldSeq: []msg.RegField{
				{FieldName: "Name on card", FieldRequired: true, FieldLen: 40},
				{FieldName: "Postal code", FieldLen: 10},
				{FieldName: "Branch", FieldInvisible: true, FieldValue: branchValue},
			},
		}}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
