package ca_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// TestHeldRenewalRevokedMeanwhile: a renewal held for the operator whose
// current certificate is revoked while it waits (its key stolen, the
// thief asking) is refused when the operator approves it, with the code a
// fresh renewal gets, and issues nothing. The merchant's is held in a
// MemoryStore and revoked by CRL; the cardholder's in a SQLite file,
// revoked in the CA's own records, and decided after a CA restart.
func TestHeldRenewalRevokedMeanwhile(t *testing.T) {
	st := suite.NewModern() // the check is suite-independent: TestRenewal runs set1
	ctx := context.Background()
	f := newRenewFixture(t, st)
	path := filepath.Join(t.TempDir(), "cca.db")
	db := openSQLite(t, path)
	f.ccaStore = ca.NewSQLStore(db, 0)
	f.build(t)
	shop, err := merchant.Register(ctx, f.mcaRT, f.merchantConfig(merID, merName))
	if err != nil {
		t.Fatal(err)
	}
	w0, err := wallet.Register(ctx, f.ccaRT, f.walletConfig(visaPAN))
	if err != nil {
		t.Fatal(err)
	}
	f.review = true
	f.build(t)

	t.Run("merchant", func(t *testing.T) {
		_, err := merchant.Renew(ctx, f.mcaRT, f.merchantConfig(merID, merName), shop)
		var pe *merchant.PendingError
		if !errors.As(err, &pe) {
			t.Fatalf("merchant.Renew = %v, want held", err)
		}
		if err := f.lab.Revoke(shop.SigCert, pki.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
		f.noneIssued(t, func() {
			if err := f.mca.Decide(ctx, pendingID(t, f.mca), true); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			_, err := pe.Registration.Wait(ctx, f.mcaRT, quick)
			wantCode(t, err, msg.RevokedCertificate)
		})
		if ids, err := f.mca.PendingIDs(ctx); err != nil || len(ids) != 0 {
			t.Errorf("PendingIDs after the decision = %v, %v", ids, err)
		}
	})

	t.Run("cardholder after a restart", func(t *testing.T) {
		f.now = f.now.Add(time.Hour)
		_, err := wallet.Renew(ctx, f.ccaRT, f.walletConfig(visaPAN), w0)
		var pe *wallet.PendingError
		if !errors.As(err, &pe) {
			t.Fatalf("wallet.Renew = %v, want held", err)
		}
		cur, err := pki.ParseCertificate(w0.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Revoke(ctx, &store.Revocation{Serial: cur.SerialNumber, Time: f.now, Reason: int(pki.ReasonKeyCompromise)}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		f.ccaStore = ca.NewSQLStore(openSQLite(t, path), 0)
		f.build(t)
		f.noneIssued(t, func() {
			if err := f.cca.Decide(ctx, pendingID(t, f.cca), true); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			_, err := pe.Registration.Wait(ctx, f.ccaRT, wallet.WaitOptions{Every: time.Millisecond, Max: 2})
			wantCode(t, err, msg.RevokedCertificate)
		})
	})
}
