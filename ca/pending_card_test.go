package ca_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

var quickCard = wallet.WaitOptions{Every: time.Millisecond, Max: 1}

// TestCardholderPending: with an issuer policy holding every request, a
// cardholder CertReq is answered requestPended and nothing is issued. The
// pending request survives a restart of the CA on its SQLite file; an
// operator's CA on another handle of the same file (another process,
// in effect) sees it and decides; the serving CA delivers the decision to
// the wallet's next CertInqReq, encrypted under the CABackKey: a
// certificate bound to the card's PANSecret when approved, rejectByIssuer
// with the operator's reason when refused.
func TestCardholderPending(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, st)
			exKey, err := st.NewExchangeKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			f.exCert, err = ca.IssueExchangeCert(rand.Reader, f.lab.Hierarchy.Brand, exKey.Public(), "SETpay Cardholder CA", f.now)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "cca.db")
			open := func() (*ca.CA, *sqlite.DB) {
				db, err := sqlite.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				c, err := ca.New(ca.Config{
					Suite: st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
					ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: f.exCert,
					Roots: f.lab.Roots, Store: ca.NewSQLStore(db, 0), Now: func() time.Time { return f.now },
					Issuers:      []ca.Issuer{{BINLow: "400000", BINHigh: "599999", Policy: policyText}},
					IssuerPolicy: ca.ReviewCardholders{},
					Log:          slog.New(countIssued{&f.issued}),
				})
				if err != nil {
					t.Fatal(err)
				}
				return c, db
			}
			serving, db := open()
			cfg := f.regConfig(visaPAN)
			cfg.Answers = nil
			_, err = wallet.Register(ctx, wire.ServeFunc(serving.Serve), cfg)
			var pe *wallet.PendingError
			if !errors.As(err, &pe) || pe.Status.CertStatusCode != msg.RequestPended || pe.Status.NonceCCA != nil {
				t.Fatalf("wallet.Register = %v, want a requestPended PendingError without NonceCCA", err)
			}
			_, err = pe.Registration.Wait(ctx, wire.ServeFunc(serving.Serve), quickCard)
			if !errors.As(err, &pe) {
				t.Fatalf("Wait before the decision = %v, want still pending", err)
			}
			if n := f.issued.Load(); n != 0 {
				t.Fatalf("%d issuance records while pending", n)
			}

			// Restart the serving CA; the operator's CA opens the same file.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			serving, _ = open()
			operator, _ := open()
			id := pendingID(t, operator)
			info, err := operator.PendingInfo(ctx, id)
			if err != nil || info.RequestType != msg.CardInitialSig || !strings.Contains(info.Subject, "400000-599999") || strings.Contains(info.Subject, visaPAN[6:]) {
				t.Fatalf("PendingInfo = %+v, %v", info, err)
			}
			if err := operator.Decide(ctx, id, true); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if err := serving.Decide(ctx, id, true); !errors.Is(err, ca.ErrDecided) {
				t.Errorf("Decide by the other process after the decision = %v, want ErrDecided", err)
			}
			reg, err := pe.Registration.Wait(ctx, wire.ServeFunc(serving.Serve), quickCard)
			if err != nil {
				t.Fatalf("Wait after approval: %v", err)
			}
			// HandleCertRes already holds the subject to the PANSecret made of
			// the CardSecret and the delivered NonceCCA.
			cert, err := pki.ParseCertificate(reg.Cert)
			if err != nil {
				t.Fatal(err)
			}
			if cert.CertType != pki.CertTypeCard || reg.Card.PANSecret == (msg.Secret{}) {
				t.Errorf("certificate type %v, PANSecret set %v", cert.CertType, reg.Card.PANSecret != msg.Secret{})
			}
			if n := f.issued.Load(); n != 1 {
				t.Errorf("%d issuance records after approval, want 1", n)
			}
			_, err = pe.Registration.Wait(ctx, wire.ServeFunc(serving.Serve), quickCard)
			wantCode(t, err, msg.UnknownLID)

			// A refusal reaches the wallet with its code and the reason.
			_, err = wallet.Register(ctx, wire.ServeFunc(serving.Serve), f.regConfig(mcPAN))
			if !errors.As(err, &pe) {
				t.Fatalf("second wallet.Register = %v, want a PendingError", err)
			}
			id = pendingID(t, operator)
			if err := operator.Refuse(ctx, id, "caf\u00e9"); err == nil {
				t.Error("Refuse accepted a reason that is no VisibleString")
			}
			if err := operator.Refuse(ctx, id, "no such account"); err != nil {
				t.Fatal(err)
			}
			_, err = pe.Registration.Wait(ctx, wire.ServeFunc(serving.Serve), quickCard)
			re := wantStatus(t, err, msg.RejectByIssuer)
			if re.Status.EEMessage != "no such account" || !strings.Contains(err.Error(), "rejectByIssuer") {
				t.Errorf("refusal %q, message %q", err, re.Status.EEMessage)
			}
			if err := operator.Decide(ctx, id, true); !errors.Is(err, ca.ErrNoPending) {
				t.Errorf("Decide after delivery = %v, want ErrNoPending", err)
			}
			if n := f.issued.Load(); n != 1 {
				t.Errorf("%d issuance records after a refusal, want 1", n)
			}
		})
	}
}

// TestCardholderPolicyRefusal: an issuer policy's refusal is a CertRes
// with its code, and a CA without a policy issues at once (the default).
func TestCardholderPolicyRefusal(t *testing.T) {
	f := newFixture(t, suites()[0])
	ctx := context.Background()
	exKey, err := f.st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	exCert, err := ca.IssueExchangeCert(rand.Reader, f.lab.Hierarchy.Brand, exKey.Public(), "SETpay Cardholder CA", f.now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.New(ca.Config{
		Suite: f.st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: exCert,
		Roots: f.lab.Roots, Store: ca.NewMemoryStore(), Now: func() time.Time { return f.now },
		Issuers:      []ca.Issuer{{BINLow: "510000", BINHigh: "559999", Policy: policyText}},
		IssuerPolicy: refusing{},
		Log:          quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wallet.Register(ctx, wire.ServeFunc(c.Serve), f.regConfig(mcPAN))
	wantStatus(t, err, msg.RejectByIssuer)
	if _, err := wallet.Register(ctx, f.rt(), f.regConfig(mcPAN)); err != nil {
		t.Fatalf("a CA without an issuer policy: %v", err)
	}
}

type refusing struct{}

func (refusing) Approve(context.Context, *ca.Cardholder) error {
	return &ca.Refusal{Code: msg.RejectByIssuer, Message: "account closed"}
}
