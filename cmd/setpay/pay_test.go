package main

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

func TestParseAmount(t *testing.T) {
	good := map[string]int64{"12.34": 1234, "12": 1200, "12.3": 1230, "0.01": 1, "100000.00": 10000000, "007.5": 750}
	for in, want := range good {
		got, err := parseAmount(in)
		if err != nil || got != want {
			t.Errorf("parseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".5", "1.", "1.234", "-1", "+1", "1,5", "0", "0.00", "1e3", "12.3a", " 1", "92233720368547758.08", "99999999999999999999"} {
		if got, err := parseAmount(in); err == nil {
			t.Errorf("parseAmount(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for in, want := range map[int64]string{1234: "12.34", 5: "0.05", 0: "0.00", -150: "-1.50", 10000000: "100000.00"} {
		if got := formatAmount(in); got != want {
			t.Errorf("formatAmount(%d) = %q, want %q", in, got, want)
		}
	}
	if got := formatCurrencyAmount(msg.CurrencyAmount{Currency: 978, Amount: 5, AmtExp10: 0}); got != "5×10^0 (currency 978)" {
		t.Errorf("formatCurrencyAmount = %q", got)
	}
}

func TestCheckoutURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8445/":       "http://127.0.0.1:8445/checkout",
		"http://127.0.0.1:8445":        "http://127.0.0.1:8445/checkout",
		"https://shop.example/set/pay": "https://shop.example/checkout",
	} {
		got, err := checkoutURL(in)
		if err != nil || got != want {
			t.Errorf("checkoutURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "127.0.0.1:8445", "ftp://x/", "http:///nohost", "http://[::1"} {
		if got, err := checkoutURL(in); err == nil {
			t.Errorf("checkoutURL(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseOffer(t *testing.T) {
	req := checkoutRequest{Description: "a book", Amount: 1234, Currency: 840}
	lidm := bytes.Repeat([]byte{7}, 20)
	good := checkoutOffer{LIDM: lidm, MerchantID: "MER-0001", BrandID: "SETpay", Amount: 1234, Currency: 840, AmtExp10: -2, Description: "a book"}
	enc := func(o checkoutOffer) []byte {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	o, err := parseOffer(enc(good), req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(o.LIDM, lidm) || o.MerchantID != "MER-0001" || string(o.Description) != "a book" ||
		o.Amount != (msg.CurrencyAmount{Currency: 840, Amount: 1234, AmtExp10: -2}) {
		t.Errorf("parseOffer = %+v", o)
	}

	bad := map[string]func(*checkoutOffer){
		"short LID-M":       func(o *checkoutOffer) { o.LIDM = lidm[:19] },
		"no merchant":       func(o *checkoutOffer) { o.MerchantID = "" },
		"other description": func(o *checkoutOffer) { o.Description = "a yacht" },
		"other amount":      func(o *checkoutOffer) { o.Amount = 1235 },
		"other currency":    func(o *checkoutOffer) { o.Currency = 978 },
		"other exponent":    func(o *checkoutOffer) { o.AmtExp10 = 0 },
	}
	for name, change := range bad {
		o := good
		change(&o)
		if _, err := parseOffer(enc(o), req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, b := range [][]byte{nil, []byte("{"), []byte(`{"lidm": 5}`), bytes.Repeat([]byte(" "), maxCheckoutBody+1)} {
		if _, err := parseOffer(b, req); err == nil {
			t.Errorf("parseOffer(%.20q) accepted", b)
		}
	}
}

// TestCheckoutHandler runs the checkout against a recording merchant
// stand-in, and checkout (the wallet's side) against the handler.
func TestCheckoutHandler(t *testing.T) {
	var got []msg.CurrencyAmount
	fake := func(_ context.Context, d string, a msg.CurrencyAmount) (*merchant.Offer, error) {
		if a.Amount <= 0 {
			return nil, errors.New("merchant: amount must be positive")
		}
		got = append(got, a)
		return &merchant.Offer{LIDM: bytes.Repeat([]byte{1}, 20), MerchantID: "MER-0001", BrandID: "SETpay", Amount: a, Description: d}, nil
	}
	srv := httptest.NewServer(checkoutHandler(fake, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()

	o, err := checkout(t.Context(), srv.Client(), srv.URL+"/", checkoutRequest{Description: "tea", Amount: 250, Currency: 978})
	if err != nil {
		t.Fatal(err)
	}
	if o.MerchantID != "MER-0001" || o.Amount != (msg.CurrencyAmount{Currency: 978, Amount: 250, AmtExp10: -2}) {
		t.Errorf("offer %+v", o)
	}
	if len(got) != 1 || got[0].AmtExp10 != -2 {
		t.Errorf("merchant saw %v", got)
	}

	if _, err := checkout(t.Context(), srv.Client(), srv.URL, checkoutRequest{Description: "tea", Amount: -1, Currency: 978}); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("negative amount: %v", err)
	}
	// A failure of the merchant's store is a 500 that does not say why.
	fail := httptest.NewServer(checkoutHandler(func(context.Context, string, msg.CurrencyAmount) (*merchant.Offer, error) {
		return nil, errors.New("merchant: record order: disk I/O error at /secret/path")
	}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer fail.Close()
	if _, err := checkout(t.Context(), fail.Client(), fail.URL, checkoutRequest{Description: "tea", Amount: 1, Currency: 978}); err == nil || !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), "secret") {
		t.Errorf("store failure: %v", err)
	}
	for _, body := range []string{"", "{", `{"description":"x","amount":1,"currency":840,"extra":1}`, `{"description":"x","amount":1,"currency":0}`, `{"description":"x","amount":1,"currency":840} {}`, `{"description":"","amount":1,"currency":840}`, `{"description":"x","amount":0,"currency":840}`} {
		res, err := srv.Client().Post(srv.URL+CheckoutPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q: HTTP %d, want 400", body, res.StatusCode)
		}
	}
	res, err := srv.Client().Get(srv.URL + CheckoutPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", res.StatusCode)
	}
	if len(got) != 1 {
		t.Errorf("refused requests reached the merchant: %v", got)
	}
}

func TestOutcome(t *testing.T) {
	usd := msg.CurrencyAmount{Currency: 840, Amount: 1234, AmtExp10: -2}
	cases := []struct {
		st       suite.ID
		res      wallet.Result
		want     string
		approved bool
	}{
		{suite.Modern, wallet.Result{Completion: msg.AuthorizationAccepted, Gateway: &wallet.GatewayProof{AuthCode: msg.AuthApproved, Amount: usd}},
			"approved: the gateway signed approved for 12.34 (currency 840); merchant: authorizationAccepted", true},
		{suite.Modern, wallet.Result{Completion: msg.OrderRejected, Gateway: &wallet.GatewayProof{AuthCode: msg.AuthExpiredCard, Amount: usd}},
			"declined: the gateway signed expiredCard for 12.34 (currency 840); merchant: orderRejected", false},
		{suite.Set1, wallet.Result{Completion: msg.CapturePerformed}, "approved; merchant: capturePerformed", true},
		{suite.Set1, wallet.Result{Completion: msg.OrderRejected}, "declined: the merchant gives no gateway-signed reason (set1 carries none); merchant: orderRejected", false},
	}
	for _, c := range cases {
		got, ok := outcome(c.st, &c.res)
		if got != c.want || ok != c.approved {
			t.Errorf("outcome = %q, %v; want %q, %v", got, ok, c.want, c.approved)
		}
	}
}

func TestOpenCard(t *testing.T) {
	dir := t.TempDir()
	pp := []byte("pass")
	sec := cardSecrets{PAN: "4111111111111111", Expiry: "209912", BrandID: "SETpay", PANSecret: bytes.Repeat([]byte{1}, 20), CardSecret: bytes.Repeat([]byte{2}, 20)}
	write := func(name string, v any, role string) string {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := writeKey(dir, name, role, b, pp, testKDF); err != nil {
			t.Fatal(err)
		}
		return p
	}
	card, err := openCard(write("card.sealed", sec, roleCardSecrets), pp)
	if err != nil {
		t.Fatal(err)
	}
	if card.PAN != sec.PAN || card.Expiry != "209912" || card.BrandID != "SETpay" || card.PANSecret[0] != 1 || card.CardSecret[19] != 2 {
		t.Errorf("card %+v", card)
	}
	if _, err := openCard(filepath.Join(dir, "card.sealed"), []byte("wrong")); !errors.Is(err, keyfile.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	short := sec
	short.PANSecret = short.PANSecret[:19]
	if _, err := openCard(write("short.sealed", short, roleCardSecrets), pp); err == nil {
		t.Error("a 19-byte PANSecret was accepted")
	}
	if _, err := openCard(write("other.sealed", sec, keyfile.RoleCardholderSigning), pp); !errors.Is(err, keyfile.ErrWrongRole) {
		t.Errorf("a key of another role: %v", err)
	}
}

// TestErrorOrigin: the CLI says whether a merchant's SET Error was signed
// under the root (the merchant's word) or unsigned (anyone's).
func TestErrorOrigin(t *testing.T) {
	remote := &msg.RemoteError{From: "merchant", TBS: &msg.ErrorTBS{ErrorCode: msg.UnknownLID}}
	wrap := func(pe *wire.PeerError) error {
		return fmt.Errorf("PInitReq: %w", &msg.ProtocolError{Code: msg.UnknownLID, Err: pe})
	}
	for _, c := range []struct {
		pe   *wire.PeerError
		want string
	}{
		{&wire.PeerError{Remote: remote, Origin: wire.ErrorUnsigned}, "the Error is unsigned: anyone on the path to the merchant could have sent it"},
		{&wire.PeerError{Remote: remote, Origin: wire.ErrorVerified, SignerCert: []byte("not a certificate")}, "the Error is signed by a certificate under --root: the merchant's own word"},
		{&wire.PeerError{Remote: remote, Origin: wire.ErrorBadSignature, SignatureErr: errors.New("bad")}, "the Error's signature does not verify: it may not come from the merchant"},
		{&wire.PeerError{Remote: remote, Origin: wire.ErrorUnchecked}, "its signer is not checked"},
	} {
		if got := errorOrigin(wrap(c.pe)); !strings.HasPrefix(got, "\n") || !strings.Contains(got, c.want) {
			t.Errorf("%v: %q, want %q", c.pe.Origin, got, c.want)
		}
	}
	if got := errorOrigin(errors.New("connection refused")); got != "" {
		t.Errorf("not a SET Error: %q", got)
	}
}
