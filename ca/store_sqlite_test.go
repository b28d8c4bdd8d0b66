package ca_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

func openSQLite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The SQLStore must behave as MemoryStore does: these mirror its tests.
func TestSQLStoreChallengeSingleUse(t *testing.T) {
	ctx := context.Background()
	s := ca.NewSQLStore(openSQLite(t, ":memory:"), 0)
	ch := msg.Challenge{1}
	want := ca.Challenge{Issued: time.Unix(1000, 5).UTC(), PANMAC: []byte{9}, RegFormID: 3}
	if err := s.PutChallenge(ctx, ch, want); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChallenge(ctx, ch, want); err == nil {
		t.Error("the same chall-CA was stored twice")
	}
	got, err := s.TakeChallenge(ctx, ch)
	if err != nil || got.RegFormID != 3 || !got.Issued.Equal(want.Issued) || !bytes.Equal(got.PANMAC, want.PANMAC) {
		t.Fatalf("TakeChallenge = %+v, %v", got, err)
	}
	if _, err := s.TakeChallenge(ctx, ch); !errors.Is(err, ca.ErrNoChallenge) {
		t.Fatalf("second TakeChallenge: %v, want ErrNoChallenge", err)
	}
}

func TestSQLStoreKeys(t *testing.T) {
	ctx := context.Background()
	s := ca.NewSQLStore(openSQLite(t, ":memory:"), 0)
	if err := s.RecordKey(ctx, []byte("k1")); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKey(ctx, []byte("k2")); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKey(ctx, []byte("k1")); !errors.Is(err, ca.ErrKeyCertified) {
		t.Fatalf("second RecordKey: %v, want ErrKeyCertified", err)
	}
}

// TestSQLStorePurges checks the database's bound on outstanding challenges:
// expired ones are purged as new ones arrive.
func TestSQLStorePurges(t *testing.T) {
	ctx := context.Background()
	s := ca.NewSQLStore(openSQLite(t, ":memory:"), 30*time.Minute)
	t0 := time.Unix(1e9, 0)
	if err := s.PutChallenge(ctx, msg.Challenge{0, 1}, ca.Challenge{Issued: t0, PANMAC: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	// 300 puts an hour later: the old one has expired by the purge.
	for i := range 300 {
		if err := s.PutChallenge(ctx, msg.Challenge{1, byte(i), byte(i >> 8)}, ca.Challenge{Issued: t0.Add(time.Hour), PANMAC: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.TakeChallenge(ctx, msg.Challenge{0, 1}); !errors.Is(err, ca.ErrNoChallenge) {
		t.Errorf("expired challenge: %v, want it purged", err)
	}
	if _, err := s.TakeChallenge(ctx, msg.Challenge{1, 7}); err != nil {
		t.Errorf("fresh challenge was purged: %v", err)
	}
}

// TestSQLStoreRestart runs a CA over a database file, stops it, and starts
// another CA on the same file: a chall-CA handed out before the restart is
// good once after it, and a key certified before it is still refused.
func TestSQLStoreRestart(t *testing.T) {
	st := suite.NewModern()
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
	path := filepath.Join(t.TempDir(), "ca.db")
	// The restarted CA recognises the card a remembered challenge was
	// issued for because it derives the binding key from its own private
	// key; nothing else carries over but the database.
	start := func() *sqlite.DB {
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f.ca, err = ca.New(ca.Config{
			Suite: st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
			ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: f.exCert,
			Roots: f.lab.Roots, Store: ca.NewSQLStore(db, 0), Now: func() time.Time { return f.now },
			Issuers: []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: policyText}},
			Log:     slog.New(countIssued{&f.issued}),
		})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}

	db := start()
	reused := wallet.RegisterConfig{Suite: st, Roots: f.lab.Roots, Key: f.newKey(t),
		Card: wallet.Card{PAN: visaPAN, Expiry: f.now.AddDate(2, 0, 0).Format("200601"), BrandID: "SETpay"},
		Now:  func() time.Time { return f.now }}
	first, err := wallet.Register(ctx, f.rt(), reused)
	if err != nil {
		t.Fatal(err)
	}
	pending := reused
	pending.Key = nil
	reg, res := f.toRegFormRes(t, pending)
	req, err := reg.HandleRegFormRes(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = start()
	defer db.Close()
	m, err := f.call(t, req)
	if err != nil {
		t.Fatalf("CertReq with a chall-CA from before the restart: %v", err)
	}
	if _, err := reg.HandleCertRes(m.(*msg.CertRes)); err != nil {
		t.Fatal(err)
	}
	before := f.issued.Load()
	_, err = f.call(t, req)
	wantCode(t, err, msg.ChallengeMismatch)

	reused.Card.PAN = otherVisa
	_, err = wallet.Register(ctx, f.rt(), reused)
	wantStatus(t, err, msg.RejectByAgent)
	if f.issued.Load() != before {
		t.Error("a certificate was issued after the restart for a replay or a reused key")
	}

	// The CA recorded the certificate it issued, before answering, so it
	// can be revoked by serial; recording it twice is refused.
	cert, err := pki.ParseCertificate(first.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.NewSQLStore(db, 0).RecordIssued(ctx, cert); err == nil {
		t.Error("the CA had not recorded the certificate it issued")
	}
	got, err := db.IssuedCert(ctx, cert.SerialNumber)
	if err != nil || !bytes.Equal(got.DER, first.Cert) || got.CertType != int(pki.CertTypeCard) || !got.NotAfter.Equal(cert.NotAfter) {
		t.Fatalf("IssuedCert = %+v, %v", got, err)
	}
}
