package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/inspect"
)

func newInspectCmd() *cobra.Command {
	var asJSON bool
	var typ string
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show a SET message, certificate or PKCS#7 blob as a named tree",
		Long: `inspect prints the DER structure of FILE, naming SET message types and
fields, PKCS#7 / CMS structures and OIDs, in the way 'openssl asn1parse'
prints raw ASN.1. Each line shows the byte offset, the field and type
names, the tag, the content length and, for simple values, the value.

FILE must hold exactly one DER element ("-" reads standard input).
Encrypted parts stay encrypted: inspect shows what a network observer sees.`,
		Example: `  setpay demo --out /tmp/run
  setpay inspect /tmp/run/messages/17-wallet-merchant-PReq.der
  setpay inspect --json /tmp/run/certs/merchant-signature.der`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b []byte
			var err error
			if args[0] == "-" {
				b, err = readAllLimited(cmd.InOrStdin())
			} else {
				b, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			n, err := inspect.Inspect(b, typ)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(n)
			}
			return n.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tree as JSON")
	cmd.Flags().StringVar(&typ, "type", "", "name the top-level type instead of detecting it (e.g. PInitReq, OIData)")
	return cmd
}
