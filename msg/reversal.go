package msg

// Reversal messages between merchant and payment gateway (SetPayMsgs):
// AuthRevReq/AuthRevRes undo an authorization wholly or partly,
// CapRevReq/CapRevRes undo a capture. The capture reversal shares its
// bodies with credit and credit reversal (CapRevOrCredReqData,
// CapRevOrCredResData, defined here). Reconstructed; see docs/spec-gaps.md,
// "msg: the rest of the payment messages".

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

func init() {
	registerMessage(TagAuthRevReq, func(b []byte) (Message, error) { return UnmarshalAuthRevReq(b) })
	registerMessage(TagAuthRevRes, func(b []byte) (Message, error) { return UnmarshalAuthRevRes(b) })
	registerMessage(TagCapRevReq, func(b []byte) (Message, error) { return UnmarshalCapRevReq(b) })
	registerMessage(TagCapRevRes, func(b []byte) (Message, error) { return UnmarshalCapRevRes(b) })
}

// ---- AuthRevReq ----

// AuthRevReq is the merchant's authorization reversal request:
//
//	AuthRevReq ::= EncB{M, P, AuthRevReqData, AuthRevReqBaggage}
//	           = SEQUENCE { authRevReqTBE ContentInfo, authRevReqBaggage AuthRevReqBaggage OPTIONAL }
type AuthRevReq struct {
	// AuthRevReqTBE is the ContentInfo DER of the envelope
	// (setct-AuthRevReqTBE) holding the merchant's SignedData over
	// AuthRevReqTBS.
	AuthRevReqTBE     []byte
	AuthRevReqBaggage *AuthRevReqBaggage // optional

	raw []byte
}

// Tag returns the AuthRevReq alternative's Message CHOICE tag.
func (m *AuthRevReq) Tag() uint32 { return TagAuthRevReq }

// Name returns "AuthRevReq".
func (m *AuthRevReq) Name() string { return "AuthRevReq" }

// Raw returns the bytes m was decoded from.
func (m *AuthRevReq) Raw() []byte { return m.raw }

func (m *AuthRevReq) add(b *cryptobyte.Builder) {
	var baggage func(*cryptobyte.Builder)
	if m.AuthRevReqBaggage != nil {
		baggage = m.AuthRevReqBaggage.add
	}
	addEncB(b, "AuthRevReq", m.AuthRevReqTBE, "authRevReqTBE", baggage)
}

func (m *AuthRevReq) read(s *cryptobyte.String) (err error) {
	m.AuthRevReqTBE, m.raw, err = readEncB(s, "AuthRevReq", "authRevReqTBE", "authRevReqBaggage", true, func(s *cryptobyte.String) error {
		m.AuthRevReqBaggage = new(AuthRevReqBaggage)
		return m.AuthRevReqBaggage.read(s)
	})
	return err
}

// Marshal returns the DER encoding of m.
func (m *AuthRevReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalAuthRevReq decodes an AuthRevReq, rejecting trailing bytes.
func UnmarshalAuthRevReq(b []byte) (*AuthRevReq, error) {
	return unmarshalNew[AuthRevReq](b, "AuthRevReq")
}

// AuthRevReqTBS is the content the merchant signs inside the AuthRevReq
// envelope (setct-AuthRevReqTBS):
//
//	AuthRevReqTBS ::= L{AuthRevReqData, AuthRevReqBaggage}
//	              = SEQUENCE { authRevReqData AuthRevReqData, hAuthRevReqBaggage DD{AuthRevReqBaggage} OPTIONAL }
type AuthRevReqTBS struct {
	AuthRevReqData     AuthRevReqData
	HAuthRevReqBaggage []byte // optional DigestedData ContentInfo DER

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *AuthRevReqTBS) Raw() []byte { return t.raw }

func (t *AuthRevReqTBS) add(b *cryptobyte.Builder) {
	addLinkage(b, "AuthRevReqTBS", t.AuthRevReqData.add, t.HAuthRevReqBaggage, "hAuthRevReqBaggage", true)
}

func (t *AuthRevReqTBS) read(s *cryptobyte.String) (err error) {
	t.HAuthRevReqBaggage, t.raw, err = readLinkage(s, "AuthRevReqTBS", "authRevReqData", t.AuthRevReqData.read, "hAuthRevReqBaggage", true)
	return err
}

// Marshal returns the DER encoding of t.
func (t *AuthRevReqTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalAuthRevReqTBS decodes an AuthRevReqTBS, rejecting trailing bytes.
func UnmarshalAuthRevReqTBS(b []byte) (*AuthRevReqTBS, error) {
	return unmarshalNew[AuthRevReqTBS](b, "AuthRevReqTBS")
}

// AuthRevReqData asks the gateway to reduce an authorization to AuthNewAmt
// (zero: reverse it fully). It repeats the original request and response so
// that a gateway without state can act on it:
//
//	AuthRevReqData ::= SEQUENCE {
//	  authRevTags     AuthRevTags,
//	  mThumbs         [0] EXPLICIT Thumbs OPTIONAL,
//	  authReqData     AuthReqData,
//	  authResPayload  AuthResPayload,
//	  authNewAmt      CurrencyAmount,
//	  aRvRqExtensions [1] MsgExtensions OPTIONAL,
//	  pgThumb         [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 1
//	  expiry          [11] GeneralizedTime OPTIONAL }    -- setpay deviation 3
type AuthRevReqData struct {
	AuthRevTags     AuthRevTags
	MThumbs         *Thumbs // optional
	AuthReqData     AuthReqData
	AuthResPayload  AuthResPayload
	AuthNewAmt      CurrencyAmount
	ARvRqExtensions MsgExtensions // optional: empty when absent
	PGThumb         *CertThumb    // optional
	Expiry          time.Time     // optional: zero when absent

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *AuthRevReqData) Raw() []byte { return d.raw }

func (d *AuthRevReqData) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		d.AuthRevTags.add(b)
		addOptionalThumbs(b, 0, d.MThumbs)
		d.AuthReqData.add(b)
		d.AuthResPayload.add(b)
		d.AuthNewAmt.add(b)
		addOptionalExtensions(b, 1, d.ARvRqExtensions)
		addOptionalCertThumb(b, 10, d.PGThumb)
		addOptionalDate(b, 11, d.Expiry)
	})
}

func (d *AuthRevReqData) read(s *cryptobyte.String) error {
	const typ = "AuthRevReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AuthRevReqData{raw: raw}
	if err := out.AuthRevTags.read(&seq); err != nil {
		return der.Wrap(typ, "authRevTags", err)
	}
	if out.MThumbs, err = readOptionalThumbs(&seq, 0, typ, "mThumbs"); err != nil {
		return err
	}
	if err := out.AuthReqData.read(&seq); err != nil {
		return der.Wrap(typ, "authReqData", err)
	}
	if err := out.AuthResPayload.read(&seq); err != nil {
		return der.Wrap(typ, "authResPayload", err)
	}
	if err := out.AuthNewAmt.read(&seq); err != nil {
		return der.Wrap(typ, "authNewAmt", err)
	}
	if out.ARvRqExtensions, err = readOptionalExtensions(&seq, 1, typ, "aRvRqExtensions"); err != nil {
		return err
	}
	if out.PGThumb, err = readOptionalCertThumb(&seq, 10, typ, "pgThumb"); err != nil {
		return err
	}
	if out.Expiry, err = readOptionalDate(&seq, 11, typ, "expiry"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *AuthRevReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalAuthRevReqData decodes an AuthRevReqData, rejecting trailing bytes.
func UnmarshalAuthRevReqData(b []byte) (*AuthRevReqData, error) {
	return unmarshalNew[AuthRevReqData](b, "AuthRevReqData")
}

// AuthRevTags identifies a reversal; it has AuthTags' shape (SETREF:
// authRevTags.authRevRRTags.rrpid):
//
//	AuthRevTags ::= SEQUENCE { authRevRRTags RRTags, transIDs TransIDs, authRetNum [0] INTEGER OPTIONAL }
type AuthRevTags struct {
	AuthRevRRTags RRTags
	TransIDs      TransIDs
	AuthRetNum    *int64 // optional, non-negative
}

func (a *AuthRevTags) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		a.AuthRevRRTags.add(b)
		a.TransIDs.add(b)
		addOptionalInt(b, 0, a.AuthRetNum, 0, "AuthRevTags", "authRetNum")
	})
}

func (a *AuthRevTags) read(s *cryptobyte.String) error {
	const typ = "AuthRevTags"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	if err := a.AuthRevRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "authRevRRTags", err)
	}
	if err := a.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if a.AuthRetNum, err = readOptionalInt(&seq, 0, 0, typ, "authRetNum"); err != nil {
		return err
	}
	return expectEnd(seq, typ, "")
}

// ---- AuthRevRes ----

// AuthRevRes is the gateway's answer to AuthRevReq. Like AuthRes, the
// EncB alternative carries new tokens as baggage and the Enc alternative
// has none:
//
//	AuthRevRes ::= SEQUENCE { authRevResTBE ContentInfo, authRevResBaggage AuthRevResBaggage OPTIONAL }
type AuthRevRes struct {
	// AuthRevResTBE is the ContentInfo DER of the envelope
	// (setct-AuthRevResTBE, or setct-AuthRevResTBEB with baggage).
	AuthRevResTBE     []byte
	AuthRevResBaggage *AuthRevResBaggage // optional

	raw []byte
}

// Tag returns the AuthRevRes alternative's Message CHOICE tag.
func (m *AuthRevRes) Tag() uint32 { return TagAuthRevRes }

// Name returns "AuthRevRes".
func (m *AuthRevRes) Name() string { return "AuthRevRes" }

// Raw returns the bytes m was decoded from.
func (m *AuthRevRes) Raw() []byte { return m.raw }

func (m *AuthRevRes) add(b *cryptobyte.Builder) {
	var baggage func(*cryptobyte.Builder)
	if m.AuthRevResBaggage != nil {
		baggage = m.AuthRevResBaggage.add
	}
	addEncB(b, "AuthRevRes", m.AuthRevResTBE, "authRevResTBE", baggage)
}

func (m *AuthRevRes) read(s *cryptobyte.String) (err error) {
	m.AuthRevResTBE, m.raw, err = readEncB(s, "AuthRevRes", "authRevResTBE", "authRevResBaggage", true, func(s *cryptobyte.String) error {
		m.AuthRevResBaggage = new(AuthRevResBaggage)
		return m.AuthRevResBaggage.read(s)
	})
	return err
}

// Marshal returns the DER encoding of m.
func (m *AuthRevRes) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalAuthRevRes decodes an AuthRevRes, rejecting trailing bytes.
func UnmarshalAuthRevRes(b []byte) (*AuthRevRes, error) {
	return unmarshalNew[AuthRevRes](b, "AuthRevRes")
}

// AuthRevResTBS is the content the gateway signs when it returns baggage
// (setct-AuthRevResTBS); without baggage it signs AuthRevResData alone
// (setct-AuthRevResData):
//
//	AuthRevResTBS ::= L{AuthRevResData, AuthRevResBaggage}
//	              = SEQUENCE { authRevResData AuthRevResData, hAuthRevResBaggage DD{AuthRevResBaggage} OPTIONAL }
type AuthRevResTBS struct {
	AuthRevResData     AuthRevResData
	HAuthRevResBaggage []byte // optional DigestedData ContentInfo DER

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *AuthRevResTBS) Raw() []byte { return t.raw }

func (t *AuthRevResTBS) add(b *cryptobyte.Builder) {
	addLinkage(b, "AuthRevResTBS", t.AuthRevResData.add, t.HAuthRevResBaggage, "hAuthRevResBaggage", true)
}

func (t *AuthRevResTBS) read(s *cryptobyte.String) (err error) {
	t.HAuthRevResBaggage, t.raw, err = readLinkage(s, "AuthRevResTBS", "authRevResData", t.AuthRevResData.read, "hAuthRevResBaggage", true)
	return err
}

// Marshal returns the DER encoding of t.
func (t *AuthRevResTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalAuthRevResTBS decodes an AuthRevResTBS, rejecting trailing bytes.
func UnmarshalAuthRevResTBS(b []byte) (*AuthRevResTBS, error) {
	return unmarshalNew[AuthRevResTBS](b, "AuthRevResTBS")
}

// AuthRevResData is the gateway's signed reversal result:
//
//	AuthRevResData ::= SEQUENCE {
//	  authRevTags        AuthRevTags,
//	  brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL,  -- opaque DER
//	  gkThumb            [1] EXPLICIT CertThumb OPTIONAL,
//	  authRevCode        AuthRevCode,
//	  authNewAmt         CurrencyAmount,                 -- amount still authorized
//	  authResPayload     [2] AuthResPayload OPTIONAL,     -- the new authorization
//	  aRvRsExtensions    [3] MsgExtensions OPTIONAL,
//	  merchantThumb      [10] EXPLICIT CertThumb OPTIONAL, -- setpay deviation 2
//	  hAuthRevReq        [11] OCTET STRING OPTIONAL }      -- setpay deviation 2
type AuthRevResData struct {
	AuthRevTags        AuthRevTags
	BrandCRLIdentifier []byte     // optional: DER of one element, kept opaque
	GKThumb            *CertThumb // optional: the gateway's key-exchange certificate
	AuthRevCode        AuthRevCode
	AuthNewAmt         CurrencyAmount
	AuthResPayload     *AuthResPayload // optional
	ARvRsExtensions    MsgExtensions   // optional: empty when absent
	MerchantThumb      *CertThumb      // optional: the merchant signature certificate answered
	HAuthRevReq        []byte          // optional: digest of the AuthRevReqTBS answered (1..64 octets)

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *AuthRevResData) Raw() []byte { return d.raw }

func (d *AuthRevResData) add(b *cryptobyte.Builder) {
	const typ = "AuthRevResData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.AuthRevTags.add(b)
		addOpaqueExplicit(b, 0, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalCertThumb(b, 1, d.GKThumb)
		if !d.AuthRevCode.Valid() {
			failf(b, typ, "authRevCode", "value %d: %w", int(d.AuthRevCode), der.ErrInvalid)
			return
		}
		addInt64(b, der.TagEnumerated, int64(d.AuthRevCode))
		d.AuthNewAmt.add(b)
		if d.AuthResPayload != nil {
			d.AuthResPayload.addAs(b, der.Explicit(2))
		}
		addOptionalExtensions(b, 3, d.ARvRsExtensions)
		addOptionalCertThumb(b, 10, d.MerchantThumb)
		addOptionalOctets(b, der.Implicit(11), d.HAuthRevReq, typ, "hAuthRevReq", 1, maxDigestLen)
	})
}

func (d *AuthRevResData) read(s *cryptobyte.String) error {
	const typ = "AuthRevResData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AuthRevResData{raw: raw}
	if err := out.AuthRevTags.read(&seq); err != nil {
		return der.Wrap(typ, "authRevTags", err)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.GKThumb, err = readOptionalCertThumb(&seq, 1, typ, "gkThumb"); err != nil {
		return err
	}
	v, err := readIntRange(&seq, der.TagEnumerated, typ, "authRevCode", 0, int64(len(authRevCodeNames)-1))
	if err != nil {
		return err
	}
	out.AuthRevCode = AuthRevCode(v)
	if err := out.AuthNewAmt.read(&seq); err != nil {
		return der.Wrap(typ, "authNewAmt", err)
	}
	if nextIs(seq, der.Explicit(2)) {
		out.AuthResPayload = new(AuthResPayload)
		if err := out.AuthResPayload.readAs(&seq, der.Explicit(2)); err != nil {
			return der.Wrap(typ, "authResPayload", err)
		}
	}
	if out.ARvRsExtensions, err = readOptionalExtensions(&seq, 3, typ, "aRvRsExtensions"); err != nil {
		return err
	}
	if out.MerchantThumb, err = readOptionalCertThumb(&seq, 10, typ, "merchantThumb"); err != nil {
		return err
	}
	if out.HAuthRevReq, err = readOptionalOctets(&seq, der.Implicit(11), typ, "hAuthRevReq", 1, maxDigestLen); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *AuthRevResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalAuthRevResData decodes an AuthRevResData, rejecting trailing bytes.
func UnmarshalAuthRevResData(b []byte) (*AuthRevResData, error) {
	return unmarshalNew[AuthRevResData](b, "AuthRevResData")
}

// AuthRevCode is the reversal outcome (reconstructed ENUMERATED).
type AuthRevCode int

const (
	AuthRevSuccess            AuthRevCode = 0
	AuthRevUnspecifiedFailure AuthRevCode = 1
	AuthRevUnknownXID         AuthRevCode = 2 // no such authorization
	AuthRevAmountError        AuthRevCode = 3 // authNewAmt above the amount authorized
	AuthRevAlreadyReversed    AuthRevCode = 4
	AuthRevAlreadyCaptured    AuthRevCode = 5 // reverse the capture instead
	AuthRevAuthExpired        AuthRevCode = 6
	AuthRevDuplicateRequest   AuthRevCode = 7
)

var authRevCodeNames = [...]string{
	"success", "unspecifiedFailure", "unknownXID", "amountError",
	"alreadyReversed", "alreadyCaptured", "authExpired", "duplicateRequest",
}

// Valid reports whether c is a defined AuthRevCode.
func (c AuthRevCode) Valid() bool { return c >= 0 && int(c) < len(authRevCodeNames) }

func (c AuthRevCode) String() string {
	if c.Valid() {
		return authRevCodeNames[c]
	}
	return fmt.Sprintf("AuthRevCode(%d)", int(c))
}

// ---- CapRevReq / CapRevRes ----

// addCapTokenEncB and readCapTokenEncB write and read the outer form that
// CapRevReq, CredReq and CredRevReq share with CapReq:
// SEQUENCE { tbe ContentInfo, capTokenSeq CapTokenSeq OPTIONAL }. The EncBX
// alternative (a PANToken inside the envelope's OAEP block) has the same
// outer form; only the envelope's content type (…TBEX) differs.
func addCapTokenEncB(b *cryptobyte.Builder, typ, tbeField string, tbe []byte, seq *CapTokenSeq) {
	var baggage func(*cryptobyte.Builder)
	if seq != nil {
		baggage = seq.add
	}
	addEncB(b, typ, tbe, tbeField, baggage)
}

func readCapTokenEncB(s *cryptobyte.String, typ, tbeField string) (tbe []byte, seq *CapTokenSeq, raw []byte, err error) {
	tbe, raw, err = readEncB(s, typ, tbeField, "capTokenSeq", true, func(s *cryptobyte.String) error {
		seq = new(CapTokenSeq)
		return seq.read(s)
	})
	return tbe, seq, raw, err
}

// CapRevReq is the merchant's capture reversal request:
//
//	CapRevReq ::= < EncB{M, P, CapRevData, CapTokenSeq}, EncBX{M, P, CapRevData, CapTokenSeq, PANToken} >
//	          = SEQUENCE { capRevReqTBE ContentInfo, capTokenSeq CapTokenSeq OPTIONAL }
//
// CapRevData is a CapRevOrCredReqData. With a PANToken (setct-CapRevReqTBEX)
// there is exactly one item and one CapToken.
type CapRevReq struct {
	CapRevReqTBE []byte       // ContentInfo DER of the envelope
	CapTokenSeq  *CapTokenSeq // optional

	raw []byte
}

// Tag returns the CapRevReq alternative's Message CHOICE tag.
func (m *CapRevReq) Tag() uint32 { return TagCapRevReq }

// Name returns "CapRevReq".
func (m *CapRevReq) Name() string { return "CapRevReq" }

// Raw returns the bytes m was decoded from.
func (m *CapRevReq) Raw() []byte { return m.raw }

// Marshal returns the DER encoding of m.
func (m *CapRevReq) Marshal() ([]byte, error) {
	return marshal(func(b *cryptobyte.Builder) {
		addCapTokenEncB(b, "CapRevReq", "capRevReqTBE", m.CapRevReqTBE, m.CapTokenSeq)
	})
}

func (m *CapRevReq) read(s *cryptobyte.String) (err error) {
	m.CapRevReqTBE, m.CapTokenSeq, m.raw, err = readCapTokenEncB(s, "CapRevReq", "capRevReqTBE")
	return err
}

// UnmarshalCapRevReq decodes a CapRevReq, rejecting trailing bytes.
func UnmarshalCapRevReq(b []byte) (*CapRevReq, error) {
	return unmarshalNew[CapRevReq](b, "CapRevReq")
}

// CapRevRes is the gateway's capture reversal response, Enc{P, M,
// CapRevResData}: one envelope ContentInfo (setct-CapRevResTBE) holding the
// gateway's SignedData over a CapRevOrCredResData (setct-CapRevResData).
type CapRevRes struct {
	CapRevResTBE []byte // ContentInfo DER
}

// Tag returns the CapRevRes alternative's Message CHOICE tag.
func (m *CapRevRes) Tag() uint32 { return TagCapRevRes }

// Name returns "CapRevRes".
func (m *CapRevRes) Name() string { return "CapRevRes" }

// Raw returns the ContentInfo DER.
func (m *CapRevRes) Raw() []byte { return m.CapRevResTBE }

// Marshal returns the DER encoding of m.
func (m *CapRevRes) Marshal() ([]byte, error) {
	return marshalContentInfo(m.CapRevResTBE, "CapRevRes")
}

// UnmarshalCapRevRes decodes a CapRevRes, rejecting trailing bytes.
func UnmarshalCapRevRes(b []byte) (*CapRevRes, error) {
	ci, err := unmarshalContentInfo(b, "CapRevRes")
	if err != nil {
		return nil, err
	}
	return &CapRevRes{CapRevResTBE: ci}, nil
}

// ---- shared bodies of CapRevReq, CredReq, CredRevReq and their responses ----

// CapRevOrCredReqTBS is what the merchant signs inside the envelope of a
// CapRevReq, CredReq or CredRevReq (setct-CapRevReqTBS, setct-CredReqTBS,
// setct-CredRevReqTBS; the …TBSX forms add the PANToken beside it in EncX):
//
//	CapRevOrCredReqTBS ::= L{CapRevOrCredReqData, CapTokenSeq}
//	  = SEQUENCE { capRevOrCredReqData CapRevOrCredReqData, hCapTokenSeq DD{CapTokenSeq} OPTIONAL }
type CapRevOrCredReqTBS struct {
	CapRevOrCredReqData CapRevOrCredReqData
	HCapTokenSeq        []byte // optional DigestedData ContentInfo DER

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *CapRevOrCredReqTBS) Raw() []byte { return t.raw }

func (t *CapRevOrCredReqTBS) add(b *cryptobyte.Builder) {
	addLinkage(b, "CapRevOrCredReqTBS", t.CapRevOrCredReqData.add, t.HCapTokenSeq, "hCapTokenSeq", true)
}

func (t *CapRevOrCredReqTBS) read(s *cryptobyte.String) (err error) {
	t.HCapTokenSeq, t.raw, err = readLinkage(s, "CapRevOrCredReqTBS", "capRevOrCredReqData", t.CapRevOrCredReqData.read, "hCapTokenSeq", true)
	return err
}

// Marshal returns the DER encoding of t.
func (t *CapRevOrCredReqTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalCapRevOrCredReqTBS decodes a CapRevOrCredReqTBS, rejecting
// trailing bytes.
func UnmarshalCapRevOrCredReqTBS(b []byte) (*CapRevOrCredReqTBS, error) {
	return unmarshalNew[CapRevOrCredReqTBS](b, "CapRevOrCredReqTBS")
}

// CapRevOrCredReqData is the request body of capture reversal, credit and
// credit reversal (Book 2 field list):
//
//	CapRevOrCredReqData ::= SEQUENCE {
//	  capRevOrCredRRTags     RRTags,
//	  mThumbs                [0] EXPLICIT Thumbs OPTIONAL,
//	  capRevOrCredReqItemSeq SEQUENCE SIZE(1..MAX) OF CapRevOrCredReqItem,
//	  cRvRqExtensions        [1] MsgExtensions OPTIONAL,
//	  pgThumb                [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 1
//	  expiry                 [11] GeneralizedTime OPTIONAL }    -- setpay deviation 3
type CapRevOrCredReqData struct {
	CapRevOrCredRRTags     RRTags
	MThumbs                *Thumbs // optional
	CapRevOrCredReqItemSeq []CapRevOrCredReqItem
	CRvRqExtensions        MsgExtensions // optional: empty when absent
	PGThumb                *CertThumb    // optional
	Expiry                 time.Time     // optional: zero when absent

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CapRevOrCredReqData) Raw() []byte { return d.raw }

func (d *CapRevOrCredReqData) add(b *cryptobyte.Builder) {
	const typ = "CapRevOrCredReqData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.CapRevOrCredRRTags.add(b)
		addOptionalThumbs(b, 0, d.MThumbs)
		if len(d.CapRevOrCredReqItemSeq) == 0 {
			failf(b, typ, "capRevOrCredReqItemSeq", "empty: %w", der.ErrInvalid)
			return
		}
		addSequence(b, func(b *cryptobyte.Builder) {
			for i := range d.CapRevOrCredReqItemSeq {
				d.CapRevOrCredReqItemSeq[i].add(b)
			}
		})
		addOptionalExtensions(b, 1, d.CRvRqExtensions)
		addOptionalCertThumb(b, 10, d.PGThumb)
		addOptionalDate(b, 11, d.Expiry)
	})
}

func (d *CapRevOrCredReqData) read(s *cryptobyte.String) error {
	const typ = "CapRevOrCredReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CapRevOrCredReqData{raw: raw}
	if err := out.CapRevOrCredRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "capRevOrCredRRTags", err)
	}
	if out.MThumbs, err = readOptionalThumbs(&seq, 0, typ, "mThumbs"); err != nil {
		return err
	}
	if out.CapRevOrCredReqItemSeq, err = readSequenceOf[CapRevOrCredReqItem](&seq, typ, "capRevOrCredReqItemSeq"); err != nil {
		return err
	}
	if len(out.CapRevOrCredReqItemSeq) == 0 {
		return der.Errorf(typ, "capRevOrCredReqItemSeq", "empty: %w", der.ErrInvalid)
	}
	if out.CRvRqExtensions, err = readOptionalExtensions(&seq, 1, typ, "cRvRqExtensions"); err != nil {
		return err
	}
	if out.PGThumb, err = readOptionalCertThumb(&seq, 10, typ, "pgThumb"); err != nil {
		return err
	}
	if out.Expiry, err = readOptionalDate(&seq, 11, typ, "expiry"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *CapRevOrCredReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCapRevOrCredReqData decodes a CapRevOrCredReqData, rejecting
// trailing bytes.
func UnmarshalCapRevOrCredReqData(b []byte) (*CapRevOrCredReqData, error) {
	return unmarshalNew[CapRevOrCredReqData](b, "CapRevOrCredReqData")
}

// CapRevOrCredReqItem is one capture to reverse or credit (Book 2 field
// list):
//
//	CapRevOrCredReqItem ::= SEQUENCE {
//	  transIDs             TransIDs,
//	  authRRPID            RRPID,
//	  capPayload           CapPayload,              -- the capture concerned
//	  newBatchID           [0] INTEGER (0..MAX) OPTIONAL,
//	  capRevOrCredReqDate  Date,
//	  capRevOrCredReqAmt   [1] EXPLICIT CurrencyAmount OPTIONAL,  -- credit amount
//	  newAccountInd        BOOLEAN DEFAULT FALSE,
//	  cRvRqItemExtensions  [2] MsgExtensions OPTIONAL }
type CapRevOrCredReqItem struct {
	TransIDs            TransIDs
	AuthRRPID           RRPID
	CapPayload          CapPayload
	NewBatchID          *int64 // optional
	CapRevOrCredReqDate time.Time
	CapRevOrCredReqAmt  *CurrencyAmount // optional
	NewAccountInd       bool
	CRvRqItemExtensions MsgExtensions // optional: empty when absent
}

func (it *CapRevOrCredReqItem) add(b *cryptobyte.Builder) {
	const typ = "CapRevOrCredReqItem"
	addSequence(b, func(b *cryptobyte.Builder) {
		it.TransIDs.add(b)
		it.AuthRRPID.add(b)
		it.CapPayload.add(b)
		addOptionalInt(b, 0, it.NewBatchID, 0, typ, "newBatchID")
		addDate(b, it.CapRevOrCredReqDate)
		if it.CapRevOrCredReqAmt != nil {
			addExplicit(b, 1, it.CapRevOrCredReqAmt.add)
		}
		addDefaultFalse(b, der.TagBoolean, it.NewAccountInd)
		addOptionalExtensions(b, 2, it.CRvRqItemExtensions)
	})
}

func (it *CapRevOrCredReqItem) read(s *cryptobyte.String) error {
	const typ = "CapRevOrCredReqItem"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out CapRevOrCredReqItem
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.AuthRRPID.read(&seq); err != nil {
		return der.Wrap(typ, "authRRPID", err)
	}
	if err := out.CapPayload.read(&seq); err != nil {
		return der.Wrap(typ, "capPayload", err)
	}
	if out.NewBatchID, err = readOptionalInt(&seq, 0, 0, typ, "newBatchID"); err != nil {
		return err
	}
	if out.CapRevOrCredReqDate, err = readDate(&seq, typ, "capRevOrCredReqDate"); err != nil {
		return err
	}
	var amt CurrencyAmount
	ok, err := readOptionalExplicit(&seq, 1, typ, "capRevOrCredReqAmt", func(s *cryptobyte.String) error {
		if err := amt.read(s); err != nil {
			return der.Wrap(typ, "capRevOrCredReqAmt", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ok {
		out.CapRevOrCredReqAmt = &amt
	}
	if out.NewAccountInd, err = readOptionalDefaultFalse(&seq, der.TagBoolean, typ, "newAccountInd"); err != nil {
		return err
	}
	if out.CRvRqItemExtensions, err = readOptionalExtensions(&seq, 2, typ, "cRvRqItemExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*it = out
	return nil
}

// CapRevOrCredResData is the gateway's signed result of a capture
// reversal, credit or credit reversal (setct-CapRevResData,
// setct-CredResData, setct-CredRevResData):
//
//	CapRevOrCredResData ::= SEQUENCE {
//	  capRevOrCredRRTags     RRTags,
//	  brandCRLIdentifier     [0] EXPLICIT BrandCRLIdentifier OPTIONAL,  -- opaque DER
//	  peThumb                [1] EXPLICIT CertThumb OPTIONAL,
//	  batchStatusSeq         [2] SEQUENCE OF BatchStatus OPTIONAL,
//	  capRevOrCredResItemSeq SEQUENCE OF CapRevOrCredResItem,
//	  cRvRsExtensions        [3] MsgExtensions OPTIONAL,
//	  merchantThumb          [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 2
//	  hCapRevOrCredReq       [11] OCTET STRING OPTIONAL }       -- setpay deviation 2
type CapRevOrCredResData struct {
	CapRevOrCredRRTags     RRTags
	BrandCRLIdentifier     []byte        // optional: DER of one element, kept opaque
	PEThumb                *CertThumb    // optional
	BatchStatusSeq         []BatchStatus // optional: nil when absent
	CapRevOrCredResItemSeq []CapRevOrCredResItem
	CRvRsExtensions        MsgExtensions // optional: empty when absent
	MerchantThumb          *CertThumb    // optional: the merchant signature certificate answered
	HCapRevOrCredReq       []byte        // optional: digest of the request TBS answered (1..64 octets)

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CapRevOrCredResData) Raw() []byte { return d.raw }

func (d *CapRevOrCredResData) add(b *cryptobyte.Builder) {
	const typ = "CapRevOrCredResData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.CapRevOrCredRRTags.add(b)
		addOpaqueExplicit(b, 0, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalCertThumb(b, 1, d.PEThumb)
		addOptionalBatchStatusSeq(b, 2, d.BatchStatusSeq)
		addSequence(b, func(b *cryptobyte.Builder) {
			for i := range d.CapRevOrCredResItemSeq {
				d.CapRevOrCredResItemSeq[i].add(b)
			}
		})
		addOptionalExtensions(b, 3, d.CRvRsExtensions)
		addOptionalCertThumb(b, 10, d.MerchantThumb)
		addOptionalOctets(b, der.Implicit(11), d.HCapRevOrCredReq, typ, "hCapRevOrCredReq", 1, maxDigestLen)
	})
}

func (d *CapRevOrCredResData) read(s *cryptobyte.String) error {
	const typ = "CapRevOrCredResData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CapRevOrCredResData{raw: raw}
	if err := out.CapRevOrCredRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "capRevOrCredRRTags", err)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.PEThumb, err = readOptionalCertThumb(&seq, 1, typ, "peThumb"); err != nil {
		return err
	}
	if out.BatchStatusSeq, err = readOptionalBatchStatusSeq(&seq, 2, typ); err != nil {
		return err
	}
	if out.CapRevOrCredResItemSeq, err = readSequenceOf[CapRevOrCredResItem](&seq, typ, "capRevOrCredResItemSeq"); err != nil {
		return err
	}
	if out.CRvRsExtensions, err = readOptionalExtensions(&seq, 3, typ, "cRvRsExtensions"); err != nil {
		return err
	}
	if out.MerchantThumb, err = readOptionalCertThumb(&seq, 10, typ, "merchantThumb"); err != nil {
		return err
	}
	if out.HCapRevOrCredReq, err = readOptionalOctets(&seq, der.Implicit(11), typ, "hCapRevOrCredReq", 1, maxDigestLen); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *CapRevOrCredResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCapRevOrCredResData decodes a CapRevOrCredResData, rejecting
// trailing bytes.
func UnmarshalCapRevOrCredResData(b []byte) (*CapRevOrCredResData, error) {
	return unmarshalNew[CapRevOrCredResData](b, "CapRevOrCredResData")
}

// CapRevOrCredResItem is the result for one CapRevOrCredReqItem:
//
//	CapRevOrCredResItem ::= SEQUENCE {
//	  transIDs              TransIDs,
//	  authRRPID             RRPID,
//	  capRevOrCredCode      CapRevOrCredCode,
//	  capRevOrCredActualAmt CurrencyAmount,
//	  batchID               [0] INTEGER (0..MAX) OPTIONAL,
//	  batchSequenceNum      [1] INTEGER (0..MAX) OPTIONAL,
//	  cRvRsItemExtensions   [2] MsgExtensions OPTIONAL }
type CapRevOrCredResItem struct {
	TransIDs              TransIDs
	AuthRRPID             RRPID
	CapRevOrCredCode      CapRevOrCredCode
	CapRevOrCredActualAmt CurrencyAmount
	BatchID               *int64        // optional
	BatchSequenceNum      *int64        // optional
	CRvRsItemExtensions   MsgExtensions // optional: empty when absent
}

func (it *CapRevOrCredResItem) add(b *cryptobyte.Builder) {
	const typ = "CapRevOrCredResItem"
	addSequence(b, func(b *cryptobyte.Builder) {
		it.TransIDs.add(b)
		it.AuthRRPID.add(b)
		if !it.CapRevOrCredCode.Valid() {
			failf(b, typ, "capRevOrCredCode", "value %d: %w", int(it.CapRevOrCredCode), der.ErrInvalid)
			return
		}
		addInt64(b, der.TagEnumerated, int64(it.CapRevOrCredCode))
		it.CapRevOrCredActualAmt.add(b)
		addOptionalInt(b, 0, it.BatchID, 0, typ, "batchID")
		addOptionalInt(b, 1, it.BatchSequenceNum, 0, typ, "batchSequenceNum")
		addOptionalExtensions(b, 2, it.CRvRsItemExtensions)
	})
}

func (it *CapRevOrCredResItem) read(s *cryptobyte.String) error {
	const typ = "CapRevOrCredResItem"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out CapRevOrCredResItem
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.AuthRRPID.read(&seq); err != nil {
		return der.Wrap(typ, "authRRPID", err)
	}
	v, err := readIntRange(&seq, der.TagEnumerated, typ, "capRevOrCredCode", 0, int64(len(capRevOrCredCodeNames)-1))
	if err != nil {
		return err
	}
	out.CapRevOrCredCode = CapRevOrCredCode(v)
	if err := out.CapRevOrCredActualAmt.read(&seq); err != nil {
		return der.Wrap(typ, "capRevOrCredActualAmt", err)
	}
	if out.BatchID, err = readOptionalInt(&seq, 0, 0, typ, "batchID"); err != nil {
		return err
	}
	if out.BatchSequenceNum, err = readOptionalInt(&seq, 1, 0, typ, "batchSequenceNum"); err != nil {
		return err
	}
	if out.CRvRsItemExtensions, err = readOptionalExtensions(&seq, 2, typ, "cRvRsItemExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*it = out
	return nil
}

// CapRevOrCredCode is the outcome of one capture reversal, credit or
// credit reversal (reconstructed ENUMERATED).
type CapRevOrCredCode int

const (
	CapRevOrCredSuccess            CapRevOrCredCode = 0
	CapRevOrCredUnspecifiedFailure CapRevOrCredCode = 1
	CapRevOrCredDuplicateRequest   CapRevOrCredCode = 2
	CapRevOrCredOriginalNotFound   CapRevOrCredCode = 3 // no such capture (or credit)
	CapRevOrCredAmountError        CapRevOrCredCode = 4 // e.g. credit above the captured amount
	CapRevOrCredAlreadyReversed    CapRevOrCredCode = 5
	CapRevOrCredCapTokenMissing    CapRevOrCredCode = 6
	CapRevOrCredInvalidCapToken    CapRevOrCredCode = 7
	CapRevOrCredBatchUnknown       CapRevOrCredCode = 8
	CapRevOrCredBatchClosed        CapRevOrCredCode = 9
	CapRevOrCredUnknownXID         CapRevOrCredCode = 10
	CapRevOrCredUnknownLID         CapRevOrCredCode = 11
)

var capRevOrCredCodeNames = [...]string{
	"success", "unspecifiedFailure", "duplicateRequest", "originalNotFound",
	"amountError", "alreadyReversed", "capTokenMissing", "invalidCapToken",
	"batchUnknown", "batchClosed", "unknownXID", "unknownLID",
}

// Valid reports whether c is a defined CapRevOrCredCode.
func (c CapRevOrCredCode) Valid() bool { return c >= 0 && int(c) < len(capRevOrCredCodeNames) }

func (c CapRevOrCredCode) String() string {
	if c.Valid() {
		return capRevOrCredCodeNames[c]
	}
	return fmt.Sprintf("CapRevOrCredCode(%d)", int(c))
}
