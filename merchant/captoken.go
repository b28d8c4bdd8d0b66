package merchant

// CapTokens. The gateway answers an approved authorization with a CapToken
// in the AuthRes baggage: sealed by the gateway to itself, opaque here. The
// merchant keeps it with the order (store.Order.CapToken) and sends it back
// in the CapReq's CapTokenSeq, one token or NULL per CapItem, so the
// gateway can check the capture against what it authorized
// (gateway/captoken.go). Capture reversals, credits and credit reversals
// carry the token of the authorization they name the same way, and an
// authorization reversal carries it in its AuthRevReqBaggage, beside the
// PI that authorization was made under (parts.go keeps both per part).

import (
	"fmt"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// capTokenOf returns the CapToken in an AuthRes's baggage, or nil. The
// baggage must have been checked against the digest the gateway signed
// (checkAuthResBaggage).
func capTokenOf(baggage *msg.AuthResBaggage) []byte {
	if baggage == nil {
		return nil
	}
	return baggage.CapToken
}

// capTokenSeq builds a CapReq's CapTokenSeq from each item's token (nil:
// none) and the digest of it that CapReqTBS carries. A request none of
// whose items has a token carries neither.
func capTokenSeq(st suite.Suite, tokens [][]byte) (*msg.CapTokenSeq, []byte, error) {
	some := false
	for _, t := range tokens {
		some = some || t != nil
	}
	if !some {
		return nil, nil, nil
	}
	seq := &msg.CapTokenSeq{Tokens: tokens}
	b, err := seq.Marshal()
	if err != nil {
		return nil, nil, err
	}
	h, err := encap.DD(st, msg.OIDCapTokenSeq, b)
	if err != nil {
		return nil, nil, err
	}
	return seq, h, nil
}

// authRevBaggage builds the AuthRevReqBaggage for reversing the part of
// parts that authRRPID names, with the digest AuthRevReqTBS carries: its
// PI and CapToken. The baggage needs the PI, so a part kept without one
// (an order authorized before parts were kept), or one with no token,
// sends none.
func authRevBaggage(st suite.Suite, parts []store.OrderPart, authRRPID msg.RRPID) (*msg.AuthRevReqBaggage, []byte, error) {
	i, err := PartRRPID(authRRPID).find(parts)
	if err != nil || parts[i].PI == nil || parts[i].CapToken == nil {
		return nil, nil, nil
	}
	pi, err := msg.UnmarshalPI(parts[i].PI)
	if err != nil {
		return nil, nil, fmt.Errorf("stored PI: %w", err)
	}
	g := &msg.AuthRevReqBaggage{PI: *pi, CapToken: parts[i].CapToken}
	b, err := g.Marshal()
	if err != nil {
		return nil, nil, err
	}
	h, err := encap.DD(st, msg.OIDAuthRevReqBaggage, b)
	if err != nil {
		return nil, nil, err
	}
	return g, h, nil
}
