package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/internal/atomicfile"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
)

// httpTimeout bounds one HTTP exchange a service serves or makes.
const httpTimeout = 30 * time.Second

// shutdownGrace is how long a service lets exchanges in flight finish
// after SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

// credentials are a merchant's or gateway's keys and certificates, as
// 'setpay merchant|gateway register' wrote them.
type credentials struct {
	suite           suite.Suite
	sigKey          crypto.Signer
	exKey           suite.ExchangeKey
	sigCert, exCert []byte
	chain           [][]byte // chain-1.der, chain-2.der, …: the issuing CA first
	parsedSig       *pki.Certificate
}

// loadCredentials opens DIR/signing.key and DIR/exchange.key and reads
// the certificates beside them. The suite is the one the signing
// certificate's key belongs to: the directory does not record it.
func loadCredentials(dir, sigRole, exRole string, pp []byte) (*credentials, error) {
	c := &credentials{}
	var err error
	if c.sigCert, err = os.ReadFile(filepath.Join(dir, "signing.der")); err != nil {
		return nil, err
	}
	if c.exCert, err = os.ReadFile(filepath.Join(dir, "exchange.der")); err != nil {
		return nil, err
	}
	if c.parsedSig, err = pki.ParseCertificate(c.sigCert); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "signing.der"), err)
	}
	if c.suite, err = suiteOf(c.parsedSig); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "signing.der"), err)
	}
	if c.chain, err = readChain(dir); err != nil {
		return nil, err
	}
	b, err := keyfile.ReadFile(filepath.Join(dir, "signing.key"))
	if err != nil {
		return nil, err
	}
	if c.sigKey, err = keyfile.OpenSigningKey(b, sigRole, pp); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "signing.key"), err)
	}
	if b, err = keyfile.ReadFile(filepath.Join(dir, "exchange.key")); err != nil {
		return nil, err
	}
	if c.exKey, err = keyfile.OpenExchangeKey(b, exRole, pp); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "exchange.key"), err)
	}
	return c, nil
}

// suiteOf returns the suite whose signatures cert's key makes: RSA keys
// are set1's, ECDSA P-256 keys modern's.
func suiteOf(cert *pki.Certificate) (suite.Suite, error) {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return suite.ByID(suite.Set1)
	case *ecdsa.PublicKey:
		return suite.ByID(suite.Modern)
	default:
		return nil, fmt.Errorf("certificate key %T belongs to no suite this build runs", k)
	}
}

// readChain reads DIR/chain-1.der, chain-2.der, … up to the first one
// missing. Registration writes at least the issuing CA's.
func readChain(dir string) ([][]byte, error) {
	var chain [][]byte
	for i := 1; i <= 16; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("chain-%d.der", i)))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		chain = append(chain, b)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s holds no chain-1.der: not a registration directory", dir)
	}
	return chain, nil
}

// readRoot reads the SET root certificate to trust (DER or PEM).
func readRoot(path string) ([]*pki.Certificate, error) {
	certs, err := readCertificates(path)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	root, err := pki.ParseCertificate(certs[0])
	if err != nil {
		return nil, fmt.Errorf("--root %s: %w", path, err)
	}
	return []*pki.Certificate{root}, nil
}

// readCertificates reads a file of one DER certificate, or of one or
// more PEM CERTIFICATE blocks, in file order.
func readCertificates(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCertificates(b)
}

func parseCertificates(b []byte) ([][]byte, error) {
	if len(b) > 0 && b[0] == 0x30 { // a DER SEQUENCE
		return [][]byte{b}, nil
	}
	var certs [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			certs = append(certs, blk.Bytes)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in it (want DER, or PEM CERTIFICATE blocks)")
	}
	return certs, nil
}

// serviceLog is a service's log: text lines on stderr.
func serviceLog(cmd *cobra.Command, party string) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("party", party)
}

const addrFileHelp = `--listen 127.0.0.1:0 lets the system pick a free port. --addr-file FILE
says which: once the service listens, it writes the address it listens on
(host:port and a newline) to FILE, complete or not at all (a temporary file
renamed into place), and removes FILE when it stops listening. Scripts and
supervisors wait for FILE instead of agreeing on a port in advance.`

// registerAddrFileFlag adds --addr-file, which every service has
// (addrFileHelp); serviceListen reads it.
func registerAddrFileFlag(cmd *cobra.Command) {
	cmd.Flags().String("addr-file", "", "once listening, write the address listened on (host:port) to `FILE`; removed when the service stops")
}

// serviceListen listens on TCP addr and, with --addr-file FILE, publishes
// the address actually bound (addr may ask for port 0) in FILE. Closing
// the listener removes FILE again, so it exists only while the service
// accepts connections.
func serviceListen(cmd *cobra.Command, addr string) (net.Listener, error) {
	file, err := cmd.Flags().GetString("addr-file")
	if err != nil {
		return nil, err // registerAddrFileFlag was not called: a bug
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// The net error repeats "listen tcp ADDR"; keep only its cause
		// (address already in use, permission denied …).
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	if file == "" {
		return ln, nil
	}
	// Atomic: a reader sees the whole address or no file.
	if err := atomicfile.Write(file, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("--addr-file: %w", err)
	}
	return &publishedListener{Listener: ln, file: file}, nil
}

// publishedListener is a listener whose address is in file.
type publishedListener struct {
	net.Listener
	file string
	once sync.Once
}

// Close closes the listener and removes the address file, if it can: a
// file left behind names a port nobody listens on, which callers see as
// a refused connection.
func (l *publishedListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { _ = os.Remove(l.file) })
	return err
}

// serveUntilDone serves h on ln until ctx ends (SIGINT, SIGTERM), then
// lets the exchanges in flight finish, for up to shutdownGrace.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := transport.NewServer(h, log)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // out of patience: cut what is left
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// signalContext ends at SIGINT or SIGTERM.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

// storePath is --db, or DIR/name by default.
func storePath(db, dir, name string) string {
	if db != "" {
		return db
	}
	return filepath.Join(dir, name)
}

const serviceFlagsHelp = `--root is the SET root certificate every certificate is checked against
(root.der of 'setpay ca init'). The service's log (text lines, never a
card number) goes to standard error; SIGINT or SIGTERM stops it after the
exchanges in flight have finished.

` + addrFileHelp

func newGatewayServeCmd() *cobra.Command {
	var dir, root, listen, issuerAddr, db, limit string
	var wait time.Duration
	var pf passphraseFlags
	var rf revocationFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the payment gateway as a service: SET over HTTP for merchants, ISO 8583 to the issuer",
		Long: `serve runs the payment gateway registered by 'setpay gateway register' as
its own service. Merchants send it AuthReq, CapReq (and reversals,
credits, PCertReq, BatchAdminReq) over SET's HTTP binding: POST a
DER message, content type application/set-payment, to any path of
http://--listen/. GET /healthz answers "ok".

It reads from --dir (what 'setpay gateway register --out DIR' wrote):

  signing.key, exchange.key    the keys, encrypted
  signing.der, exchange.der    their certificates
  chain-1.der, chain-2.der     the payment CA's and the brand CA's

The suite (modern or set1) is the one the certificates' keys belong to.
Authorizations, the replay cache and spending are kept in a SQLite
database, DIR/gateway.db unless --db says otherwise.

With --issuer-addr the gateway asks the card issuer's host at that address
over ISO 8583 ('setpay bank' runs one): 0100 for an authorization, 0200
for a sale, 0220 for a capture. It checks at start, waiting up to --wait,
that the host answers an echo (0800). Without --issuer-addr it decides by
itself: a card is declined once its approved spending would pass --limit.

` + serviceFlagsHelp + `

` + revocationHelp + `

` + passphraseHelp,
		Example: `  export SETPAY_PASSPHRASE='a long passphrase'
  setpay gateway serve --dir ./gateway --root ./myca/root.der \
      --ca-url http://127.0.0.1:8443 \
      --listen 127.0.0.1:8444 --issuer-addr 127.0.0.1:8583`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			limitCents, err := parseAmount(limit)
			if err != nil {
				return fmt.Errorf("--limit: %w", err)
			}
			roots, err := readRoot(root)
			if err != nil {
				return err
			}
			pp, err := pf.get(cmd, false)
			if err != nil {
				return err
			}
			creds, err := loadCredentials(dir, keyfile.RoleGatewaySigning, keyfile.RoleGatewayExchange, pp)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd)
			defer stop()
			return runGateway(ctx, cmd, creds, roots, gatewayOptions{
				listen: listen, issuerAddr: issuerAddr, db: storePath(db, dir, "gateway.db"),
				limit: limitCents, wait: wait, revocation: &rf,
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the gateway's registration `DIR` ('setpay gateway register --out') (required)")
	f.StringVar(&root, "root", "", "the SET root certificate to trust, `FILE` (required)")
	f.StringVar(&listen, "listen", "127.0.0.1:8444", "serve SET over HTTP on `host:port` (port 0: any free one; see --addr-file)")
	f.StringVar(&issuerAddr, "issuer-addr", "", "ask the issuer host at `host:port` over ISO 8583 (default: the built-in limit rule)")
	f.StringVar(&db, "db", "", "the gateway's SQLite database `FILE` (default DIR/gateway.db)")
	f.StringVar(&limit, "limit", "5000.00", "without --issuer-addr: the most one card may spend, `AMOUNT` in major units")
	f.DurationVar(&wait, "wait", 10*time.Second, "with --issuer-addr: wait up to `DURATION` at start for the issuer host to answer")
	_ = cmd.MarkFlagRequired("dir")
	_ = cmd.MarkFlagRequired("root")
	registerAddrFileFlag(cmd)
	rf.register(cmd, true)
	pf.register(cmd)
	return cmd
}

type gatewayOptions struct {
	listen, issuerAddr, db string
	limit                  int64
	wait                   time.Duration
	revocation             *revocationFlags
}

func runGateway(ctx context.Context, cmd *cobra.Command, creds *credentials, roots []*pki.Certificate, o gatewayOptions) (err error) {
	out := cmd.OutOrStdout()
	log := serviceLog(cmd, "gateway")
	st, err := sqlite.Open(o.db)
	if err != nil {
		return fmt.Errorf("gateway store: %w", err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	revocation, err := o.revocation.start(ctx, creds.suite, roots, log)
	if err != nil {
		return err
	}

	cfg := gateway.Config{
		Suite: creds.suite, Name: creds.parsedSig.Subject.CommonName,
		SigningKey: gateway.NewSigningKey(creds.sigKey), SigningCert: creds.sigCert,
		ExchangeKey: gateway.NewExchangeKey(creds.exKey), ExchangeCert: creds.exCert,
		Chain: creds.chain, Roots: roots, Store: st, Revocation: revocation,
		Limit: func(string) int64 { return o.limit },
		Log:   log,
	}
	issuerDesc := fmt.Sprintf("built-in rule, limit %s per card", formatAmount(o.limit))
	if o.issuerAddr != "" {
		client := iso8583.NewClient(o.issuerAddr, iso8583.ClientConfig{Log: log})
		defer client.Close()
		if err := waitForIssuer(ctx, client, o.wait); err != nil {
			return fmt.Errorf("issuer host %s does not answer: %w", o.issuerAddr, err)
		}
		cfg.Issuer = banklink.New(client, banklink.Config{Log: log, Store: st})
		issuerDesc = "ISO 8583 issuer host " + o.issuerAddr
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	// Money movements a previous run left unfinished are settled now and
	// then every minute (gateway/reconcile.go).
	rctx, stopReconcile := context.WithCancel(ctx)
	reconciled := make(chan struct{})
	defer func() { stopReconcile(); <-reconciled }()
	go func() {
		defer close(reconciled)
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			if _, err := gw.Reconcile(rctx); err != nil {
				log.Error("reconcile", "err", err)
			}
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	ln, err := serviceListen(cmd, o.listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "gateway: serving SET (suite %s) on http://%s/; issuer: %s; store %s; stop with Ctrl-C\n",
		creds.suite.ID(), ln.Addr(), issuerDesc, o.db)
	log.Info("serving", "addr", ln.Addr().String(), "suite", string(creds.suite.ID()), "issuer", issuerDesc)
	if err := serveUntilDone(ctx, ln, transport.Handler(gw.Serve, log), log); err != nil {
		return err
	}
	fmt.Fprintln(out, "gateway: stopped")
	return nil
}

// waitForIssuer sends echo tests (0800) until one is answered 00, for up
// to wait.
func waitForIssuer(ctx context.Context, c *iso8583.Client, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, max(wait, time.Second))
	defer cancel()
	var err error
	for range 200 {
		ectx, ecancel := context.WithTimeout(ctx, 2*time.Second)
		var res *iso8583.Message
		res, err = c.Send(ectx, iso8583.NewMessage("0800"))
		ecancel()
		if err == nil && res.ResponseCode() != iso8583.Approved {
			err = fmt.Errorf("echo answered %s", res.ResponseCode())
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}
