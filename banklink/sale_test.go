package banklink

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
)

// saleBank is an issuer host on 127.0.0.1 with one merchant and one card
// of limit 100.00; while drop is set it loses its answers to 0200.
type saleBank struct {
	ledger *bank.Ledger
	card   string
	link   *Link
	drop   atomic.Bool
	mtis   chan string // every request's MTI and DE 3, in order
}

const salePAN = "4111111111111111"

func newSaleBank(t *testing.T) *saleBank {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &saleBank{ledger: bank.NewLedger(db, nil), mtis: make(chan string, 64)}
	if _, err := b.ledger.OpenMerchant(ctx, "MER-0001", "shop", 840); err != nil {
		t.Fatal(err)
	}
	if b.card, err = b.ledger.OpenCard(ctx, bank.Card{PAN: salePAN, Expiry: "4912", Currency: 840, Limit: 100_00}); err != nil {
		t.Fatal(err)
	}
	host := bank.NewHost(bank.NewIssuer(b.ledger), slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &iso8583.Server{Log: slog.New(slog.DiscardHandler), GracePeriod: time.Second,
		Handler: func(ctx context.Context, req *iso8583.Message) (*iso8583.Message, error) {
			pc, _ := req.Get(iso8583.FieldProcessingCode)
			select {
			case b.mtis <- req.MTI + "/" + pc:
			default:
			}
			resp, err := host.Handle(ctx, req)
			if b.drop.Load() && iso8583.BaseMTI(req.MTI) == iso8583.MTIFinancialRequest && pc == "000000" {
				return nil, err // the answer is lost
			}
			return resp, err
		}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c := iso8583.NewClient(ln.Addr().String(), iso8583.ClientConfig{Timeout: 200 * time.Millisecond, Attempts: 2, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		if err := <-done; !errors.Is(err, iso8583.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		if err := b.ledger.Audit(context.Background()); err != nil {
			t.Errorf("ledger audit: %v", err)
		}
	})
	b.link = New(c, Config{Log: slog.New(slog.DiscardHandler)})
	return b
}

func (b *saleBank) funds(t *testing.T) bank.Funds {
	t.Helper()
	f, err := b.ledger.Funds(context.Background(), b.card)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sent drains the MTIs the bank has seen so far.
func (b *saleBank) sent() []string {
	var out []string
	for {
		select {
		case s := <-b.mtis:
			out = append(out, s)
		default:
			return out
		}
	}
}

func saleRequest(xid byte, cents int64) gateway.IssuerRequest {
	return gateway.IssuerRequest{PAN: salePAN, Expiry: "204912", MerchantID: "MER-0001", XID: msg.XID{xid},
		Amount: msg.CurrencyAmount{Currency: 840, Amount: cents, AmtExp10: -2}, Capture: true}
}

// TestSale: a sale is a 0200 with DE 3 000000, and its approval posts the
// debit with no hold left; a later completion advice finds nothing to
// capture; a sale over the limit moves nothing; the reversal of a sale
// the gateway could not record returns the money.
func TestSale(t *testing.T) {
	ctx := context.Background()
	b := newSaleBank(t)

	d, err := b.link.Authorize(ctx, saleRequest(1, 30_00))
	if err != nil || d.Code != msg.AuthApproved || d.ApprovalCode == "" {
		t.Fatalf("sale = %+v, %v", d, err)
	}
	if got := b.sent(); len(got) != 1 || got[0] != "0200/000000" {
		t.Fatalf("bank saw %v, want one 0200 with DE 3 000000", got)
	}
	if f := b.funds(t); f.Held != 0 || f.Balance != -30_00 {
		t.Fatalf("after the sale: %+v, want held 0, balance -30.00", f)
	}
	// Nothing is left to capture: the issuer refuses the completion.
	code, err := b.link.Capture(ctx, gateway.CaptureRequest{XID: msg.XID{1}, MerchantID: "MER-0001",
		Amount: msg.CurrencyAmount{Currency: 840, Amount: 30_00, AmtExp10: -2}})
	if err != nil || code == msg.CapSuccess {
		t.Fatalf("capture after a sale = %v, %v; want a refusal", code, err)
	}
	if f := b.funds(t); f.Held != 0 || f.Balance != -30_00 {
		t.Fatalf("capture after a sale moved money: %+v", f)
	}

	// Over the limit (70.00 left): declined, nothing moves.
	d, err = b.link.Authorize(ctx, saleRequest(2, 80_00))
	if err != nil || d.Code != msg.AuthDeclined {
		t.Fatalf("sale over the limit = %+v, %v", d, err)
	}
	if f := b.funds(t); f.Held != 0 || f.Balance != -30_00 {
		t.Fatalf("a declined sale moved money: %+v", f)
	}

	// An approved sale the gateway then reverses: the debit is refunded.
	req := saleRequest(3, 10_00)
	d, err = b.link.Authorize(ctx, req)
	if err != nil || d.Code != msg.AuthApproved {
		t.Fatalf("third sale = %+v, %v", d, err)
	}
	if f := b.funds(t); f.Balance != -40_00 {
		t.Fatalf("after the third sale: %+v", f)
	}
	b.sent()
	if err := b.link.Reverse(ctx, req, d); err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	if got := b.sent(); len(got) != 1 || got[0] != "0420/200000" {
		t.Fatalf("reversal of a sale sent %v, want one 0420 refund", got)
	}
	if f := b.funds(t); f.Held != 0 || f.Balance != -30_00 {
		t.Fatalf("after reversing the third sale: %+v, want balance -30.00", f)
	}
}

// TestSaleTimeoutRefunds: a sale the issuer approved but whose answer was
// lost is noReply, and the debit it posted is refunded.
func TestSaleTimeoutRefunds(t *testing.T) {
	ctx := context.Background()
	b := newSaleBank(t)
	b.drop.Store(true)
	d, err := b.link.Authorize(ctx, saleRequest(1, 30_00))
	if err != nil {
		t.Fatal(err)
	}
	if d.Code != msg.AuthNoReply || d.ApprovalCode != "" {
		t.Fatalf("decision = %+v, want noReply", d)
	}
	if f := b.funds(t); f.Held != 0 || f.Balance != 0 {
		t.Fatalf("money moved by a sale nobody heard of: %+v", f)
	}
}
