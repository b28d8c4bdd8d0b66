package bank

import (
	"context"
	"testing"
	"time"

	"github.com/setpay/setpay/store/sqlite"
	"pgregory.net/rapid"
)

// TestLedgerProperties runs random sequences of authorizations (some
// sales), partial captures, reversals (of a sale: its void), credits,
// credit reversals and retransmissions, and
// checks after every step that the ledger audits clean and that the
// issuer's answers agree with a model of each authorization.
func TestLedgerProperties(t *testing.T) {
	ctx := context.Background()
	run := 0
	rapid.Check(t, func(t *rapid.T) {
		run++
		// A fresh store per run keeps each audit small.
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		l := NewLedger(db, func() time.Time { return today })
		if _, err := l.OpenMerchant(ctx, "M1", "", eur); err != nil {
			t.Fatal(err)
		}
		pan := luhnComplete(rapid.StringMatching(`4[0-9]{14}`).Draw(t, "pan"))
		card, err := l.OpenCard(ctx, Card{PAN: pan, Expiry: "3112", Currency: eur,
			Limit: rapid.Int64Range(0, 500).Draw(t, "limit"), Opening: rapid.Int64Range(0, 500).Draw(t, "opening")})
		if err != nil {
			t.Fatal(err)
		}
		is := NewIssuer(l)
		type model struct {
			id                       MessageID
			held, captured, credited int64
			sale                     bool
		}
		var auths []*model
		var sent []FollowUp
		var sentOps []int
		stan := 0
		next := func() MessageID {
			stan++
			return MessageID{AcquirerID: "1", STAN: "000000"[:6-len(itoa(stan))] + itoa(stan), TransmissionTime: "01" + pad8(run)}
		}
		steps := rapid.IntRange(1, 30).Draw(t, "steps")
		for range steps {
			op := rapid.IntRange(0, 5).Draw(t, "op")
			if op > 0 && len(auths) == 0 {
				op = 0
			}
			switch op {
			case 0: // authorize, sometimes a sale
				before, _ := l.Funds(ctx, card)
				amt := rapid.Int64Range(1, 300).Draw(t, "amount")
				sale := rapid.Bool().Draw(t, "sale")
				resp, err := is.Authorize(ctx, AuthRequest{ID: next(), PAN: pan, Expiry: "3112", Amount: amt,
					Currency: eur, MerchantID: "M1", Capture: sale})
				if err != nil {
					t.Fatal(err)
				}
				if approved := resp.ResponseCode == Approved; approved != (amt <= before.OpenToBuy) {
					t.Fatalf("amount %d, open-to-buy %d: %s", amt, before.OpenToBuy, resp.ResponseCode)
				}
				if resp.ResponseCode == Approved {
					m := &model{id: MessageID{}, held: amt}
					m.id, _ = idOf(resp.AuthID)
					if sale {
						m.held, m.captured, m.sale = 0, amt, true
					}
					auths = append(auths, m)
				}
			case 1, 2, 3, 5: // capture, reverse, credit, credit reversal
				m := auths[rapid.IntRange(0, len(auths)-1).Draw(t, "auth")]
				amt := rapid.Int64Range(0, 320).Draw(t, "amount")
				f := FollowUp{ID: next(), Original: m.id, Amount: amt}
				fn := []func(context.Context, FollowUp) (*Response, error){nil, is.Capture, is.Reverse, is.Credit, nil, is.ReverseCredit}[op]
				resp, err := fn(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var wantOK bool
				switch op {
				case 1:
					wantOK = amt > 0 && amt <= m.held
					if wantOK {
						m.held -= amt
						m.captured += amt
					}
				case 2:
					wantOK = true
					if m.sale { // a void returns the debit
						v := amt
						if v == 0 || v > m.captured-m.credited {
							v = m.captured - m.credited
						}
						m.credited += v
						break
					}
					rel := amt
					if rel == 0 || rel > m.held {
						rel = m.held
					}
					m.held -= rel
				case 3:
					wantOK = amt > 0 && amt <= m.captured-m.credited
					if wantOK {
						m.credited += amt
					}
				case 5:
					wantOK = amt > 0 && amt <= m.credited
					if wantOK {
						m.credited -= amt
					}
				}
				if (resp.ResponseCode == Approved) != wantOK {
					t.Fatalf("op %d amount %d on %+v: %s", op, amt, m, resp.ResponseCode)
				}
				if resp.Held != m.held && wantOK || (wantOK && (resp.Captured != m.captured || resp.Credited != m.credited)) {
					t.Fatalf("op %d: issuer says %+v, model %+v", op, resp, m)
				}
				sent, sentOps = append(sent, f), append(sentOps, op)
			case 4: // retransmit an earlier follow-up: no effect
				if len(sent) == 0 {
					continue
				}
				i := rapid.IntRange(0, len(sent)-1).Draw(t, "retransmit")
				before, _ := l.Funds(ctx, card)
				fn := []func(context.Context, FollowUp) (*Response, error){nil, is.Capture, is.Reverse, is.Credit, nil, is.ReverseCredit}[sentOps[i]]
				if _, err := fn(ctx, sent[i]); err != nil {
					t.Fatal(err)
				}
				if after, _ := l.Funds(ctx, card); after != before {
					t.Fatalf("retransmission moved funds: %+v → %+v", before, after)
				}
			}
			if err := l.Audit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var held int64
		for _, m := range auths {
			held += m.held
		}
		if f, _ := l.Funds(ctx, card); f.Held != held {
			t.Fatalf("account holds %d, model %d", f.Held, held)
		}
	})
}

// luhnComplete replaces the last digit of s with its Luhn check digit.
func luhnComplete(s string) string {
	b := []byte(s)
	for d := byte('0'); d <= '9'; d++ {
		b[len(b)-1] = d
		if luhnValid(string(b)) {
			break
		}
	}
	return string(b)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func pad8(n int) string {
	s := itoa(n % 100_000_000)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

// idOf parses a MessageID key back.
func idOf(key string) (MessageID, bool) {
	var parts []string
	start := 0
	for i := 0; i <= len(key); i++ {
		if i == len(key) || key[i] == '/' {
			parts = append(parts, key[start:i])
			start = i + 1
		}
	}
	if len(parts) != 3 {
		return MessageID{}, false
	}
	return MessageID{parts[0], parts[1], parts[2]}, true
}
