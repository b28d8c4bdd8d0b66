package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/setpay/setpay/msg"
)

// Batch is a merchant's settlement batch as the gateway keeps it: the
// captures and credits the acquirer will settle together once the
// merchant closes it.
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

// settlementCurrency is the zero total a new batch starts from. The
// acquirer's settlement currency belongs in its configuration, which comes
// with the acquirer wiring; until then batches settle in US dollars.
var settlementCurrency = msg.CurrencyAmount{Currency: 840, AmtExp10: -2}

// ErrBatchUnknown is returned, wrapped, for a batch that does not exist or
// belongs to another merchant: the two are indistinguishable to the asker.
var ErrBatchUnknown = errors.New("gateway: batch unknown")

// BatchStore keeps merchants' settlement batches. Its implementations must
// be safe for concurrent use.
//
// Only MemoryBatchStore exists so far: persistence comes with the acquirer
// wiring (a store/sqlite table), as does feeding captures into the open
// batch; until then a batch's counts stay at zero.
type BatchStore interface {
	// Open starts a new open batch for merchantID at now and returns it.
	Open(ctx context.Context, merchantID string, now time.Time) (*Batch, error)
	// Batch returns merchantID's batch id, or ErrBatchUnknown.
	Batch(ctx context.Context, merchantID string, id int64) (*Batch, error)
	// OpenBatch returns merchantID's open batch, or ErrBatchUnknown.
	OpenBatch(ctx context.Context, merchantID string) (*Batch, error)
	// UpdateBatch applies f to merchantID's batch id atomically; an error
	// from f leaves the batch unchanged and is returned.
	UpdateBatch(ctx context.Context, merchantID string, id int64, f func(*Batch) error) (*Batch, error)
}

// MemoryBatchStore is a BatchStore in memory: batches vanish with the
// process. The zero value is ready to use.
type MemoryBatchStore struct {
	mu      sync.Mutex
	last    int64
	batches map[int64]*Batch
}

// Open implements BatchStore. Batch IDs are unique across merchants, so
// one merchant cannot name another's batch by guessing small numbers into
// the wrong account.
func (s *MemoryBatchStore) Open(ctx context.Context, merchantID string, now time.Time) (*Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.batches == nil {
		s.batches = map[int64]*Batch{}
	}
	s.last++
	b := &Batch{ID: s.last, MerchantID: merchantID, State: msg.BatchStateOpen, Opened: now.UTC().Truncate(time.Second),
		CaptureTotal: settlementCurrency, CreditTotal: settlementCurrency}
	s.batches[b.ID] = b
	c := *b
	return &c, nil
}

// Batch implements BatchStore.
func (s *MemoryBatchStore) Batch(ctx context.Context, merchantID string, id int64) (*Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.batches[id]
	if !ok || b.MerchantID != merchantID {
		return nil, fmt.Errorf("batch %d: %w", id, ErrBatchUnknown)
	}
	c := *b
	return &c, nil
}

// OpenBatch implements BatchStore.
func (s *MemoryBatchStore) OpenBatch(ctx context.Context, merchantID string) (*Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		if b.MerchantID == merchantID && b.State == msg.BatchStateOpen {
			c := *b
			return &c, nil
		}
	}
	return nil, fmt.Errorf("open batch of %q: %w", merchantID, ErrBatchUnknown)
}

// UpdateBatch implements BatchStore.
func (s *MemoryBatchStore) UpdateBatch(ctx context.Context, merchantID string, id int64, f func(*Batch) error) (*Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.batches[id]
	if !ok || b.MerchantID != merchantID {
		return nil, fmt.Errorf("batch %d: %w", id, ErrBatchUnknown)
	}
	c := *b
	if err := f(&c); err != nil {
		return nil, err
	}
	c.ID, c.MerchantID = b.ID, b.MerchantID // f may not move a batch
	*b = c
	out := c
	return &out, nil
}

// batchStores holds each gateway's BatchStore until Config carries one
// (with the acquirer wiring); a gateway without one gets a
// MemoryBatchStore on first use.
var batchStores sync.Map // *Gateway → BatchStore

// SetBatchStore makes g keep batches in s. Call it before g serves.
func (g *Gateway) SetBatchStore(s BatchStore) { batchStores.Store(g, s) }

func (g *Gateway) batches() BatchStore {
	s, _ := batchStores.LoadOrStore(g, BatchStore(&MemoryBatchStore{}))
	return s.(BatchStore)
}
