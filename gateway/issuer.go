package gateway

import (
	"context"
	"crypto"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
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
}

// IssuerRequest is what the gateway knows of an authorization once it has
// opened the PI. It holds the PAN: it never leaves the gateway except to
// the issuer, and it is never logged.
type IssuerRequest struct {
	PAN        string
	Expiry     string // YYYYMM, as in PANData
	Amount     msg.CurrencyAmount
	MerchantID string
	XID        msg.XID
}

// String masks the PAN.
func (r IssuerRequest) String() string {
	m, err := store.MaskPAN(r.PAN)
	if err != nil {
		m = "(card)"
	}
	return fmt.Sprintf("authorize %s %v for %q", m, r.Amount, r.MerchantID)
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
}

// LimitIssuer is the built-in issuer rule: an expired card is declined;
// an account may spend up to Limit in total. The spending is recorded
// atomically in Store when approved. Captures need nothing from it.
type LimitIssuer struct {
	Store store.AccountStore
	Limit func(pan string) int64
	// Key keys the digest that names an account in the store, so that a
	// PAN never appears there.
	Key  []byte
	Now  func() time.Time
	Rand io.Reader
}

// Authorize applies the rule.
func (li *LimitIssuer) Authorize(ctx context.Context, req IssuerRequest) (IssuerDecision, error) {
	now := li.Now().UTC()
	if req.Expiry < now.Format("200601") {
		return IssuerDecision{Code: msg.AuthExpiredCard}, nil
	}
	if req.Amount.Amount <= 0 {
		return IssuerDecision{Code: msg.AuthAmountError}, nil
	}
	if _, err := li.Store.AddSpent(ctx, li.account(req.PAN), req.Amount.Amount, li.Limit(req.PAN)); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return IssuerDecision{}, fmt.Errorf("account update: %w", err)
		}
		return IssuerDecision{Code: msg.AuthDeclined}, nil
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
	_, err := li.Store.AddSpent(ctx, li.account(req.PAN), -req.Amount.Amount, 0)
	return err
}

// account names a card in the store by a keyed digest, never by its PAN.
func (li *LimitIssuer) account(pan string) []byte {
	mac := hmac.New(crypto.SHA256.New, li.Key)
	mac.Write([]byte(pan))
	return mac.Sum(nil)
}
