package iso8583

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Handler answers one request. Its response must carry the request's
// response MTI (0110 for 0100 or 0101, …) and the same STAN. An error, or a
// response that does not fit the request, is logged and answered with
// response code 96 (system malfunction) so the acquirer is not left
// waiting. A nil response with a nil error sends nothing at all.
type Handler func(ctx context.Context, req *Message) (*Message, error)

// ErrServerClosed is what Serve returns after Close.
var ErrServerClosed = errors.New("iso8583: server closed")

// Server is the issuer side of the link: it accepts connections, reads
// requests, hands each to Handler concurrently and writes the responses
// back in whatever order they are ready.
//
// A connection that sends anything that is not a well-formed request (a bad
// frame, a malformed message, a response) is dropped with a logged error;
// every other connection carries on.
type Server struct {
	Handler Handler
	Log     *slog.Logger // slog.Default when nil
	// MaxFrame bounds an incoming message; DefaultMaxFrame when 0.
	MaxFrame int
	// MaxInFlight bounds the requests one connection may have at the
	// handler at once; reading from it pauses beyond that. Default 32.
	MaxInFlight int
	// WriteTimeout bounds writing one response to a connection. Default 10 s.
	WriteTimeout time.Duration
	// GracePeriod is how long Close lets running handlers finish and
	// answer before cancelling them. Default 5 s.
	GracePeriod time.Duration

	mu        sync.Mutex
	ctx       context.Context // cancelled when the grace period ends
	cancel    context.CancelFunc
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closing   bool
	wg        sync.WaitGroup // Serve loops and connections
}

func (s *Server) init() {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[net.Conn]struct{})
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// ListenAndServe listens on addr (host:port) and serves it.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Close; it then returns
// ErrServerClosed. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	if s.Handler == nil {
		ln.Close()
		return errors.New("iso8583: server has no handler")
	}
	s.mu.Lock()
	s.init()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of descriptors and the like: back off rather than
			// spin, as net/http does, until the condition clears.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log().Error("iso8583: accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return ErrServerClosed
			}
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Close stops accepting and reading, lets requests already at the handler
// finish and be answered for up to GracePeriod, then cancels what is left
// and closes every connection. It returns once every goroutine the server
// started has ended.
func (s *Server) Close() error {
	s.mu.Lock()
	s.init()
	if s.closing {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		// Wakes the reader without closing, so responses can still go out.
		c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	grace := s.GracePeriod
	if grace <= 0 {
		grace = 5 * time.Second
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.cancel()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	s.cancel()
	return nil
}

// serveConn reads requests from one connection until it ends, breaks the
// protocol or the server closes.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	log := s.log().With("peer", c.RemoteAddr().String())
	inFlight := s.MaxInFlight
	if inFlight <= 0 {
		inFlight = 32
	}
	sem := make(chan struct{}, inFlight)
	var (
		handlers sync.WaitGroup
		wmu      sync.Mutex // one response on the wire at a time
	)
	defer func() {
		// Answers already being prepared still go out before the close.
		handlers.Wait()
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()

	maxFrame := s.MaxFrame
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	for {
		b, err := ReadFrame(c, maxFrame)
		if err != nil {
			switch {
			case s.isClosing():
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
				log.Debug("iso8583: peer closed the connection")
			default:
				log.Error("iso8583: dropping connection", "err", err)
			}
			return
		}
		req, err := Unmarshal(b)
		if err == nil && IsResponse(req.MTI) {
			err = formatErr(req.MTI, 0, "a response where a request belongs")
		}
		if err != nil {
			log.Error("iso8583: dropping connection", "err", err)
			return
		}
		select {
		case sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			defer func() { <-sem }()
			b := s.answer(log, req)
			if b == nil {
				return
			}
			wmu.Lock()
			defer wmu.Unlock()
			wt := s.WriteTimeout
			if wt <= 0 {
				wt = 10 * time.Second
			}
			c.SetWriteDeadline(time.Now().Add(wt))
			if err := WriteFrame(c, b); err != nil {
				log.Error("iso8583: writing response", "mti", req.MTI, "stan", req.STAN(), "err", err)
				// The stream may now hold half a frame: end it.
				c.Close()
			}
		}()
	}
}

// answer runs the handler and returns the encoded response, or nil when
// the handler chose not to answer.
func (s *Server) answer(log *slog.Logger, req *Message) []byte {
	resp, err := s.Handler(s.ctx, req)
	if err == nil && resp == nil {
		return nil
	}
	var b []byte
	if err == nil {
		err = checkResponse(req, resp)
	}
	if err == nil {
		b, err = resp.Marshal()
	}
	if err != nil {
		log.Error("iso8583: handler failed; answering 96", "mti", req.MTI, "stan", req.STAN(), "err", err)
		b, err = failureResponse(req, SystemMalfunction).Marshal()
		if err != nil {
			// Unreachable: every element is copied from a request that
			// decoded. Still, better no answer than a broken one.
			log.Error("iso8583: encoding the failure response", "err", err)
			return nil
		}
	}
	return b
}

// checkResponse makes sure a response answers the request it is sent for.
func checkResponse(req, resp *Message) error {
	if want := ResponseMTI(req.MTI); resp.MTI != want {
		return fmt.Errorf("response MTI %q to a %s, want %s", resp.MTI, req.MTI, want)
	}
	if resp.STAN() != req.STAN() {
		return fmt.Errorf("response STAN differs from the request's")
	}
	return nil
}

// failureResponse answers req with code, echoing the elements that let the
// acquirer match it up — and never the PAN, which it already has.
func failureResponse(req *Message, code ResponseCode) *Message {
	resp := NewMessage(ResponseMTI(req.MTI))
	for _, n := range []int{FieldProcessingCode, FieldAmount, FieldTransmissionTime, FieldSTAN,
		FieldAcquirerID, FieldTerminalID, FieldMerchantID, FieldCurrency} {
		if v, ok := req.Fields[n]; ok {
			resp.Fields[n] = v
		}
	}
	resp.Fields[FieldResponseCode] = string(code)
	return resp
}
