package demo

// The acquirer's back office. At the end of the day the acquirer closes
// each merchant's batch and settles it, and the books are read back and
// audited. The bank may be another process ('setpay bank'), so none of
// this reaches into its database: the back office asks over the ISO 8583
// link, with network management requests (0800) whose DE 48 names a
// function, and the bank answers in the 0810's DE 39 and DE 48. The bank
// in process and 'setpay bank' serve the same BankHost, so the day takes
// the same path to either.
//
//	DE 48 of the 0800       names                       DE 48 of the 0810 (DE 39 00)
//	position                the card (DE 2), account    account=ID;balance=N;held=N;limit=N
//	                        (DE 102) or merchant (DE 42)
//	close-batch             the merchant (DE 42)        batch=N (0: none was open)
//	settle;batch=N          —                           batch=N;merchant=ID;count=N;sales=N;refunds=N;fee=N;net=N
//	report                  the merchant (DE 42)        batches=N;count=N;gross=N;fees=N;net=N
//	audit                   —                           result=ok, or result=failed;reason=…
//
// Amounts are US cents. An unknown merchant is answered 03, an unknown
// card or account 14, an unknown batch 25, a batch in the wrong state 12,
// a malformed request 30. An 0800 without DE 48 is the echo bank.Host
// answers.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/store"
)

// Back-office functions, as DE 48 of an 0800 names them.
const (
	officePosition   = "position"
	officeCloseBatch = "close-batch"
	officeSettle     = "settle"
	officeReport     = "report"
	officeAudit      = "audit"
)

// BankHost is the demo's bank on the ISO 8583 link: bank.Host answers
// the payments, and BankHost the back office's requests.
type BankHost struct {
	host *bank.Host
	st   bank.Store
	l    *bank.Ledger
	ac   *bank.Acquirer
	log  *slog.Logger
}

// NewBankHost returns the bank keeping its books in l over st (the store
// l was made with). Its acquirer charges DayFeeBPS interchange.
func NewBankHost(st bank.Store, l *bank.Ledger, log *slog.Logger) (*BankHost, error) {
	if log == nil {
		log = slog.Default()
	}
	ac, err := bank.NewAcquirer(l, DayFeeBPS)
	if err != nil {
		return nil, fmt.Errorf("demo: the acquirer: %w", err)
	}
	return &BankHost{host: bank.NewHost(bank.NewIssuer(l), log), st: st, l: l, ac: ac, log: log}, nil
}

// Handle answers one request; it is an iso8583.Handler.
func (b *BankHost) Handle(ctx context.Context, req *iso8583.Message) (*iso8583.Message, error) {
	data, ok := req.Get(iso8583.FieldAdditionalData)
	if iso8583.BaseMTI(req.MTI) != iso8583.MTINetworkRequest || !ok {
		return b.host.Handle(ctx, req)
	}
	fn, args, _ := strings.Cut(data, ";")
	var (
		code bank.ResponseCode
		out  string
		err  error
	)
	switch fn {
	case officePosition:
		code, out, err = b.position(ctx, req)
	case officeCloseBatch:
		code, out, err = b.closeBatch(ctx, req)
	case officeSettle:
		code, out, err = b.settle(ctx, args)
	case officeReport:
		code, out, err = b.report(ctx, req)
	case officeAudit:
		out = "result=ok"
		if aerr := b.l.Audit(ctx); aerr != nil {
			out = "result=failed;reason=" + reasonText(aerr.Error())
			b.log.Error("bank: ledger audit failed", "err", aerr)
		}
		code = bank.Approved
	default:
		code = bank.FormatError
	}
	if err != nil {
		return nil, err
	}
	b.log.Info("bank: back office", "function", fn, "stan", req.STAN(), "code", string(code))
	resp := iso8583.NewMessage(iso8583.ResponseMTI(req.MTI))
	for _, n := range []int{iso8583.FieldTransmissionTime, iso8583.FieldSTAN, iso8583.FieldAcquirerID} {
		if v, ok := req.Get(n); ok {
			resp.Set(n, v)
		}
	}
	resp.Set(iso8583.FieldResponseCode, string(code))
	if code == bank.Approved && out != "" {
		resp.Set(iso8583.FieldAdditionalData, out)
	}
	return resp, nil
}

// reasonText fits an audit failure into DE 48: printable ASCII without
// the separator, at most 900 characters.
func reasonText(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == ';' {
			b[i] = ' '
		}
	}
	return string(b[:min(len(b), 900)])
}

// merchantOf is DE 42 without its padding.
func merchantOf(req *iso8583.Message) string {
	m, _ := req.Get(iso8583.FieldMerchantID)
	return strings.TrimRight(m, " ")
}

func (b *BankHost) position(ctx context.Context, req *iso8583.Message) (bank.ResponseCode, string, error) {
	pan, _ := req.Get(iso8583.FieldPAN)
	acct, _ := req.Get(iso8583.FieldAccountID1)
	mer := merchantOf(req)
	var (
		kind     store.BankAccountKind
		number   string
		notFound = bank.InvalidCardNumber
	)
	switch {
	case pan != "" && acct == "" && mer == "":
		kind, number = store.BankCard, pan
	case acct != "" && pan == "" && mer == "":
		kind, number = store.BankDeposit, acct
	case mer != "" && pan == "" && acct == "":
		kind, number, notFound = store.BankMerchant, mer, bank.InvalidMerchant
	default:
		return bank.FormatError, "", nil
	}
	var a *store.BankAccount
	err := b.st.InBankTx(ctx, func(tx store.BankTx) error {
		var err error
		a, err = tx.BankAccountByNumber(ctx, kind, number, "")
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound, "", nil
	}
	if err != nil {
		return "", "", err
	}
	f, err := b.l.Funds(ctx, a.ID)
	if err != nil {
		return "", "", err
	}
	return bank.Approved, fmt.Sprintf("account=%s;balance=%d;held=%d;limit=%d", reasonText(a.ID), f.Balance, f.Held, f.Limit), nil
}

func (b *BankHost) closeBatch(ctx context.Context, req *iso8583.Message) (bank.ResponseCode, string, error) {
	mer := merchantOf(req)
	if mer == "" {
		return bank.FormatError, "", nil
	}
	// Only an open batch is closed: asking when none is open opens no
	// empty one (it would count in the settlement report).
	var open *store.Batch
	err := b.st.InBankTx(ctx, func(tx store.BankTx) error {
		if _, err := tx.BankAccountByNumber(ctx, store.BankMerchant, mer, ""); err != nil {
			return err
		}
		var err error
		if open, err = tx.OpenBatch(ctx, mer, 840); errors.Is(err, store.ErrNotFound) {
			open, err = nil, nil
		}
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return bank.InvalidMerchant, "", nil
	case err != nil:
		return "", "", err
	case open == nil:
		return bank.Approved, "batch=0", nil
	}
	bt, err := b.ac.CloseBatch(ctx, open.ID)
	if err != nil {
		return "", "", err
	}
	return bank.Approved, fmt.Sprintf("batch=%d", bt.ID), nil
}

func (b *BankHost) settle(ctx context.Context, args string) (bank.ResponseCode, string, error) {
	kv, err := parseData(args)
	if err != nil {
		return bank.FormatError, "", nil
	}
	id, err := kv.int("batch")
	if err != nil {
		return bank.FormatError, "", nil
	}
	s, err := b.ac.Settle(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return bank.UnableToLocate, "", nil
	case errors.Is(err, bank.ErrBatchState):
		return bank.InvalidTransaction, "", nil
	case err != nil:
		return "", "", err
	}
	return bank.Approved, fmt.Sprintf("batch=%d;merchant=%s;count=%d;sales=%d;refunds=%d;fee=%d;net=%d",
		s.Batch, s.MerchantID, s.Count, s.Sales, s.Refunds, s.Fee, s.Net), nil
}

func (b *BankHost) report(ctx context.Context, req *iso8583.Message) (bank.ResponseCode, string, error) {
	mer := merchantOf(req)
	if mer == "" {
		return bank.FormatError, "", nil
	}
	lines, err := b.ac.Report(ctx)
	if err != nil {
		return "", "", err
	}
	l := bank.ReportLine{}
	for _, x := range lines {
		if x.MerchantID == mer && x.Currency == 840 {
			l = x
		}
	}
	return bank.Approved, fmt.Sprintf("batches=%d;count=%d;gross=%d;fees=%d;net=%d", l.Batches, l.Count, l.Gross, l.Fees, l.Net), nil
}

// officeData is DE 48 of a back-office message, parsed: key=value pairs
// separated by semicolons.
type officeData map[string]string

func parseData(s string) (officeData, error) {
	kv := officeData{}
	if s == "" {
		return kv, nil
	}
	for _, p := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("element %q is not key=value", p)
		}
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		kv[k] = v
	}
	return kv, nil
}

func (kv officeData) int(k string) (int64, error) {
	v, ok := kv[k]
	if !ok {
		return 0, fmt.Errorf("no %s", k)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: not a number", k)
	}
	return n, nil
}

// backOffice is the acquirer's back office: it asks the bank at addr on
// a link of its own, so its messages stay out of the gateway's
// transcript. It sends each request once: closing a batch is not
// idempotent (a repeat would close the next, empty one), and on loopback
// a lost answer is a failure worth reporting, not retrying.
type backOffice struct {
	addr string
	c    *iso8583.Client
}

func newBackOffice(addr string, log *slog.Logger) *backOffice {
	return &backOffice{addr: addr, c: iso8583.NewClient(addr, iso8583.ClientConfig{Timeout: 10 * time.Second, Attempts: 1, Log: log})}
}

// OfficeError is the bank's refusal of a back-office request.
type OfficeError struct {
	Addr, Function, Subject string
	Code                    string // DE 39
}

func (e *OfficeError) Error() string {
	switch e.Code {
	case string(bank.InvalidMerchant), string(bank.InvalidCardNumber):
		return fmt.Sprintf("demo: the bank at %s has no account for %s (response code %s): was it started with 'setpay bank --seed'?", e.Addr, e.Subject, e.Code)
	}
	return fmt.Sprintf("demo: the bank at %s answered %s for %s with response code %s", e.Addr, e.Function, e.Subject, e.Code)
}

// ask sends one back-office request and parses the answer.
func (o *backOffice) ask(ctx context.Context, req *iso8583.Message, fn, subject string) (officeData, error) {
	req.Set(iso8583.FieldAdditionalData, fn)
	res, err := o.c.Send(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("demo: the bank at %s, %s of %s: %w", o.addr, fn, subject, err)
	}
	if code := string(res.ResponseCode()); code != string(bank.Approved) {
		return nil, &OfficeError{Addr: o.addr, Function: fn, Subject: subject, Code: code}
	}
	data, _ := res.Get(iso8583.FieldAdditionalData)
	kv, err := parseData(data)
	if err != nil {
		return nil, fmt.Errorf("demo: the bank at %s, %s of %s: %w", o.addr, fn, subject, err)
	}
	return kv, nil
}

// ints reads keys of kv as numbers, in order.
func (kv officeData) ints(keys ...string) ([]int64, error) {
	out := make([]int64, len(keys))
	for i, k := range keys {
		n, err := kv.int(k)
		if err != nil {
			return nil, fmt.Errorf("demo: the bank's answer: %w", err)
		}
		out[i] = n
	}
	return out, nil
}

func networkRequest() *iso8583.Message { return iso8583.NewMessage(iso8583.MTINetworkRequest) }

// position reads an account's position: a card's (pan), or a merchant's
// settlement account (merchantID, with pan empty).
func (o *backOffice) position(ctx context.Context, pan, merchantID, subject string) (string, bank.Funds, error) {
	req := networkRequest()
	if pan != "" {
		req.Set(iso8583.FieldPAN, pan)
	} else {
		req.Set(iso8583.FieldMerchantID, fmt.Sprintf("%-15s", merchantID))
	}
	kv, err := o.ask(ctx, req, officePosition, subject)
	if err != nil {
		return "", bank.Funds{}, err
	}
	n, err := kv.ints("balance", "held", "limit")
	if err != nil {
		return "", bank.Funds{}, err
	}
	f := bank.Funds{Balance: n[0], Held: n[1], Limit: n[2]}
	f.OpenToBuy = f.Balance + f.Limit - f.Held
	return kv["account"], f, nil
}

// closeBatch closes the merchant's open batch at the acquirer and returns
// its number, 0 if none was open.
func (o *backOffice) closeBatch(ctx context.Context, merchantID string) (int64, error) {
	req := networkRequest()
	req.Set(iso8583.FieldMerchantID, fmt.Sprintf("%-15s", merchantID))
	kv, err := o.ask(ctx, req, officeCloseBatch, "merchant "+merchantID)
	if err != nil {
		return 0, err
	}
	n, err := kv.ints("batch")
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// settle settles a closed batch.
func (o *backOffice) settle(ctx context.Context, batch int64) (*bank.Settlement, error) {
	kv, err := o.ask(ctx, networkRequest(), fmt.Sprintf("%s;batch=%d", officeSettle, batch), fmt.Sprintf("batch %d", batch))
	if err != nil {
		return nil, err
	}
	n, err := kv.ints("batch", "count", "sales", "refunds", "fee", "net")
	if err != nil {
		return nil, err
	}
	return &bank.Settlement{Batch: n[0], MerchantID: kv["merchant"], Currency: 840, Count: int(n[1]),
		Sales: n[2], Refunds: n[3], Gross: n[2] - n[3], Fee: n[4], Net: n[5]}, nil
}

// report reads the merchant's line of the settlement report.
func (o *backOffice) report(ctx context.Context, merchantID string) (bank.ReportLine, error) {
	req := networkRequest()
	req.Set(iso8583.FieldMerchantID, fmt.Sprintf("%-15s", merchantID))
	kv, err := o.ask(ctx, req, officeReport, "merchant "+merchantID)
	if err != nil {
		return bank.ReportLine{}, err
	}
	n, err := kv.ints("batches", "count", "gross", "fees", "net")
	if err != nil {
		return bank.ReportLine{}, err
	}
	return bank.ReportLine{MerchantID: merchantID, Currency: 840, Batches: int(n[0]), Count: int(n[1]), Gross: n[2], Fees: n[3], Net: n[4]}, nil
}

// audit has the bank audit its books. verdict is the audit's result (nil:
// it held); err says the bank could not be asked.
func (o *backOffice) audit(ctx context.Context) (verdict, err error) {
	kv, err := o.ask(ctx, networkRequest(), officeAudit, "its books")
	if err != nil {
		return nil, err
	}
	switch kv["result"] {
	case "ok":
		return nil, nil
	case "failed":
		return fmt.Errorf("the bank at %s reports: %s", o.addr, kv["reason"]), nil
	}
	return nil, fmt.Errorf("demo: the bank at %s answered the audit with %q", o.addr, kv["result"])
}

func (o *backOffice) close() error { return o.c.Close() }
