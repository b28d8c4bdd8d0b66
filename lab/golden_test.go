package lab

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/setpay/setpay/inspect"
	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite lab/testdata with the messages of a fresh purchase")

// recorder keeps every request and response that passes through it.
type recorder struct {
	mu   sync.Mutex
	next wire.RoundTripper
	log  *[][]byte
}

func (r *recorder) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	resp, err := r.next.RoundTrip(ctx, req)
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.log = append(*r.log, append([]byte(nil), req...))
	if err == nil {
		*r.log = append(*r.log, append([]byte(nil), resp...))
	}
	return resp, err
}

// record runs one purchase with capture and returns every MessageWrapper
// exchanged, in order.
func record(t *testing.T, st suite.Suite) [][]byte {
	t.Helper()
	ctx := context.Background()
	l := newLab(t, st, 1)
	var all [][]byte
	l.setGatewayRT(&recorder{next: wire.ServeFunc(l.Gateway.Serve), log: &all})
	offer, err := l.Merchant.Checkout(ctx, "golden order", USD(1234))
	if err != nil {
		t.Fatal(err)
	}
	toMerchant := &recorder{next: wire.ServeFunc(l.Merchant.Serve), log: &all}
	p, _, err := l.Wallets[0].Pay(ctx, toMerchant, OfferFor(offer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Merchant.Capture(ctx, p.TransIDs().XID); err != nil {
		t.Fatal(err)
	}
	return all
}

// TestGoldenMessages keeps a recorded purchase per suite in testdata and
// checks that every message in it decodes strictly, re-encodes to the same
// bytes, carries PKCS#7 of its own suite only, and reads in inspect under
// its SET name. A fresh purchase must produce the same sequence of types.
func TestGoldenMessages(t *testing.T) {
	// The recorder logs a request with its response once the response is
	// back, so the AuthReq/AuthRes pair comes before the PReq it serves.
	wantTypes := []string{"PInitReq", "PInitRes", "AuthReq", "AuthRes", "PReq", "PRes", "CapReq", "CapRes"}
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			dir := filepath.Join("testdata", string(st.ID()))
			fresh := record(t, st)
			if *updateGolden {
				os.RemoveAll(dir)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			var recorded [][]byte
			for i, b := range fresh {
				w, err := msg.UnmarshalMessageWrapper(b)
				if err != nil {
					t.Fatalf("fresh message %d: %v", i, err)
				}
				name := fmt.Sprintf("%02d-%s.der", i+1, w.Message.Name())
				if *updateGolden {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				rb, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatalf("%v (run with -update-golden to record)", err)
				}
				recorded = append(recorded, rb)
			}
			var gotTypes []string
			for i, b := range recorded {
				w, err := msg.UnmarshalMessageWrapper(b)
				if err != nil {
					t.Fatalf("recorded message %d: %v", i+1, err)
				}
				gotTypes = append(gotTypes, w.Message.Name())
				again, err := msg.Wrap(&w.Header, w.Message)
				if err != nil || !bytes.Equal(again, b) {
					t.Errorf("%s does not re-encode to its recorded bytes (%v)", w.Message.Name(), err)
				}
				checkSuiteOfBlobs(t, st, w.Message.Name(), w.MessageRaw())
				n, err := inspect.Inspect(b, "")
				if err != nil {
					t.Fatalf("inspect %s: %v", w.Message.Name(), err)
				}
				var out strings.Builder
				n.WriteText(&out)
				if !strings.Contains(out.String(), w.Message.Name()+" (") {
					t.Errorf("inspect does not name %s:\n%s", w.Message.Name(), out.String())
				}
			}
			if strings.Join(gotTypes, ",") != strings.Join(wantTypes, ",") {
				t.Fatalf("recorded types %v, want %v", gotTypes, wantTypes)
			}
		})
	}
}

// checkSuiteOfBlobs finds every PKCS#7 ContentInfo inside a message and
// checks that suite.Identify attributes it to st.
func checkSuiteOfBlobs(t *testing.T, st suite.Suite, name string, b []byte) {
	t.Helper()
	found := 0
	var walk func(e der.Element, depth int)
	walk = func(e der.Element, depth int) {
		if depth > 32 || !e.Tag.Constructed {
			return
		}
		kids, err := e.Children()
		if err != nil {
			return
		}
		if e.Tag == der.TagSequence && len(kids) == 2 && kids[0].Tag == der.TagOID && kids[1].Tag == der.Explicit(0) {
			if id, err := suite.Identify(e.Raw); err == nil {
				found++
				if id != st.ID() {
					t.Errorf("%s carries a %s structure in a %s run", name, id, st.ID())
				}
				return
			}
		}
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	e, err := der.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	walk(e, 0)
	if name != "PInitReq" && found == 0 {
		t.Errorf("%s carries no signed or enveloped structure", name)
	}
}
