package transport

import (
	"bytes"
	"io"
	"net/http"
	"time"
)

// Exchange is one request and its response as they crossed the wire.
type Exchange struct {
	From, To string
	Request  []byte
	Response []byte // nil if no response arrived; at most MaxMessageSize+1 bytes
	Status   int    // HTTP status; 0 if no response arrived
	Err      error  // the transport error, if no response arrived
	Start    time.Time
	Duration time.Duration // until the whole response body was read
}

// Tap wraps next (http.DefaultTransport if nil) so that observe sees every
// exchange, bytes exactly as sent and received, without the parties knowing.
// observe runs synchronously on the caller's goroutine before the response
// is handed back, so it must be quick; it must not modify the slices.
func Tap(next http.RoundTripper, from, to string, observe func(Exchange)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if observe == nil {
		observe = func(Exchange) {}
	}
	return &tap{next: next, from: from, to: to, observe: observe}
}

type tap struct {
	next     http.RoundTripper
	from, to string
	observe  func(Exchange)
}

func (t *tap) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := Exchange{From: t.from, To: t.to, Start: time.Now()}
	if req.Body != nil && req.Body != http.NoBody {
		// A RoundTripper must not modify the request: send a copy whose body
		// is the bytes we kept.
		// All of it: sending anything else would change what is observed.
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.Request = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.ContentLength = int64(len(b))
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		ex.Err, ex.Duration = err, time.Since(ex.Start)
		t.observe(ex)
		return nil, err
	}
	// Read the body now, so the observer sees it whole; the caller still
	// reads it all, and anything beyond the limit, from the original.
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxMessageSize+1))
	ex.Response, ex.Status, ex.Err, ex.Duration = b, resp.StatusCode, err, time.Since(ex.Start)
	t.observe(ex)
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(b), errReader{err}, resp.Body), body: resp.Body}
	return resp, nil
}

// replayBody serves the bytes the tap already read, then the rest.
type replayBody struct {
	io.Reader
	body io.Closer
}

func (r *replayBody) Close() error { return r.body.Close() }

// errReader hands a read error the tap met to the real reader; nil passes.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
