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
	t.printf("  certificate authorities  root → brand → cardholder / merchant / payment CA, each on loopback HTTP\n")
	t.printf("  gateway   %s  store %s\n", rep.GatewayURL, rep.GatewayDir)
	t.printf("  merchant  %s  store %s\n", rep.MerchantURL, rep.MerchantDir)
	if rep.BankDir != "" {
		t.printf("  bank      iso8583://%s  store %s  (issuer host in process; the gateway asks it over ISO 8583)\n", rep.IssuerAddr, rep.BankDir)
	} else {
		t.printf("  bank      iso8583://%s  (external issuer host; the gateway asks it over ISO 8583)\n", rep.IssuerAddr)
	}
	for i, c := range l.Cards {
		t.printf("  wallet %d  %s\n", i+1, cardLabel(c))
	}
}

func (t *transcript) purchaseStart(of int, p *Purchase, card wallet.Card) {
	t.printf("\npurchase %d of %d: cardholder %d (%s) buys %q for %s\n",
		p.Number, of, p.Cardholder, cardLabel(card), p.Description, formatAmount(p.Amount))
}

// messages prints a step's SET messages and, right after the request
// that made the gateway ask the bank, the ISO 8583 messages of that step.
func (t *transcript) messages(msgs []Message, bank []BankMessage) {
	for _, m := range msgs {
		t.printf("  #%02d  %-8s → %-8s  %-13s  %5d bytes\n", m.Seq, m.From, m.To, m.Type, len(m.DER))
		if m.To == Gateway {
			t.bankMessages(bank)
			bank = nil
		}
	}
	t.bankMessages(bank)
}

// bankMessages prints ISO 8583 messages: MTI, size, masked card, response
// code. Never the PAN.
func (t *transcript) bankMessages(msgs []BankMessage) {
	for _, m := range msgs {
		line := fmt.Sprintf("    iso  %-8s → %-8s  %-8s  %5d bytes  %s", m.From, m.To, m.MTI, len(m.Frame), bankDescription(m.MTI))
		if m.Card != "" {
			line += ", card " + m.Card
		}
		if m.ResponseCode != "" {
			line += ", response code " + m.ResponseCode
		}
		t.printf("%s\n", line)
	}
}

// ledger prints the bank's books after the run.
func (t *transcript) ledger(rep *Report, external string) {
	lc := rep.Ledger
	if lc == nil {
		return
	}
	if external != "" {
		t.printf("\nledger: kept by the external issuer host %s; its audit, run there on its books and asked for over ISO 8583,\n", external)
		if lc.Audit != nil {
			t.printf("  FAILED: %v\n", lc.Audit)
			return
		}
		t.printf("  held: every journal entry balanced (debits = credits), every balance equals its postings, every hold accounted for\n")
		return
	}
	t.printf("\nledger check (the bank's books, read back after the run):\n")
	for _, c := range lc.Cards {
		t.printf("  card %s  opening %s  held %s  captured %s  balance %s\n", c.Card, usd(c.Opening), usd(c.Held), usd(c.Captured), usd(c.Balance))
	}
	if lc.Audit != nil {
		t.printf("  audit FAILED: %v\n", lc.Audit)
		return
	}
	t.printf("  audit: every journal entry balanced (debits = credits), every balance equals its postings,\n")
	t.printf("         every hold accounted for, every balance = opening − captured + credited\n")
}

func usd(cents int64) string {
	return formatAmount(msg.CurrencyAmount{Currency: 840, Amount: cents, AmtExp10: -2})
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
