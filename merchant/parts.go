package merchant

// The parts of an order. Every approved authorization of an order — the
// purchase's own, then one per later shipment or payment (split.go) — is
// kept as a store.OrderPart with its own RRPID, amounts, CapToken and
// state, so that any part can be captured, reversed or credited later,
// named by its index or its RRPID, without the caller keeping anything.
// The order's own fields keep the totals and the latest part, as before
// parts were kept.

import (
	"context"
	"fmt"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// PartRef names one part of an order: PartIndex or PartRRPID.
type PartRef struct {
	index   int
	rrpid   msg.RRPID
	byRRPID bool
}

// PartIndex names the i-th approved authorization of an order, from 0
// (the purchase's own).
func PartIndex(i int) PartRef { return PartRef{index: i} }

// PartRRPID names the authorization whose AuthReq carried rrpid.
func PartRRPID(rrpid msg.RRPID) PartRef { return PartRef{rrpid: rrpid, byRRPID: true} }

func (r PartRef) String() string {
	if r.byRRPID {
		return fmt.Sprintf("part %x", r.rrpid[:4])
	}
	return fmt.Sprintf("part %d", r.index)
}

// find returns the index in parts of the part r names.
func (r PartRef) find(parts []store.OrderPart) (int, error) {
	if !r.byRRPID {
		if r.index < 0 || r.index >= len(parts) {
			return 0, fmt.Errorf("order has no part %d (%d parts)", r.index, len(parts))
		}
		return r.index, nil
	}
	for i, p := range parts {
		if string(p.AuthRRPID) == string(r.rrpid[:]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("order has no part authorized by RRPID %x", r.rrpid[:4])
}

// orderParts returns o's parts. An order stored before parts were kept
// gets its latest authorization, with the order's amounts, as its one
// part; UpdateOrder then stores it.
func orderParts(o *store.Order) []store.OrderPart {
	if len(o.Parts) > 0 || len(o.AuthRRPID) != len(msg.RRPID{}) {
		return o.Parts
	}
	switch o.State {
	case store.StateAuthorized, store.StateCaptured, store.StateReversed, store.StateCaptureReversed, store.StateCredited:
	default:
		return nil // not authorized: no part
	}
	return []store.OrderPart{{
		AuthRRPID:      o.AuthRRPID,
		State:          o.State,
		AuthCode:       o.AuthCode,
		AuthAmount:     o.AuthAmount,
		CaptureAmount:  o.CaptureAmount,
		CapToken:       o.CapToken,
		GatewayAuthRes: o.GatewayAuthRes,
	}}
}

// Parts returns the parts of order xid, oldest first: each approved
// authorization with its RRPID, amounts, CapToken and state.
func (m *Merchant) Parts(ctx context.Context, xid msg.XID) ([]store.OrderPart, error) {
	o, err := m.cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return nil, fmt.Errorf("merchant: parts: %w", err)
	}
	return orderParts(o), nil
}

// updatePart applies update to the part of order xid that authRRPID
// names, if the order keeps it, in the same transaction as orderUpdate.
func (m *Merchant) updatePart(ctx context.Context, xid msg.XID, authRRPID msg.RRPID, update func(*store.OrderPart) error, orderUpdate func(*store.Order) error) error {
	_, err := m.cfg.Store.UpdateOrder(ctx, store.XID(xid), func(o *store.Order) error {
		parts := append([]store.OrderPart(nil), orderParts(o)...)
		if i, err := PartRRPID(authRRPID).find(parts); err == nil && update != nil {
			if err := update(&parts[i]); err != nil {
				return err
			}
		}
		o.Parts = parts
		if orderUpdate != nil {
			return orderUpdate(o)
		}
		return nil
	})
	return err
}

// part returns order xid's part that ref names, with the order.
func (m *Merchant) part(ctx context.Context, xid msg.XID, ref PartRef) (*store.Order, *store.OrderPart, error) {
	o, err := m.cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return nil, nil, err
	}
	parts := orderParts(o)
	i, err := ref.find(parts)
	if err != nil {
		return nil, nil, err
	}
	return o, &parts[i], nil
}

// CapturePart captures what the part ref names has authorized and not
// captured. Only the latest part can have any (AuthorizeShipment wants the
// one before captured), so this is CaptureShipment for a part named.
func (m *Merchant) CapturePart(ctx context.Context, xid msg.XID, ref PartRef) (msg.CapCode, error) {
	o, p, err := m.part(ctx, xid, ref)
	if err != nil {
		return 0, fmt.Errorf("merchant: capture %s: %w", ref, err)
	}
	if p.State != store.StateAuthorized || p.AuthAmount <= p.CaptureAmount {
		return 0, fmt.Errorf("merchant: capture %s: nothing authorized to capture (%s)", ref, p.State)
	}
	if string(p.AuthRRPID) != string(o.AuthRRPID) {
		return 0, fmt.Errorf("merchant: capture %s: not the order's latest authorization", ref)
	}
	return m.CaptureShipment(ctx, xid)
}

// capturedPart returns the shipment the part ref names, which must be
// captured (and may be credited).
func (m *Merchant) capturedPart(ctx context.Context, what string, xid msg.XID, ref PartRef) (*shipment, error) {
	o, p, err := m.part(ctx, xid, ref)
	if err != nil {
		return nil, fmt.Errorf("merchant: %s %s: %w", what, ref, err)
	}
	if p.State != store.StateCaptured && p.State != store.StateCredited {
		return nil, fmt.Errorf("merchant: %s %s: part is %s", what, ref, p.State)
	}
	return &shipment{
		authRRPID: msg.RRPID(p.AuthRRPID),
		captured:  msg.CurrencyAmount{Currency: o.Currency, Amount: p.CaptureAmount, AmtExp10: o.AmtExp10},
	}, nil
}

// ReversePartCapture reverses in full the capture of the part ref names,
// as ReverseShipmentCapture does with the amount the part recorded.
func (m *Merchant) ReversePartCapture(ctx context.Context, xid msg.XID, ref PartRef) (msg.CapRevOrCredCode, error) {
	s, err := m.capturedPart(ctx, "reverse capture of", xid, ref)
	if err != nil {
		return 0, err
	}
	return m.ReverseShipmentCapture(ctx, xid, s.authRRPID, s.captured)
}

// CreditPart returns amount of the capture of the part ref names to the
// cardholder, as CreditShipment does.
func (m *Merchant) CreditPart(ctx context.Context, xid msg.XID, ref PartRef, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	s, err := m.capturedPart(ctx, "credit", xid, ref)
	if err != nil {
		return 0, err
	}
	return m.CreditShipment(ctx, xid, s.authRRPID, s.captured, amount)
}

// ReversePartCredit takes back amount of what was credited on the part ref
// names, as ReverseShipmentCredit does.
func (m *Merchant) ReversePartCredit(ctx context.Context, xid msg.XID, ref PartRef, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	s, err := m.capturedPart(ctx, "reverse credit of", xid, ref)
	if err != nil {
		return 0, err
	}
	return m.ReverseShipmentCredit(ctx, xid, s.authRRPID, s.captured, amount)
}

// newPart is the part an approved authorization adds to its order.
func newPart(rrpid msg.RRPID, r *authResult, pi []byte) store.OrderPart {
	return store.OrderPart{
		AuthRRPID:      rrpid[:],
		State:          store.StateAuthorized,
		AuthCode:       r.code.String(),
		AuthAmount:     r.amount.Amount,
		CapToken:       r.capToken,
		GatewayAuthRes: r.signed,
		PI:             pi,
	}
}
