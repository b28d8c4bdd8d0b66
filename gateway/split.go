package gateway

// Subsequent authorizations under an AuthToken: split shipments, recurring
// and instalment payments. The first authorization of such a purchase comes
// with the cardholder's PI; when something is left to authorize, the
// gateway answers with an AuthToken sealed to itself (EncX to its own
// key-exchange certificate, PANToken — or, for a bank account, AcctToken —
// in the OAEP block), which the merchant
// keeps unopened and sends back, in the PI's place, to ask for the next
// amount. Every answer to a token carries a fresh one; each token is good
// once.

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// splitTokenLifetime bounds how long after the last authorization a token
// for a split shipment (a purchase without a payment plan) is good. A
// recurring plan's tokens are good until its expiry, an instalment plan's
// for this long after each payment.
const splitTokenLifetime = 180 * 24 * time.Hour

// authTokenIDLen is the length of the random token ID in AuthTokenOpaque:
// the key of the gateway's record that the token was used.
const authTokenIDLen = 16

// ShipmentXID names the gateway's (and the issuer's) record of a
// subsequent authorization: each is an authorization of its own at the
// issuer, captured on its own, while SET names it by the purchase's XID and
// the AuthReq's RRPID. A CapItem carries both.
func ShipmentXID(h crypto.Hash, xid msg.XID, authRRPID msg.RRPID) msg.XID {
	var out msg.XID
	copy(out[:], digest(h, []byte("setpay shipment\x00"), xid[:], authRRPID[:]))
	return out
}

// parsePlan decodes a payment plan field: nil for none (a split
// shipment).
func parsePlan(field []byte) (*msg.InstallRecurData, error) {
	p, err := msg.ParseInstallRecurData(field)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "%w", err)
	}
	return p, nil
}

// checkFirstPlan checks the merchant's copy of the payment plan against
// the one the cardholder signed in PIHead: the merchant repeats it, or
// leaves it out; it cannot make one up. It returns the plan.
func checkFirstPlan(pi *openedPI, payload *msg.AuthReqPayload) (*msg.InstallRecurData, error) {
	plan, err := parsePlan(pi.head.InstallRecurData)
	if err != nil {
		return nil, err
	}
	if payload.InstallRecurData != nil && !bytes.Equal(payload.InstallRecurData, pi.head.InstallRecurData) {
		return nil, msg.Errorf(msg.SignatureFailure, "merchant's installRecurData differs from the cardholder's")
	}
	return plan, nil
}

// withinPurchase reports whether amt may be authorized at once under a
// purchase of purchAmt: same currency, positive, no more than purchAmt.
// For a payment plan purchAmt is the amount of each payment.
func withinPurchase(amt, purchAmt msg.CurrencyAmount) bool {
	return amt.Currency == purchAmt.Currency && amt.AmtExp10 == purchAmt.AmtExp10 && amt.Amount <= purchAmt.Amount
}

// tokenLeft reports whether a purchase with token data d (after the
// authorization it records) has anything left to authorize, and so whether
// the merchant gets a token.
func tokenLeft(d *msg.AuthTokenData, plan *msg.InstallRecurData) bool {
	switch {
	case plan == nil:
		return d.TotalAuthAmount.Amount < d.PurchAmt.Amount
	case plan.Recurring != nil:
		return d.PrevAuthDateTime.Add(plan.Frequency()).Before(plan.Recurring.RecurringExpiry)
	default:
		return d.RecurringCount == nil || *d.RecurringCount < plan.InstallTotalTrans
	}
}

// tokenExpiry is when a token made from d stops being good.
func tokenExpiry(d *msg.AuthTokenData, plan *msg.InstallRecurData) time.Time {
	if plan != nil && plan.Recurring != nil {
		return plan.Recurring.RecurringExpiry
	}
	return d.PrevAuthDateTime.Add(splitTokenLifetime)
}

// sealAuthToken seals d and the card or bank account to this gateway's
// own key: only a gateway holding it (an instance of this gateway) can
// open the token. A fresh token ID goes in AuthTokenOpaque. A card rides
// in a PANToken, an account in an AcctToken (msg/account.go), both in the
// OAEP block.
func (g *Gateway) sealAuthToken(d *msg.AuthTokenData, acct tokenAccount) ([]byte, error) {
	cfg := g.cfg
	d.AuthTokenOpaque = make([]byte, authTokenIDLen)
	if _, err := io.ReadFull(cfg.Rand, d.AuthTokenOpaque); err != nil {
		return nil, err
	}
	var nonce msg.Nonce
	if _, err := io.ReadFull(cfg.Rand, nonce[:]); err != nil {
		return nil, err
	}
	var block msg.TokenAccount
	if acct.account != nil {
		block.AcctToken = &msg.AcctToken{Account: *acct.account, EXNonce: nonce}
	} else {
		block.PANToken = &msg.PANToken{PAN: acct.pan, CardExpiry: acct.expiry, EXNonce: nonce}
	}
	t, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	p, err := block.Marshal()
	if err != nil {
		return nil, err
	}
	return encap.EncX(cfg.Suite, cfg.Rand, *g.signer(), cfg.ExchangeCert, msg.OIDAuthTokenTBS, msg.OIDAuthTokenTBE, t, p)
}

// tokenAccount is what a token pays from: a card, or a bank account.
type tokenAccount struct {
	pan, expiry string
	account     *msg.BankAccount // set for a bank account; pan and expiry are then empty
}

func tokenAccountOf(b *msg.TokenAccount) tokenAccount {
	if b.AcctToken != nil {
		return tokenAccount{account: &b.AcctToken.Account}
	}
	return tokenAccount{pan: b.PANToken.PAN, expiry: b.PANToken.CardExpiry}
}

// issuerRequest is the issuer's view of an authorization from a.
func (a tokenAccount) issuerRequest() IssuerRequest {
	return IssuerRequest{PAN: a.pan, Expiry: a.expiry, Account: a.account}
}

// masked is a as the gateway's records show it.
func (a tokenAccount) masked() (string, error) {
	if a.account != nil {
		return msg.MaskAccount(a.account.Identification()), nil
	}
	return store.MaskPAN(a.pan)
}

// openAuthToken opens a token this gateway sealed: a token sealed to
// another key, signed by anyone but this gateway or changed in any byte
// fails here.
func (g *Gateway) openAuthToken(token []byte) (*msg.AuthTokenData, tokenAccount, error) {
	cfg := g.cfg
	t, p, _, err := encap.OpenEncX(cfg.Suite, cfg.ExchangeKey.key, cfg.ExchangeCert, token, msg.OIDAuthTokenTBS, msg.OIDAuthTokenTBE, g.ownSignature("AuthToken")) // captoken.go
	if err != nil {
		return nil, tokenAccount{}, msg.Classify(err, msg.SignatureFailure, "AuthToken")
	}
	d, err := msg.UnmarshalAuthTokenData(t)
	if err != nil {
		return nil, tokenAccount{}, msg.Errorf(msg.DecodingFailure, "AuthTokenData: %w", err)
	}
	block, err := msg.UnmarshalTokenAccount(p)
	if err != nil {
		return nil, tokenAccount{}, msg.Errorf(msg.DecodingFailure, "AuthToken's PANToken or AcctToken: %w", err)
	}
	if len(d.AuthTokenOpaque) != authTokenIDLen {
		return nil, tokenAccount{}, msg.Errorf(msg.DecodingFailure, "AuthToken: token ID of %d bytes", len(d.AuthTokenOpaque))
	}
	return d, tokenAccountOf(block), nil
}

// firstAuthToken is the token an approved first authorization hands the
// merchant, or nil when nothing is left to authorize.
func (g *Gateway) firstAuthToken(pi *openedPI, plan *msg.InstallRecurData, merchantID string, amt msg.CurrencyAmount) ([]byte, error) {
	one := int64(1)
	d := &msg.AuthTokenData{
		TransIDs:         pi.head.TransIDs,
		PurchAmt:         pi.head.Inputs.PurchAmt,
		MerchantID:       merchantID,
		InstallRecurData: pi.head.InstallRecurData,
		RecurringCount:   &one,
		PrevAuthDateTime: g.cfg.Now().UTC().Truncate(time.Second),
		TotalAuthAmount:  amt,
	}
	if !tokenLeft(d, plan) {
		return nil, nil
	}
	acct := tokenAccount{pan: pi.pan.PAN, expiry: pi.pan.CardExpiry}
	if pi.acct != nil {
		acct = tokenAccount{account: &pi.acct.Account}
	}
	return g.sealAuthToken(d, acct)
}

// subsequentAuth is an AuthReq whose PI is an AuthToken, once the
// merchant's envelope is open and the PI digest checked.
type subsequentAuth struct {
	mr   *merchantRequest
	data *msg.AuthReqData
}

// handleSubsequentAuth runs the gateway's steps for an authorization under
// an AuthToken, in order: the request is one, the token opens and is this
// merchant's for this purchase, the purchase's authorization stands, the
// payment plan allows this one now, the request and the token are new;
// then the issuer decides, the authorization is recorded under its own
// XID, and the answer carries a fresh token. Business refusals are
// answered with their AuthCode and change nothing at the issuer.
func (g *Gateway) handleSubsequentAuth(ctx context.Context, s subsequentAuth, token []byte) (*msg.AuthRes, error) {
	cfg := g.cfg
	data, mr := s.data, s.mr
	item := &data.AuthReqItem
	tags := &item.AuthTags
	payload := &item.AuthReqPayload
	amt := payload.AuthReqAmt
	if !payload.SubsequentAuthInd {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthReq carries an AuthToken but is not marked subsequent")
	}
	if item.CheckDigests != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "AuthReq under an AuthToken carries CheckDigests")
	}
	d, acct, err := g.openAuthToken(token)
	if err != nil {
		return nil, err
	}
	plan, err := parsePlan(d.InstallRecurData)
	if err != nil {
		return nil, err
	}
	now := cfg.Now().UTC()
	if !now.Before(tokenExpiry(d, plan)) && (plan == nil || plan.Recurring == nil) {
		return nil, msg.Errorf(msg.MessageTooOld, "AuthToken expired")
	}
	// The request is authentic (its envelope and the token opened): it is
	// remembered before any business rule, so a replay is refused as a
	// replay whatever the first answer was (verify, freshness, rules).
	if err := g.remember(ctx, "AuthReq", data.Expiry, tags.AuthRRTags.RRPID, tags.TransIDs.XID); err != nil {
		return nil, err
	}
	shipment := ShipmentXID(cfg.Suite.Hash(), tags.TransIDs.XID, tags.AuthRRTags.RRPID)
	decline := func(code msg.AuthCode, why string) (*msg.AuthRes, error) {
		cfg.Log.Info("subsequent authorization refused", "merchant", mr.merchantID, "result", code.String(), "why", why)
		return g.authRes(mr, data, code, "", nil, nil, nil)
	}

	// The token is this merchant's, for this purchase, and the purchase's
	// authorization has not been reversed or refused since.
	if d.MerchantID != mr.merchantID || d.TransIDs.XID != tags.TransIDs.XID {
		return decline(msg.AuthPIAuthMismatch, "token of another merchant or purchase")
	}
	first, err := cfg.Store.Authorization(ctx, store.XID(d.TransIDs.XID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return decline(msg.AuthInvalidTransaction, "no first authorization on record")
	case err != nil:
		return nil, err
	case first.MerchantID != mr.merchantID:
		return decline(msg.AuthPIAuthMismatch, "first authorization of another merchant")
	case first.State != stateAuthorized && first.State != stateCaptured:
		return decline(msg.AuthInvalidTransaction, "first authorization is "+first.State)
	}
	if !bytes.Equal(payload.InstallRecurData, d.InstallRecurData) && payload.InstallRecurData != nil {
		return decline(msg.AuthInstallRecurMismatch, "merchant's plan differs from the cardholder's")
	}

	// The plan, or the purchase amount, allows this authorization now.
	next := *d
	count := int64(1)
	if d.RecurringCount != nil {
		count = *d.RecurringCount
	}
	count++
	next.RecurringCount = &count
	next.PrevAuthDateTime = now.Truncate(time.Second)
	next.TotalAuthAmount.Amount = d.TotalAuthAmount.Amount + amt.Amount
	switch {
	case amt.Amount <= 0 || !withinPurchase(amt, d.PurchAmt):
		return decline(msg.AuthAmountError, "amount outside the purchase")
	case plan == nil && next.TotalAuthAmount.Amount > d.PurchAmt.Amount:
		return decline(msg.AuthAmountError, "authorizations would exceed the purchase amount")
	case plan != nil && plan.Recurring != nil && !now.Before(plan.Recurring.RecurringExpiry):
		return decline(msg.AuthRecurringExpired, "recurring plan expired")
	case plan != nil && plan.Recurring != nil && now.Before(d.PrevAuthDateTime.Add(plan.Frequency())):
		return decline(msg.AuthRecurringTooSoon, "recurring payment too soon")
	case plan != nil && plan.Recurring == nil && count > plan.InstallTotalTrans:
		return decline(msg.AuthInstallRecurMismatch, "more instalments than agreed")
	}

	// A token already used, with a new request, is refused as a PI used
	// before; it is spent only by a request the rules allow, so a refused
	// request leaves it for the merchant's next try.
	if err := cfg.Store.Remember(ctx, digest(crypto.SHA256, []byte("AuthToken"), d.AuthTokenOpaque), tokenExpiry(d, plan)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return decline(msg.AuthPIPreviouslyUsed, "token used before")
		}
		return nil, err
	}

	masked, err := acct.masked()
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PANToken: %w", err)
	}
	// A bank account's later authorizations go to the bank by account, as
	// its first did (banklink: DE 102).
	ireq := acct.issuerRequest()
	ireq.Amount, ireq.MerchantID, ireq.XID, ireq.Capture = amt, mr.merchantID, shipment, data.CaptureNow
	decision := g.decide(ctx, ireq)
	code, approval := decision.Code, decision.ApprovalCode
	sold := data.CaptureNow && code == msg.AuthApproved
	auth := &store.Authorization{XID: store.XID(shipment), MerchantID: mr.merchantID, PANMasked: masked,
		Amount: amt.Amount, Currency: amt.Currency, AmtExp10: amt.AmtExp10,
		Result: code.String(), ApprovalCode: approval, State: authState(code),
		CapTokenIssued: code == msg.AuthApproved} // answered with a CapToken (below)
	if sold {
		auth.State, auth.Captured = stateCaptured, amt.Amount
	}
	// A sale is batched with its record, in one transaction.
	batchID, batchSeq, err := g.createAuthorization(ctx, auth)
	if err != nil {
		g.release(ctx, ireq, decision)
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		code, approval, sold = msg.AuthPIPreviouslyUsed, "", false
	}
	cfg.Log.Info("subsequent authorization", "merchant", mr.merchantID, "pan", masked, "result", code.String(), "count", count)

	// A declined request leaves the totals as they were; the merchant may
	// try again with the fresh token.
	if code != msg.AuthApproved {
		next = *d
	}
	var fresh []byte
	if code != msg.AuthApproved || tokenLeft(&next, plan) {
		if fresh, err = g.sealAuthToken(&next, acct); err != nil {
			return nil, err
		}
	}
	var captured *msg.CapResPayload
	if sold {
		captured = &msg.CapResPayload{CapCode: msg.CapSuccess, CapAmt: amt, BatchID: batchID, BatchSequenceNum: batchSeq}
	}
	var capToken []byte
	if code == msg.AuthApproved {
		// The shipment's own authorization, captured on its own: its
		// CapToken names it by the AuthReq's RRPID (captoken.go).
		if capToken, err = g.sealCapToken(tags.TransIDs.XID, mr.merchantID, tags.AuthRRTags.RRPID, amt); err != nil {
			return nil, err
		}
	}
	return g.authRes(mr, data, code, approval, captured, fresh, capToken)
}

// authRes builds and seals the AuthRes for data: the decision, the
// capture's outcome for a sale, and the AuthToken and CapToken, if any, as
// baggage whose digest the gateway signs.
func (g *Gateway) authRes(mr *merchantRequest, data *msg.AuthReqData, code msg.AuthCode, approval string, captured *msg.CapResPayload, token, capToken []byte) (*msg.AuthRes, error) {
	cfg := g.cfg
	st := cfg.Suite
	resData := msg.AuthResData{
		AuthTags: data.AuthReqItem.AuthTags,
		AuthResPayload: msg.AuthResPayload{
			AuthHeader:    msg.AuthHeader{AuthAmt: data.AuthReqItem.AuthReqPayload.AuthReqAmt, AuthCode: code},
			CapResPayload: captured,
		},
	}
	if approval != "" {
		resData.AuthResPayload.AuthHeader.ResponseData.AuthValCodes = &msg.AuthValCodes{ApprovalCode: approval}
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), mr.signerCert)
		resData.MerchantThumb = &thumb
		resData.HAuthReq = digest(st.Hash(), mr.tbs)
	}
	signer := g.carrying(context.Background(), data.MThumbs, &resData.BrandCRLIdentifier)
	tbs := msg.AuthResTBS{AuthResData: resData}
	var baggage *msg.AuthResBaggage
	if token != nil || capToken != nil {
		baggage = &msg.AuthResBaggage{AuthToken: token, CapToken: capToken}
		b, err := baggage.Marshal()
		if err != nil {
			return nil, err
		}
		if tbs.HAuthResBaggage, err = encap.DD(st, msg.OIDAuthResBaggage, b); err != nil {
			return nil, err
		}
	}
	content, err := tbs.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, signer, mr.exchangeCert, msg.OIDAuthResTBS, msg.OIDAuthResTBE, content)
	if err != nil {
		return nil, err
	}
	return &msg.AuthRes{AuthResTBE: tbe, AuthResBaggage: baggage}, nil
}

// target names the record a follow-up of a purchase acts on — a capture,
// an authorization or capture reversal, a credit or its reversal: a later
// authorization's own (ShipmentXID of the purchase's XID and the AuthRRPID
// the request names) when there is one, else the purchase's. Every
// follow-up item carries the AuthRRPID of the authorization it follows.
func (g *Gateway) target(ctx context.Context, xid msg.XID, authRRPID msg.RRPID) store.XID {
	sx := store.XID(ShipmentXID(g.cfg.Suite.Hash(), xid, authRRPID))
	if _, err := g.cfg.Store.Authorization(ctx, sx); err == nil {
		return sx
	}
	return store.XID(xid)
}
