package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// The day as the test knows it: its steps and amounts restated here, so
// that the settlement and the books are checked against figures the
// demo did not compute.
type wantStep struct {
	kind       string
	merchant   string
	cardholder int   // from 1; 0: none
	cents      int64 // what the order (or refund) is for
	bank       []string
	modernOnly bool
	// path is a certificate step's messages, "from to type" each.
	path []string
}

const (
	bookshop   = "MER-0001"
	recordShop = "MER-0002"
	feeBPS     = 150
)

// The certificate steps' messages.
var (
	cardRegistration = []string{"wallet cca CardCInitReq", "cca wallet CardCInitRes", "wallet cca RegFormReq",
		"cca wallet RegFormRes", "wallet cca CertReq", "cca wallet CertRes"}
	certInquiry      = []string{"wallet cca CertInqReq", "cca wallet CertInqRes"}
	merchantRenewal  = []string{"merchant2 mca Me-AqCInitReq", "mca merchant2 Me-AqCInitRes", "merchant2 mca CertReq", "mca merchant2 CertRes"}
	heldPath         = slices.Concat(cardRegistration, certInquiry, certInquiry) // pending, then the certificate
	refusedPath      = slices.Concat(cardRegistration, certInquiry)
	renewedCardPath  = cardRegistration
	renewedStorePath = merchantRenewal
)

// newcomer is the cardholder registered during the day, after review.
const newcomer = 4

var dayPlan = []wantStep{
	{kind: demo.StepBatchOpen, merchant: bookshop},
	{kind: demo.StepBatchOpen, merchant: recordShop},
	{kind: demo.StepHeld, cardholder: newcomer, path: heldPath},
	{demo.StepPurchase, bookshop, 1, 49_99, []string{"00"}, false, nil},
	{demo.StepPurchase, recordShop, 2, 24_50, []string{"00"}, false, nil},
	{demo.StepPurchase, bookshop, 3, 12_50, []string{"00"}, true, nil},
	{demo.StepPurchase, recordShop, 1, 59_98, []string{"00"}, true, nil},
	{demo.StepPurchase, bookshop, newcomer, 38_00, []string{"00"}, false, nil},
	// Authorize and capture the first shipment, authorize and capture the second.
	{demo.StepSplit, bookshop, 2, 111_00, []string{"00", "00", "00", "00"}, false, nil},
	{demo.StepDecline, recordShop, 3, 249_00, []string{"51"}, false, nil},
	// Authorized, then reversed.
	{demo.StepReversal, recordShop, 1, 15_00, []string{"00", "00"}, false, nil},
	{kind: demo.StepRenewal, cardholder: newcomer, path: renewedCardPath},
	{kind: demo.StepRenewal, merchant: recordShop, path: renewedStorePath},
	// The renewed cardholder at the renewed merchant.
	{demo.StepPurchase, recordShop, newcomer, 31_00, []string{"00"}, false, nil},
	{kind: demo.StepRefused, path: refusedPath},
	{demo.StepCapture, bookshop, 1, 49_99, []string{"00"}, false, nil},
	{demo.StepCapture, recordShop, 2, 24_50, []string{"00"}, false, nil},
	{demo.StepCapture, bookshop, 3, 12_50, []string{"00"}, true, nil},
	{demo.StepCapture, recordShop, 1, 59_98, []string{"00"}, true, nil},
	{demo.StepCapture, bookshop, newcomer, 38_00, []string{"00"}, false, nil},
	{demo.StepCapture, recordShop, newcomer, 31_00, []string{"00"}, false, nil},
	{demo.StepRefund, bookshop, 1, 10_00, []string{"00"}, false, nil},
	{kind: demo.StepBatchClose, merchant: bookshop},
	{kind: demo.StepBatchClose, merchant: recordShop},
	{kind: demo.StepSettle},
}

// openings are the cardholders' opening balances at the bank: the
// three registered before the day, then the newcomer.
var openings = []int64{300_00, 0, 0, 0}

func planFor(id suite.ID) []wantStep {
	var out []wantStep
	for _, s := range dayPlan {
		if !s.modernOnly || id != suite.Set1 {
			out = append(out, s)
		}
	}
	return out
}

// messagesOf is how many SET messages a step sends.
func messagesOf(s wantStep) int {
	if s.path != nil {
		return len(s.path)
	}
	return map[string]int{
		demo.StepBatchOpen: 2, demo.StepBatchClose: 2, demo.StepPurchase: 6, demo.StepDecline: 6,
		demo.StepSplit: 6 + 3*2, demo.StepReversal: 6 + 2, demo.StepCapture: 2, demo.StepRefund: 2,
	}[s.kind]
}

func runTheDay(t *testing.T, id suite.ID) *run {
	t.Helper()
	dir := t.TempDir()
	r := &run{data: filepath.Join(dir, "data"), out: filepath.Join(dir, "out")}
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := demo.Run(ctx, demo.Options{Suite: id, DataDir: r.data, OutDir: r.out}, &buf)
	r.rep, r.transcript = rep, buf.String()
	if err != nil {
		t.Fatalf("demo.Run: %v\n%s", err, r.transcript)
	}
	if rep.Day == nil {
		t.Fatalf("the default scenario is not the day:\n%s", r.transcript)
	}
	return r
}

// TestDay runs the day in each suite and checks every step's outcome, the
// settlement and the books against the test's own figures, the transcript
// and the split of knowledge between the merchants and the gateway.
func TestDay(t *testing.T) {
	for _, id := range []suite.ID{suite.Modern, suite.Set1} {
		t.Run(string(id), func(t *testing.T) {
			r := runTheDay(t, id)
			plan := planFor(id)
			t.Run("steps", func(t *testing.T) { checkDaySteps(t, r, plan) })
			t.Run("settlement", func(t *testing.T) { checkSettlement(t, r, plan) })
			t.Run("ledger", func(t *testing.T) { checkDayLedger(t, r, plan) })
			t.Run("transcript", func(t *testing.T) { checkDayTranscript(t, r, plan) })
			t.Run("files", func(t *testing.T) { checkFiles(t, r) })
			t.Run("confidentiality", func(t *testing.T) { checkDayConfidentiality(t, r) })
		})
	}
}

func checkDaySteps(t *testing.T, r *run, plan []wantStep) {
	steps := r.rep.Day.Steps
	if len(steps) != len(plan) {
		t.Fatalf("%d steps, want %d", len(steps), len(plan))
	}
	for i, w := range plan {
		s := steps[i]
		name := fmt.Sprintf("step %d (%s)", i+1, w.kind)
		if s.Number != i+1 || s.Kind != w.kind || s.Err != nil {
			t.Errorf("%s: got step %d %s, err %v", name, s.Number, s.Kind, s.Err)
			continue
		}
		if w.kind != demo.StepSettle && s.Merchant != w.merchant {
			t.Errorf("%s: at %s, want %s", name, s.Merchant, w.merchant)
		}
		if s.Cardholder != w.cardholder {
			t.Errorf("%s: cardholder %d, want %d", name, s.Cardholder, w.cardholder)
		}
		if !slices.Equal(s.BankCodes, w.bank) {
			t.Errorf("%s: the bank answered %q, want %q", name, s.BankCodes, w.bank)
		}
		if w.cents != 0 && s.Amount != w.cents {
			t.Errorf("%s: amount %d, want %d", name, s.Amount, w.cents)
		}
		var ok bool
		switch w.kind {
		case demo.StepBatchOpen, demo.StepBatchClose:
			ok = s.BatchCode == msg.BatchAdminSuccess
		case demo.StepPurchase:
			ok = s.Completion == msg.AuthorizationAccepted && s.AuthCode == "approved"
		case demo.StepSplit:
			ok = s.Completion == msg.AuthorizationAccepted && s.AuthCode == "approved" && s.CapCode == msg.CapSuccess
		case demo.StepDecline:
			ok = s.Completion == msg.OrderRejected && s.AuthCode == "declined"
		case demo.StepReversal:
			ok = s.Completion == msg.AuthorizationAccepted && s.AuthRevCode == msg.AuthRevSuccess
		case demo.StepCapture:
			ok = s.CapCode == msg.CapSuccess
		case demo.StepRefund:
			ok = s.CredCode == msg.CapRevOrCredSuccess
		case demo.StepSettle:
			ok = len(s.BankCodes) == 0
		case demo.StepHeld:
			// Held at the CertReq, issued on approval, fetched with CertInqReq.
			ok = s.Held.CertStatusCode == msg.RequestPended && s.CertStatus.CertStatusCode == msg.RequestComplete && s.NewSerial != nil
		case demo.StepRenewal:
			ok = s.CertStatus.CertStatusCode == msg.RequestComplete && s.OldSerial != nil && s.NewSerial != nil && s.OldSerial.Cmp(s.NewSerial) != 0
		case demo.StepRefused:
			ok = s.Held.CertStatusCode == msg.RequestPended && s.CertStatus.CertStatusCode == msg.RejectByIssuer &&
				s.CertStatus.EEMessage != "" && s.NewSerial == nil
		}
		if !ok {
			t.Errorf("%s: outcome %+v", name, s)
		}
		if w.path != nil {
			var got []string
			for _, m := range r.rep.Messages {
				if m.Purchase == s.Number {
					got = append(got, m.From+" "+m.To+" "+m.Type)
				}
			}
			if !slices.Equal(got, w.path) {
				t.Errorf("%s: messages\n%q\nwant\n%q", name, got, w.path)
			}
		}
	}
	checkRenewedSale(t, r, plan)
	// The declined purchase's wallet holds the gateway's signed "no" in
	// the modern suite.
	for _, p := range r.rep.Purchases {
		if !strings.Contains(p.Description, "Turntable") {
			continue
		}
		if (r.rep.Suite == suite.Modern) != (p.GatewayProof != nil && p.GatewayProof.AuthCode == msg.AuthDeclined) {
			t.Errorf("declined purchase: gateway proof %+v in suite %s", p.GatewayProof, r.rep.Suite)
		}
	}
}

// checkRenewedSale: the purchase after both renewals carries the renewed
// certificates, the cardholder's in its PReq, the merchant's in its
// PInitRes; neither carries the ones renewed.
func checkRenewedSale(t *testing.T, r *run, plan []wantStep) {
	rep := r.rep
	sale := 0
	for i, w := range plan {
		if w.kind == demo.StepPurchase && w.cardholder == newcomer && w.merchant == recordShop {
			sale = i + 1
		}
	}
	carried := func(typ string, cert []byte) bool {
		for _, m := range rep.Messages {
			if m.Purchase == sale && m.Type == typ && bytes.Contains(m.DER, cert) {
				return true
			}
		}
		return false
	}
	newcomerCert := fmt.Sprintf("cardholder-%d", newcomer)
	for _, c := range []struct {
		typ, cert string
		want      bool
	}{
		{"PReq", newcomerCert + "-renewed", true},
		{"PReq", newcomerCert, false},
		{"PInitRes", "merchant2-signature-renewed", true},
		{"PInitRes", "merchant2-signature", false},
	} {
		cert := rep.Certificates[c.cert]
		if cert == nil {
			t.Errorf("no certificate %s in the report", c.cert)
			continue
		}
		if got := carried(c.typ, cert); got != c.want {
			t.Errorf("step %d's %s carries %s: %v, want %v", sale, c.typ, c.cert, got, c.want)
		}
	}
}

// merchantTotals is what the test expects a merchant's batch to settle.
type merchantTotals struct {
	count                    int
	sales, refunds, fee, net int64
}

func expectedTotals(plan []wantStep) map[string]*merchantTotals {
	m := map[string]*merchantTotals{bookshop: {}, recordShop: {}}
	for _, s := range plan {
		switch s.kind {
		case demo.StepCapture:
			m[s.merchant].sales += s.cents
			m[s.merchant].count++
		case demo.StepSplit: // two shipments, each its own capture
			m[s.merchant].sales += s.cents
			m[s.merchant].count += 2
		case demo.StepRefund:
			m[s.merchant].refunds += s.cents
			m[s.merchant].count++
		}
	}
	for _, x := range m {
		// Interchange: sales × 1.5 %, rounded half up to the cent.
		x.fee = (x.sales*feeBPS + 5000) / 10000
		x.net = x.sales - x.refunds - x.fee
	}
	return m
}

func checkSettlement(t *testing.T, r *run, plan []wantStep) {
	day := r.rep.Day
	if day.FeeBPS != feeBPS {
		t.Fatalf("interchange %d bps, want %d", day.FeeBPS, feeBPS)
	}
	want := expectedTotals(plan)
	if len(day.Settlements) != 2 || len(day.Report) != 2 {
		t.Fatalf("%d settlements, %d report lines; want one per merchant", len(day.Settlements), len(day.Report))
	}
	for _, s := range day.Settlements {
		w := want[s.MerchantID]
		if w == nil || s.Count != w.count || s.Sales != w.sales || s.Refunds != w.refunds || s.Fee != w.fee || s.Net != w.net || s.Gross != w.sales-w.refunds {
			t.Errorf("settlement %+v, want %+v", s, w)
		}
	}
	for _, l := range day.Report {
		w := want[l.MerchantID]
		if w == nil || l.Batches != 1 || l.Count != w.count || l.Gross != w.sales-w.refunds || l.Fees != w.fee || l.Net != w.net || l.Currency != 840 {
			t.Errorf("report line %+v, want %+v", l, w)
		}
	}
	// The bookshop's day in the modern suite, by hand: sales 49.99 + 12.50
	// + 38.00 + 74.00 + 37.00, a refund of 10.00, fee 3.17.
	if r.rep.Suite == suite.Modern {
		if w := want[bookshop]; w.sales != 211_49 || w.fee != 3_17 || w.net != 198_32 {
			t.Errorf("the test's own arithmetic is off: %+v", w)
		}
	}
}

func checkDayLedger(t *testing.T, r *run, plan []wantStep) {
	if r.rep.Ledger == nil || r.rep.Ledger.Audit != nil {
		t.Fatalf("ledger %+v", r.rep.Ledger)
	}
	balance := slices.Clone(openings)
	for _, s := range plan {
		switch s.kind {
		case demo.StepCapture, demo.StepSplit:
			balance[s.cardholder-1] -= s.cents
		case demo.StepRefund:
			balance[s.cardholder-1] += s.cents
		}
	}
	cards := r.rep.Day.Cards
	if len(cards) != len(openings) || cards[newcomer-1].Captured == 0 {
		t.Fatalf("%d cards, want %d", len(cards), len(openings))
	}
	for i, c := range cards {
		if c.Opening != openings[i] || c.Balance != balance[i] || c.Held != 0 || c.Opening-c.Captured+c.Credited != c.Balance {
			t.Errorf("card %d: %+v; want opening %d, balance %d, nothing held", i+1, c, openings[i], balance[i])
		}
	}
}

func checkDayTranscript(t *testing.T, r *run, plan []wantStep) {
	rep := r.rep
	reg := append(wantRegistration(3), "merchant2 mca Me-AqCInitReq", "mca merchant2 Me-AqCInitRes", "merchant2 mca CertReq", "mca merchant2 CertRes")
	if rep.Registrations != len(reg) {
		t.Fatalf("%d registration messages, want %d", rep.Registrations, len(reg))
	}
	var got []string
	for _, m := range rep.Messages[:rep.Registrations] {
		got = append(got, m.From+" "+m.To+" "+m.Type)
	}
	if !slices.Equal(got, reg) {
		t.Errorf("registration:\n%q\nwant\n%q", got, reg)
	}
	n := rep.Registrations
	for _, s := range plan {
		n += messagesOf(s)
	}
	if len(rep.Messages) != n {
		t.Errorf("%d messages, want %d", len(rep.Messages), n)
	}
	// Every message is listed where it belongs, in order.
	lines := messageLine.FindAllStringSubmatch(r.transcript, -1)
	if len(lines) != len(rep.Messages) {
		t.Fatalf("transcript lists %d messages, the report %d", len(lines), len(rep.Messages))
	}
	for i, m := range lines {
		if got := rep.Messages[i]; m[1] != fmt.Sprintf("%02d", got.Seq) || m[2] != got.From || m[3] != got.To || m[4] != got.Type {
			t.Errorf("transcript line %q, report %d %s → %s %s", m[0], got.Seq, got.From, got.To, got.Type)
		}
	}
	headings := regexp.MustCompile(`(?m)^step (\d+), ([a-z ]+): `).FindAllStringSubmatch(r.transcript, -1)
	if len(headings) != len(plan) {
		t.Fatalf("%d step headings, want %d", len(headings), len(plan))
	}
	for i, h := range headings {
		if h[1] != fmt.Sprint(i+1) || h[2] != plan[i].kind {
			t.Errorf("heading %q, want step %d, %s", h[0], i+1, plan[i].kind)
		}
	}
	for _, want := range []string{
		"response code 51",
		"settlement report (the acquirer's, over settled batches):",
		"    MER-0001  1 batch(es)",
		"    MER-0002  1 batch(es)",
		"ledger check (the bank's books, read back after the day):",
		"audit: every journal entry balanced (debits = credits)",
		"the second merchant's store, log and inbox hold no card number",
		"wallet: CertRes says requestPended",
		"wallet: CertInqRes says requestPended: not decided yet",
		"issuer's operator approves request",
		"wallet: CertInqRes says requestComplete: certificate serial",
		"wallet: certificate serial",
		"merchant2: signature certificate serial",
		"wallet: CertInqRes says rejectByIssuer: ",
	} {
		if !strings.Contains(r.transcript, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	w := expectedTotals(plan)[bookshop]
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^  MER-0001 .* USD %d\.%02d$`, w.net/100, w.net%100)).MatchString(r.transcript) {
		t.Errorf("no settlement line for the bookshop netting %d", w.net)
	}
	if !regexp.MustCompile(`(?m)^ok: suite ` + string(rep.Suite) + `, a day of ` + fmt.Sprint(len(plan)) + ` steps at 2 merchants: .*, 1 declined, 1 reversed, 1 refund\(s\), 2 batch\(es\) settled, 1 registration\(s\) held then approved, 1 refused, 2 certificate renewal\(s\); \d+ messages \(\d+ bytes\), every check held$`).MatchString(r.transcript) {
		t.Errorf("no summary line:\n%s", r.transcript[max(0, len(r.transcript)-600):])
	}
	if strings.Contains(r.transcript, rep.PANs[0]) {
		t.Error("the transcript prints a card number")
	}
}

// checkDayConfidentiality: no card number at either merchant, no order
// description at the gateway; positive controls show the scans see the
// bytes they should.
func checkDayConfidentiality(t *testing.T, r *run) {
	rep := r.rep
	gateway := slices.Concat(filesUnder(t, rep.GatewayDir), inbox(rep, demo.Gateway))
	for _, m := range rep.Day.Merchants {
		if m.Dir != filepath.Join(r.data, m.Party) {
			t.Fatalf("merchant %s keeps its files in %s, not under %s", m.ID, m.Dir, r.data)
		}
		files := slices.Concat(filesUnder(t, m.Dir), inbox(rep, m.Party))
		for _, pan := range rep.PANs {
			for _, f := range panForms(pan) {
				if where := f.foundIn(files); where != "" {
					t.Errorf("card %s…%s found at %s as %s in %s", pan[:6], pan[len(pan)-4:], m.Party, f.name, where)
				}
			}
		}
		// Positive control: each merchant's database holds its own orders'
		// descriptions.
		found := 0
		for _, p := range rep.Purchases {
			if strings.HasPrefix(p.Description, m.Name+": ") && (form{"UTF-8", []byte(p.Description)}).foundIn(files) != "" {
				found++
			}
		}
		if found == 0 {
			t.Errorf("%s: no order description found in its own files: the scan reads nothing", m.Party)
		}
	}
	for _, p := range rep.Purchases {
		item := p.Description[strings.Index(p.Description, ": ")+2:]
		for _, s := range []string{p.Description, item} {
			for _, f := range textForms(s) {
				if where := f.foundIn(gateway); where != "" {
					t.Errorf("description of order %d found at the gateway as %s in %s", p.Number, f.name, where)
				}
			}
		}
	}
}
