// Package store declares what the merchant and the payment gateway persist
// for the purchase path, as record types and the interfaces backends
// implement. Party cores declare their own, smaller interfaces that these
// satisfy; store/sqlite is the embedded backend and store/storetest is the
// conformance suite every backend must pass.
//
// The split of the records follows SET's split of knowledge: an Order (the
// merchant's) never holds payment instructions, an Authorization (the
// gateway's) never holds the order description.
package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned, wrapped with context, when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned, wrapped with context, when a write would violate
// uniqueness (a repeated XID, a replayed request) or a limit.
var ErrConflict = errors.New("store: conflict")

// XID is SET's globally unique transaction identifier (20 bytes).
type XID [20]byte

// String returns the XID in lower-case hex.
func (x XID) String() string { return hex.EncodeToString(x[:]) }

// OrderState is where a merchant's order is in the purchase path.
type OrderState string

const (
	StateInitiated         OrderState = "initiated"
	StatePurchaseRequested OrderState = "purchase-requested"
	StateAuthorized        OrderState = "authorized"
	StateDeclined          OrderState = "declined"
	StateCaptured          OrderState = "captured"
	StateFailed            OrderState = "failed"
	// After the purchase path: the authorization reversed in full, the
	// capture reversed, (part of) the capture credited back.
	StateReversed        OrderState = "reversed"
	StateCaptureReversed OrderState = "capture-reversed"
	StateCredited        OrderState = "credited"
)

// Valid reports whether s is one of the defined states.
func (s OrderState) Valid() bool {
	switch s {
	case StateInitiated, StatePurchaseRequested, StateAuthorized,
		StateDeclined, StateCaptured, StateFailed,
		StateReversed, StateCaptureReversed, StateCredited:
		return true
	}
	return false
}

// Order is the merchant's record of one transaction. It never holds payment
// instructions (PAN, expiry): the merchant does not see them.
type Order struct {
	XID         XID
	LIDM, LIDC  []byte // merchant's and cardholder's local transaction IDs
	Brand       string
	Description string // the order description: never leaves the merchant
	Amount      int64
	Currency    int // ISO 4217 numeric
	AmtExp10    int

	State          OrderState
	AuthCode       string
	AuthAmount     int64
	CaptureAmount  int64
	GatewayAuthRes []byte // the gateway-signed result, forwarded to the cardholder

	// The purchase session, set by PInitRes and checked against PReq.
	TransIDs       []byte // DER of the TransIDs the merchant issued
	ChallC, ChallM []byte // the cardholder's and the merchant's challenges
	AuthRRPID      []byte // RRPID of the AuthReq, named again at capture

	// Split shipments and payment plans (merchant/split.go).
	// FirstAuthAmount is what the first authorization asks when it is
	// less than Amount (a split shipment's first part); 0 asks Amount.
	// AuthToken is the gateway's latest AuthToken for the purchase,
	// opaque to the merchant; nil when nothing is left to authorize.
	FirstAuthAmount int64
	AuthToken       []byte

	// CapToken is the gateway's CapToken for the latest authorization,
	// opaque to the merchant and sent back with its capture
	// (merchant/captoken.go); nil when the gateway gave none.
	CapToken []byte

	// Parts are the order's approved authorizations, oldest first: the
	// purchase's own, then one per later shipment or payment
	// (merchant/split.go). Each is captured, reversed and credited on its
	// own; the fields above keep the order's totals and its latest part.
	// UpdateOrder stores the parts with the order, in one transaction.
	Parts []OrderPart

	// Created and Updated are set by the store when zero; see MerchantStore.
	Created, Updated time.Time
}

// OrderPart is one approved authorization of an order, named to the
// gateway by the RRPID of its AuthReq.
type OrderPart struct {
	AuthRRPID      []byte
	State          OrderState // authorized, captured, reversed, capture-reversed or credited
	AuthCode       string
	AuthAmount     int64  // authorized, after any authorization reversal
	CaptureAmount  int64  // captured
	CreditAmount   int64  // credited, net of credit reversals
	CapToken       []byte // the gateway's CapToken for this authorization; nil: none
	GatewayAuthRes []byte // the gateway-signed result of this authorization
	// PI is the DER of the PI the part's AuthReq carried (the
	// cardholder's, or the AuthToken it was authorized under), sealed to
	// the gateway and opaque here: an authorization reversal's baggage
	// repeats it beside the CapToken. nil: not kept.
	PI []byte
}

// MerchantStore persists orders.
//
// Timestamps: CreateOrder keeps non-zero Created/Updated and fills zero ones
// with the current time; UpdateOrder sets Updated to the current time unless
// update changed it. Times come back in UTC with nanosecond precision.
type MerchantStore interface {
	// CreateOrder stores a new order; ErrConflict if its XID exists.
	CreateOrder(ctx context.Context, o *Order) error
	// Order returns the order with this XID, or ErrNotFound.
	Order(ctx context.Context, xid XID) (*Order, error)
	// UpdateOrder reads the order, calls update on it and writes it back,
	// all in one transaction, and returns the stored result. An error from
	// update aborts the transaction and is returned wrapped. update must not
	// change the XID. update may be called more than once if the backend
	// retries a serialization failure, so it must have no side effects,
	// and it must not call the store (a backend may hold its only
	// connection for the transaction).
	UpdateOrder(ctx context.Context, xid XID, update func(o *Order) error) (*Order, error)
	// Orders returns up to limit orders, most recently created first
	// (ties broken by XID); limit <= 0 means all.
	Orders(ctx context.Context, limit int) ([]*Order, error)
}

// Authorization is the gateway's record of one transaction. It never holds
// the order description, and holds the PAN only masked (see MaskPAN).
type Authorization struct {
	XID          XID
	MerchantID   string
	PANMasked    string // first6…last4, see MaskPAN
	Amount       int64
	Currency     int
	AmtExp10     int
	Result       string // auth code name
	ApprovalCode string
	Captured     int64
	State        string

	// CapTokenIssued says the gateway answered this authorization with a
	// CapToken: its captures, reversals and credits must carry it. False
	// for an authorization recorded before CapTokens were issued.
	CapTokenIssued bool

	// Created and Updated follow the same rules as Order's.
	Created, Updated time.Time
}

// GatewayStore persists authorizations and the gateway's replay cache.
type GatewayStore interface {
	// CreateAuthorization stores a new authorization; ErrConflict if its
	// XID exists. It refuses a PANMasked that could be a whole PAN.
	CreateAuthorization(ctx context.Context, a *Authorization) error
	// Authorization returns the authorization with this XID, or ErrNotFound.
	Authorization(ctx context.Context, xid XID) (*Authorization, error)
	// UpdateAuthorization is read-modify-write in one transaction, like
	// MerchantStore.UpdateOrder.
	UpdateAuthorization(ctx context.Context, xid XID, update func(a *Authorization) error) (*Authorization, error)

	// Remember records key until expires (SET deviation 3: the gateway's
	// replay cache). It returns ErrConflict if key is already remembered and
	// has not expired (expires after the current time); an expired entry is
	// replaced. Atomic across processes sharing the database. Key is e.g. a
	// digest of the request's RRPID, XID and message type.
	Remember(ctx context.Context, key []byte, expires time.Time) error
	// PurgeExpired deletes entries whose expiry is at or before now and
	// returns how many it deleted.
	PurgeExpired(ctx context.Context, now time.Time) (int, error)
}

// AccountStore is the per-account spending state of the gateway's built-in
// issuer rule. Accounts are keyed by a digest of the PAN, never the PAN.
type AccountStore interface {
	// Spent returns the total spent on account; 0 for an unknown account.
	Spent(ctx context.Context, account []byte) (int64, error)
	// AddSpent atomically adds delta to account's total and returns the new
	// total. A positive delta that would take the total above limit, or any
	// delta that would take it below zero or overflow, returns ErrConflict
	// and the unchanged total. A negative delta (a reversal) is not checked
	// against limit.
	AddSpent(ctx context.Context, account []byte, delta int64, limit int64) (int64, error)
}

// MaxMaskedDigits is how many digits a masked PAN may show: the first six
// (the issuer's BIN) and the last four.
const MaxMaskedDigits = 10

// MaskPAN returns pan as first6…last4. pan must be 12 to 19 decimal digits.
func MaskPAN(pan string) (string, error) {
	if len(pan) < 12 || len(pan) > 19 {
		return "", fmt.Errorf("store: PAN has %d digits, want 12 to 19", len(pan))
	}
	for i := 0; i < len(pan); i++ {
		if pan[i] < '0' || pan[i] > '9' {
			return "", errors.New("store: PAN has a non-digit")
		}
	}
	return pan[:6] + "…" + pan[len(pan)-4:], nil
}

// CheckMasked returns an error if s shows more than MaxMaskedDigits digits,
// so that a whole PAN is never stored by mistake. Backends call it in
// CreateAuthorization and UpdateAuthorization.
func CheckMasked(s string) error {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n > MaxMaskedDigits {
		return fmt.Errorf("store: PANMasked shows %d digits, at most %d allowed", n, MaxMaskedDigits)
	}
	return nil
}
