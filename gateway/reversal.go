package gateway

// Reversals and credits: AuthRevReq (full and partial), CapRevReq, CredReq
// and CredRevReq from the merchant. Each is opened and checked like a
// CapReq (the envelope, the merchant's certificate, deviations 1 and 3,
// the replay cache), checked against the stored authorization, passed to
// the issuer, and only then recorded. A refusal changes nothing: neither
// the record nor the issuer's books.

import (
	"context"
	"crypto"
	"encoding/asn1"
	"errors"
	"math"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// Authorization states after the purchase path (store.Authorization.State).
const (
	stateReversed        = "reversed"         // authorization reversed in full
	stateCaptureReversed = "capture-reversed" // capture reversed; nothing more to do
)

// HandleAuthRevReq reduces an authorization to the new amount the
// merchant names (zero: reverses it) and releases the difference at the
// issuer. Only an authorization not yet captured can be reversed.
func (g *Gateway) HandleAuthRevReq(ctx context.Context, req *msg.AuthRevReq) (*msg.AuthRevRes, error) {
	cfg := g.cfg
	st := cfg.Suite
	mr, err := g.openMerchantRequest(req.AuthRevReqTBE, msg.OIDAuthRevReqTBS, msg.OIDAuthRevReqTBE)
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalAuthRevReqTBS(mr.tbs)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthRevReqTBS: %w", err)
	}
	data := &tbs.AuthRevReqData
	tags := &data.AuthRevTags
	if tags.AuthRevRRTags.MerTermIDs.MerchantID != mr.merchantID {
		return nil, msg.Errorf(msg.InvalidCertificate, "AuthRevReq merchant ID differs from the certificate's")
	}
	if err := g.checkAddressed("AuthRevReq", data.PGThumb, data.Expiry); err != nil {
		return nil, err
	}
	if err := g.remember(ctx, "AuthRevReq", data.Expiry, tags.AuthRevRRTags.RRPID, tags.TransIDs.XID); err != nil {
		return nil, err
	}
	code, left := g.reverseAuthorization(ctx, mr.merchantID, tags.TransIDs.XID, data.AuthNewAmt)
	cfg.Log.Info("authorization reversal", "merchant", mr.merchantID, "result", code.String())

	res := msg.AuthRevResData{AuthRevTags: *tags, AuthRevCode: code, AuthNewAmt: left}
	if st.ID() != suite.Set1 {
		// Deviation 2: name the merchant and the request answered.
		thumb := msg.ThumbOf(st.Hash(), mr.signerCert)
		res.MerchantThumb = &thumb
		res.HAuthRevReq = digest(st.Hash(), mr.tbs)
	}
	content, err := res.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *g.signer(), mr.exchangeCert, msg.OIDAuthRevResData, msg.OIDAuthRevResTBE, content)
	if err != nil {
		return nil, err
	}
	return &msg.AuthRevRes{AuthRevResTBE: tbe}, nil
}

// reverseAuthorization applies one reversal and returns its code and the
// amount authorized afterwards (the amount before, when refused).
func (g *Gateway) reverseAuthorization(ctx context.Context, merchantID string, x msg.XID, newAmt msg.CurrencyAmount) (msg.AuthRevCode, msg.CurrencyAmount) {
	xid := store.XID(x)
	a, err := g.cfg.Store.Authorization(ctx, xid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return msg.AuthRevUnknownXID, newAmt
	case err != nil:
		g.cfg.Log.Error("authorization reversal failed", "err", err)
		return msg.AuthRevUnspecifiedFailure, newAmt
	}
	held := msg.CurrencyAmount{Currency: a.Currency, Amount: a.Amount, AmtExp10: a.AmtExp10}
	if code := checkAuthRev(a, merchantID, newAmt); code != msg.AuthRevSuccess {
		return code, held
	}
	release := held
	release.Amount = a.Amount - newAmt.Amount
	code, err := g.cfg.Issuer.ReverseAuthorization(ctx, AdjustRequest{XID: x, MerchantID: merchantID, Amount: release})
	if err != nil {
		g.cfg.Log.Error("issuer reversal failed", "err", err)
		return msg.AuthRevUnspecifiedFailure, held
	}
	if code != msg.AuthRevSuccess {
		return code, held
	}
	_, err = g.cfg.Store.UpdateAuthorization(ctx, xid, func(a *store.Authorization) error {
		if code = checkAuthRev(a, merchantID, newAmt); code != msg.AuthRevSuccess {
			return errNoChange
		}
		a.Amount = newAmt.Amount
		if a.Amount == 0 {
			a.State = stateReversed
		}
		return nil
	})
	switch {
	case err == nil:
		return msg.AuthRevSuccess, newAmt
	case errors.Is(err, errNoChange):
		// A concurrent reversal or capture won; the issuer has released
		// twice for one record. Say so loudly: reconciliation must look.
		g.cfg.Log.Error("authorization reversal raced another change", "code", code.String())
		return code, held
	default:
		g.cfg.Log.Error("authorization reversal failed", "err", err)
		return msg.AuthRevUnspecifiedFailure, held
	}
}

// checkAuthRev says whether authorization a may be reduced to newAmt by
// merchantID.
func checkAuthRev(a *store.Authorization, merchantID string, newAmt msg.CurrencyAmount) msg.AuthRevCode {
	switch {
	case a.MerchantID != merchantID:
		return msg.AuthRevUnknownXID
	case a.State == stateReversed:
		return msg.AuthRevAlreadyReversed
	case a.State == "captured", a.State == stateCaptureReversed:
		return msg.AuthRevAlreadyCaptured
	case a.State != "authorized":
		return msg.AuthRevUnknownXID
	case newAmt.Currency != a.Currency || newAmt.AmtExp10 != a.AmtExp10 || newAmt.Amount < 0 || newAmt.Amount >= a.Amount:
		return msg.AuthRevAmountError
	}
	return msg.AuthRevSuccess
}

// HandleCapRevReq reverses captures in full: the money goes back to the
// cardholder and the authorization is done with.
func (g *Gateway) HandleCapRevReq(ctx context.Context, req *msg.CapRevReq) (*msg.CapRevRes, error) {
	tbe, err := g.capRevOrCred(ctx, "CapRevReq", req.CapRevReqTBE, msg.OIDCapRevReqTBS, msg.OIDCapRevReqTBE,
		msg.OIDCapRevResData, msg.OIDCapRevResTBE, g.reverseCapture)
	if err != nil {
		return nil, err
	}
	return &msg.CapRevRes{CapRevResTBE: tbe}, nil
}

// HandleCredReq credits back part or all of what was captured; the
// credits of one transaction never add up to more than its capture.
func (g *Gateway) HandleCredReq(ctx context.Context, req *msg.CredReq) (*msg.CredRes, error) {
	tbe, err := g.capRevOrCred(ctx, "CredReq", req.CredReqTBE, msg.OIDCredReqTBS, msg.OIDCredReqTBE,
		msg.OIDCredResData, msg.OIDCredResTBE, g.credit)
	if err != nil {
		return nil, err
	}
	return &msg.CredRes{CredResTBE: tbe}, nil
}

// HandleCredRevReq reverses credits: never more than has been credited.
func (g *Gateway) HandleCredRevReq(ctx context.Context, req *msg.CredRevReq) (*msg.CredRevRes, error) {
	tbe, err := g.capRevOrCred(ctx, "CredRevReq", req.CredRevReqTBE, msg.OIDCredRevReqTBS, msg.OIDCredRevReqTBE,
		msg.OIDCredRevResData, msg.OIDCredRevResTBE, g.reverseCredit)
	if err != nil {
		return nil, err
	}
	return &msg.CredRevRes{CredRevResTBE: tbe}, nil
}

// capRevOrCred runs the steps the three share and applies op to each item.
// It returns the response envelope.
func (g *Gateway) capRevOrCred(ctx context.Context, kind string, env []byte, ctTBS, ctTBE, ctRes, ctResTBE asn1.ObjectIdentifier,
	op func(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount) msg.CapRevOrCredCode) ([]byte, error) {
	cfg := g.cfg
	st := cfg.Suite
	mr, err := g.openMerchantRequest(env, ctTBS, ctTBE)
	if err != nil {
		return nil, err
	}
	tbs, err := msg.UnmarshalCapRevOrCredReqTBS(mr.tbs)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "%s TBS: %w", kind, err)
	}
	data := &tbs.CapRevOrCredReqData
	if data.CapRevOrCredRRTags.MerTermIDs.MerchantID != mr.merchantID {
		return nil, msg.Errorf(msg.InvalidCertificate, "%s merchant ID differs from the certificate's", kind)
	}
	if err := g.checkAddressed(kind, data.PGThumb, data.Expiry); err != nil {
		return nil, err
	}
	if err := g.remember(ctx, kind, data.Expiry, data.CapRevOrCredRRTags.RRPID, data.CapRevOrCredReqItemSeq[0].TransIDs.XID); err != nil {
		return nil, err
	}
	res := msg.CapRevOrCredResData{CapRevOrCredRRTags: data.CapRevOrCredRRTags, CapRevOrCredResItemSeq: []msg.CapRevOrCredResItem{}}
	for i := range data.CapRevOrCredReqItemSeq {
		item := &data.CapRevOrCredReqItemSeq[i]
		// Capture reversal moves the capture's amount; credit and its
		// reversal the amount named.
		amt := item.CapPayload.CapReqAmt
		if item.CapRevOrCredReqAmt != nil {
			amt = *item.CapRevOrCredReqAmt
		}
		code := g.applyItem(ctx, kind, mr.merchantID, item.TransIDs.XID, amt, op)
		cfg.Log.Info("capture reversal or credit", "kind", kind, "merchant", mr.merchantID, "result", code.String())
		res.CapRevOrCredResItemSeq = append(res.CapRevOrCredResItemSeq, msg.CapRevOrCredResItem{
			TransIDs: item.TransIDs, AuthRRPID: item.AuthRRPID, CapRevOrCredCode: code, CapRevOrCredActualAmt: amt,
		})
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), mr.signerCert)
		res.MerchantThumb = &thumb
		res.HCapRevOrCredReq = digest(st.Hash(), mr.tbs)
	}
	content, err := res.Marshal()
	if err != nil {
		return nil, err
	}
	return encap.Enc(st, cfg.Rand, *g.signer(), mr.exchangeCert, ctRes, ctResTBE, content)
}

// applyItem finds the authorization an item names and runs op on it if
// it is this merchant's and was captured.
func (g *Gateway) applyItem(ctx context.Context, kind, merchantID string, xid msg.XID, amt msg.CurrencyAmount,
	op func(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount) msg.CapRevOrCredCode) msg.CapRevOrCredCode {
	a, err := g.cfg.Store.Authorization(ctx, store.XID(xid))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return msg.CapRevOrCredUnknownXID
	case err != nil:
		g.cfg.Log.Error(kind+" failed", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure
	case a.MerchantID != merchantID:
		return msg.CapRevOrCredUnknownXID
	case a.State == stateCaptureReversed:
		return msg.CapRevOrCredAlreadyReversed
	case a.State != "captured":
		return msg.CapRevOrCredOriginalNotFound // nothing was captured
	case amt.Currency != a.Currency || amt.AmtExp10 != a.AmtExp10 || amt.Amount <= 0:
		return msg.CapRevOrCredAmountError
	}
	return op(ctx, merchantID, a, amt)
}

// The amount credited on each transaction is a counter in the account
// store, under a keyed digest of its XID: AddSpent's bounds make "never
// more than captured" (limit) and "never below nothing" (zero) atomic
// across gateway processes, which store.Authorization cannot say.
func (g *Gateway) creditKey(xid msg.XID) []byte {
	return digest(crypto.SHA256, []byte("setpay credited\x00"), g.accountKey, xid[:])
}

// reverseCapture reverses a's capture in full. Filling the credit counter
// up to the capture first refuses the reversal of a capture already
// (partly) credited, and any credit after it.
func (g *Gateway) reverseCapture(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount) msg.CapRevOrCredCode {
	if amt.Amount != a.Captured {
		return msg.CapRevOrCredAmountError
	}
	key := g.creditKey(msg.XID(a.XID))
	if code := g.count(ctx, key, a.Captured, a.Captured); code != msg.CapRevOrCredSuccess {
		return code
	}
	code, err := g.cfg.Issuer.ReverseCapture(ctx, AdjustRequest{XID: msg.XID(a.XID), MerchantID: merchantID, Amount: amt})
	if err != nil || code != msg.CapRevOrCredSuccess {
		g.undoCount(ctx, key, -a.Captured)
		return issuerOutcome(g, err, code)
	}
	if _, err := g.cfg.Store.UpdateAuthorization(ctx, a.XID, func(a *store.Authorization) error {
		a.State = stateCaptureReversed
		return nil
	}); err != nil {
		g.cfg.Log.Error("capture reversal not recorded", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure
	}
	return msg.CapRevOrCredSuccess
}

// credit returns amt of a's capture.
func (g *Gateway) credit(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount) msg.CapRevOrCredCode {
	key := g.creditKey(msg.XID(a.XID))
	if code := g.count(ctx, key, amt.Amount, a.Captured); code != msg.CapRevOrCredSuccess {
		return code
	}
	code, err := g.cfg.Issuer.Credit(ctx, AdjustRequest{XID: msg.XID(a.XID), MerchantID: merchantID, Amount: amt})
	if err != nil || code != msg.CapRevOrCredSuccess {
		g.undoCount(ctx, key, -amt.Amount)
		return issuerOutcome(g, err, code)
	}
	return msg.CapRevOrCredSuccess
}

// reverseCredit takes back amt of what was credited on a.
func (g *Gateway) reverseCredit(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount) msg.CapRevOrCredCode {
	key := g.creditKey(msg.XID(a.XID))
	if code := g.count(ctx, key, -amt.Amount, 0); code != msg.CapRevOrCredSuccess {
		return msg.CapRevOrCredOriginalNotFound // not that much was credited
	}
	code, err := g.cfg.Issuer.ReverseCredit(ctx, AdjustRequest{XID: msg.XID(a.XID), MerchantID: merchantID, Amount: amt})
	if err != nil || code != msg.CapRevOrCredSuccess {
		g.undoCount(ctx, key, amt.Amount)
		return issuerOutcome(g, err, code)
	}
	return msg.CapRevOrCredSuccess
}

// count moves the credit counter by delta within [0, limit].
func (g *Gateway) count(ctx context.Context, key []byte, delta, limit int64) msg.CapRevOrCredCode {
	_, err := g.cfg.Store.AddSpent(ctx, key, delta, limit)
	switch {
	case err == nil:
		return msg.CapRevOrCredSuccess
	case errors.Is(err, store.ErrConflict):
		return msg.CapRevOrCredAmountError
	default:
		g.cfg.Log.Error("credit counter", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure
	}
}

// undoCount takes back a counter move the issuer refused.
func (g *Gateway) undoCount(ctx context.Context, key []byte, delta int64) {
	if _, err := g.cfg.Store.AddSpent(ctx, key, delta, math.MaxInt64); err != nil {
		g.cfg.Log.Error("could not undo the credit counter", "err", err)
	}
}

func issuerOutcome(g *Gateway, err error, code msg.CapRevOrCredCode) msg.CapRevOrCredCode {
	if err != nil {
		g.cfg.Log.Error("issuer failed", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure
	}
	return code
}
