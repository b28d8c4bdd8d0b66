package banklink

import (
	"context"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/msg"
)

const linkIBAN = "GB82WEST12345698765432"

// TestAccountPayment: a payment from a bank account names it in DE 102
// with a checking-account processing code, and the bank debits it; an
// account DE 102 cannot carry is refused before anything is sent.
func TestAccountPayment(t *testing.T) {
	ctx := context.Background()
	b := newSaleBank(t)
	id, err := b.ledger.OpenDeposit(ctx, bank.Deposit{Number: linkIBAN, Currency: 840, Opening: 50_00})
	if err != nil {
		t.Fatal(err)
	}
	req := gateway.IssuerRequest{Account: &msg.BankAccount{IBAN: linkIBAN}, MerchantID: "MER-0001", XID: msg.XID{9},
		Amount: msg.CurrencyAmount{Currency: 840, Amount: 20_00, AmtExp10: -2}, Capture: true}
	d, err := b.link.Authorize(ctx, req)
	if err != nil || d.Code != msg.AuthApproved {
		t.Fatalf("sale from the account = %+v, %v", d, err)
	}
	if got := b.sent(); len(got) != 1 || got[0] != "0200/002000" {
		t.Fatalf("bank saw %v, want one 0200 with DE 3 002000", got)
	}
	if f, err := b.ledger.Funds(ctx, id); err != nil || f.Balance != 30_00 {
		t.Fatalf("account after the sale: %+v, %v", f, err)
	}
	req.XID, req.Amount.Amount = msg.XID{10}, 40_00
	if d, err := b.link.Authorize(ctx, req); err != nil || d.Code != msg.AuthDeclined {
		t.Errorf("sale over the balance = %+v, %v; want declined", d, err)
	}
	long := req
	long.XID, long.Account = msg.XID{11}, &msg.BankAccount{IBAN: "MT84MALT011000012345MTLCAST001S"}
	b.sent()
	if d, err := b.link.Authorize(ctx, long); err != nil || d.Code != msg.AuthUnspecifiedFailure {
		t.Errorf("31-character IBAN = %+v, %v; want unspecifiedFailure", d, err)
	}
	if got := b.sent(); len(got) != 0 {
		t.Errorf("an account DE 102 cannot carry was sent: %v", got)
	}
}

// TestCreditReversal: a 0400 with DE 3 200000 takes back part of a credit.
func TestCreditReversal(t *testing.T) {
	ctx := context.Background()
	b := newSaleBank(t)
	if d, err := b.link.Authorize(ctx, saleRequest(1, 50_00)); err != nil || d.Code != msg.AuthApproved {
		t.Fatalf("sale = %+v, %v", d, err)
	}
	adj := func(cents int64) gateway.AdjustRequest {
		return gateway.AdjustRequest{XID: msg.XID{1}, MerchantID: "MER-0001", Amount: msg.CurrencyAmount{Currency: 840, Amount: cents, AmtExp10: -2}}
	}
	if code, err := b.link.Credit(ctx, adj(20_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit = %v, %v", code, err)
	}
	b.sent()
	if code, err := b.link.ReverseCredit(ctx, adj(5_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit reversal = %v, %v", code, err)
	}
	if got := b.sent(); len(got) != 1 || got[0] != "0400/200000" {
		t.Fatalf("credit reversal sent %v, want one 0400 with DE 3 200000", got)
	}
	if f := b.funds(t); f.Balance != -35_00 {
		t.Fatalf("after sale, credit and its partial reversal: %+v, want balance -35.00", f)
	}
	if code, err := b.link.ReverseCredit(ctx, adj(15_01)); err != nil || code != msg.CapRevOrCredAmountError {
		t.Errorf("reversal of more than credited = %v, %v; want amountError", code, err)
	}
}

// TestSaleCancelled: a sale whose context ends after the 0200 reached
// the issuer is noReply; the client's 0400 for it returns the debit.
func TestSaleCancelled(t *testing.T) {
	b := newSaleBank(t)
	b.drop.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		d   gateway.IssuerDecision
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := b.link.Authorize(ctx, saleRequest(1, 30_00))
		done <- result{d, err}
	}()
	if got := <-b.mtis; got != "0200/000000" {
		t.Fatalf("bank saw %s first, want the sale", got)
	}
	cancel()
	r := <-done
	if r.err != nil || r.d.Code != msg.AuthNoReply {
		t.Fatalf("cancelled sale = %+v, %v; want noReply", r.d, r.err)
	}
	// The reversal runs in the background; wait (bounded) for the debit
	// to come back.
	for range 500 {
		if f := b.funds(t); f.Balance == 0 && f.Held == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the cancelled sale's debit stayed: %+v", b.funds(t))
}
