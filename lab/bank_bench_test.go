package lab_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/setpay/setpay/bench"
	"github.com/setpay/setpay/suite"
)

// BenchmarkAuthorization measures one authorization per iteration —
// checkout, PInitReq/Res, PReq → AuthReq → issuer → AuthRes → PRes, no
// capture — with the parties' records in in-memory SQLite and the parties
// wired in process. "limit" is the gateway's built-in LimitIssuer; "bank"
// asks a real issuer host (its ledger in in-memory SQLite too) over ISO
// 8583 0100/0110 on 127.0.0.1 through banklink. The difference is the
// bank: the link's round trip and the ledger's hold.
func BenchmarkAuthorization(b *testing.B) {
	for _, st := range benchSuites() {
		b.Run(string(st.ID()), func(b *testing.B) {
			for _, issuer := range []struct {
				name string
				bank bool
			}{{"limit", false}, {"bank", true}} {
				b.Run(issuer.name, func(b *testing.B) {
					p := newAuthorizer(b, st, bench.PurchaserOptions{Bank: issuer.bank})
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if _, err := p.Authorize(ctx, 0); err != nil {
							b.Fatal(err)
						}
					}
					reportAuthsPerSecond(b)
				})
			}
		})
	}
}

// authParallelism bounds BenchmarkAuthorizationParallel: this many
// goroutines per GOMAXPROCS, each with its own wallet.
const authParallelism = 2

// BenchmarkAuthorizationParallel runs authorizations through the bank
// from several wallets at once (b.RunParallel), so that one purchase's
// cryptography overlaps another's wait on the link or the stores; its
// auths/s against BenchmarkAuthorization/<suite>/bank's says how much the
// parties and the link gain from concurrency.
func BenchmarkAuthorizationParallel(b *testing.B) {
	for _, st := range benchSuites() {
		b.Run(string(st.ID()), func(b *testing.B) {
			b.Run("bank", func(b *testing.B) {
				// RunParallel starts authParallelism × GOMAXPROCS goroutines.
				wallets := authParallelism * runtime.GOMAXPROCS(0)
				p := newAuthorizer(b, st, bench.PurchaserOptions{Bank: true, Cardholders: wallets})
				ctx := context.Background()
				var next atomic.Int32
				b.SetParallelism(authParallelism)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := int(next.Add(1) - 1)
					for pb.Next() {
						if _, err := p.Authorize(ctx, w); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportAuthsPerSecond(b)
			})
		})
	}
}

// newAuthorizer builds the purchaser and, when it has a bank, checks the
// bank's ledger once the benchmark is done: every approval left exactly
// its hold, debits equal credits.
func newAuthorizer(b *testing.B, st suite.Suite, opts bench.PurchaserOptions) *bench.Purchaser {
	b.Helper()
	p, err := bench.NewPurchaser(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Audit(context.Background()); err != nil {
			b.Errorf("ledger audit after the benchmark: %v", err)
		}
		if err := p.Close(); err != nil {
			b.Error(err)
		}
	})
	return p
}

// reportAuthsPerSecond adds the throughput: iterations over the measured
// time, which for RunParallel is wall time across all goroutines.
func reportAuthsPerSecond(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "auths/s")
	}
}
