package msg

// Tokens the gateway issues to itself and the baggage of the authorization
// reversal messages (SetPayMsgs): AuthToken / AuthTokenData, CapToken /
// CapTokenData, AuthRevReqBaggage, AuthRevResBaggage. The tokens are
// envelopes from the gateway to itself (P1 = P2 in SET 1.0); the merchant
// stores and returns them without being able to read them. Reconstructed;
// see docs/spec-gaps.md, "msg: the rest of the payment messages".

import (
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// AuthToken lets the merchant ask for a later authorization (split shipment,
// recurring payment) without a new PI:
//
//	AuthToken ::= < Enc{P1, P2, AuthTokenData}, EncX{P1, P2, AuthTokenData, PANToken} >
//
// Both alternatives are one envelope ContentInfo (setct-AuthTokenTBE); which
// one it is shows only inside, to the gateway. msg keeps it opaque.
type AuthToken struct {
	AuthTokenTBE []byte // ContentInfo DER
}

// Raw returns the ContentInfo DER.
func (t *AuthToken) Raw() []byte { return t.AuthTokenTBE }

// Marshal returns the ContentInfo DER after checking its framing.
func (t *AuthToken) Marshal() ([]byte, error) {
	return marshalContentInfo(t.AuthTokenTBE, "AuthToken")
}

// UnmarshalAuthToken checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalAuthToken(b []byte) (*AuthToken, error) {
	ci, err := unmarshalContentInfo(b, "AuthToken")
	if err != nil {
		return nil, err
	}
	return &AuthToken{AuthTokenTBE: ci}, nil
}

// AuthTokenData is what the gateway seals into an AuthToken: enough to
// authorize again for the same purchase (Book 2 field list):
//
//	AuthTokenData ::= SEQUENCE {
//	  transIDs         TransIDs,
//	  purchAmt         CurrencyAmount,
//	  merchantID       MerchantID,
//	  acqBackKeyData   [0] EXPLICIT BackKeyData OPTIONAL,
//	  installRecurData [1] OPTIONAL,                -- opaque, as in AuthReqPayload
//	  recurringCount   [2] INTEGER (1..MAX) OPTIONAL,
//	  prevAuthDateTime GeneralizedTime,
//	  totalAuthAmount  CurrencyAmount,
//	  authTokenOpaque  OCTET STRING }               -- the gateway's own state
type AuthTokenData struct {
	TransIDs         TransIDs
	PurchAmt         CurrencyAmount
	MerchantID       string
	AcqBackKeyData   *BackKeyData // optional
	InstallRecurData []byte       // optional, opaque; nil when absent
	RecurringCount   *int64       // optional: authorizations made so far
	PrevAuthDateTime time.Time
	TotalAuthAmount  CurrencyAmount // sum authorized so far under this purchase
	AuthTokenOpaque  []byte

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *AuthTokenData) Raw() []byte { return d.raw }

func (d *AuthTokenData) add(b *cryptobyte.Builder) {
	const typ = "AuthTokenData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.TransIDs.add(b)
		d.PurchAmt.add(b)
		addVisibleString(b, der.TagVisibleString, d.MerchantID, typ, "merchantID", 1, maxMerchantID)
		if d.AcqBackKeyData != nil {
			addExplicit(b, 0, d.AcqBackKeyData.add)
		}
		addOpaqueOctets(b, 1, d.InstallRecurData, typ, "installRecurData")
		addOptionalInt(b, 2, d.RecurringCount, 1, typ, "recurringCount")
		addDate(b, d.PrevAuthDateTime)
		d.TotalAuthAmount.add(b)
		addOctetsBounded(b, der.TagOctetString, d.AuthTokenOpaque, typ, "authTokenOpaque", 0, 0)
	})
}

func (d *AuthTokenData) read(s *cryptobyte.String) error {
	const typ = "AuthTokenData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AuthTokenData{raw: raw}
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.PurchAmt.read(&seq); err != nil {
		return der.Wrap(typ, "purchAmt", err)
	}
	if out.MerchantID, err = readVisibleString(&seq, typ, "merchantID", 1, maxMerchantID); err != nil {
		return err
	}
	var bk BackKeyData
	ok, err := readOptionalExplicit(&seq, 0, typ, "acqBackKeyData", func(s *cryptobyte.String) error {
		if err := bk.read(s); err != nil {
			return der.Wrap(typ, "acqBackKeyData", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ok {
		out.AcqBackKeyData = &bk
	}
	if out.InstallRecurData, err = readOpaqueOctets(&seq, 1, typ, "installRecurData"); err != nil {
		return err
	}
	if out.RecurringCount, err = readOptionalInt(&seq, 2, 1, typ, "recurringCount"); err != nil {
		return err
	}
	if out.PrevAuthDateTime, err = readDate(&seq, typ, "prevAuthDateTime"); err != nil {
		return err
	}
	if err := out.TotalAuthAmount.read(&seq); err != nil {
		return der.Wrap(typ, "totalAuthAmount", err)
	}
	if out.AuthTokenOpaque, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "authTokenOpaque", 0, 0); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *AuthTokenData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalAuthTokenData decodes an AuthTokenData, rejecting trailing bytes.
func UnmarshalAuthTokenData(b []byte) (*AuthTokenData, error) {
	return unmarshalNew[AuthTokenData](b, "AuthTokenData")
}

// CapToken lets the gateway capture an authorization without keeping state
// of its own:
//
//	CapToken ::= < Enc{P1, P2, CapTokenData}, EncX{P1, P2, CapTokenData, PANToken} >
//
// One envelope ContentInfo (setct-CapTokenTBE or setct-CapTokenTBEX), kept
// opaque. In CapTokenSeq the NULL alternative stands for "no token".
type CapToken struct {
	CapTokenTBE []byte // ContentInfo DER
}

// Raw returns the ContentInfo DER.
func (t *CapToken) Raw() []byte { return t.CapTokenTBE }

// Marshal returns the ContentInfo DER after checking its framing.
func (t *CapToken) Marshal() ([]byte, error) { return marshalContentInfo(t.CapTokenTBE, "CapToken") }

// UnmarshalCapToken checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalCapToken(b []byte) (*CapToken, error) {
	ci, err := unmarshalContentInfo(b, "CapToken")
	if err != nil {
		return nil, err
	}
	return &CapToken{CapTokenTBE: ci}, nil
}

// CapTokenData is what the gateway seals into a CapToken (Book 2 field
// list; content type setct-CapTokenData):
//
//	CapTokenData ::= SEQUENCE {
//	  authRRPID   RRPID,
//	  authAmt     CurrencyAmount,
//	  tokenOpaque OCTET STRING }
type CapTokenData struct {
	AuthRRPID   RRPID
	AuthAmt     CurrencyAmount
	TokenOpaque []byte

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CapTokenData) Raw() []byte { return d.raw }

func (d *CapTokenData) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		d.AuthRRPID.add(b)
		d.AuthAmt.add(b)
		addOctetsBounded(b, der.TagOctetString, d.TokenOpaque, "CapTokenData", "tokenOpaque", 0, 0)
	})
}

func (d *CapTokenData) read(s *cryptobyte.String) error {
	const typ = "CapTokenData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CapTokenData{raw: raw}
	if err := out.AuthRRPID.read(&seq); err != nil {
		return der.Wrap(typ, "authRRPID", err)
	}
	if err := out.AuthAmt.read(&seq); err != nil {
		return der.Wrap(typ, "authAmt", err)
	}
	if out.TokenOpaque, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "tokenOpaque", 0, 0); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *CapTokenData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCapTokenData decodes a CapTokenData, rejecting trailing bytes.
func UnmarshalCapTokenData(b []byte) (*CapTokenData, error) {
	return unmarshalNew[CapTokenData](b, "CapTokenData")
}

// AuthRevReqBaggage travels beside the AuthRevReq envelope: the payment
// instructions of the authorization being reversed and, if the merchant
// holds one, its CapToken (SETREF: authRevReqBaggage.{capToken, pi}):
//
//	AuthRevReqBaggage ::= SEQUENCE {
//	  pi       PI,
//	  capToken [3] EXPLICIT CapToken OPTIONAL }
//
// [3] because PI is an untagged CHOICE of [0]..[2].
type AuthRevReqBaggage struct {
	PI       PI
	CapToken []byte // optional ContentInfo DER

	raw []byte
}

// Raw returns the bytes g was decoded from.
func (g *AuthRevReqBaggage) Raw() []byte { return g.raw }

func (g *AuthRevReqBaggage) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		g.PI.add(b)
		addOptionalExplicitContentInfo(b, 3, g.CapToken, "AuthRevReqBaggage", "capToken")
	})
}

func (g *AuthRevReqBaggage) read(s *cryptobyte.String) error {
	const typ = "AuthRevReqBaggage"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AuthRevReqBaggage{raw: raw}
	if err := out.PI.read(&seq); err != nil {
		return der.Wrap(typ, "pi", err)
	}
	if out.CapToken, err = readOptionalExplicitContentInfo(&seq, 3, typ, "capToken"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*g = out
	return nil
}

// Marshal returns the DER encoding of g.
func (g *AuthRevReqBaggage) Marshal() ([]byte, error) { return marshal(g.add) }

// UnmarshalAuthRevReqBaggage decodes an AuthRevReqBaggage, rejecting
// trailing bytes.
func UnmarshalAuthRevReqBaggage(b []byte) (*AuthRevReqBaggage, error) {
	return unmarshalNew[AuthRevReqBaggage](b, "AuthRevReqBaggage")
}

// AuthRevResBaggage carries the tokens that replace the merchant's old ones
// after a partial reversal:
//
//	AuthRevResBaggage ::= SEQUENCE {
//	  capTokenNew  [0] EXPLICIT CapToken OPTIONAL,
//	  authTokenNew [1] EXPLICIT AuthToken OPTIONAL }
type AuthRevResBaggage struct {
	CapTokenNew  []byte // optional ContentInfo DER
	AuthTokenNew []byte // optional ContentInfo DER

	raw []byte
}

// Raw returns the bytes g was decoded from.
func (g *AuthRevResBaggage) Raw() []byte { return g.raw }

func (g *AuthRevResBaggage) add(b *cryptobyte.Builder) {
	const typ = "AuthRevResBaggage"
	addSequence(b, func(b *cryptobyte.Builder) {
		addOptionalExplicitContentInfo(b, 0, g.CapTokenNew, typ, "capTokenNew")
		addOptionalExplicitContentInfo(b, 1, g.AuthTokenNew, typ, "authTokenNew")
	})
}

func (g *AuthRevResBaggage) read(s *cryptobyte.String) error {
	const typ = "AuthRevResBaggage"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AuthRevResBaggage{raw: raw}
	if out.CapTokenNew, err = readOptionalExplicitContentInfo(&seq, 0, typ, "capTokenNew"); err != nil {
		return err
	}
	if out.AuthTokenNew, err = readOptionalExplicitContentInfo(&seq, 1, typ, "authTokenNew"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*g = out
	return nil
}

// Marshal returns the DER encoding of g.
func (g *AuthRevResBaggage) Marshal() ([]byte, error) { return marshal(g.add) }

// UnmarshalAuthRevResBaggage decodes an AuthRevResBaggage, rejecting
// trailing bytes.
func UnmarshalAuthRevResBaggage(b []byte) (*AuthRevResBaggage, error) {
	return unmarshalNew[AuthRevResBaggage](b, "AuthRevResBaggage")
}
