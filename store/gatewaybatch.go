package store

import (
	"context"
	"errors"
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

// EntryCaptureReversal is a gateway batch entry returning a capture in
// full to the cardholder.
const EntryCaptureReversal EntryKind = "capture-reversal"

// BatchColumn says where an entry of kind k counts in a gateway batch:
// among its captures (debit: money from the cardholder to the merchant —
// a capture or sale, a credit reversal) or among its credits (money back
// to the cardholder — a credit, a capture reversal). Counts and totals
// only grow; what the merchant is owed is captures − credits. ok is false
// for a kind a gateway batch does not hold.
func BatchColumn(k EntryKind) (debit, ok bool) {
	switch k {
	case EntryCapture, EntryCreditReversal:
		return true, true
	case EntryCredit, EntryCaptureReversal:
		return false, true
	}
	return false, false
}

// GatewayBatchEntry is one money movement recorded into a batch.
type GatewayBatchEntry struct {
	// XID names the entry, with Kind: the authorization captured or whose
	// capture is reversed; for a credit or a credit reversal, of which an
	// authorization may have several, a key the gateway derives from the
	// request.
	XID      XID
	Kind     EntryKind // EntryCapture, EntryCredit, EntryCaptureReversal or EntryCreditReversal
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

	// The authorizations the batches account for live in the same
	// database, so that a change of an authorization and its batch entry
	// are one transaction: a crash leaves both or neither.

	// CreateAuthorizationBatched is GatewayStore.CreateAuthorization that,
	// in the same transaction, records e (unless nil) as AddToBatch would
	// in a.MerchantID's open batch, if it has one in e's currency; if it
	// has none, a is stored alone. It returns the batch and e's sequence
	// number in it, or nil and 0 when e went into no batch.
	CreateAuthorizationBatched(ctx context.Context, a *Authorization, e *GatewayBatchEntry) (*GatewayBatch, int64, error)
	// UpdateAuthorizationBatched is GatewayStore.UpdateAuthorization
	// whose update also returns the batch entry the change makes (nil:
	// none), recorded in the same transaction as by
	// CreateAuthorizationBatched in the authorization's merchant's open
	// batch. An error from update aborts both.
	UpdateAuthorizationBatched(ctx context.Context, xid XID, update func(a *Authorization) (*GatewayBatchEntry, error)) (*Authorization, *GatewayBatch, int64, error)
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

// GatewayClaim is a money movement the gateway has claimed and is asking
// (or has asked) the issuer for, with no outcome recorded yet: a capture,
// an authorization reversal, a capture reversal, a credit or a credit
// reversal. It is written in the same transaction as the authorization's
// claimed state (and the credit counter move, if any), and deleted in the
// same transaction as the outcome, so that a gateway that crashed or lost
// the issuer's answer in between finds every unfinished movement and can
// ask the issuer again under the same message identity.
type GatewayClaim struct {
	// ID names the claim and, to the issuer, the message that asks for
	// the movement: asked again, the issuer recognises a retransmission.
	ID         XID
	Kind       EntryKind // EntryCapture, EntryRelease (authorization reversal), EntryCaptureReversal, EntryCredit, EntryCreditReversal
	AuthXID    XID       // the authorization moved
	MerchantID string
	Amount     int64 // what the issuer is asked to move
	Currency   int
	AmtExp10   int
	// NewAmount is, for an authorization reversal, the amount authorized
	// once it succeeds.
	NewAmount int64
	// Batch keys the batch entry the movement makes when it succeeds.
	Batch XID
	// Counter, if set, is an account counter (AccountStore.AddSpent) moved
	// by CounterDelta, within [0, CounterLimit], with the claim, and moved
	// back if the claim is abandoned.
	Counter      []byte
	CounterDelta int64
	CounterLimit int64
	Created      time.Time
}

// ErrClaimOpen is returned, wrapped, by PutClaim when a claim on the same
// authorization moves the same counter the other way and has no outcome
// yet. Abandoning either of two such claims would move the counter back
// across a bound the other was checked against — a credit the issuer
// turns down would give back what a credit reversal already took — so
// opposite moves never overlap: the later one is refused, to be asked
// again once the earlier is settled.
var ErrClaimOpen = errors.New("store: an opposite claim is open")

// GatewayClaimStore keeps claims, in the database of the authorizations
// and batches.
type GatewayClaimStore interface {
	// PutClaim stores c and applies update to authorization c.AuthXID (and
	// c's counter move), in one transaction. ErrConflict if c.ID exists
	// or the counter would leave its bounds; ErrClaimOpen if a claim on
	// the same authorization moves the same counter the other way; an
	// error from update aborts all. The ErrClaimOpen check and the insert
	// are one atomic step: two claims racing each other cannot both pass
	// it.
	PutClaim(ctx context.Context, c *GatewayClaim, update func(a *Authorization) error) error
	// Claims returns up to max claims, oldest first; with authXID set,
	// only that authorization's.
	Claims(ctx context.Context, authXID *XID, max int) ([]*GatewayClaim, error)
	// SettleClaim deletes claim id and applies update to its
	// authorization, recording the batch entry update returns (nil:
	// none) as UpdateAuthorizationBatched does, in one transaction. With
	// abandon, the claim's counter move is undone in the same
	// transaction. ErrNotFound if the claim is gone (settled by someone
	// else); an error from update aborts all.
	SettleClaim(ctx context.Context, id XID, abandon bool, update func(a *Authorization, c *GatewayClaim) (*GatewayBatchEntry, error)) (*Authorization, *GatewayBatch, int64, error)
}
