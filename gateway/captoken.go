package gateway

// CapTokens. With every approved authorization the gateway hands the
// merchant a CapToken: CapTokenData signed by the gateway and sealed to its
// own key-exchange certificate (Enc{P, P, CapTokenData}), which the merchant
// keeps unopened and sends back in its CapReq's CapTokenSeq, one token or
// NULL per CapItem — and likewise in a CapRevReq, CredReq or CredRevReq,
// one per item, and in an AuthRevReq's baggage. A token that comes back is checked against the item
// before any money moves: it must open, and name the same purchase (XID),
// merchant and authorization (AuthRRPID), for at least the amount asked.
// An item without one is refused alike when the gateway's record says it
// issued a token for that authorization (store.Authorization.CapTokenIssued);
// only an authorization recorded before tokens were issued goes without.
// CapTokenData has no room for the XID and the merchant, so they ride in
// its tokenOpaque (docs/spec-gaps.md, "CapToken").

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
)

// capTokenOpaque is the tokenOpaque of a CapTokenData this gateway seals:
// the purchase's XID, then the merchant ID.
func capTokenOpaque(xid msg.XID, merchantID string) []byte {
	return append(append([]byte{}, xid[:]...), merchantID...)
}

// maxMerchantIDLen bounds the merchant ID in a tokenOpaque, as
// MerTermIDs bounds it on the wire.
const maxMerchantIDLen = 30

// parseCapTokenOpaque reverses capTokenOpaque.
func parseCapTokenOpaque(b []byte) (xid msg.XID, merchantID string, err error) {
	if len(b) <= len(xid) || len(b) > len(xid)+maxMerchantIDLen {
		return xid, "", fmt.Errorf("CapToken: tokenOpaque of %d bytes", len(b))
	}
	copy(xid[:], b)
	for _, c := range b[len(xid):] {
		if c < 0x20 || c > 0x7e {
			return xid, "", errors.New("CapToken: merchant ID is not a visible string")
		}
	}
	return xid, string(b[len(xid):]), nil
}

// ownSignature accepts only this gateway's own signing certificate: what
// it signed to itself (an AuthToken, a CapToken) must come back signed by
// it, or it was made elsewhere.
func (g *Gateway) ownSignature(what string) encap.CertVerifier {
	return func(cert []byte, _ [][]byte) (crypto.PublicKey, error) {
		if !bytes.Equal(cert, g.cfg.SigningCert) {
			return nil, fmt.Errorf("%s not signed by this gateway", what)
		}
		c, err := pki.ParseCertificate(cert)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
}

// sealCapToken seals a CapToken for the authorization authRRPID of
// purchase xid by merchantID, for amt.
func (g *Gateway) sealCapToken(xid msg.XID, merchantID string, authRRPID msg.RRPID, amt msg.CurrencyAmount) ([]byte, error) {
	cfg := g.cfg
	d := &msg.CapTokenData{AuthRRPID: authRRPID, AuthAmt: amt, TokenOpaque: capTokenOpaque(xid, merchantID)}
	t, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	return encap.Enc(cfg.Suite, cfg.Rand, *g.signer(), cfg.ExchangeCert, msg.OIDCapTokenTBS, msg.OIDCapTokenTBE, t)
}

// capToken is an opened CapToken.
type capToken struct {
	xid        msg.XID
	merchantID string
	authRRPID  msg.RRPID
	amt        msg.CurrencyAmount
}

// openCapToken opens a token this gateway sealed: a token sealed to
// another key, signed by anyone but this gateway or changed in any byte
// fails here.
func (g *Gateway) openCapToken(token []byte) (*capToken, error) {
	cfg := g.cfg
	t, _, _, err := encap.OpenEnc(cfg.Suite, cfg.ExchangeKey.key, cfg.ExchangeCert, token, msg.OIDCapTokenTBS, msg.OIDCapTokenTBE, g.ownSignature("CapToken"))
	if err != nil {
		return nil, msg.Classify(err, msg.SignatureFailure, "CapToken")
	}
	d, err := msg.UnmarshalCapTokenData(t)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "CapTokenData: %w", err)
	}
	xid, merchantID, err := parseCapTokenOpaque(d.TokenOpaque)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "%w", err)
	}
	return &capToken{xid: xid, merchantID: merchantID, authRRPID: d.AuthRRPID, amt: d.AuthAmt}, nil
}

// capTokens returns the CapToken, or nil, for each item of a CapReq,
// after checking the CapTokenSeq against the digest the merchant signed
// and its length against the items'.
func (g *Gateway) capTokens(req *msg.CapReq, tbs *msg.CapReqTBS) ([][]byte, error) {
	return g.tokenSeq(req.CapTokenSeq, tbs.HCapTokenSeq, len(tbs.CapReqData.CapItemSeq))
}

// tokenSeq checks the CapTokenSeq seq of a request of items items against
// the digest h the merchant signed, and returns the token, or nil, of
// each item. CapReq, CapRevReq, CredReq and CredRevReq carry it alike.
func (g *Gateway) tokenSeq(seq *msg.CapTokenSeq, h []byte, items int) ([][]byte, error) {
	switch {
	case seq == nil && h == nil:
		return make([][]byte, items), nil
	case seq == nil:
		return nil, msg.Errorf(msg.SignatureFailure, "CapTokenSeq the merchant signed is missing")
	case h == nil:
		return nil, msg.Errorf(msg.SignatureFailure, "CapTokenSeq the merchant did not sign")
	}
	raw := seq.Raw()
	if raw == nil {
		// Built in this process, not decoded: its encoding is its own.
		var err error
		if raw, err = seq.Marshal(); err != nil {
			return nil, err
		}
	}
	if err := encap.CheckDD(g.cfg.Suite, h, msg.OIDCapTokenSeq, raw); err != nil {
		return nil, msg.Errorf(msg.SignatureFailure, "CapTokenSeq differs from the one the merchant signed: %w", err)
	}
	if len(seq.Tokens) != items {
		return nil, msg.Errorf(msg.DecodingFailure, "CapTokenSeq has %d entries for %d items", len(seq.Tokens), items)
	}
	return seq.Tokens, nil
}

// checkCapToken says whether a capture item by merchantID of the
// authorization recorded under target may go ahead under its CapToken
// (nil: none): CapSuccess; invalidCapToken for a token that does not
// open or was made for another purchase, merchant or authorization, or for
// less than the item asks; capTokenMissing for no token where one was
// issued.
func (g *Gateway) checkCapToken(ctx context.Context, token []byte, merchantID string, target store.XID, item *msg.CapItem) msg.CapCode {
	if why := g.capTokenMismatch(ctx, token, merchantID, target, item.TransIDs.XID, item.AuthRRPID, item.CapPayload.CapReqAmt); why != "" {
		code := msg.CapInvalidCapToken
		if token == nil {
			code = msg.CapCapTokenMissing
		}
		g.cfg.Log.Info("capture refused", "merchant", merchantID, "result", code.String(), "why", why)
		return code
	}
	return msg.CapSuccess
}

// checkItemCapToken is checkCapToken for an item of a capture reversal,
// credit or credit reversal: the token must be the one of the
// authorization whose capture (CapPayload) the item names, for at least
// the amount captured. A mismatch is invalidCapToken (capTokenMissing
// for no token where one was issued), decided before anything is claimed.
func (g *Gateway) checkItemCapToken(ctx context.Context, kind string, token []byte, merchantID string, target store.XID, item *msg.CapRevOrCredReqItem) msg.CapRevOrCredCode {
	if why := g.capTokenMismatch(ctx, token, merchantID, target, item.TransIDs.XID, item.AuthRRPID, item.CapPayload.CapReqAmt); why != "" {
		code := msg.CapRevOrCredInvalidCapToken
		if token == nil {
			code = msg.CapRevOrCredCapTokenMissing
		}
		g.cfg.Log.Info(kind+" item refused", "merchant", merchantID, "result", code.String(), "why", why)
		return code
	}
	return msg.CapRevOrCredSuccess
}

// authRevCapToken returns the CapToken an AuthRevReq carries in its
// baggage, or nil, after checking the baggage against the digest the
// merchant signed. The PI beside it is not acted on: the gateway reverses
// its own record of the authorization (docs/spec-gaps.md).
func (g *Gateway) authRevCapToken(baggage *msg.AuthRevReqBaggage, h []byte) ([]byte, error) {
	switch {
	case baggage == nil && h == nil:
		return nil, nil
	case baggage == nil:
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRevReqBaggage the merchant signed is missing")
	case h == nil:
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRevReqBaggage the merchant did not sign")
	}
	raw := baggage.Raw()
	if raw == nil {
		// Built in this process, not decoded: its encoding is its own.
		var err error
		if raw, err = baggage.Marshal(); err != nil {
			return nil, err
		}
	}
	if err := encap.CheckDD(g.cfg.Suite, h, msg.OIDAuthRevReqBaggage, raw); err != nil {
		return nil, msg.Errorf(msg.SignatureFailure, "AuthRevReqBaggage differs from the one the merchant signed: %w", err)
	}
	return baggage.CapToken, nil
}

// checkAuthRevCapToken is checkCapToken for an authorization reversal:
// the token must be the one of the authorization the request names (its
// AuthReqData), for at least the amount it says is authorized. AuthRevCode
// has no invalidCapToken; a mismatch is unknownXID, the code for an
// authorization that is not the requester's to reverse, decided before
// anything is claimed.
func (g *Gateway) checkAuthRevCapToken(ctx context.Context, token []byte, merchantID string, target store.XID, data *msg.AuthRevReqData) msg.AuthRevCode {
	authRRPID := data.AuthReqData.AuthReqItem.AuthTags.AuthRRTags.RRPID
	if why := g.capTokenMismatch(ctx, token, merchantID, target, data.AuthRevTags.TransIDs.XID, authRRPID, data.AuthResPayload.AuthHeader.AuthAmt); why != "" {
		g.cfg.Log.Info("authorization reversal refused", "merchant", merchantID, "result", msg.AuthRevUnknownXID.String(), "why", why)
		return msg.AuthRevUnknownXID
	}
	return msg.AuthRevSuccess
}

// capTokenMismatch says why token does not stand for purchase xid by
// merchantID under authorization authRRPID for amt, or "" if it does. No
// token (nil) stands for it only if the authorization's record (under
// target, the store's key for it) says none was issued.
func (g *Gateway) capTokenMismatch(ctx context.Context, token []byte, merchantID string, target store.XID, xid msg.XID, authRRPID msg.RRPID, amt msg.CurrencyAmount) string {
	if token == nil {
		if g.capTokenIssued(ctx, merchantID, target) {
			return "no CapToken for an authorization issued one"
		}
		return ""
	}
	t, err := g.openCapToken(token)
	switch {
	case err != nil:
		return err.Error()
	case t.xid != xid:
		return "token of another purchase"
	case t.merchantID != merchantID:
		return "token of another merchant"
	case t.authRRPID != authRRPID:
		return "token of another authorization"
	case amt.Currency != t.amt.Currency || amt.AmtExp10 != t.amt.AmtExp10 || amt.Amount > t.amt.Amount:
		return "amount above the token's"
	}
	return ""
}

// capTokenIssued says whether the gateway issued merchantID a CapToken
// for the authorization recorded under target. A record that is missing,
// unreadable or another merchant's says no: the checks after this one
// answer it (unknownXID, unspecifiedFailure) without telling the
// requester whether someone else's authorization exists. The flag is set
// when the record is created and never changes, so reading it before
// the claim is not a race.
func (g *Gateway) capTokenIssued(ctx context.Context, merchantID string, target store.XID) bool {
	a, err := g.cfg.Store.Authorization(ctx, target)
	return err == nil && a.MerchantID == merchantID && a.CapTokenIssued
}
