package demo

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/store/sqlite"
)

// officeBank is a seeded bank, its host, and a back office on its link.
type officeBank struct {
	l      *bank.Ledger
	host   *BankHost
	office *backOffice
}

func newOfficeBank(t *testing.T) *officeBank {
	t.Helper()
	seed := Seed(3, 1)
	l, host, addr := ServeTestBank(t, &seed)
	o := newBackOffice(addr, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { o.close() })
	return &officeBank{l: l, host: host, office: o}
}

// ServeTestBank serves a bank as 'setpay bank' does, its books in memory,
// on 127.0.0.1 until t ends, seeded with s unless s is nil. Exported for
// the external tests (day_external_test.go).
func ServeTestBank(t *testing.T, s *BankSeed) (*bank.Ledger, *BankHost, string) {
	t.Helper()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := bank.NewLedger(db, nil)
	if s != nil {
		if _, err := SeedBank(context.Background(), l, *s, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	host, err := NewBankHost(db, l, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &iso8583.Server{Handler: host.Handle, Log: quiet, GracePeriod: time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, iso8583.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return l, host, ln.Addr().String()
}

// TestBackOffice: each function over the link, from a fresh bank to a
// settled batch, and the refusals that name what is missing.
func TestBackOffice(t *testing.T) {
	ctx := context.Background()
	b := newOfficeBank(t)
	o := b.office

	acct, f, err := o.position(ctx, CardPAN(0), "", "card 1")
	if err != nil || acct == "" || f.Balance != 300_00 || f.Limit != SeedLimit-300_00 || f.Held != 0 {
		t.Fatalf("card 1: %q %+v %v", acct, f, err)
	}
	if _, f, err = o.position(ctx, "", MerchantID, "merchant"); err != nil || f.Balance != 0 {
		t.Fatalf("merchant: %+v %v", f, err)
	}
	var oe *OfficeError
	_, _, err = o.position(ctx, "", "MER-9999", "merchant MER-9999")
	if !errors.As(err, &oe) || oe.Code != "03" || !strings.Contains(err.Error(), "setpay bank --seed") {
		t.Errorf("unknown merchant: %v", err)
	}
	_, _, err = o.position(ctx, CardPAN(7), "", "card 8")
	if !errors.As(err, &oe) || oe.Code != "14" {
		t.Errorf("card not seeded: %v", err)
	}
	if _, err := o.closeBatch(ctx, "MER-9999"); !errors.As(err, &oe) || oe.Code != "03" {
		t.Errorf("closing an unknown merchant's batch: %v", err)
	}
	if id, err := o.closeBatch(ctx, MerchantID); err != nil || id != 0 {
		t.Errorf("closing with no batch open: %d, %v; want 0", id, err)
	}
	if _, err := o.settle(ctx, 999); !errors.As(err, &oe) || oe.Code != "25" {
		t.Errorf("settling an unknown batch: %v", err)
	}

	// A sale at the merchant: authorized, captured, then the batch closed
	// and settled over the link.
	is := bank.NewIssuer(b.l)
	auth := bank.MessageID{AcquirerID: "4711", STAN: "000001", TransmissionTime: "1125120000"}
	res, err := is.Authorize(ctx, bank.AuthRequest{ID: auth, PAN: CardPAN(1), Expiry: time.Now().AddDate(3, 0, 0).Format("0601"),
		Amount: 100_00, Currency: 840, MerchantID: MerchantID})
	if err != nil || res.ResponseCode != bank.Approved {
		t.Fatalf("authorization: %+v %v", res, err)
	}
	if _, f, _ := o.position(ctx, CardPAN(1), "", "card 2"); f.Held != 100_00 || f.OpenToBuy != SeedLimit-100_00 {
		t.Errorf("card 2 after the authorization: %+v", f)
	}
	capID := bank.MessageID{AcquirerID: "4711", STAN: "000002", TransmissionTime: "1125120001"}
	if res, err := is.Capture(ctx, bank.FollowUp{ID: capID, Original: auth, Amount: 100_00}); err != nil || res.ResponseCode != bank.Approved {
		t.Fatalf("capture: %+v %v", res, err)
	}
	id, err := o.closeBatch(ctx, MerchantID)
	if err != nil || id == 0 {
		t.Fatalf("closing the batch: %d %v", id, err)
	}
	set, err := o.settle(ctx, id)
	fee := bank.Fee(100_00, DayFeeBPS)
	if err != nil || set.Batch != id || set.MerchantID != MerchantID || set.Count != 1 || set.Sales != 100_00 || set.Fee != fee || set.Net != 100_00-fee {
		t.Fatalf("settlement: %+v %v", set, err)
	}
	line, err := o.report(ctx, MerchantID)
	if err != nil || line.Batches != 1 || line.Count != 1 || line.Net != 100_00-fee {
		t.Errorf("report: %+v %v", line, err)
	}
	if _, f, _ := o.position(ctx, "", MerchantID, "merchant"); f.Balance != 100_00-fee {
		t.Errorf("the merchant's settlement account: %+v", f)
	}
	if verdict, err := o.audit(ctx); verdict != nil || err != nil {
		t.Errorf("audit: %v, %v", verdict, err)
	}
}

// TestBackOfficeMalformed: requests the host cannot read are answered 30,
// never acted on; an 0800 without DE 48 stays the echo.
func TestBackOfficeMalformed(t *testing.T) {
	b := newOfficeBank(t)
	for _, tc := range []struct {
		name     string
		data     string
		pan, mer string
		want     string
	}{
		{"echo", "", "", "", "00"},
		{"unknown function", "refund-everything", "", "", "30"},
		{"settle without a batch", "settle", "", "", "30"},
		{"settle, batch not a number", "settle;batch=x", "", "", "30"},
		{"settle, batch twice", "settle;batch=1;batch=2", "", "", "30"},
		{"settle, not key=value", "settle;batch", "", "", "30"},
		{"position of nothing", "position", "", "", "30"},
		{"position of two things", "position", CardPAN(0), MerchantID, "30"},
		{"close-batch without a merchant", "close-batch", "", "", "30"},
		{"report without a merchant", "report", "", "", "30"},
	} {
		req := networkRequest()
		req.Set(iso8583.FieldSTAN, "000001")
		req.Set(iso8583.FieldTransmissionTime, "1125120000")
		if tc.data != "" {
			req.Set(iso8583.FieldAdditionalData, tc.data)
		}
		if tc.pan != "" {
			req.Set(iso8583.FieldPAN, tc.pan)
		}
		if tc.mer != "" {
			req.Set(iso8583.FieldMerchantID, tc.mer+strings.Repeat(" ", 15-len(tc.mer)))
		}
		res, err := b.host.Handle(context.Background(), req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := string(res.ResponseCode()); got != tc.want || res.STAN() != "000001" || res.MTI != iso8583.MTINetworkResponse {
			t.Errorf("%s: %s %s, code %s; want 0810 with code %s", tc.name, res.MTI, res.STAN(), got, tc.want)
		}
		if _, ok := res.Get(iso8583.FieldAdditionalData); ok && tc.want != "00" {
			t.Errorf("%s: a refusal carries DE 48", tc.name)
		}
	}
}

// FuzzBackOffice: whatever DE 48 says, the host answers an 0810 with a
// response code, or fails with a storage error; it never panics, and
// what it answers parses.
func FuzzBackOffice(f *testing.F) {
	for _, s := range []string{"position", "close-batch", "settle;batch=1", "report", "audit", "settle;batch=-1", "settle;=", ";;", "audit;x=y"} {
		f.Add(s, true)
	}
	db, err := sqlite.Open(":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	l := bank.NewLedger(db, nil)
	if _, err := SeedBank(context.Background(), l, Seed(1, 0), time.Now()); err != nil {
		f.Fatal(err)
	}
	host, err := NewBankHost(db, l, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data string, merchant bool) {
		req := networkRequest()
		req.Set(iso8583.FieldSTAN, "000001")
		if merchant {
			req.Set(iso8583.FieldMerchantID, MerchantID+strings.Repeat(" ", 15-len(MerchantID)))
		}
		req.Set(iso8583.FieldAdditionalData, data)
		if _, err := req.Marshal(); err != nil {
			return // not a message the link could carry
		}
		res, err := host.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if res.MTI != iso8583.MTINetworkResponse || len(res.ResponseCode()) != 2 {
			t.Fatalf("%q: %s code %q", data, res.MTI, res.ResponseCode())
		}
		if out, ok := res.Get(iso8583.FieldAdditionalData); ok {
			if _, err := parseData(out); err != nil {
				t.Fatalf("%q answered %q: %v", data, out, err)
			}
			if _, err := res.Marshal(); err != nil {
				t.Fatalf("%q: the answer does not marshal: %v", data, err)
			}
		}
	})
}
