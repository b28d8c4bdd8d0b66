package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/suite"
)

func newDemoCmd() *cobra.Command {
	var opts demo.Options
	var suiteID string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a day of SET payments between all parties over loopback HTTP",
		Long: `demo builds a whole SET ecosystem in one process — the certificate
authorities, a payment gateway, merchants, cardholder wallets and the bank —
puts every party on its own socket on 127.0.0.1, has each enrol at its CA
over HTTP, and then runs a scenario.

The default scenario, --scenario day, is a day of trading: two merchants (each
with its own certificates and its own account at the acquirer) and three or
more cardholders (cards of two issuers), in order:

  batch open        each merchant opens its settlement batch (BatchAdminReq)
  held registration a new cardholder's CertReq is held for the issuer's
                    review (requestPended); once the operator approves, the
                    wallet fetches its certificate with CertInqReq
  purchases         checkout, PInitReq/PReq, AuthReq, ISO 8583 0100/0110
  split shipment    one order authorized and captured in two shipments
  declined card     the bank answers 51 (insufficient funds); SET "declined"
  reversal          an order cancelled before shipping (AuthRevReq, 0400):
                    the hold is released at the bank
  renewals          that cardholder and the second merchant renew their
                    certificates, then trade with the new ones
  refused           an applicant held for review is refused; CertInqRes
                    carries the issuer's reason
  captures          the purchases captured later (CapReq, 0220)
  refund            part of a captured purchase refunded (CredReq, 0200)
  batch close       each merchant closes its batch at the gateway, and the
                    acquirer closes it at the bank
  settlement        the acquirer settles each batch: sales − refunds −
                    interchange fee; its settlement report is printed

then the ledger check: every journal entry balanced (debits = credits), no
hold left, every cardholder's balance = opening − captured + credited, each
merchant paid its net.

--scenario purchases (the default when --purchases is given)
runs --purchases purchases, each authorized and captured, at one merchant:

  checkout at the merchant (out of band, as SET leaves shopping to the browser)
  wallet → merchant     PInitReq / PInitRes, then PReq
  merchant → gateway    AuthReq / AuthRes
  merchant → wallet     PRes
  merchant → gateway    CapReq / CapRes (capture)
  gateway → bank        ISO 8583 0100 / 0110 (authorization), 0220 / 0230 (capture)

Either way it prints every message (sender → receiver, type, size), then
what each party kept in its own store: a merchant the order description and
never the card number, the gateway the masked card number and never the
order description. Both facts are checked on the files and messages each
party holds. The bank is the card issuer and the acquirer: it runs in
process on its own loopback socket, the gateway asks it over ISO 8583, and
its books are audited after the run; its SQLite database and log go to
DIR/bank/.

--issuer-addr host:port uses a bank in another process instead, one started
with 'setpay bank --seed' (which opens the accounts the demo needs; without
them the demo stops and says so). The gateway asks it over ISO 8583 as it
asks its own. In the day, the acquirer's batch close, settlement and report
run there too, and the ledger check reads each account back and has that
bank audit its books, all over the same link: the audit runs where the
books are and the demo prints its verdict. That bank keeps its books across
runs, so each check is of what the run moved. The exit status
is 0 only if every step came out as expected (an approval approved, the
decline declined, the books balanced) and every check held.

The parties' SQLite databases and JSON logs go to DIR/<party>/ with --data
(merchant/, merchant2/, gateway/, bank/, cca/, mca/, pca/); by default to a
temporary directory removed at exit. --out DIR writes what crossed the wire,
for 'setpay inspect' or openssl:
  DIR/certs/<name>.der                     every certificate
  DIR/messages/NN-<from>-<to>-<Type>.der   every message, numbered in order
  DIR/cms/NN-<Type>-<k>.der                every PKCS#7/CMS structure in message NN`,
		Example: `  setpay demo
  setpay demo --suite set1
  setpay demo --scenario purchases --purchases 5 --cardholders 2
  setpay demo --data /tmp/setpay --out /tmp/run --quiet
  setpay demo --issuer-addr 127.0.0.1:8583        (after 'setpay bank --seed')
  setpay inspect /tmp/run/messages/37-wallet-merchant-PReq.der`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Zero means "default" to demo.Options; on the command line it is a mistake.
			if opts.Purchases < 1 || opts.Cardholders < 1 {
				return fmt.Errorf("--purchases and --cardholders must be at least 1")
			}
			// Flags left alone leave the choice to the scenario: the day
			// has its own purchases and three cardholders.
			f := cmd.Flags()
			if !f.Changed("purchases") {
				opts.Purchases = 0
			}
			if !f.Changed("cardholders") {
				opts.Cardholders = 0
			}
			opts.Suite = suite.ID(suiteID)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			_, err := demo.Run(ctx, opts, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&suiteID, "suite", string(suite.Modern), "cryptographic suite: modern (ECDSA P-256, AES-256-GCM) or set1 (RSA, DES, SHA-1, as in 1997)")
	f.StringVar(&opts.Scenario, "scenario", "", "`scenario` to run: day (the default) or purchases (the default with --purchases)")
	f.IntVar(&opts.Purchases, "purchases", 1, "number of purchases to run in the purchases scenario (1 to 1000)")
	f.IntVar(&opts.Cardholders, "cardholders", 1, "number of cardholders, each with a card and a wallet; purchases take turns (1 to 100; the day: 3 to 100, default 3)")
	f.IntVar(&opts.Accounts, "accounts", 0, "number of bank-account holders who pay from an IBAN beside the cardholders (purchases scenario; 0 to 100)")
	f.StringVar(&opts.DataDir, "data", "", "keep the parties' databases and logs in `DIR`/<party>/ (default: a temporary directory, removed at exit)")
	f.StringVar(&opts.OutDir, "out", "", "write certificates, messages and CMS structures under `DIR`")
	f.BoolVar(&opts.Quiet, "quiet", false, "print only the summary line")
	f.StringVar(&opts.IssuerAddr, "issuer-addr", "", "use the bank at `host:port` (one started with 'setpay bank --seed') instead of a bank in process")
	return cmd
}
