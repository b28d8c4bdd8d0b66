package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// pendingName is the file in --out that keeps a registration the CA holds
// for review: its new keys, the request's identifiers, the CA's
// certificates and (a cardholder's) the CABackKey, sealed like a key.
const pendingName = "pending.sealed"

// savePending seals a held registration's state into dir, before the
// command waits or says anything: the request must survive the process.
func savePending(dir string, export func() ([]byte, error)) error {
	b, err := export()
	if err != nil {
		return fmt.Errorf("saving the held request: %w", err)
	}
	return keyfile.WriteFile(filepath.Join(dir, pendingName), b)
}

// dropPending removes dir's held request once the CA has given its final
// answer, which it gives only once: issued (and written) or refused.
func dropPending(dir string) error {
	err := os.Remove(filepath.Join(dir, pendingName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// resumeLater tells a register command's user how to come back to a held
// request.
func resumeLater(who, dir string) string {
	return fmt.Sprintf("it is saved in %s: ask again later with 'setpay %s resume --out %s --ca URL --root FILE' (run again with --wait DURATION to wait for the decision)",
		filepath.Join(dir, pendingName), who, dir)
}

// finalRefusal reports whether err is the CA's refusal of the request:
// the end of it (a pending status is a PendingError, never this).
func finalRefusal(err error) bool {
	var we *wallet.RefusedError
	var ee *enrol.RefusedError
	return errors.As(err, &we) || errors.As(err, &ee)
}

// stillHeld returns the status of a request the CA still holds.
func stillHeld(err error) (msg.CertStatus, bool) {
	var we *wallet.PendingError
	var me *merchant.PendingError
	var ge *gateway.PendingError
	switch {
	case errors.As(err, &we):
		return we.Status, true
	case errors.As(err, &me):
		return me.Status, true
	case errors.As(err, &ge):
		return ge.Status, true
	}
	return msg.CertStatus{}, false
}

func statusWhy(st msg.CertStatus) string {
	why := st.CertStatusCode.String()
	if st.EEMessage != "" {
		why += ": " + st.EEMessage
	}
	return why
}

// resumeFlags are the flags of the resume commands.
type resumeFlags struct {
	out, caURL, root string
	wait, poll       time.Duration
	pf               passphraseFlags
}

func (r *resumeFlags) register(cmd *cobra.Command, caPath string) {
	f := cmd.Flags()
	f.StringVar(&r.out, "out", "", "the `DIR` 'register' wrote the held request to (required)")
	f.StringVar(&r.caURL, "ca", "", "the CA's registration `URL`, e.g. http://127.0.0.1:8443/"+caPath+" (required)")
	f.StringVar(&r.root, "root", "", "the SET root certificate to trust, `FILE` (DER or PEM; root.der of 'setpay ca init') (required)")
	f.DurationVar(&r.wait, "wait", 0, "keep asking for up to `DURATION` while the CA still holds the request (and while it refuses connections), every --poll")
	f.DurationVar(&r.poll, "poll", 10*time.Second, "with --wait, ask again every `DURATION`")
	for _, n := range []string{"out", "ca", "root"} {
		_ = cmd.MarkFlagRequired(n)
	}
	r.pf.register(cmd)
}

// open reads the held request, the roots and the passphrase. The keys
// the request gets are written beside the held request, so --out must
// not hold keys already.
func (r *resumeFlags) open(cmd *cobra.Command, keyNames ...string) (sealed []byte, roots []*pki.Certificate, pp []byte, err error) {
	path := filepath.Join(r.out, pendingName)
	if sealed, err = keyfile.ReadFile(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("no held registration in %s (%s): nothing to resume", r.out, pendingName)
	} else if err != nil {
		return nil, nil, nil, err
	}
	for _, n := range keyNames {
		if _, err := os.Stat(filepath.Join(r.out, n)); err == nil {
			return nil, nil, nil, fmt.Errorf("%s already holds %s; refusing to overwrite keys", r.out, n)
		}
	}
	if roots, err = readRoot(r.root); err != nil {
		return nil, nil, nil, err
	}
	if pp, err = r.pf.get(cmd, false); err != nil {
		return nil, nil, nil, err
	}
	return sealed, roots, pp, nil
}

// ask asks the CA after the held request once, or with --wait every
// --poll until it decides or --wait runs out, and says what to do about
// an answer that is not certificates. The held request is kept unless
// the CA refused it.
func ask[R any](cmd *cobra.Command, r *resumeFlags, who string, wait func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error)) (R, error) {
	var zero R
	rt := (&regFlags{caURL: r.caURL, wait: r.wait}).transport()
	ctx, every, max := cmd.Context(), time.Millisecond, 1
	if r.wait > 0 {
		if every = r.poll; every <= 0 {
			every = 10 * time.Second
		}
		max = int(r.wait/every) + 1
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.wait)
		defer cancel()
		fmt.Fprintf(cmd.ErrOrStderr(), "asking the CA about the held request every %v for up to %v\n", every, r.wait)
	}
	out, err := wait(ctx, rt, every, max)
	if st, ok := stillHeld(err); ok || (err != nil && ctx.Err() != nil) {
		why := "no decision within --wait " + r.wait.String()
		if ok {
			why = statusWhy(st)
		}
		return zero, fmt.Errorf("the CA still holds the request for review (%s); it stays saved in %s: ask again later (with --wait DURATION to wait for the decision)",
			why, filepath.Join(r.out, pendingName))
	}
	if finalRefusal(err) {
		if derr := dropPending(r.out); derr != nil {
			return zero, fmt.Errorf("registration: %w (and removing the held request: %v)", err, derr)
		}
		return zero, fmt.Errorf("registration: %w; the held request is over and was removed", err)
	}
	if err != nil {
		return zero, fmt.Errorf("asking the CA about the held %s registration (kept in %s): %w", who, filepath.Join(r.out, pendingName), err)
	}
	return out, nil
}

const resumeLong = `resume goes on with a registration the CA held for review: 'register'
without --wait (or whose --wait ran out) saved it in --out as ` + pendingName + `,
sealed under the passphrase like a key. resume asks the CA about it
(CertInqReq), once or with --wait every --poll. When the CA has issued the
certificates, it writes to --out exactly what 'register' would have and
removes ` + pendingName + `; when the CA refused, it says why (the CertStatus
code and the operator's reason) and removes ` + pendingName + `, since the CA gives its
answer only once. Still held, the request stays saved.

`

func newWalletResumeCmd() *cobra.Command {
	var rf resumeFlags
	cmd := &cobra.Command{
		Use:     "resume",
		Short:   "Ask again about a card registration the CA holds for review, and store the certificate once issued",
		Long:    resumeLong + passphraseHelp,
		Example: `  setpay wallet resume --out ./alice --ca http://127.0.0.1:8443/cca --root ./myca/root.der --wait 10m --poll 30s`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sealed, roots, pp, err := rf.open(cmd, "cardholder.key")
			if err != nil {
				return err
			}
			reg, err := wallet.Resume(wallet.RegisterConfig{Roots: roots}, sealed, pp)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(rf.out, pendingName), err)
			}
			out, err := ask(cmd, &rf, "wallet", func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (*wallet.Registered, error) {
				return reg.Wait(ctx, rt, wallet.WaitOptions{Every: every, Max: max})
			})
			if err != nil {
				return err
			}
			if err := writeWallet(rf.out, reg.Key(), out, pp, rf.pf.kdf()); err != nil {
				return err
			}
			if err := dropPending(rf.out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered card %s: certificate serial %s in %s\n", out.Card, serialOf(out.Cert), rf.out)
			return nil
		},
	}
	rf.register(cmd, "cca")
	return cmd
}

func newMerchantResumeCmd() *cobra.Command {
	var rf resumeFlags
	cmd := &cobra.Command{
		Use:     "resume",
		Short:   "Ask again about a merchant registration the CA holds for review, and store the certificates once issued",
		Long:    resumeLong + passphraseHelp,
		Example: `  setpay merchant resume --out ./shop --ca http://127.0.0.1:8443/mca --root ./myca/root.der`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sealed, roots, pp, err := rf.open(cmd, "signing.key", "exchange.key")
			if err != nil {
				return err
			}
			reg, err := merchant.Resume(merchant.RegisterConfig{Roots: roots}, sealed, pp)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(rf.out, pendingName), err)
			}
			out, err := ask(cmd, &rf, "merchant", func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (*merchant.Registered, error) {
				return reg.Wait(ctx, rt, merchant.WaitOptions{Every: every, Max: max})
			})
			if err != nil {
				return err
			}
			if err := writeParty(rf.out, "merchant", keyfile.RoleMerchantSigning, keyfile.RoleMerchantExchange, out.RawSigKey, out.RawExKey, out.SigCert, out.ExCert, out.Chain, pp, rf.pf.kdf()); err != nil {
				return err
			}
			if err := dropPending(rf.out); err != nil {
				return err
			}
			id, bin := "?", "?"
			if c, err := pki.ParseCertificate(out.SigCert); err == nil && c.MerchantData != nil {
				id, bin = c.MerchantData.MerID, c.MerchantData.MerAcquirerBIN
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered merchant %s at acquirer %s: signature certificate serial %s, key-exchange certificate serial %s, in %s\n",
				id, bin, serialOf(out.SigCert), serialOf(out.ExCert), rf.out)
			return nil
		},
	}
	rf.register(cmd, "mca")
	return cmd
}

func newGatewayResumeCmd() *cobra.Command {
	var rf resumeFlags
	cmd := &cobra.Command{
		Use:     "resume",
		Short:   "Ask again about a payment-gateway registration the CA holds for review, and store the certificates once issued",
		Long:    resumeLong + passphraseHelp,
		Example: `  setpay gateway resume --out ./gateway --ca http://127.0.0.1:8443/pca --root ./myca/root.der`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sealed, roots, pp, err := rf.open(cmd, "signing.key", "exchange.key")
			if err != nil {
				return err
			}
			reg, err := gateway.Resume(gateway.RegisterConfig{Roots: roots}, sealed, pp)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(rf.out, pendingName), err)
			}
			out, err := ask(cmd, &rf, "gateway", func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (*gateway.Registered, error) {
				return reg.Wait(ctx, rt, gateway.WaitOptions{Every: every, Max: max})
			})
			if err != nil {
				return err
			}
			if err := writeParty(rf.out, "gateway", keyfile.RoleGatewaySigning, keyfile.RoleGatewayExchange, out.RawSigKey, out.RawExKey, out.SigCert, out.ExCert, out.Chain, pp, rf.pf.kdf()); err != nil {
				return err
			}
			if err := dropPending(rf.out); err != nil {
				return err
			}
			name := "?"
			if c, err := pki.ParseCertificate(out.SigCert); err == nil {
				name = c.Subject.CommonName
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered gateway %q: signature certificate serial %s, key-exchange certificate serial %s, in %s\n",
				name, serialOf(out.SigCert), serialOf(out.ExCert), rf.out)
			return nil
		},
	}
	rf.register(cmd, "pca")
	return cmd
}
