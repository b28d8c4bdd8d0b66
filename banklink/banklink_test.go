package banklink

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
)

func TestAuthCodeMapping(t *testing.T) {
	for rc, want := range map[iso8583.ResponseCode]msg.AuthCode{
		"00": msg.AuthApproved, "05": msg.AuthDeclined, "14": msg.AuthDeclined, "51": msg.AuthDeclined,
		"54": msg.AuthExpiredCard, "57": msg.AuthDeclined, "91": msg.AuthNoReply,
		"96": msg.AuthUnspecifiedFailure, "03": msg.AuthUnspecifiedFailure, "": msg.AuthUnspecifiedFailure,
	} {
		if got := AuthCode(rc); got != want {
			t.Errorf("AuthCode(%q) = %v, want %v", rc, got, want)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		a    msg.CurrencyAmount
		want int64
		ok   bool
	}{
		{msg.CurrencyAmount{Currency: 840, Amount: 4999, AmtExp10: -2}, 4999, true},
		{msg.CurrencyAmount{Currency: 392, Amount: 500, AmtExp10: 0}, 50000, true},
		{msg.CurrencyAmount{Currency: 840, Amount: 49990, AmtExp10: -3}, 4999, true},
		{msg.CurrencyAmount{Currency: 840, Amount: 49991, AmtExp10: -3}, 0, false},
		{msg.CurrencyAmount{Currency: 840, Amount: 0, AmtExp10: -2}, 0, false},
		{msg.CurrencyAmount{Currency: 840, Amount: 1_000_000_000_000, AmtExp10: -2}, 0, false},
		{msg.CurrencyAmount{Currency: 840, Amount: 1 << 62, AmtExp10: 5}, 0, false},
	} {
		got, ok := minorUnits(tc.a)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("minorUnits(%+v) = %d, %v; want %d, %v", tc.a, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTimeoutIsNoReply: an issuer that never answers the authorization
// gives noReply, and the reversal the client sends leaves no hold.
func TestTimeoutIsNoReply(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := bank.NewLedger(db, nil)
	if _, err := l.OpenMerchant(ctx, "MER-0001", "shop", 840); err != nil {
		t.Fatal(err)
	}
	const pan = "4111111111111111"
	card, err := l.OpenCard(ctx, bank.Card{PAN: pan, Expiry: "4912", Currency: 840, Limit: 100_00})
	if err != nil {
		t.Fatal(err)
	}
	host := bank.NewHost(bank.NewIssuer(l), slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &iso8583.Server{Log: slog.New(slog.DiscardHandler), GracePeriod: time.Second,
		Handler: func(ctx context.Context, req *iso8583.Message) (*iso8583.Message, error) {
			resp, err := host.Handle(ctx, req)
			if iso8583.BaseMTI(req.MTI) == iso8583.MTIAuthorizationRequest {
				return nil, err // the answer is lost
			}
			return resp, err
		}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c := iso8583.NewClient(ln.Addr().String(), iso8583.ClientConfig{Timeout: 200 * time.Millisecond, Attempts: 2, Log: slog.New(slog.DiscardHandler)})
	defer func() {
		c.Close()
		srv.Close()
		if err := <-done; !errors.Is(err, iso8583.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	}()

	link := New(c, Config{})
	d, err := link.Authorize(ctx, gateway.IssuerRequest{PAN: pan, Expiry: "204912",
		Amount: msg.CurrencyAmount{Currency: 840, Amount: 30_00, AmtExp10: -2}, MerchantID: "MER-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Code != msg.AuthNoReply || d.ApprovalCode != "" {
		t.Fatalf("decision = %+v, want noReply", d)
	}
	f, err := l.Funds(ctx, card)
	if err != nil {
		t.Fatal(err)
	}
	if f.Held != 0 || f.Balance != 0 {
		t.Fatalf("hold left after timeout: %+v", f)
	}
	if err := l.Audit(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing was approved, so there is nothing to capture.
	if _, err := link.Capture(ctx, gateway.CaptureRequest{MerchantID: "MER-0001", Amount: msg.CurrencyAmount{Currency: 840, Amount: 30_00, AmtExp10: -2}}); err == nil {
		t.Fatal("capture of an authorization that timed out succeeded")
	}
}
