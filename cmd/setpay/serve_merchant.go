package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wire"
)

// CheckoutPath is where the merchant service takes orders: the stand-in
// for the shop's web site, which hands the wallet SET's initiation.
const CheckoutPath = "/checkout"

// maxCheckoutBody bounds a checkout request.
const maxCheckoutBody = 16 << 10

// maxDescription is the longest order description the merchant records.
const maxDescription = 4096

// merchantFlags are what 'merchant serve' and 'merchant capture' share:
// how to build the merchant and reach its gateway.
type merchantFlags struct {
	dir, root, gatewayURL, gatewayCert, db, brand string
	wait                                          time.Duration
	pf                                            passphraseFlags
	rf                                            revocationFlags
}

// register adds the flags; caRequired makes --ca-url required (a service
// must have the CRLs at start; a one-off command learns them from the
// gateway's answers).
func (mf *merchantFlags) register(cmd *cobra.Command, caRequired bool) {
	f := cmd.Flags()
	f.StringVar(&mf.dir, "dir", "", "the merchant's registration `DIR` ('setpay merchant register --out') (required)")
	f.StringVar(&mf.root, "root", "", "the SET root certificate to trust, `FILE` (required)")
	f.StringVar(&mf.gatewayURL, "gateway-url", "", "the payment gateway's SET `URL`, e.g. http://127.0.0.1:8444/ (required)")
	f.StringVar(&mf.gatewayCert, "gateway-cert", "", "the gateway's key-exchange certificate, `FILE` (its exchange.der; DER or PEM) (required)")
	f.StringVar(&mf.db, "db", "", "the merchant's SQLite database `FILE` (default DIR/merchant.db)")
	f.StringVar(&mf.brand, "brand", "SETpay", "the card brand's `NAME`, as the CA was created with")
	f.DurationVar(&mf.wait, "wait", 10*time.Second, "wait up to `DURATION` at start while the gateway refuses connections (it is starting)")
	for _, n := range []string{"dir", "root", "gateway-url", "gateway-cert"} {
		_ = cmd.MarkFlagRequired(n)
	}
	mf.rf.register(cmd, caRequired)
	mf.pf.register(cmd)
}

const merchantFilesHelp = `It reads from --dir (what 'setpay merchant register --out DIR' wrote):

  signing.key, exchange.key    the keys, encrypted
  signing.der, exchange.der    their certificates (the merchant ID is in them)
  chain-1.der, chain-2.der     the merchant CA's and the brand CA's

Orders are kept in a SQLite database, DIR/merchant.db unless --db says
otherwise. The suite (modern or set1) is the one the certificates' keys
belong to.

--gateway-cert is the gateway's key-exchange certificate (exchange.der in
the gateway's registration directory), which the gateway's operator hands
out. At start the merchant asks the gateway for its current certificates
(PCertReq) naming that one, checks the answer against --root, and from
then on seals requests to, and sends cardholders, the certificate and
chain the gateway returned.`

// openMerchant builds the merchant from mf, opens its store and fetches
// the gateway's certificates. close releases the store.
func (mf *merchantFlags) openMerchant(ctx context.Context, cmd *cobra.Command, log *slog.Logger, captureNow bool) (m *merchant.Merchant, db *sqlite.DB, gw *merchant.GatewayCertificates, err error) {
	roots, err := readRoot(mf.root)
	if err != nil {
		return nil, nil, nil, err
	}
	gwCerts, err := readCertificates(mf.gatewayCert)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--gateway-cert: %w", err)
	}
	pp, err := mf.pf.get(cmd, false)
	if err != nil {
		return nil, nil, nil, err
	}
	creds, err := loadCredentials(mf.dir, keyfile.RoleMerchantSigning, keyfile.RoleMerchantExchange, pp)
	if err != nil {
		return nil, nil, nil, err
	}
	md := creds.parsedSig.MerchantData
	if md == nil || md.MerID == "" {
		return nil, nil, nil, fmt.Errorf("%s/signing.der names no merchant (no merchantData): not a merchant certificate", mf.dir)
	}
	db, err = sqlite.Open(storePath(mf.db, mf.dir, "merchant.db"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("merchant store: %w", err)
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	revocation, err := mf.rf.start(ctx, creds.suite, roots, log)
	if err != nil {
		return nil, nil, nil, err
	}
	rt := &waitingRT{rt: &transport.Client{URL: mf.gatewayURL, HTTP: httpClient()}, wait: mf.wait}
	cfg := merchant.Config{
		Suite: creds.suite, MerchantID: md.MerID, BrandID: mf.brand,
		SigningKey: merchant.NewSigningKey(creds.sigKey), SigningCert: creds.sigCert,
		ExchangeKey: merchant.NewExchangeKey(creds.exKey), ExchangeCert: creds.exCert,
		Chain:       creds.chain,
		GatewayCert: gwCerts[0], GatewayChain: gwCerts[1:],
		Roots: roots, Store: db, Revocation: revocation,
		Gateway:    &wire.GatewayClient{Endpoint: &wire.Endpoint{Suite: creds.suite, SWIdent: "setpay-merchant/0.1", Log: log, ErrorRoots: roots}, RT: rt},
		CaptureNow: captureNow,
		Log:        log,
	}
	m, err = merchant.New(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	gw, err = m.RefreshGatewayCertificates(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("asking the gateway at %s for its certificates (PCertReq): %w", mf.gatewayURL, err)
	}
	// Waiting is for the start only: once running, a purchase the gateway
	// cannot take fails at once.
	rt.wait = 0
	cfg.GatewayCert, cfg.GatewayChain = gw.Exchange, gw.Chain
	if m, err = merchant.New(cfg); err != nil {
		return nil, nil, nil, err
	}
	return m, db, gw, nil
}

// httpClient is a client for one party's service: no proxy (the parties
// are addressed directly), bounded exchanges.
func httpClient() *http.Client {
	return &http.Client{Timeout: httpTimeout, Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ResponseHeaderTimeout: httpTimeout,
	}}
}

func newMerchantServeCmd() *cobra.Command {
	var mf merchantFlags
	var listen, capture string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the merchant as a service: takes orders and SET purchases from wallets over HTTP",
		Long: `serve runs the merchant registered by 'setpay merchant register' as its
own service, talking to the payment gateway at --gateway-url over HTTP.

  POST ` + CheckoutPath + `    takes an order, as the shop's web site would, and
                     answers with SET's initiation for the wallet (JSON:
                     {"description": "...", "amount": 1234, "currency": 840}
                     in, the order's LID-M, merchant ID, brand and price out).
                     'setpay wallet pay' uses it.
  POST any other path  SET's HTTP binding: PInitReq, PReq, InqReq from
                     wallets (DER, content type application/set-payment)
  GET /healthz         "ok"

--capture says when the money is taken:
  auto     every purchase is a sale: the gateway authorizes and captures at
           once (AuthReq with captureNow), for goods delivered at once
  manual   the gateway only authorizes; the operator captures later with
           'setpay merchant capture' (after shipping, say)

` + merchantFilesHelp + `

` + serviceFlagsHelp + `

` + revocationHelp + `

` + passphraseHelp,
		Example: `  export SETPAY_PASSPHRASE='a long passphrase'
  setpay merchant serve --dir ./shop --root ./myca/root.der --listen 127.0.0.1:8445 \
      --ca-url http://127.0.0.1:8443 \
      --gateway-url http://127.0.0.1:8444/ --gateway-cert ./gateway/exchange.der`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			var captureNow bool
			switch capture {
			case "auto":
				captureNow = true
			case "manual":
			default:
				return fmt.Errorf("--capture %q: want auto or manual", capture)
			}
			ctx, stop := signalContext(cmd)
			defer stop()
			log := serviceLog(cmd, "merchant")
			m, db, gw, err := mf.openMerchant(ctx, cmd, log, captureNow)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, db.Close()) }()
			ln, err := serviceListen(cmd, listen)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "merchant: serving SET on http://%s/ and checkout on http://%s%s; gateway %s (certificate serial %s); capture %s; stop with Ctrl-C\n",
				ln.Addr(), ln.Addr(), CheckoutPath, mf.gatewayURL, serialOf(gw.Exchange), capture)
			log.Info("serving", "addr", ln.Addr().String(), "gateway", mf.gatewayURL, "capture", capture)
			if err := serveUntilDone(ctx, ln, merchantHandler(m, log), log); err != nil {
				return err
			}
			fmt.Fprintln(out, "merchant: stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8445", "serve on `host:port` (port 0: any free one; see --addr-file)")
	registerAddrFileFlag(cmd)
	f.StringVar(&capture, "capture", "manual", "when to capture, `MODE`: auto (with the authorization, a sale) or manual ('setpay merchant capture')")
	mf.register(cmd, true)
	return cmd
}

// merchantHandler serves the checkout and, on every other path, SET.
func merchantHandler(m *merchant.Merchant, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(CheckoutPath, checkoutHandler(m.Checkout, log))
	mux.Handle("/", transport.Handler(m.Serve, log))
	return mux
}

// checkoutRequest is an order as the checkout takes it: the amount in
// minor units (cents), amtExp10 −2.
type checkoutRequest struct {
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	Currency    int    `json:"currency"`
}

// checkoutOffer is SET's initiation as the checkout hands it out: what
// the wallet needs to start PInitReq (wallet.Offer).
type checkoutOffer struct {
	LIDM        []byte `json:"lidm"` // base64
	MerchantID  string `json:"merchantID"`
	BrandID     string `json:"brandID"`
	Amount      int64  `json:"amount"`
	Currency    int    `json:"currency"`
	AmtExp10    int    `json:"amtExp10"`
	Description string `json:"description"`
}

// checkoutFunc records an order (merchant.Merchant.Checkout).
type checkoutFunc func(ctx context.Context, description string, amount msg.CurrencyAmount) (*merchant.Offer, error)

// checkoutHandler records the order in a POSTed checkoutRequest and
// answers with its offer. The order is stored before the answer is sent.
func checkoutHandler(checkout checkoutFunc, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCheckoutBody+1))
		if err != nil || len(body) > maxCheckoutBody {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var req checkoutRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || dec.More() {
			http.Error(w, "bad request: want {\"description\", \"amount\", \"currency\"}", http.StatusBadRequest)
			return
		}
		if req.Currency < 1 || req.Currency > 999 {
			http.Error(w, "bad request: currency must be an ISO 4217 numeric code", http.StatusBadRequest)
			return
		}
		if req.Amount <= 0 || req.Description == "" || len(req.Description) > maxDescription {
			http.Error(w, fmt.Sprintf("bad request: the amount must be positive, the description 1 to %d bytes", maxDescription), http.StatusBadRequest)
			return
		}
		o, err := checkout(r.Context(), req.Description, msg.CurrencyAmount{Currency: req.Currency, Amount: req.Amount, AmtExp10: -2})
		if err != nil {
			// The cause stays in the log: it may say how the store failed.
			log.Error("checkout failed", "err", err)
			http.Error(w, "the order could not be recorded", http.StatusInternalServerError)
			return
		}
		log.Info("order taken", "xid", hex.EncodeToString(o.LIDM), "amount", o.Amount.Amount, "currency", o.Amount.Currency)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(checkoutOffer{
			LIDM: o.LIDM, MerchantID: o.MerchantID, BrandID: o.BrandID,
			Amount: o.Amount.Amount, Currency: o.Amount.Currency, AmtExp10: o.Amount.AmtExp10,
			Description: o.Description,
		})
	})
}

func newMerchantCaptureCmd() *cobra.Command {
	var mf merchantFlags
	cmd := &cobra.Command{
		Use:   "capture [XID...]",
		Short: "Capture authorized orders: ask the gateway to take the money (CapReq)",
		Long: `capture sends the gateway a CapReq for each authorized order of the
merchant's database, or only for the orders named (XIDs in hex, as
'setpay wallet pay' and the merchant's log print them), and records each
one captured once the gateway's signed CapRes says so. It may run while
'setpay merchant serve' runs on the same database.

` + merchantFilesHelp + `

The CRLs that check the gateway's answers come with them (or from
--ca-url).

` + passphraseHelp,
		Example: `  setpay merchant capture --dir ./shop --root ./myca/root.der \
      --gateway-url http://127.0.0.1:8444/ --gateway-cert ./gateway/exchange.der`,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			var want []msg.XID
			for _, a := range args {
				x, err := parseXID(a)
				if err != nil {
					return err
				}
				want = append(want, x)
			}
			ctx, stop := signalContext(cmd)
			defer stop()
			m, db, _, err := mf.openMerchant(ctx, cmd, serviceLog(cmd, "merchant"), false)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, db.Close()) }()
			if len(want) == 0 {
				orders, err := db.Orders(ctx, 0)
				if err != nil {
					return err
				}
				for _, o := range orders {
					if o.State == store.StateAuthorized {
						want = append(want, msg.XID(o.XID))
					}
				}
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, x := range want {
				code, err := m.Capture(ctx, x)
				switch {
				case err != nil:
					failed++
					fmt.Fprintf(out, "order %x: not captured: %v\n", x[:], err)
				case code != msg.CapSuccess:
					failed++
					fmt.Fprintf(out, "order %x: gateway answered %s\n", x[:], code)
				default:
					fmt.Fprintf(out, "order %x: captured\n", x[:])
				}
			}
			fmt.Fprintf(out, "%d order(s) captured, %d not\n", len(want)-failed, failed)
			if failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	mf.register(cmd, false)
	return cmd
}

// parseXID reads an XID written in hex.
func parseXID(s string) (msg.XID, error) {
	var x msg.XID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(x) {
		return x, fmt.Errorf("XID %q: want %d bytes in hex", s, len(x))
	}
	copy(x[:], b)
	return x, nil
}
