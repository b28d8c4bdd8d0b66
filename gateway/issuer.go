package gateway

import (
	"context"
	"crypto"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// Issuer is the card issuer as the gateway sees it: it says yes or no to
// an authorization and is told of captures. LimitIssuer is the built-in
// one; banklink puts a bank host behind the gateway over ISO 8583.
//
// Business outcomes are SET codes; an error means the issuer could not
// be asked, and the gateway answers systemError (authorization) or
// unspecifiedFailure (capture).
type Issuer interface {
	Authorize(ctx context.Context, req IssuerRequest) (IssuerDecision, error)
	// Capture converts an approved authorization of req.XID into a debit.
	Capture(ctx context.Context, req CaptureRequest) (msg.CapCode, error)
	// Reverse undoes an approval the gateway could not record (the XID was
	// already authorized), so the cardholder is not left with a hold.
	Reverse(ctx context.Context, req IssuerRequest, d IssuerDecision) error

	// ReverseAuthorization releases req.Amount of the hold XID's recorded
	// authorization placed (a partial reversal releases less than all).
	ReverseAuthorization(ctx context.Context, req AdjustRequest) (msg.AuthRevCode, error)
	// ReverseCapture returns req.Amount, all that XID's capture took, to
	// the cardholder.
	ReverseCapture(ctx context.Context, req AdjustRequest) (msg.CapRevOrCredCode, error)
	// Credit returns req.Amount of what XID's capture took.
	Credit(ctx context.Context, req AdjustRequest) (msg.CapRevOrCredCode, error)
	// ReverseCredit takes back req.Amount that a credit of XID returned.
	ReverseCredit(ctx context.Context, req AdjustRequest) (msg.CapRevOrCredCode, error)
}

// AdjustRequest asks the issuer to move Amount after an authorization of
// XID: a reversal, a credit or the reversal of either. The gateway has
// checked it against its record first; the PAN is not in it (the gateway
// keeps none), so the issuer finds the card from the XID.
type AdjustRequest struct {
	XID        msg.XID
	MerchantID string
	Amount     msg.CurrencyAmount
	// ID names this movement (the gateway's claim, reconcile.go): asked
	// again with the same ID — after no answer, or after a restart — the
	// issuer must answer as the first time and move nothing twice. Zero:
	// no identity, a fresh request.
	ID msg.XID
}

// IssuerRequest is what the gateway knows of an authorization once it has
// opened the PI. It holds the PAN: it never leaves the gateway except to
// the issuer, and it is never logged.
type IssuerRequest struct {
	PAN    string
	Expiry string // YYYYMM, as in PANData
	// Account is the bank account the PI carried instead of a card
	// (msg.AcctPIData); PAN and Expiry are then empty. As confidential as
	// the PAN, and masked like it.
	Account    *msg.BankAccount
	Amount     msg.CurrencyAmount
	MerchantID string
	XID        msg.XID
	// Capture asks for a sale: authorization and capture of all of Amount
	// at once (the merchant's AuthReq said captureNow). An approval then
	// means the debit is posted, not held; Reverse of it returns the money.
	Capture bool
}

// accountKey names the account charged: the PAN, or the bank account's
// identification (which never looks like a PAN: see msg.BankAccount).
func (r IssuerRequest) accountKey() string {
	if r.Account != nil {
		return r.Account.Identification()
	}
	return r.PAN
}

// String masks the PAN and the bank account.
func (r IssuerRequest) String() string {
	m, err := store.MaskPAN(r.PAN)
	if err != nil {
		m = "(card)"
	}
	if r.Account != nil {
		m = r.Account.String()
	}
	what := "authorize"
	if r.Capture {
		what = "sale"
	}
	return fmt.Sprintf("%s %s %v for %q", what, m, r.Amount, r.MerchantID)
}

// GoString masks as String does.
func (r IssuerRequest) GoString() string { return r.String() }

// IssuerDecision is the issuer's answer.
type IssuerDecision struct {
	Code         msg.AuthCode
	ApprovalCode string // approvals only
	ResponseCode string // the issuer's own code, such as ISO 8583 DE 39; for logs
	// Ref is the issuer's reference for the authorization, opaque to the
	// gateway and handed back to Reverse.
	Ref string
}

// CaptureRequest asks the issuer to capture Amount of the authorization
// of XID.
type CaptureRequest struct {
	XID        msg.XID
	MerchantID string
	Amount     msg.CurrencyAmount
	ID         msg.XID // as AdjustRequest.ID
}

// LimitIssuer is the built-in issuer rule: an expired card is declined;
// an account may spend up to Limit in total. The spending is recorded
// atomically in Store when approved. Captures need nothing from it;
// reversals and credits give spending back, credit reversals take it again.
// A sale (IssuerRequest.Capture) is therefore an authorization like any
// other: the spending it records is the capture.
//
// Which account an XID's approval charged (the keyed digest, never the
// PAN) is written to Refs before the approval is returned, so a gateway
// restarted between authorization and reversal or credit still finds it.
type LimitIssuer struct {
	Store store.AccountStore
	// Refs keeps, per approved XID, the account it charged. Nil keeps
	// them in the process's memory, lost on a restart: for tests only.
	Refs  store.IssuerRefStore
	Limit func(pan string) int64
	// Key keys the digest that names an account in the store, so that a
	// PAN never appears there.
	Key  []byte
	Now  func() time.Time
	Rand io.Reader

	mu       sync.Mutex
	accounts map[msg.XID][]byte // approved XID → account digest, when Refs is nil
	applied  map[msg.XID]bool   // movement IDs applied, when Refs is nil
}

// limitIssuerApplied names, in a store.IssuerRefStore, the movements
// (AdjustRequest.ID) the LimitIssuer has applied.
const limitIssuerApplied = "limit-applied"

// once reports whether movement id is new, marking it applied. A zero id
// is always new. The mark is written before the counter moves: a crash in
// between leaves the spending unmoved rather than moved twice, which for
// a spending limit errs on the cardholder's side.
func (li *LimitIssuer) once(ctx context.Context, id msg.XID) (bool, error) {
	if id == (msg.XID{}) {
		return true, nil
	}
	if li.Refs != nil {
		err := li.Refs.PutIssuerRef(ctx, limitIssuerApplied, store.XID(id), []byte{1})
		if errors.Is(err, store.ErrConflict) {
			return false, nil
		}
		return err == nil, err
	}
	li.mu.Lock()
	defer li.mu.Unlock()
	if li.applied[id] {
		return false, nil
	}
	if li.applied == nil {
		li.applied = make(map[msg.XID]bool)
	}
	li.applied[id] = true
	return true, nil
}

// limitIssuerRefs names the LimitIssuer's references in a store.IssuerRefStore.
const limitIssuerRefs = "limit"

// Authorize applies the rule, to a sale as to an authorization.
func (li *LimitIssuer) Authorize(ctx context.Context, req IssuerRequest) (IssuerDecision, error) {
	now := li.Now().UTC()
	if req.Account == nil && req.Expiry < now.Format("200601") {
		return IssuerDecision{Code: msg.AuthExpiredCard}, nil
	}
	if req.Amount.Amount <= 0 {
		return IssuerDecision{Code: msg.AuthAmountError}, nil
	}
	if _, err := li.Store.AddSpent(ctx, li.account(req.accountKey()), req.Amount.Amount, li.Limit(req.accountKey())); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return IssuerDecision{}, fmt.Errorf("account update: %w", err)
		}
		return IssuerDecision{Code: msg.AuthDeclined}, nil
	}
	// The first approval of an XID is the one the gateway records; a
	// second is reversed (Reverse) and must not replace it.
	if err := li.remember(ctx, req.XID, li.account(req.accountKey())); err != nil {
		// Unrecorded, the spending could never be given back: undo it.
		if _, uerr := li.Store.AddSpent(ctx, li.account(req.accountKey()), -req.Amount.Amount, 0); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return IssuerDecision{}, fmt.Errorf("recording the approval: %w", err)
	}
	var code [3]byte
	if _, err := io.ReadFull(li.Rand, code[:]); err != nil {
		return IssuerDecision{}, err
	}
	return IssuerDecision{Code: msg.AuthApproved, ApprovalCode: fmt.Sprintf("%06d", (int(code[0])<<16|int(code[1])<<8|int(code[2]))%1000000)}, nil
}

// Capture succeeds: the rule counts spending at authorization.
func (li *LimitIssuer) Capture(context.Context, CaptureRequest) (msg.CapCode, error) {
	return msg.CapSuccess, nil
}

// Reverse returns the spending an approval recorded.
func (li *LimitIssuer) Reverse(ctx context.Context, req IssuerRequest, d IssuerDecision) error {
	if d.Code != msg.AuthApproved {
		return nil
	}
	_, err := li.Store.AddSpent(ctx, li.account(req.accountKey()), -req.Amount.Amount, 0)
	return err
}

// remember records that XID's approval charged acct, unless an earlier
// approval of XID is recorded.
func (li *LimitIssuer) remember(ctx context.Context, xid msg.XID, acct []byte) error {
	if li.Refs != nil {
		err := li.Refs.PutIssuerRef(ctx, limitIssuerRefs, store.XID(xid), acct)
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	}
	li.mu.Lock()
	defer li.mu.Unlock()
	if li.accounts == nil {
		li.accounts = make(map[msg.XID][]byte)
	}
	if _, dup := li.accounts[xid]; !dup {
		li.accounts[xid] = acct
	}
	return nil
}

// accountOf returns the account XID's approval charged.
func (li *LimitIssuer) accountOf(ctx context.Context, xid msg.XID) ([]byte, error) {
	if li.Refs != nil {
		a, err := li.Refs.IssuerRef(ctx, limitIssuerRefs, store.XID(xid))
		if err != nil {
			return nil, fmt.Errorf("gateway: approval of this transaction: %w", err)
		}
		return a, nil
	}
	li.mu.Lock()
	defer li.mu.Unlock()
	a, ok := li.accounts[xid]
	if !ok {
		return nil, errors.New("gateway: no approval of this transaction on record (gateway restarted?)")
	}
	return a, nil
}

// giveBack lowers XID's account's spending by amt.
func (li *LimitIssuer) giveBack(ctx context.Context, xid msg.XID, amt int64) error {
	acct, err := li.accountOf(ctx, xid)
	if err != nil {
		return err
	}
	_, err = li.Store.AddSpent(ctx, acct, -amt, 0)
	return err
}

// ReverseAuthorization gives back the released part of the spending.
func (li *LimitIssuer) ReverseAuthorization(ctx context.Context, req AdjustRequest) (msg.AuthRevCode, error) {
	if fresh, err := li.once(ctx, req.ID); err != nil || !fresh {
		return msg.AuthRevSuccess, err
	}
	if err := li.giveBack(ctx, req.XID, req.Amount.Amount); err != nil {
		return 0, err
	}
	return msg.AuthRevSuccess, nil
}

// ReverseCapture gives back what was captured.
func (li *LimitIssuer) ReverseCapture(ctx context.Context, req AdjustRequest) (msg.CapRevOrCredCode, error) {
	if fresh, err := li.once(ctx, req.ID); err != nil || !fresh {
		return msg.CapRevOrCredSuccess, err
	}
	if err := li.giveBack(ctx, req.XID, req.Amount.Amount); err != nil {
		return 0, err
	}
	return msg.CapRevOrCredSuccess, nil
}

// Credit gives back what is credited.
func (li *LimitIssuer) Credit(ctx context.Context, req AdjustRequest) (msg.CapRevOrCredCode, error) {
	return li.ReverseCapture(ctx, req)
}

// ReverseCredit counts the credit as spent again. It is not held to the
// limit: the cardholder had spent it before the credit.
func (li *LimitIssuer) ReverseCredit(ctx context.Context, req AdjustRequest) (msg.CapRevOrCredCode, error) {
	if fresh, err := li.once(ctx, req.ID); err != nil || !fresh {
		return msg.CapRevOrCredSuccess, err
	}
	acct, err := li.accountOf(ctx, req.XID)
	if err != nil {
		return 0, err
	}
	if _, err := li.Store.AddSpent(ctx, acct, req.Amount.Amount, math.MaxInt64); err != nil {
		return 0, err
	}
	return msg.CapRevOrCredSuccess, nil
}

// account names a card in the store by a keyed digest, never by its PAN.
func (li *LimitIssuer) account(pan string) []byte {
	mac := hmac.New(crypto.SHA256.New, li.Key)
	mac.Write([]byte(pan))
	return mac.Sum(nil)
}
