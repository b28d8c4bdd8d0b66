package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit status out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "setpay",
		Short: "SET (Secure Electronic Transaction) payments: every party, every message",
		Long: `setpay implements SET, the card payment protocol Visa and MasterCard
published in 1997: cardholder wallet, merchant, payment gateway and the
certificate authorities, speaking SET's messages over HTTP.

The merchant never sees the card number; the gateway never sees what was
bought. Start with:

  setpay demo            run a complete purchase between all parties
  setpay inspect FILE    show any SET message, certificate or PKCS#7 blob`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newInspectCmd())
	root.AddCommand(newDemoCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newBankCmd())
	root.AddCommand(newCACmd())
	root.AddCommand(newWalletCmd(), newMerchantCmd(), newGatewayCmd())
	return root
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(stderr, "setpay:", err)
		return 1
	}
	return 0
}
