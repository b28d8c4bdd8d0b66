package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// Batch is a merchant's settlement batch as the gateway reports it: the
// money movements the acquirer will settle together once the merchant
// closes it. Captures count money to the merchant (captures, sales,
// credit reversals), credits money back to the cardholder (credits,
// capture reversals); the merchant is owed CaptureTotal − CreditTotal.
// Config.Batches keeps it.
type Batch struct {
	ID         int64
	MerchantID string
	State      msg.BatchState
	Opened     time.Time
	Closed     time.Time // zero while open

	CaptureCount int64
	CaptureTotal msg.CurrencyAmount
	CreditCount  int64
	CreditTotal  msg.CurrencyAmount
}

// Status returns the batch as BatchAdminRes reports it.
func (b *Batch) Status() *msg.BatchStatus {
	return &msg.BatchStatus{
		BatchID: b.ID, BatchState: b.State, OpenDateTime: b.Opened, CloseDateTime: b.Closed,
		CaptureCount: b.CaptureCount, CaptureTotal: b.CaptureTotal,
		CreditCount: b.CreditCount, CreditTotal: b.CreditTotal,
	}
}

// settlementCurrency is the currency a new batch settles in. The
// acquirer's settlement currency belongs in its configuration; until it
// has one, batches settle in US dollars, and a movement in another
// currency is not batched.
var settlementCurrency = msg.CurrencyAmount{Currency: 840, AmtExp10: -2}

// ErrBatchUnknown is returned, wrapped, for a batch that does not exist or
// belongs to another merchant: the two are indistinguishable to the asker.
var ErrBatchUnknown = errors.New("gateway: batch unknown")

var batchStates = map[store.BatchState]msg.BatchState{
	store.BatchOpen: msg.BatchStateOpen, store.BatchClosed: msg.BatchStateClosed,
	store.BatchSettled: msg.BatchStateSettled, store.BatchPurged: msg.BatchStatePurged,
}

// batchOf converts a stored batch.
func batchOf(b *store.GatewayBatch) (*Batch, error) {
	state, ok := batchStates[b.State]
	if !ok {
		return nil, fmt.Errorf("gateway: batch %d has state %q", b.ID, b.State)
	}
	amt := func(n int64) msg.CurrencyAmount {
		return msg.CurrencyAmount{Currency: b.Currency, Amount: n, AmtExp10: b.AmtExp10}
	}
	return &Batch{ID: b.ID, MerchantID: b.MerchantID, State: state, Opened: b.Opened, Closed: b.Closed,
		CaptureCount: b.CaptureCount, CaptureTotal: amt(b.CaptureTotal),
		CreditCount: b.CreditCount, CreditTotal: amt(b.CreditTotal)}, nil
}

// storedBatch converts the store's answer, mapping ErrNotFound to
// ErrBatchUnknown.
func storedBatch(b *store.GatewayBatch, err error) (*Batch, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrBatchUnknown, err)
	}
	if err != nil {
		return nil, err
	}
	return batchOf(b)
}

// openBatch opens a batch for merchantID; ErrConflict (wrapped) when it
// has one open already.
func (g *Gateway) openBatch(ctx context.Context, merchantID string, now time.Time) (*Batch, error) {
	b := &store.GatewayBatch{MerchantID: merchantID, Opened: now,
		Currency: settlementCurrency.Currency, AmtExp10: settlementCurrency.AmtExp10}
	if err := g.cfg.Batches.OpenBatch(ctx, b); err != nil {
		return nil, err
	}
	return batchOf(b)
}

// batchEntry is the entry of a money movement of amt on xid.
func batchEntry(xid store.XID, kind store.EntryKind, amt msg.CurrencyAmount) *store.GatewayBatchEntry {
	return &store.GatewayBatchEntry{XID: xid, Kind: kind, Amount: amt.Amount, Currency: amt.Currency, AmtExp10: amt.AmtExp10}
}

// batchRef converts the store's answer to CapResPayload's batch fields:
// nil when the movement went into no batch (the merchant has none open,
// or it settles in another currency).
func batchRef(b *store.GatewayBatch, seq int64) (id, n *int64) {
	if b == nil {
		return nil, nil
	}
	return &b.ID, &seq
}

// createAuthorization stores a new authorization. A sale (recorded as
// captured) goes into the merchant's open batch in the same transaction,
// so that no crash leaves a sale outside its batch.
func (g *Gateway) createAuthorization(ctx context.Context, a *store.Authorization) (id, seq *int64, err error) {
	var e *store.GatewayBatchEntry
	if a.State == stateCaptured {
		e = batchEntry(a.XID, store.EntryCapture, msg.CurrencyAmount{Currency: a.Currency, Amount: a.Captured, AmtExp10: a.AmtExp10})
	}
	b, n, err := g.cfg.Batches.CreateAuthorizationBatched(ctx, a, e)
	if err != nil {
		return nil, nil, err
	}
	id, seq = batchRef(b, n)
	return id, seq, nil
}
