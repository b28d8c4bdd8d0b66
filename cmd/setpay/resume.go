package main

import (
	"context"
	"crypto"
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
	"github.com/setpay/setpay/suite"
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

// resumeLater tells a register or renew command's user how to come back
// to a held request: the saved state records the CA's URL and the root.
func resumeLater(who, dir string) string {
	return fmt.Sprintf("it is saved in %s: ask again later with 'setpay %s resume --out %s' (run again with --wait DURATION to wait for the decision)",
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
	f.StringVar(&r.out, "out", "", "the `DIR` 'register' (or 'renew') saved the held request in (required)")
	f.StringVar(&r.caURL, "ca", "", "the CA's registration `URL`, e.g. http://127.0.0.1:8443/"+caPath+" (default: the one the request was sent to; give it if the CA moved)")
	f.StringVar(&r.root, "root", "", "the SET root certificate to trust, `FILE` (DER or PEM; default: the one the request was made under, which it must be)")
	f.DurationVar(&r.wait, "wait", 0, "keep asking for up to `DURATION` while the CA still holds the request (and while it refuses connections), every --poll")
	f.DurationVar(&r.poll, "poll", 10*time.Second, "with --wait, ask again every `DURATION`")
	_ = cmd.MarkFlagRequired("out")
	r.pf.register(cmd)
}

// open reads the held request, the roots given (none without --root: the
// state's are used) and the passphrase.
func (r *resumeFlags) open(cmd *cobra.Command) (sealed []byte, roots []*pki.Certificate, pp []byte, err error) {
	path := filepath.Join(r.out, pendingName)
	if sealed, err = keyfile.ReadFile(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("no held registration in %s (%s): nothing to resume", r.out, pendingName)
	} else if err != nil {
		return nil, nil, nil, err
	}
	if r.root != "" {
		if roots, err = readRoot(r.root); err != nil {
			return nil, nil, nil, err
		}
	}
	if pp, err = r.pf.get(cmd, false); err != nil {
		return nil, nil, nil, err
	}
	return sealed, roots, pp, nil
}

// resumeError says which file a state that cannot be resumed is.
func (r *resumeFlags) resumeError(err error) error {
	if errors.Is(err, enrol.ErrOtherRoot) {
		return fmt.Errorf("%s: %w; refusing: the CA's answer must be checked against the root the request was made under (omit --root to use it)", filepath.Join(r.out, pendingName), err)
	}
	return fmt.Errorf("%s: %w", filepath.Join(r.out, pendingName), err)
}

// ca is the URL to ask the CA at: --ca when given (the CA may have moved;
// the answer is still checked against the recorded root), else the one
// the state recorded.
func (r *resumeFlags) ca(cmd *cobra.Command, o enrol.Origin) (string, error) {
	switch {
	case r.caURL == "" && o.CAURL == "":
		return "", fmt.Errorf("%s records no CA URL (saved by an older setpay): give --ca", filepath.Join(r.out, pendingName))
	case r.caURL == "":
		return o.CAURL, nil
	case o.CAURL != "" && r.caURL != o.CAURL:
		fmt.Fprintf(cmd.ErrOrStderr(), "asking the CA at --ca %s, not at %s where the request was sent\n", r.caURL, o.CAURL)
	}
	return r.caURL, nil
}

// checkDir says whether the held request can be stored in --out: a first
// registration's keys go beside it, so --out must not hold keys already;
// a renewal's replace the current ones, which must be there.
func (r *resumeFlags) checkDir(renewal bool, keyNames ...string) error {
	for _, n := range keyNames {
		_, err := os.Stat(filepath.Join(r.out, n))
		switch {
		case err == nil && !renewal:
			return fmt.Errorf("%s already holds %s; refusing to overwrite keys", r.out, n)
		case err != nil && renewal:
			return fmt.Errorf("the held request renews the credentials in %s, but %s is missing: %w", r.out, n, err)
		}
	}
	return nil
}

// ask asks the CA at url after the held request once, or with --wait
// every --poll until it decides or --wait runs out, and says what to do
// about an answer that is not certificates. The held request is kept
// unless the CA refused it.
func ask[R any](cmd *cobra.Command, r *resumeFlags, url, who string, wait func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error)) (R, error) {
	var zero R
	rt := (&regFlags{caURL: url, wait: r.wait}).transport()
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
		return zero, fmt.Errorf("asking the CA about the held %s registration (kept in %s): %w", who, filepath.Join(r.out, pendingName), peerOrigin(err))
	}
	return out, nil
}

// installRenewed puts a held renewal's result in place of the current
// credentials in dir, as 'renew' does (stage, then swapIn), and drops the
// held request. It returns where the old files went.
func installRenewed(dir string, oldCertName string, names []string, write func(staged string) error) (prev string, oldCert []byte, err error) {
	if oldCert, err = os.ReadFile(filepath.Join(dir, oldCertName)); err != nil {
		return "", nil, err
	}
	staged, err := stage(dir)
	if err != nil {
		return "", nil, err
	}
	if err := write(staged); err != nil {
		return "", nil, err
	}
	if prev, err = swapIn(dir, oldCert, names); err != nil {
		return "", nil, err
	}
	return prev, oldCert, dropPending(dir)
}

const resumeLong = `resume goes on with a registration the CA held for review: 'register'
without --wait (or whose --wait ran out) saved it in --out as ` + pendingName + `,
sealed under the passphrase like a key. resume asks the CA about it
(CertInqReq), once or with --wait every --poll. When the CA has issued the
certificates, it writes to --out exactly what 'register' would have and
removes ` + pendingName + `; a held renewal's certificates replace the current
ones only then, the old files moved aside as 'renew' does. When the CA
refused, it says why (the CertStatus
code and the operator's reason) and removes ` + pendingName + `, since the CA gives its
answer only once. Still held, the request stays saved.

The saved request records the CA's URL and the root it was made under, so
--ca and --root are needed only for a request saved by an older setpay.
--ca overrides the URL (the CA moved); a --root other than the recorded
one is refused.

`

func newWalletResumeCmd() *cobra.Command {
	var rf resumeFlags
	cmd := &cobra.Command{
		Use:     "resume",
		Short:   "Ask again about a card registration or renewal the CA holds for review, and store the certificate once issued",
		Long:    resumeLong + passphraseHelp,
		Example: `  setpay wallet resume --out ./alice --wait 10m --poll 30s`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sealed, roots, pp, err := rf.open(cmd)
			if err != nil {
				return err
			}
			reg, err := wallet.Resume(wallet.RegisterConfig{Roots: roots}, sealed, pp)
			if err != nil {
				return rf.resumeError(err)
			}
			url, err := rf.ca(cmd, reg.Origin())
			if err != nil {
				return err
			}
			// Only 'renew' saves a held request beside a card's key: a
			// first registration's --out was empty.
			_, statErr := os.Stat(filepath.Join(rf.out, "cardholder.key"))
			renewal := statErr == nil
			if err := rf.checkDir(renewal, "cardholder.key", "cardholder.der", "card.sealed"); err != nil {
				return err
			}
			out, err := ask(cmd, &rf, url, "wallet", func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (*wallet.Registered, error) {
				return reg.Wait(ctx, rt, wallet.WaitOptions{Every: every, Max: max})
			})
			if err != nil {
				return err
			}
			if renewal {
				prev, old, err := installRenewed(rf.out, "cardholder.der", walletFileNames, func(staged string) error {
					return writeWallet(staged, reg.Key(), out, pp, rf.pf.kdf())
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "renewed the certificate of card %s: serial %s replaces %s; the previous files are in %s\n",
					out.Card, serialOf(out.Cert), serialOf(old), prev)
				return nil
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

// resumeParty is the body of 'merchant resume' and 'gateway resume':
// resume the held request, ask the CA, store the result (in place of the
// current credentials for a renewal). done says what was registered.
func resumeParty[R any](cmd *cobra.Command, rf *resumeFlags, who, sigRole, exRole string,
	resume func(roots []*pki.Certificate, sealed, pp []byte) (*enrol.Registration[R], error),
	creds func(R) (crypto.Signer, suite.ExchangeKey, []byte, []byte, [][]byte),
	done func(sigCert []byte) string) error {
	sealed, roots, pp, err := rf.open(cmd)
	if err != nil {
		return err
	}
	reg, err := resume(roots, sealed, pp)
	if err != nil {
		return rf.resumeError(err)
	}
	url, err := rf.ca(cmd, reg.Origin())
	if err != nil {
		return err
	}
	renewal := reg.Renewal()
	if err := rf.checkDir(renewal, "signing.key", "exchange.key"); err != nil {
		return err
	}
	out, err := ask(cmd, rf, url, who, func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error) {
		return reg.Wait(ctx, rt, enrol.WaitOptions{Every: every, Max: max})
	})
	if err != nil {
		return err
	}
	sig, ex, sigCert, exCert, chain := creds(out)
	if renewal {
		prev, old, err := installRenewed(rf.out, "signing.der", partyFileNames, func(staged string) error {
			return writeParty(staged, who, sigRole, exRole, sig, ex, sigCert, exCert, chain, pp, rf.pf.kdf())
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "renewed the %s's certificates: signature serial %s replaces %s, key-exchange serial %s; the previous files are in %s\n",
			who, serialOf(sigCert), serialOf(old), serialOf(exCert), prev)
		return nil
	}
	if err := writeParty(rf.out, who, sigRole, exRole, sig, ex, sigCert, exCert, chain, pp, rf.pf.kdf()); err != nil {
		return err
	}
	if err := dropPending(rf.out); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "registered %s: signature certificate serial %s, key-exchange certificate serial %s, in %s\n",
		done(sigCert), serialOf(sigCert), serialOf(exCert), rf.out)
	return nil
}

func newMerchantResumeCmd() *cobra.Command {
	var rf resumeFlags
	cmd := &cobra.Command{
		Use:     "resume",
		Short:   "Ask again about a merchant registration or renewal the CA holds for review, and store the certificates once issued",
		Long:    resumeLong + passphraseHelp,
		Example: `  setpay merchant resume --out ./shop`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return resumeParty(cmd, &rf, "merchant", keyfile.RoleMerchantSigning, keyfile.RoleMerchantExchange,
				func(roots []*pki.Certificate, sealed, pp []byte) (*merchant.Registration, error) {
					return merchant.Resume(merchant.RegisterConfig{Roots: roots}, sealed, pp)
				},
				func(out *merchant.Registered) (crypto.Signer, suite.ExchangeKey, []byte, []byte, [][]byte) {
					return out.RawSigKey, out.RawExKey, out.SigCert, out.ExCert, out.Chain
				},
				func(sigCert []byte) string {
					id, bin := "?", "?"
					if c, err := pki.ParseCertificate(sigCert); err == nil && c.MerchantData != nil {
						id, bin = c.MerchantData.MerID, c.MerchantData.MerAcquirerBIN
					}
					return fmt.Sprintf("merchant %s at acquirer %s", id, bin)
				})
		},
	}
	rf.register(cmd, "mca")
	return cmd
}

func newGatewayResumeCmd() *cobra.Command {
	var rf resumeFlags
	cmd := &cobra.Command{
		Use:     "resume",
		Short:   "Ask again about a payment-gateway registration or renewal the CA holds for review, and store the certificates once issued",
		Long:    resumeLong + passphraseHelp,
		Example: `  setpay gateway resume --out ./gateway`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return resumeParty(cmd, &rf, "gateway", keyfile.RoleGatewaySigning, keyfile.RoleGatewayExchange,
				func(roots []*pki.Certificate, sealed, pp []byte) (*gateway.Registration, error) {
					return gateway.Resume(gateway.RegisterConfig{Roots: roots}, sealed, pp)
				},
				func(out *gateway.Registered) (crypto.Signer, suite.ExchangeKey, []byte, []byte, [][]byte) {
					return out.RawSigKey, out.RawExKey, out.SigCert, out.ExCert, out.Chain
				},
				func(sigCert []byte) string {
					name := "?"
					if c, err := pki.ParseCertificate(sigCert); err == nil {
						name = c.Subject.CommonName
					}
					return fmt.Sprintf("gateway %q", name)
				})
		},
	}
	rf.register(cmd, "pca")
	return cmd
}
