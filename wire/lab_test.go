package wire_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestCallVerifiesGatewayErrorUnderRoots sends a real gateway a request it
// must refuse and checks that its signed Error verifies under the SET
// roots the caller trusts, and is refused under roots it does not chain to.
func TestCallVerifiesGatewayErrorUnderRoots(t *testing.T) {
	st := suite.NewModern()
	quiet := slog.New(slog.DiscardHandler)
	l, err := lab.New(lab.Options{Suite: st, MerchantStore: sqlitetest.Memory(t), GatewayStore: sqlitetest.Memory(t),
		Limit: 10000, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// A PInitReq is no message a gateway serves.
	var rrpid msg.RRPID
	rrpid[0] = 3
	req := &msg.PInitReq{RRPID: rrpid, Language: "en", LocalIDC: []byte("c"), BrandID: "SETpay", BIN: "411111"}
	// Roots the gateway's certificate does not chain to: the brand CA
	// standing in as a trust anchor is not the root of the chain.
	wrongRoots := []*pki.Certificate{l.Hierarchy.Brand.Cert}

	tests := []struct {
		name   string
		roots  []*pki.Certificate
		origin wire.ErrorOrigin
	}{
		{"lab roots", l.Roots, wire.ErrorVerified},
		{"other roots", wrongRoots, wire.ErrorBadSignature},
		{"no roots", nil, wire.ErrorUnchecked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := &wire.Endpoint{Suite: st, Log: quiet, ErrorRoots: tt.roots}
			_, err := ep.Call(context.Background(), wire.ServeFunc(l.Gateway.Serve), "gateway", nil, &rrpid, req)
			pe, ok := errors.AsType[*wire.PeerError](err)
			if !ok {
				t.Fatalf("Call error %v is not a PeerError", err)
			}
			if pe.Origin != tt.origin {
				t.Fatalf("origin %v, want %v (%v)", pe.Origin, tt.origin, pe.SignatureErr)
			}
			if msg.CodeOf(err) == msg.UnspecifiedFailure {
				t.Errorf("gateway's code lost: %v", err)
			}
			if tt.origin == wire.ErrorVerified {
				c, err := pki.ParseCertificate(pe.SignerCert)
				if err != nil || c.CertType&pki.CertTypePgwy == 0 {
					t.Errorf("verified signer is not a payment gateway: %v", err)
				}
			}
		})
	}
}
