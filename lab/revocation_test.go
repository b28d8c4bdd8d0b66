package lab

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wire"
)

// errCode is the SET ErrorCode err carries and whether it came from a peer
// (a SET Error message) rather than from the caller's own check.
func errCode(t *testing.T, err error) (code msg.ErrorCode, remote bool) {
	t.Helper()
	var pe *msg.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error without a SET ErrorCode: %v", err)
	}
	var re *msg.RemoteError
	return pe.Code, errors.As(err, &re)
}

// gatewayTap sits between the merchant and the gateway: it runs before
// (once) ahead of the first AuthReq it forwards, and records the ErrorCode
// of every SET Error the gateway answers with.
type gatewayTap struct {
	l      *Lab
	mu     sync.Mutex
	before func()
	codes  []msg.ErrorCode
}

func (g *gatewayTap) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	if w, err := msg.UnmarshalMessageWrapper(req); err == nil {
		if _, ok := w.Message.(*msg.AuthReq); ok {
			g.mu.Lock()
			f := g.before
			g.before = nil
			g.mu.Unlock()
			if f != nil {
				f()
			}
		}
	}
	resp, err := g.l.Gateway.Serve(ctx, req)
	if err != nil {
		return resp, err
	}
	if w, err := msg.UnmarshalMessageWrapper(resp); err == nil {
		if em, ok := w.Message.(*msg.Error); ok {
			if tbs, err := wire.ErrorTBS(em); err == nil {
				g.mu.Lock()
				g.codes = append(g.codes, tbs.ErrorCode)
				g.mu.Unlock()
			}
		}
	}
	return resp, nil
}

func (g *gatewayTap) refused(t *testing.T, want msg.ErrorCode) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.codes) != 1 || g.codes[0] != want {
		t.Fatalf("gateway answered with Errors %v, want one %v", g.codes, want)
	}
	g.codes = nil
}

func (g *gatewayTap) none(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.codes) != 0 {
		t.Fatalf("gateway answered with Errors %v, want none", g.codes)
	}
}

func tapGateway(l *Lab) *gatewayTap {
	g := &gatewayTap{l: l}
	l.setGatewayRT(g)
	return g
}

// pay runs one purchase by wallet i and returns its error and whether it
// was authorized.
func pay(t *testing.T, l *Lab, i int) (accepted bool, err error) {
	t.Helper()
	ctx := context.Background()
	offer, err := l.Merchant.Checkout(ctx, "tea", USD(350))
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := l.Wallets[i].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
	if err != nil {
		return false, err
	}
	return res.Completion == msg.AuthorizationAccepted, nil
}

func mustRevoke(t *testing.T, l *Lab, name string) {
	t.Helper()
	if err := l.Revoke(l.Certificates[name], pki.ReasonKeyCompromise); err != nil {
		t.Fatalf("Revoke %s: %v", name, err)
	}
}

// TestRevokeMerchant: once the merchant's signature certificate is
// revoked, the gateway refuses its AuthReq and the wallet refuses its
// PInitRes, both with revokedCertificate.
func TestRevokeMerchant(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			l := newLab(t, st, 1)
			tap := tapGateway(l)
			if ok, err := pay(t, l, 0); err != nil || !ok {
				t.Fatalf("purchase before revocation: %v, %v", ok, err)
			}
			// Revoked while the purchase is under way, after the wallet
			// checked PInitRes: the gateway is the one to notice.
			tap.before = func() { mustRevoke(t, l, "merchant-signature") }
			if ok, err := pay(t, l, 0); ok {
				t.Fatalf("purchase authorized through a revoked merchant (err %v)", err)
			}
			tap.refused(t, msg.RevokedCertificate)

			_, err := pay(t, l, 0)
			if err == nil {
				t.Fatal("wallet accepted a PInitRes signed with a revoked certificate")
			}
			if code, remote := errCode(t, err); code != msg.RevokedCertificate || remote {
				t.Fatalf("wallet failed with %v (from peer: %v), want its own revokedCertificate: %v", code, remote, err)
			}
			tap.none(t) // nothing reached the gateway
		})
	}
}

// TestRevokeCardholder: a revoked cardholder certificate is refused by
// the gateway (AuthReq) and by the merchant (PReq's dual signature), while
// another cardholder keeps buying.
func TestRevokeCardholder(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			l := newLab(t, st, 2)
			tap := tapGateway(l)
			// Revoked after the merchant checked PReq: the gateway notices.
			tap.before = func() { mustRevoke(t, l, "cardholder-1") }
			if ok, err := pay(t, l, 0); ok {
				t.Fatalf("purchase authorized with a revoked cardholder certificate (err %v)", err)
			}
			tap.refused(t, msg.RevokedCertificate)

			_, err := pay(t, l, 0)
			if err == nil {
				t.Fatal("merchant accepted a PReq signed with a revoked certificate")
			}
			if code, remote := errCode(t, err); code != msg.RevokedCertificate || !remote {
				t.Fatalf("purchase failed with %v (from merchant: %v), want the merchant's revokedCertificate: %v", code, remote, err)
			}
			tap.none(t)

			if ok, err := pay(t, l, 1); err != nil || !ok {
				t.Fatalf("unrevoked cardholder: %v, %v", ok, err)
			}
		})
	}
}

// TestRevokeGateway: a revoked gateway signature certificate makes the
// merchant refuse the AuthRes; a revoked gateway key-exchange certificate
// makes the wallet refuse the PInitRes that names it.
func TestRevokeGateway(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			l := newLab(t, st, 1)
			tapGateway(l)
			mustRevoke(t, l, "gateway-signature")
			ok, err := pay(t, l, 0)
			if ok {
				t.Fatal("purchase authorized by a gateway with a revoked certificate")
			}
			if err == nil {
				t.Fatal("purchase refused without an error")
			}
			// The merchant refused the gateway's AuthRes and told the wallet.
			if code, remote := errCode(t, err); code != msg.RevokedCertificate || !remote {
				t.Fatalf("purchase failed with %v (from merchant: %v), want the merchant's revokedCertificate: %v", code, remote, err)
			}

			mustRevoke(t, l, "gateway-exchange")
			_, err = pay(t, l, 0)
			if err == nil {
				t.Fatal("wallet accepted a revoked gateway key-exchange certificate")
			}
			if code, remote := errCode(t, err); code != msg.RevokedCertificate || remote {
				t.Fatalf("wallet failed with %v (from peer: %v), want its own revokedCertificate: %v", code, remote, err)
			}
		})
	}
}

// TestRevokeCardholderCA: the brand CA revoking the cardholder CA's
// certificate makes every cardholder's purchase fail, though no cardholder
// certificate is listed anywhere.
func TestRevokeCardholderCA(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			l := newLab(t, st, 2)
			mustRevoke(t, l, "cardholder-ca")
			for i := range l.Wallets {
				_, err := pay(t, l, i)
				if err == nil {
					t.Fatalf("cardholder %d bought under a revoked CA", i+1)
				}
				if code, remote := errCode(t, err); code != msg.RevokedCertificate || !remote {
					t.Fatalf("cardholder %d failed with %v, want revokedCertificate: %v", i+1, code, err)
				}
			}
		})
	}
}
