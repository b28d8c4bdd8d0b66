package demo

// The day: two merchants and three or more cardholders trade for a day,
// with everything that happens to real payments besides the plain
// purchase — a split shipment, a declined card, an order cancelled before
// shipping, a refund — and to certificates: a registration held for the
// issuer's review and fetched with CertInqReq once approved, another
// refused at review, a cardholder's and a merchant's renewal. The day ends
// as an acquirer's does: each merchant closes its batch, the acquirer
// settles it less interchange, and the books are checked.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// Scenarios Options.Scenario names.
const (
	// ScenarioDay is a day of trading: two merchants, at least
	// DayCardholders cardholders, purchases, a split shipment, a declined
	// card, a reversal, a refund, batch close and settlement.
	ScenarioDay = "day"
	// ScenarioPurchases is Options.Purchases purchases at one merchant.
	ScenarioPurchases = "purchases"
)

// DayCardholders is how many cardholders the day needs (and has by
// default): the third one's card is the one declined.
const DayCardholders = 3

// Merchant2 is the day's second merchant's party name.
const Merchant2 = "merchant2"

// dayBrand is the brand the lab's CAs certify for (lab.Options.Brand's
// default).
const dayBrand = "SETpay"

// DayFeeBPS is the interchange fee the day's acquirer charges, in basis
// points of each batch's sales.
const DayFeeBPS = 150

// Step kinds, in the order the day first runs them.
const (
	StepBatchOpen  = "batch open"
	StepHeld       = "registration held for review"
	StepPurchase   = "purchase"
	StepSplit      = "split shipment"
	StepDecline    = "declined card"
	StepReversal   = "authorization reversal"
	StepRenewal    = "certificate renewal"
	StepRefused    = "registration refused at review"
	StepCapture    = "capture"
	StepRefund     = "refund"
	StepBatchClose = "batch close"
	StepSettle     = "settlement"
)

// Day is what the day did, beyond the messages.
type Day struct {
	FeeBPS    int
	Merchants []DayMerchant
	Steps     []*Step
	// Settlements are the acquirer's settlements of the merchants'
	// batches, in merchant order; Report its settlement report after them.
	Settlements []*bank.Settlement
	Report      []bank.ReportLine
	// Cards are the cardholders' accounts at the bank after the day.
	Cards []DayCard
}

// DayMerchant is one of the day's merchants.
type DayMerchant struct {
	ID, Name string // at the acquirer
	Party    string // in the transcript: Merchant or Merchant2
	URL, Dir string
}

// Step is one thing that happened during the day and how it came out.
type Step struct {
	Number      int // from 1
	Kind        string
	Merchant    string // the merchant's ID
	Cardholder  int    // from 1; 0 when no cardholder takes part
	Description string // what was bought, for purchases
	Amount      int64  // US cents the step authorized, captured, released or refunded
	XID         msg.XID

	// Completion is what the wallet learned (purchase steps); AuthCode
	// the gateway's decision as the merchant recorded it.
	Completion msg.CompletionCode
	AuthCode   string
	// The SET result codes of the step's other requests, as applicable.
	CapCode     msg.CapCode
	AuthRevCode msg.AuthRevCode
	CredCode    msg.CapRevOrCredCode
	BatchCode   msg.BatchAdminCode
	// BankCodes are the response codes (DE 39) of the ISO 8583 responses
	// the step caused, in order.
	BankCodes []string

	// Certificate steps. Held is the CertRes status of a request the
	// issuer held for review (requestPended), CertStatus the final answer
	// the wallet received in a CertInqRes (requestComplete, or the
	// refusal). NewSerial is the serial of the certificate issued or
	// renewed (a merchant's: its signature certificate's), OldSerial the
	// renewed one's.
	Held, CertStatus     msg.CertStatus
	OldSerial, NewSerial *big.Int

	// Err says which expected outcome did not come about.
	Err error
}

// DayCard is a cardholder's account at the bank after the day, with what
// the day captured from it and credited to it.
type DayCard struct {
	Card               string // masked
	Opening, Limit     int64
	Captured, Credited int64 // what the day's steps moved
	Held, Balance      int64 // read back from the bank
}

// shop is one of the day's merchants at work.
type shop struct {
	DayMerchant
	m       *merchant.Merchant
	serving atomic.Pointer[merchant.Merchant] // m, as its HTTP server reads it
	db      *sqlite.DB
	wallets *transport.Client // the wallets' link to it
	account string            // its settlement account at the bank
	opening int64             // that account's balance in the morning
	batch   *int64            // its gateway batch, opened in the morning
	// What the day captured and refunded at this merchant.
	captures       int
	sales, refunds int64
}

// card is a cardholder's account at the bank during the day.
type card struct {
	pan, account       string
	open               bank.Funds // its position when the cardholder joined the day
	captured, credited int64
}

// day runs the day.
type day struct {
	st    suite.Suite
	rep   *Report
	l     *lab.Lab
	net   *network
	is    *issuer
	gw    *party
	t     *transcript
	shops []*shop
	cards []*card
	d     *Day

	// For the certificate steps (day_certs.go): the authorities and their
	// operator's policy at the cardholder CA, the second merchant's
	// registration, and the cardholder registered during the day.
	cas     *lab.Authorities
	review  *review
	m2reg   *merchant.Registered
	m2p     *party
	m2gw    wire.RoundTripper // its link to the gateway
	held    int               // its index in cards and the lab's wallets
	heldReg *wallet.Registered
}

// runDay is run's counterpart for the day: it builds the ecosystem with a
// second merchant, runs the day and checks the books.
func runDay(ctx context.Context, opts Options, st suite.Suite, rep *Report, mp, gp *party, cas *authorities, is *issuer, t *transcript) error {
	m2p, err := openParty(filepath.Join(rep.DataDir, Merchant2), Merchant2)
	if err != nil {
		return err
	}
	defer m2p.close()
	net, err := startNetwork(mp, gp)
	if err != nil {
		return err
	}
	defer net.closeListeners()
	// Whatever fails from here on, the servers started stop.
	shut := false
	defer func() {
		if !shut {
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			net.shutdown(c)
		}
	}()
	m2ln, err := listen(Merchant2)
	if err != nil {
		return err
	}
	defer func() {
		if m2ln != nil {
			m2ln.Close()
		}
	}()
	m2URL := "http://" + m2ln.Addr().String() + "/"

	rv := &review{}
	l, auths, err := registerWith(ctx, net, cas, 0, lab.Options{
		Suite: st, Cardholders: opts.Cardholders, Issuer: is.link,
		MerchantStore: mp.db, GatewayStore: gp.db, GatewayRT: net.gatewayClient,
		MerchantLog: mp.log, GatewayLog: gp.log,
	}, rv)
	var m2 *merchant.Registered
	if err == nil {
		// The second merchant enrols as the first did, at the merchant CA
		// over HTTP, for certificates of its own.
		m2, err = merchant.Register(ctx, net.client(net.caURLs[MCA], Merchant2, MCA), merchant.RegisterConfig{
			Suite: st, BrandID: dayBrand, MerchantID: lab.SecondMerchantID, AcquirerBIN: lab.AcquirerBIN,
			Roots: l.Roots, Answers: map[string]string{ca.FieldLegalName: lab.SecondMerchantName},
		})
		if err != nil {
			err = fmt.Errorf("demo: registering the second merchant: %w", err)
		}
	}
	regMsgs := net.take(rep, 0)
	rep.Registrations = len(regMsgs)
	if err != nil {
		return fmt.Errorf("demo: building the parties: %w", err)
	}
	rep.PANs = make([]string, len(l.Cards))
	for i, c := range l.Cards {
		rep.PANs[i] = c.PAN
	}
	rep.Certificates = l.Certificates
	rep.Certificates[Merchant2+"-signature"] = m2.SigCert
	rep.Certificates[Merchant2+"-exchange"] = m2.ExCert
	rep.MerchantURL, rep.GatewayURL = net.merchantURL, net.gatewayURL

	m2gw := net.client(net.gatewayURL, Merchant2, Gateway)
	m2m, err := secondMerchant(st, l, m2, m2p, m2gw)
	if err != nil {
		return err
	}
	d := &day{st: st, rep: rep, l: l, net: net, is: is, gw: gp, t: t, d: &Day{FeeBPS: DayFeeBPS},
		cas: auths, review: rv, m2reg: m2, m2p: m2p, m2gw: m2gw}
	rep.Day = d.d
	d.shops = []*shop{
		{DayMerchant: DayMerchant{ID: l.MerchantID, Name: "Corner Bookshop", Party: Merchant, URL: net.merchantURL, Dir: rep.MerchantDir},
			m: l.Merchant, db: mp.db, wallets: net.merchantClient},
		{DayMerchant: DayMerchant{ID: lab.SecondMerchantID, Name: lab.SecondMerchantName, Party: Merchant2, URL: m2URL, Dir: filepath.Join(rep.DataDir, Merchant2)},
			m: m2m, db: m2p.db, wallets: net.client(m2URL, Wallet, Merchant2)},
	}
	for _, s := range d.shops {
		d.d.Merchants = append(d.d.Merchants, s.DayMerchant)
		s.serving.Store(s.m)
	}

	net.serve(l)
	net.servers = append(net.servers, startServer(m2ln, transport.Handler(d.shops[1].serve, m2p.log), m2p.log))
	m2ln = nil
	runErr := net.waitHealthy(ctx)
	if runErr == nil {
		runErr = healthy(ctx, m2URL)
	}
	if runErr == nil {
		runErr = is.waitHealthy(ctx)
	}
	if runErr == nil {
		runErr = d.openAccounts(ctx)
	}
	if runErr == nil {
		d.header()
		t.printf("\nregistration: the gateway at the payment CA, the merchant at the merchant CA, each cardholder at the cardholder CA, then the second merchant at the merchant CA\n")
		t.messages(regMsgs, nil)
		runErr = checkDayRegistration(regMsgs, opts.Cardholders)
	}
	if runErr == nil {
		runErr = d.run(ctx)
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	shut = true
	if err := net.shutdown(shutCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("demo: shutting down: %w", err)
	}
	// The books are checked whatever happened, over the link, while the
	// bank still answers.
	if err := d.checkLedger(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = err
	}
	if err := is.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("demo: shutting down the bank link: %w", err)
	}
	if err := m2p.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("demo: closing the second merchant's store: %w", err)
	}
	return runErr
}

// secondMerchant builds the second merchant's core on its registered
// (or renewed) credentials, reaching the gateway through gw.
func secondMerchant(st suite.Suite, l *lab.Lab, reg *merchant.Registered, p *party, gw wire.RoundTripper) (*merchant.Merchant, error) {
	m, err := merchant.New(merchant.Config{
		Suite: st, MerchantID: lab.SecondMerchantID, BrandID: dayBrand,
		SigningKey: reg.SigKey, SigningCert: reg.SigCert, ExchangeKey: reg.ExKey, ExchangeCert: reg.ExCert, Chain: reg.Chain,
		GatewayCert:  l.Certificates["gateway-exchange"],
		GatewayChain: [][]byte{l.Hierarchy.PCA.Cert.Raw, l.Hierarchy.Brand.Cert.Raw},
		Roots:        l.Roots, Store: p.db, Revocation: l.Revocations(),
		Gateway: &wire.GatewayClient{
			Endpoint: &wire.Endpoint{Suite: st, SWIdent: "setpay-merchant/0.1", ErrorRoots: l.Roots},
			RT:       gw,
		},
		Log: p.log,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: the second merchant: %w", err)
	}
	return m, nil
}

// serve hands a request to the shop's current core: a renewal replaces
// it while its server runs.
func (s *shop) serve(ctx context.Context, req []byte) ([]byte, error) {
	return s.serving.Load().Serve(ctx, req)
}

// listen binds a loopback socket for party.
func listen(party string) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: %s socket: %w", party, err)
	}
	return ln, nil
}

// healthy asks url's health endpoint once.
func healthy(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+transport.HealthPath[1:], nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("demo: health check %s: %w", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("demo: health check %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// checkDayRegistration checks the registration's messages: the lab's, then
// the second merchant's two exchanges with the merchant CA.
func checkDayRegistration(msgs []Message, cardholders int) error {
	second := []Message{
		{From: Merchant2, To: MCA, Type: "Me-AqCInitReq"}, {From: MCA, To: Merchant2, Type: "Me-AqCInitRes"},
		{From: Merchant2, To: MCA, Type: "CertReq"}, {From: MCA, To: Merchant2, Type: "CertRes"},
	}
	if len(msgs) < len(second) {
		return fmt.Errorf("demo: registration: %d messages", len(msgs))
	}
	if err := checkRegistration(msgs[:len(msgs)-len(second)], cardholders); err != nil {
		return err
	}
	if err := checkPath(msgs[len(msgs)-len(second):], second); err != nil {
		return fmt.Errorf("demo: the second merchant's registration: %w", err)
	}
	return nil
}

// openAccounts finds both merchants' settlement accounts and the
// cardholders' card accounts at the bank and reads where they stand. The
// bank in process is seeded first, as 'setpay bank --seed' seeds one of
// its own: from Seed, with the card of the newcomer the day registers.
func (d *day) openAccounts(ctx context.Context) error {
	if !d.is.external {
		// Seeded as of when lab issued the cards, so the expiry the bank
		// keeps is theirs even if a month ended in between.
		issued := time.Now()
		if exp, err := time.Parse("200601", d.l.Cards[0].Expiry); err == nil {
			issued = exp.AddDate(-3, 0, 0)
		}
		if _, err := SeedBank(ctx, d.is.ledger, Seed(len(d.l.Cards)+1, 0), issued); err != nil {
			return err
		}
	}
	for _, s := range d.shops {
		if d.is.external {
			// A bank of its own may hold captures from earlier runs in
			// the merchant's open batch; the acquirer settles them
			// first, so the day's batch holds the day's alone.
			if err := d.settleEarlier(ctx, s); err != nil {
				return err
			}
		}
		id, f, err := d.is.office.position(ctx, "", s.ID, "merchant "+s.ID)
		if err != nil {
			return err
		}
		s.account, s.opening = id, f.Balance
	}
	for i, c := range d.l.Cards {
		cd, err := d.cardAt(ctx, i, c.PAN)
		if err != nil {
			return err
		}
		d.cards = append(d.cards, cd)
	}
	return nil
}

// settleEarlier closes and settles what s's open batch at the acquirer
// holds from before the day.
func (d *day) settleEarlier(ctx context.Context, s *shop) error {
	id, err := d.is.office.closeBatch(ctx, s.ID)
	if err != nil || id == 0 {
		return err
	}
	set, err := d.is.office.settle(ctx, id)
	if err != nil {
		return err
	}
	if set.Count > 0 {
		d.t.printf("bank: merchant %s's open batch %d held %d item(s) from before the day; the acquirer settled it first (net %s)\n",
			s.ID, id, set.Count, usd(set.Net))
	}
	return nil
}

// cardAt reads cardholder i's card account at the bank.
func (d *day) cardAt(ctx context.Context, i int, pan string) (*card, error) {
	id, f, err := d.is.office.position(ctx, pan, "", fmt.Sprintf("card %d (%s)", i+1, wallet.MaskPAN(pan)))
	if err != nil {
		return nil, err
	}
	return &card{pan: pan, account: id, open: f}, nil
}

// funds reads c's position at the bank now.
func (d *day) funds(ctx context.Context, c *card) (bank.Funds, error) {
	_, f, err := d.is.office.position(ctx, c.pan, "", "card "+wallet.MaskPAN(c.pan))
	return f, err
}

func (d *day) header() {
	t := d.t
	t.printf("setpay demo: a day of trading, suite %s, %d merchants, %d cardholder(s)\n", d.rep.Suite, len(d.shops), len(d.cards))
	t.printf("  certificate authorities  root → brand → cardholder / merchant / payment CA, each on loopback HTTP\n")
	t.printf("  gateway    %s  store %s\n", d.rep.GatewayURL, d.rep.GatewayDir)
	for _, s := range d.shops {
		t.printf("  %-9s  %s  store %s  %s (%s)\n", s.Party, s.URL, s.Dir, s.Name, s.ID)
	}
	if d.is.external {
		t.printf("  bank       iso8583://%s  (external issuer and acquirer host; interchange %d.%02d%% of sales)\n",
			d.rep.IssuerAddr, DayFeeBPS/100, DayFeeBPS%100)
	} else {
		t.printf("  bank       iso8583://%s  store %s  (issuer and acquirer in process; interchange %d.%02d%% of sales)\n",
			d.rep.IssuerAddr, d.rep.BankDir, DayFeeBPS/100, DayFeeBPS%100)
	}
	for i, c := range d.cards {
		t.printf("  wallet %d   card %s  opening balance %s, credit limit %s\n", i+1, wallet.MaskPAN(c.pan), usd(c.open.Balance), usd(c.open.Limit))
	}
}

// checkLedger reads the cardholders' accounts and the merchants'
// settlement accounts back from the bank, checks how far each moved
// against what the day did, and has the bank audit its books. All of it
// goes over the ISO 8583 link (backoffice.go): the audit runs where the
// books are, and the demo reports the bank's verdict.
func (d *day) checkLedger(ctx context.Context) error {
	if d.cards == nil {
		return nil
	}
	t := d.t
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	audit, err := d.is.office.audit(ctx)
	if err != nil {
		return err
	}
	d.rep.Ledger = &LedgerCheck{Audit: audit}
	t.printf("\nledger check (the bank's books, read back after the day):\n")
	var errs []error
	for i, c := range d.cards {
		f, err := d.funds(ctx, c)
		if err != nil {
			errs = append(errs, fmt.Errorf("demo: reading card %d at the bank: %w", i+1, err))
			continue
		}
		dc := DayCard{Card: wallet.MaskPAN(c.pan), Opening: c.open.Balance, Limit: c.open.Limit,
			Captured: c.captured, Credited: c.credited, Held: f.Held, Balance: f.Balance}
		d.d.Cards = append(d.d.Cards, dc)
		d.rep.Ledger.Cards = append(d.rep.Ledger.Cards, LedgerCard{Card: dc.Card, Account: c.account, Opening: dc.Opening,
			Held: f.Held, Captured: dc.Captured - dc.Credited, Balance: f.Balance})
		want := c.open.Balance - c.captured + c.credited
		t.printf("  card %s  opening %s − captured %s + credited %s = %s; the bank: balance %s, held %s\n",
			dc.Card, usd(dc.Opening), usd(dc.Captured), usd(dc.Credited), usd(want), usd(f.Balance), usd(f.Held))
		if f.Balance != want {
			errs = append(errs, fmt.Errorf("demo: card %d: the bank's balance is %s, the day leaves %s", i+1, usd(f.Balance), usd(want)))
		}
		if f.Held != c.open.Held {
			errs = append(errs, fmt.Errorf("demo: card %d: %s held at the end of the day, %s in the morning", i+1, usd(f.Held), usd(c.open.Held)))
		}
	}
	for _, s := range d.shops {
		_, f, err := d.is.office.position(ctx, "", s.ID, "merchant "+s.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("demo: reading %s's settlement account: %w", s.Name, err))
			continue
		}
		net := s.sales - s.refunds - bank.Fee(s.sales, DayFeeBPS)
		t.printf("  merchant %s  settlement account %s + sales − refunds − fee %s = %s; the bank: %s\n",
			s.ID, usd(s.opening), usd(net), usd(s.opening+net), usd(f.Balance))
		if f.Balance != s.opening+net {
			errs = append(errs, fmt.Errorf("demo: %s's settlement account holds %s, want %s", s.Name, usd(f.Balance), usd(s.opening+net)))
		}
	}
	where := "run by the bank in process"
	if d.is.external {
		where = "run by the bank at " + d.is.addr + " on its own books; its verdict came back over ISO 8583"
	}
	if audit != nil {
		t.printf("  audit FAILED (%s): %v\n", where, audit)
		errs = append(errs, fmt.Errorf("demo: the bank's ledger audit failed: %w", audit))
	} else {
		t.printf("  audit: every journal entry balanced (debits = credits), every balance equals its postings,\n")
		t.printf("         every hold accounted for (%s)\n", where)
	}
	return errors.Join(errs...)
}

// checkDayConfidentiality extends checkConfidentiality to the second
// merchant: no card number in anything it stored, logged or received.
func checkDayConfidentiality(rep *Report) error {
	if rep.Day == nil {
		return nil
	}
	for _, m := range rep.Day.Merchants {
		if m.Party == Merchant {
			continue // checkConfidentiality's
		}
		files, err := partyBytes(rep, m.Dir, m.Party)
		if err != nil {
			return err
		}
		for _, pan := range rep.PANs {
			for _, f := range clearForms(pan, true) {
				if where := find(files, f.b); where != "" {
					return fmt.Errorf("demo: the %s's %s holds card %s in the clear (%s)", m.Party, where, wallet.MaskPAN(pan), f.name)
				}
			}
		}
	}
	return nil
}

// checkDay checks and completes Options for the day.
func (o *Options) checkDay() error {
	switch {
	case o.Purchases != 0:
		return fmt.Errorf("demo: the day has its own purchases; a number of purchases is for the %s scenario", ScenarioPurchases)
	case o.Cardholders == 0:
		o.Cardholders = DayCardholders
	}
	if o.Cardholders < DayCardholders || o.Cardholders > MaxCardholders {
		return fmt.Errorf("demo: %d cardholders: the day wants %d to %d (the %s scenario runs with fewer)", o.Cardholders, DayCardholders, MaxCardholders, ScenarioPurchases)
	}
	return nil
}

// daySummary is the day's last line.
func (t *transcript) daySummary(rep *Report, err error) {
	n, size := len(rep.Messages), 0
	for _, m := range rep.Messages {
		size += len(m.DER)
	}
	count := map[string]int{}
	ok := 0
	for _, s := range rep.Day.Steps {
		if s.Err == nil {
			count[s.Kind]++
			ok++
		}
	}
	if !t.quiet {
		fmt.Fprintln(t.w)
	}
	if err != nil {
		fmt.Fprintf(t.w, "FAILED: suite %s, day stopped after %d of its steps, %d messages (%d bytes): %v\n", rep.Suite, ok, n, size, err)
		return
	}
	fmt.Fprintf(t.w, "ok: suite %s, a day of %d steps at %d merchants: %d purchase(s) captured, %d split shipment(s), %d declined, %d reversed, %d refund(s), %d batch(es) settled, %d registration(s) held then approved, %d refused, %d certificate renewal(s); %d messages (%d bytes), every check held\n",
		rep.Suite, len(rep.Day.Steps), len(rep.Day.Merchants), count[StepCapture], count[StepSplit], count[StepDecline], count[StepReversal],
		count[StepRefund], len(rep.Day.Settlements), count[StepHeld], count[StepRefused], count[StepRenewal], n, size)
}
