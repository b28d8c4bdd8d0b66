package demo_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// ibanForms adds to textForms the ways an IBAN is written: lower case,
// grouped by four, its BBAN (less country and check digits) and its
// trailing account number.
func ibanForms(iban string) []form {
	forms := textForms(iban)
	var groups []string
	for i := 0; i < len(iban); i += 4 {
		groups = append(groups, iban[i:min(i+4, len(iban))])
	}
	return append(forms,
		form{"lower case", []byte(strings.ToLower(iban))},
		form{"grouped with spaces", []byte(strings.Join(groups, " "))},
		form{"BBAN", []byte(iban[4:])},
		form{"BBAN lower case", []byte(strings.ToLower(iban[4:]))})
}

// TestDemoAccounts runs the purchases scenario with a bank-account holder
// beside a cardholder, in each suite: the account holder registers its
// IBAN, pays, is captured, and the IBAN reaches neither the merchant (its
// files, its log, anything it received), nor a CA's files, nor the wire
// in the clear — while the bank, which debits it, holds it.
func TestDemoAccounts(t *testing.T) {
	for _, id := range []suite.ID{suite.Modern, suite.Set1} {
		t.Run(string(id), func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			var buf bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := demo.Run(ctx, demo.Options{Suite: id, Scenario: demo.ScenarioPurchases, Purchases: 2, Cardholders: 1, Accounts: 1, DataDir: data}, &buf)
			if err != nil {
				t.Fatalf("demo.Run: %v\n%s", err, buf.String())
			}
			if len(rep.Accounts) != 1 || len(rep.PANs) != 1 {
				t.Fatalf("report: %d accounts, %d cards", len(rep.Accounts), len(rep.PANs))
			}
			iban := rep.Accounts[0]
			if err := msg.CheckIBAN(iban); err != nil {
				t.Fatal(err)
			}
			p := rep.Purchases[1]
			if p.Cardholder != 2 || p.Err != nil || p.Authorization == nil || p.Authorization.State != "captured" {
				t.Fatalf("the account holder's purchase: %+v", p)
			}

			merchant := slices.Concat(filesUnder(t, rep.MerchantDir), inbox(rep, demo.Merchant))
			cas := slices.Concat(filesUnder(t, rep.CCADir), filesUnder(t, rep.MCADir), filesUnder(t, rep.PCADir))
			var wire []blob
			for _, m := range rep.Messages {
				wire = append(wire, blob{m.From + "→" + m.To + " " + m.Type, m.DER})
			}
			transcript := []blob{{"the transcript", buf.Bytes()}}
			for _, f := range ibanForms(iban) {
				for _, where := range []struct {
					what  string
					blobs []blob
				}{{"the merchant", merchant}, {"a CA", cas}, {"the wire", wire}, {"the transcript", transcript}} {
					if w := f.foundIn(where.blobs); w != "" {
						t.Errorf("the account found at %s as %s in %s", where.what, f.name, w)
					}
				}
			}

			// Controls: the bank holds the account in its books and in the
			// authorization it received (DE 102); the gateway recorded it
			// masked; the account holder's certificate crossed the wire.
			var bankInbox []blob
			for _, m := range rep.BankMessages {
				if m.To == demo.Bank {
					bankInbox = append(bankInbox, blob{m.MTI, m.Frame})
				}
			}
			if f := textForms(iban)[0]; f.foundIn(database(filesUnder(t, rep.BankDir), "bank")) == "" || f.foundIn(bankInbox) == "" {
				t.Error("control: the account not found in both the bank's database and its inbox")
			}
			if f := textForms(msg.MaskAccount(iban))[0]; f.foundIn(database(filesUnder(t, rep.GatewayDir), "gateway")) == "" {
				t.Error("control: the masked account not found in the gateway's database")
			}
			if (form{"DER", rep.Certificates["cardholder-2"]}).foundIn(inbox(rep, demo.Merchant)) == "" {
				t.Error("control: the account holder's certificate not found in the merchant's inbox")
			}
		})
	}
}
