package wallet_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

var (
	resumePass = []byte("resume test passphrase")
	fastKDF    = keyfile.Scrypt{LogN: 10, R: 8, P: 1}
	quickWait  = wallet.WaitOptions{Every: time.Millisecond, Max: 1}
)

// reviewingCA is a cardholder CA holding every request for an operator.
func reviewingCA(t testing.TB, w *regWorld) *ca.CA {
	t.Helper()
	c, err := ca.New(ca.Config{
		Suite: w.st, BrandID: "SETpay", Authority: w.l.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(w.exKey), ExchangeCert: w.exCert, Roots: w.l.Roots, Store: ca.NewMemoryStore(),
		Issuers:      []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: "test policy"}},
		IssuerPolicy: ca.ReviewCardholders{},
		Now:          func() time.Time { return w.t0 },
		Log:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pendedState registers against c, which holds the request, and returns
// the pended registration's sealed state.
func pendedState(t testing.TB, w *regWorld, c *ca.CA) []byte {
	t.Helper()
	cfg := w.config()
	cfg.Answers = nil
	_, err := wallet.Register(context.Background(), wire.ServeFunc(c.Serve), cfg)
	var pe *wallet.PendingError
	if !errors.As(err, &pe) {
		t.Fatalf("Register = %v, want a *PendingError", err)
	}
	sealed, err := pe.Registration.Export(rand.Reader, resumePass, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func onlyPending(t testing.TB, c *ca.CA) msg.Challenge {
	t.Helper()
	ids, err := c.PendingIDs(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("PendingIDs = %v, %v; want one", ids, err)
	}
	return ids[0]
}

// TestResumeRegistration: a pended registration's state, exported and
// resumed in a Registration that shares nothing with the first (as in
// another process), asks after the request, and after approval gets the
// certificate bound to the PANSecret made of the exported CardSecret and
// the CA's NonceCCA; after a refusal, the CertStatus.
func TestResumeRegistration(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			w := newRegWorld(t, st)
			c := reviewingCA(t, w)
			rt := wire.ServeFunc(c.Serve)
			// Only the roots and the clock: suite, card and keys are the state's.
			cfg := wallet.RegisterConfig{Roots: w.l.Roots, Now: func() time.Time { return w.t0 }}

			sealed := pendedState(t, w, c)
			reg, err := wallet.Resume(cfg, sealed, resumePass)
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			var pe *wallet.PendingError
			if _, err := reg.Wait(ctx, rt, quickWait); !errors.As(err, &pe) {
				t.Fatalf("Wait before the decision = %v, want still pending", err)
			}
			if err := c.Decide(ctx, onlyPending(t, c), true); err != nil {
				t.Fatal(err)
			}
			// Resumed again from the same file: the state is all it needs.
			if reg, err = wallet.Resume(cfg, sealed, resumePass); err != nil {
				t.Fatal(err)
			}
			got, err := reg.Wait(ctx, rt, quickWait)
			if err != nil {
				t.Fatalf("Wait after approval: %v", err)
			}
			cert, err := pki.ParseCertificate(got.Cert)
			if err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(st.Hash().New, got.Card.PANSecret[:])
			mac.Write([]byte(got.Card.PAN + got.Card.Expiry))
			if cert.Subject.CommonName != hex.EncodeToString(mac.Sum(nil)) || got.Card.PAN != w.config().Card.PAN {
				t.Error("resumed registration's certificate is not bound to the card's PANSecret")
			}

			sealed = pendedState(t, w, c)
			if err := c.Refuse(ctx, onlyPending(t, c), "card reported stolen"); err != nil {
				t.Fatal(err)
			}
			if reg, err = wallet.Resume(cfg, sealed, resumePass); err != nil {
				t.Fatal(err)
			}
			_, err = reg.Wait(ctx, rt, quickWait)
			var re *wallet.RefusedError
			if !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByIssuer || re.Status.EEMessage != "card reported stolen" {
				t.Fatalf("resumed Wait after refusal = %v, want rejectByIssuer with the reason", err)
			}
		})
	}
}

// TestRenewalHeldForReview: the cardholder CA's IssuerPolicy applies to
// renewals: a renewal is held like a registration, and once approved the
// resumed renewal gets the new certificate for the same card.
func TestRenewalHeldForReview(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			w := newRegWorld(t, st)
			cur, err := wallet.Register(ctx, wire.ServeFunc(w.ca.Serve), w.config())
			if err != nil {
				t.Fatal(err)
			}
			c := reviewingCA(t, w)
			rt := wire.ServeFunc(c.Serve)
			_, err = wallet.Renew(ctx, rt, wallet.RegisterConfig{Suite: st, Roots: w.l.Roots, Now: func() time.Time { return w.t0 }}, cur)
			var pe *wallet.PendingError
			if !errors.As(err, &pe) || pe.Status.CertStatusCode != msg.RequestPended {
				t.Fatalf("Renew at a reviewing CA = %v, want a requestPended *PendingError", err)
			}
			info, err := c.PendingInfo(ctx, onlyPending(t, c))
			if err != nil || info.RequestType != msg.CardRenewalSig {
				t.Fatalf("PendingInfo = %+v, %v; want a cardRenewalSig request", info, err)
			}
			sealed, err := pe.Registration.Export(rand.Reader, resumePass, fastKDF)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Decide(ctx, info.ID, true); err != nil {
				t.Fatal(err)
			}
			reg, err := wallet.Resume(wallet.RegisterConfig{Roots: w.l.Roots, Now: func() time.Time { return w.t0 }}, sealed, resumePass)
			if err != nil {
				t.Fatal(err)
			}
			got, err := reg.Wait(ctx, rt, quickWait)
			if err != nil {
				t.Fatalf("Wait after approving the renewal: %v", err)
			}
			if bytes.Equal(got.Cert, cur.Cert) || got.Card.PAN != cur.Card.PAN || got.Card.PANSecret == cur.Card.PANSecret {
				t.Error("approved renewal did not yield a new certificate with a fresh PANSecret for the same card")
			}
		})
	}
}

// TestResumeRejectsBadState: a sealed state opened with the wrong
// passphrase, altered, truncated, or sealed for another party, and a
// plaintext state truncated, extended or altered anywhere, is refused
// with an error, never a panic or a Registration.
func TestResumeRejectsBadState(t *testing.T) {
	st := suite.NewModern()
	w := newRegWorld(t, st)
	c := reviewingCA(t, w)
	cfg := wallet.RegisterConfig{Roots: w.l.Roots}
	sealed := pendedState(t, w, c)

	if _, err := wallet.Resume(cfg, sealed, []byte("another passphrase")); !errors.Is(err, keyfile.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if _, err := wallet.Resume(cfg, sealed[:len(sealed)/2], resumePass); err == nil {
		t.Error("truncated sealed state resumed")
	}
	k, err := keyfile.Decode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := k.Open(wallet.StateRole, resumePass)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keyfile.Seal(rand.Reader, plain, "pending merchant registration", resumePass, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Resume(cfg, other, resumePass); !errors.Is(err, keyfile.ErrWrongRole) {
		t.Errorf("another party's state: %v, want ErrWrongRole", err)
	}
	k.Ciphertext[len(k.Ciphertext)/2] ^= 1
	der, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	altered := pem.EncodeToMemory(&pem.Block{Type: keyfile.PEMType, Bytes: der})
	if _, err := wallet.Resume(cfg, altered, resumePass); !errors.Is(err, keyfile.ErrWrongPassphrase) {
		t.Errorf("altered sealed state: %v, want ErrWrongPassphrase", err)
	}

	if _, err := wallet.ResumeState(cfg, plain); err != nil {
		t.Fatalf("intact state: %v", err)
	}
	for n := range len(plain) {
		if _, err := wallet.ResumeState(cfg, plain[:n]); !errors.Is(err, wallet.ErrState) {
			t.Fatalf("state truncated to %d of %d bytes: %v, want ErrState", n, len(plain), err)
		}
	}
	if _, err := wallet.ResumeState(cfg, append(bytes.Clone(plain), 0)); !errors.Is(err, wallet.ErrState) {
		t.Errorf("state with a trailing byte: %v, want ErrState", err)
	}
	v3 := bytes.Clone(plain)
	v3[bytes.Index(v3, []byte{0x02, 0x01, 0x02})+2] = 3 // version INTEGER 2 → 3
	if _, err := wallet.ResumeState(cfg, v3); !errors.Is(err, wallet.ErrState) {
		t.Errorf("state of version 3: %v, want ErrState", err)
	}
	set1 := cfg
	set1.Suite = suite.NewSet1(suite.Set1Options{})
	if _, err := wallet.ResumeState(set1, plain); !errors.Is(err, wallet.ErrState) {
		t.Errorf("state resumed under another suite: %v, want ErrState", err)
	}
	// Every single-byte alteration is refused as a bad state or yields
	// one; none panics. (A changed key or identifier still decodes: the CA refuses
	// the inquiry then.)
	for i := range plain {
		b := bytes.Clone(plain)
		b[i] ^= 0x80
		if _, err := wallet.ResumeState(cfg, b); err != nil && !errors.Is(err, wallet.ErrState) {
			t.Fatalf("byte %d altered: %v, want nil or ErrState", i, err)
		}
	}
	// The state records the roots: none need be given, and another one
	// given is refused rather than trusted instead.
	if _, err := wallet.ResumeState(wallet.RegisterConfig{}, plain); err != nil {
		t.Errorf("ResumeState with the recorded roots: %v", err)
	}
	otherRoot := []*pki.Certificate{w.l.Hierarchy.Brand.Cert}
	if _, err := wallet.ResumeState(wallet.RegisterConfig{Roots: otherRoot}, plain); !errors.Is(err, enrol.ErrOtherRoot) {
		t.Errorf("ResumeState with another root: %v, want enrol.ErrOtherRoot", err)
	}
}

// FuzzResumeState: no input makes ResumeState panic.
func FuzzResumeState(f *testing.F) {
	w := newRegWorld(f, suite.NewModern())
	c := reviewingCA(f, w)
	k, err := keyfile.Decode(pendedState(f, w, c))
	if err != nil {
		f.Fatal(err)
	}
	plain, err := k.Open(wallet.StateRole, resumePass)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add([]byte{0x30, 0x00})
	cfg := wallet.RegisterConfig{Roots: w.l.Roots}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := wallet.ResumeState(cfg, b); err != nil && !errors.Is(err, wallet.ErrState) {
			t.Fatalf("ResumeState error does not wrap ErrState: %v", err)
		}
	})
}
