// Package demo runs a whole SET ecosystem in one process and tells what
// happened. The certificate authorities, the payment gateway, the merchant
// and the cardholders' wallets are built by lab; the gateway and the
// merchant each serve SET's HTTP binding on their own loopback socket, and
// every purchase travels over real HTTP: PInitReq/PInitRes and PReq/PRes
// between wallet and merchant, AuthReq/AuthRes and CapReq/CapRes between
// merchant and gateway.
//
// Run prints a transcript — every message with its sender, receiver, type
// and size, then what each party kept in its own store — and checks what
// SET promises: every purchase authorized and captured, the merchant never
// holding a card number, the gateway never holding an order description.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// Bounds on a run, so that a typo cannot start an hour of RSA work.
const (
	MaxPurchases   = 1000
	MaxCardholders = 100
)

// Party names, as they appear in the transcript, in Message.From and
// Message.To, in exported file names and as folders of the data directory.
const (
	Wallet   = "wallet"
	Merchant = "merchant"
	Gateway  = "gateway"
)

// Options says what to run.
type Options struct {
	Suite suite.ID // default suite.Modern
	// Scenario is ScenarioDay or ScenarioPurchases. Empty means the day,
	// unless Purchases is set: then the purchases, as before there was a
	// day.
	Scenario string
	// Purchases is for ScenarioPurchases: default 1, at most MaxPurchases.
	Purchases int
	// Cardholders defaults to 1 (the day: DayCardholders, its minimum), at
	// most MaxCardholders; purchases go round-robin.
	Cardholders int
	// Accounts is how many bank-account holders pay beside the
	// cardholders (purchases scenario): each
	// registers a bank account (an IBAN) at the cardholder CA and pays
	// from it; purchases take turns over cardholders, then account
	// holders. Default 0, at most MaxCardholders.
	Accounts int

	// DataDir holds each party's SQLite database and JSON log in
	// DataDir/<party>/. Empty: a temporary directory removed when Run
	// returns.
	DataDir string
	// OutDir, when set, receives every certificate (certs/<name>.der),
	// every message (messages/NN-<from>-<to>-<Type>.der) and every PKCS#7
	// ContentInfo found inside each message (cms/NN-<Type>-<k>.der).
	OutDir string
	// Quiet prints only the summary line.
	Quiet bool
	// IssuerAddr is the host:port of an external bank (setpay bank
	// --seed, which opens the accounts of Seed) to route the gateway's
	// authorizations and captures to; in the day, the acquirer's batch
	// close, settlement and the ledger audit also run there, asked over
	// ISO 8583 (backoffice.go). Empty: a bank runs in process on a
	// loopback port, its books in DataDir/bank/.
	IssuerAddr string
}

// Report is what a run did. It is returned even when the run failed
// part-way, as far as it got.
type Report struct {
	Suite suite.ID
	// DataDir and the party folders in it. When Options.DataDir was empty
	// they named a temporary directory that no longer exists.
	DataDir, MerchantDir, GatewayDir string
	MerchantURL, GatewayURL          string
	// CCADir, MCADir and PCADir hold the certificate authorities'
	// databases and logs.
	CCADir, MCADir, PCADir string
	// BankDir holds the in-process issuer host's database and log; empty
	// with Options.IssuerAddr. IssuerAddr is where the host listened.
	BankDir, IssuerAddr string

	// Registrations is how many of Messages are the registration's (the
	// first ones, Purchase 0).
	Registrations int
	// PANs are the cardholders' card numbers, in cardholder order.
	PANs []string
	// Accounts are the account holders' IBANs; account holder j is
	// wallet len(PANs)+j+1.
	Accounts  []string
	Purchases []*Purchase
	// Messages is every SET message that crossed the wire, in the order
	// it was sent.
	Messages []Message
	// BankMessages is every ISO 8583 message between the gateway and the
	// issuer host, in the order it crossed (the readiness echoes left out).
	BankMessages []BankMessage
	// Ledger is the bank's books after the run. With an external bank
	// (purchases scenario) it holds only the audit that bank ran, asked
	// over ISO 8583: its accounts move across runs.
	Ledger *LedgerCheck
	// Certificates are the lab's certificates by name.
	Certificates map[string][]byte
	// Day is what the day did; nil for ScenarioPurchases.
	Day *Day
}

// Purchase is one purchase's outcome, as the wallet learned it and as the
// merchant and the gateway recorded it.
type Purchase struct {
	Number      int // from 1
	Cardholder  int // from 1
	Description string
	Amount      msg.CurrencyAmount
	XID         msg.XID

	Completion msg.CompletionCode
	// GatewayProof is the gateway-signed authorization result the wallet
	// received and checked (modern suite); nil in set1.
	GatewayProof *wallet.GatewayProof
	CapCode      msg.CapCode

	Order         *store.Order         // from the merchant's store
	Authorization *store.Authorization // from the gateway's store

	// Err is why the purchase did not complete, or which check failed.
	Err error
}

// Message is one SET message as it crossed the wire.
type Message struct {
	Seq      int // from 1, over the whole run
	Purchase int // the purchase it belongs to, from 1
	From, To string
	Type     string // the message's name (PReq, AuthRes, Error …)
	DER      []byte // the MessageWrapper, byte for byte
}

// Run builds the ecosystem, runs opts.Purchases purchases over loopback
// HTTP and writes the transcript to out. It returns an error unless every
// purchase was authorized and captured and every check held.
func Run(ctx context.Context, opts Options, out io.Writer) (*Report, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	st, err := suite.ByID(opts.Suite)
	if err != nil {
		return nil, fmt.Errorf("demo: %w (choose %s or %s)", err, suite.Modern, suite.Set1)
	}
	rep := &Report{Suite: st.ID()}
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir, err = os.MkdirTemp("", "setpay-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dataDir)
	}
	rep.DataDir = dataDir
	rep.MerchantDir, rep.GatewayDir = filepath.Join(dataDir, Merchant), filepath.Join(dataDir, Gateway)

	mp, err := openParty(rep.MerchantDir, Merchant)
	if err != nil {
		return rep, err
	}
	defer mp.close()
	gp, err := openParty(rep.GatewayDir, Gateway)
	if err != nil {
		return rep, err
	}
	defer gp.close()
	rep.CCADir, rep.MCADir, rep.PCADir = filepath.Join(dataDir, CCA), filepath.Join(dataDir, MCA), filepath.Join(dataDir, PCA)
	cas, err := openAuthorities(dataDir)
	if err != nil {
		return rep, err
	}
	defer cas.close()

	if opts.IssuerAddr == "" {
		rep.BankDir = filepath.Join(dataDir, Bank)
	}
	is, err := startIssuer(rep.BankDir, opts.IssuerAddr, gp)
	if err != nil {
		return rep, err
	}
	defer is.closeFiles()
	defer is.close()
	rep.IssuerAddr = is.addr
	if is.external {
		// Before anything is built: a bank that is not there fails the
		// run in seconds, not after every party has enrolled.
		if err := is.waitHealthy(ctx); err != nil {
			return rep, err
		}
	}

	t := &transcript{w: out, quiet: opts.Quiet}
	var runErr error
	if opts.Scenario == ScenarioDay {
		runErr = runDay(ctx, opts, st, rep, mp, gp, cas, is, t)
	} else {
		runErr = run(ctx, opts, st, rep, mp, gp, cas, is, t)
	}

	// The parties' files are complete only once closed (SQLite folds its
	// write-ahead log back into the database on close).
	closeErr := errors.Join(mp.close(), gp.close(), cas.close(), is.closeFiles())
	if runErr == nil && closeErr != nil {
		runErr = fmt.Errorf("demo: closing the parties' stores: %w", closeErr)
	}
	if runErr == nil {
		runErr = checkConfidentiality(rep)
		if runErr == nil {
			runErr = checkDayConfidentiality(rep)
		}
		if runErr == nil {
			t.printf("\nconfidentiality: the merchant's store, log and inbox hold no card number;\n")
			if rep.Day != nil {
				t.printf("                 the second merchant's store, log and inbox hold no card number\n")
			}
			t.printf("                 the CAs' stores and logs hold no card number\n")
			t.printf("                 the gateway's store, log and inbox hold no order description\n")
			if rep.BankDir != "" {
				t.printf("                 the bank's store, log and inbox hold no order description\n")
			}
		}
	}
	if runErr == nil && opts.OutDir != "" {
		runErr = export(opts.OutDir, rep)
		if runErr == nil {
			t.printf("wrote certificates, messages and CMS structures under %s\n", opts.OutDir)
		}
	}
	if rep.Day != nil {
		t.daySummary(rep, runErr)
	} else {
		t.summary(rep, runErr)
	}
	return rep, runErr
}

func (o *Options) check() error {
	if o.Suite == "" {
		o.Suite = suite.Modern
	}
	if o.Scenario == "" {
		o.Scenario = ScenarioDay
		if o.Purchases != 0 {
			o.Scenario = ScenarioPurchases
		}
	}
	switch o.Scenario {
	case ScenarioDay:
		if o.Accounts != 0 {
			return errors.New("demo: account holders pay in the purchases scenario, not the day")
		}
		return o.checkDay()
	case ScenarioPurchases:
	default:
		return fmt.Errorf("demo: unknown scenario %q (choose %s or %s)", o.Scenario, ScenarioDay, ScenarioPurchases)
	}
	if o.Purchases == 0 {
		o.Purchases = 1
	}
	if o.Cardholders == 0 {
		o.Cardholders = 1
	}
	if o.Purchases < 1 || o.Purchases > MaxPurchases {
		return fmt.Errorf("demo: %d purchases: want 1 to %d", o.Purchases, MaxPurchases)
	}
	if o.Cardholders < 1 || o.Cardholders > MaxCardholders {
		return fmt.Errorf("demo: %d cardholders: want 1 to %d", o.Cardholders, MaxCardholders)
	}
	return o.checkAccounts() // account.go
}

// party is a merchant's or gateway's files: its database and its log.
type party struct {
	db     *sqlite.DB
	logf   *os.File
	log    *slog.Logger
	closed bool
}

func openParty(dir, name string) (*party, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %s data: %w", name, err)
	}
	db, err := sqlite.Open(filepath.Join(dir, name+".db"))
	if err != nil {
		return nil, fmt.Errorf("demo: %s store: %w", name, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "log.json"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("demo: %s log: %w", name, err)
	}
	log := slog.New(slog.NewJSONHandler(f, nil)).With("party", name)
	return &party{db: db, logf: f, log: log}, nil
}

// close is idempotent: Run closes early to scan the files, and defers a
// close for the error paths.
func (p *party) close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	return errors.Join(p.db.Close(), p.logf.Close())
}

// catalog is what the demo's shoppers buy, in turn.
var catalog = []struct {
	item  string
	cents int64
}{
	{"1 × The Art of Computer Programming, vol. 1 (hardcover)", 4999},
	{"2 × Structure and Interpretation of Computer Programs", 7400},
	{"1 × A Mathematical Theory of Communication, reprint", 1250},
	{"3 × Lined notebook, A5, dotted", 1797},
	{"1 × Applied Cryptography, 2nd edition", 6095},
}

func run(ctx context.Context, opts Options, st suite.Suite, rep *Report, mp, gp *party, cas *authorities, is *issuer, t *transcript) error {
	var total int64
	for i := range opts.Purchases {
		total += catalog[i%len(catalog)].cents
	}
	net, err := startNetwork(mp, gp)
	if err != nil {
		return err
	}
	defer net.closeListeners()

	l, err := register(ctx, net, cas, opts.Accounts, lab.Options{
		Suite: st, Cardholders: opts.Cardholders,
		// Every account may spend what the whole run costs: the demo shows
		// approvals; lab's tests show declines.
		Limit:         total,
		Issuer:        is.link,
		MerchantStore: mp.db, GatewayStore: gp.db,
		GatewayRT:   net.gatewayClient,
		MerchantLog: mp.log, GatewayLog: gp.log,
	})
	regMsgs := net.take(rep, 0)
	rep.Registrations = len(regMsgs)
	if err != nil {
		return fmt.Errorf("demo: building the parties: %w", err)
	}
	rep.PANs, rep.Accounts = cardsAndAccounts(l.Cards) // account.go
	rep.Certificates = l.Certificates
	rep.MerchantURL, rep.GatewayURL = net.merchantURL, net.gatewayURL

	net.serve(l)
	runErr := is.open(ctx, l, total)
	if runErr == nil {
		runErr = net.waitHealthy(ctx)
	}
	if runErr == nil {
		runErr = is.waitHealthy(ctx)
	}
	if runErr == nil {
		t.header(opts, rep, l)
		t.printf("\nregistration: the gateway at the payment CA, the merchant at the merchant CA, each cardholder at the cardholder CA\n")
		t.messages(regMsgs, nil)
		runErr = checkRegistration(regMsgs, opts.Cardholders+opts.Accounts)
	}
	if runErr == nil {
		runErr = runPurchases(ctx, opts, l, net, is, rep, mp, gp, t)
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := net.shutdown(shutCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("demo: shutting down: %w", err)
	}
	// The books are checked whatever happened: a failed run must not leave
	// them unbalanced either. An external bank is asked while the link is
	// up.
	lc, err := is.check(context.WithoutCancel(ctx))
	rep.Ledger = lc
	if cerr := is.close(); cerr != nil && runErr == nil {
		runErr = fmt.Errorf("demo: shutting down the bank link: %w", cerr)
	}
	if err == nil && lc != nil && lc.Audit != nil {
		err = fmt.Errorf("demo: the bank's ledger audit failed: %w", lc.Audit)
	}
	t.ledger(rep, opts.IssuerAddr)
	if err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func runPurchases(ctx context.Context, opts Options, l *lab.Lab, net *network, is *issuer, rep *Report, mp, gp *party, t *transcript) error {
	failed := 0
	for i := range opts.Purchases {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("demo: stopped after %d purchases: %w", i, err)
		}
		item := catalog[i%len(catalog)]
		p := &Purchase{
			Number:      i + 1,
			Cardholder:  i%len(l.Wallets) + 1,
			Description: fmt.Sprintf("order %d: %s", i+1, item.item),
			Amount:      lab.USD(item.cents),
		}
		rep.Purchases = append(rep.Purchases, p)
		t.purchaseStart(opts.Purchases, p, l.Cards[p.Cardholder-1])
		buy(ctx, l, net, is, rep, p, mp, gp, t)
		if p.Err != nil {
			failed++
			t.printf("  FAILED: %v\n", p.Err)
		}
	}
	if failed > 0 {
		for _, p := range rep.Purchases {
			if p.Err != nil {
				return fmt.Errorf("demo: %d of %d purchases failed; purchase %d: %w", failed, opts.Purchases, p.Number, p.Err)
			}
		}
	}
	return nil
}

// purchasePath and capturePath are the messages of one purchase, in order.
var (
	purchasePath = []Message{
		{From: Wallet, To: Merchant, Type: "PInitReq"}, {From: Merchant, To: Wallet, Type: "PInitRes"},
		{From: Wallet, To: Merchant, Type: "PReq"},
		{From: Merchant, To: Gateway, Type: "AuthReq"}, {From: Gateway, To: Merchant, Type: "AuthRes"},
		{From: Merchant, To: Wallet, Type: "PRes"},
	}
	capturePath = []Message{{From: Merchant, To: Gateway, Type: "CapReq"}, {From: Gateway, To: Merchant, Type: "CapRes"}}
)

// buy runs one purchase: checkout, payment, capture, then reads back what
// each party recorded. Failures land in p.Err.
func buy(ctx context.Context, l *lab.Lab, net *network, is *issuer, rep *Report, p *Purchase, mp, gp *party, t *transcript) {
	// SET leaves shopping to the browser: the order and its SET initiation
	// reach the wallet out of band, here by calling the merchant directly.
	offer, err := l.Merchant.Checkout(ctx, p.Description, p.Amount)
	if err != nil {
		p.Err = fmt.Errorf("checkout: %w", err)
		return
	}
	t.printf("  shopping (out of band)  wallet ⇄ merchant  order and price agreed, SET initiation handed over\n")

	purchase, res, payErr := l.Wallets[p.Cardholder-1].Pay(ctx, net.merchantClient, lab.OfferFor(offer))
	msgs := net.take(rep, p.Number)
	bmsgs := is.take(rep, p.Number)
	t.messages(msgs, bmsgs)
	if payErr != nil {
		p.Err = fmt.Errorf("payment: %w", payErr)
		return
	}
	p.XID = purchase.TransIDs().XID
	p.Completion, p.GatewayProof = res.Completion, res.Gateway
	t.walletResult(rep.Suite, p)
	if err := checkPath(msgs, purchasePath); err != nil {
		p.Err = fmt.Errorf("purchase messages: %w", err)
		return
	}
	if err := checkPayment(rep.Suite, p); err != nil {
		p.Err = err
		return
	}
	if err := checkBankPath(bmsgs, "0110"); err != nil {
		p.Err = fmt.Errorf("authorization at the bank: %w", err)
		return
	}

	t.printf("  capture (merchant's back office, later)\n")
	code, capErr := l.Merchant.Capture(ctx, p.XID)
	msgs = net.take(rep, p.Number)
	bmsgs = is.take(rep, p.Number)
	t.messages(msgs, bmsgs)
	if capErr != nil {
		p.Err = fmt.Errorf("capture: %w", capErr)
		return
	}
	p.CapCode = code
	t.printf("  merchant: capture %s\n", code)
	if err := checkPath(msgs, capturePath); err != nil {
		p.Err = fmt.Errorf("capture messages: %w", err)
		return
	}
	if code != msg.CapSuccess {
		p.Err = fmt.Errorf("capture answered %s", code)
		return
	}
	if err := checkBankPath(bmsgs, "0230"); err != nil {
		p.Err = fmt.Errorf("capture at the bank: %w", err)
		return
	}

	p.Order, err = mp.db.Order(ctx, store.XID(p.XID))
	if err != nil {
		p.Err = fmt.Errorf("merchant's record: %w", err)
		return
	}
	p.Authorization, err = gp.db.Authorization(ctx, store.XID(p.XID))
	if err != nil {
		p.Err = fmt.Errorf("gateway's record: %w", err)
		return
	}
	t.records(p)
	masked, err := maskedCard(l.Cards[p.Cardholder-1]) // account.go
	if err != nil {
		p.Err = err
		return
	}
	p.Err = checkRecordsOf(p, masked)
}

// checkPath checks that msgs are exactly the messages of want, in order.
func checkPath(msgs []Message, want []Message) error {
	if len(msgs) != len(want) {
		return fmt.Errorf("%d messages crossed the wire, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		w := want[i]
		if m.From != w.From || m.To != w.To || m.Type != w.Type {
			return fmt.Errorf("message %d is %s → %s %s, want %s → %s %s", i+1, m.From, m.To, m.Type, w.From, w.To, w.Type)
		}
	}
	return nil
}

// checkPayment checks what the wallet learned: accepted, and in the modern
// suite with the gateway's own signed approval for the agreed amount.
func checkPayment(id suite.ID, p *Purchase) error {
	if p.Completion != msg.AuthorizationAccepted {
		return fmt.Errorf("purchase completed with %s", p.Completion)
	}
	if id == suite.Set1 {
		return nil
	}
	switch g := p.GatewayProof; {
	case g == nil:
		return errors.New("PRes lacks the gateway-signed authorization result")
	case g.AuthCode != msg.AuthApproved:
		return fmt.Errorf("gateway proof says %s", g.AuthCode)
	case g.Amount != p.Amount:
		return fmt.Errorf("gateway proof is for %s, the purchase for %s", formatAmount(g.Amount), formatAmount(p.Amount))
	}
	return nil
}

// checkRecords checks the parties' stores against the purchase: both say
// captured, for the same amount; the merchant kept the order description
// and the gateway the masked card number.
func checkRecords(p *Purchase, pan string) error {
	masked, err := store.MaskPAN(pan)
	if err != nil {
		return err
	}
	return checkRecordsOf(p, masked)
}

// checkRecordsOf is checkRecords for the card or account masked as the
// gateway records it.
func checkRecordsOf(p *Purchase, masked string) error {
	o, a := p.Order, p.Authorization
	switch {
	case o.State != store.StateCaptured:
		return fmt.Errorf("merchant's order is %s, want captured", o.State)
	case o.Description != p.Description:
		return fmt.Errorf("merchant's order reads %q, want %q", o.Description, p.Description)
	case o.AuthCode != msg.AuthApproved.String():
		return fmt.Errorf("merchant recorded authorization %s", o.AuthCode)
	case o.CaptureAmount != p.Amount.Amount:
		return fmt.Errorf("merchant recorded a capture of %d, want %d", o.CaptureAmount, p.Amount.Amount)
	case a.State != "captured":
		return fmt.Errorf("gateway's authorization is %s, want captured", a.State)
	case a.PANMasked != masked:
		return fmt.Errorf("gateway recorded card %q, want %q", a.PANMasked, masked)
	case a.Amount != p.Amount.Amount || a.Captured != p.Amount.Amount:
		return fmt.Errorf("gateway recorded %d authorized, %d captured, want %d", a.Amount, a.Captured, p.Amount.Amount)
	case a.Result != msg.AuthApproved.String():
		return fmt.Errorf("gateway recorded %s", a.Result)
	}
	return nil
}
