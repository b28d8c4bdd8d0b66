package store

import (
	"context"
	"time"
)

// BatchPurged is a gateway batch the merchant purged: emptied and
// closed, nothing of it settles. (Acquirer batches are never purged.)
const BatchPurged BatchState = "purged"

// GatewayBatch is a merchant's settlement batch at the gateway: the captures and
// credits its acquirer settles together once the merchant closes it.
// Totals are in one currency (Currency, AmtExp10), fixed when it opens.
type GatewayBatch struct {
	ID         int64 // assigned by OpenBatch, unique across merchants
	MerchantID string
	State      BatchState // BatchOpen, BatchClosed, BatchSettled or BatchPurged
	Opened     time.Time
	Closed     time.Time // zero while open

	Currency     int
	AmtExp10     int
	CaptureCount int64
	CaptureTotal int64
	CreditCount  int64
	CreditTotal  int64
}

// GatewayBatchEntry is one capture or credit recorded into a batch.
type GatewayBatchEntry struct {
	XID      XID
	Kind     EntryKind // EntryCapture or EntryCredit
	Amount   int64     // positive, in the batch's currency
	Currency int
	AmtExp10 int
}

// GatewayBatchStore persists the gateway's settlement batches. Times come back
// in UTC with nanosecond precision.
type GatewayBatchStore interface {
	// OpenBatch stores b as a new open batch, assigning b.ID. A merchant
	// has at most one open batch: ErrConflict if b.MerchantID has one.
	OpenBatch(ctx context.Context, b *GatewayBatch) error
	// Batch returns merchantID's batch id, or ErrNotFound (also when the
	// batch is another merchant's: the asker cannot tell the two apart).
	Batch(ctx context.Context, merchantID string, id int64) (*GatewayBatch, error)
	// CurrentBatch returns merchantID's open batch, or ErrNotFound.
	CurrentBatch(ctx context.Context, merchantID string) (*GatewayBatch, error)
	// UpdateBatch is read-modify-write in one transaction, like
	// MerchantStore.UpdateOrder. update must not change ID or MerchantID.
	UpdateBatch(ctx context.Context, merchantID string, id int64, update func(b *GatewayBatch) error) (*GatewayBatch, error)
	// AddToBatch records e in merchantID's open batch id and adds it to
	// the batch's count and total, in one transaction, returning the batch
	// and e's sequence number in it (1 for the first entry). An entry is
	// recorded once: if e.XID and e.Kind are already in a batch, nothing
	// changes and that batch and sequence number are returned. A batch
	// that is not open, or whose currency is not e's, is ErrConflict.
	AddToBatch(ctx context.Context, merchantID string, id int64, e GatewayBatchEntry) (*GatewayBatch, int64, error)
}

// IssuerRefStore keeps what an issuer behind the gateway must remember of
// an authorization until its capture, reversal or credit — for an ISO 8583
// link, the authorization's STAN and transmission time — so that a gateway
// restarted in between still finds it. Issuer names the kind of issuer
// (each keeps its own references); Ref is opaque to the store and must
// not hold a PAN.
type IssuerRefStore interface {
	// PutIssuerRef records ref for xid. ErrConflict if xid has one: the
	// first approval of a transaction is the one the gateway records.
	PutIssuerRef(ctx context.Context, issuer string, xid XID, ref []byte) error
	// IssuerRef returns xid's reference, or ErrNotFound.
	IssuerRef(ctx context.Context, issuer string, xid XID) ([]byte, error)
	// DeleteIssuerRef deletes xid's reference if it is ref; a missing or
	// different one is left alone, without error.
	DeleteIssuerRef(ctx context.Context, issuer string, xid XID, ref []byte) error
}
