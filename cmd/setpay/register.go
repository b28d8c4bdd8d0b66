package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// roleCardSecrets labels the sealed file of a card's number and secrets.
const roleCardSecrets = "cardholder card secrets"

// regFlags are the flags every registration command shares.
type regFlags struct {
	caURL, root, suiteName, brand, out string
	language                           string
	wait, poll                         time.Duration
	answers                            []string
	pf                                 passphraseFlags
}

func (r *regFlags) register(cmd *cobra.Command, caPath string) {
	f := cmd.Flags()
	f.StringVar(&r.caURL, "ca", "", "the CA's registration `URL`, e.g. http://127.0.0.1:8443/"+caPath+" (required)")
	f.StringVar(&r.root, "root", "", "the SET root certificate to trust, `FILE` (DER; root.der of 'setpay ca init') (required)")
	f.StringVar(&r.suiteName, "suite", "modern", "cryptographic suite, the CA's: `modern` or set1")
	f.StringVar(&r.brand, "brand", "SETpay", "the card brand's `NAME`, as the CA was created with")
	f.StringVar(&r.out, "out", "", "write the keys and certificates to `DIR` (created; must not hold earlier ones) (required)")
	f.DurationVar(&r.wait, "wait", 0, "keep trying for up to `DURATION`: while the CA refuses connections (it is starting), and while it holds the request for review, asking again every --poll; a request still held is saved in --out for 'resume'")
	f.DurationVar(&r.poll, "poll", 10*time.Second, "with --wait, ask after a request held for review every `DURATION`")
	f.StringArrayVar(&r.answers, "answer", nil, "fill the CA's registration form: `FIELD=VALUE` (repeatable)")
	f.StringVar(&r.language, "language", "en", "the language `TAG` to get the CA's registration form in, e.g. fr")
	for _, n := range []string{"ca", "root", "out"} {
		_ = cmd.MarkFlagRequired(n)
	}
	r.pf.register(cmd)
}

// setup reads the suite, the root and the passphrase, and makes the out
// directory.
func (r *regFlags) setup(cmd *cobra.Command) (suite.Suite, []*pki.Certificate, []byte, error) {
	st, err := suite.ByID(suite.ID(r.suiteName))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--suite %q: %w (want modern or set1)", r.suiteName, err)
	}
	b, err := os.ReadFile(r.root)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--root: %w", err)
	}
	root, err := pki.ParseCertificate(b)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--root %s: %w", r.root, err)
	}
	// Checked before registering, so a certificate is not issued for keys
	// that then cannot be stored.
	if ents, err := os.ReadDir(r.out); err == nil && len(ents) > 0 {
		return nil, nil, nil, fmt.Errorf("--out %s is not empty; refusing to overwrite keys", r.out)
	}
	pp, err := r.pf.get(cmd, true)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := os.MkdirAll(r.out, 0o700); err != nil {
		return nil, nil, nil, err
	}
	return st, []*pki.Certificate{root}, pp, nil
}

func (r *regFlags) answerMap() (map[string]string, error) {
	m := map[string]string{}
	for _, a := range r.answers {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("--answer %q: want FIELD=VALUE", a)
		}
		m[k] = v
	}
	return m, nil
}

func (r *regFlags) transport() wire.RoundTripper {
	return &waitingRT{rt: &transport.Client{URL: r.caURL}, wait: r.wait}
}

// waitingRT retries a request the CA's host refused to connect for, for
// up to wait: a refused connection delivered nothing, so retrying is safe.
// Scripts that start 'setpay ca serve' in the background use it.
type waitingRT struct {
	rt   wire.RoundTripper
	wait time.Duration
}

func (w *waitingRT) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	deadline := time.Now().Add(w.wait)
	for i := 0; ; i++ {
		res, err := w.rt.RoundTrip(ctx, req)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) || i >= 1000 {
			return res, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeKey seals a key for role into DIR/name.
func writeKey(dir, name, role string, pkcs8 []byte, pp []byte, kdf keyfile.Params) error {
	sealed, err := keyfile.Seal(rand.Reader, pkcs8, role, pp, kdf)
	if err != nil {
		return err
	}
	return keyfile.WriteFile(filepath.Join(dir, name), sealed)
}

// writeCerts writes a certificate as DIR/name.der and .pem, and the chain
// as chain.pem (the issuing CA first) and chain-1.der, chain-2.der, ….
func writeCerts(dir string, certs map[string][]byte, chain [][]byte) error {
	for name, der := range certs {
		if err := os.WriteFile(filepath.Join(dir, name+".der"), der, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return err
		}
	}
	var all []byte
	for i, der := range chain {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("chain-%d.der", i+1)), der, 0o644); err != nil {
			return err
		}
		all = append(all, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return os.WriteFile(filepath.Join(dir, "chain.pem"), all, 0o644)
}

// signingPKCS8 is suite.MarshalSigningKey with the error saying which key.
func signingPKCS8(k crypto.Signer) ([]byte, error) {
	b, err := suite.MarshalSigningKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding the signing key: %w", err)
	}
	return b, nil
}

func serialOf(der []byte) string {
	c, err := pki.ParseCertificate(der)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%d (0x%x)", c.SerialNumber, c.SerialNumber)
}

// cardSecrets is the plaintext of card.sealed: everything about the card
// the wallet needs to pay besides its key and certificate. The PAN and both
// secrets are as sensitive as a key, so they are sealed like one.
type cardSecrets struct {
	PAN        string `asn1:"utf8"`
	Expiry     string `asn1:"utf8"`
	BrandID    string `asn1:"utf8"`
	PANSecret  []byte
	CardSecret []byte
}

func newWalletCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "The cardholder's wallet: obtain a certificate for a card",
		Long: `wallet is the cardholder's side of SET. 'wallet register' enrols a card
with the brand's cardholder CA and stores the signing key, the certificate
and the card's secrets, encrypted, in a directory.`,
	}
	cmd.AddCommand(newWalletRegisterCmd())
	cmd.AddCommand(newWalletRenewCmd())  // renew.go
	cmd.AddCommand(newWalletResumeCmd()) // resume.go
	cmd.AddCommand(newWalletPayCmd())
	return cmd
}

func newWalletRegisterCmd() *cobra.Command {
	var rf regFlags
	var pan, expiry string
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Enrol a card with a running cardholder CA and store its key and certificate",
		Long: `register runs SET's cardholder registration against the cardholder CA at
--ca (see 'setpay ca serve'): CardCInitReq, RegFormReq and CertReq, with the
card number sent only encrypted to the CA. The certificate it gets proves
the cardholder knows the card without containing the card number.

It makes a fresh signing key and writes to --out:

  cardholder.key          the signing key, encrypted (mode 0600)
  card.sealed             card number, expiry and the card's secrets
                          (PANSecret, CardSecret), encrypted the same way
  cardholder.der/.pem     the certificate
  chain-1.der, chain-2.der, chain.pem
                          the cardholder CA's and the brand CA's
                          certificates, sent along with signatures

` + passphraseHelp + ` At a prompt it is asked twice.`,
		Example: `  export SETPAY_PASSPHRASE='a long passphrase'
  setpay wallet register --ca http://127.0.0.1:8443/cca --root ./myca/root.der \
      --pan 4111111111111111 --expiry 202912 --out ./alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := time.Parse("200601", expiry); err != nil {
				return fmt.Errorf("--expiry %q: want YYYYMM", expiry)
			}
			answers, err := rf.answerMap()
			if err != nil {
				return err
			}
			st, roots, pp, err := rf.setup(cmd)
			if err != nil {
				return err
			}
			key, err := st.NewSigningKey(rand.Reader)
			if err != nil {
				return err
			}
			reg, err := wallet.Register(cmd.Context(), rf.transport(), wallet.RegisterConfig{
				Suite: st, Card: wallet.Card{PAN: pan, Expiry: expiry, BrandID: rf.brand},
				Roots: roots, Answers: answers, Key: key, Language: rf.language,
			})
			if pe := (*wallet.PendingError)(nil); errors.As(err, &pe) {
				// Saved before anything else, so the request outlives this process (resume.go).
				pe.Registration.SetCAURL(rf.caURL) // so that resume needs no --ca
				if err := savePending(rf.out, func() ([]byte, error) { return pe.Registration.Export(rand.Reader, pp, rf.pf.kdf()) }); err != nil {
					return err
				}
				reg, err = awaitDecision(cmd, &rf, pe.Status, resumeLater("wallet", rf.out), func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (*wallet.Registered, error) {
					return pe.Registration.Wait(ctx, rt, wallet.WaitOptions{Every: every, Max: max})
				})
			}
			if err != nil {
				if finalRefusal(err) {
					_ = dropPending(rf.out) // the CA's answer is final: nothing to resume
				}
				return fmt.Errorf("registration: %w", peerOrigin(err))
			}
			pk, err := signingPKCS8(key)
			if err != nil {
				return err
			}
			if err := writeKey(rf.out, "cardholder.key", keyfile.RoleCardholderSigning, pk, pp, rf.pf.kdf()); err != nil {
				return err
			}
			sec, err := asn1.Marshal(cardSecrets{PAN: reg.Card.PAN, Expiry: reg.Card.Expiry, BrandID: reg.Card.BrandID, PANSecret: reg.Card.PANSecret[:], CardSecret: reg.Card.CardSecret[:]})
			if err != nil {
				return err
			}
			if err := writeKey(rf.out, "card.sealed", roleCardSecrets, sec, pp, rf.pf.kdf()); err != nil {
				return err
			}
			if err := writeCerts(rf.out, map[string][]byte{"cardholder": reg.Cert}, reg.Chain); err != nil {
				return err
			}
			if err := dropPending(rf.out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered card %s: certificate serial %s in %s\n", reg.Card, serialOf(reg.Cert), rf.out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&pan, "pan", "", "the card number, 12 to 19 `DIGITS` (required)")
	f.StringVar(&expiry, "expiry", "", "the card's expiry, `YYYYMM` (required)")
	_ = cmd.MarkFlagRequired("pan")
	_ = cmd.MarkFlagRequired("expiry")
	rf.register(cmd, "cca")
	return cmd
}

// writeParty stores a merchant's or gateway's registration.
func writeParty(out, who string, sigRole, exRole string, sig crypto.Signer, ex suite.ExchangeKey, sigCert, exCert []byte, chain [][]byte, pp []byte, kdf keyfile.Params) error {
	pk, err := signingPKCS8(sig)
	if err != nil {
		return err
	}
	if err := writeKey(out, "signing.key", sigRole, pk, pp, kdf); err != nil {
		return err
	}
	xk, err := suite.MarshalExchangeKey(ex)
	if err != nil {
		return fmt.Errorf("encoding the %s exchange key: %w", who, err)
	}
	if err := writeKey(out, "exchange.key", exRole, xk, pp, kdf); err != nil {
		return err
	}
	return writeCerts(out, map[string][]byte{"signing": sigCert, "exchange": exCert}, chain)
}

const partyFiles = `It makes fresh keys, one to sign and one to receive encrypted messages
(SET certifies them separately), and writes to --out:

  signing.key, exchange.key    the keys, encrypted (mode 0600)
  signing.der, exchange.der    the certificates (.pem copies for openssl)
  chain-1.der, chain-2.der, chain.pem
                               the CA's and the brand CA's certificates`

func newMerchantCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "merchant",
		Short: "The merchant: obtain certificates from the brand's merchant CA",
		Long:  `merchant is the shop's side of SET. 'merchant register' obtains its certificates.`,
	}
	cmd.AddCommand(newMerchantRegisterCmd())
	cmd.AddCommand(newMerchantRenewCmd())  // renew.go
	cmd.AddCommand(newMerchantResumeCmd()) // resume.go
	cmd.AddCommand(newMerchantServeCmd(), newMerchantCaptureCmd())
	return cmd
}

func newMerchantRegisterCmd() *cobra.Command {
	var rf regFlags
	var merID, bin, name string
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register a merchant with a running merchant CA and store its keys and certificates",
		Long: `register runs SET's merchant registration against the merchant CA at --ca
(see 'setpay ca serve'): Me-AqCInitReq, then CertReq. The CA checks the
merchant ID, the acquirer's BIN and the legal name (--name) against the
acquirer's records (config.json of the CA) before it issues anything.

` + partyFiles + `

` + passphraseHelp + ` At a prompt it is asked twice.`,
		Example: `  setpay merchant register --ca http://127.0.0.1:8443/mca --root ./myca/root.der \
      --merid MER-0001 --bin 400000 --name "Corner Bookshop" --out ./shop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			answers, err := rf.answerMap()
			if err != nil {
				return err
			}
			if _, ok := answers[ca.FieldLegalName]; !ok {
				answers[ca.FieldLegalName] = name
			}
			st, roots, pp, err := rf.setup(cmd)
			if err != nil {
				return err
			}
			reg, err := merchant.Register(cmd.Context(), rf.transport(), merchant.RegisterConfig{
				Suite: st, BrandID: rf.brand, MerchantID: merID, AcquirerBIN: bin, Roots: roots, Answers: answers, Language: rf.language,
			})
			if reg, err = settleEE(cmd, &rf, pp, "merchant", reg, err); err != nil {
				return err
			}
			if err := writeParty(rf.out, "merchant", keyfile.RoleMerchantSigning, keyfile.RoleMerchantExchange, reg.RawSigKey, reg.RawExKey, reg.SigCert, reg.ExCert, reg.Chain, pp, rf.pf.kdf()); err != nil {
				return err
			}
			if err := dropPending(rf.out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered merchant %s at acquirer %s: signature certificate serial %s, key-exchange certificate serial %s, in %s\n",
				merID, bin, serialOf(reg.SigCert), serialOf(reg.ExCert), rf.out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&merID, "merid", "", "the merchant's `ID` at its acquirer (required)")
	f.StringVar(&bin, "bin", "", "the acquirer's BIN, six `DIGITS` (required)")
	f.StringVar(&name, "name", "", "the merchant's legal `NAME`, as the acquirer knows it (required)")
	for _, n := range []string{"merid", "bin", "name"} {
		_ = cmd.MarkFlagRequired(n)
	}
	rf.register(cmd, "mca")
	return cmd
}

func newGatewayCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "The payment gateway: obtain certificates from the brand's payment CA",
		Long:  `gateway is the acquirer's side of SET. 'gateway register' obtains its certificates.`,
	}
	cmd.AddCommand(newGatewayRegisterCmd())
	cmd.AddCommand(newGatewayRenewCmd())  // renew.go
	cmd.AddCommand(newGatewayResumeCmd()) // resume.go
	cmd.AddCommand(newGatewayServeCmd())
	return cmd
}

func newGatewayRegisterCmd() *cobra.Command {
	var rf regFlags
	var bin, businessID, name string
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register a payment gateway with a running payment CA and store its keys and certificates",
		Long: `register runs SET's payment-gateway registration against the payment CA
at --ca (see 'setpay ca serve'): Me-AqCInitReq, then CertReq. The CA checks
the acquirer's BIN, business ID and the legal name (--name) against the
acquirer's records (config.json of the CA) before it issues anything.

` + partyFiles + `

` + passphraseHelp + ` At a prompt it is asked twice.`,
		Example: `  setpay gateway register --ca http://127.0.0.1:8443/pca --root ./myca/root.der \
      --bin 400000 --name "SETpay Payment Gateway" --out ./gateway`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			answers, err := rf.answerMap()
			if err != nil {
				return err
			}
			if _, ok := answers[ca.FieldLegalName]; !ok {
				answers[ca.FieldLegalName] = name
			}
			st, roots, pp, err := rf.setup(cmd)
			if err != nil {
				return err
			}
			reg, err := gateway.Register(cmd.Context(), rf.transport(), gateway.RegisterConfig{
				Suite: st, BrandID: rf.brand, AcquirerBIN: bin, BusinessID: businessID, Roots: roots, Answers: answers, Language: rf.language,
			})
			if reg, err = settleEE(cmd, &rf, pp, "gateway", reg, err); err != nil {
				return err
			}
			if err := writeParty(rf.out, "gateway", keyfile.RoleGatewaySigning, keyfile.RoleGatewayExchange, reg.RawSigKey, reg.RawExKey, reg.SigCert, reg.ExCert, reg.Chain, pp, rf.pf.kdf()); err != nil {
				return err
			}
			if err := dropPending(rf.out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered gateway %q for acquirer %s: signature certificate serial %s, key-exchange certificate serial %s, in %s\n",
				name, bin, serialOf(reg.SigCert), serialOf(reg.ExCert), rf.out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bin, "bin", "", "the acquirer's BIN, six `DIGITS` (required)")
	f.StringVar(&businessID, "business-id", "", "the acquirer's business `ID`, if its records have one")
	f.StringVar(&name, "name", "", "the gateway's legal `NAME`, as the acquirer knows it (required)")
	_ = cmd.MarkFlagRequired("bin")
	_ = cmd.MarkFlagRequired("name")
	rf.register(cmd, "pca")
	return cmd
}
