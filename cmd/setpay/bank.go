package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

--seed opens every account 'setpay demo' uses, unless already open — the
same list the demo's own bank opens:
  merchants  the settlement accounts of both of the day's merchants,
             MER-0001 (Corner Bookshop) and MER-0002 (Night Owl Records)
  cards      one for each of the demo's 100 cardholders and the one the day
             registers beside them (the lab's test card numbers:
             4111111111111111, 4012888888881881, …): credit limit
             USD 100000.00, opening balance 0, except the first (opening
             balance USD 300.00, credit limit USD 99700.00) and the third,
             the card the day declines (credit limit USD 200.00)
  accounts   a deposit account for each of the demo's 100 bank-account
             holders (--accounts; the lab's test IBANs), opening balance
             USD 100000.00
The cards expire three years after seeding, as the demo's own cards do, so
seed and run the demo in the same month.

Besides the gateway's authorizations, captures, refunds and reversals, the
host answers the acquirer's back office over the same link (ISO 8583
network management, 0800, with the function in field 48): an account's
position, closing a merchant's batch, settling it (less 1.50% interchange),
the settlement report, and an audit of the books. That is how 'setpay demo
--issuer-addr' runs its day against this bank.

The link authenticates no one (this ISO 8583 subset has no MAC): whoever
reaches --listen can authorize, read an account's position and close or
settle batches. Listen on loopback or a network only the gateway reaches.

The ledger is audited (every entry balanced, debits = credits, every hold
accounted for) at start, whenever the back office asks, and again at
shutdown (SIGINT or SIGTERM); the exit status is 1 if the audit at start or
at shutdown fails.

` + addrFileHelp,
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
	f.StringVar(&listen, "listen", "127.0.0.1:8583", "serve ISO 8583 on `host:port` (TCP, each message behind a 2-byte length; port 0: any free one, see --addr-file)")
	registerAddrFileFlag(cmd)
	f.StringVar(&dataDir, "data", "setpay-bank", "keep the ledger (bank.db) and the log (log.json) in `DIR`")
	f.BoolVar(&seed, "seed", false, "open the accounts 'setpay demo' uses (its merchants, the lab's test cards and IBANs) if not open yet")
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
		s := demo.FullSeed()
		n, err := demo.SeedBank(ctx, ledger, s, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "seeded %d account(s): %d merchants, %d cards, %d bank accounts (already open ones kept)\n",
			n, len(s.Merchants), len(s.Cards), len(s.Accounts))
	}

	ln, err := serviceListen(cmd, listen)
	if err != nil {
		return err
	}
	host, err := demo.NewBankHost(db, ledger, log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &iso8583.Server{Handler: host.Handle, Log: log}
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
