package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
)

// TestIssuerRequestAccount: a request paid from a bank account never
// prints the account, and the built-in issuer applies its limit to the
// account as to a card (no expiry to check).
func TestIssuerRequestAccount(t *testing.T) {
	const iban = "GB82WEST12345698765432"
	req := IssuerRequest{Account: &msg.BankAccount{IBAN: iban}, MerchantID: "MER-0001", XID: msg.XID{1},
		Amount: msg.CurrencyAmount{Currency: 840, Amount: 60_00, AmtExp10: -2}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, req); strings.Contains(s, "98765432") {
			t.Errorf("%s shows the account: %s", verb, s)
		}
	}
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	li := &LimitIssuer{Store: db, Limit: func(string) int64 { return 100_00 }, Key: []byte("key"), Now: time.Now, Rand: rand.Reader}
	ctx := context.Background()
	if d, err := li.Authorize(ctx, req); err != nil || d.Code != msg.AuthApproved {
		t.Fatalf("first payment from the account = %+v, %v", d, err)
	}
	req.XID = msg.XID{2}
	if d, err := li.Authorize(ctx, req); err != nil || d.Code != msg.AuthDeclined {
		t.Fatalf("payment over the account's limit = %+v, %v; want declined", d, err)
	}
	// A card spends against its own limit, not the account's.
	card := IssuerRequest{PAN: "4111111111111111", Expiry: time.Now().AddDate(1, 0, 0).Format("200601"), MerchantID: "MER-0001",
		XID: msg.XID{3}, Amount: req.Amount}
	if d, err := li.Authorize(ctx, card); err != nil || d.Code != msg.AuthApproved {
		t.Fatalf("card payment = %+v, %v", d, err)
	}
}
