// Package labnet stands the lab's ecosystem up on 127.0.0.1, every party
// behind its real wire: the merchant and the gateway each serve SET's HTTP
// binding on a loopback socket, and the gateway reaches a bank host over
// ISO 8583 on TCP through banklink. Both HTTP links — wallet → merchant
// and merchant → gateway — pass through an interceptor that records every
// exchange and can rewrite requests in transit, and a test can send raw
// bytes to either party and read the bank's books. It is what the
// over-the-wire attack tests are built on.
package labnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// Party names a party that serves HTTP.
type Party int

const (
	Merchant Party = iota // the merchant, reached by the wallet
	Gateway               // the gateway, reached by the merchant
)

func (p Party) String() string {
	if p == Merchant {
		return "merchant"
	}
	return "gateway"
}

// Options says what to build.
type Options struct {
	Suite       suite.Suite
	Cardholders int // default 1
	// Limit is each card's credit limit at the bank, in US cents; default
	// 100000.
	Limit int64
	// CaptureNow makes the merchant sell (authorize and capture at once).
	CaptureNow bool
	// Log receives every party's log; nil discards.
	Log *slog.Logger
	// Now is the merchant's, the gateway's and the CAs' clock, for tests
	// that must let a recurring plan's days pass; nil means time.Now.
	Now func() time.Time
}

// timeout bounds every exchange, HTTP or ISO 8583, so a hang fails a test
// instead of stalling it.
const timeout = 20 * time.Second

// Net is a running ecosystem on loopback sockets.
type Net struct {
	Lab    *lab.Lab
	Ledger *bank.Ledger
	// Cards are the cardholders' account IDs at the bank, in cardholder
	// order; MerchantAccount is the merchant's settlement account.
	Cards           []string
	MerchantAccount string
	// MerchantStore is the merchant's order book, for tests that make the
	// merchant ask for what its orders do not allow.
	MerchantStore store.MerchantStore
	// MerchantURL and GatewayURL are where each party listens.
	MerchantURL, GatewayURL string

	links    [2]*Link // by Party: the link that reaches it
	raw      *http.Client
	servers  []*http.Server
	bankSrv  *iso8583.Server
	bankAddr string
	bankTap  isoTap
	bankEnd  chan error
	iso      *iso8583.Client
	dbs      []*sqlite.DB
	conns    []*http.Transport
	accounts int // bank-account holders added
}

// Start builds the ecosystem and serves it. Close stops it.
func Start(ctx context.Context, opts Options) (n *Net, err error) {
	if opts.Suite == nil {
		return nil, errors.New("labnet: a suite is required")
	}
	if opts.Cardholders <= 0 {
		opts.Cardholders = 1
	}
	if opts.Limit <= 0 {
		opts.Limit = 100000
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n = &Net{}
	n.raw = &http.Client{Timeout: timeout, Transport: n.newConns()}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	var mdb, gdb, bdb *sqlite.DB
	for _, db := range []**sqlite.DB{&mdb, &gdb, &bdb} {
		if *db, err = sqlite.Open(":memory:"); err != nil {
			return n, fmt.Errorf("labnet: %w", err)
		}
		n.dbs = append(n.dbs, *db)
	}

	// The bank host, on its ISO 8583 socket.
	n.Ledger = bank.NewLedger(bdb, nil)
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return n, fmt.Errorf("labnet: bank socket: %w", err)
	}
	n.bankSrv = &iso8583.Server{Handler: bank.NewHost(bank.NewIssuer(n.Ledger), log).Handle, Log: log, GracePeriod: time.Second}
	n.bankEnd = make(chan error, 1)
	go func() { n.bankEnd <- n.bankSrv.Serve(bln) }()
	n.bankAddr = bln.Addr().String()
	d := &net.Dialer{Timeout: timeout}
	n.iso = iso8583.NewClient(n.bankAddr, iso8583.ClientConfig{Timeout: timeout, Attempts: 2, Log: log,
		Dial: func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return &tapConn{Conn: c, tap: &n.bankTap}, nil
		}})
	link := banklink.New(n.iso, banklink.Config{AcquirerID: "4711", Log: log})

	// Both sockets first: the merchant's link to the gateway needs the
	// gateway's address before lab builds the merchant.
	var lns [2]net.Listener
	for p := range lns {
		if lns[p], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			for _, ln := range lns[:p] {
				ln.Close()
			}
			return n, fmt.Errorf("labnet: %s socket: %w", Party(p), err)
		}
	}
	n.MerchantURL = "http://" + lns[Merchant].Addr().String() + "/"
	n.GatewayURL = "http://" + lns[Gateway].Addr().String() + "/"
	n.links[Merchant] = n.newLink(n.MerchantURL)
	n.links[Gateway] = n.newLink(n.GatewayURL)

	l, err := lab.New(lab.Options{
		Suite: opts.Suite, Cardholders: opts.Cardholders, Limit: opts.Limit,
		Issuer: link, CaptureNow: opts.CaptureNow, Now: opts.Now,
		MerchantStore: mdb, GatewayStore: gdb, GatewayRT: n.links[Gateway],
		MerchantLog: log.With("party", "merchant"), GatewayLog: log.With("party", "gateway"),
	})
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return n, err
	}
	n.Lab, n.MerchantStore = l, mdb
	for p, serve := range [2]transport.ServeFunc{Merchant: l.Merchant.Serve, Gateway: l.Gateway.Serve} {
		srv := &http.Server{Handler: transport.Handler(serve, log), ReadHeaderTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout}
		n.servers = append(n.servers, srv)
		go srv.Serve(lns[p])
	}

	if n.MerchantAccount, err = n.Ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
		return n, err
	}
	for i, c := range l.Cards {
		// lab's expiry is YYYYMM, the bank's (ISO 8583 DE 14) YYMM.
		id, err := n.Ledger.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: fmt.Sprintf("cardholder %d", i+1), Currency: 840, Limit: opts.Limit})
		if err != nil {
			return n, err
		}
		n.Cards = append(n.Cards, id)
	}
	return n, nil
}

// Close stops the servers and the bank link and closes the stores.
func (n *Net) Close() {
	for _, c := range n.conns {
		c.CloseIdleConnections()
	}
	for _, s := range n.servers {
		s.Close()
	}
	if n.iso != nil {
		n.iso.Close()
	}
	if n.bankSrv != nil {
		n.bankSrv.Close()
		<-n.bankEnd
	}
	for _, db := range n.dbs {
		db.Close()
	}
}

// newConns returns a loopback-only connection pool the Net closes.
func (n *Net) newConns() *http.Transport {
	t := &http.Transport{
		Proxy:                 nil, // loopback only, whatever the environment says
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		ResponseHeaderTimeout: timeout,
	}
	n.conns = append(n.conns, t)
	return t
}

func (n *Net) newLink(url string) *Link {
	lk := &Link{}
	lk.client = &transport.Client{URL: url, HTTP: &http.Client{Timeout: timeout, Transport: &rewriter{next: n.newConns(), link: lk}}}
	return lk
}

// Link is the HTTP link that reaches one party: a wire.RoundTripper that
// records every exchange and applies the current rewrite to requests.
type Link struct {
	client *transport.Client

	mu        sync.Mutex
	rewrite   func([]byte) []byte
	exchanges []Exchange
}

// Exchange is one request as it crossed the link (after any rewrite) and
// the response body; Response is nil when no 200 response came.
type Exchange struct {
	Request, Response []byte
}

// RoundTrip sends req over HTTP.
func (lk *Link) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	return lk.client.RoundTrip(ctx, req)
}

// Link returns the link that reaches p: the wallet's to the merchant, or
// the merchant's to the gateway.
func (n *Net) Link(p Party) *Link { return n.links[p] }

// Rewrite makes every request on the link pass through f before it is
// sent; nil sends requests as they are.
func (lk *Link) Rewrite(f func(req []byte) []byte) {
	lk.mu.Lock()
	lk.rewrite = f
	lk.mu.Unlock()
}

// Take returns the exchanges since the last call and forgets them.
func (lk *Link) Take() []Exchange {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	ex := lk.exchanges
	lk.exchanges = nil
	return ex
}

// rewriter is the HTTP side of a Link.
type rewriter struct {
	next http.RoundTripper
	link *Link
}

func (r *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, transport.MaxMessageSize+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	r.link.mu.Lock()
	f := r.link.rewrite
	r.link.mu.Unlock()
	if f != nil {
		body = f(bytes.Clone(body))
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
	resp, err := r.next.RoundTrip(req)
	ex := Exchange{Request: body}
	if err == nil && resp.StatusCode == http.StatusOK {
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, transport.MaxMessageSize+1))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		ex.Response = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.link.mu.Lock()
	r.link.exchanges = append(r.link.exchanges, ex)
	r.link.mu.Unlock()
	return resp, err
}

// Send posts raw bytes to party p over HTTP, past the links (nothing is
// recorded or rewritten), and returns the response body.
func (n *Net) Send(ctx context.Context, p Party, req []byte) ([]byte, error) {
	url := n.MerchantURL
	if p == Gateway {
		url = n.GatewayURL
	}
	return (&transport.Client{URL: url, HTTP: n.raw}).RoundTrip(ctx, req)
}

// Pay checks out an order of cents US cents at the merchant and pays it
// with cardholder i's wallet over HTTP.
func (n *Net) Pay(ctx context.Context, i int, description string, cents int64) (*wallet.Purchase, *wallet.Result, error) {
	offer, err := n.Lab.Merchant.Checkout(ctx, description, lab.USD(cents))
	if err != nil {
		return nil, nil, err
	}
	return n.Lab.Wallets[i].Pay(ctx, n.links[Merchant], lab.OfferFor(offer))
}

var _ wire.RoundTripper = (*Link)(nil)

// AddAccountHolder opens a deposit account at the bank with opening US
// cents under a fresh test IBAN, and gives the lab a wallet that pays from
// it (lab.AddAccountHolder). It returns the wallet's index in Lab.Wallets,
// the IBAN and the account's ledger ID.
func (n *Net) AddAccountHolder(ctx context.Context, opening int64) (i int, iban, account string, err error) {
	iban = lab.AccountIBAN(n.accounts)
	n.accounts++
	if account, err = n.Ledger.OpenDeposit(ctx, bank.Deposit{Number: iban, Holder: "account holder", Currency: 840, Opening: opening}); err != nil {
		return 0, "", "", err
	}
	if i, err = n.Lab.AddAccountHolder(msg.BankAccount{IBAN: iban}); err != nil {
		return 0, "", "", err
	}
	return i, iban, account, nil
}

// Balances returns every ledger account's balance (credits − debits), by
// account ID: a snapshot to compare before and after an attack.
func (n *Net) Balances(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := n.ledgerStore().InBankTx(ctx, func(tx store.BankTx) error {
		accts, err := tx.BankAccounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accts {
			b, err := tx.Balance(ctx, a.ID)
			if err != nil {
				return err
			}
			out[a.ID] = b.Net()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("labnet: balances: %w", err)
	}
	return out, nil
}

// Check runs the bank's audit and checks, from the journal itself, that
// the debits of all entries equal their credits.
func (n *Net) Check(ctx context.Context) error {
	var debits, credits int64
	err := n.ledgerStore().InBankTx(ctx, func(tx store.BankTx) error {
		entries, err := tx.Entries(ctx, store.EntryFilter{})
		if err != nil {
			return err
		}
		debits, credits = 0, 0
		for _, e := range entries {
			for _, p := range e.Postings {
				if p.Side == store.Debit {
					debits += p.Amount
				} else {
					credits += p.Amount
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("labnet: reading the journal: %w", err)
	}
	if debits != credits {
		return fmt.Errorf("labnet: the journal's debits %d differ from its credits %d", debits, credits)
	}
	return n.Ledger.Audit(ctx)
}

func (n *Net) ledgerStore() bank.Store { return n.dbs[2] }

// ErrorCode returns the code of the SET Error message b, or false if b is
// not one.
func ErrorCode(b []byte) (msg.ErrorCode, bool) {
	w, err := msg.UnmarshalMessageWrapper(b)
	if err != nil {
		return 0, false
	}
	em, ok := w.Message.(*msg.Error)
	if !ok {
		return 0, false
	}
	tbs, err := wire.ErrorTBS(em)
	if err != nil {
		return 0, false
	}
	return tbs.ErrorCode, true
}

// BankRequests returns the ISO 8583 requests the gateway sent the bank
// since the last call, each a message without its length prefix, and
// forgets them.
func (n *Net) BankRequests() [][]byte {
	n.bankTap.mu.Lock()
	defer n.bankTap.mu.Unlock()
	f := n.bankTap.frames
	n.bankTap.frames = nil
	return f
}

// SendBank sends one ISO 8583 message (without its length prefix) to the
// bank host on a connection of its own and returns the answer.
func (n *Net) SendBank(ctx context.Context, m []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", n.bankAddr)
	if err != nil {
		return nil, fmt.Errorf("labnet: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if err := iso8583.WriteFrame(c, m); err != nil {
		return nil, fmt.Errorf("labnet: %w", err)
	}
	resp, err := iso8583.ReadFrame(c, iso8583.DefaultMaxFrame)
	if err != nil {
		return nil, fmt.Errorf("labnet: %w", err)
	}
	return resp, nil
}

// isoTap keeps the frames the gateway writes to the bank, from every
// connection.
type isoTap struct {
	mu     sync.Mutex
	frames [][]byte
}

// tapConn is one of the gateway's connections to the bank, its writes
// tapped and cut into frames: a 2-byte big-endian length, then the
// message. buf holds at most one unfinished frame.
type tapConn struct {
	net.Conn
	tap *isoTap
	mu  sync.Mutex
	buf []byte
}

func (c *tapConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, b[:n]...)
	for len(c.buf) >= 2 {
		l := int(c.buf[0])<<8 | int(c.buf[1])
		if len(c.buf) < 2+l {
			break
		}
		c.tap.mu.Lock()
		c.tap.frames = append(c.tap.frames, bytes.Clone(c.buf[2:2+l]))
		c.tap.mu.Unlock()
		c.buf = c.buf[2+l:]
	}
	return n, err
}
