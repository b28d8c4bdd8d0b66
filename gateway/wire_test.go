package gateway_test

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// TestServeMangled feeds the gateway's Serve every truncation and every
// byte-flip of a real AuthReq and a real CapReq. The originals never reach
// the gateway (the tap holds them back), so its replay cache cannot be what
// rejects a variant: each must be refused on its own merits, with a SET
// Error and without a panic; afterwards the untouched original is answered.
//
// Flips cover the inner message only (the bytes of MessageRaw). The
// MessageHeader is unsigned by SET's design — it carries routing IDs, not
// anything the gateway acts on — so tampering with it is out of scope.
func TestServeMangled(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			if st.ID() == suite.Set1 && testing.Short() {
				t.Skip("set1 opens an RSA envelope per variant; skipped in -short")
			}
			w := newWorld(t, st, 1)
			authReq := w.heldAuthReq(w.t0)

			// A CapReq for an authorized order, held back too.
			p, res, err := w.pay(0, "a kettle", 2500)
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("Pay: %v, %v", res, err)
			}
			w.setHold(true)
			if _, err := w.l.Merchant.Capture(w.ctx, p.TransIDs().XID); err == nil {
				t.Fatal("capture completed though its CapReq was held")
			}
			w.setHold(false)
			capReq := lastSeen[*msg.CapReq](w)

			for _, c := range []struct {
				name string
				req  []byte
				ok   func(msg.Message) bool
			}{
				{"AuthReq", authReq, func(m msg.Message) bool { _, ok := m.(*msg.AuthRes); return ok }},
				{"CapReq", capReq, func(m msg.Message) bool { _, ok := m.(*msg.CapRes); return ok }},
			} {
				t.Run(c.name, func(t *testing.T) {
					w.t = t
					serveMangled(t, w, c.req)
					// Control: the original, never sent before, is answered.
					resp, err := w.l.Gateway.Serve(w.ctx, c.req)
					if err != nil {
						t.Fatal(err)
					}
					mw, err := msg.UnmarshalMessageWrapper(resp)
					if err != nil || !c.ok(mw.Message) {
						t.Fatalf("original %s not answered: %v %v", c.name, mw, err)
					}
				})
			}
		})
	}
}

// serveMangled checks that no truncation and no byte-flip of the inner
// message of req is answered with anything but an Error.
func serveMangled(t *testing.T, w *world, req []byte) {
	t.Helper()
	mw, err := msg.UnmarshalMessageWrapper(req)
	if err != nil {
		t.Fatal(err)
	}
	inner := mw.MessageRaw()
	start := bytes.Index(req, inner)
	if start < 0 || bytes.Contains(req[start+1:], inner) {
		t.Fatal("cannot locate the inner message in the wrapper")
	}
	// Each variant is its own request, so they run on every core: set1
	// opens an RSA envelope for most flips.
	var failures atomic.Int32
	answer := func(what string, i int, variant []byte) {
		if failures.Load() > 10 {
			return
		}
		resp, err := w.l.Gateway.Serve(w.ctx, variant)
		if err != nil {
			failures.Add(1)
			t.Errorf("%s at %d: Serve: %v", what, i, err)
			return
		}
		rw, err := msg.UnmarshalMessageWrapper(resp)
		if err != nil {
			failures.Add(1)
			t.Errorf("%s at %d: response does not decode: %v", what, i, err)
			return
		}
		if _, ok := rw.Message.(*msg.Error); !ok {
			failures.Add(1)
			t.Errorf("%s at %d answered with %s", what, i, rw.Message.Name())
		}
	}
	parallel(len(req), func(n int) { answer("truncation", n, req[:n]) })
	parallel(len(inner), func(j int) {
		i := start + j
		variant := append([]byte(nil), req...)
		variant[i] ^= 0xff
		answer("flip", i, variant)
	})
	t.Logf("%d truncations, %d flips", len(req), len(inner))
}

// parallel calls f(0) … f(n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}
