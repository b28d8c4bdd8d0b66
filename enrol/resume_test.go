package enrol_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

var (
	resumePass = []byte("resume test passphrase")
	fastKDF    = keyfile.Scrypt{LogN: 10, R: 8, P: 1}
	quickWait  = merchant.WaitOptions{Every: time.Millisecond, Max: 1}
	merRole    = enrol.Role{Who: "merchant", RequestType: msg.MerInitialBoth, CAType: pki.CertTypeMCA, EEType: pki.CertTypeMer}
)

// reviewWorld is a merchant CA that holds every registration its
// acquirer's records approve for an operator's decision.
type reviewWorld struct {
	st   suite.Suite
	l    *lab.Lab
	mca  *ca.CA
	now  time.Time
	cfg  merchant.RegisterConfig
	bare merchant.RegisterConfig // what resuming needs: the roots and the clock
}

func newReviewWorld(t testing.TB, st suite.Suite) *reviewWorld {
	t.Helper()
	open := func() *sqlite.DB {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	w := &reviewWorld{st: st, now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return w.now }
	quiet := slog.New(slog.DiscardHandler)
	var err error
	if w.l, err = lab.New(lab.Options{Suite: st, MerchantStore: open(), GatewayStore: open(), Now: clock, MerchantLog: quiet, GatewayLog: quiet}); err != nil {
		t.Fatal(err)
	}
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{{AcquirerBIN: "400000", MerID: "MER-0042", Name: "Harbour Books", City: "Springfield"}}}
	w.mca, _, err = lab.NewRegistrationCA(ca.Config{
		Suite: st, BrandID: "SETpay", Authority: w.l.Hierarchy.MCA, Roots: w.l.Roots, Store: ca.NewMemoryStore(),
		Acquirer: ca.ReviewAcquirer{AcquirerPolicy: records}, Now: clock, Log: quiet,
	}, w.l.Hierarchy.Brand, pki.CertTypeMCA, w.now)
	if err != nil {
		t.Fatal(err)
	}
	w.cfg = merchant.RegisterConfig{
		Suite: st, BrandID: "SETpay", MerchantID: "MER-0042", AcquirerBIN: "400000", Roots: w.l.Roots,
		Answers: map[string]string{ca.FieldLegalName: "Harbour Books"}, Now: clock,
	}
	w.bare = merchant.RegisterConfig{Roots: w.l.Roots, Now: clock}
	return w
}

func (w *reviewWorld) rt() wire.RoundTripper { return wire.ServeFunc(w.mca.Serve) }

// pended registers, which the CA holds, and returns the sealed state.
func (w *reviewWorld) pended(t testing.TB) []byte {
	t.Helper()
	_, err := merchant.Register(context.Background(), w.rt(), w.cfg)
	var pe *merchant.PendingError
	if !errors.As(err, &pe) || pe.Status.CertStatusCode != msg.RequestPended {
		t.Fatalf("Register = %v, want a requestPended *PendingError", err)
	}
	sealed, err := pe.Registration.Export(rand.Reader, resumePass, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func (w *reviewWorld) onlyPending(t testing.TB) msg.Challenge {
	t.Helper()
	ids, err := w.mca.PendingIDs(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("PendingIDs = %v, %v; want one", ids, err)
	}
	return ids[0]
}

// TestResumeRegistration: a pended merchant registration, exported and
// resumed from nothing but the file, the roots and the passphrase, gets
// after approval both certificates for the keys the first process made;
// after a refusal, the CertStatus.
func TestResumeRegistration(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st)
			sealed := w.pended(t)
			reg, err := merchant.Resume(w.bare, sealed, resumePass)
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			var pe *merchant.PendingError
			if _, err := reg.Wait(ctx, w.rt(), quickWait); !errors.As(err, &pe) {
				t.Fatalf("Wait before the decision = %v, want still pending", err)
			}
			if err := w.mca.Decide(ctx, w.onlyPending(t), true); err != nil {
				t.Fatal(err)
			}
			if reg, err = merchant.Resume(w.bare, sealed, resumePass); err != nil {
				t.Fatal(err)
			}
			got, err := reg.Wait(ctx, w.rt(), quickWait)
			if err != nil {
				t.Fatalf("Wait after approval: %v", err)
			}
			sig, err := pki.ParseCertificate(got.SigCert)
			if err != nil {
				t.Fatal(err)
			}
			if spki, _ := pki.MarshalPublicKey(got.RawSigKey.Public()); !bytes.Equal(spki, sig.RawSubjectPublicKeyInfo) || got.ExCert == nil {
				t.Error("resumed registration's certificates are not for the exported keys")
			}

			sealed = w.pended(t)
			if err := w.mca.Refuse(ctx, w.onlyPending(t), "no such shop"); err != nil {
				t.Fatal(err)
			}
			if reg, err = merchant.Resume(w.bare, sealed, resumePass); err != nil {
				t.Fatal(err)
			}
			_, err = reg.Wait(ctx, w.rt(), quickWait)
			var re *merchant.RefusedError
			if !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByAgent || re.Status.EEMessage != "no such shop" {
				t.Fatalf("resumed Wait after refusal = %v, want rejectByAgent with the reason", err)
			}
		})
	}
}

// TestResumeRejectsBadState: the wrong passphrase, an altered or
// truncated file, another role's state, and a plaintext state truncated,
// extended, of another version or suite or altered anywhere are refused
// with an error, never a panic.
func TestResumeRejectsBadState(t *testing.T) {
	w := newReviewWorld(t, suite.NewModern())
	sealed := w.pended(t)
	id := func(c *enrol.Credentials) *enrol.Credentials { return c }
	cfg := enrol.Config{Roots: w.l.Roots}

	if _, err := merchant.Resume(w.bare, sealed, []byte("another passphrase")); !errors.Is(err, keyfile.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if _, err := merchant.Resume(w.bare, sealed[:len(sealed)/2], resumePass); err == nil {
		t.Error("truncated sealed state resumed")
	}
	if _, err := gateway.Resume(gateway.RegisterConfig{Roots: w.l.Roots}, sealed, resumePass); !errors.Is(err, keyfile.ErrWrongRole) {
		t.Errorf("merchant state resumed as a gateway's: %v, want ErrWrongRole", err)
	}
	k, err := keyfile.Decode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := k.Open(merRole.StateRole(), resumePass)
	if err != nil {
		t.Fatal(err)
	}
	k.Ciphertext[0] ^= 1
	der, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := merchant.Resume(w.bare, pem.EncodeToMemory(&pem.Block{Type: keyfile.PEMType, Bytes: der}), resumePass); !errors.Is(err, keyfile.ErrWrongPassphrase) {
		t.Errorf("altered sealed state: %v, want ErrWrongPassphrase", err)
	}

	if _, err := enrol.ResumeState(merRole, cfg, plain, id); err != nil {
		t.Fatalf("intact state: %v", err)
	}
	gw := enrol.Role{Who: "gateway", RequestType: msg.PgwyInitialBoth, CAType: pki.CertTypePCA, EEType: pki.CertTypePgwy}
	if _, err := enrol.ResumeState(gw, cfg, plain, id); !errors.Is(err, enrol.ErrState) {
		t.Errorf("merchant state under the gateway role: %v, want ErrState", err)
	}
	for n := range len(plain) {
		if _, err := enrol.ResumeState(merRole, cfg, plain[:n], id); !errors.Is(err, enrol.ErrState) {
			t.Fatalf("state truncated to %d of %d bytes: %v, want ErrState", n, len(plain), err)
		}
	}
	if _, err := enrol.ResumeState(merRole, cfg, append(bytes.Clone(plain), 0), id); !errors.Is(err, enrol.ErrState) {
		t.Errorf("state with a trailing byte: %v, want ErrState", err)
	}
	v2 := bytes.Clone(plain)
	v2[bytes.Index(v2, []byte{0x02, 0x01, 0x01})+2] = 2
	if _, err := enrol.ResumeState(merRole, cfg, v2, id); !errors.Is(err, enrol.ErrState) {
		t.Errorf("state of version 2: %v, want ErrState", err)
	}
	set1 := cfg
	set1.Suite = suite.NewSet1(suite.Set1Options{})
	if _, err := enrol.ResumeState(merRole, set1, plain, id); !errors.Is(err, enrol.ErrState) {
		t.Errorf("state resumed under another suite: %v, want ErrState", err)
	}
	for i := range plain {
		b := bytes.Clone(plain)
		b[i] ^= 0x80
		if _, err := enrol.ResumeState(merRole, cfg, b, id); err != nil && !errors.Is(err, enrol.ErrState) {
			t.Fatalf("byte %d altered: %v, want nil or ErrState", i, err)
		}
	}
	if _, err := enrol.ResumeState(merRole, enrol.Config{}, plain, id); err == nil {
		t.Error("ResumeState without roots succeeded")
	}
}

// TestMarshalStateBeforeCertReq: there is no state to keep before a
// CertReq made the keys.
func TestMarshalStateBeforeCertReq(t *testing.T) {
	w := newReviewWorld(t, suite.NewModern())
	reg, _, err := merchant.NewRegistration(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.MarshalState(); !errors.Is(err, enrol.ErrState) {
		t.Errorf("MarshalState before CertReq: %v, want ErrState", err)
	}
}

// FuzzResumeState: no input makes ResumeState panic, and every error
// about the state wraps ErrState.
func FuzzResumeState(f *testing.F) {
	w := newReviewWorld(f, suite.NewModern())
	k, err := keyfile.Decode(w.pended(f))
	if err != nil {
		f.Fatal(err)
	}
	plain, err := k.Open(merRole.StateRole(), resumePass)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add([]byte{0x30, 0x00})
	cfg := enrol.Config{Roots: w.l.Roots}
	id := func(c *enrol.Credentials) *enrol.Credentials { return c }
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := enrol.ResumeState(merRole, cfg, b, id); err != nil && !errors.Is(err, enrol.ErrState) {
			t.Fatalf("ResumeState error does not wrap ErrState: %v", err)
		}
	})
}
