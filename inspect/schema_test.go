package inspect

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/msg"
)

func inspectText(t *testing.T, b []byte, hint string) string {
	t.Helper()
	n, err := Inspect(b, hint)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := n.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// InstallRecurData rides as the contents of an [n] IMPLICIT OCTET STRING;
// inspect must open it and name the plan's fields.
func TestInspectInstallRecurData(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan msg.InstallRecurData
		want []string
	}{
		{"recurring", msg.InstallRecurData{Recurring: &msg.Recurring{RecurringFrequency: 30, RecurringExpiry: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)}},
			[]string{"recurring Recurring", "recurringFrequency INTEGER", "30", "recurringExpiry Date", "2027-01-02T03:04:05Z"}},
		{"instalments", msg.InstallRecurData{InstallTotalTrans: 12},
			[]string{"installTotalTrans INTEGER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := tc.plan.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			hodInput := der.Encode(der.TagSequence, concat(
				der.Encode(der.TagOctetString, []byte("order")),
				der.Encode(der.TagSequence, concat(der.Encode(der.TagInteger, []byte{0x03, 0x48}), der.Encode(der.TagInteger, []byte{100}), der.Encode(der.TagInteger, []byte{2}))),
				der.Encode(der.TagOctetString, make([]byte, 20)),
				der.Encode(der.Implicit(0), plan),
			))
			out := inspectText(t, hodInput, "HODInput")
			for _, want := range append([]string{"installRecurData InstallRecurData", "InstallRecurData (SEQUENCE)"}, tc.want...) {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// A bank account where a card's PANData stands: PIAccount's [0]
// alternative and both forms of BankAccount are named.
func TestInspectAccountTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		acct msg.BankAccount
		want []string
	}{
		{"iban", msg.BankAccount{IBAN: "DE89370400440532013000"}, []string{"iban PrintableString ([0])"}},
		{"domestic", msg.BankAccount{AccountNumber: "12345678", RoutingCode: "021000021"},
			[]string{"domestic DomesticAccount", "accountNumber VisibleString", `"12345678"`, "routingCode VisibleString"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := (&msg.PIAccount{AcctPIData: &msg.AcctPIData{Account: tc.acct}}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			out := inspectText(t, b, "PIAccount")
			for _, want := range append([]string{"AcctPIData (SEQUENCE)", "acctSecret Secret", "exNonce Nonce"}, tc.want...) {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	b, err := (&msg.RegFormAcct{AcctData: &msg.AcctData{AcctIdentification: "DE89370400440532013000"}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := inspectText(t, b, "RegFormAcct")
	for _, want := range []string{"AcctData (SEQUENCE)", "acctIdentification AcctIdentification", "exNonce Nonce"} {
		if !strings.Contains(out, want) {
			t.Errorf("RegFormAcct output lacks %q:\n%s", want, out)
		}
	}
}
