package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/transport"
)

// httpTimeout bounds one HTTP exchange. A set1 AuthReq costs milliseconds
// of RSA work, so this only matters when something hangs.
const httpTimeout = 30 * time.Second

// network is the demo's loopback wiring: the gateway and the merchant each
// behind transport.Handler on its own socket, and tapped clients for the
// wallet → merchant and merchant → gateway links.
type network struct {
	gatewayLn, merchantLn   net.Listener
	gatewayURL, merchantURL string
	mlog, glog              *slog.Logger

	gatewayClient, merchantClient *transport.Client
	conns                         []*http.Transport // the clients' connection pools

	servers []*server
	rec     recorder

	// caURLs are the registration CAs' URLs by party name (CCA, MCA,
	// PCA), for parties that enrol after the lab's own.
	caURLs map[string]string
}

// startNetwork binds both sockets first: the merchant's link to the
// gateway must know the gateway's address before lab builds the merchant.
func startNetwork(mp, gp *party) (*network, error) {
	n := &network{mlog: mp.log, glog: gp.log}
	var err error
	if n.gatewayLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: gateway socket: %w", err)
	}
	if n.merchantLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		n.gatewayLn.Close()
		return nil, fmt.Errorf("demo: merchant socket: %w", err)
	}
	n.gatewayURL = "http://" + n.gatewayLn.Addr().String() + "/"
	n.merchantURL = "http://" + n.merchantLn.Addr().String() + "/"
	n.gatewayClient = n.client(n.gatewayURL, Merchant, Gateway)
	n.merchantClient = n.client(n.merchantURL, Wallet, Merchant)
	return n, nil
}

// client returns a SET client for url whose exchanges the recorder sees.
func (n *network) client(url, from, to string) *transport.Client {
	conns := &http.Transport{
		Proxy:                 nil, // loopback only, whatever the environment says
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: httpTimeout,
	}
	n.conns = append(n.conns, conns)
	return &transport.Client{URL: url, HTTP: &http.Client{
		Timeout:   httpTimeout,
		Transport: transport.Tap(conns, from, to, n.rec.observe),
	}}
}

// serve starts the HTTP servers on the bound sockets.
func (n *network) serve(l *lab.Lab) {
	n.servers = append(n.servers,
		startServer(n.gatewayLn, transport.Handler(l.Gateway.Serve, n.glog), n.glog),
		startServer(n.merchantLn, transport.Handler(l.Merchant.Serve, n.mlog), n.mlog))
	n.gatewayLn, n.merchantLn = nil, nil // the servers own them now
}

// closeListeners releases sockets no server took over (an early failure).
func (n *network) closeListeners() {
	for _, ln := range []net.Listener{n.gatewayLn, n.merchantLn} {
		if ln != nil {
			ln.Close()
		}
	}
}

// waitHealthy asks each party's health endpoint once: the servers run
// before the first purchase starts.
func (n *network) waitHealthy(ctx context.Context) error {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer hc.CloseIdleConnections()
	for _, u := range []string{n.gatewayURL, n.merchantURL} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+transport.HealthPath[1:], nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("demo: health check %s: %w", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("demo: health check %s: HTTP %d", u, resp.StatusCode)
		}
	}
	return nil
}

// shutdown stops the servers gracefully, letting exchanges in flight end.
func (n *network) shutdown(ctx context.Context) error {
	for _, c := range n.conns {
		c.CloseIdleConnections()
	}
	var errs []error
	for _, s := range n.servers {
		errs = append(errs, s.shutdown(ctx))
	}
	return errors.Join(errs...)
}

type server struct {
	srv  *http.Server
	done chan error
}

func startServer(ln net.Listener, h http.Handler, log *slog.Logger) *server {
	s := &server{
		srv:  transport.NewServer(h, log),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

func (s *server) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		// Out of patience: cut what is left.
		s.srv.Close()
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// recorder keeps every exchange the taps observe.
type recorder struct {
	mu sync.Mutex
	ex []transport.Exchange
}

func (r *recorder) observe(e transport.Exchange) {
	r.mu.Lock()
	r.ex = append(r.ex, e)
	r.mu.Unlock()
}

// take returns the messages of the exchanges observed since the last call,
// in the order they were sent, numbers them on from rep.Messages and
// appends them there.
func (n *network) take(rep *Report, purchase int) []Message {
	n.rec.mu.Lock()
	ex := n.rec.ex
	n.rec.ex = nil
	n.rec.mu.Unlock()

	msgs := orderMessages(ex)
	for i := range msgs {
		msgs[i].Seq = len(rep.Messages) + 1
		msgs[i].Purchase = purchase
		rep.Messages = append(rep.Messages, msgs[i])
	}
	return msgs
}

// event is one message at the moment it crossed: a request when its
// exchange started, a response when it ended.
type event struct {
	at       time.Time
	response bool
	dur      time.Duration
	m        Message
}

// orderMessages puts the messages of nested exchanges in wire order. The
// taps report an exchange when its response arrives, so the merchant's
// AuthReq/AuthRes is observed before the PReq that caused it; ordering
// requests by start and responses by end restores the causal order
// (times are monotonic). On a tie, a response ends an exchange before
// another starts; of two requests the outer (longer) one went first; of
// two responses the inner (shorter) one came back first.
func orderMessages(ex []transport.Exchange) []Message {
	var evs []event
	for _, e := range ex {
		evs = append(evs, event{at: e.Start, dur: e.Duration, m: Message{From: e.From, To: e.To, Type: messageType(e.Request), DER: e.Request}})
		if e.Status == http.StatusOK && len(e.Response) > 0 {
			evs = append(evs, event{at: e.Start.Add(e.Duration), response: true, dur: e.Duration,
				m: Message{From: e.To, To: e.From, Type: messageType(e.Response), DER: e.Response}})
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.response != b.response {
			if a.response {
				return -1
			}
			return 1
		}
		if a.response {
			return cmp.Compare(a.dur, b.dur)
		}
		return cmp.Compare(b.dur, a.dur)
	})
	msgs := make([]Message, len(evs))
	for i, e := range evs {
		msgs[i] = e.m
	}
	return msgs
}

// messageType names the SET message in b, or says it is not one.
func messageType(b []byte) string {
	w, err := msg.UnmarshalMessageWrapper(b)
	if err != nil || w == nil || w.Message == nil {
		return "Undecodable"
	}
	return w.Message.Name()
}
