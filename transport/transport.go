// Package transport is SET's HTTP binding: a party is an HTTP endpoint that
// takes one DER-encoded SET message in a POST body and answers with one DER
// message, both with content type application/set-payment.
//
// SET-level failures travel as SET Error messages inside a 200 response (the
// party core encodes them); HTTP status codes other than 200 mean the message
// never reached, or broke, the party.
package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
)

// ContentType is the media type of every SET message on the wire, both ways.
const ContentType = "application/set-payment"

// MaxMessageSize bounds a request or response body, so that neither side
// can be made to buffer without limit.
const MaxMessageSize = 1 << 20

// DefaultTimeout is the whole-exchange timeout of a Client with no HTTP
// client of its own.
const DefaultTimeout = 30 * time.Second

// HealthPath answers GET with 200 "ok", for load balancers and the demo.
const HealthPath = "/healthz"

// ServeFunc handles one SET message. It returns SET-level errors already
// encoded as SET Error messages; a non-nil error is an internal failure.
type ServeFunc func(ctx context.Context, req []byte) ([]byte, error)

// Handler serves one party on every path except HealthPath. log may be nil
// (slog.Default is used).
func Handler(serve ServeFunc, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return &handler{serve: serve, log: log}
}

// NewServer returns an http.Server for h with the limits every SET
// service runs under: a request's header within 5 s, its whole exchange
// within DefaultTimeout each way, idle connections kept a minute, headers
// of at most 64 KiB, and the server's own errors logged to log (nil:
// slog.Default). The caller sets what else it needs (BaseContext).
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       DefaultTimeout,
		WriteTimeout:      DefaultTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
	}
}

type handler struct {
	serve ServeFunc
	log   *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpError(w, http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed)
		return
	}
	if !isSETContentType(r.Header.Get("Content-Type")) {
		httpError(w, http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > MaxMessageSize {
		httpError(w, http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxMessageSize))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		httpError(w, http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		// The client went away or sent a broken body: nothing to answer.
		h.log.Debug("set transport: reading request", "remote", r.RemoteAddr, "err", err)
		httpError(w, http.StatusBadRequest)
		return
	case len(body) == 0:
		httpError(w, http.StatusBadRequest)
		return
	}
	resp, err := h.serve(r.Context(), body)
	if err == nil && len(resp) > MaxMessageSize {
		err = fmt.Errorf("response of %d bytes exceeds MaxMessageSize", len(resp))
	}
	if err != nil {
		h.log.Error("set transport: serving request", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		httpError(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(resp)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
}

// httpError writes a short text body that reveals nothing of the cause.
func httpError(w http.ResponseWriter, code int) {
	http.Error(w, http.StatusText(code), code)
}

// isSETContentType accepts ContentType, ignoring case and parameters.
func isSETContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == ContentType
}

// Client posts SET messages to one party.
type Client struct {
	URL string
	// HTTP is the client used; nil means one with DefaultTimeout. Its
	// Timeout, and ctx, bound the whole exchange.
	HTTP *http.Client
}

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// StatusError is returned by Client.RoundTrip for a non-200 response.
type StatusError struct {
	StatusCode int
	Body       string // the start of the body, as text
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("set transport: HTTP %d: %s", e.StatusCode, e.Body)
}

// maxErrorBody is how much of a non-200 body a StatusError keeps.
const maxErrorBody = 512

// RoundTrip posts req and returns the response body, which is a SET message
// (possibly a SET Error). Transport failures, non-200 statuses (as
// *StatusError), a wrong content type or an oversized response are errors.
func (c *Client) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	if len(req) > MaxMessageSize {
		return nil, fmt.Errorf("set transport: request of %d bytes exceeds MaxMessageSize", len(req))
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("set transport: %w", err)
	}
	hreq.Header.Set("Content-Type", ContentType)
	hreq.Header.Set("Accept", ContentType)
	hc := c.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("set transport: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &StatusError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))}
	}
	if ct := resp.Header.Get("Content-Type"); !isSETContentType(ct) {
		return nil, fmt.Errorf("set transport: response content type %q, want %q", ct, ContentType)
	}
	if resp.ContentLength > MaxMessageSize {
		return nil, fmt.Errorf("set transport: response of %d bytes exceeds MaxMessageSize", resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMessageSize+1))
	if err != nil {
		return nil, fmt.Errorf("set transport: reading response: %w", err)
	}
	if len(body) > MaxMessageSize {
		return nil, errors.New("set transport: response exceeds MaxMessageSize")
	}
	if len(body) == 0 {
		return nil, errors.New("set transport: empty response")
	}
	return body, nil
}
