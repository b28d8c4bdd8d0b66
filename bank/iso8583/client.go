package iso8583

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// ClientConfig tunes a Client; the zero value is usable.
type ClientConfig struct {
	// Timeout is how long one attempt waits for its response. Default 5 s.
	Timeout time.Duration
	// Attempts is how many times a request is sent in all: the original,
	// then repeats (0101, 0201, …) with the same STAN. Default 3.
	Attempts int
	// MaxFrame bounds an incoming message; DefaultMaxFrame when 0.
	MaxFrame int
	// Dial opens a connection; a net.Dialer over TCP when nil.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Now is the clock for field 7 (transmission date and time, GMT).
	Now func() time.Time
	Log *slog.Logger
}

// ErrTimeout is what a TimeoutError unwraps to.
var ErrTimeout = errors.New("no response")

// ErrClientClosed is returned by Send after Close.
var ErrClientClosed = errors.New("iso8583: client closed")

// TimeoutError reports a request that got no response after every attempt.
// When the request may have reached the issuer and moves or holds money
// (0100, 0200), the client has already sent a reversal for it; Reversal is
// the issuer's answer to that, or nil with ReversalErr saying why not.
type TimeoutError struct {
	MTI         string
	STAN        string
	Attempts    int
	Reversal    *Message
	ReversalErr error
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("iso8583: %s STAN %s: no response after %d attempts", e.MTI, e.STAN, e.Attempts)
	switch {
	case e.Reversal != nil:
		s += fmt.Sprintf("; reversal %s STAN %s answered %s", MTIReversalRequest, e.Reversal.STAN(), e.Reversal.ResponseCode())
	case e.ReversalErr != nil:
		s += "; reversal failed: " + e.ReversalErr.Error()
	}
	return s
}

func (e *TimeoutError) Unwrap() error { return ErrTimeout }

// Client is the acquirer side of the link: it sends requests over one TCP
// connection, shared by concurrent callers, and matches responses to
// requests by STAN, so they may come back in any order. It dials on first
// use and again whenever the connection is lost, so it outlives restarts of
// the issuer host.
type Client struct {
	addr string
	cfg  ClientConfig

	dialMu sync.Mutex // one dial at a time

	mu      sync.Mutex
	conn    *clientConn
	pending map[string]*pending // by STAN
	stan    int
	closed  bool

	wg sync.WaitGroup // readers and background reversals
}

type clientConn struct {
	c    net.Conn
	wmu  sync.Mutex
	done chan struct{} // closed when the reader has stopped
}

type pending struct {
	respMTI string
	ch      chan *Message // capacity 1: the first matching response
}

// NewClient returns a client for the issuer host at addr (host:port).
func NewClient(addr string, cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Client{
		addr:    addr,
		cfg:     cfg,
		pending: make(map[string]*pending),
		// A random start keeps STANs of a restarted client from repeating
		// those of the run before within the issuer's memory.
		stan: rand.IntN(999999),
	}
}

// Send sends request req and returns its response. The client fills in
// field 11 (STAN) and field 7 (transmission date and time) when req lacks
// them; req itself is not modified.
//
// Each attempt waits Timeout; a lost connection is redialled and the
// request repeated with the repeat MTI. When every attempt has timed out —
// or ctx ends — after an authorization (0100) or a financial request (0200)
// may have reached the issuer, the client sends a reversal (0400) for it, so
// no hold or debit is left behind that nobody knows about, and reports a
// *TimeoutError (or ctx's error; that reversal then runs in the background).
func (c *Client) Send(ctx context.Context, req *Message) (*Message, error) {
	if IsResponse(req.MTI) || IsRepeat(req.MTI) {
		return nil, fmt.Errorf("iso8583: Send takes an original request, not %s", req.MTI)
	}
	r := req.Clone()
	resp, delivered, err := c.roundTrip(ctx, r)
	if err == nil || !delivered || !needsReversal(r.MTI) {
		return resp, err
	}
	if ctx.Err() != nil {
		c.mu.Lock()
		if !c.closed {
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				if _, err := c.reverse(context.WithoutCancel(ctx), r); err != nil {
					c.cfg.Log.Error("iso8583: reversal after cancellation failed", "mti", r.MTI, "stan", r.STAN(), "err", err)
				}
			}()
		}
		c.mu.Unlock()
		return nil, err
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		te.Reversal, te.ReversalErr = c.reverse(context.WithoutCancel(ctx), r)
	}
	return nil, err
}

// needsReversal: the requests that place a hold or move money when the
// issuer approves them.
func needsReversal(mti string) bool {
	return mti == MTIAuthorizationRequest || mti == MTIFinancialRequest
}

// reverse sends the reversal of orig, which must have fields 7 and 11.
func (c *Client) reverse(ctx context.Context, orig *Message) (*Message, error) {
	od, err := OriginalData{
		MTI:              orig.MTI,
		STAN:             orig.STAN(),
		TransmissionTime: orig.Fields[FieldTransmissionTime],
		AcquirerID:       orig.Fields[FieldAcquirerID],
	}.Encode()
	if err != nil {
		return nil, err
	}
	rev := NewMessage(MTIReversalRequest)
	for _, n := range []int{FieldPAN, FieldAccountID1, FieldProcessingCode, FieldAmount, FieldLocalTime, FieldLocalDate,
		FieldExpiry, FieldAcquirerID, FieldRetrievalRef, FieldTerminalID, FieldMerchantID, FieldCurrency} {
		if v, ok := orig.Fields[n]; ok {
			rev.Fields[n] = v
		}
	}
	rev.Fields[FieldOriginalData] = od
	c.cfg.Log.Warn("iso8583: reversing unanswered request", "mti", orig.MTI, "stan", orig.STAN())
	resp, _, err := c.roundTrip(ctx, rev)
	return resp, err
}

// roundTrip sends r (an original request, modified in place to receive its
// STAN and transmission time) until it is answered or the attempts run
// out. delivered reports whether any attempt was written to a connection.
func (c *Client) roundTrip(ctx context.Context, r *Message) (resp *Message, delivered bool, err error) {
	if _, ok := r.Fields[FieldTransmissionTime]; !ok {
		r.Set(FieldTransmissionTime, c.cfg.Now().UTC().Format("0102150405"))
	}
	p, err := c.register(r)
	if err != nil {
		return nil, false, err
	}
	stan := r.STAN()
	defer func() {
		c.mu.Lock()
		delete(c.pending, stan)
		c.mu.Unlock()
	}()
	original, err := r.Marshal()
	if err != nil {
		return nil, false, err
	}
	rep := r.Clone()
	rep.MTI = RepeatMTI(r.MTI)
	repeat, err := rep.Marshal()
	if err != nil {
		return nil, false, err
	}
	log := c.cfg.Log.With("mti", r.MTI, "stan", stan)

	for attempt := 1; attempt <= c.cfg.Attempts; attempt++ {
		t := time.NewTimer(c.cfg.Timeout)
		b := original
		if delivered {
			// Only what may already have arrived is sent as a repeat.
			b = repeat
		}
		cc, err := c.connection(ctx)
		if err == nil {
			cc.wmu.Lock()
			cc.c.SetWriteDeadline(time.Now().Add(c.cfg.Timeout))
			err = WriteFrame(cc.c, b)
			cc.wmu.Unlock()
			if err != nil {
				// Half a frame may be on the wire: this stream is done.
				cc.c.Close()
			}
		}
		var lost <-chan struct{}
		if err != nil {
			if errors.Is(err, ErrClientClosed) {
				t.Stop()
				return nil, delivered, err
			}
			log.Warn("iso8583: attempt failed", "attempt", attempt, "err", err)
		} else {
			delivered = true
			lost = cc.done
		}
		select {
		case resp := <-p.ch:
			t.Stop()
			return resp, delivered, nil
		case <-t.C:
			log.Warn("iso8583: no response", "attempt", attempt)
		case <-lost:
			// The connection died under the request: repeat it at once
			// on a new one rather than wait out the timer — unless the
			// answer made it in before the end.
			t.Stop()
			select {
			case resp := <-p.ch:
				return resp, delivered, nil
			default:
			}
			log.Warn("iso8583: connection lost while waiting", "attempt", attempt)
		case <-ctx.Done():
			t.Stop()
			return nil, delivered, ctx.Err()
		}
	}
	return nil, delivered, &TimeoutError{MTI: r.MTI, STAN: stan, Attempts: c.cfg.Attempts}
}

// register gives r a STAN if it has none and records it as awaiting a
// response.
func (c *Client) register(r *Message) (*pending, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClientClosed
	}
	stan, ok := r.Fields[FieldSTAN]
	if ok {
		if _, busy := c.pending[stan]; busy {
			return nil, fmt.Errorf("iso8583: STAN %s is already awaiting a response", stan)
		}
	} else {
		if len(c.pending) >= 999999 {
			return nil, errors.New("iso8583: every STAN is awaiting a response")
		}
		for {
			c.stan = c.stan%999999 + 1
			stan = fmt.Sprintf("%06d", c.stan)
			if _, busy := c.pending[stan]; !busy {
				break
			}
		}
		r.Set(FieldSTAN, stan)
	}
	p := &pending{respMTI: ResponseMTI(r.MTI), ch: make(chan *Message, 1)}
	c.pending[stan] = p
	return p, nil
}

// connection returns the live connection, dialling one if there is none.
func (c *Client) connection(ctx context.Context) (*clientConn, error) {
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	c.mu.Lock()
	cc, closed := c.conn, c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClientClosed
	}
	if cc != nil {
		select {
		case <-cc.done:
		default:
			return cc, nil
		}
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	nc, err := c.cfg.Dial(dctx, c.addr)
	if err != nil {
		return nil, err
	}
	cc = &clientConn{c: nc, done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		nc.Close()
		return nil, ErrClientClosed
	}
	c.conn = cc
	c.wg.Add(1)
	c.mu.Unlock()
	go c.read(cc)
	return cc, nil
}

// read delivers responses from one connection until it fails.
func (c *Client) read(cc *clientConn) {
	defer c.wg.Done()
	defer close(cc.done)
	defer cc.c.Close()
	for {
		b, err := ReadFrame(cc.c, c.cfg.MaxFrame)
		if err != nil {
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			switch {
			case closed, errors.Is(err, net.ErrClosed):
			case errors.Is(err, io.EOF):
				c.cfg.Log.Info("iso8583: issuer closed the connection")
			default:
				c.cfg.Log.Error("iso8583: dropping connection", "err", err)
			}
			return
		}
		resp, err := Unmarshal(b)
		if err != nil {
			// After a malformed message nothing later on this stream can
			// be trusted to be framed right.
			c.cfg.Log.Error("iso8583: dropping connection", "err", err)
			return
		}
		c.deliver(resp)
	}
}

func (c *Client) deliver(resp *Message) {
	c.mu.Lock()
	p := c.pending[resp.STAN()]
	c.mu.Unlock()
	if p == nil || resp.MTI != p.respMTI {
		c.cfg.Log.Warn("iso8583: unmatched response dropped", "mti", resp.MTI, "stan", resp.STAN())
		return
	}
	select {
	case p.ch <- resp:
	default:
		c.cfg.Log.Warn("iso8583: duplicate response dropped", "mti", resp.MTI, "stan", resp.STAN())
	}
}

// Close closes the connection and waits for the reader and any background
// reversal to end; Send fails afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	cc := c.conn
	c.mu.Unlock()
	if cc != nil {
		cc.c.Close()
	}
	c.wg.Wait()
	return nil
}
