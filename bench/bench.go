// Package bench measures what a SET purchase costs against the least it
// could cost: a whole purchase between the parties (messages, DER, stores
// and all) next to its cryptographic floor, the same signatures,
// envelopes, chain validations and digests performed bare (see Ops). The
// ratio of the two says how much the protocol machinery adds; absolute
// times say only how busy the machine was.
//
// `setpay bench` prints Run's table; the `go test -bench` benchmarks in
// lab measure the same two things, and the purchase over HTTP too.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/setpay/setpay/suite"
)

// Options says what Run measures.
type Options struct {
	Suites []suite.Suite
	// Purchases is how many purchases, and as many floors, each suite
	// runs (after one unmeasured warm-up of each). Default 50.
	Purchases int
	// Duration caps each measurement: once it has passed, a suite's
	// purchases (then its floors) stop short of Purchases. At least one of
	// each always runs. Zero means no cap.
	Duration time.Duration
	// Bank also measures authorizations through a real issuer host: its
	// ledger in in-memory SQLite, reached over ISO 8583 on 127.0.0.1
	// (PurchaserOptions.Bank). Authorizations through the gateway's
	// built-in LimitIssuer are always measured.
	Bank bool
	// Progress, when set, is told of each completed iteration.
	Progress func(p Progress)
}

// Progress reports Run's advance.
type Progress struct {
	Suite suite.ID
	Phase string // "setup", "purchase", "floor", "auth" or "auth bank"
	Done  int
	Total int
}

// Result is one suite's measurement.
type Result struct {
	Suite     suite.ID
	Purchases int           // purchases measured
	Purchase  time.Duration // mean time of one purchase
	Floors    int           // floors measured
	Floor     time.Duration // mean time of one purchase's cryptography
	// AllocsPerPurchase and BytesPerPurchase are heap allocations during
	// the purchases, per purchase.
	AllocsPerPurchase uint64
	BytesPerPurchase  uint64
	Ops               Ops

	// Auths authorizations (PInit, PReq → AuthReq → AuthRes → PRes, no
	// capture) through the gateway's LimitIssuer took Auth each on
	// average; BankAuths through the bank host took BankAuth (zero
	// without Options.Bank).
	Auths     int
	Auth      time.Duration
	BankAuths int
	BankAuth  time.Duration
}

// AuthsPerSecond is the authorization throughput of one purchase at a
// time through the LimitIssuer, and through the bank (0 if not measured).
func (r *Result) AuthsPerSecond() (limit, bank float64) {
	if r.Auth > 0 {
		limit = float64(time.Second) / float64(r.Auth)
	}
	if r.BankAuth > 0 {
		bank = float64(time.Second) / float64(r.BankAuth)
	}
	return limit, bank
}

// Ratio is purchase time over floor time.
func (r *Result) Ratio() float64 {
	if r.Floor <= 0 {
		return 0
	}
	return float64(r.Purchase) / float64(r.Floor)
}

// Run measures each suite in turn.
func Run(ctx context.Context, opts Options) ([]*Result, error) {
	if opts.Purchases <= 0 {
		opts.Purchases = 50
	}
	var out []*Result
	for _, st := range opts.Suites {
		r, err := runSuite(ctx, st, opts)
		if err != nil {
			return out, fmt.Errorf("bench: %s: %w", st.ID(), err)
		}
		out = append(out, r)
	}
	return out, nil
}

func runSuite(ctx context.Context, st suite.Suite, opts Options) (*Result, error) {
	progress := func(phase string, done, total int) {
		if opts.Progress != nil {
			opts.Progress(Progress{Suite: st.ID(), Phase: phase, Done: done, Total: total})
		}
	}
	progress("setup", 0, 1)
	p, err := NewPurchaser(st, PurchaserOptions{})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	f, err := NewFloor(st, rand.Reader, p.Lab.Hierarchy)
	if err != nil {
		return nil, err
	}
	// Warm up: first-use costs (statement preparation, lazy tables) are
	// not what a purchase costs.
	if err := p.Purchase(ctx); err != nil {
		return nil, err
	}
	if err := f.Run(); err != nil {
		return nil, fmt.Errorf("crypto floor: %w", err)
	}
	progress("setup", 1, 1)

	r := &Result{Suite: st.ID(), Ops: OpsFor(st)}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	elapsed, n, err := repeat(ctx, opts, func() error { return p.Purchase(ctx) }, func(done int) { progress("purchase", done, opts.Purchases) })
	runtime.ReadMemStats(&after)
	if err != nil {
		return nil, err
	}
	r.Purchases, r.Purchase = n, elapsed/time.Duration(n)
	r.AllocsPerPurchase = (after.Mallocs - before.Mallocs) / uint64(n)
	r.BytesPerPurchase = (after.TotalAlloc - before.TotalAlloc) / uint64(n)

	elapsed, n, err = repeat(ctx, opts, f.Run, func(done int) { progress("floor", done, opts.Purchases) })
	if err != nil {
		return nil, fmt.Errorf("crypto floor: %w", err)
	}
	r.Floors, r.Floor = n, elapsed/time.Duration(n)

	// The same lab authorizes without capturing: the LimitIssuer's
	// figure. Its warm-up was the purchases.
	authorize := func(p *Purchaser) func() error {
		return func() error { _, err := p.Authorize(ctx, 0); return err }
	}
	elapsed, n, err = repeat(ctx, opts, authorize(p), func(done int) { progress("auth", done, opts.Purchases) })
	if err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	r.Auths, r.Auth = n, elapsed/time.Duration(n)
	if opts.Bank {
		if r.BankAuths, r.BankAuth, err = runBank(ctx, st, opts, authorize, progress); err != nil {
			return nil, fmt.Errorf("authorization through the bank: %w", err)
		}
	}
	return r, nil
}

// runBank measures authorizations through a bank host, in a lab of its
// own (an issuer is fixed when a lab is built), and checks the bank's
// ledger afterwards.
func runBank(ctx context.Context, st suite.Suite, opts Options, authorize func(*Purchaser) func() error, progress func(string, int, int)) (int, time.Duration, error) {
	progress("setup", 0, 1)
	p, err := NewPurchaser(st, PurchaserOptions{Bank: true})
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	if err := authorize(p)(); err != nil {
		return 0, 0, err
	}
	progress("setup", 1, 1)
	elapsed, n, err := repeat(ctx, opts, authorize(p), func(done int) { progress("auth bank", done, opts.Purchases) })
	if err != nil {
		return 0, 0, err
	}
	if err := p.Audit(ctx); err != nil {
		return 0, 0, fmt.Errorf("ledger audit: %w", err)
	}
	return n, elapsed / time.Duration(n), nil
}

// repeat runs op up to opts.Purchases times, stopping early when
// opts.Duration has passed (after at least one run) or ctx is done. It
// returns the time taken and the number of runs.
func repeat(ctx context.Context, opts Options, op func() error, done func(int)) (time.Duration, int, error) {
	start := time.Now()
	n := 0
	for n < opts.Purchases {
		if err := ctx.Err(); err != nil {
			return 0, n, err
		}
		if err := op(); err != nil {
			return 0, n, err
		}
		n++
		done(n)
		if opts.Duration > 0 && time.Since(start) >= opts.Duration {
			break
		}
	}
	return time.Since(start), n, nil
}

// WriteTable prints results as an aligned table, one suite a row.
func WriteTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "suite\tpurchases\tpurchase mean\tcrypto floor mean\tratio\tallocs/purchase\tKiB/purchase")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%d\t%d\n", r.Suite, r.Purchases,
			round(r.Purchase), round(r.Floor), r.Ratio(), r.AllocsPerPurchase, r.BytesPerPurchase/1024)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nratio = purchase / crypto floor, the same cryptography done bare:")
	for _, r := range results {
		fmt.Fprintf(w, "  %s: %v\n", r.Suite, r.Ops)
	}
	fmt.Fprintln(w)
	// Authorization throughput, one purchase at a time: the gateway's
	// built-in limit check, and the bank host over ISO 8583 when measured.
	fmt.Fprintln(tw, "suite\tauths\tauth mean\tauths/s\tbank auths\tbank auth mean\tbank auths/s\tbank/limit")
	for _, r := range results {
		limit, bank := r.AuthsPerSecond()
		if r.BankAuth <= 0 {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\t-\t-\t-\t-\n", r.Suite, r.Auths, round(r.Auth), limit)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\t%d\t%s\t%.1f\t%.2f\n", r.Suite, r.Auths, round(r.Auth), limit,
			r.BankAuths, round(r.BankAuth), bank, float64(r.BankAuth)/float64(r.Auth))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nauth = checkout, PInit, PReq → AuthReq → issuer → AuthRes → PRes (no capture);")
	fmt.Fprintln(w, "bank = the issuer is a bank host over ISO 8583 0100/0110 on 127.0.0.1; bank/limit = bank auth mean / auth mean.")
	fmt.Fprintln(w)
	_, err := fmt.Fprintln(w, "Times depend on this machine and its load now; compare ratios within one run.")
	return err
}

// round keeps three significant digits or so: enough for a mean of a few
// dozen runs on a shared machine.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
