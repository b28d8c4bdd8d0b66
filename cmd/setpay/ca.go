package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/crldist"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
)

// passphraseEnv is the environment variable every command reads the
// passphrase of its key files from, when --passphrase-file is not given.
const passphraseEnv = "SETPAY_PASSPHRASE"

const passphraseHelp = `Every private key is stored encrypted under a passphrase (Argon2id and
AES-256-GCM, files of mode 0600). The passphrase comes from
--passphrase-file FILE (its first line), else from the environment
variable SETPAY_PASSPHRASE, else it is asked for on the terminal without
echo.`

// testKDF is the cheap key derivation --insecure-fast-kdf selects, so the
// CLI tests do not spend seconds per key file. It is hidden from --help.
var testKDF = keyfile.Scrypt{LogN: 10, R: 8, P: 1}

// passphraseFlags are the flags of a command that opens or seals key files.
type passphraseFlags struct {
	file    string
	fastKDF bool
}

func (p *passphraseFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.file, "passphrase-file", "", "read the key passphrase from the first line of `FILE` (else $SETPAY_PASSPHRASE, else a prompt)")
	f.BoolVar(&p.fastKDF, "insecure-fast-kdf", false, "derive key-file keys cheaply (for tests only)")
	_ = f.MarkHidden("insecure-fast-kdf")
}

func (p *passphraseFlags) kdf() keyfile.Params {
	if p.fastKDF {
		return testKDF
	}
	return nil
}

// get returns the passphrase; confirm asks twice at a prompt (for a
// passphrase that is about to seal new keys).
func (p *passphraseFlags) get(cmd *cobra.Command, confirm bool) ([]byte, error) {
	if p.file != "" {
		f, err := os.Open(p.file)
		if err != nil {
			return nil, fmt.Errorf("passphrase file: %w", err)
		}
		defer f.Close()
		pp, err := keyfile.ReadPassphrase(f)
		if err != nil {
			return nil, fmt.Errorf("passphrase file %s: %w", p.file, err)
		}
		if len(pp) == 0 {
			return nil, fmt.Errorf("passphrase file %s: %w", p.file, keyfile.ErrEmptyPassphrase)
		}
		return pp, nil
	}
	prompt := keyfile.TerminalPrompt(os.Stdin, cmd.ErrOrStderr(), "Passphrase for the key files: ")
	if confirm {
		prompt = keyfile.Confirmed(prompt, keyfile.TerminalPrompt(os.Stdin, cmd.ErrOrStderr(), "Same passphrase again: "))
	}
	pp, err := keyfile.PassphraseFrom("", passphraseEnv, prompt)
	if err != nil {
		return nil, err
	}
	if len(pp) == 0 {
		return nil, keyfile.ErrEmptyPassphrase
	}
	return pp, nil
}

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Run a brand's certificate authorities: create, serve, revoke, publish CRLs",
		Long: `ca manages the certificate authorities of one card brand, kept in a
directory: the SET root CA, the brand CA, and the three CAs that certify
cardholders (CCA), merchants (MCA) and payment gateways (PCA).

Cardholders, merchants and gateways obtain their certificates from a running
CA with 'setpay wallet register', 'setpay merchant register' and
'setpay gateway register', speaking SET's registration protocols over HTTP.

` + passphraseHelp,
		Example: `  export SETPAY_PASSPHRASE='a long passphrase'
  setpay ca init --dir ./myca
  setpay ca serve --dir ./myca --listen 127.0.0.1:8443`,
	}
	cmd.AddCommand(newCAInitCmd(), newCAServeCmd(), newCARevokeCmd(), newCACRLCmd())
	cmd.AddCommand(newCAPendingCmd()) // ca_pending.go
	return cmd
}

func newCAInitCmd() *cobra.Command {
	var dir, suiteName, brand string
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new CA hierarchy (root, brand, cardholder, merchant and payment CAs) in a directory",
		Long: `init creates the certificate authorities of a brand under --dir, which
must not exist or be empty:

  root.der, brand.der        the SET root (the trust anchor every party
                             needs) and the brand CA; .pem copies for openssl
  cca.der mca.der pca.der    the cardholder, merchant and payment CAs
  *-exchange.der             each CA's key-exchange certificate: requests
                             are encrypted to it
  *.key                      the private keys, encrypted, mode 0600
  cca.db mca.db pca.db       each CA's database (SQLite): nonces handed
                             out, keys certified, revocations
  root.db brand.db           the CA certificates the root and the brand
                             CA issued, and revoked
  *.crl brand.bci            the first CRL of every CA and the brand's
                             CRL identifier naming them
  config.json                suite, brand, the BIN ranges the cardholder CA
                             registers (default 400000-599999, the test
                             cards) and the acquirer's records of merchants
                             and gateways (default: merchant MER-0001
                             "Corner Bookshop" and "SETpay Payment Gateway",
                             both at acquirer BIN 400000); edit it to
                             register others.

Registration forms. config.json can give each BIN range (a card issuer) a
form the cardholder fills in, and the merchant and payment CAs one form for
the acquirer, each in a default language and by language tag: a wallet
asking in "fr" (or "fr-CA") gets the "fr" form, any other language the
default one. 'setpay ca serve' checks the forms when it starts and says
which one is wrong and why.

  "bin_ranges": [{"low": "400000", "high": "599999",
    "form":  {"id": 10, "fields": [
      {"name": "Full name", "desc": "as on the card", "len": 60, "required": true},
      {"name": "Campaign", "type": "hidden", "value": "spring"}]},
    "forms": {"fr": {"id": 11, "fields": [
      {"name": "Nom complet", "len": 60, "required": true}]}}}],
  "acquirer_form": {"id": 20, "fields": [
    {"name": "Legal name", "required": true},
    {"name": "Phone", "required": true}]},
  "acquirer_forms": {"fr": {"id": 21, "fields": [
    {"name": "Legal name", "desc": "Raison sociale", "required": true},
    {"name": "Phone", "desc": "Telephone", "required": true}]}}

A field's "type" is "text" (the default; the applicant answers it) or
"hidden" (sent with its "value", returned as sent); "len" bounds the
answer (1 to 128, default 128); "oid" optionally names it (dotted). Names, descriptions and values are
printable ASCII (SET's forms are VisibleString). Field
names are unique within a form; every form's "id" is a positive number
of its own; the acquirer's forms must have the "Legal name" field, which
the CA checks against the records. An "acquirers" entry may have its own
"form" and "forms", used for that merchant or gateway instead of the
acquirer's. Without a form a BIN range asks for nothing, and the acquirer
asks for "Legal name" only.

init writes a default form for the BIN ranges ("Full name", "Billing
postal code") and for the acquirer ("Legal name", which 'register --name'
fills in, and "Contact phone"); only "Legal name" is required, so every
applicant registers without --answer until you make more fields
"required". A key config.json does not know (a typo such as "bin_range")
stops 'ca serve' with an error naming it and where it is.

` + passphraseHelp + ` At a prompt it is asked twice.`,
		Example: `  setpay ca init --dir ./myca
  setpay ca init --dir ./myca-set1 --suite set1 --brand Acme --passphrase-file ./pass.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := suite.ByID(suite.ID(suiteName))
			if err != nil {
				return fmt.Errorf("--suite %q: %w (want modern or set1)", suiteName, err)
			}
			pp, err := pf.get(cmd, true)
			if err != nil {
				return err
			}
			if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Brand: brand, Passphrase: pp, KDF: pf.kdf()}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created the %s CA hierarchy (suite %s) in %s\n", brand, st.ID(), dir)
			fmt.Fprintf(cmd.OutOrStdout(), "trust anchor for every party: %s/root.der\n", dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "create the CA in `DIR` (required)")
	f.StringVar(&suiteName, "suite", "modern", "cryptographic suite: `modern` (ECDSA P-256, AES-GCM) or set1 (RSA, SHA-1, DES, as in 1997)")
	f.StringVar(&brand, "brand", "SETpay", "the card brand's `NAME` (the BrandID cardholders register under)")
	_ = cmd.MarkFlagRequired("dir")
	pf.register(cmd)
	return cmd
}

func newCAServeCmd() *cobra.Command {
	var dir, listen string
	var fresh crlRefresh
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve SET certificate registration over HTTP for the CAs in a directory",
		Long: `serve runs the cardholder, merchant and payment CAs of the hierarchy in
--dir as three HTTP endpoints, each taking one DER SET message per POST:

  http://ADDR/cca   cardholder registration (setpay wallet register)
  http://ADDR/mca   merchant registration   (setpay merchant register)
  http://ADDR/pca   gateway registration    (setpay gateway register)
  http://ADDR/crl   GET: the CRLs of every CA and the brand's CRL identifier,
                    in one CRLNotification signed by the brand CA; parties
                    fetch it to learn of revocations

The CRLs served are the directory's current ones, read at every request,
so a 'setpay ca revoke' run while serving takes effect at once: parties
learn of it at their next fetch, and a revoked cardholder, merchant or
payment CA refuses every registration request (revokedCertificate).

CRLs and the brand's CRL identifier are current for a week, and parties
refuse certificates whose CAs have no current CRL, so serve keeps them
fresh: at start and every --crl-check-interval it re-signs each one past
--crl-refresh-at of its validity (default half: after three and a half
days). The root's key stays offline, so serve cannot re-sign the root's
CRL: it is current for a year from 'setpay ca init', 'setpay ca revoke'
of a brand CA, or 'setpay ca crl', and serve logs a warning once it is
past the same point; run 'setpay ca crl' then.

It prints the URLs, logs each request to standard error, and stops cleanly
on Ctrl-C (SIGINT) or SIGTERM. Listen on loopback unless a proxy in front
adds TLS: SET protects its messages itself, but not who talks to whom.

` + addrFileHelp + `

` + passphraseHelp,
		Example: `  setpay ca serve --dir ./myca --listen 127.0.0.1:8443`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runCAServe(ctx, cmd, dir, listen, fresh, &pf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the CA directory made by 'setpay ca init' (required)")
	f.StringVar(&listen, "listen", "127.0.0.1:8443", "serve HTTP on `host:port`")
	registerAddrFileFlag(cmd) // serve.go
	f.DurationVar(&fresh.interval, "crl-check-interval", time.Hour, "check every `DURATION` whether CRLs need re-signing")
	f.Float64Var(&fresh.at, "crl-refresh-at", cadir.DefaultRefreshAt, "re-sign a CRL once this `FRACTION` of its validity has passed")
	_ = cmd.MarkFlagRequired("dir")
	pf.register(cmd)
	registerReviewFlag(cmd) // ca_pending.go
	return cmd
}

// crlRefresh is how 'ca serve' keeps its CRLs current.
type crlRefresh struct {
	interval time.Duration
	at       float64
}

func runCAServe(ctx context.Context, cmd *cobra.Command, dir, listen string, fresh crlRefresh, pf *passphraseFlags) (err error) {
	if fresh.interval <= 0 {
		return fmt.Errorf("--crl-check-interval %v: must be positive", fresh.interval)
	}
	if !(fresh.at > 0 && fresh.at < 1) {
		return fmt.Errorf("--crl-refresh-at %v: want a fraction between 0 and 1", fresh.at)
	}
	pp, err := pf.get(cmd, false)
	if err != nil {
		return err
	}
	review, err := reviewFlag(cmd)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	h, err := cadir.Open(dir, pp, cadir.OpenOptions{Log: log, Review: review})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, h.Close()) }()
	// Fresh CRLs before the first GET /crl, then on the interval.
	crlLog := log.With("ca", "crl")
	reportRefresh(crlLog)(h.RefreshCRLs(ctx, fresh.at))
	rctx, stopRefresh := context.WithCancel(ctx)
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		t := time.NewTimer(fresh.interval)
		defer t.Stop()
		select { // the first check is the one just made
		case <-rctx.Done():
			return
		case <-t.C:
		}
		_ = h.KeepCRLsFresh(rctx, fresh.interval, fresh.at, reportRefresh(crlLog))
	}()
	// Stop refreshing before the databases close.
	defer func() { stopRefresh(); <-refreshed }()
	mux := http.NewServeMux()
	for _, name := range cadir.IssuingCAs {
		mux.Handle("/"+name, transport.Handler(h.CAs[name].Serve, log.With("ca", name)))
	}
	mux.Handle(crldist.Path, h.Notifier(log.With("ca", "brand")))
	ln, err := serviceListen(cmd, listen) // serve.go: also writes --addr-file
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "ca: serving the %s CAs from %s\n", h.Config.Brand, dir)
	fmt.Fprintf(out, "  cardholder CA  http://%s/cca\n  merchant CA    http://%s/mca\n  payment CA     http://%s/pca\n", ln.Addr(), ln.Addr(), ln.Addr())
	fmt.Fprintf(out, "  revocation     http://%s%s (GET)\n", ln.Addr(), crldist.Path)
	fmt.Fprintf(out, "stop with Ctrl-C\n")
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shutting down: %w", err)
		}
		<-done
	case serr := <-done:
		return fmt.Errorf("serving: %w", serr)
	}
	fmt.Fprintf(out, "ca: stopped\n")
	return nil
}

// reportRefresh logs what a CRL refresh did.
func reportRefresh(log *slog.Logger) func(*cadir.Refreshed, error) {
	return func(r *cadir.Refreshed, err error) {
		if err != nil {
			log.Error("re-signing CRLs failed; the current ones stay served", "err", err)
		}
		if r == nil {
			return
		}
		if len(r.CRLs) > 0 || r.BCI {
			log.Info("re-signed CRLs", "cas", r.CRLs, "bci", r.BCI)
		}
		if len(r.Stale) > 0 {
			log.Warn("the root's CRL needs re-signing with the root key: run 'setpay ca crl'", "cas", r.Stale, "current_until", r.RootNextUpdate)
		}
	}
}

func newCARevokeCmd() *cobra.Command {
	var dir, serial, certFile, reason string
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke a certificate a CA of the hierarchy issued, and issue that CA's new CRL",
		Long: `revoke marks a certificate revoked in the database of the CA that issued
it and signs a fresh CRL for that CA (kept as DIR/cca.crl, mca.crl,
pca.crl, brand.crl or root.crl) and a fresh brand CRL identifier
(DIR/brand.bci). 'setpay ca serve' hands them out from then on; copy them
elsewhere with 'setpay ca crl'.

Besides end-entity certificates, the certificate of an issuing CA can be
revoked (at the brand CA: --cert DIR/cca.der), and the brand CA's (at the
root). A revoked CA refuses every registration request.

Name the certificate by --serial (decimal, or hex with 0x, as 'setpay
inspect' prints it) if the CA recorded issuing it, or give the certificate
itself with --cert FILE (DER): it is checked to chain to this hierarchy,
recorded and revoked.

--reason is an RFC 5280 reason: keyCompromise, superseded,
affiliationChanged, cessationOfOperation, certificateHold,
privilegeWithdrawn, cACompromise or unspecified (the default).

` + passphraseHelp,
		Example: `  setpay ca revoke --dir ./myca --cert ./alice/cert.der --reason keyCompromise
  setpay ca revoke --dir ./myca --serial 0x1f3a9c --reason superseded`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := cadir.ParseReason(reason)
			if err != nil {
				return err
			}
			var der []byte
			var n *big.Int
			switch {
			case (serial == "") == (certFile == ""):
				return errors.New("give exactly one of --serial and --cert")
			case certFile != "":
				if der, err = os.ReadFile(certFile); err != nil {
					return err
				}
			default:
				var ok bool
				if n, ok = new(big.Int).SetString(serial, 0); !ok || n.Sign() <= 0 {
					return fmt.Errorf("--serial %q: not a positive number", serial)
				}
			}
			pp, err := pf.get(cmd, false)
			if err != nil {
				return err
			}
			h, err := cadir.Open(dir, pp, cadir.OpenOptions{RootKey: true})
			if err != nil {
				return err
			}
			defer h.Close()
			var name string
			if der != nil {
				name, n, _, err = h.RevokeCert(cmd.Context(), der, r)
			} else {
				name, _, err = h.Revoke(cmd.Context(), n, r)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked serial %d (0x%x) at the %s (reason %s); new CRL in %s/%s.crl\n", n, n, name, reason, dir, name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the CA directory (required)")
	f.StringVar(&serial, "serial", "", "revoke the certificate with serial `N`")
	f.StringVar(&certFile, "cert", "", "revoke the certificate in `FILE` (DER)")
	f.StringVar(&reason, "reason", "unspecified", "RFC 5280 revocation `reason`")
	_ = cmd.MarkFlagRequired("dir")
	pf.register(cmd)
	return cmd
}

func newCACRLCmd() *cobra.Command {
	var dir, out string
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "crl",
		Short: "Issue fresh CRLs of the CAs and the brand's CRL identifier, into a directory",
		Long: `crl signs a fresh CRL for every CA of the hierarchy, listing every
certificate it revoked so far: the cardholder, merchant and payment CAs
(end entities), the brand CA (revoked issuing CAs) and the root (a revoked
brand CA); and a BrandCRLIdentifier (brand.bci), signed by the brand CA,
naming those five CRLs: the list a SET party checks to know it has every
CRL in force. They become the directory's current ones (what 'setpay ca
serve' hands out). The root's CRL is valid for a year, the others and the
identifier for a week; 'setpay ca serve' re-signs all but the root's
before then, so run crl at least yearly (serve warns when it is due).

Files written to --out: root.crl brand.crl cca.crl mca.crl pca.crl (DER),
with .crl.pem copies openssl reads (openssl crl -in cca.crl.pem -text),
and brand.bci.

` + passphraseHelp,
		Example: `  setpay ca crl --dir ./myca --out ./published`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pp, err := pf.get(cmd, false)
			if err != nil {
				return err
			}
			h, err := cadir.Open(dir, pp, cadir.OpenOptions{RootKey: true})
			if err != nil {
				return err
			}
			defer h.Close()
			files, err := h.WriteCRLs(cmd.Context(), out)
			if err != nil {
				return err
			}
			var b bytes.Buffer
			for _, f := range files {
				fmt.Fprintf(&b, "wrote %s\n", f)
			}
			_, err = cmd.OutOrStdout().Write(b.Bytes())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the CA directory (required)")
	f.StringVar(&out, "out", "", "write the CRLs and brand.bci to `DIR` (required)")
	_ = cmd.MarkFlagRequired("dir")
	_ = cmd.MarkFlagRequired("out")
	pf.register(cmd)
	return cmd
}
