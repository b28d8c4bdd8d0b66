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
// captures and credits the acquirer will settle together once the
// merchant closes it. Config.Batches keeps it.
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
// has one, batches settle in US dollars, and a capture in another
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

// batchCapture records a successful capture into merchantID's open batch,
// if it has one, and returns the batch ID and the capture's sequence
// number in it (both nil when the capture is in no batch). A capture is
// recorded once: asked again (a retried CapReq after a crash between
// the capture's record and this one), it answers as the first time.
func (g *Gateway) batchCapture(ctx context.Context, merchantID string, xid msg.XID, amt msg.CurrencyAmount) (id, seq *int64) {
	bs := g.cfg.Batches
	cur, err := bs.CurrentBatch(ctx, merchantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		g.cfg.Log.Error("batch lookup failed", "err", err)
		return nil, nil
	}
	e := store.GatewayBatchEntry{XID: store.XID(xid), Kind: store.EntryCapture, Amount: amt.Amount,
		Currency: amt.Currency, AmtExp10: amt.AmtExp10}
	b, n, err := bs.AddToBatch(ctx, merchantID, cur.ID, e)
	if err != nil {
		// Another currency, or the batch closed meanwhile: the capture
		// stands, outside any batch.
		g.cfg.Log.Warn("capture not batched", "merchant", merchantID, "batch", cur.ID, "err", err)
		return nil, nil
	}
	return &b.ID, &n
}
