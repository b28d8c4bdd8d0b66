package bank

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/bank/iso8583"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hostLink serves the test bank's issuer over 127.0.0.1 and returns a
// client for it. filter, when set, sees every request before the host and
// may swallow the host's answer (return false) to simulate a lost response.
func hostLink(t *testing.T, b *testBank, log *slog.Logger, filter func(req *iso8583.Message) bool, cfg iso8583.ClientConfig) *iso8583.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := NewHost(b.is, log)
	srv := &iso8583.Server{Log: log, GracePeriod: 2 * time.Second, Handler: func(ctx context.Context, req *iso8583.Message) (*iso8583.Message, error) {
		resp, err := host.Handle(ctx, req)
		if filter != nil && !filter(req) {
			return nil, err
		}
		return resp, err
	}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if cfg.Log == nil {
		cfg.Log = log
	}
	c := iso8583.NewClient(ln.Addr().String(), cfg)
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		if err := <-done; !errors.Is(err, iso8583.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return c
}

func authMsg(pan, expiry, amount string) *iso8583.Message {
	m := iso8583.NewMessage(iso8583.MTIAuthorizationRequest)
	m.Set(iso8583.FieldPAN, pan)
	m.Set(iso8583.FieldProcessingCode, "000000")
	m.Set(iso8583.FieldAmount, amount)
	m.Set(iso8583.FieldExpiry, expiry)
	m.Set(iso8583.FieldAcquirerID, "12345")
	m.Set(iso8583.FieldTerminalID, "TERM0001")
	m.Set(iso8583.FieldMerchantID, "MERCHANT0001   ")
	m.Set(iso8583.FieldCurrency, "978")
	return m
}

// original is DE 90 naming the authorization a response answers.
func original(t *testing.T, auth, resp *iso8583.Message) string {
	t.Helper()
	od, err := iso8583.OriginalData{MTI: auth.MTI, STAN: resp.STAN(), TransmissionTime: resp.Fields[iso8583.FieldTransmissionTime],
		AcquirerID: "12345"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return od
}

func send(t *testing.T, c *iso8583.Client, m *iso8583.Message) *iso8583.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Send(ctx, m)
	if err != nil {
		t.Fatalf("%s: %v", m.MTI, err)
	}
	return resp
}

func TestHostAuthorizeAndCapture(t *testing.T) {
	b := newTestBank(t)
	logs := new(syncBuf)
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := hostLink(t, b, log, nil, iso8583.ClientConfig{Timeout: 5 * time.Second})

	echo := send(t, c, iso8583.NewMessage(iso8583.MTINetworkRequest))
	if echo.MTI != iso8583.MTINetworkResponse || echo.ResponseCode() != "00" {
		t.Fatalf("echo answered %v", echo)
	}

	auth := authMsg(visaPAN, "3112", "000000003000")
	resp := send(t, c, auth)
	if resp.MTI != iso8583.MTIAuthorizationResponse || resp.ResponseCode() != "00" {
		t.Fatalf("authorization answered %v", resp)
	}
	if ac, ok := resp.Get(iso8583.FieldApprovalCode); !ok || len(ac) != 6 {
		t.Errorf("approval without DE 38: %v", resp)
	}
	if _, ok := resp.Get(iso8583.FieldPAN); ok {
		t.Error("response echoes the PAN")
	}
	if f := b.funds(b.card); f.Held != 30_00 || f.Balance != 0 {
		t.Fatalf("after authorization: %+v", f)
	}
	if err := b.l.Audit(b.ctx); err != nil {
		t.Fatal(err)
	}

	capt := iso8583.NewMessage(iso8583.MTICompletionAdvice)
	capt.Set(iso8583.FieldAmount, "000000002000")
	capt.Set(iso8583.FieldAcquirerID, "12345")
	capt.Set(iso8583.FieldOriginalData, original(t, auth, resp))
	cr := send(t, c, capt)
	if cr.MTI != iso8583.MTICompletionResponse || cr.ResponseCode() != "00" {
		t.Fatalf("capture answered %v", cr)
	}
	if f := b.funds(b.card); f.Held != 10_00 || f.Balance != -20_00 {
		t.Fatalf("after capture: %+v", f)
	}
	if err := b.l.Audit(b.ctx); err != nil {
		t.Fatal(err)
	}

	// Reversal advice releases what was not captured.
	rev := iso8583.NewMessage(iso8583.MTIReversalAdvice)
	rev.Set(iso8583.FieldAcquirerID, "12345")
	rev.Set(iso8583.FieldOriginalData, original(t, auth, resp))
	if rr := send(t, c, rev); rr.MTI != iso8583.MTIReversalAdviceResp || rr.ResponseCode() != "00" {
		t.Fatalf("reversal answered %v", rr)
	}
	if f := b.funds(b.card); f.Held != 0 || f.Balance != -20_00 {
		t.Fatalf("after reversal: %+v", f)
	}
	if strings.Contains(logs.String(), visaPAN) {
		t.Error("the host logged a PAN")
	}
}

func TestHostDeclineCodes(t *testing.T) {
	b := newTestBank(t)
	c := hostLink(t, b, slog.New(slog.DiscardHandler), nil, iso8583.ClientConfig{Timeout: 5 * time.Second})
	for _, tc := range []struct {
		name, pan, expiry, amount string
		want                      string
	}{
		{"over limit", visaPAN, "3112", "000000020000", "51"},
		{"unknown card", "4000000000000002", "3112", "000000000100", "14"},
		{"luhn", "4111111111111112", "3112", "000000000100", "14"},
		{"expired", "6011111111111117", "3005", "000000000100", "54"},
		{"blocked", "4012888888881881", "3112", "000000000100", "57"},
		{"wrong expiry", visaPAN, "3111", "000000000100", "05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := send(t, c, authMsg(tc.pan, tc.expiry, tc.amount))
			if got := string(resp.ResponseCode()); got != tc.want {
				t.Fatalf("answered %s, want %s", got, tc.want)
			}
			if _, ok := resp.Get(iso8583.FieldApprovalCode); ok {
				t.Error("decline carries an approval code")
			}
		})
	}
	for _, id := range []string{b.card, b.blocked, b.expired} {
		if f := b.funds(id); f.Held != 0 || f.Balance != 0 {
			t.Errorf("a decline moved money: %+v", f)
		}
	}

	// A completion naming no authorization is 25, and moves nothing.
	capt := iso8583.NewMessage(iso8583.MTICompletionAdvice)
	capt.Set(iso8583.FieldAmount, "000000000100")
	capt.Set(iso8583.FieldAcquirerID, "12345")
	od, _ := iso8583.OriginalData{MTI: "0100", STAN: "999999", TransmissionTime: "0615120000", AcquirerID: "12345"}.Encode()
	capt.Set(iso8583.FieldOriginalData, od)
	if r := send(t, c, capt); r.ResponseCode() != "25" {
		t.Fatalf("capture of nothing answered %v", r)
	}
	// A completion without DE 90 is a format error.
	capt.Fields = map[int]string{iso8583.FieldAmount: "000000000100", iso8583.FieldAcquirerID: "12345"}
	if r := send(t, c, capt); r.ResponseCode() != "30" {
		t.Fatalf("capture without DE 90 answered %v", r)
	}
}

// TestHostRetransmission loses the first answer to an authorization: the
// client repeats it as 0101 and the issuer holds the amount once.
func TestHostRetransmission(t *testing.T) {
	b := newTestBank(t)
	var mu sync.Mutex
	var mtis []string
	filter := func(req *iso8583.Message) bool {
		mu.Lock()
		defer mu.Unlock()
		mtis = append(mtis, req.MTI)
		return len(mtis) > 1 // the first answer is lost
	}
	c := hostLink(t, b, slog.New(slog.DiscardHandler), filter, iso8583.ClientConfig{Timeout: 300 * time.Millisecond, Attempts: 3})
	resp := send(t, c, authMsg(visaPAN, "3112", "000000004000"))
	if resp.ResponseCode() != "00" {
		t.Fatalf("answered %v", resp)
	}
	mu.Lock()
	got := strings.Join(mtis, ",")
	mu.Unlock()
	if got != "0100,0101" {
		t.Fatalf("host saw %s, want 0100,0101", got)
	}
	if f := b.funds(b.card); f.Held != 40_00 {
		t.Fatalf("retransmission held %d, want 4000 once", f.Held)
	}
	if err := b.l.Audit(b.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestHostTimeoutReversal loses every answer to an authorization: the
// client gives up, sends a 0400, and the hold the issuer placed is gone.
func TestHostTimeoutReversal(t *testing.T) {
	b := newTestBank(t)
	filter := func(req *iso8583.Message) bool {
		return iso8583.BaseMTI(req.MTI) != iso8583.MTIAuthorizationRequest
	}
	c := hostLink(t, b, slog.New(slog.DiscardHandler), filter, iso8583.ClientConfig{Timeout: 200 * time.Millisecond, Attempts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Send(ctx, authMsg(visaPAN, "3112", "000000005000"))
	var te *iso8583.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Send: %v, want a timeout", err)
	}
	if te.Reversal == nil || te.Reversal.ResponseCode() != "00" {
		t.Fatalf("reversal: %v / %v", te.Reversal, te.ReversalErr)
	}
	if f := b.funds(b.card); f.Held != 0 || f.Balance != 0 || f.OpenToBuy != 100_00 {
		t.Fatalf("after timeout and reversal: %+v", f)
	}
	if err := b.l.Audit(b.ctx); err != nil {
		t.Fatal(err)
	}
}
