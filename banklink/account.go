package banklink

import (
	"strings"

	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/msg"
)

// Account types of DE 3 (positions 3–4, the "from" account): a card
// payment leaves them 00 (default); a bank-account payment debits a
// current account, 20 (checking). The bank host accepts 00, 10 or 20 with
// DE 102 and refuses 10 and 20 with a card.
const purchaseFromChecking = "002000"

// setAccount names the bank account acct in DE 102 — the IBAN, or bank
// code "/" account number where there is none — and sets DE 3's account
// type. It reports false when the account does not fit DE 102's 28
// characters (or a routing code holds the "/" that separates it).
func setAccount(m *iso8583.Message, acct *msg.BankAccount) bool {
	id := acct.Identification()
	if len(id) > 28 || (acct.IBAN == "" && strings.Contains(acct.RoutingCode, "/")) {
		return false
	}
	m.Set(iso8583.FieldAccountID1, id)
	m.Set(iso8583.FieldProcessingCode, purchaseFromChecking)
	return true
}
