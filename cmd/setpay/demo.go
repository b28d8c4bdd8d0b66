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
		Short: "Run complete SET purchases between all parties over loopback HTTP",
		Long: `demo builds a whole SET ecosystem in one process — the certificate
authorities, a payment gateway, a merchant and cardholder wallets — puts the
gateway and the merchant on their own HTTP sockets on 127.0.0.1, and runs
purchases between them:

  checkout at the merchant (out of band, as SET leaves shopping to the browser)
  wallet → merchant     PInitReq / PInitRes, then PReq
  merchant → gateway    AuthReq / AuthRes
  merchant → wallet     PRes
  merchant → gateway    CapReq / CapRes (capture)
  gateway → bank        ISO 8583 0100 / 0110 (authorization), 0220 / 0230 (capture)

It prints every message (sender → receiver, type, size), then what each
party kept in its own store: the merchant the order description and never
the card number, the gateway the masked card number and never the order
description. Both facts are checked on the files and messages each party
holds. The bank is the card issuer: it runs in process on its own
loopback socket, the gateway asks it over ISO 8583, and its books are
audited after the run (debits = credits, every hold accounted for); its
SQLite database and log go to DIR/bank/. --issuer-addr uses an external
issuer host instead, such as one started with 'setpay bank --seed'. The
exit status is 0 only if every purchase was authorized and captured and
every check held.

The merchant's and the gateway's SQLite databases and JSON logs go to
DIR/merchant/ and DIR/gateway/ with --data; by default to a temporary
directory removed at exit. --out DIR writes what crossed the wire, for
'setpay inspect' or openssl:
  DIR/certs/<name>.der                     every certificate
  DIR/messages/NN-<from>-<to>-<Type>.der   every message, numbered in order
  DIR/cms/NN-<Type>-<k>.der                every PKCS#7/CMS structure in message NN`,
		Example: `  setpay demo
  setpay demo --suite set1 --purchases 5 --cardholders 2
  setpay demo --data /tmp/setpay --out /tmp/run --quiet
  setpay demo --issuer-addr 127.0.0.1:8583
  setpay inspect /tmp/run/messages/17-wallet-merchant-PReq.der`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Zero means "default" to demo.Options; on the command line it is a mistake.
			if opts.Purchases < 1 || opts.Cardholders < 1 {
				return fmt.Errorf("--purchases and --cardholders must be at least 1")
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
	f.IntVar(&opts.Purchases, "purchases", 1, "number of purchases to run (1 to 1000)")
	f.IntVar(&opts.Cardholders, "cardholders", 1, "number of cardholders, each with a card and a wallet; purchases take turns (1 to 100)")
	f.StringVar(&opts.DataDir, "data", "", "keep the parties' databases and logs in `DIR`/<party>/ (default: a temporary directory, removed at exit)")
	f.StringVar(&opts.OutDir, "out", "", "write certificates, messages and CMS structures under `DIR`")
	f.BoolVar(&opts.Quiet, "quiet", false, "print only the summary line")
	f.StringVar(&opts.IssuerAddr, "issuer-addr", "", "ask the external issuer host at `host:port` (one started with 'setpay bank --seed') instead of a bank in process")
	return cmd
}
