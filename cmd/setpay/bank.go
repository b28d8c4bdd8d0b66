package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/store/sqlite"
)

func newBankCmd() *cobra.Command {
	var listen, dataDir string
	var seed bool
	cmd := &cobra.Command{
		Use:   "bank",
		Short: "Run the bank's issuer host: the gateway asks it over ISO 8583 whether to approve",
		Long: `bank runs the card issuer that stands behind the payment gateway. The
gateway turns each SET authorization into an ISO 8583 0100 request and each
capture into a 0220 completion advice, sent over TCP to this host; the host
checks the card (number, expiry, limit, holds already placed), answers with
an ISO 8583 response code (00 approved, 05, 14, 51, 54, 57 …) and keeps
double-entry books: an approval places a hold, a capture turns the hold into
a debit, a reversal (0400) releases it.

The books are a SQLite database in DIR/bank.db (--data); the host's log,
JSON lines without card numbers, goes to DIR/log.json. They survive
restarts.

--seed opens the accounts 'setpay demo' uses, unless already open: the
demo merchant's settlement account (MER-0001) and a card account for each of
the demo's cardholders (the lab's test card numbers: 4111111111111111,
4012888888881881, … up to 100 cards), each with a limit of USD 100000.00
and an opening balance of 0. The cards expire three years after seeding, as
the demo's own cards do, so seed and run the demo in the same month.

The ledger is audited (every entry balanced, debits = credits, every hold
accounted for) at start and again at shutdown (SIGINT or SIGTERM); the
exit status is 1 if an audit fails.`,
		Example: `  setpay bank --seed
  setpay demo --issuer-addr 127.0.0.1:8583        (in another terminal)
  setpay bank --listen 127.0.0.1:9583 --data /tmp/bank --seed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBank(ctx, cmd, listen, dataDir, seed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8583", "serve ISO 8583 on `host:port` (TCP, each message behind a 2-byte length)")
	f.StringVar(&dataDir, "data", "setpay-bank", "keep the ledger (bank.db) and the log (log.json) in `DIR`")
	f.BoolVar(&seed, "seed", false, "open the demo's merchant and card accounts (the lab's test card numbers) if not open yet")
	return cmd
}

func runBank(ctx context.Context, cmd *cobra.Command, listen, dataDir string, seed bool) (err error) {
	out := cmd.OutOrStdout()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("bank data: %w", err)
	}
	db, err := sqlite.Open(filepath.Join(dataDir, "bank.db"))
	if err != nil {
		return fmt.Errorf("bank store: %w", err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	logf, err := os.OpenFile(filepath.Join(dataDir, "log.json"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("bank log: %w", err)
	}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, nil)).With("party", "bank")

	ledger := bank.NewLedger(db, nil)
	if err := ledger.Audit(ctx); err != nil {
		return fmt.Errorf("ledger audit at start failed: %w", err)
	}
	if seed {
		n, err := demo.SeedBank(ctx, ledger, demo.MaxCardholders, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "seeded %d account(s): merchant %s and cards of the demo's %d cardholders (already open ones kept)\n", n, demo.MerchantID, demo.MaxCardholders)
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &iso8583.Server{Handler: bank.NewHost(bank.NewIssuer(ledger), log).Handle, Log: log}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(out, "bank: issuer host listening on %s (ISO 8583 over TCP); ledger %s; stop with Ctrl-C\n", ln.Addr(), filepath.Join(dataDir, "bank.db"))

	select {
	case <-ctx.Done():
		srv.Close()
		if serr := <-done; !errors.Is(serr, iso8583.ErrServerClosed) {
			return fmt.Errorf("serving: %w", serr)
		}
	case serr := <-done:
		return fmt.Errorf("serving: %w", serr)
	}
	fmt.Fprintf(out, "bank: stopped\n")
	if err := ledger.Audit(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("ledger audit at shutdown failed: %w", err)
	}
	fmt.Fprintf(out, "ledger audit: ok (every entry balanced, debits = credits, every hold accounted for)\n")
	return nil
}
