package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// reverse is a stand-in party: its answer depends on every request byte.
func reverse(_ context.Context, req []byte) ([]byte, error) {
	out := make([]byte, len(req))
	for i, b := range req {
		out[len(req)-1-i] = b
	}
	return out, nil
}

var errInternal = errors.New("database on fire")

func TestHandler(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x05}
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        io.Reader
		serve       ServeFunc
		wantCode    int
		wantBody    []byte
		wantAllow   string
		wantCalled  bool
	}{
		{"ok", "POST", "/", ContentType, bytes.NewReader(der), reverse, 200, []byte{0x05, 0x01, 0x02, 0x03, 0x30}, "", true},
		{"ok any path", "POST", "/merchant/set", ContentType, bytes.NewReader(der), reverse, 200, []byte{0x05, 0x01, 0x02, 0x03, 0x30}, "", true},
		{"type params, case", "POST", "/", "Application/SET-Payment; charset=binary", bytes.NewReader(der), reverse, 200, []byte{0x05, 0x01, 0x02, 0x03, 0x30}, "", true},
		{"max size", "POST", "/", ContentType, bytes.NewReader(make([]byte, MaxMessageSize)), reverse, 200, make([]byte, MaxMessageSize), "", true},
		{"GET", "GET", "/", ContentType, nil, reverse, 405, nil, "POST", false},
		{"PUT", "PUT", "/", ContentType, bytes.NewReader(der), reverse, 405, nil, "POST", false},
		{"no type", "POST", "/", "", bytes.NewReader(der), reverse, 415, nil, "", false},
		{"wrong type", "POST", "/", "application/octet-stream", bytes.NewReader(der), reverse, 415, nil, "", false},
		{"prefix type", "POST", "/", "application/set-payment-initiation", bytes.NewReader(der), reverse, 415, nil, "", false},
		{"bad type", "POST", "/", "application/set-payment; =", bytes.NewReader(der), reverse, 415, nil, "", false},
		{"too large", "POST", "/", ContentType, bytes.NewReader(make([]byte, MaxMessageSize+1)), reverse, 413, nil, "", false},
		// Without a Content-Length the limit is found while reading.
		{"too large unknown length", "POST", "/", ContentType, io.MultiReader(bytes.NewReader(make([]byte, MaxMessageSize)), strings.NewReader("x")), reverse, 413, nil, "", false},
		{"empty", "POST", "/", ContentType, http.NoBody, reverse, 400, nil, "", false},
		{"serve fails", "POST", "/", ContentType, bytes.NewReader(der), func(context.Context, []byte) ([]byte, error) { return nil, errInternal }, 500, nil, "", true},
		{"response too large", "POST", "/", ContentType, bytes.NewReader(der), func(context.Context, []byte) ([]byte, error) { return make([]byte, MaxMessageSize+1), nil }, 500, nil, "", true},
		{"healthz", "GET", HealthPath, "", nil, nil, 200, []byte("ok\n"), "", false},
		{"healthz HEAD", "HEAD", HealthPath, "", nil, nil, 200, nil, "", false},
		{"healthz POST", "POST", HealthPath, ContentType, bytes.NewReader(der), reverse, 405, nil, "GET, HEAD", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			called := false
			serve := func(ctx context.Context, req []byte) ([]byte, error) {
				called = true
				return tt.serve(ctx, req)
			}
			req := httptest.NewRequest(tt.method, tt.path, tt.body)
			if tt.name == "too large unknown length" && req.ContentLength != -1 {
				t.Fatalf("ContentLength = %d, want unknown", req.ContentLength)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			Handler(serve, log).ServeHTTP(rec, req)

			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.wantCode, rec.Body.String())
			}
			if called != tt.wantCalled {
				t.Errorf("serve called = %v, want %v", called, tt.wantCalled)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			switch {
			case tt.wantCode == 200 && tt.path != HealthPath:
				if ct := rec.Header().Get("Content-Type"); ct != ContentType {
					t.Errorf("Content-Type = %q", ct)
				}
				if !bytes.Equal(rec.Body.Bytes(), tt.wantBody) {
					t.Errorf("body differs: %d bytes, want %d", rec.Body.Len(), len(tt.wantBody))
				}
			case tt.wantBody != nil:
				if !bytes.Equal(rec.Body.Bytes(), tt.wantBody) {
					t.Errorf("body %q, want %q", rec.Body.Bytes(), tt.wantBody)
				}
			case tt.wantCode != 200:
				// Error bodies are short text, never the SET content type.
				if ct := rec.Header().Get("Content-Type"); strings.Contains(ct, ContentType) || rec.Body.Len() > 100 {
					t.Errorf("error response: type %q, %d bytes", ct, rec.Body.Len())
				}
			}
			if tt.wantCode == 500 {
				if !strings.Contains(logs.String(), "level=ERROR") {
					t.Errorf("500 not logged: %q", logs.String())
				}
				if strings.Contains(rec.Body.String(), errInternal.Error()) {
					t.Error("500 body leaks the internal error")
				}
				if tt.name == "serve fails" && !strings.Contains(logs.String(), errInternal.Error()) {
					t.Errorf("log lacks the cause: %q", logs.String())
				}
			}
		})
	}
}

func TestHandlerNilLogger(t *testing.T) {
	h := Handler(func(context.Context, []byte) ([]byte, error) { return nil, errInternal }, nil)
	req := httptest.NewRequest("POST", "/", strings.NewReader("x"))
	req.Header.Set("Content-Type", ContentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 {
		t.Errorf("status %d, want 500", rec.Code)
	}
}

// server starts a loopback server; it is closed when the test ends.
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestClientRoundTrip(t *testing.T) {
	srv := server(t, Handler(reverse, quiet()))
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server not on loopback: %s", srv.URL)
	}
	c := &Client{URL: srv.URL}
	for _, n := range []int{1, 5, 4096, MaxMessageSize} {
		req := make([]byte, n)
		for i := range req {
			req[i] = byte(i * 7)
		}
		resp, err := c.RoundTrip(context.Background(), req)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		want, _ := reverse(context.Background(), req)
		if !bytes.Equal(resp, want) {
			t.Errorf("%d bytes: wrong response", n)
		}
	}
	if _, err := c.RoundTrip(context.Background(), make([]byte, MaxMessageSize+1)); err == nil {
		t.Error("oversized request sent")
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int    // for a *StatusError
		wantText   string // in the error
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Internal Server Error", 500) }, 500, "Internal Server Error"},
		{"415", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Unsupported Media Type", http.StatusUnsupportedMediaType)
		}, 415, "Unsupported Media Type"},
		{"long error body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			w.Write(bytes.Repeat([]byte("e"), 10000))
		}, 502, strings.Repeat("e", maxErrorBody)},
		{"wrong type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
		}, 0, "content type"},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ContentType)
			w.Write(make([]byte, MaxMessageSize+1))
		}, 0, "MaxMessageSize"},
		{"oversized chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ContentType)
			for range MaxMessageSize/4096 + 1 {
				w.Write(make([]byte, 4096))
				w.(http.Flusher).Flush()
			}
		}, 0, "MaxMessageSize"},
		{"empty", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ContentType)
		}, 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, tt.handler)
			_, err := (&Client{URL: srv.URL}).RoundTrip(context.Background(), []byte{1})
			if err == nil {
				t.Fatal("no error")
			}
			var se *StatusError
			if errors.As(err, &se) != (tt.wantStatus != 0) || (se != nil && se.StatusCode != tt.wantStatus) {
				t.Errorf("error %v, want status %d", err, tt.wantStatus)
			}
			if se != nil && se.Body != tt.wantText {
				t.Errorf("StatusError.Body = %q, want %q", se.Body, tt.wantText)
			}
			if !strings.Contains(err.Error(), tt.wantText[:min(len(tt.wantText), 40)]) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

// hang is a party that never answers until released or the client leaves.
func hang(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv
}

func TestClientTimeout(t *testing.T) {
	srv := hang(t)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&Client{URL: srv.URL}).RoundTrip(ctx, []byte{1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("context deadline: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}

	c := &Client{URL: srv.URL, HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	_, err = c.RoundTrip(context.Background(), []byte{1})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("client timeout: %v, want a timeout", err)
	}
}

func TestTap(t *testing.T) {
	srv := server(t, Handler(reverse, quiet()))
	var (
		mu   sync.Mutex
		seen []Exchange
	)
	observe := func(e Exchange) { mu.Lock(); seen = append(seen, e); mu.Unlock() }
	c := &Client{URL: srv.URL, HTTP: &http.Client{Transport: Tap(nil, "wallet", "merchant", observe)}}

	reqs := [][]byte{{0x30, 0x00}, bytes.Repeat([]byte{1, 2, 3}, 100000)}
	for _, req := range reqs {
		before := time.Now()
		resp, err := c.RoundTrip(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := reverse(context.Background(), req)
		if !bytes.Equal(resp, want) {
			t.Fatal("tap changed the response the client got")
		}
		mu.Lock()
		e := seen[len(seen)-1]
		mu.Unlock()
		if e.From != "wallet" || e.To != "merchant" || e.Status != 200 || e.Err != nil {
			t.Errorf("exchange %s→%s status %d err %v", e.From, e.To, e.Status, e.Err)
		}
		if !bytes.Equal(e.Request, req) || !bytes.Equal(e.Response, resp) {
			t.Errorf("tap saw %d/%d bytes, want exactly %d/%d", len(e.Request), len(e.Response), len(req), len(resp))
		}
		if e.Start.Before(before) || e.Duration <= 0 {
			t.Errorf("Start %v Duration %v", e.Start, e.Duration)
		}
	}
	if len(seen) != len(reqs) {
		t.Errorf("%d exchanges observed, want %d", len(seen), len(reqs))
	}

	// A refused request is observed with its status and text.
	bad := &http.Client{Transport: Tap(nil, "wallet", "merchant", observe)}
	hreq, _ := http.NewRequest("POST", srv.URL, strings.NewReader("x"))
	hreq.Header.Set("Content-Type", "text/plain")
	hresp, err := bad.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	e := seen[len(seen)-1]
	if e.Status != 415 || !bytes.Equal(e.Response, body) || string(e.Request) != "x" {
		t.Errorf("refused exchange: status %d response %q request %q", e.Status, e.Response, e.Request)
	}
}

func TestTapTransportError(t *testing.T) {
	srv := httptest.NewServer(Handler(reverse, quiet()))
	url := srv.URL
	srv.Close() // nothing listens any more
	var got *Exchange
	c := &Client{URL: url, HTTP: &http.Client{Transport: Tap(nil, "merchant", "gateway", func(e Exchange) { got = &e })}}
	if _, err := c.RoundTrip(context.Background(), []byte{9, 9}); err == nil {
		t.Fatal("round trip to a closed server succeeded")
	}
	if got == nil || got.Err == nil || got.Status != 0 || got.Response != nil || !bytes.Equal(got.Request, []byte{9, 9}) {
		t.Errorf("observed %+v", got)
	}
}
