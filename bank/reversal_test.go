package bank

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/bank/iso8583"
)

const testIBAN = "GB82WEST12345698765432"

// TestSaleReversal: a 0400 for a sale returns its debit (the sale held
// nothing to release), exactly once, and settlement counts the sale as
// voided: no sale, no refund, no fee.
func TestSaleReversal(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 20_00)
	r.Capture = true
	b.authorize(r)
	rev := FollowUp{ID: b.id(), Original: r.ID}
	for i := range 2 { // the second is a retransmission: same answer, no effect
		resp, err := b.is.Reverse(b.ctx, rev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ResponseCode != Approved || resp.Amount != 20_00 || resp.Captured != 20_00 || resp.Credited != 20_00 {
			t.Fatalf("reversal %d of the sale: %+v", i, resp)
		}
		if f := b.funds(b.card); f != (Funds{Limit: 100_00, OpenToBuy: 100_00}) {
			t.Fatalf("after reversal %d of the sale: %+v", i, f)
		}
	}
	if resp := b.follow(b.is.Reverse, r.ID, 0); resp.ResponseCode != Approved || resp.Amount != 0 {
		t.Errorf("another reversal: %+v", resp)
	}
	if resp := b.follow(b.is.Credit, r.ID, 1); resp.ResponseCode != InvalidAmount {
		t.Errorf("credit after the void: %s, want 13", resp.ResponseCode)
	}
	batch, err := b.ac.OpenBatch(b.ctx, "MERCHANT0001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ac.CloseBatch(b.ctx, batch.ID); err != nil {
		t.Fatal(err)
	}
	s, err := b.ac.Settle(b.ctx, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sales != 0 || s.Refunds != 0 || s.Fee != 0 || s.Net != 0 {
		t.Errorf("settlement of a voided sale: %+v", s)
	}
}

// TestPartialSaleReversal: DE 4 names how much of the sale comes back.
func TestPartialSaleReversal(t *testing.T) {
	b := newTestBank(t)
	r := b.req(mcPAN, 30_00)
	r.Capture = true
	b.authorize(r)
	if resp := b.follow(b.is.Reverse, r.ID, 10_00); resp.ResponseCode != Approved || resp.Amount != 10_00 {
		t.Fatalf("partial void: %+v", resp)
	}
	if f := b.funds(b.debit); f.Balance != 30_00 {
		t.Errorf("after partial void: %+v", f)
	}
}

func TestCreditReversal(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 50_00)
	b.authorize(r)
	b.follow(b.is.Capture, r.ID, 50_00)
	if resp := b.follow(b.is.ReverseCredit, r.ID, 1); resp.ResponseCode != InvalidTransaction {
		t.Fatalf("credit reversal with nothing credited: %s, want 12", resp.ResponseCode)
	}
	credit := FollowUp{ID: b.id(), Original: r.ID, Amount: 20_00}
	if resp, err := b.is.Credit(b.ctx, credit); err != nil || resp.ResponseCode != Approved {
		t.Fatalf("credit: %v %v", resp, err)
	}
	if resp := b.follow(b.is.ReverseCredit, r.ID, 20_01); resp.ResponseCode != InvalidAmount {
		t.Fatalf("credit reversal of more than credited: %s, want 13", resp.ResponseCode)
	}
	rev := FollowUp{ID: b.id(), Original: r.ID, Amount: 5_00}
	for i := range 2 {
		resp, err := b.is.ReverseCredit(b.ctx, rev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ResponseCode != Approved || resp.Amount != 5_00 || resp.Credited != 15_00 {
			t.Fatalf("credit reversal %d: %+v", i, resp)
		}
		if f := b.funds(b.card); f.Balance != -35_00 {
			t.Fatalf("after credit reversal %d: %+v", i, f)
		}
	}
	// Naming the credit message itself (the link's automatic reversal of
	// an unanswered refund): at most that credit comes back.
	if resp := b.follow(b.is.ReverseCredit, credit.ID, 15_01); resp.ResponseCode != InvalidAmount {
		t.Fatalf("reversal of more than that credit: %s, want 13", resp.ResponseCode)
	}
	if resp := b.follow(b.is.ReverseCredit, credit.ID, 15_00); resp.ResponseCode != Approved || resp.Credited != 0 {
		t.Fatalf("reversal naming the credit: %+v", resp)
	}
	if f := b.funds(b.card); f.Balance != -50_00 {
		t.Errorf("after reversing every credit: %+v", f)
	}
	if resp := b.follow(b.is.ReverseCredit, b.id(), 1_00); resp.ResponseCode != UnableToLocate {
		t.Errorf("reversal of an unknown credit: %s, want 25", resp.ResponseCode)
	}
	batch, err := b.ac.OpenBatch(b.ctx, "MERCHANT0001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ac.CloseBatch(b.ctx, batch.ID); err != nil {
		t.Fatal(err)
	}
	s, err := b.ac.Settle(b.ctx, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sales != 50_00 || s.Refunds != 0 || s.Gross != 50_00 {
		t.Errorf("settlement after the credits were reversed: %+v", s)
	}
}

// TestDepositByIBAN: an account found by IBAN is authorized and declined
// as a card is, with 14 for an IBAN whose check digits fail.
func TestDepositByIBAN(t *testing.T) {
	b := newTestBank(t)
	id, err := b.l.OpenDeposit(b.ctx, Deposit{Number: testIBAN, Holder: "C", Currency: eur, Opening: 40_00, Overdraft: 10_00})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.l.OpenDeposit(b.ctx, Deposit{Number: "GB83WEST12345698765432", Currency: eur}); err == nil {
		t.Error("opened an account with a bad IBAN and no bank code")
	}
	acct := func(number string, amount int64) AuthRequest {
		return AuthRequest{ID: b.id(), AccountNumber: number, Amount: amount, Currency: eur, MerchantID: "MERCHANT0001", TerminalID: "T1"}
	}
	for _, tc := range []struct {
		name   string
		req    AuthRequest
		want   ResponseCode
		before func()
	}{
		{"approved", acct(testIBAN, 30_00), Approved, nil},
		{"over balance and overdraft", acct(testIBAN, 20_01), InsufficientFunds, nil},
		{"check digits", acct("GB83WEST12345698765432", 1_00), InvalidCardNumber, nil},
		{"unknown", acct("DE89370400440532013000", 1_00), InvalidCardNumber, nil},
		{"domestic", AuthRequest{ID: b.id(), AccountNumber: "DE89370400440532013000", BankCode: "37040044", Amount: 1_00, Currency: eur, MerchantID: "MERCHANT0001"}, Approved, nil},
		{"blocked", acct(testIBAN, 1_00), NotPermitted, func() {
			if err := b.l.Block(b.ctx, id, true); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		if tc.before != nil {
			tc.before()
		}
		if resp := b.authorize(tc.req); resp.ResponseCode != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, resp.ResponseCode, tc.want)
		}
	}
	if f := b.funds(id); f.Held != 30_00 || f.OpenToBuy != 20_00 {
		t.Errorf("after authorization: %+v", f)
	}
	if s := (AuthRequest{AccountNumber: testIBAN}).String(); strings.Contains(s, "98765432") {
		t.Errorf("AuthRequest prints the account: %s", s)
	}
}

func depositAuthMsg(acct, pc, amount string) *iso8583.Message {
	m := authMsg("", "", amount)
	delete(m.Fields, iso8583.FieldPAN)
	delete(m.Fields, iso8583.FieldExpiry)
	m.Set(iso8583.FieldAccountID1, acct)
	m.Set(iso8583.FieldProcessingCode, pc)
	return m
}

// TestHostAccountAndCreditReversal: DE 102 names the account, DE 3's
// account type must fit it, and 0400 with processing code 20 reverses a
// credit.
func TestHostAccountAndCreditReversal(t *testing.T) {
	b := newTestBank(t)
	dep, err := b.l.OpenDeposit(b.ctx, Deposit{Number: testIBAN, Currency: eur, Opening: 40_00})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.l.OpenDeposit(b.ctx, Deposit{Number: "31926819", BankCode: "601613", Currency: eur, Opening: 40_00}); err != nil {
		t.Fatal(err)
	}
	logs := new(syncBuf)
	log := slog.New(slog.NewTextHandler(logs, nil))
	c := hostLink(t, b, log, nil, iso8583.ClientConfig{Timeout: 5 * time.Second})

	for _, tc := range []struct{ name, acct, pc, want string }{
		{"savings", testIBAN, "001000", "00"},
		{"credit account type", testIBAN, "003000", "12"},
		{"domestic", "601613/31926819", "002000", "00"},
		{"unknown", "60161331926819", "000000", "14"},
	} {
		if resp := send(t, c, depositAuthMsg(tc.acct, tc.pc, "000000000100")); string(resp.ResponseCode()) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, resp.ResponseCode(), tc.want)
		}
	}
	both := depositAuthMsg(testIBAN, "000000", "000000000100")
	both.Set(iso8583.FieldPAN, visaPAN)
	both.Set(iso8583.FieldExpiry, "3112")
	if resp := send(t, c, both); resp.ResponseCode() != "30" {
		t.Errorf("PAN and account: %s, want 30", resp.ResponseCode())
	}

	// A sale from the account, a refund of part of it, the refund reversed.
	sale := depositAuthMsg(testIBAN, "002000", "000000002000")
	sale.MTI = iso8583.MTIFinancialRequest
	sr := send(t, c, sale)
	if sr.ResponseCode() != "00" {
		t.Fatalf("sale: %v", sr)
	}
	if _, ok := sr.Get(iso8583.FieldAccountID1); ok {
		t.Error("the response echoes the account")
	}
	follow := func(mti, pc, amount string) *iso8583.Message {
		m := iso8583.NewMessage(mti)
		m.Set(iso8583.FieldProcessingCode, pc)
		m.Set(iso8583.FieldAmount, amount)
		m.Set(iso8583.FieldAcquirerID, "12345")
		m.Set(iso8583.FieldOriginalData, original(t, sale, sr))
		return send(t, c, m)
	}
	if r := follow(iso8583.MTIFinancialRequest, "200000", "000000000500"); r.ResponseCode() != "00" {
		t.Fatalf("refund: %v", r)
	}
	if r := follow(iso8583.MTIReversalRequest, "200000", "000000000300"); r.ResponseCode() != "00" {
		t.Fatalf("credit reversal: %v", r)
	}
	// The first 1.00 is a hold, not a debit.
	if f := b.funds(dep); f.Balance != 40_00-20_00+5_00-3_00 || f.Held != 1_00 {
		t.Errorf("after sale, refund and its partial reversal: %+v", f)
	}
	if strings.Contains(logs.String(), testIBAN) {
		t.Error("the host logged the account")
	}
}

// TestHostSaleCancelled: a sale whose context ends before the answer is
// reversed by the link's client, and the reversal returns the debit.
func TestHostSaleCancelled(t *testing.T) {
	b := newTestBank(t)
	log := slog.New(slog.DiscardHandler)
	answered, reversed := make(chan struct{}, 1), make(chan string, 1)
	c := hostLink(t, b, log, func(req *iso8583.Message) bool {
		switch req.MTI {
		case iso8583.MTIFinancialRequest:
			answered <- struct{}{}
			return false // lose the answer: the issuer has debited
		case iso8583.MTIReversalRequest:
			pc, _ := req.Get(iso8583.FieldProcessingCode)
			reversed <- pc // the host has handled it
		}
		return true
	}, iso8583.ClientConfig{Timeout: 5 * time.Second, Attempts: 1})
	sale := authMsg(visaPAN, "3112", "000000004000")
	sale.MTI = iso8583.MTIFinancialRequest
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, sale)
		errc <- err
	}()
	<-answered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	// The client reverses in the background.
	select {
	case pc := <-reversed:
		if pc != "000000" {
			t.Errorf("the reversal of a sale has processing code %s", pc)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reversal of the cancelled sale")
	}
	if f := b.funds(b.card); f != (Funds{Limit: 100_00, OpenToBuy: 100_00}) {
		t.Fatalf("after the cancelled sale was reversed: %+v", f)
	}
}

// TestNoopReversalRetransmitted: a reversal that found nothing left to
// return is approved with no effect, and stays that way: retransmitted
// after a credit reversal gave the sale something to void again, it must
// not void it. (Found by TestLedgerProperties.)
func TestNoopReversalRetransmitted(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 20_00)
	r.Capture = true
	b.authorize(r)
	b.follow(b.is.Reverse, r.ID, 0) // voids all of it
	noop := FollowUp{ID: b.id(), Original: r.ID}
	if resp, err := b.is.Reverse(b.ctx, noop); err != nil || resp.ResponseCode != Approved || resp.Amount != 0 {
		t.Fatalf("second void: %+v, %v", resp, err)
	}
	if resp := b.follow(b.is.ReverseCredit, r.ID, 5_00); resp.ResponseCode != Approved {
		t.Fatalf("credit reversal of the void: %s", resp.ResponseCode)
	}
	before := b.funds(b.card)
	resp, err := b.is.Reverse(b.ctx, noop)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ResponseCode != Approved || resp.Amount != 0 || resp.Credited != 15_00 {
		t.Errorf("retransmitted no-op void: %+v", resp)
	}
	if after := b.funds(b.card); after != before {
		t.Errorf("retransmitted no-op void moved funds: %+v → %+v", before, after)
	}
}
