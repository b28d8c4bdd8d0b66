package iso8583

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait bounds every blocking step of these tests; it is a guard against a
// hung test, never something a result depends on.
const wait = 10 * time.Second

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	buf := new(logBuf)
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func startServer(t *testing.T, ln net.Listener, h Handler, log *slog.Logger) *Server {
	t.Helper()
	s := &Server{Handler: h, Log: log, GracePeriod: 2 * time.Second}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// approval answers req with 00, echoing the amount and an approval code.
func approval(req *Message, code string) *Message {
	resp := NewMessage(ResponseMTI(req.MTI))
	resp.Set(FieldSTAN, req.STAN())
	if v, ok := req.Get(FieldAmount); ok {
		resp.Set(FieldAmount, v)
	}
	resp.Set(FieldApprovalCode, code)
	resp.Set(FieldResponseCode, string(Approved))
	return resp
}

func approve(_ context.Context, req *Message) (*Message, error) {
	return approval(req, "OK0001"), nil
}

// authRequest is an authorization without STAN and transmission time,
// which the client fills in.
func authRequest(amount string) *Message {
	m := authMessage()
	delete(m.Fields, FieldSTAN)
	delete(m.Fields, FieldTransmissionTime)
	m.Set(FieldAmount, amount)
	return m
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

func TestSendAndAnswer(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	seen := make(chan *Message, 4)
	startServer(t, ln, func(ctx context.Context, req *Message) (*Message, error) {
		seen <- req
		return approve(ctx, req)
	}, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Log: log})
	defer c.Close()

	req := authRequest("000000004200")
	resp, err := c.Send(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := recv(t, seen, "request at the server")
	if got.MTI != "0100" || len(got.STAN()) != 6 || got.Fields[FieldTransmissionTime] == "" {
		t.Fatalf("server saw %v", got)
	}
	if resp.MTI != "0110" || resp.STAN() != got.STAN() || resp.ResponseCode() != Approved || resp.Fields[FieldAmount] != "000000004200" {
		t.Fatalf("response %v", resp)
	}
	if _, ok := req.Get(FieldSTAN); ok {
		t.Fatal("Send modified the caller's request")
	}
	if _, err := c.Send(context.Background(), approval(got, "X00001")); err == nil {
		t.Fatal("Send accepted a response MTI")
	}
}

func TestOutOfOrderResponsesMatchedBySTAN(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	amounts := []string{"000000000100", "000000000200", "000000000300"}
	release := make(map[string]chan struct{})
	for _, a := range amounts {
		release[a] = make(chan struct{})
	}
	arrived := make(chan string, 8)
	startServer(t, ln, func(ctx context.Context, req *Message) (*Message, error) {
		a := req.Fields[FieldAmount]
		arrived <- a
		select {
		case <-release[a]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return approval(req, "APR"+a[9:]), nil
	}, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: wait, Log: log})
	defer c.Close()

	results := make(map[string]chan *Message)
	for _, a := range amounts {
		ch := make(chan *Message, 1)
		results[a] = ch
		go func() {
			resp, err := c.Send(context.Background(), authRequest(a))
			if err != nil {
				t.Error(err)
			}
			ch <- resp
		}()
	}
	for range amounts {
		recv(t, arrived, "requests at the server")
	}
	// Answer last-sent first: each response must still reach its own caller.
	for i := len(amounts) - 1; i >= 0; i-- {
		a := amounts[i]
		close(release[a])
		resp := recv(t, results[a], "response for "+a)
		if resp == nil || resp.Fields[FieldAmount] != a || resp.Fields[FieldApprovalCode] != "APR"+a[9:] {
			t.Fatalf("caller of %s got %v", a, resp)
		}
	}
}

func TestUnmatchedResponsesDropped(t *testing.T) {
	log, logs := newLog()
	ln := listen(t)
	defer ln.Close()
	// A hand-driven bank: answers with a stranger's STAN, then with the
	// wrong MTI, then properly.
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		b, err := ReadFrame(conn, 0)
		if err != nil {
			return
		}
		req, err := Unmarshal(b)
		if err != nil {
			return
		}
		stranger := approval(req, "WRONG1")
		stranger.Set(FieldSTAN, "999999")
		if req.STAN() == "999999" {
			stranger.Set(FieldSTAN, "999998")
		}
		wrongMTI := approval(req, "WRONG2")
		wrongMTI.MTI = "0210"
		for _, m := range []*Message{stranger, wrongMTI, approval(req, "RIGHT1")} {
			b, _ := m.Marshal()
			if WriteFrame(conn, b) != nil {
				return
			}
		}
		io.Copy(io.Discard, conn) // hold the line until the client leaves
	}()
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: wait, Log: log})
	defer c.Close()
	resp, err := c.Send(context.Background(), authRequest("000000000100"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Fields[FieldApprovalCode] != "RIGHT1" {
		t.Fatalf("got %v", resp)
	}
	if n := strings.Count(logs.String(), "unmatched response dropped"); n != 2 {
		t.Fatalf("%d unmatched responses logged, want 2:\n%s", n, logs)
	}
}

func TestRetransmissionUsesRepeatMTI(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	seen := make(chan *Message, 8)
	startServer(t, ln, func(ctx context.Context, req *Message) (*Message, error) {
		seen <- req
		if req.MTI == "0100" {
			return nil, nil // lost, as far as the acquirer can tell
		}
		return approve(ctx, req)
	}, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: 200 * time.Millisecond, Attempts: 3, Log: log})
	defer c.Close()

	resp, err := c.Send(context.Background(), authRequest("000000000500"))
	if err != nil {
		t.Fatal(err)
	}
	first, repeat := recv(t, seen, "original"), recv(t, seen, "repeat")
	if first.MTI != "0100" || repeat.MTI != "0101" {
		t.Fatalf("server saw %s then %s, want 0100 then 0101", first.MTI, repeat.MTI)
	}
	repeat.MTI = first.MTI
	if first.String() != repeat.String() {
		t.Fatalf("repeat differs from the original beyond its MTI:\n%v\n%v", first, repeat)
	}
	if resp.MTI != "0110" || resp.STAN() != first.STAN() || resp.ResponseCode() != Approved {
		t.Fatalf("response %v", resp)
	}
	select {
	case m := <-seen:
		t.Fatalf("unexpected further request %v", m)
	default:
	}
}

func TestTimedOutAuthorizationIsReversed(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	seen := make(chan *Message, 16)
	startServer(t, ln, func(ctx context.Context, req *Message) (*Message, error) {
		seen <- req
		if BaseMTI(req.MTI) == "0400" {
			return approve(ctx, req)
		}
		return nil, nil // the issuer never answers anything else
	}, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: 100 * time.Millisecond, Attempts: 2, Log: log})
	defer c.Close()

	_, err := c.Send(context.Background(), authRequest("000000000700"))
	var te *TimeoutError
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &te) {
		t.Fatalf("Send = %v, want a TimeoutError", err)
	}
	if strings.Contains(err.Error(), pan) {
		t.Fatalf("error shows the PAN: %v", err)
	}
	orig, repeat, rev := recv(t, seen, "0100"), recv(t, seen, "0101"), recv(t, seen, "0400")
	if orig.MTI != "0100" || repeat.MTI != "0101" || rev.MTI != "0400" {
		t.Fatalf("server saw %s, %s, %s; want 0100, 0101, 0400", orig.MTI, repeat.MTI, rev.MTI)
	}
	od, err := ParseOriginalData(rev.Fields[FieldOriginalData])
	if err != nil {
		t.Fatal(err)
	}
	if od.MTI != "0100" || od.STAN != orig.STAN() || od.TransmissionTime != orig.Fields[FieldTransmissionTime] || od.AcquirerID != "00000123456" {
		t.Fatalf("reversal names %+v, original was %v", od, orig)
	}
	if rev.STAN() == orig.STAN() || rev.Fields[FieldAmount] != "000000000700" || rev.Fields[FieldPAN] != pan {
		t.Fatalf("reversal %v", rev)
	}
	if te.STAN != orig.STAN() || te.Reversal == nil || te.Reversal.ResponseCode() != Approved || te.Reversal.STAN() != rev.STAN() {
		t.Fatalf("TimeoutError %+v", te)
	}

	// An echo holds no money: it times out without a reversal.
	_, err = c.Send(context.Background(), &Message{MTI: "0800", Fields: map[int]string{}})
	if !errors.As(err, &te) || te.Reversal != nil || te.ReversalErr != nil {
		t.Fatalf("echo: %v", err)
	}
	if a, b := recv(t, seen, "0800"), recv(t, seen, "0801"); a.MTI != "0800" || b.MTI != "0801" {
		t.Fatalf("echo attempts %s, %s", a.MTI, b.MTI)
	}
	select {
	case m := <-seen:
		t.Fatalf("unexpected request after the echo: %v", m)
	default:
	}
}

func TestCancelledAuthorizationIsReversed(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	seen := make(chan *Message, 16)
	startServer(t, ln, func(ctx context.Context, req *Message) (*Message, error) {
		seen <- req
		if req.MTI == "0400" {
			return approve(ctx, req)
		}
		return nil, nil
	}, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: wait, Log: log})
	defer c.Close()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, authRequest("000000000900"))
		errc <- err
	}()
	orig := recv(t, seen, "0100")
	cancel()
	if err := recv(t, errc, "Send to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	rev := recv(t, seen, "the reversal")
	od, err := ParseOriginalData(rev.Fields[FieldOriginalData])
	if rev.MTI != "0400" || err != nil || od.STAN != orig.STAN() {
		t.Fatalf("reversal %v (%v)", rev, err)
	}
}

func TestLinkSurvivesServerRestart(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	addr := ln.Addr().String()
	answer := func(code string) Handler {
		return func(_ context.Context, req *Message) (*Message, error) { return approval(req, code), nil }
	}
	s1 := &Server{Handler: answer("FIRST1"), Log: log}
	done := make(chan error, 1)
	go func() { done <- s1.Serve(ln) }()

	c := NewClient(addr, ClientConfig{Timeout: 2 * time.Second, Attempts: 3, Log: log})
	defer c.Close()
	resp, err := c.Send(context.Background(), authRequest("000000000100"))
	if err != nil || resp.Fields[FieldApprovalCode] != "FIRST1" {
		t.Fatalf("before restart: %v, %v", resp, err)
	}

	s1.Close()
	if err := recv(t, done, "first server to stop"); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	// The same port again; the bind may need a moment after the close.
	var ln2 net.Listener
	for i := 0; i < 100; i++ {
		if ln2, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("rebinding %s: %v", addr, err)
	}
	startServer(t, ln2, answer("SECOND"), log)

	for i, amount := range []string{"000000000200", "000000000300"} {
		resp, err = c.Send(context.Background(), authRequest(amount))
		if err != nil || resp.Fields[FieldApprovalCode] != "SECOND" || resp.Fields[FieldAmount] != amount {
			t.Fatalf("after restart, request %d: %v, %v", i, resp, err)
		}
	}
}

func TestGarbageDropsOnlyThatConnection(t *testing.T) {
	log, logs := newLog()
	ln := listen(t)
	startServer(t, ln, approve, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: wait, Attempts: 1, Log: log})
	defer c.Close()
	if _, err := c.Send(context.Background(), authRequest("000000000100")); err != nil {
		t.Fatal(err)
	}

	resp, _ := approval(authMessage(), "X00001").Marshal()
	for _, tc := range []struct{ name, in string }{
		{"malformed message", "\x00\x05hello"},
		{"zero-length frame", "\x00\x00"},
		{"oversized frame", "\xff\xff" + strings.Repeat("A", 100)},
		{"response sent to the server", string([]byte{byte(len(resp) >> 8), byte(len(resp))}) + string(resp)},
		{"unknown field", "\x00\x2A" + "0800" + "0A20000000000000" + "0611143000" + "000001" + "123456"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(tc.in)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(wait))
			n, err := conn.Read(make([]byte, 64))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("server kept the connection open")
			}
			if n != 0 || err == nil {
				t.Fatalf("server answered garbage: %d bytes, %v", n, err)
			}
			// The well-behaved client is still served.
			if resp, err := c.Send(context.Background(), authRequest("000000000200")); err != nil || resp.ResponseCode() != Approved {
				t.Fatalf("other client after garbage: %v, %v", resp, err)
			}
		})
	}
	if n := strings.Count(logs.String(), "dropping connection"); n < 5 {
		t.Fatalf("%d dropped connections logged, want 5:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), pan) {
		t.Fatal("the log shows a PAN")
	}
}

func TestHandlerFailureAnswers96(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	startServer(t, ln, func(_ context.Context, req *Message) (*Message, error) {
		switch req.Fields[FieldAmount] {
		case "000000000001":
			return nil, errors.New("ledger unavailable")
		case "000000000002":
			resp := approval(req, "OK0001")
			resp.Set(FieldSTAN, "000000") // answers someone else
			return resp, nil
		case "000000000003":
			resp := approval(req, "OK0001")
			resp.Set(FieldExpiry, "2813") // does not encode
			return resp, nil
		}
		return approve(context.Background(), req)
	}, log)
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: wait, Log: log})
	defer c.Close()
	for _, amount := range []string{"000000000001", "000000000002", "000000000003"} {
		resp, err := c.Send(context.Background(), authRequest(amount))
		if err != nil {
			t.Fatal(err)
		}
		if resp.MTI != "0110" || resp.ResponseCode() != SystemMalfunction || resp.Fields[FieldAmount] != amount {
			t.Fatalf("amount %s: %v", amount, resp)
		}
		if _, ok := resp.Get(FieldPAN); ok {
			t.Fatal("failure response echoes the PAN")
		}
	}
}

func TestCloseLetsRunningHandlersAnswer(t *testing.T) {
	log, _ := newLog()
	ln := listen(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	s := &Server{Handler: func(ctx context.Context, req *Message) (*Message, error) {
		close(arrived)
		<-release
		return approve(ctx, req)
	}, Log: log, GracePeriod: wait}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c := NewClient(ln.Addr().String(), ClientConfig{Timeout: wait, Attempts: 1, Log: log})
	defer c.Close()

	result := make(chan *Message, 1)
	go func() {
		resp, err := c.Send(context.Background(), authRequest("000000000100"))
		if err != nil {
			t.Error(err)
		}
		result <- resp
	}()
	recv(t, arrived, "the request at the handler")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for i := 0; !s.isClosing(); i++ {
		if i > 1000 {
			t.Fatal("Close did not start")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if resp := recv(t, result, "the answer"); resp == nil || resp.ResponseCode() != Approved {
		t.Fatalf("in-flight request got %v", resp)
	}
	recv(t, closed, "Close to return")
	if err := recv(t, served, "Serve to return"); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), wait); err == nil {
		t.Fatal("closed server still accepts connections")
	}
}

func TestUndeliveredAuthorizationIsNotReversed(t *testing.T) {
	log, logs := newLog()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close() // nobody is listening: nothing can reach the issuer
	c := NewClient(addr, ClientConfig{Timeout: 50 * time.Millisecond, Attempts: 2, Log: log})
	defer c.Close()
	_, err := c.Send(context.Background(), authRequest("000000000100"))
	var te *TimeoutError
	if !errors.As(err, &te) || te.Reversal != nil || te.ReversalErr != nil {
		t.Fatalf("Send = %v, want a TimeoutError without a reversal", err)
	}
	if strings.Contains(logs.String(), "reversing") {
		t.Fatal("a request that never left was reversed")
	}
	c.Close()
	if _, err := c.Send(context.Background(), authRequest("000000000100")); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("Send after Close = %v", err)
	}
}
