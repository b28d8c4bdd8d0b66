package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

const testIBAN = "GB82WEST12345698765432"

// ibanForms are the ways an IBAN could sit in bytes in the clear: as
// typed, lower case, printed in groups of four, its BBAN, its account
// number alone, UTF-16 either way, hex of the ASCII.
func ibanForms(iban string) map[string][]byte {
	var grouped []string
	for i := 0; i < len(iban); i += 4 {
		grouped = append(grouped, iban[i:min(i+4, len(iban))])
	}
	u16 := utf16.Encode([]rune(iban))
	be, le := make([]byte, 2*len(u16)), make([]byte, 2*len(u16))
	for i, c := range u16 {
		binary.BigEndian.PutUint16(be[2*i:], c)
		binary.LittleEndian.PutUint16(le[2*i:], c)
	}
	return map[string][]byte{
		"ASCII": []byte(iban), "lower case": []byte(strings.ToLower(iban)),
		"print form": []byte(strings.Join(grouped, " ")), "BBAN": []byte(iban[4:]),
		"account number": []byte(iban[len(iban)-8:]), "UTF-16BE": be, "UTF-16LE": le,
		"hex": []byte(hex.EncodeToString([]byte(iban))), "HEX": []byte(strings.ToUpper(hex.EncodeToString([]byte(iban)))),
	}
}

// assertNoIBAN fails if b holds iban in any of ibanForms.
func assertNoIBAN(t testing.TB, what string, b []byte, iban string) {
	t.Helper()
	for name, f := range ibanForms(iban) {
		if bytes.Contains(b, f) {
			t.Errorf("%s holds the account (%s)", what, name)
		}
	}
}

func TestIBANScanSees(t *testing.T) {
	for name, f := range ibanForms(testIBAN) {
		blob := append(append([]byte("some bytes "), f...), " more"...)
		seen := false
		for _, g := range ibanForms(testIBAN) {
			seen = seen || bytes.Contains(blob, g)
		}
		if !seen {
			t.Errorf("%s: the scan misses the account", name)
		}
	}
}

func TestAccountIBAN(t *testing.T) {
	for _, i := range []int{0, 1, 99, 123456} {
		if err := msg.CheckIBAN(AccountIBAN(i)); err != nil {
			t.Errorf("AccountIBAN(%d) = %s: %v", i, AccountIBAN(i), err)
		}
	}
	if AccountIBAN(0) == AccountIBAN(1) {
		t.Error("two account holders share an IBAN")
	}
}

// byteRecorder keeps every byte a party received.
type byteRecorder struct {
	next wire.RoundTripper
	in   bool // record requests (the callee receives) or responses (the caller receives)
	mu   sync.Mutex
	got  [][]byte
}

func (r *byteRecorder) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	resp, err := r.next.RoundTrip(ctx, req)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.in {
		r.got = append(r.got, bytes.Clone(req))
	} else {
		r.got = append(r.got, bytes.Clone(resp))
	}
	return resp, err
}

func (r *byteRecorder) all() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.got, nil)
}

// TestAccountPurchaseThroughBank pays from a bank account, under both
// suites, through a real issuer host: the gateway opens the PI's account,
// the bank holds, debits and declines it by IBAN, and the account never
// reaches the merchant — not its database, its log, nor any byte it
// received from the wallet or the gateway.
func TestAccountPurchaseThroughBank(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			bk := newBankHost(t)
			client := iso8583.NewClient(bk.addr, iso8583.ClientConfig{Timeout: 5 * time.Second, Attempts: 2, Log: slog.New(slog.DiscardHandler)})
			t.Cleanup(func() { client.Close() })
			dir := t.TempDir()
			ms, err := sqlite.Open(filepath.Join(dir, "merchant.db"))
			if err != nil {
				t.Fatal(err)
			}
			gs := sqlitetest.Memory(t)
			t.Cleanup(func() { ms.Close() })
			var mlog bytes.Buffer
			var l *Lab
			fromGateway := &byteRecorder{next: wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
				return l.Gateway.Serve(ctx, req)
			})}
			l, err = New(Options{Suite: st, MerchantStore: ms, GatewayStore: gs, GatewayRT: fromGateway,
				MerchantLog: slog.New(slog.NewTextHandler(&mlog, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Issuer:      banklink.New(client, banklink.Config{AcquirerID: "4711"})})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bk.ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
				t.Fatal(err)
			}
			acct, err := bk.ledger.OpenDeposit(ctx, bank.Deposit{Number: testIBAN, Holder: "account holder", Currency: 840, Opening: 100_00})
			if err != nil {
				t.Fatal(err)
			}
			i, err := l.AddAccountHolder(msg.BankAccount{IBAN: testIBAN})
			if err != nil {
				t.Fatal(err)
			}
			assertNoIBAN(t, "the account holder's certificate", l.Certificates["cardholder-2"], testIBAN)
			toMerchant := &byteRecorder{next: wire.ServeFunc(l.Merchant.Serve), in: true}
			buy := func(w *wallet.Wallet, amount int64) (msg.XID, msg.CompletionCode) {
				t.Helper()
				offer, err := l.Merchant.Checkout(ctx, "books", USD(amount))
				if err != nil {
					t.Fatal(err)
				}
				p, res, err := w.Pay(ctx, toMerchant, OfferFor(offer))
				if err != nil {
					t.Fatalf("Pay: %v", err)
				}
				return p.TransIDs().XID, res.Completion
			}

			xid, completion := buy(l.Wallets[i], 30_00)
			if completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase from the account: %v", completion)
			}
			if f := bk.funds(acct); f.Held != 30_00 || f.Balance != 100_00 {
				t.Fatalf("after authorization: %+v", f)
			}
			if code, err := l.Merchant.Capture(ctx, xid); err != nil || code != msg.CapSuccess {
				t.Fatalf("Capture = %v, %v", code, err)
			}
			if f := bk.funds(acct); f.Held != 0 || f.Balance != 70_00 {
				t.Fatalf("after capture: %+v", f)
			}
			if _, completion := buy(l.Wallets[i], 80_00); completion != msg.OrderRejected {
				t.Fatalf("purchase over the balance: %v, want rejected", completion)
			}
			bk.audit()

			if err := ms.Close(); err != nil {
				t.Fatal(err)
			}
			files, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, f.Name()))
				if err != nil {
					t.Fatal(err)
				}
				assertNoIBAN(t, "the merchant's "+f.Name(), b, testIBAN)
			}
			assertNoIBAN(t, "the merchant's log", mlog.Bytes(), testIBAN)
			assertNoIBAN(t, "what the merchant received from the wallet", toMerchant.all(), testIBAN)
			assertNoIBAN(t, "what the merchant received from the gateway", fromGateway.all(), testIBAN)
			// (The merchant logs little on a good day; what it logged is
			// scanned above, the messages it received must be many.)
			if len(toMerchant.all()) == 0 || len(fromGateway.all()) == 0 {
				t.Fatal("nothing recorded: the scan would see nothing")
			}
		})
	}
}

// TestAccountRegistration enrols a bank-account holder over the
// registration protocol, under both suites: its certificate is bound to
// the account without holding it, and it pays.
func TestAccountRegistration(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms, gs := sqlitetest.Memory(t), sqlitetest.Memory(t)
			l, a, err := NewRegistered(ctx, Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
			if err != nil {
				t.Fatal(err)
			}
			acct := msg.BankAccount{IBAN: AccountIBAN(3)}
			i, err := a.RegisterAccountHolder(ctx, l, nil, acct)
			if err != nil {
				t.Fatal(err)
			}
			c := l.Cards[i]
			if c.Account == nil || *c.Account != acct || c.PANSecret == (msg.Secret{}) {
				t.Fatalf("registered card %v", c)
			}
			cert := l.Certificates["cardholder-2"]
			assertNoIBAN(t, "the account holder's certificate", cert, acct.IBAN)
			offer, err := l.Merchant.Checkout(ctx, "a hat", USD(15_00))
			if err != nil {
				t.Fatal(err)
			}
			_, res, err := l.Wallets[i].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
			if err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase by the registered account holder: %v, %v", res, err)
			}
			// Another account under a certificate is refused: the
			// certificate binds its own account and secret only.
			reg, err := wallet.Register(ctx, wire.ServeFunc(a.CCA.Serve), wallet.RegisterConfig{Suite: st, Roots: a.Roots,
				Card: wallet.Card{BrandID: "SETpay", Account: &msg.BankAccount{IBAN: AccountIBAN(5)}}, Answers: cardholderAnswers})
			if err != nil {
				t.Fatal(err)
			}
			assertNoIBAN(t, "the second account holder's certificate", reg.Cert, AccountIBAN(5))
			other := reg.Card
			other.Account = &msg.BankAccount{IBAN: AccountIBAN(4)}
			w, err := wallet.New(wallet.Config{Suite: st, Key: reg.Key, Cert: reg.Cert, Chain: reg.Chain, Card: other, Roots: l.Roots, Revocation: l.Revocations()})
			if err != nil {
				t.Fatal(err)
			}
			offer, err = l.Merchant.Checkout(ctx, "a hat", USD(15_00))
			if err != nil {
				t.Fatal(err)
			}
			if _, res, err := w.Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer)); err == nil && res.Completion == msg.AuthorizationAccepted {
				t.Fatal("a certificate paid for an account it does not name")
			}
		})
	}
}
