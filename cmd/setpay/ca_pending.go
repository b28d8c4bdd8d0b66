package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/msg"
)

const reviewHelp = `A CA holds a request for review when its directory's config.json says
so ("review": ["merchants", "gateways", "cardholders"]) or when it is
served with --review. The applicant is told its request is pending and
asks again (SET's CertInqReq) until an operator decides; with --wait,
'setpay merchant register' and the other register commands keep asking.`

// registerReviewFlag adds --review to 'ca serve'.
func registerReviewFlag(cmd *cobra.Command) {
	cmd.Flags().String("review", "", "hold requests of `WHO` for an operator's decision ('setpay ca pending'): a comma-separated list of cardholders, merchants, gateways, or all or none (default: config.json's \"review\")")
}

// reviewFlag is --review as cadir.OpenOptions.Review: nil when not given.
func reviewFlag(cmd *cobra.Command) ([]string, error) {
	f := cmd.Flags().Lookup("review")
	if f == nil || !f.Changed {
		return nil, nil
	}
	r, err := cadir.ParseReview(f.Value.String())
	if err != nil {
		return nil, fmt.Errorf("--review: %w", err)
	}
	return r, nil
}

func newCAPendingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pending",
		Short: "List, approve or refuse the registration requests the CAs hold for review",
		Long: `pending is the operator's side of held registrations. ` + reviewHelp + `

  setpay ca pending list --dir DIR              what waits, with each request's ID
  setpay ca pending approve ID --dir DIR        issue the certificates
  setpay ca pending refuse ID --dir DIR --reason TEXT

An ID is the hex of the request's chall-EE3, as list prints it. The
decision is stored in the CA's database, which a running 'setpay ca serve'
shares: the applicant's next inquiry gets the certificates or the refusal.
Approving signs certificates, so it opens the CA keys.

` + passphraseHelp,
		Example: `  setpay ca serve --dir ./myca --review merchants &
  setpay ca pending list --dir ./myca
  setpay ca pending approve 3f1c…9a --dir ./myca
  setpay ca pending refuse 77ab…01 --dir ./myca --reason "unknown business address"`,
	}
	cmd.AddCommand(newCAPendingListCmd(), newCAPendingDecideCmd(true), newCAPendingDecideCmd(false))
	return cmd
}

// openForPending opens the hierarchy in dir for an operator command.
func openForPending(cmd *cobra.Command, dir string, pf *passphraseFlags) (*cadir.Hierarchy, error) {
	pp, err := pf.get(cmd, false)
	if err != nil {
		return nil, err
	}
	return cadir.Open(dir, pp, cadir.OpenOptions{})
}

func newCAPendingListCmd() *cobra.Command {
	var dir string
	var wait time.Duration
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the registration requests waiting for a decision",
		Long: `list prints one line per request waiting for a decision, oldest first
within each CA: its ID (give it to approve or refuse), the CA holding it
(cca, mca or pca), when it came, and whom it is for: the merchant or
gateway as the acquirer's records name it, or for a cardholder the
issuer's BIN range (the CA keeps no card number). With --wait it first
waits, looking twice a second, until some request is held.

` + passphraseHelp,
		Example: `  setpay ca pending list --dir ./myca`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := openForPending(cmd, dir, &pf)
			if err != nil {
				return err
			}
			defer h.Close()
			deadline := time.Now().Add(wait)
			for time.Now().Before(deadline) {
				if n, err := countPending(cmd.Context(), h); err != nil || n > 0 {
					break
				}
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(500 * time.Millisecond):
				}
			}
			var b strings.Builder
			n := 0
			for _, name := range cadir.IssuingCAs {
				c := h.CAs[name]
				ids, err := c.PendingIDs(cmd.Context())
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				for _, id := range ids {
					info, err := c.PendingInfo(cmd.Context(), id)
					if err != nil {
						return fmt.Errorf("%s: request %x: %w", name, id[:], err)
					}
					fmt.Fprintf(&b, "%x  %s  %s  %s\n", id[:], name, info.Created.UTC().Format(time.RFC3339), info.Subject)
					n++
				}
			}
			if n == 0 {
				b.WriteString("no pending requests\n")
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), b.String())
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the CA directory made by 'setpay ca init' (required)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "when nothing is held, wait up to `DURATION` for a request to arrive")
	_ = cmd.MarkFlagRequired("dir")
	pf.register(cmd)
	return cmd
}

func countPending(ctx context.Context, h *cadir.Hierarchy) (int, error) {
	n := 0
	for _, name := range cadir.IssuingCAs {
		ids, err := h.CAs[name].PendingIDs(ctx)
		if err != nil {
			return 0, err
		}
		n += len(ids)
	}
	return n, nil
}

func newCAPendingDecideCmd(approve bool) *cobra.Command {
	var dir, reason string
	var all bool
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "approve ID | --all",
		Short: "Approve a held registration request: its certificates are issued",
		Long: `approve issues the certificates of the held request ID (as 'setpay ca
pending list' prints it). The applicant receives them with its next
inquiry. A request whose key was certified meanwhile is refused instead.
--all approves every request held at this moment.

` + passphraseHelp,
		Example: `  setpay ca pending approve 3f1c0b…9a --dir ./myca`,
	}
	if !approve {
		cmd.Use = "refuse ID | --all --reason TEXT"
		cmd.Short = "Refuse a held registration request, telling the applicant why"
		cmd.Long = `refuse answers the held request ID (as 'setpay ca pending list' prints it)
with a refusal: rejectByAgent at the merchant or payment CA, rejectByIssuer
at the cardholder CA, with --reason as the message the applicant sees
(printable ASCII, at most 128 characters). Nothing is issued. --all
refuses every request held at this moment.

` + passphraseHelp
		cmd.Example = `  setpay ca pending refuse 77ab…01 --dir ./myca --reason "unknown business address"`
	}
	cmd.Args = cobra.MaximumNArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var ids []msg.Challenge
		switch {
		case all == (len(args) == 1):
			return errors.New("give a request ID or --all")
		case !all:
			id, err := parsePendingID(args[0])
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if !approve && reason == "" {
			return errors.New("refuse needs --reason: the applicant is told it")
		}
		h, err := openForPending(cmd, dir, &pf)
		if err != nil {
			return err
		}
		defer h.Close()
		if all {
			for _, name := range cadir.IssuingCAs {
				more, err := h.CAs[name].PendingIDs(cmd.Context())
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				ids = append(ids, more...)
			}
			if len(ids) == 0 {
				return errors.New("no pending requests")
			}
		}
		verb := "approved"
		if !approve {
			verb = "refused"
		}
		for _, id := range ids {
			name, err := decidePending(cmd.Context(), h, id, approve, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s request %x at the %s; the applicant's next inquiry gets the answer\n", verb, id[:], name)
		}
		return nil
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the CA directory made by 'setpay ca init' (required)")
	f.BoolVar(&all, "all", false, "decide every request held now instead of one ID")
	_ = cmd.MarkFlagRequired("dir")
	if !approve {
		f.StringVar(&reason, "reason", "", "why, in `TEXT` the applicant is shown (required)")
		_ = cmd.MarkFlagRequired("reason")
	}
	pf.register(cmd)
	return cmd
}

func parsePendingID(s string) (msg.Challenge, error) {
	var id msg.Challenge
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("request ID %q: want %d hex digits, as 'setpay ca pending list' prints", s, 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

// decidePending finds the CA holding request id and decides it there,
// returning the CA's short name.
func decidePending(ctx context.Context, h *cadir.Hierarchy, id msg.Challenge, approve bool, reason string) (string, error) {
	for _, name := range cadir.IssuingCAs {
		c := h.CAs[name]
		if _, err := c.PendingInfo(ctx, id); errors.Is(err, ca.ErrNoPending) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if approve {
			err := c.Decide(ctx, id, true)
			if errors.Is(err, ca.ErrDecided) {
				return "", fmt.Errorf("request %x at the %s is already decided", id[:], name)
			}
			return name, err
		}
		err := c.Refuse(ctx, id, reason)
		if errors.Is(err, ca.ErrDecided) {
			return "", fmt.Errorf("request %x at the %s is already decided", id[:], name)
		}
		return name, err
	}
	return "", fmt.Errorf("no CA of this hierarchy holds request %x (decided and delivered already, or never pended)", id[:])
}
