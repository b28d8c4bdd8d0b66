package transport

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// A server from NewServer serves SET over its handler and refuses a
// request whose header exceeds its 64 KiB bound.
func TestNewServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	srv := NewServer(Handler(func(_ context.Context, req []byte) ([]byte, error) { return req, nil }, nil),
		slog.New(slog.NewTextHandler(&logged, nil)))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/"

	c := &Client{URL: url}
	res, err := c.RoundTrip(context.Background(), []byte{0x30, 0x00})
	if err != nil || !bytes.Equal(res, []byte{0x30, 0x00}) {
		t.Fatalf("exchange = %x, %v", res, err)
	}

	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("\x30\x00"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-Padding", strings.Repeat("a", 128<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("128 KiB header: status %d, want %d", resp.StatusCode, http.StatusRequestHeaderFieldsTooLarge)
	}
	if srv.ReadTimeout != DefaultTimeout || srv.WriteTimeout != DefaultTimeout || srv.ReadHeaderTimeout == 0 {
		t.Errorf("timeouts read %v, write %v, header %v", srv.ReadTimeout, srv.WriteTimeout, srv.ReadHeaderTimeout)
	}
}
