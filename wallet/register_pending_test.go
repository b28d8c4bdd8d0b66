package wallet_test

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
)

// TestRegisterPendingOverHTTP: a cardholder CA holding requests for
// review, served over loopback HTTP. Register answers a *PendingError;
// Wait keeps asking with CertInqReq while undecided, and after the
// operator approves gets the certificate, bound to the PANSecret made of
// the CardSecret and the NonceCCA the CA drew when the request came. A
// refusal reaches Wait as a *RefusedError carrying the CertStatus.
func TestRegisterPendingOverHTTP(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			w := newRegWorld(t, st)
			c, err := ca.New(ca.Config{
				Suite: st, BrandID: "SETpay", Authority: w.l.Hierarchy.CCA,
				ExchangeKey: ca.NewExchangeKey(w.exKey), ExchangeCert: w.exCert, Roots: w.l.Roots, Store: ca.NewMemoryStore(),
				Issuers:      []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: "test policy"}},
				IssuerPolicy: ca.ReviewCardholders{},
				Now:          func() time.Time { return w.t0 },
				Log:          slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(transport.Handler(c.Serve, slog.New(slog.DiscardHandler)))
			defer srv.Close()
			rt := &transport.Client{URL: srv.URL}
			opts := wallet.WaitOptions{Every: time.Millisecond, Max: 2}

			cfg := w.config()
			cfg.Answers = nil
			_, err = wallet.Register(ctx, rt, cfg)
			var pe *wallet.PendingError
			if !errors.As(err, &pe) || pe.Status.CertStatusCode != msg.RequestPended {
				t.Fatalf("Register = %v, want a requestPended *PendingError", err)
			}
			if _, err := pe.Registration.Wait(ctx, rt, opts); !errors.As(err, &pe) {
				t.Fatalf("Wait before the decision = %v, want still pending", err)
			}
			ids, err := c.PendingIDs(ctx)
			if err != nil || len(ids) != 1 {
				t.Fatalf("PendingIDs = %v, %v", ids, err)
			}
			if err := c.Decide(ctx, ids[0], true); err != nil {
				t.Fatal(err)
			}
			reg, err := pe.Registration.Wait(ctx, rt, opts)
			if err != nil {
				t.Fatalf("Wait after approval: %v", err)
			}
			cert, err := pki.ParseCertificate(reg.Cert)
			if err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(st.Hash().New, reg.Card.PANSecret[:])
			mac.Write([]byte(reg.Card.PAN + reg.Card.Expiry))
			if cert.Subject.CommonName != hex.EncodeToString(mac.Sum(nil)) || reg.Card.CardSecret == reg.Card.PANSecret {
				t.Error("certificate subject is not the PANSecret hash of the card")
			}

			_, err = wallet.Register(ctx, rt, cfg)
			if !errors.As(err, &pe) {
				t.Fatalf("second Register = %v, want a *PendingError", err)
			}
			if ids, err = c.PendingIDs(ctx); err != nil || len(ids) != 1 {
				t.Fatalf("PendingIDs = %v, %v", ids, err)
			}
			if err := c.Refuse(ctx, ids[0], "card reported stolen"); err != nil {
				t.Fatal(err)
			}
			_, err = pe.Registration.Wait(ctx, rt, opts)
			var re *wallet.RefusedError
			if !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByIssuer || re.Status.EEMessage != "card reported stolen" {
				t.Fatalf("Wait after refusal = %v, want rejectByIssuer with the reason", err)
			}
		})
	}
}

// TestCertInqReqBeforeCertReq: there is nothing to ask after before the
// CertReq made the key the inquiry is signed with.
func TestCertInqReqBeforeCertReq(t *testing.T) {
	w := newRegWorld(t, suite.NewModern())
	reg, _, err := wallet.NewRegistration(w.config())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CertInqReq(); err == nil {
		t.Error("CertInqReq before any CertReq succeeded")
	}
}
