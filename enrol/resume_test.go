package enrol_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

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
	v3 := bytes.Clone(plain)
	v3[bytes.Index(v3, []byte{0x02, 0x01, 0x02})+2] = 3
	if _, err := enrol.ResumeState(merRole, cfg, v3, id); !errors.Is(err, enrol.ErrState) {
		t.Errorf("state of version 3: %v, want ErrState", err)
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
	v1 := stateV1(t, plain)
	if _, err := enrol.ResumeState(merRole, enrol.Config{}, v1, id); !errors.Is(err, enrol.ErrState) {
		t.Errorf("version 1 state without roots: %v, want ErrState", err)
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

// stateV1 rewrites a version 2 state as the version 1 state an older
// setpay saved: the same fields without caURL and roots.
func stateV1(t testing.TB, v2 []byte) []byte {
	t.Helper()
	in := cryptobyte.String(v2)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		t.Fatal("state is no SEQUENCE")
	}
	var elems [][]byte
	for !seq.Empty() {
		var e cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&e, &tag) {
			t.Fatal("state element")
		}
		elems = append(elems, e)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		for _, e := range elems[1 : len(elems)-2] {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

// TestResumeOrigin: the state records the CA's URL and the roots, so a
// resumed registration needs neither; given roots must be the recorded
// ones (another root is refused, not trusted instead); a version 1 state,
// which records neither, still resumes with the roots given.
func TestResumeOrigin(t *testing.T) {
	ctx := context.Background()
	w := newReviewWorld(t, suite.NewModern())
	_, err := merchant.Register(ctx, w.rt(), w.cfg)
	var pe *merchant.PendingError
	if !errors.As(err, &pe) {
		t.Fatalf("Register = %v, want a *PendingError", err)
	}
	pe.Registration.SetCAURL("http://127.0.0.1:1/mca")
	plain, err := pe.Registration.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	id := func(c *enrol.Credentials) *enrol.Credentials { return c }
	reg, err := enrol.ResumeState(merRole, enrol.Config{Now: w.bare.Now}, plain, id)
	if err != nil {
		t.Fatalf("ResumeState with no roots given: %v", err)
	}
	o := reg.Origin()
	if o.CAURL != "http://127.0.0.1:1/mca" || len(o.Roots) != 1 || !bytes.Equal(o.Roots[0], w.l.Roots[0].Raw) {
		t.Errorf("resumed Origin = %q with %d roots, want the URL and root recorded", o.CAURL, len(o.Roots))
	}
	if reg.Renewal() {
		t.Error("a first registration resumed as a renewal")
	}
	if err := w.mca.Decide(ctx, w.onlyPending(t), true); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Wait(ctx, w.rt(), quickWait); err != nil {
		t.Fatalf("Wait with the recorded roots: %v", err)
	}

	if _, err := enrol.ResumeState(merRole, enrol.Config{Roots: w.l.Roots}, plain, id); err != nil {
		t.Errorf("ResumeState with the recorded root given: %v", err)
	}
	other := selfSigned(t)
	if _, err := enrol.ResumeState(merRole, enrol.Config{Roots: []*pki.Certificate{other}}, plain, id); !errors.Is(err, enrol.ErrOtherRoot) || !errors.Is(err, enrol.ErrState) {
		t.Errorf("ResumeState with another root: %v, want ErrOtherRoot", err)
	}

	v1 := stateV1(t, plain)
	reg, err = enrol.ResumeState(merRole, enrol.Config{Roots: w.l.Roots}, v1, id)
	if err != nil {
		t.Fatalf("version 1 state with the roots given: %v", err)
	}
	if o := reg.Origin(); o.CAURL != "" || len(o.Roots) != 1 {
		t.Errorf("version 1 state's Origin = %+v, want no URL and the roots given", o)
	}
	if _, err := enrol.ResumeState(merRole, enrol.Config{Roots: []*pki.Certificate{other}}, v1, id); err != nil {
		t.Errorf("version 1 state records no root to refuse another by: %v", err)
	}
}

// selfSigned is a root nothing in the lab chains to.
func selfSigned(t testing.TB) *pki.Certificate {
	t.Helper()
	st := suite.NewModern()
	key, err := st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, err := pki.CreateCertificate(rand.Reader, &pki.Template{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "another root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), PublicKey: key.Public(),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, CertType: pki.CertTypeRCA,
	}, nil, key, st.Hash())
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestErrorOrigin: a registration checks the signature of an Error the
// CA answers with against its roots. The CA's own signed Error is
// reported as verified; an unsigned one (anyone on the path could send
// it) as unsigned.
func TestErrorOrigin(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st)
			cfg := w.cfg
			cfg.BrandID = "NoSuchBrand"
			_, err := merchant.Register(ctx, w.rt(), cfg)
			var pe *wire.PeerError
			if !errors.As(err, &pe) || pe.Origin != wire.ErrorVerified {
				t.Fatalf("Register under an unknown brand = %v, want the CA's Error, signature verified", err)
			}

			unsigned := &wire.Endpoint{Suite: st}
			forged := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
				return unsigned.Serve(ctx, req, func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
					return nil, msg.Errorf(msg.UnspecifiedFailure, "not the CA")
				})
			})
			_, err = merchant.Register(ctx, forged, w.cfg)
			if !errors.As(err, &pe) || pe.Origin != wire.ErrorUnsigned {
				t.Fatalf("Register against an unsigned Error = %v, want an unsigned PeerError", err)
			}
		})
	}
}

// TestResumeHeldRenewal: a renewal the CA holds is saved like a
// registration; resumed from the state alone, it is a renewal, and after
// the operator approves it collects certificates for the renewal's new
// keys, not the current ones.
func TestResumeHeldRenewal(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st)
			_, err := merchant.Register(ctx, w.rt(), w.cfg)
			var pe *merchant.PendingError
			if !errors.As(err, &pe) {
				t.Fatalf("Register = %v, want a *PendingError", err)
			}
			if err := w.mca.Decide(ctx, w.onlyPending(t), true); err != nil {
				t.Fatal(err)
			}
			cur, err := pe.Registration.Wait(ctx, w.rt(), quickWait)
			if err != nil {
				t.Fatal(err)
			}

			_, err = merchant.Renew(ctx, w.rt(), w.cfg, cur)
			if !errors.As(err, &pe) || pe.Status.CertStatusCode != msg.RequestPended {
				t.Fatalf("Renew at a reviewing CA = %v, want a requestPended *PendingError", err)
			}
			pe.Registration.SetCAURL("http://127.0.0.1:1/mca")
			sealed, err := pe.Registration.Export(rand.Reader, resumePass, fastKDF)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := merchant.Resume(merchant.RegisterConfig{Now: w.bare.Now}, sealed, resumePass)
			if err != nil {
				t.Fatalf("Resume of a held renewal: %v", err)
			}
			if !reg.Renewal() {
				t.Error("a held renewal resumed as a first registration")
			}
			if err := w.mca.Decide(ctx, w.onlyPending(t), true); err != nil {
				t.Fatal(err)
			}
			got, err := reg.Wait(ctx, w.rt(), quickWait)
			if err != nil {
				t.Fatalf("Wait after approval: %v", err)
			}
			if bytes.Equal(got.SigCert, cur.SigCert) {
				t.Fatal("the renewal returned the current certificate")
			}
			sig, err := pki.ParseCertificate(got.SigCert)
			if err != nil {
				t.Fatal(err)
			}
			if spki, _ := pki.MarshalPublicKey(got.RawSigKey.Public()); !bytes.Equal(spki, sig.RawSubjectPublicKeyInfo) {
				t.Error("renewed certificate is not for the renewal's new key")
			}
			if spki, _ := pki.MarshalPublicKey(cur.RawSigKey.Public()); bytes.Equal(spki, sig.RawSubjectPublicKeyInfo) {
				t.Error("renewed certificate is for the current key")
			}
		})
	}
}
