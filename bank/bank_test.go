package bank

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
)

var today = time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)

const (
	eur     = 978
	usd     = 840
	visaPAN = "4111111111111111"
	mcPAN   = "5555555555554444"
)

type testBank struct {
	t   *testing.T
	l   *Ledger
	is  *Issuer
	ac  *Acquirer
	ctx context.Context

	card, debit, blocked, expired, dep string // account IDs
	stan                               int
}

// newTestBank opens a bank in a fresh in-memory store with one merchant,
// and audits the ledger when the test ends.
func newTestBank(t *testing.T) *testBank {
	t.Helper()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := NewLedger(db, func() time.Time { return today })
	ac, err := NewAcquirer(l, 150) // 1.50 %
	if err != nil {
		t.Fatal(err)
	}
	b := &testBank{t: t, l: l, is: NewIssuer(l), ac: ac, ctx: context.Background()}
	must := func(id string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	must(l.OpenMerchant(b.ctx, "MERCHANT0001", "Teapots Ltd", eur))
	must(l.OpenMerchant(b.ctx, "MERCHANT0002", "Kettles Ltd", eur))
	b.card = must(l.OpenCard(b.ctx, Card{PAN: visaPAN, Expiry: "3112", Holder: "A", Currency: eur, Limit: 100_00}))
	b.debit = must(l.OpenCard(b.ctx, Card{PAN: mcPAN, Expiry: "3112", Holder: "B", Currency: eur, Opening: 50_00}))
	b.blocked = must(l.OpenCard(b.ctx, Card{PAN: "4012888888881881", Expiry: "3112", Currency: eur, Limit: 100_00}))
	b.expired = must(l.OpenCard(b.ctx, Card{PAN: "6011111111111117", Expiry: "3005", Currency: eur, Limit: 100_00}))
	b.dep = must(l.OpenDeposit(b.ctx, Deposit{Number: "DE89370400440532013000", BankCode: "37040044", Currency: eur, Opening: 30_00}))
	must(l.OpenCard(b.ctx, Card{PAN: "378282246310005", Expiry: "3112", Currency: usd, Limit: 100_00}))
	if err := l.Block(b.ctx, b.blocked, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Audit(context.Background()); err != nil {
			t.Errorf("ledger audit after test: %v", err)
		}
	})
	return b
}

func (b *testBank) id() MessageID {
	b.stan++
	return MessageID{AcquirerID: "12345", STAN: fmt.Sprintf("%06d", b.stan), TransmissionTime: "0615120000"}
}

func (b *testBank) req(pan string, amount int64) AuthRequest {
	return AuthRequest{ID: b.id(), PAN: pan, Expiry: "3112", Amount: amount, Currency: eur, MerchantID: "MERCHANT0001", TerminalID: "T1"}
}

func (b *testBank) authorize(r AuthRequest) *Response {
	b.t.Helper()
	resp, err := b.is.Authorize(b.ctx, r)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

func (b *testBank) follow(op func(context.Context, FollowUp) (*Response, error), orig MessageID, amount int64) *Response {
	b.t.Helper()
	resp, err := op(b.ctx, FollowUp{ID: b.id(), Original: orig, Amount: amount})
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

func (b *testBank) funds(id string) Funds {
	b.t.Helper()
	f, err := b.l.Funds(b.ctx, id)
	if err != nil {
		b.t.Fatal(err)
	}
	return f
}

func TestAuthorizeResponseCodes(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *AuthRequest)
		want ResponseCode
	}{
		{"approved", func(r *AuthRequest) {}, Approved},
		{"approved at the limit", func(r *AuthRequest) { r.Amount = 100_00 }, Approved},
		{"approved bank account", func(r *AuthRequest) {
			r.PAN, r.Expiry, r.AccountNumber, r.BankCode, r.Amount = "", "", "DE89370400440532013000", "37040044", 30_00
		}, Approved},
		{"wrong expiry", func(r *AuthRequest) { r.Expiry = "3111" }, DoNotHonour},
		{"unknown merchant", func(r *AuthRequest) { r.MerchantID = "NOBODY" }, InvalidMerchant},
		{"Luhn failure", func(r *AuthRequest) { r.PAN = "4111111111111112" }, InvalidCardNumber},
		{"unknown card", func(r *AuthRequest) { r.PAN = "4000000000000002" }, InvalidCardNumber},
		{"unknown bank account", func(r *AuthRequest) { r.PAN, r.AccountNumber, r.BankCode = "", "DE89370400440532013000", "99999999" }, InvalidCardNumber},
		{"over the limit", func(r *AuthRequest) { r.Amount = 100_01 }, InsufficientFunds},
		{"bank account overdrawn", func(r *AuthRequest) {
			r.PAN, r.AccountNumber, r.BankCode, r.Amount = "", "DE89370400440532013000", "37040044", 30_01
		}, InsufficientFunds},
		{"expired card", func(r *AuthRequest) { r.PAN, r.Expiry = "6011111111111117", "3005" }, ExpiredCard},
		{"expiry in the past", func(r *AuthRequest) { r.Expiry = "3005" }, ExpiredCard},
		{"blocked", func(r *AuthRequest) { r.PAN = "4012888888881881" }, NotPermitted},
		{"wrong currency", func(r *AuthRequest) { r.Currency = usd }, NotPermitted},
		{"zero amount", func(r *AuthRequest) { r.Amount = 0 }, InvalidAmount},
		{"amount too large", func(r *AuthRequest) { r.Amount = maxAmount + 1 }, InvalidAmount},
		{"bad STAN", func(r *AuthRequest) { r.ID.STAN = "12345" }, FormatError},
		{"card and account", func(r *AuthRequest) { r.AccountNumber = "X" }, FormatError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBank(t)
			r := b.req(visaPAN, 10_00)
			tt.edit(&r)
			resp := b.authorize(r)
			if resp.ResponseCode != tt.want {
				t.Fatalf("ResponseCode = %s, want %s", resp.ResponseCode, tt.want)
			}
			if tt.want == Approved {
				if len(resp.ApprovalCode) != 6 || resp.Held != r.Amount {
					t.Errorf("approval %+v: want a 6-digit code and the amount held", resp)
				}
				return
			}
			if resp.ApprovalCode != "" || resp.Held != 0 {
				t.Errorf("decline %+v carries an approval or a hold", resp)
			}
			for _, id := range []string{b.card, b.dep} {
				if f := b.funds(id); f.Held != 0 {
					t.Errorf("decline left %d held on %s", f.Held, id)
				}
			}
		})
	}
}

func TestHoldCaptureCredit(t *testing.T) {
	b := newTestBank(t)
	r := b.req(mcPAN, 40_00)
	if resp := b.authorize(r); resp.ResponseCode != Approved {
		t.Fatalf("authorize: %s", resp.ResponseCode)
	}
	if f := b.funds(b.debit); f != (Funds{Balance: 50_00, Held: 40_00, OpenToBuy: 10_00}) {
		t.Fatalf("after hold: %+v", f)
	}
	// The hold counts against open-to-buy.
	if resp := b.authorize(b.req(mcPAN, 10_01)); resp.ResponseCode != InsufficientFunds {
		t.Errorf("over open-to-buy: %s, want 51", resp.ResponseCode)
	}
	// Split shipment: two partial captures.
	if resp := b.follow(b.is.Capture, r.ID, 15_00); resp.ResponseCode != Approved || resp.Held != 25_00 || resp.Captured != 15_00 {
		t.Fatalf("capture 1: %+v", resp)
	}
	if resp := b.follow(b.is.Capture, r.ID, 25_01); resp.ResponseCode != InvalidAmount {
		t.Errorf("capture above the hold: %s, want 13", resp.ResponseCode)
	}
	if resp := b.follow(b.is.Capture, r.ID, 25_00); resp.ResponseCode != Approved || resp.Held != 0 || resp.Captured != 40_00 {
		t.Fatalf("capture 2: %+v", resp)
	}
	if resp := b.follow(b.is.Capture, r.ID, 1); resp.ResponseCode != InvalidTransaction {
		t.Errorf("double capture: %s, want 12", resp.ResponseCode)
	}
	if f := b.funds(b.debit); f != (Funds{Balance: 10_00, OpenToBuy: 10_00}) {
		t.Fatalf("after captures: %+v", f)
	}
	if resp := b.follow(b.is.Credit, r.ID, 30_00); resp.ResponseCode != Approved || resp.Credited != 30_00 {
		t.Fatalf("credit: %+v", resp)
	}
	if resp := b.follow(b.is.Credit, r.ID, 10_01); resp.ResponseCode != InvalidAmount {
		t.Errorf("credit above captured: %s, want 13", resp.ResponseCode)
	}
	if resp := b.follow(b.is.Credit, r.ID, 10_00); resp.ResponseCode != Approved {
		t.Errorf("credit of the rest: %s", resp.ResponseCode)
	}
	if f := b.funds(b.debit); f.Balance != 50_00 {
		t.Errorf("after full refund balance = %d, want 5000", f.Balance)
	}
	for _, unknown := range []MessageID{b.id()} {
		if resp := b.follow(b.is.Capture, unknown, 1); resp.ResponseCode != UnableToLocate {
			t.Errorf("capture without authorization: %s, want 25", resp.ResponseCode)
		}
		if resp := b.follow(b.is.Credit, unknown, 1); resp.ResponseCode != UnableToLocate {
			t.Errorf("credit without authorization: %s, want 25", resp.ResponseCode)
		}
	}
}

func TestSale(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 20_00)
	r.Capture = true
	resp := b.authorize(r)
	if resp.ResponseCode != Approved || resp.Held != 0 || resp.Captured != 20_00 {
		t.Fatalf("sale: %+v", resp)
	}
	if f := b.funds(b.card); f != (Funds{Balance: -20_00, Limit: 100_00, OpenToBuy: 80_00}) {
		t.Errorf("after sale: %+v", f)
	}
}

func TestReversal(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 60_00)
	b.authorize(r)
	// Partial reversal, then the rest.
	if resp := b.follow(b.is.Reverse, r.ID, 20_00); resp.ResponseCode != Approved || resp.Amount != 20_00 || resp.Held != 40_00 {
		t.Fatalf("partial reversal: %+v", resp)
	}
	if f := b.funds(b.card); f.Held != 40_00 || f.OpenToBuy != 60_00 {
		t.Errorf("after partial reversal: %+v", f)
	}
	if resp := b.follow(b.is.Reverse, r.ID, 0); resp.ResponseCode != Approved || resp.Amount != 40_00 || resp.Held != 0 {
		t.Fatalf("full reversal: %+v", resp)
	}
	// Released exactly once: another reversal releases nothing.
	if resp := b.follow(b.is.Reverse, r.ID, 0); resp.ResponseCode != Approved || resp.Amount != 0 {
		t.Errorf("second reversal: %+v", resp)
	}
	if resp := b.follow(b.is.Capture, r.ID, 1); resp.ResponseCode != InvalidTransaction {
		t.Errorf("capture after reversal: %s, want 12", resp.ResponseCode)
	}
	if f := b.funds(b.card); f != (Funds{Limit: 100_00, OpenToBuy: 100_00}) {
		t.Errorf("after reversals: %+v", f)
	}
}

// TestReversalBeforeAuthorization: the link reverses a timed-out 0100 that
// never reached the issuer; when it arrives late it places no hold.
func TestReversalBeforeAuthorization(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 10_00)
	rev := FollowUp{ID: b.id(), Original: r.ID}
	for i := range 2 {
		resp, err := b.is.Reverse(b.ctx, rev)
		if err != nil || resp.ResponseCode != UnableToLocate {
			t.Fatalf("reversal %d of unseen authorization: %+v, %v", i, resp, err)
		}
	}
	if resp := b.authorize(r); resp.ResponseCode == Approved {
		t.Fatalf("late authorization approved: %+v", resp)
	}
	if f := b.funds(b.card); f.Held != 0 {
		t.Errorf("late authorization held %d", f.Held)
	}
}

func TestIdempotentRetransmission(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 30_00)
	first := b.authorize(r)
	again := b.authorize(r)
	if *again != *first {
		t.Errorf("retransmitted authorization: %+v, first %+v", again, first)
	}
	if f := b.funds(b.card); f.Held != 30_00 {
		t.Errorf("held %d after retransmission, want 3000", f.Held)
	}
	changed := r
	changed.Amount++
	if resp := b.authorize(changed); resp.ResponseCode != DuplicateTransmission {
		t.Errorf("same ID, other amount: %s, want 94", resp.ResponseCode)
	}
	// A declined request is declined again, identically.
	d := b.req(visaPAN, 200_00)
	if d1, d2 := b.authorize(d), b.authorize(d); d1.ResponseCode != InsufficientFunds || *d1 != *d2 {
		t.Errorf("retransmitted decline: %+v then %+v", d1, d2)
	}

	for _, op := range []struct {
		name string
		fn   func(context.Context, FollowUp) (*Response, error)
		amt  int64
	}{
		{"capture", b.is.Capture, 10_00},
		{"credit", b.is.Credit, 4_00},
		{"reversal", b.is.Reverse, 5_00},
	} {
		m := FollowUp{ID: b.id(), Original: r.ID, Amount: op.amt}
		r1, err1 := op.fn(b.ctx, m)
		r2, err2 := op.fn(b.ctx, m)
		if err1 != nil || err2 != nil || r1.ResponseCode != Approved || *r1 != *r2 {
			t.Errorf("%s twice: %+v %v / %+v %v", op.name, r1, err1, r2, err2)
		}
		if op.name != "reversal" {
			m.Amount++
			if r3, _ := op.fn(b.ctx, m); r3.ResponseCode != DuplicateTransmission {
				t.Errorf("%s: same ID, other amount: %s, want 94", op.name, r3.ResponseCode)
			}
		}
	}
	if f := b.funds(b.card); f.Balance != -6_00 || f.Held != 15_00 {
		t.Errorf("after one capture, credit and reversal each: %+v, want balance -600 held 1500", f)
	}
}

func TestSettlement(t *testing.T) {
	b := newTestBank(t)
	// Merchant 1: 33.33 + 66.67 captured, 10.00 refunded.
	r1 := b.req(visaPAN, 33_33)
	r2 := b.req(visaPAN, 66_67)
	b.authorize(r1)
	b.authorize(r2)
	b.follow(b.is.Capture, r1.ID, 33_33)
	b.follow(b.is.Capture, r2.ID, 66_67)
	b.follow(b.is.Credit, r2.ID, 10_00)
	// Merchant 2: 0.33 captured (the fee rounds: 0.33 × 1.5 % = 0.495 → 0).
	r3 := b.req(mcPAN, 33)
	r3.MerchantID = "MERCHANT0002"
	b.authorize(r3)
	b.follow(b.is.Capture, r3.ID, 33)

	batch, err := b.ac.OpenBatch(b.ctx, "MERCHANT0001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ac.Settle(b.ctx, batch.ID); !errors.Is(err, ErrBatchState) {
		t.Errorf("settling an open batch: %v, want ErrBatchState", err)
	}
	for _, m := range []string{"MERCHANT0001", "MERCHANT0002"} {
		ob, err := b.ac.OpenBatch(b.ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ac.CloseBatch(b.ctx, ob.ID); err != nil {
			t.Fatal(err)
		}
		s, err := b.ac.Settle(b.ctx, ob.ID)
		if err != nil {
			t.Fatal(err)
		}
		again, err := b.ac.Settle(b.ctx, ob.ID)
		if err != nil || *again != *s {
			t.Errorf("settling twice: %+v, %v; first %+v", again, err, s)
		}
	}
	report, err := b.ac.Report(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ReportLine{
		// Sales 100.00, fee 1.50, refunds 10.00: net 88.50.
		{MerchantID: "MERCHANT0001", Currency: eur, Batches: 1, Count: 3, Gross: 90_00, Fees: 1_50, Net: 88_50},
		{MerchantID: "MERCHANT0002", Currency: eur, Batches: 1, Count: 1, Gross: 33, Fees: 0, Net: 33},
	}
	if fmt.Sprint(report) != fmt.Sprint(want) {
		t.Errorf("report:\n got %+v\nwant %+v", report, want)
	}
	for id, want := range map[string]int64{"merchant/MERCHANT0001": 88_50, "merchant/MERCHANT0002": 33, feesAccount(eur): 1_50, clearingAccount(eur): 0} {
		if got, err := b.l.Balance(b.ctx, id); err != nil || got != want {
			t.Errorf("balance of %s = %d, %v; want %d", id, got, err, want)
		}
	}
	// Captures after the close go to a new batch.
	r4 := b.req(visaPAN, 1_00)
	b.authorize(r4)
	b.follow(b.is.Capture, r4.ID, 1_00)
	nb, err := b.ac.OpenBatch(b.ctx, "MERCHANT0001")
	if err != nil || nb.ID == batch.ID {
		t.Errorf("new open batch %+v, %v; want other than %d", nb, err, batch.ID)
	}
}

func TestFeeRounding(t *testing.T) {
	for _, tt := range []struct {
		sales int64
		bps   int
		want  int64
	}{
		{10000, 150, 150},
		{33, 150, 0}, // 0.495 → 0
		{34, 150, 1}, // 0.51 → 1
		{100, 50, 1}, // 0.5 → 1: half up
		{99, 50, 0},  // 0.495 → 0
		{maxAmount, 10000, maxAmount},
		{0, 150, 0},
		{1 << 62, 10000, 1 << 62}, // no overflow
	} {
		if got := Fee(tt.sales, tt.bps); got != tt.want {
			t.Errorf("Fee(%d, %d) = %d, want %d", tt.sales, tt.bps, got, tt.want)
		}
	}
	if _, err := NewAcquirer(nil, 10_001); err == nil {
		t.Error("NewAcquirer accepted 10001 bps")
	}
}

// TestPANNeverPrinted: requests, cards and errors mask the PAN.
func TestPANNeverPrinted(t *testing.T) {
	b := newTestBank(t)
	r := b.req(visaPAN, 1)
	c := Card{PAN: visaPAN, Expiry: "3112"}
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprint(c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, visaPAN) {
			t.Errorf("printed the PAN: %s", s)
		}
	}
	_, err := b.l.OpenCard(b.ctx, Card{PAN: visaPAN, Expiry: "3112", Currency: eur}) // exists
	if err == nil || strings.Contains(err.Error(), visaPAN) {
		t.Errorf("duplicate card: %v", err)
	}
	_, err = b.l.OpenCard(b.ctx, Card{PAN: "4111111111111112", Expiry: "3112", Currency: eur})
	if err == nil || strings.Contains(err.Error(), "4111111111111112") {
		t.Errorf("Luhn failure: %v", err)
	}
}

func TestLuhn(t *testing.T) {
	for pan, want := range map[string]bool{
		"4111111111111111": true, "5555555555554444": true, "378282246310005": true,
		"4111111111111112": false, "79927398713": true, "79927398710": false,
	} {
		if luhnValid(pan) != want {
			t.Errorf("luhnValid(%s) = %v", pan, !want)
		}
	}
}

// TestLedgerRefusesUnbalanced: the store is the last line: an unbalanced
// entry is never written.
func TestLedgerRefusesUnbalanced(t *testing.T) {
	b := newTestBank(t)
	err := b.l.st.InBankTx(b.ctx, func(tx store.BankTx) error {
		return tx.Post(b.ctx, &store.JournalEntry{Key: "x", Kind: store.EntryCredit, Currency: eur, Postings: []store.Posting{
			{Account: b.card, Side: store.Credit, Amount: 5},
			{Account: clearingAccount(eur), Side: store.Debit, Amount: 4},
		}})
	})
	if !errors.Is(err, store.ErrUnbalanced) {
		t.Errorf("unbalanced entry: %v, want ErrUnbalanced", err)
	}
}
