package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/bench"
	"github.com/setpay/setpay/suite"
)

func newBenchCmd() *cobra.Command {
	var suites []string
	var purchases int
	var duration time.Duration
	var withBank bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a whole purchase against its cryptographic floor",
		Long: `bench runs complete purchases between a wallet, a merchant and a payment
gateway in this process (checkout, PInit, PReq with authorization, PRes,
capture; records in in-memory SQLite), then performs the same purchase's
cryptography alone: the same signatures, envelopes, certificate-chain
checks and digests, with no messages or stores. It prints, per suite, the
mean of each, their ratio and the heap allocations of one purchase.

It then measures authorization throughput, one purchase at a time: PInit
and PReq with AuthReq/AuthRes, no capture, first with the gateway's
built-in spending-limit check, then (unless --bank=false) with a real
issuer host behind the gateway, its ledger in in-memory SQLite, asked over
ISO 8583 0100/0110 on a 127.0.0.1 port.

The ratio says what the protocol machinery adds to the cryptography it
cannot avoid. The times themselves depend on this machine and its load:
compare ratios within one run, not times across machines.`,
		Example: `  setpay bench
  setpay bench --suite modern --purchases 200
  setpay bench --duration 5s
  setpay bench --bank=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if purchases < 1 {
				return fmt.Errorf("--purchases must be at least 1")
			}
			if duration < 0 {
				return fmt.Errorf("--duration must not be negative")
			}
			opts := bench.Options{Purchases: purchases, Duration: duration, Bank: withBank}
			for _, name := range suites {
				st, err := suite.ByID(suite.ID(strings.TrimSpace(name)))
				if err != nil {
					return err
				}
				opts.Suites = append(opts.Suites, st)
			}
			if isTerminal(cmd.ErrOrStderr()) {
				bar := &progressLine{w: cmd.ErrOrStderr()}
				opts.Progress = bar.show
				defer bar.clear()
			}
			results, err := bench.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return bench.WriteTable(cmd.OutOrStdout(), results)
		},
	}
	cmd.Flags().StringSliceVar(&suites, "suite", []string{string(suite.Modern), string(suite.Set1)}, "suites to measure (modern, set1), comma-separated or repeated")
	cmd.Flags().IntVar(&purchases, "purchases", 50, "purchases, and as many crypto floors and authorizations, to measure per suite")
	cmd.Flags().BoolVar(&withBank, "bank", true, "also measure authorizations through a bank host over loopback ISO 8583")
	cmd.Flags().DurationVar(&duration, "duration", 30*time.Second, "cap on each measurement; 0 for none (at least one purchase always runs)")
	return cmd
}

// isTerminal reports whether w is a character device: progress is drawn
// for a person watching, never into a file or pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one status line in place.
type progressLine struct {
	w     io.Writer
	drawn bool
}

const progressWidth = 24

func (p *progressLine) show(pr bench.Progress) {
	filled := 0
	if pr.Total > 0 {
		filled = min(progressWidth, pr.Done*progressWidth/pr.Total)
	}
	bar := strings.Repeat("#", filled) + strings.Repeat(".", progressWidth-filled)
	fmt.Fprintf(p.w, "\r%-7s %-9s [%s] %d/%d ", pr.Suite, pr.Phase, bar, pr.Done, pr.Total)
	p.drawn = true
}

func (p *progressLine) clear() {
	if p.drawn {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 60))
	}
}
