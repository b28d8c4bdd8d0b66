package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// dayOrder is one order of the day: cardholder (from 0) buys at shop
// (0: the bookshop, 1: the record shop).
type dayOrder struct {
	shop, cardholder int
	item             string
	cents            int64
}

// The day's orders. The ordinary purchases marked set1 are the ones the
// set1 day, whose RSA is slower, keeps.
var (
	dayPurchases = []struct {
		dayOrder
		set1 bool
	}{
		{dayOrder{0, 0, "1 × The Art of Computer Programming, vol. 1 (hardcover)", 49_99}, true},
		{dayOrder{1, 1, "1 × Kind of Blue, 180 g vinyl", 24_50}, true},
		{dayOrder{0, 2, "1 × A Mathematical Theory of Communication, reprint", 12_50}, false},
		{dayOrder{1, 0, "2 × Abbey Road, remastered LP", 59_98}, false},
	}
	// daySplit ships in two parts: dayFirstShipment now, the rest later.
	daySplit         = dayOrder{0, 1, "3 × Structure and Interpretation of Computer Programs", 111_00}
	dayFirstShipment = int64(74_00)
	// dayDeclined is more than the third cardholder's credit allows.
	dayDeclined = dayOrder{1, 2, "1 × Turntable, belt drive", 249_00}
	// dayCancelled is authorized, then cancelled before it ships.
	dayCancelled = dayOrder{1, 0, "1 × Concert poster, signed", 15_00}
	// dayRefund is what the bookshop refunds of the day's first purchase.
	dayRefund = int64(10_00)
	// The cardholder registered during the day buys dayHeldOrder once its
	// certificate is issued, and dayRenewedOrder with its renewed
	// certificate from the renewed merchant.
	dayHeldOrder    = dayOrder{0, 0, "1 × The C Programming Language, 2nd edition", 38_00}
	dayRenewedOrder = dayOrder{1, 0, "1 × Blue Train, mono LP", 31_00}
)

// run runs the day's steps in order, stopping at the first whose outcome
// is not the expected one.
func (d *day) run(ctx context.Context) error {
	for _, s := range d.shops {
		if err := d.batchOpen(ctx, s); err != nil {
			return err
		}
	}
	if err := d.heldRegistration(ctx); err != nil {
		return err
	}
	var bought []*Step
	for _, p := range dayPurchases {
		if !p.set1 && d.st.ID() == suite.Set1 {
			continue
		}
		s, err := d.purchase(ctx, StepPurchase, p.dayOrder, 0)
		if err != nil {
			return err
		}
		bought = append(bought, s)
	}
	o := dayHeldOrder
	o.cardholder = d.held
	s, err := d.purchase(ctx, StepPurchase, o, 0)
	if err != nil {
		return err
	}
	bought = append(bought, s)
	if err := d.split(ctx); err != nil {
		return err
	}
	if err := d.decline(ctx); err != nil {
		return err
	}
	if err := d.reversal(ctx); err != nil {
		return err
	}
	if err := d.renewCardholder(ctx); err != nil {
		return err
	}
	if err := d.renewMerchant(ctx); err != nil {
		return err
	}
	o = dayRenewedOrder
	o.cardholder = d.held
	if s, err = d.purchase(ctx, StepPurchase, o, 0); err != nil {
		return err
	}
	bought = append(bought, s)
	if err := d.refusedRegistration(ctx); err != nil {
		return err
	}
	for _, s := range bought {
		if err := d.capture(ctx, s); err != nil {
			return err
		}
	}
	if err := d.refund(ctx, bought[0]); err != nil {
		return err
	}
	for _, s := range d.shops {
		if err := d.batchClose(ctx, s); err != nil {
			return err
		}
	}
	return d.settle(ctx)
}

// step starts a step: numbers it, records it and prints its heading.
func (d *day) step(kind, merchantID string, cardholder int, format string, args ...any) *Step {
	st := &Step{Number: len(d.d.Steps) + 1, Kind: kind, Merchant: merchantID, Cardholder: cardholder}
	d.d.Steps = append(d.d.Steps, st)
	d.t.printf("\nstep %d, %s: %s\n", st.Number, kind, fmt.Sprintf(format, args...))
	return st
}

// fail records why a step did not come out as expected.
func (d *day) fail(st *Step, format string, args ...any) error {
	st.Err = fmt.Errorf(format, args...)
	d.t.printf("  FAILED: %v\n", st.Err)
	return fmt.Errorf("demo: step %d (%s): %w", st.Number, st.Kind, st.Err)
}

// exchange prints the SET and ISO 8583 messages since the last call as
// the step's, records the bank's response codes, and checks the SET
// messages are want.
func (d *day) exchange(st *Step, want []Message) error {
	msgs := d.net.take(d.rep, st.Number)
	bmsgs := d.is.take(d.rep, st.Number)
	d.t.messages(msgs, bmsgs)
	for _, m := range bmsgs {
		if m.ResponseCode != "" {
			st.BankCodes = append(st.BankCodes, m.ResponseCode)
		}
	}
	if err := checkPath(msgs, want); err != nil {
		return d.fail(st, "messages: %w", err)
	}
	return nil
}

// bankAnswer returns DE 39 of the step's last response of kind respMTI.
func (d *day) bankAnswer(st *Step, respMTI string) string {
	code := ""
	for _, m := range d.rep.BankMessages {
		if m.Purchase == st.Number && m.ResponseCode != "" && iso8583.BaseMTI(m.MTI) == respMTI {
			code = m.ResponseCode
		}
	}
	return code
}

// as renames the merchant in a message path to party.
func as(path []Message, party string) []Message {
	out := slices.Clone(path)
	for i := range out {
		if out[i].From == Merchant {
			out[i].From = party
		}
		if out[i].To == Merchant {
			out[i].To = party
		}
	}
	return out
}

var (
	batchPath  = []Message{{From: Merchant, To: Gateway, Type: "BatchAdminReq"}, {From: Gateway, To: Merchant, Type: "BatchAdminRes"}}
	authPath   = []Message{{From: Merchant, To: Gateway, Type: "AuthReq"}, {From: Gateway, To: Merchant, Type: "AuthRes"}}
	revPath    = []Message{{From: Merchant, To: Gateway, Type: "AuthRevReq"}, {From: Gateway, To: Merchant, Type: "AuthRevRes"}}
	creditPath = []Message{{From: Merchant, To: Gateway, Type: "CredReq"}, {From: Gateway, To: Merchant, Type: "CredRes"}}
)

// batchOpen has s open its settlement batch at the gateway for the day.
func (d *day) batchOpen(ctx context.Context, s *shop) error {
	st := d.step(StepBatchOpen, s.ID, 0, "%s opens the day's settlement batch at the gateway", s.Name)
	res, err := s.m.Batch(ctx, msg.BatchOpOpen, nil)
	if xerr := d.exchange(st, as(batchPath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(st, "%w", err)
	}
	st.BatchCode = res.Code
	if res.Code != msg.BatchAdminSuccess || res.ID == nil {
		return d.fail(st, "the gateway answered %s", res.Code)
	}
	s.batch = res.ID
	d.t.printf("  %s: batch %d open at the gateway (%s)\n", s.Party, *res.ID, res.Code)
	return nil
}

// purchase has a cardholder buy o at its shop: checkout out of band, then
// the wallet's PInitReq/PReq over HTTP, the merchant's AuthReq to the
// gateway, the gateway's 0100 to the bank. A split order authorizes only
// first. It checks the outcome kind expects: approved, or (StepDecline)
// declined by the bank.
func (d *day) purchase(ctx context.Context, kind string, o dayOrder, first int64) (*Step, error) {
	s, c := d.shops[o.shop], d.cards[o.cardholder]
	desc := fmt.Sprintf("%s: %s", s.Name, o.item)
	st := d.step(kind, s.ID, o.cardholder+1, "cardholder %d (card %s) buys %q at %s for %s",
		o.cardholder+1, wallet.MaskPAN(c.pan), o.item, s.Name, usd(o.cents))
	st.Description, st.Amount = desc, o.cents
	p := &Purchase{Number: len(d.rep.Purchases) + 1, Cardholder: o.cardholder + 1, Description: desc, Amount: lab.USD(o.cents)}
	d.rep.Purchases = append(d.rep.Purchases, p)

	var (
		offer *merchant.Offer
		err   error
	)
	if first > 0 {
		st.Amount = first
		offer, err = s.m.CheckoutSplit(ctx, desc, p.Amount, first)
	} else {
		offer, err = s.m.Checkout(ctx, desc, p.Amount)
	}
	if err != nil {
		p.Err = err
		return st, d.fail(st, "checkout: %w", err)
	}
	d.t.printf("  shopping (out of band)  wallet ⇄ %s  order and price agreed, SET initiation handed over\n", s.Party)
	purchase, res, err := d.l.Wallets[o.cardholder].Pay(ctx, s.wallets, lab.OfferFor(offer))
	if xerr := d.exchange(st, as(purchasePath, s.Party)); xerr != nil {
		p.Err = xerr
		return st, xerr
	}
	if err != nil {
		p.Err = err
		return st, d.fail(st, "payment: %w", err)
	}
	p.XID, st.XID = purchase.TransIDs().XID, purchase.TransIDs().XID
	p.Completion, p.GatewayProof = res.Completion, res.Gateway
	st.Completion = res.Completion
	d.t.walletResult(d.rep.Suite, p)
	order, err := s.db.Order(ctx, store.XID(st.XID))
	if err != nil {
		return st, d.fail(st, "merchant's record: %w", err)
	}
	p.Order = order
	st.AuthCode = order.AuthCode
	bankCode := d.bankAnswer(st, "0110")
	d.t.printf("  bank: authorization response code %s; %s recorded the gateway's answer: %s, order %s\n", bankCode, s.Party, order.AuthCode, order.State)

	wantAmount := p.Amount
	if first > 0 {
		wantAmount = lab.USD(first)
	}
	if kind == StepDecline {
		switch {
		case bankCode != string(bank.InsufficientFunds):
			return st, d.fail(st, "the bank answered %q, want %s (insufficient funds)", bankCode, bank.InsufficientFunds)
		case res.Completion != msg.OrderRejected:
			return st, d.fail(st, "the wallet learned %s, want %s", res.Completion, msg.OrderRejected)
		case order.State != store.StateDeclined || order.AuthCode != msg.AuthDeclined.String():
			return st, d.fail(st, "the merchant's order is %s, %s; want declined", order.State, order.AuthCode)
		case d.st.ID() != suite.Set1 && (res.Gateway == nil || res.Gateway.AuthCode != msg.AuthDeclined):
			return st, d.fail(st, "the wallet holds no gateway-signed decline")
		}
		return st, nil
	}
	switch {
	case bankCode != string(bank.Approved):
		return st, d.fail(st, "the bank answered %q, want %s", bankCode, bank.Approved)
	case res.Completion != msg.AuthorizationAccepted:
		return st, d.fail(st, "the wallet learned %s", res.Completion)
	case order.State != store.StateAuthorized || order.AuthCode != msg.AuthApproved.String() || order.AuthAmount != wantAmount.Amount:
		return st, d.fail(st, "the merchant's order is %s, %s for %d", order.State, order.AuthCode, order.AuthAmount)
	case d.st.ID() != suite.Set1 && (res.Gateway == nil || res.Gateway.AuthCode != msg.AuthApproved || res.Gateway.Amount != wantAmount):
		return st, d.fail(st, "the wallet holds no gateway-signed approval for %s", formatAmount(wantAmount))
	}
	return st, nil
}

// capture captures the purchase of step p in full, later in the day.
func (d *day) capture(ctx context.Context, p *Step) error {
	s, c := d.shop(p.Merchant), d.cards[p.Cardholder-1]
	st := d.step(StepCapture, s.ID, p.Cardholder, "%s ships the order of step %d and captures %s (back office)", s.Name, p.Number, usd(p.Amount))
	st.XID, st.Amount, st.Description = p.XID, p.Amount, p.Description
	code, err := s.m.Capture(ctx, p.XID)
	if xerr := d.exchange(st, as(capturePath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(st, "%w", err)
	}
	st.CapCode = code
	bankCode := d.bankAnswer(st, "0230")
	d.t.printf("  %s: capture %s; bank: completion response code %s\n", s.Party, code, bankCode)
	if code != msg.CapSuccess || bankCode != string(bank.Approved) {
		return d.fail(st, "capture %s, bank %q", code, bankCode)
	}
	s.captures++
	s.sales += p.Amount
	c.captured += p.Amount
	// What each party kept of the purchase.
	pur := d.purchaseOf(p.XID)
	if pur.Order, err = s.db.Order(ctx, store.XID(p.XID)); err != nil {
		return d.fail(st, "merchant's record: %w", err)
	}
	if pur.Authorization, err = d.gw.db.Authorization(ctx, store.XID(p.XID)); err != nil {
		return d.fail(st, "gateway's record: %w", err)
	}
	pur.CapCode = code
	d.t.records(pur)
	if err := checkRecords(pur, c.pan); err != nil {
		return d.fail(st, "%w", err)
	}
	return nil
}

// split ships an order in two parts: the purchase authorizes the first,
// which is captured; the second is authorized under the gateway's
// AuthToken and captured in turn.
func (d *day) split(ctx context.Context) error {
	p, err := d.purchase(ctx, StepSplit, daySplit, dayFirstShipment)
	if err != nil {
		return err
	}
	s, c := d.shops[daySplit.shop], d.cards[daySplit.cardholder]
	rest := daySplit.cents - dayFirstShipment
	st := p
	d.t.printf("  %s ships the first part and captures %s\n", s.Party, usd(dayFirstShipment))
	code, err := s.m.CaptureShipment(ctx, p.XID)
	if xerr := d.exchange(st, as(capturePath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil || code != msg.CapSuccess || d.bankAnswer(st, "0230") != string(bank.Approved) {
		return d.fail(st, "first shipment's capture: %v, %v, bank %q", code, err, d.bankAnswer(st, "0230"))
	}
	s.captures++
	s.sales += dayFirstShipment
	c.captured += dayFirstShipment
	d.t.printf("  %s: capture %s; the rest, %s, ships later: authorized under the gateway's AuthToken, no wallet involved\n", s.Party, code, usd(rest))
	auth, err := s.m.AuthorizeShipment(ctx, p.XID, rest)
	if xerr := d.exchange(st, as(authPath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil || auth != msg.AuthApproved || d.bankAnswer(st, "0110") != string(bank.Approved) {
		return d.fail(st, "second shipment's authorization: %v, %v, bank %q", auth, err, d.bankAnswer(st, "0110"))
	}
	d.t.printf("  %s: second shipment %s; ships and captures %s\n", s.Party, auth, usd(rest))
	code, err = s.m.CaptureShipment(ctx, p.XID)
	if xerr := d.exchange(st, as(capturePath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil || code != msg.CapSuccess || d.bankAnswer(st, "0230") != string(bank.Approved) {
		return d.fail(st, "second shipment's capture: %v, %v, bank %q", code, err, d.bankAnswer(st, "0230"))
	}
	st.CapCode = code
	st.Amount = daySplit.cents
	s.captures++
	s.sales += rest
	c.captured += rest
	o, err := s.db.Order(ctx, store.XID(p.XID))
	if err != nil {
		return d.fail(st, "merchant's record: %w", err)
	}
	d.t.printf("  %s saw: order %s %q, %s authorized and captured in two shipments, %s\n", s.Party, shortXID(p.XID), o.Description,
		usd(o.CaptureAmount), o.State)
	if o.State != store.StateCaptured || o.AuthAmount != daySplit.cents || o.CaptureAmount != daySplit.cents || o.AuthToken != nil {
		return d.fail(st, "the merchant's order is %s, %d authorized, %d captured", o.State, o.AuthAmount, o.CaptureAmount)
	}
	pur := d.purchaseOf(p.XID)
	pur.Order, pur.CapCode = o, code
	return nil
}

// decline: the third cardholder tries to buy more than its credit allows;
// the bank answers 51 and the wallet learns the order was rejected.
func (d *day) decline(ctx context.Context) error {
	c := d.cards[dayDeclined.cardholder]
	before, err := d.funds(ctx, c)
	if err != nil {
		return fmt.Errorf("demo: reading card %d at the bank: %w", dayDeclined.cardholder+1, err)
	}
	st, err := d.purchase(ctx, StepDecline, dayDeclined, 0)
	if err != nil {
		return err
	}
	after, err := d.funds(ctx, c)
	if err != nil {
		return d.fail(st, "reading the card at the bank: %w", err)
	}
	if after != before {
		return d.fail(st, "the declined card's account moved: %+v → %+v", before, after)
	}
	d.t.printf("  declined as expected: the bank said %s (insufficient funds: %s open to buy), SET said %s; nothing held or moved\n",
		bank.InsufficientFunds, usd(before.OpenToBuy), st.AuthCode)
	return nil
}

// reversal: an order is authorized, then cancelled before it ships; the
// merchant reverses the authorization and the bank releases the hold.
func (d *day) reversal(ctx context.Context) error {
	p, err := d.purchase(ctx, StepReversal, dayCancelled, 0)
	if err != nil {
		return err
	}
	s, c := d.shops[dayCancelled.shop], d.cards[dayCancelled.cardholder]
	before, err := d.funds(ctx, c)
	if err != nil {
		return d.fail(p, "reading the card at the bank: %w", err)
	}
	d.t.printf("  the cardholder cancels before it ships (held at the bank: %s); %s reverses the authorization\n", usd(before.Held), s.Party)
	code, err := s.m.ReverseAuthorization(ctx, p.XID, lab.USD(0))
	if xerr := d.exchange(p, as(revPath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(p, "%w", err)
	}
	p.AuthRevCode = code
	after, err := d.funds(ctx, c)
	if err != nil {
		return d.fail(p, "reading the card at the bank: %w", err)
	}
	bankCode := d.bankAnswer(p, "0410")
	d.t.printf("  %s: reversal %s; bank: reversal response code %s, held %s → %s\n", s.Party, code, bankCode, usd(before.Held), usd(after.Held))
	o, err := s.db.Order(ctx, store.XID(p.XID))
	switch {
	case code != msg.AuthRevSuccess || bankCode != string(bank.Approved):
		return d.fail(p, "reversal %s, bank %q", code, bankCode)
	case before.Held-after.Held != dayCancelled.cents:
		return d.fail(p, "the bank released %s, want %s", usd(before.Held-after.Held), usd(dayCancelled.cents))
	case err != nil:
		return d.fail(p, "merchant's record: %w", err)
	case o.State != store.StateReversed:
		return d.fail(p, "the merchant's order is %s, want reversed", o.State)
	}
	return nil
}

// refund: the bookshop refunds part of the day's first purchase (CredReq
// after capture); the bank credits the card.
func (d *day) refund(ctx context.Context, p *Step) error {
	s, c := d.shop(p.Merchant), d.cards[p.Cardholder-1]
	st := d.step(StepRefund, s.ID, p.Cardholder, "a volume of step %d's order arrives damaged: %s refunds %s of %s", p.Number, s.Name, usd(dayRefund), usd(p.Amount))
	st.XID, st.Amount = p.XID, dayRefund
	code, err := s.m.Credit(ctx, p.XID, lab.USD(dayRefund))
	if xerr := d.exchange(st, as(creditPath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(st, "%w", err)
	}
	st.CredCode = code
	bankCode := d.bankAnswer(st, "0210")
	d.t.printf("  %s: credit %s; bank: refund response code %s\n", s.Party, code, bankCode)
	if code != msg.CapRevOrCredSuccess || bankCode != string(bank.Approved) {
		return d.fail(st, "credit %s, bank %q", code, bankCode)
	}
	o, err := s.db.Order(ctx, store.XID(p.XID))
	if err != nil || o.State != store.StateCredited {
		return d.fail(st, "the merchant's order: %v, %v", o, err)
	}
	s.refunds += dayRefund
	c.credited += dayRefund
	return nil
}

// batchClose closes s's batch at the gateway (BatchAdminReq) and at the
// acquirer.
func (d *day) batchClose(ctx context.Context, s *shop) error {
	st := d.step(StepBatchClose, s.ID, 0, "%s closes its batch: at the gateway, then the acquirer closes it at the bank", s.Name)
	res, err := s.m.Batch(ctx, msg.BatchOpClose, s.batch)
	if xerr := d.exchange(st, as(batchPath, s.Party)); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(st, "%w", err)
	}
	st.BatchCode = res.Code
	if res.Code != msg.BatchAdminSuccess || res.Status == nil || res.Status.BatchState != msg.BatchStateClosed {
		return d.fail(st, "the gateway answered %s, %+v", res.Code, res.Status)
	}
	bs := res.Status
	d.t.printf("  gateway: batch %d %s, %d capture(s) for %s\n", bs.BatchID, bs.BatchState, bs.CaptureCount, formatAmount(bs.CaptureTotal))
	if bs.CaptureCount != int64(s.captures) || bs.CaptureTotal.Amount != s.sales {
		return d.fail(st, "the gateway's batch holds %d captures for %s, the day made %d for %s",
			bs.CaptureCount, formatAmount(bs.CaptureTotal), s.captures, usd(s.sales))
	}
	id, err := d.is.office.closeBatch(ctx, s.ID)
	if err != nil {
		return d.fail(st, "%w", err)
	}
	if id == 0 {
		return d.fail(st, "the acquirer holds no open batch of %s", s.ID)
	}
	d.t.printf("  bank: acquirer batch %d of merchant %s closed\n", id, s.ID)
	s.batch = &id // from here on, the acquirer's batch
	return nil
}

// settle settles each merchant's closed batch at the acquirer and prints
// the settlement report.
func (d *day) settle(ctx context.Context) error {
	st := d.step(StepSettle, "", 0, "the acquirer settles every closed batch: sales − refunds − interchange fee to each merchant")
	d.t.printf("  %-8s  %-18s  %5s  %12s  %12s  %12s  %12s\n", "merchant", "", "items", "sales", "refunds", "fee", "net")
	for _, s := range d.shops {
		set, err := d.is.office.settle(ctx, *s.batch)
		if err != nil {
			return d.fail(st, "%w", err)
		}
		d.d.Settlements = append(d.d.Settlements, set)
		d.t.printf("  %-8s  %-18s  %5d  %12s  %12s  %12s  %12s\n", set.MerchantID, s.Name, set.Count, usd(set.Sales), usd(set.Refunds), usd(set.Fee), usd(set.Net))
		fee := bank.Fee(s.sales, DayFeeBPS)
		if set.Sales != s.sales || set.Refunds != s.refunds || set.Fee != fee || set.Net != s.sales-s.refunds-fee {
			return d.fail(st, "%s settled sales %s, refunds %s, fee %s, net %s; the day made sales %s, refunds %s (fee %s)",
				s.ID, usd(set.Sales), usd(set.Refunds), usd(set.Fee), usd(set.Net), usd(s.sales), usd(s.refunds), usd(fee))
		}
	}
	d.t.printf("  settlement report (the acquirer's, over settled batches):\n")
	for _, s := range d.shops {
		l, err := d.is.office.report(ctx, s.ID)
		if err != nil {
			return d.fail(st, "%w", err)
		}
		d.d.Report = append(d.d.Report, l)
		d.t.printf("    %s  %d batch(es), %d item(s), gross %s, fees %s, net %s\n", l.MerchantID, l.Batches, l.Count, usd(l.Gross), usd(l.Fees), usd(l.Net))
		if l.Batches < 1 {
			return d.fail(st, "the report has no settled batch of %s", s.ID)
		}
	}
	return nil
}

func (d *day) shop(id string) *shop {
	for _, s := range d.shops {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func (d *day) purchaseOf(xid msg.XID) *Purchase {
	for _, p := range d.rep.Purchases {
		if p.XID == xid {
			return p
		}
	}
	return &Purchase{}
}
