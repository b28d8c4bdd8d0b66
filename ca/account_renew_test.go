package ca_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wallet"
)

// TestRenewAccount renews a bank-account holder's certificate over the
// protocol: a new key and certificate for the same account, bound under a
// fresh secret derived from the current one, the IBAN in no encoding. A
// holder who knows another account's number but not its certificate's
// secret is refused, and so is a renewal that keeps the key.
func TestRenewAccount(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := accountFixture(t, st)
			aliceKey, err := st.NewSigningKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			acfg := f.accountConfig(acctIBAN)
			acfg.Key = aliceKey
			alice, err := wallet.Register(ctx, f.rt(), acfg)
			if err != nil {
				t.Fatal(err)
			}
			bob, err := wallet.Register(ctx, f.rt(), f.accountConfig(otherIBAN))
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(24 * time.Hour)

			renewed, err := wallet.Renew(ctx, f.rt(), f.accountConfig(acctIBAN), alice)
			if err != nil {
				t.Fatalf("wallet.Renew: %v", err)
			}
			o, err := pki.ParseCertificate(alice.Cert)
			if err != nil {
				t.Fatal(err)
			}
			n, err := pki.ParseCertificate(renewed.Cert)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(o.RawSubjectPublicKeyInfo, n.RawSubjectPublicKeyInfo) || o.SerialNumber.Cmp(n.SerialNumber) == 0 {
				t.Error("renewal kept the key or the serial")
			}
			acct := msg.BankAccount{IBAN: acctIBAN}
			if renewed.Card.Account == nil || *renewed.Card.Account != acct {
				t.Errorf("renewed credentials name %v, want the same account", renewed.Card.Account)
			}
			if renewed.Card.PANSecret == alice.Card.PANSecret || renewed.Card.CardSecret != alice.Card.PANSecret {
				t.Error("the renewed secret is not fresh, or not derived from the current one")
			}
			if n.Subject.CommonName != acct.HolderID(st.Hash(), renewed.Card.PANSecret) {
				t.Error("the renewed certificate does not name the account's holder ID under the new secret")
			}
			for name, b := range ibanForms(acctIBAN) {
				if bytes.Contains(renewed.Cert, b) {
					t.Errorf("renewed certificate contains the account as %s", name)
				}
			}

			t.Run("someone else's account", func(t *testing.T) {
				// Bob, with his own certificate, renews into Alice's
				// account: he knows its IBAN, not her certificate's
				// secret.
				cur := *bob
				cur.Card = renewed.Card
				cur.Card.PANSecret = bob.Card.PANSecret
				_, err := wallet.Renew(ctx, f.rt(), f.accountConfig(acctIBAN), &cur)
				wantStatus(t, err, msg.RejectByIssuer)
			})
			t.Run("same key", func(t *testing.T) {
				cfg := f.accountConfig(acctIBAN)
				cfg.Key = aliceKey
				_, err := wallet.Renew(ctx, f.rt(), cfg, alice)
				wantStatus(t, err, msg.RejectByAgent)
			})
		})
	}
}
