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
	"fmt"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// Authorization states (store.Authorization.State).
const (
	stateAuthorized = "authorized"
	stateCapturing  = "capturing" // claimed by a capture that is with the issuer
	stateCaptured   = "captured"
	stateReversing  = "reversing" // claimed by an authorization reversal that is with the issuer

	// After the purchase path.
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
	// The baggage beside the signed data, checked against its signed
	// digest before the replay cache, as a CapTokenSeq (captoken.go).
	capToken, err := g.authRevCapToken(req.AuthRevReqBaggage, tbs.HAuthRevReqBaggage)
	if err != nil {
		return nil, err
	}
	if err := g.remember(ctx, "AuthRevReq", data.Expiry, tags.AuthRevRRTags.RRPID, tags.TransIDs.XID); err != nil {
		return nil, err
	}
	// The AuthReq it names tells a later shipment's authorization from
	// the purchase's (split.go).
	xid := g.target(ctx, tags.TransIDs.XID, data.AuthReqData.AuthReqItem.AuthTags.AuthRRTags.RRPID)
	code, left := g.checkAuthRevCapToken(ctx, capToken, mr.merchantID, xid, data), data.AuthNewAmt
	if code == msg.AuthRevSuccess {
		code, left = g.reverseAuthorization(ctx, mr.merchantID, xid, data.AuthNewAmt)
	}
	cfg.Log.Info("authorization reversal", "merchant", mr.merchantID, "result", code.String())

	res := msg.AuthRevResData{AuthRevTags: *tags, AuthRevCode: code, AuthNewAmt: left}
	if st.ID() != suite.Set1 {
		// Deviation 2: name the merchant and the request answered.
		thumb := msg.ThumbOf(st.Hash(), mr.signerCert)
		res.MerchantThumb = &thumb
		res.HAuthRevReq = digest(st.Hash(), mr.tbs)
	}
	signer := g.carrying(ctx, data.MThumbs, &res.BrandCRLIdentifier)
	content, err := res.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, signer, mr.exchangeCert, msg.OIDAuthRevResData, msg.OIDAuthRevResTBE, content)
	if err != nil {
		return nil, err
	}
	return &msg.AuthRevRes{AuthRevResTBE: tbe}, nil
}

// reverseAuthorization applies one reversal and returns its code and the
// amount authorized afterwards (the amount before, when refused). Like a
// capture it claims the record first (stateReversing, with a claim naming
// the movement: reconcile.go), so that a racing reversal or capture is
// refused before the issuer releases anything; the issuer's answer then
// completes the claim or gives it back. An issuer that could not be asked
// leaves the claim for reconciliation: the hold may have been released.
func (g *Gateway) reverseAuthorization(ctx context.Context, merchantID string, xid store.XID, newAmt msg.CurrencyAmount) (msg.AuthRevCode, msg.CurrencyAmount) {
	var (
		code msg.AuthRevCode
		held msg.CurrencyAmount
	)
	var c *store.GatewayClaim
	for try := 0; ; try++ {
		c = g.newClaim(store.EntryRelease, xid, merchantID, newAmt)
		c.NewAmount = newAmt.Amount
		stuck := false
		err := g.claims.PutClaim(ctx, c, func(a *store.Authorization) error {
			held = msg.CurrencyAmount{Currency: a.Currency, Amount: a.Amount, AmtExp10: a.AmtExp10}
			if code = checkAuthRev(a, merchantID, newAmt); code != msg.AuthRevSuccess {
				stuck = a.State == stateReversing && a.MerchantID == merchantID
				return errNoChange
			}
			c.Amount = a.Amount - newAmt.Amount // what the issuer releases
			a.State = stateReversing
			return nil
		})
		switch {
		case errors.Is(err, errNoChange) && stuck && try == 0:
			// A reversal left with the issuer by a request that got no
			// answer, or by a gateway that stopped: settle it now
			// (reconcile.go). The same reversal done is this one's
			// answer; anything else is decided again on the new record.
			for _, r := range g.reconcileAuthorization(ctx, xid) {
				if r.claim.Kind == store.EntryRelease && r.settled && r.ok && r.claim.NewAmount == newAmt.Amount {
					g.cfg.Log.Info("authorization reversal completed by reconciliation", "xid", xid.String())
					return msg.AuthRevSuccess, newAmt
				}
			}
			continue
		case errors.Is(err, errNoChange):
			return code, held
		case errors.Is(err, store.ErrNotFound):
			return msg.AuthRevUnknownXID, newAmt
		case err != nil:
			g.cfg.Log.Error("authorization reversal failed", "err", err)
			return msg.AuthRevUnspecifiedFailure, newAmt
		}
		break
	}
	r := g.runClaim(ctx, c)
	switch {
	case !r.answered:
		g.cfg.Log.Error("issuer reversal failed; the authorization stays reversing until reconciled", "xid", xid.String(), "err", r.err)
		return msg.AuthRevUnspecifiedFailure, held
	case !r.ok:
		return r.revCode, held
	case !r.settled && r.err != nil && !errors.Is(r.err, store.ErrNotFound):
		return msg.AuthRevUnspecifiedFailure, held
	}
	return msg.AuthRevSuccess, newAmt
}

// checkAuthRev says whether authorization a may be reduced to newAmt by
// merchantID.
func checkAuthRev(a *store.Authorization, merchantID string, newAmt msg.CurrencyAmount) msg.AuthRevCode {
	switch {
	case a.MerchantID != merchantID:
		return msg.AuthRevUnknownXID
	case a.State == stateReversed:
		return msg.AuthRevAlreadyReversed
	case a.State == stateReversing:
		return msg.AuthRevDuplicateRequest // another reversal is with the issuer
	case a.State == stateCaptured, a.State == stateCapturing, a.State == stateCaptureReversed:
		return msg.AuthRevAlreadyCaptured
	case a.State != stateAuthorized:
		return msg.AuthRevUnknownXID
	case newAmt.Currency != a.Currency || newAmt.AmtExp10 != a.AmtExp10 || newAmt.Amount < 0 || newAmt.Amount >= a.Amount:
		return msg.AuthRevAmountError
	}
	return msg.AuthRevSuccess
}

// HandleCapRevReq reverses captures in full: the money goes back to the
// cardholder and the authorization is done with.
func (g *Gateway) HandleCapRevReq(ctx context.Context, req *msg.CapRevReq) (*msg.CapRevRes, error) {
	tbe, err := g.capRevOrCred(ctx, "CapRevReq", req.CapRevReqTBE, req.CapTokenSeq, msg.OIDCapRevReqTBS, msg.OIDCapRevReqTBE,
		msg.OIDCapRevResData, msg.OIDCapRevResTBE, g.reverseCapture)
	if err != nil {
		return nil, err
	}
	return &msg.CapRevRes{CapRevResTBE: tbe}, nil
}

// HandleCredReq credits back part or all of what was captured; the
// credits of one transaction never add up to more than its capture.
func (g *Gateway) HandleCredReq(ctx context.Context, req *msg.CredReq) (*msg.CredRes, error) {
	tbe, err := g.capRevOrCred(ctx, "CredReq", req.CredReqTBE, req.CapTokenSeq, msg.OIDCredReqTBS, msg.OIDCredReqTBE,
		msg.OIDCredResData, msg.OIDCredResTBE, g.credit)
	if err != nil {
		return nil, err
	}
	return &msg.CredRes{CredResTBE: tbe}, nil
}

// HandleCredRevReq reverses credits: never more than has been credited.
func (g *Gateway) HandleCredRevReq(ctx context.Context, req *msg.CredRevReq) (*msg.CredRevRes, error) {
	tbe, err := g.capRevOrCred(ctx, "CredRevReq", req.CredRevReqTBE, req.CapTokenSeq, msg.OIDCredRevReqTBS, msg.OIDCredRevReqTBE,
		msg.OIDCredRevResData, msg.OIDCredRevResTBE, g.reverseCredit)
	if err != nil {
		return nil, err
	}
	return &msg.CredRevRes{CredRevResTBE: tbe}, nil
}

// itemOp applies one capture reversal, credit or credit reversal of amt to
// authorization a; entry keys its batch entry.
type itemOp func(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount, entry store.XID) msg.CapRevOrCredCode

// capRevOrCred runs the steps the three share and applies op to each item.
// It returns the response envelope.
func (g *Gateway) capRevOrCred(ctx context.Context, kind string, env []byte, seq *msg.CapTokenSeq, ctTBS, ctTBE, ctRes, ctResTBE asn1.ObjectIdentifier,
	op itemOp) ([]byte, error) {
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
	// The CapTokenSeq beside the signed data, checked against its signed
	// digest before the replay cache, as on CapReq (captoken.go).
	tokens, err := g.tokenSeq(seq, tbs.HCapTokenSeq, len(data.CapRevOrCredReqItemSeq))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
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
		// The item's AuthRRPID names a later shipment's authorization
		// (split.go); its batch entry is keyed by the request and the item.
		xid := g.target(ctx, item.TransIDs.XID, item.AuthRRPID)
		rrpid := data.CapRevOrCredRRTags.RRPID
		var entry store.XID
		copy(entry[:], digest(crypto.SHA256, []byte("setpay batch entry\x00"+kind+"\x00"), rrpid[:], xid[:], []byte{byte(i >> 8), byte(i)}))
		code := g.checkItemCapToken(ctx, kind, tokens[i], mr.merchantID, xid, item)
		if code == msg.CapRevOrCredSuccess {
			code = g.applyItem(ctx, kind, mr.merchantID, xid, amt, entry, op)
		}
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
	signer := g.carrying(ctx, data.MThumbs, &res.BrandCRLIdentifier)
	content, err := res.Marshal()
	if err != nil {
		return nil, err
	}
	return encap.Enc(st, cfg.Rand, signer, mr.exchangeCert, ctRes, ctResTBE, content)
}

// applyItem finds the authorization an item names and runs op on it if
// it is this merchant's and was captured. Movements left open on it are
// settled first (settleFirst).
func (g *Gateway) applyItem(ctx context.Context, kind, merchantID string, xid store.XID, amt msg.CurrencyAmount, entry store.XID,
	op itemOp) msg.CapRevOrCredCode {
	a, err := g.cfg.Store.Authorization(ctx, xid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return msg.CapRevOrCredUnknownXID
	case err != nil:
		g.cfg.Log.Error(kind+" failed", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure
	case a.MerchantID != merchantID:
		return msg.CapRevOrCredUnknownXID
	}
	if code, done, again := g.settleFirst(ctx, kind, merchantID, xid, amt); done {
		return code
	} else if again {
		if a, err = g.cfg.Store.Authorization(ctx, xid); err != nil {
			g.cfg.Log.Error(kind+" failed", "err", err)
			return msg.CapRevOrCredUnspecifiedFailure
		}
	}
	switch {
	case a.State == stateCaptureReversed:
		return msg.CapRevOrCredAlreadyReversed
	case a.State != stateCaptured:
		return msg.CapRevOrCredOriginalNotFound // nothing was captured
	case amt.Currency != a.Currency || amt.AmtExp10 != a.AmtExp10 || amt.Amount <= 0:
		return msg.CapRevOrCredAmountError
	}
	return op(ctx, merchantID, a, amt, entry)
}

// itemKinds are the claims the items of each request make.
var itemKinds = map[string]store.EntryKind{
	"CapRevReq":  store.EntryCaptureReversal,
	"CredReq":    store.EntryCredit,
	"CredRevReq": store.EntryCreditReversal,
}

// settleFirst finishes the movements left open on authorization xid
// before an item of kind claims anything, as a CapReq does (reconcile.go),
// and says whether the item is answered already (done, with code): a
// movement of the same kind and amount still open is this item asked
// again after its answer was lost — done, with success once
// reconciliation settles it so, with duplicateRequest while it may still
// be with the issuer (too young to reconcile, or no answer).
//
// A credit reversal while a credit's outcome is unknown (or a credit or
// capture reversal while a credit reversal's is) is refused by the store
// when it claims (store.ErrClaimOpen; moveClaimed), not here: a look at
// the claims now would miss one made between it and the claim.
//
// again reports that something was reconciled, so the record must be
// read afresh.
func (g *Gateway) settleFirst(ctx context.Context, kind, merchantID string, xid store.XID, amt msg.CurrencyAmount) (code msg.CapRevOrCredCode, done, again bool) {
	want := itemKinds[kind]
	open, err := g.claims.Claims(ctx, &xid, maxReconcile)
	if err != nil {
		g.cfg.Log.Error(kind+": claims", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure, true, false
	}
	if len(open) == 0 {
		return 0, false, false
	}
	for _, r := range g.reconcileAuthorization(ctx, xid) {
		c := r.claim
		if c.Kind == want && c.MerchantID == merchantID && c.Amount == amt.Amount && r.settled && r.ok {
			g.cfg.Log.Info(kind+" completed by reconciliation", "xid", xid.String())
			return msg.CapRevOrCredSuccess, true, true
		}
	}
	if open, err = g.claims.Claims(ctx, &xid, maxReconcile); err != nil {
		g.cfg.Log.Error(kind+": claims", "err", err)
		return msg.CapRevOrCredUnspecifiedFailure, true, true
	}
	for _, c := range open {
		if c.Kind == want && c.MerchantID == merchantID && c.Amount == amt.Amount {
			return msg.CapRevOrCredDuplicateRequest, true, true
		}
	}
	return 0, false, true
}

// The amount credited on each transaction is a counter in the account
// store, under a keyed digest of its XID: AddSpent's bounds make "never
// more than captured" (limit) and "never below nothing" (zero) atomic
// across gateway processes, which store.Authorization cannot say.
func (g *Gateway) creditKey(xid msg.XID) []byte {
	return digest(crypto.SHA256, []byte("setpay credited\x00"), g.accountKey, xid[:])
}

// reverseCapture reverses a's capture in full. Filling the credit counter
// up to the capture with the claim refuses the reversal of a capture
// already (partly) credited, and any credit after it.
func (g *Gateway) reverseCapture(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount, _ store.XID) msg.CapRevOrCredCode {
	if amt.Amount != a.Captured {
		return msg.CapRevOrCredAmountError
	}
	c := g.newClaim(store.EntryCaptureReversal, a.XID, merchantID, amt)
	c.Counter, c.CounterDelta, c.CounterLimit = g.creditKey(msg.XID(a.XID)), a.Captured, a.Captured
	return g.moveClaimed(ctx, c, msg.CapRevOrCredAmountError)
}

// credit returns amt of a's capture.
func (g *Gateway) credit(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount, entry store.XID) msg.CapRevOrCredCode {
	c := g.newClaim(store.EntryCredit, a.XID, merchantID, amt)
	c.Batch = entry
	c.Counter, c.CounterDelta, c.CounterLimit = g.creditKey(msg.XID(a.XID)), amt.Amount, a.Captured
	return g.moveClaimed(ctx, c, msg.CapRevOrCredAmountError)
}

// reverseCredit takes back amt of what was credited on a.
func (g *Gateway) reverseCredit(ctx context.Context, merchantID string, a *store.Authorization, amt msg.CurrencyAmount, entry store.XID) msg.CapRevOrCredCode {
	c := g.newClaim(store.EntryCreditReversal, a.XID, merchantID, amt)
	c.Batch = entry
	c.Counter, c.CounterDelta = g.creditKey(msg.XID(a.XID)), -amt.Amount
	return g.moveClaimed(ctx, c, msg.CapRevOrCredOriginalNotFound) // not that much was credited
}

// moveClaimed claims c — its counter move within bounds, else refused
// with outOfBounds — asks the issuer and settles the claim with the
// answer and its batch entry in one transaction. No answer leaves the
// claim for reconciliation: the money may have moved.
//
// A claim moving the credit counter the other way from one still open is
// refused with unspecifiedFailure, "ask again" (store.ErrClaimOpen): a
// credit the issuer turns down gives its amount back to the counter, and
// a credit reversal turned down takes its amount back, so neither may
// overlap a movement that counted on the other's amount.
func (g *Gateway) moveClaimed(ctx context.Context, c *store.GatewayClaim, outOfBounds msg.CapRevOrCredCode) msg.CapRevOrCredCode {
	err := g.claims.PutClaim(ctx, c, func(a *store.Authorization) error {
		if a.State != stateCaptured {
			return errNoChange // changed since applyItem looked
		}
		return nil
	})
	switch {
	case errors.Is(err, errNoChange):
		return msg.CapRevOrCredOriginalNotFound
	case errors.Is(err, store.ErrClaimOpen):
		g.cfg.Log.Info("claim refused: an opposite movement is with the issuer", "kind", string(c.Kind), "xid", c.AuthXID.String())
		return msg.CapRevOrCredUnspecifiedFailure
	case errors.Is(err, store.ErrConflict):
		return outOfBounds
	case err != nil:
		g.cfg.Log.Error("claim", "kind", string(c.Kind), "err", err)
		return msg.CapRevOrCredUnspecifiedFailure
	}
	r := g.runClaim(ctx, c)
	switch {
	case !r.answered:
		g.cfg.Log.Error("issuer failed; the movement stays claimed until reconciled", "kind", string(c.Kind), "xid", c.AuthXID.String(), "err", r.err)
		return msg.CapRevOrCredUnspecifiedFailure
	case !r.ok:
		return r.credCode
	}
	// Settled or not, the issuer moved the money: a claim the store could
	// not settle is finished by reconciliation.
	return msg.CapRevOrCredSuccess
}
