package wallet_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wire"
)

// TestPayReportsErrorOrigin: a SET Error the merchant answers PInitReq
// with is checked against the wallet's roots — one the merchant signed is
// reported as verified, with the merchant's certificate; an unsigned one
// as unsigned (anyone on the path could have sent it). Both keep the
// Error's code.
func TestPayReportsErrorOrigin(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			signer := w.mer.Signer()
			for _, c := range []struct {
				name   string
				signer *encap.Signer
				origin wire.ErrorOrigin
			}{
				{"unsigned", nil, wire.ErrorUnsigned},
				{"signed by the merchant", &signer, wire.ErrorVerified},
			} {
				t.Run(c.name, func(t *testing.T) {
					ep := &wire.Endpoint{Suite: st, Signer: c.signer}
					refuse := func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
						return nil, msg.Errorf(msg.UnknownLID, "no such order")
					}
					rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return ep.Serve(ctx, req, refuse) })
					_, _, err := w.w.Pay(t.Context(), rt, offer)
					pe, ok := errors.AsType[*wire.PeerError](err)
					if !ok {
						t.Fatalf("Pay error %v is not a PeerError", err)
					}
					if pe.Origin != c.origin {
						t.Fatalf("origin %v, want %v (%v)", pe.Origin, c.origin, pe.SignatureErr)
					}
					if c.origin == wire.ErrorVerified && !bytes.Equal(pe.SignerCert, w.mer.Cert) {
						t.Error("verified Error names another signer than the merchant")
					}
					if got := msg.CodeOf(err); got != msg.UnknownLID {
						t.Errorf("code %v, want %v", got, msg.UnknownLID)
					}
				})
			}
		})
	}
}
