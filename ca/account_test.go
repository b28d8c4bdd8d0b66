package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

const (
	acctIBAN  = "GB82WEST12345698765432"
	otherIBAN = "DE89370400440532013000"
)

// accountFixture is newFixture's with a CA that also registers bank
// accounts (an issuer for msg.AccountBIN, with a one-field form).
func accountFixture(t testing.TB, st suite.Suite) *fixture {
	t.Helper()
	f := newFixture(t, st)
	exKey, err := st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if f.exCert, err = ca.IssueExchangeCert(rand.Reader, f.lab.Hierarchy.Brand, exKey.Public(), "SETpay Cardholder CA", f.now); err != nil {
		t.Fatal(err)
	}
	if f.ca, err = ca.New(ca.Config{
		Suite: st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: f.exCert,
		Roots: f.lab.Roots, Store: f.store, Now: func() time.Time { return f.now },
		Issuers: []ca.Issuer{{BINLow: msg.AccountBIN, BINHigh: msg.AccountBIN, Policy: policyText, Form: &msg.RegTemplate{
			RegFormID: regFormID, RegFieldSeq: []msg.RegField{{FieldName: "Name on card", FieldRequired: true}},
		}}},
		Log: slog.New(countIssued{&f.issued}),
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) accountConfig(iban string) wallet.RegisterConfig {
	cfg := f.regConfig(visaPAN)
	cfg.Card = wallet.Card{BrandID: "SETpay", Account: &msg.BankAccount{IBAN: iban}}
	return cfg
}

// ibanForms are the encodings a certificate could hide an IBAN in: as
// typed, lower case, grouped by four, its BBAN, its account number, UTF-16
// either way, and hex of the ASCII.
func ibanForms(iban string) map[string][]byte {
	var groups []string
	for i := 0; i < len(iban); i += 4 {
		groups = append(groups, iban[i:min(i+4, len(iban))])
	}
	forms := map[string][]byte{
		"ASCII": []byte(iban), "lower case": []byte(strings.ToLower(iban)), "grouped": []byte(strings.Join(groups, " ")),
		"BBAN": []byte(iban[4:]), "account number": []byte(iban[len(iban)-8:]),
		"hex": []byte(hex.EncodeToString([]byte(iban))), "HEX": []byte(strings.ToUpper(hex.EncodeToString([]byte(iban)))),
	}
	var be, le []byte
	for _, u := range utf16.Encode([]rune(iban)) {
		be = append(be, byte(u>>8), byte(u))
		le = append(le, byte(u), byte(u>>8))
	}
	forms["UTF-16BE"], forms["UTF-16LE"] = be, le
	return forms
}

func TestIBANScanSees(t *testing.T) {
	f := newFixture(t, suite.NewModern())
	base := f.lab.Hierarchy.CCA.Cert.Raw
	for name, b := range ibanForms(acctIBAN) {
		der := append(append(bytes.Clone(base[:40]), b...), base[40:]...)
		found := false
		for _, b2 := range ibanForms(acctIBAN) {
			found = found || bytes.Contains(der, b2)
		}
		if !found {
			t.Errorf("%s: the scan misses the account", name)
		}
	}
}

// TestRegisterAccount registers a bank-account holder over the protocol:
// the certificate names hex(HMAC(AcctSecret, IBAN)) and holds the IBAN in
// no encoding.
func TestRegisterAccount(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := accountFixture(t, st)
			reg, err := wallet.Register(context.Background(), f.rt(), f.accountConfig(acctIBAN))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := pki.ParseCertificate(reg.Cert)
			if err != nil {
				t.Fatal(err)
			}
			acct := msg.BankAccount{IBAN: acctIBAN}
			if cert.Subject.CommonName != acct.HolderID(st.Hash(), reg.Card.PANSecret) {
				t.Error("the certificate does not name the account's holder ID")
			}
			for name, b := range ibanForms(acctIBAN) {
				if bytes.Contains(reg.Cert, b) {
					t.Errorf("certificate contains the account as %s", name)
				}
			}
			if f.issued.Load() != 1 {
				t.Errorf("%d certificates issued, want 1", f.issued.Load())
			}
		})
	}
}

func TestRegisterAccountRefused(t *testing.T) {
	st := suite.NewModern()
	t.Run("CA registers no bank accounts", func(t *testing.T) {
		f := newFixture(t, st)
		_, err := wallet.Register(context.Background(), f.rt(), f.accountConfig(acctIBAN))
		if !errors.Is(err, wallet.ErrReferred) {
			t.Fatalf("Register = %v, want a referral", err)
		}
	})
	t.Run("chall-CA of another account", func(t *testing.T) {
		f := accountFixture(t, st)
		_, res := f.toRegFormRes(t, f.accountConfig(acctIBAN))
		k := f.newKey(t)
		req := f.accountCertReq(t, f.challCA(t, res), otherIBAN, k)
		_, err := f.call(t, req)
		wantCode(t, err, msg.ChallengeMismatch)
		if f.issued.Load() != 0 {
			t.Error("a certificate was issued")
		}
	})
	t.Run("not an account", func(t *testing.T) {
		f := accountFixture(t, st)
		_, res := f.toRegFormRes(t, f.accountConfig(acctIBAN))
		k := f.newKey(t)
		_, err := f.call(t, f.accountCertReq(t, f.challCA(t, res), "GB83WEST12345698765432", k))
		wantCode(t, err, msg.DecodingFailure)
	})
	t.Run("bad IBAN in the wallet", func(t *testing.T) {
		f := accountFixture(t, st)
		if _, _, err := wallet.NewRegistration(f.accountConfig("GB83WEST12345698765432")); !errors.Is(err, msg.ErrIBANCheckDigits) {
			t.Fatalf("NewRegistration = %v, want ErrIBANCheckDigits", err)
		}
	})
}

// accountCertReq is a CertReq for account iban under chall-CA, signed by
// and certifying k.
func (f *fixture) accountCertReq(t testing.TB, challCA msg.Challenge, iban string, k crypto.Signer) *msg.CertReq {
	t.Helper()
	spki, err := pki.MarshalPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	data := &msg.CertReqData{LIDEE: []byte("lid-ee"), ChallCA: challCA, RequestType: msg.CardInitialSig, RequestDate: f.now,
		RegFormID: regFormID, RegForm: []msg.RegFormItem{{FieldName: "Name on card", FieldValue: "A N Other"}}}
	data.PublicKeySorE.PublicKeyS = spki
	acct := &msg.AcctInfo{AcctData: &msg.AcctData{AcctIdentification: iban, EXNonce: msg.Nonce{1, 2, 3}}}
	req, err := wallet.SealCertReq(f.st, rand.Reader, k, f.exCert, data, acct, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAccountHolderTemplate(t *testing.T) {
	st := suite.NewModern()
	k, err := st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	acct := msg.BankAccount{IBAN: acctIBAN}
	secret := msg.Secret{9}
	tmpl, err := ca.AccountHolderTemplate(k.Public(), acct, secret, st.Hash(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Subject.CommonName != acct.HolderID(st.Hash(), secret) || strings.Contains(tmpl.Subject.CommonName, "98765432") {
		t.Errorf("subject %q", tmpl.Subject.CommonName)
	}
	if tmpl.CertType != pki.CertTypeCard {
		t.Errorf("certificate type %v, want a cardholder's", tmpl.CertType)
	}
	if _, err := ca.AccountHolderTemplate(k.Public(), msg.BankAccount{IBAN: "GB83WEST12345698765432"}, secret, st.Hash(), time.Now()); err == nil {
		t.Error("template for a bad IBAN")
	}
	if _, err := ca.AccountHolderTemplate(k.Public(), acct, msg.Secret{}, st.Hash(), time.Now()); err == nil {
		t.Error("template without a secret")
	}
}
