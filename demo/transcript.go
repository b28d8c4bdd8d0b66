package demo

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// transcript writes what happens for a reader following along. Write
// errors are ignored: the transcript is a view, the Report is the result.
type transcript struct {
	w     io.Writer
	quiet bool
}

func (t *transcript) printf(format string, args ...any) {
	if !t.quiet {
		fmt.Fprintf(t.w, format, args...)
	}
}

func (t *transcript) header(opts Options, rep *Report, l *lab.Lab) {
	t.printf("setpay demo: suite %s, %d purchase(s), %d cardholder(s)\n", rep.Suite, opts.Purchases, len(l.Wallets))
	t.printf("  certificate authorities  root → brand → cardholder / merchant / payment CA (in process)\n")
	t.printf("  gateway   %s  store %s\n", rep.GatewayURL, rep.GatewayDir)
	t.printf("  merchant  %s  store %s\n", rep.MerchantURL, rep.MerchantDir)
	for i, c := range l.Cards {
		t.printf("  wallet %d  card %s\n", i+1, wallet.MaskPAN(c.PAN))
	}
}

func (t *transcript) purchaseStart(of int, p *Purchase, card wallet.Card) {
	t.printf("\npurchase %d of %d: cardholder %d (card %s) buys %q for %s\n",
		p.Number, of, p.Cardholder, wallet.MaskPAN(card.PAN), p.Description, formatAmount(p.Amount))
}

func (t *transcript) messages(msgs []Message) {
	for _, m := range msgs {
		t.printf("  #%02d  %-8s → %-8s  %-8s  %5d bytes\n", m.Seq, m.From, m.To, m.Type, len(m.DER))
	}
}

func (t *transcript) walletResult(id suite.ID, p *Purchase) {
	line := fmt.Sprintf("  wallet: %s", p.Completion)
	switch {
	case p.GatewayProof != nil:
		line += fmt.Sprintf("; gateway-signed proof checked: %s, %s", p.GatewayProof.AuthCode, formatAmount(p.GatewayProof.Amount))
	case id == suite.Set1:
		line += " (set1: the merchant's word only, as in 1997)"
	default:
		line += "; no gateway-signed proof"
	}
	t.printf("%s\n", line)
}

// records prints what each party kept, read back from its own store.
func (t *transcript) records(p *Purchase) {
	o, a := p.Order, p.Authorization
	t.printf("  merchant saw: order %s %q, %s, %s, authorization %s  (no card number)\n",
		shortXID(p.XID), o.Description, formatAmount(p.Amount), o.State, o.AuthCode)
	t.printf("  gateway saw:  transaction %s, card %s, %s, %s, %s  (no order description)\n",
		shortXID(p.XID), a.PANMasked, formatAmount(msg.CurrencyAmount{Currency: a.Currency, Amount: a.Amount, AmtExp10: a.AmtExp10}), a.Result, a.State)
}

func (t *transcript) summary(rep *Report, err error) {
	n, size := len(rep.Messages), 0
	for _, m := range rep.Messages {
		size += len(m.DER)
	}
	done := 0
	for _, p := range rep.Purchases {
		if p.Err == nil && p.CapCode == msg.CapSuccess {
			done++
		}
	}
	if !t.quiet {
		fmt.Fprintln(t.w)
	}
	if err != nil {
		fmt.Fprintf(t.w, "FAILED: suite %s, %d of %d purchase(s) authorized and captured, %d messages (%d bytes): %v\n",
			rep.Suite, done, len(rep.Purchases), n, size, err)
		return
	}
	fmt.Fprintf(t.w, "ok: suite %s, %d purchase(s) authorized and captured, %d messages (%d bytes), every check held\n",
		rep.Suite, done, n, size)
}

func shortXID(x msg.XID) string { return hex.EncodeToString(x[:4]) + "…" }

// formatAmount prints an amount in its currency's major units.
func formatAmount(a msg.CurrencyAmount) string {
	cur := fmt.Sprintf("currency %03d", a.Currency)
	switch a.Currency {
	case 840:
		cur = "USD"
	case 978:
		cur = "EUR"
	}
	v := fmt.Sprint(a.Amount)
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	switch {
	case a.AmtExp10 < 0 && a.AmtExp10 > -19:
		d := -a.AmtExp10
		if len(v) <= d {
			v = strings.Repeat("0", d-len(v)+1) + v
		}
		v = v[:len(v)-d] + "." + v[len(v)-d:]
	case a.AmtExp10 > 0 && a.AmtExp10 < 19:
		v += strings.Repeat("0", a.AmtExp10)
	}
	if neg {
		v = "-" + v
	}
	return cur + " " + v
}
