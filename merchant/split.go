package merchant

// Split shipments and payment plans: after the first authorization (made
// with the cardholder's PI during PReq), the gateway hands back an
// AuthToken when something is left to authorize. The merchant keeps it
// with the order, unopened, and sends it in the PI's place to authorize
// the next shipment or the next payment of a recurring or instalment plan;
// every answer brings the token for the one after. Each authorization is
// captured on its own.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// CheckoutSplit records a new order of amount whose goods ship in parts:
// the purchase authorizes only firstShipment, and AuthorizeShipment the
// later parts, up to amount in all.
func (m *Merchant) CheckoutSplit(ctx context.Context, description string, amount msg.CurrencyAmount, firstShipment int64) (*Offer, error) {
	if firstShipment <= 0 || firstShipment > amount.Amount {
		return nil, errors.New("merchant: first shipment must be positive and no more than the amount")
	}
	offer, err := m.Checkout(ctx, description, amount)
	if err != nil {
		return nil, err
	}
	var xid store.XID
	copy(xid[:], offer.LIDM) // the merchant's local ID is its XID
	if _, err := m.cfg.Store.UpdateOrder(ctx, xid, func(o *store.Order) error {
		o.FirstAuthAmount = firstShipment
		return nil
	}); err != nil {
		return nil, fmt.Errorf("merchant: record order: %w", err)
	}
	return offer, nil
}

// AuthorizeShipment asks the gateway to authorize amount more of order
// xid under the AuthToken it holds: the next part of a split shipment, or
// the next payment of the cardholder's recurring or instalment plan. The
// authorization before must have been captured (CaptureShipment). It
// returns the gateway's AuthCode; the order records an approval, and the
// fresh token in either case, before this returns.
func (m *Merchant) AuthorizeShipment(ctx context.Context, xid msg.XID, amount int64) (msg.AuthCode, error) {
	cfg := m.config()
	st := cfg.Suite
	order, err := cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return 0, fmt.Errorf("merchant: authorize shipment: %w", err)
	}
	switch {
	case order.AuthToken == nil:
		return 0, errors.New("merchant: authorize shipment: no AuthToken for this order (nothing left to authorize)")
	case order.State != store.StateAuthorized && order.State != store.StateCaptured:
		return 0, fmt.Errorf("merchant: authorize shipment: order is %s", order.State)
	case order.CaptureAmount != order.AuthAmount:
		return 0, errors.New("merchant: authorize shipment: capture the previous shipment first")
	case amount <= 0:
		return 0, errors.New("merchant: authorize shipment: amount must be positive")
	}
	transIDs, err := msg.UnmarshalTransIDs(order.TransIDs)
	if err != nil {
		return 0, fmt.Errorf("merchant: authorize shipment: stored TransIDs: %w", err)
	}
	var rrpid msg.RRPID
	if _, err := io.ReadFull(cfg.Rand, rrpid[:]); err != nil {
		return 0, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	pi := msg.PI{AuthToken: order.AuthToken}
	piDER, err := pi.Alternative()
	if err != nil {
		return 0, err
	}
	hPI, err := encap.DD(st, msg.OIDPI, piDER)
	if err != nil {
		return 0, err
	}
	data := msg.AuthReqData{
		MThumbs: cfg.mThumbs(ctx),
		AuthReqItem: msg.AuthReqItem{
			AuthTags: msg.AuthTags{
				AuthRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: now},
				TransIDs:   *transIDs,
			},
			// No CheckDigests: the token stands for the PI.
			AuthReqPayload: msg.AuthReqPayload{
				SubsequentAuthInd: true,
				AuthReqAmt:        msg.CurrencyAmount{Currency: order.Currency, Amount: amount, AmtExp10: order.AmtExp10},
			},
		},
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), cfg.GatewayCert)
		data.PGThumb = &thumb
		data.Expiry = now.Add(cfg.RequestLifetime)
	}
	tbs, err := (&msg.AuthReqTBS{AuthReqData: data, HPI: hPI}).Marshal()
	if err != nil {
		return 0, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, tbs)
	if err != nil {
		return 0, err
	}
	res, err := cfg.Gateway.Authorize(ctx, &msg.AuthReq{AuthReqTBE: tbe, PI: pi}, &msg.MessageIDs{LIDM: transIDs.LIDM, XID: &transIDs.XID})
	if err != nil {
		return 0, fmt.Errorf("merchant: authorize shipment: %w", err)
	}
	result, err := m.checkAuthRes(res, rrpid, xid, tbs)
	if err != nil {
		return 0, err
	}
	approved := result.code == msg.AuthApproved
	if approved && result.amount != data.AuthReqItem.AuthReqPayload.AuthReqAmt {
		return 0, msg.Errorf(msg.UnspecifiedFailure, "gateway approved %v, not the %v asked", result.amount, data.AuthReqItem.AuthReqPayload.AuthReqAmt)
	}
	piKept, err := pi.Marshal() // kept with the part (parts.go)
	if err != nil {
		return 0, err
	}
	// Keep the fresh token even when declined: the gateway may have spent
	// the old one.
	if _, err := cfg.Store.UpdateOrder(ctx, store.XID(xid), func(o *store.Order) error {
		if string(o.AuthToken) != string(order.AuthToken) {
			return errors.New("order's AuthToken changed meanwhile")
		}
		// A refusal that left the token unspent brings none back: keep it.
		if approved || result.authToken != nil {
			o.AuthToken = result.authToken
		}
		if approved {
			// The earlier parts stay as they are; this one is added.
			o.Parts = append(append([]store.OrderPart(nil), orderParts(o)...), newPart(rrpid, result, piKept))
			o.State = store.StateAuthorized
			o.AuthAmount += amount
			o.AuthRRPID = rrpid[:]
			o.CapToken = result.capToken // captoken.go
			o.AuthCode = result.code.String()
			o.GatewayAuthRes = result.signed
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("merchant: authorize shipment: %w", err)
	}
	return result.code, nil
}

// CaptureShipment captures the part of order xid authorized and not yet
// captured: the latest shipment or payment. The order is captured in full
// once its captures add up to everything authorized; the purchase is
// complete when, besides, no AuthToken is left.
func (m *Merchant) CaptureShipment(ctx context.Context, xid msg.XID) (msg.CapCode, error) {
	cfg := m.config()
	order, err := cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return 0, fmt.Errorf("merchant: capture shipment: %w", err)
	}
	if order.State != store.StateAuthorized || order.AuthAmount <= order.CaptureAmount {
		return 0, fmt.Errorf("merchant: capture shipment: nothing authorized to capture (order %s)", order.State)
	}
	transIDs, err := msg.UnmarshalTransIDs(order.TransIDs)
	if err != nil {
		return 0, fmt.Errorf("merchant: capture shipment: stored TransIDs: %w", err)
	}
	amount := msg.CurrencyAmount{Currency: order.Currency, Amount: order.AuthAmount - order.CaptureAmount, AmtExp10: order.AmtExp10}
	// The item names the shipment's own authorization.
	item, err := m.capture(ctx, cfg, "capture shipment", transIDs, msg.RRPID(order.AuthRRPID), amount, order.CapToken) // capture.go
	if err != nil {
		return 0, err
	}
	if item.CapCode != msg.CapSuccess {
		return item.CapCode, nil
	}
	if item.CapAmt != amount {
		return 0, msg.Errorf(msg.UnspecifiedFailure, "gateway captured %v, not the %v asked", item.CapAmt, amount)
	}
	if err := m.updatePart(ctx, xid, msg.RRPID(order.AuthRRPID), func(p *store.OrderPart) error {
		p.CaptureAmount += amount.Amount
		p.State = store.StateCaptured
		return nil
	}, func(o *store.Order) error {
		if o.AuthAmount-o.CaptureAmount != amount.Amount {
			return errors.New("order changed during the capture")
		}
		o.CaptureAmount += amount.Amount
		o.State = store.StateCaptured
		return nil
	}); err != nil {
		return 0, err
	}
	return msg.CapSuccess, nil
}

// Each authorization of an order shipped in parts is reversed, credited
// and captured on its own, named by the RRPID of its AuthReq. The order
// keeps every part (parts.go): ReversePartCapture, CreditPart and
// ReversePartCredit name one by index or RRPID and take its captured
// amount from the store. The methods below take both from the caller, as
// before parts were kept; ReverseCapture, Credit and ReverseCredit act on
// the latest authorization.

// shipment names one authorization of an order and what its capture took.
type shipment struct {
	authRRPID msg.RRPID
	captured  msg.CurrencyAmount
}

// LatestShipment returns the RRPID naming order xid's latest
// authorization: the purchase's own, or that of the last AuthorizeShipment
// approved.
func (m *Merchant) LatestShipment(ctx context.Context, xid msg.XID) (msg.RRPID, error) {
	o, err := m.cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return msg.RRPID{}, fmt.Errorf("merchant: latest shipment: %w", err)
	}
	if len(o.AuthRRPID) != len(msg.RRPID{}) {
		return msg.RRPID{}, fmt.Errorf("merchant: latest shipment: order is %s, with no authorization", o.State)
	}
	return msg.RRPID(o.AuthRRPID), nil
}

// shipmentStates are the order states in which a shipment captured
// earlier may be reversed or credited: a later one may be authorized.
var shipmentStates = []store.OrderState{store.StateAuthorized, store.StateCaptured, store.StateCredited}

// ReverseShipmentCapture reverses in full the capture of the shipment
// authRRPID names, which took captured. The order's authorized and
// captured amounts drop by it; with nothing left captured or authorized
// it is StateCaptureReversed.
func (m *Merchant) ReverseShipmentCapture(ctx context.Context, xid msg.XID, authRRPID msg.RRPID, captured msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	if captured.Amount <= 0 {
		return 0, errors.New("merchant: reverse shipment capture: amount must be positive")
	}
	return m.capRevOrCred(ctx, capRevKind, xid, nil, &shipment{authRRPID, captured}, shipmentStates, func(o *store.Order) {
		o.CaptureAmount -= captured.Amount
		o.AuthAmount -= captured.Amount
		if o.CaptureAmount <= 0 && o.AuthAmount <= 0 {
			o.State = store.StateCaptureReversed
		}
	})
}

// CreditShipment returns amount of the capture of the shipment authRRPID
// names, which took captured. An order with nothing left to authorize is
// then StateCredited, as after Credit; one still being shipped keeps its
// state, so that AuthorizeShipment goes on.
func (m *Merchant) CreditShipment(ctx context.Context, xid msg.XID, authRRPID msg.RRPID, captured, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	return m.capRevOrCred(ctx, credKind, xid, &amount, &shipment{authRRPID, captured}, shipmentStates, func(o *store.Order) {
		if o.AuthToken == nil && o.State == store.StateCaptured {
			o.State = store.StateCredited
		}
	})
}

// ReverseShipmentCredit takes back amount of what was credited on the
// shipment authRRPID names, which took captured. The order's state is
// kept, as by ReverseCredit.
func (m *Merchant) ReverseShipmentCredit(ctx context.Context, xid msg.XID, authRRPID msg.RRPID, captured, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	return m.capRevOrCred(ctx, credRevKind, xid, &amount, &shipment{authRRPID, captured}, shipmentStates, func(*store.Order) {})
}

// checkAuthResBaggage checks the AuthRes baggage against the digest the
// gateway signed and returns the AuthToken in it, if any.
func checkAuthResBaggage(st suite.Suite, baggage *msg.AuthResBaggage, hBaggage []byte) ([]byte, error) {
	switch {
	case baggage == nil && hBaggage == nil:
		return nil, nil
	case baggage == nil:
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRes baggage the gateway signed is missing")
	case hBaggage == nil:
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRes baggage the gateway did not sign")
	}
	raw := baggage.Raw()
	if raw == nil {
		// Built in this process, not decoded: its encoding is its own.
		var err error
		if raw, err = baggage.Marshal(); err != nil {
			return nil, err
		}
	}
	if err := encap.CheckDD(st, hBaggage, msg.OIDAuthResBaggage, raw); err != nil {
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRes baggage differs from what the gateway signed: %w", err)
	}
	return baggage.AuthToken, nil
}
