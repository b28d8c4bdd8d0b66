package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// renewFlags are the flags every renewal command shares.
type renewFlags struct {
	dir, caURL, root, brand string
	wait, poll              time.Duration
	answers                 []string
	pf                      passphraseFlags
}

func (r *renewFlags) register(cmd *cobra.Command, caPath string) {
	f := cmd.Flags()
	f.StringVar(&r.dir, "dir", "", "the `DIR` an earlier 'register' (or 'renew') wrote (required)")
	f.StringVar(&r.caURL, "ca", "", "the CA's registration `URL`, e.g. http://127.0.0.1:8443/"+caPath+" (required)")
	f.StringVar(&r.root, "root", "", "the SET root certificate to trust, `FILE` (DER or PEM; root.der of 'setpay ca init') (required)")
	f.StringVar(&r.brand, "brand", "SETpay", "the card brand's `NAME`, as the CA was created with")
	f.DurationVar(&r.wait, "wait", 0, "keep trying for up to `DURATION`: while the CA refuses connections (it is starting), and while it holds the renewal for review, asking again every --poll")
	f.DurationVar(&r.poll, "poll", 10*time.Second, "with --wait, ask after a renewal held for review every `DURATION`")
	f.StringArrayVar(&r.answers, "answer", nil, "fill the CA's registration form: `FIELD=VALUE` (repeatable)")
	for _, n := range []string{"dir", "ca", "root"} {
		_ = cmd.MarkFlagRequired(n)
	}
	r.pf.register(cmd)
}

func (r *renewFlags) transport() wire.RoundTripper {
	return &waitingRT{rt: &transport.Client{URL: r.caURL}, wait: r.wait}
}

// awaitRenewal follows a renewal the CA holds for review as 'register'
// follows a registration (awaitDecision): the held renewal is saved in
// --dir first (export), for 'resume' to collect and install; the current
// certificates stay valid meanwhile.
func awaitRenewal[R any](cmd *cobra.Command, r *renewFlags, who string, status msg.CertStatus, export func() ([]byte, error), wait func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error)) (R, error) {
	var zero R
	if err := savePending(r.dir, export); err != nil {
		return zero, err
	}
	later := resumeLater(who, r.dir) + "; the current certificates stay valid meanwhile"
	return awaitDecision(cmd, &regFlags{caURL: r.caURL, wait: r.wait, poll: r.poll}, status, later, wait)
}

// heldRenewalEE is a merchant's or gateway's renewal after the CA
// answered: a renewal it holds is saved for resume, then waited for as
// awaitRenewal does; any other answer passes through.
func heldRenewalEE[R any](cmd *cobra.Command, r *renewFlags, pp []byte, who string, reg R, err error) (R, error) {
	pe := (*enrol.PendingError[R])(nil)
	if !errors.As(err, &pe) {
		return reg, err
	}
	pe.Registration.SetCAURL(r.caURL) // so that resume needs no --ca
	export := func() ([]byte, error) { return pe.Registration.Export(rand.Reader, pp, r.pf.kdf()) }
	return awaitRenewal(cmd, r, who, pe.Status, export, waitEE(pe))
}

// noHeldRequest refuses to start a renewal while dir holds one the CA has
// not decided: the new request's state would replace it, and with it the
// only keys the held one can be collected with.
func noHeldRequest(dir, who string) error {
	if _, err := os.Stat(filepath.Join(dir, pendingName)); err == nil {
		return fmt.Errorf("%s holds a request the CA has not decided (%s): collect it first with 'setpay %s resume --out %s'",
			dir, pendingName, who, dir)
	}
	return nil
}

// renewalDone says what to do with dir's held request, if any, once
// renew has an answer: a final one (certificates, or a refusal) ends it.
func renewalDone(dir string, err error) {
	if err == nil || finalRefusal(err) {
		_ = dropPending(dir)
	}
}

func (r *renewFlags) answerMap() (map[string]string, error) {
	return (&regFlags{answers: r.answers}).answerMap()
}

const renewFiles = `The renewed files take the old ones' names in --dir; the old ones (keys,
certificates, chain, and the card's secrets for a wallet) move to
--dir/previous-SERIAL/, SERIAL being the old signature certificate's, in
hex. Nothing is deleted: the new files are written first, to
--dir/.renewing/, and only then are the old moved aside and the new moved
in. A renewal the CA holds for review is saved in --dir as pending.sealed
(sealed like a key), whether --wait runs out or is not given: 'resume
--out DIR' collects it later and only then installs it in place of the
current files, which stay valid meanwhile. No new renewal starts while one
is held. The old certificate stays valid until it expires; to end it sooner,
revoke it ('setpay ca revoke --reason superseded').`

// swapIn moves the files of dir named in names (and every chain-N.der) to
// dir/previous-SERIAL, then the files staged in dir/.renewing to dir. The
// renewal's result is on disk (staged) before anything old is touched.
func swapIn(dir string, oldCert []byte, names []string) (string, error) {
	c, err := pki.ParseCertificate(oldCert)
	if err != nil {
		return "", err
	}
	prev := filepath.Join(dir, fmt.Sprintf("previous-%x", c.SerialNumber))
	if err := os.Mkdir(prev, 0o700); err != nil {
		return "", fmt.Errorf("keeping the old files: %w", err)
	}
	chains, err := filepath.Glob(filepath.Join(dir, "chain-*.der"))
	if err != nil {
		return "", err
	}
	for _, n := range chains {
		names = append(names, filepath.Base(n))
	}
	for _, n := range append(names, "chain.pem") {
		err := os.Rename(filepath.Join(dir, n), filepath.Join(prev, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("keeping the old files: %w", err)
		}
	}
	staged := filepath.Join(dir, ".renewing")
	ents, err := os.ReadDir(staged)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(staged, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return "", fmt.Errorf("installing the renewed files (the rest are in %s): %w", staged, err)
		}
	}
	return prev, os.Remove(staged)
}

// stage makes dir/.renewing, which must not exist: a leftover means an
// earlier renewal stopped half-way, and its files need a look first.
func stage(dir string) (string, error) {
	staged := filepath.Join(dir, ".renewing")
	if err := os.Mkdir(staged, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("%s exists: an earlier renewal did not finish; its new files are there, the old ones in %s/previous-*", staged, dir)
		}
		return "", err
	}
	return staged, nil
}

func newWalletRenewCmd() *cobra.Command {
	var rf renewFlags
	cmd := &cobra.Command{
		Use:   "renew",
		Short: "Renew a card's certificate: a new key, certified for the same card",
		Long: `renew runs SET's cardholder registration again, as a renewal
(cardRenewalSig), against the cardholder CA at --ca, for the card whose
key, certificate and secrets 'setpay wallet register' wrote to --dir. It
makes a fresh signing key. The request is signed with the current key and
names the current certificate, so the CA knows its holder asks; the CA
refuses a certificate that is expired, revoked or not this card's.

` + renewFiles + `

` + passphraseHelp,
		Example: `  setpay wallet renew --dir ./alice --ca http://127.0.0.1:8443/cca --root ./myca/root.der`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			answers, err := rf.answerMap()
			if err != nil {
				return err
			}
			roots, err := readRoot(rf.root)
			if err != nil {
				return err
			}
			pp, err := rf.pf.get(cmd, false)
			if err != nil {
				return err
			}
			cert, err := os.ReadFile(filepath.Join(rf.dir, "cardholder.der"))
			if err != nil {
				return err
			}
			pc, err := pki.ParseCertificate(cert)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(rf.dir, "cardholder.der"), err)
			}
			st, err := suiteOf(pc)
			if err != nil {
				return err
			}
			chain, err := readChain(rf.dir)
			if err != nil {
				return err
			}
			b, err := keyfile.ReadFile(filepath.Join(rf.dir, "cardholder.key"))
			if err != nil {
				return err
			}
			key, err := keyfile.OpenSigningKey(b, keyfile.RoleCardholderSigning, pp)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(rf.dir, "cardholder.key"), err)
			}
			card, err := openCard(filepath.Join(rf.dir, "card.sealed"), pp)
			if err != nil {
				return err
			}
			if err := noHeldRequest(rf.dir, "wallet"); err != nil {
				return err
			}
			staged, err := stage(rf.dir)
			if err != nil {
				return err
			}
			newKey, err := st.NewSigningKey(rand.Reader)
			if err != nil {
				return err
			}
			cur := &wallet.Registered{Key: wallet.NewSigningKey(key), Cert: cert, Chain: chain, Card: card}
			reg, err := wallet.Renew(cmd.Context(), rf.transport(), wallet.RegisterConfig{
				Suite: st, Roots: roots, Answers: answers, Key: newKey,
			}, cur)
			if pe := (*wallet.PendingError)(nil); errors.As(err, &pe) {
				pe.Registration.SetCAURL(rf.caURL)
				export := func() ([]byte, error) { return pe.Registration.Export(rand.Reader, pp, rf.pf.kdf()) }
				reg, err = awaitRenewal(cmd, &rf, "wallet", pe.Status, export, func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (*wallet.Registered, error) {
					return pe.Registration.Wait(ctx, rt, wallet.WaitOptions{Every: every, Max: max})
				})
			}
			if err != nil {
				os.Remove(staged)
				renewalDone(rf.dir, err)
				return fmt.Errorf("renewal: %w", peerOrigin(err))
			}
			if err := writeWallet(staged, newKey, reg, pp, rf.pf.kdf()); err != nil {
				return err
			}
			prev, err := swapIn(rf.dir, cert, walletFileNames)
			if err != nil {
				return err
			}
			renewalDone(rf.dir, nil)
			fmt.Fprintf(cmd.OutOrStdout(), "renewed the certificate of card %s: serial %s replaces %s; the previous files are in %s\n",
				reg.Card, serialOf(reg.Cert), serialOf(cert), prev)
			return nil
		},
	}
	rf.register(cmd, "cca")
	return cmd
}

// writeWallet writes what 'wallet register' writes, into dir.
func writeWallet(dir string, key crypto.Signer, reg *wallet.Registered, pp []byte, kdf keyfile.Params) error {
	pk, err := signingPKCS8(key)
	if err != nil {
		return err
	}
	if err := writeKey(dir, "cardholder.key", keyfile.RoleCardholderSigning, pk, pp, kdf); err != nil {
		return err
	}
	sec, err := asn1.Marshal(cardSecrets{PAN: reg.Card.PAN, Expiry: reg.Card.Expiry, BrandID: reg.Card.BrandID, PANSecret: reg.Card.PANSecret[:], CardSecret: reg.Card.CardSecret[:]})
	if err != nil {
		return err
	}
	if err := writeKey(dir, "card.sealed", roleCardSecrets, sec, pp, kdf); err != nil {
		return err
	}
	return writeCerts(dir, map[string][]byte{"cardholder": reg.Cert}, reg.Chain)
}

// walletFileNames are the files writeWallet writes, besides the chain.
var walletFileNames = []string{"cardholder.key", "card.sealed", "cardholder.der", "cardholder.pem"}

// partyFileNames are the files writeParty writes.
var partyFileNames = []string{"signing.key", "exchange.key", "signing.der", "signing.pem", "exchange.der", "exchange.pem"}

// renewParty is the body of 'merchant renew' and 'gateway renew': open the
// current credentials, renew them with do, store the result.
func renewParty(cmd *cobra.Command, rf *renewFlags, who, sigRole, exRole string,
	do func(st suite.Suite, roots []*pki.Certificate, c *credentials, answers map[string]string, pp []byte) (sig crypto.Signer, ex suite.ExchangeKey, sigCert, exCert []byte, chain [][]byte, err error)) error {
	answers, err := rf.answerMap()
	if err != nil {
		return err
	}
	roots, err := readRoot(rf.root)
	if err != nil {
		return err
	}
	pp, err := rf.pf.get(cmd, false)
	if err != nil {
		return err
	}
	c, err := loadCredentials(rf.dir, sigRole, exRole, pp)
	if err != nil {
		return err
	}
	if err := noHeldRequest(rf.dir, who); err != nil {
		return err
	}
	staged, err := stage(rf.dir)
	if err != nil {
		return err
	}
	sig, ex, sigCert, exCert, chain, err := do(c.suite, roots, c, answers, pp)
	if err != nil {
		os.Remove(staged)
		renewalDone(rf.dir, err)
		return fmt.Errorf("renewal: %w", peerOrigin(err))
	}
	if err := writeParty(staged, who, sigRole, exRole, sig, ex, sigCert, exCert, chain, pp, rf.pf.kdf()); err != nil {
		return err
	}
	prev, err := swapIn(rf.dir, c.sigCert, partyFileNames)
	if err != nil {
		return err
	}
	renewalDone(rf.dir, nil)
	fmt.Fprintf(cmd.OutOrStdout(), "renewed the %s's certificates: signature serial %s replaces %s, key-exchange serial %s replaces %s; the previous files are in %s\n",
		who, serialOf(sigCert), serialOf(c.sigCert), serialOf(exCert), serialOf(c.exCert), prev)
	return nil
}

// setDefault fills a form field the user did not answer with --answer.
func setDefault(answers map[string]string, field, value string) {
	if _, ok := answers[field]; !ok {
		answers[field] = value
	}
}

func newMerchantRenewCmd() *cobra.Command {
	var rf renewFlags
	var merID, bin, name string
	cmd := &cobra.Command{
		Use:   "renew",
		Short: "Renew a merchant's certificates: new keys, certified for the same merchant",
		Long: `renew runs SET's merchant registration again, as a renewal
(merRenewalBoth), against the merchant CA at --ca, for the merchant whose
keys and certificates 'setpay merchant register' wrote to --dir. It makes
two fresh keys. The request is signed with the current signature key and
names the current certificate; the CA checks the acquirer's records as at
registration, and refuses a certificate that is expired, revoked or not
this merchant's. The merchant ID, BIN and legal name are read from the
current certificate unless given.

` + renewFiles + `

` + passphraseHelp,
		Example: `  setpay merchant renew --dir ./shop --ca http://127.0.0.1:8443/mca --root ./myca/root.der`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return renewParty(cmd, &rf, "merchant", keyfile.RoleMerchantSigning, keyfile.RoleMerchantExchange,
				func(st suite.Suite, roots []*pki.Certificate, c *credentials, answers map[string]string, pp []byte) (crypto.Signer, suite.ExchangeKey, []byte, []byte, [][]byte, error) {
					id, acq, legal := merID, bin, name
					if md := c.parsedSig.MerchantData; md != nil {
						if id == "" {
							id = md.MerID
						}
						if acq == "" {
							acq = md.MerAcquirerBIN
						}
						if legal == "" && len(md.MerNames) > 0 {
							legal = md.MerNames[0].Name
						}
					}
					setDefault(answers, ca.FieldLegalName, legal)
					cur := &merchant.Registered{RawSigKey: c.sigKey, SigCert: c.sigCert, Chain: c.chain}
					reg, err := merchant.Renew(cmd.Context(), rf.transport(), merchant.RegisterConfig{
						Suite: st, BrandID: rf.brand, MerchantID: id, AcquirerBIN: acq, Roots: roots, Answers: answers,
					}, cur)
					reg, err = heldRenewalEE(cmd, &rf, pp, "merchant", reg, err)
					if err != nil {
						return nil, nil, nil, nil, nil, err
					}
					return reg.RawSigKey, reg.RawExKey, reg.SigCert, reg.ExCert, reg.Chain, nil
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&merID, "merid", "", "the merchant's `ID` at its acquirer (default: the current certificate's)")
	f.StringVar(&bin, "bin", "", "the acquirer's BIN, six `DIGITS` (default: the current certificate's)")
	f.StringVar(&name, "name", "", "the merchant's legal `NAME` (default: the current certificate's)")
	rf.register(cmd, "mca")
	return cmd
}

func newGatewayRenewCmd() *cobra.Command {
	var rf renewFlags
	var bin, businessID, name string
	cmd := &cobra.Command{
		Use:   "renew",
		Short: "Renew a payment gateway's certificates: new keys, certified for the same gateway",
		Long: `renew runs SET's payment-gateway registration again, as a renewal
(pgwyRenewalBoth), against the payment CA at --ca, for the gateway whose
keys and certificates 'setpay gateway register' wrote to --dir. It makes
two fresh keys. The request is signed with the current signature key and
names the current certificate; the CA checks the acquirer's records as at
registration, and refuses a certificate that is expired, revoked or not
this gateway's. The legal name is the current certificate's unless given.

` + renewFiles + `

` + passphraseHelp,
		Example: `  setpay gateway renew --dir ./gateway --ca http://127.0.0.1:8443/pca --root ./myca/root.der --bin 400000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return renewParty(cmd, &rf, "gateway", keyfile.RoleGatewaySigning, keyfile.RoleGatewayExchange,
				func(st suite.Suite, roots []*pki.Certificate, c *credentials, answers map[string]string, pp []byte) (crypto.Signer, suite.ExchangeKey, []byte, []byte, [][]byte, error) {
					legal := name
					if legal == "" {
						legal = c.parsedSig.Subject.CommonName
					}
					setDefault(answers, ca.FieldLegalName, legal)
					cur := &gateway.Registered{RawSigKey: c.sigKey, SigCert: c.sigCert, Chain: c.chain}
					reg, err := gateway.Renew(cmd.Context(), rf.transport(), gateway.RegisterConfig{
						Suite: st, BrandID: rf.brand, AcquirerBIN: bin, BusinessID: businessID, Roots: roots, Answers: answers,
					}, cur)
					reg, err = heldRenewalEE(cmd, &rf, pp, "gateway", reg, err)
					if err != nil {
						return nil, nil, nil, nil, nil, err
					}
					return reg.RawSigKey, reg.RawExKey, reg.SigCert, reg.ExCert, reg.Chain, nil
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&bin, "bin", "", "the acquirer's BIN, six `DIGITS` (required)")
	f.StringVar(&businessID, "business-id", "", "the acquirer's business `ID`, if its records have one")
	f.StringVar(&name, "name", "", "the gateway's legal `NAME` (default: the current certificate's)")
	_ = cmd.MarkFlagRequired("bin")
	rf.register(cmd, "pca")
	return cmd
}
