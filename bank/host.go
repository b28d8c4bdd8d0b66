package bank

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/setpay/setpay/bank/iso8583"
)

// Host puts the issuer on the ISO 8583 link: its Handle method is an
// iso8583.Handler that turns each request into one Issuer call and the
// Issuer's Response into the response message.
//
//	0100 / 0101  authorization         Issuer.Authorize
//	0200 / 0201  financial (sale)      Issuer.Authorize with Capture
//	0200 / 0201  DE 3 20xxxx (refund)  Issuer.Credit of DE 4 (original in DE 90)
//	0220 / 0221  completion advice     Issuer.Capture of DE 4 (original in DE 90)
//	0400 / 0401  reversal request      Issuer.Reverse of DE 4, all that remains without it (DE 90)
//	0400 / 0401  DE 3 20xxxx           Issuer.ReverseCredit of DE 4: a refund reversed (DE 90
//	                                   names the authorization or the refund itself)
//	0420 / 0421  reversal advice       Issuer.Reverse of DE 4, all that remains without it (DE 90)
//	0420 / 0421  DE 3 20xxxx           Issuer.Credit of DE 4: a capture reversed (DE 90)
//	0800 / 0801  echo                  response code 00
//
// The subset has no DE 95 (replacement amounts): a partial reversal names
// the amount released in DE 4. The bank's books have no "uncapture", so a
// capture reversal returns the money as a credit does; the cardholder's
// balance is the same either way (opening − captured + credited). A 0400
// naming a sale (0200) returns its debit the same way: a sale holds
// nothing to release.
//
// A request names the card in DE 2, or a bank account in DE 102 (the IBAN,
// or bank code "/" account number where there is none), never both. DE 3's from-account digits (positions
// 3–4) say which: 00 (default) or 30 (credit) with a card; 00, 10
// (savings) or 20 (checking) with a bank account. The bank keeps one kind
// of deposit account, so savings and checking are both accepted; any other
// pairing is 12.
//
// A repeat carries the STAN, transmission time and acquirer of the message
// it repeats, so it has the same MessageID and the issuer answers it from
// its records without acting twice. Every business outcome is DE 39 (with
// DE 38 on approvals); only storage failures become errors, which the
// server answers with 96.
type Host struct {
	is  *Issuer
	log *slog.Logger
}

// NewHost returns the ISO 8583 front of issuer is. log may be nil
// (slog.Default). Nothing it logs contains a PAN.
func NewHost(is *Issuer, log *slog.Logger) *Host {
	if log == nil {
		log = slog.Default()
	}
	return &Host{is: is, log: log}
}

// Handle answers one request; it is an iso8583.Handler.
func (h *Host) Handle(ctx context.Context, req *iso8583.Message) (*iso8583.Message, error) {
	base := iso8583.BaseMTI(req.MTI)
	var (
		resp *Response
		err  error
	)
	switch base {
	case iso8583.MTINetworkRequest:
		resp = respond(Approved)
	case iso8583.MTIFinancialRequest, iso8583.MTIReversalAdvice:
		if refund(req) {
			resp, err = h.followUp(ctx, req, h.is.Credit, true)
			break
		}
		if base == iso8583.MTIReversalAdvice {
			resp, err = h.followUp(ctx, req, h.is.Reverse, hasAmount(req))
			break
		}
		resp, err = h.authorize(ctx, req, true)
	case iso8583.MTIAuthorizationRequest:
		resp, err = h.authorize(ctx, req, false)
	case iso8583.MTICompletionAdvice:
		resp, err = h.followUp(ctx, req, h.is.Capture, true)
	case iso8583.MTIReversalRequest:
		if refund(req) {
			resp, err = h.followUp(ctx, req, h.is.ReverseCredit, true)
			break
		}
		resp, err = h.followUp(ctx, req, h.is.Reverse, hasAmount(req))
	default:
		resp = respond(FormatError)
	}
	if err != nil {
		return nil, err
	}
	h.log.Info("bank: answered", "mti", req.MTI, "stan", req.STAN(), "code", string(resp.ResponseCode))
	return h.response(req, resp), nil
}

// messageID is the request's own MessageID: DE 32, 11 and 7.
func messageID(req *iso8583.Message) MessageID {
	acq, _ := req.Get(iso8583.FieldAcquirerID)
	t, _ := req.Get(iso8583.FieldTransmissionTime)
	return MessageID{AcquirerID: normalAcquirer(acq), STAN: req.STAN(), TransmissionTime: t}
}

// normalAcquirer drops leading zeros: DE 90 carries the acquirer ID
// zero-padded to 11 digits while DE 32 carries it as is, and both must
// name the same message.
func normalAcquirer(id string) string {
	if id == "" {
		return ""
	}
	if t := strings.TrimLeft(id, "0"); t != "" {
		return t
	}
	return "0"
}

// refund reports whether DE 3's transaction type is 20, a refund.
func refund(req *iso8583.Message) bool {
	pc, _ := req.Get(iso8583.FieldProcessingCode)
	return strings.HasPrefix(pc, "20")
}

// hasAmount reports whether a reversal names the amount it releases.
func hasAmount(req *iso8583.Message) bool {
	_, ok := req.Get(iso8583.FieldAmount)
	return ok
}

// amountOf returns DE 4, or -1 when it is absent or not a number (which
// the issuer answers 13).
func amountOf(req *iso8583.Message) int64 {
	v, ok := req.Get(iso8583.FieldAmount)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (h *Host) authorize(ctx context.Context, req *iso8583.Message, capture bool) (*Response, error) {
	pan, _ := req.Get(iso8583.FieldPAN)
	acct, _ := req.Get(iso8583.FieldAccountID1)
	if (pan == "") == (acct == "") {
		return respond(FormatError), nil
	}
	pc, _ := req.Get(iso8583.FieldProcessingCode)
	if !accountTypeFits(pc, pan != "") {
		return respond(InvalidTransaction), nil
	}
	cur, _ := req.Get(iso8583.FieldCurrency)
	currency, err := strconv.Atoi(cur)
	if err != nil {
		return respond(FormatError), nil
	}
	expiry, _ := req.Get(iso8583.FieldExpiry)
	term, _ := req.Get(iso8583.FieldTerminalID)
	mer, _ := req.Get(iso8583.FieldMerchantID)
	// DE 102 holds an IBAN, or bankcode/number for a domestic account.
	bankCode, number, ok := strings.Cut(acct, "/")
	if !ok {
		bankCode, number = "", acct
	}
	return h.is.Authorize(ctx, AuthRequest{
		ID:            messageID(req),
		PAN:           pan,
		Expiry:        expiry,
		AccountNumber: number,
		BankCode:      bankCode,
		Amount:        amountOf(req),
		// DE 41 and 42 are fixed-length and space-padded on the right.
		TerminalID: strings.TrimRight(term, " "),
		MerchantID: strings.TrimRight(mer, " "),
		Currency:   currency,
		Capture:    capture,
	})
}

// followUp runs a capture or reversal of the authorization DE 90 names.
// A capture moves DE 4; a reversal releases everything left (Amount 0).
func (h *Host) followUp(ctx context.Context, req *iso8583.Message, op func(context.Context, FollowUp) (*Response, error), useAmount bool) (*Response, error) {
	v, ok := req.Get(iso8583.FieldOriginalData)
	if !ok {
		return respond(FormatError), nil
	}
	od, err := iso8583.ParseOriginalData(v)
	if err != nil {
		return respond(FormatError), nil
	}
	m := FollowUp{
		ID:       messageID(req),
		Original: MessageID{AcquirerID: normalAcquirer(od.AcquirerID), STAN: od.STAN, TransmissionTime: od.TransmissionTime},
	}
	if useAmount {
		m.Amount = amountOf(req)
	}
	return op(ctx, m)
}

// response builds the answer to req: the response MTI, the identifying
// elements echoed (never the PAN: the acquirer matches on the STAN and
// has no need to see the card number come back), DE 38 and DE 39.
func (h *Host) response(req *iso8583.Message, r *Response) *iso8583.Message {
	out := iso8583.NewMessage(iso8583.ResponseMTI(req.MTI))
	for _, n := range []int{iso8583.FieldProcessingCode, iso8583.FieldAmount, iso8583.FieldTransmissionTime,
		iso8583.FieldSTAN, iso8583.FieldLocalTime, iso8583.FieldLocalDate, iso8583.FieldAcquirerID,
		iso8583.FieldRetrievalRef, iso8583.FieldTerminalID, iso8583.FieldMerchantID, iso8583.FieldCurrency} {
		if v, ok := req.Get(n); ok {
			out.Set(n, v)
		}
	}
	if r.ApprovalCode != "" && r.ResponseCode == Approved {
		out.Set(iso8583.FieldApprovalCode, r.ApprovalCode)
	}
	out.Set(iso8583.FieldResponseCode, string(r.ResponseCode))
	return out
}

// accountTypeFits reports whether DE 3's from-account type (positions 3–4)
// fits the account the request names: a card (DE 2) or a bank account
// (DE 102).
func accountTypeFits(pc string, card bool) bool {
	if len(pc) != 6 {
		return false
	}
	switch pc[2:4] {
	case "00":
		return true
	case "30":
		return card
	case "10", "20":
		return !card
	}
	return false
}
