package merchant

// CapTokens. The gateway answers an approved authorization with a CapToken
// in the AuthRes baggage: sealed by the gateway to itself, opaque here. The
// merchant keeps it with the order (store.Order.CapToken) and sends it back
// in the CapReq's CapTokenSeq, one token or NULL per CapItem, so the
// gateway can check the capture against what it authorized
// (gateway/captoken.go).

import (
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
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
