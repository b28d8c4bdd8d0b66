package msg

// Authorization messages between merchant and payment gateway (SetPayMsgs):
// AuthReq and AuthRes with the structures inside their envelopes. The
// envelopes themselves (EncB, the SignedData inside) belong to package encap;
// here they are opaque ContentInfo bytes. Everything without verbatim Book 3
// ASN.1 is reconstructed; see docs/spec-gaps.md, section "msg".

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

func init() {
	registerMessage(TagAuthReq, func(b []byte) (Message, error) { return UnmarshalAuthReq(b) })
	registerMessage(TagAuthRes, func(b []byte) (Message, error) { return UnmarshalAuthRes(b) })
}

// AuthReq is the merchant's authorization request:
//
//	AuthReq ::= EncB{M, P, AuthReqData, PI}
//	        = SEQUENCE { authReqTBE ContentInfo, pi PI }
type AuthReq struct {
	// AuthReqTBE is the ContentInfo DER of the envelope (content type
	// setct-AuthReqTBE) holding the merchant's SignedData over AuthReqTBS.
	AuthReqTBE []byte
	// PI is the cardholder's payment instructions, forwarded unchanged.
	PI PI

	raw []byte
}

// Tag returns the AuthReq alternative's Message CHOICE tag.
func (m *AuthReq) Tag() uint32 { return TagAuthReq }

// Name returns "AuthReq".
func (m *AuthReq) Name() string { return "AuthReq" }

// Raw returns the bytes m was decoded from (nil for a message built locally).
func (m *AuthReq) Raw() []byte { return m.raw }

func (m *AuthReq) add(b *cryptobyte.Builder) {
	addEncB(b, "AuthReq", m.AuthReqTBE, "authReqTBE", m.PI.add)
}

func (m *AuthReq) read(s *cryptobyte.String) (err error) {
	m.AuthReqTBE, m.raw, err = readEncB(s, "AuthReq", "authReqTBE", "pi", false, m.PI.read)
	return err
}

// Marshal returns the DER encoding of m.
func (m *AuthReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalAuthReq decodes an AuthReq, rejecting trailing bytes.
func UnmarshalAuthReq(b []byte) (*AuthReq, error) { return unmarshalNew[AuthReq](b, "AuthReq") }

// AuthReqTBS is the content the merchant signs inside the AuthReq envelope
// (content type setct-AuthReqTBS):
//
//	AuthReqTBS ::= L{AuthReqData, PI} = SEQUENCE { authReqData AuthReqData, hPI DD{PI} }
type AuthReqTBS struct {
	AuthReqData AuthReqData
	HPI         []byte // DigestedData ContentInfo DER over the PI's DER

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *AuthReqTBS) Raw() []byte { return t.raw }

func (t *AuthReqTBS) add(b *cryptobyte.Builder) {
	addLinkage(b, "AuthReqTBS", t.AuthReqData.add, t.HPI, "hPI", false)
}

func (t *AuthReqTBS) read(s *cryptobyte.String) (err error) {
	t.HPI, t.raw, err = readLinkage(s, "AuthReqTBS", "authReqData", t.AuthReqData.read, "hPI", false)
	return err
}

// Marshal returns the DER encoding of t.
func (t *AuthReqTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalAuthReqTBS decodes an AuthReqTBS, rejecting trailing bytes.
func UnmarshalAuthReqTBS(b []byte) (*AuthReqTBS, error) {
	return unmarshalNew[AuthReqTBS](b, "AuthReqTBS")
}

// AuthReqData is the merchant's part of an authorization request:
//
//	AuthReqData ::= SEQUENCE {
//	  authReqItem AuthReqItem,
//	  mThumbs     [0] EXPLICIT Thumbs OPTIONAL,
//	  captureNow  BOOLEAN DEFAULT FALSE,
//	  saleDetail  [1] SaleDetail OPTIONAL,          -- opaque OCTET STRING for now
//	  pgThumb     [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 1
//	  expiry      [11] GeneralizedTime OPTIONAL }    -- setpay deviation 3
type AuthReqData struct {
	AuthReqItem AuthReqItem
	MThumbs     *Thumbs // optional
	CaptureNow  bool
	SaleDetail  []byte     // optional, opaque; nil when absent
	PGThumb     *CertThumb // optional: the gateway the request is meant for
	Expiry      time.Time  // optional (zero when absent): gateway refuses after it

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *AuthReqData) Raw() []byte { return d.raw }

func (d *AuthReqData) add(b *cryptobyte.Builder) {
	const typ = "AuthReqData"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		d.AuthReqItem.add(b)
		addOptionalThumbs(b, 0, d.MThumbs)
		addDefaultFalse(b, der.TagBoolean, d.CaptureNow)
		addOpaqueOctets(b, 1, d.SaleDetail, typ, "saleDetail")
		addOptionalCertThumb(b, 10, d.PGThumb)
		addOptionalDate(b, 11, d.Expiry)
	})
}

func (d *AuthReqData) read(s *cryptobyte.String) error {
	const typ = "AuthReqData"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	d.raw = e.Raw
	in := cryptobyte.String(e.Contents)
	if err := d.AuthReqItem.read(&in); err != nil {
		return der.Wrap(typ, "authReqItem", err)
	}
	if d.MThumbs, err = readOptionalThumbs(&in, 0, typ, "mThumbs"); err != nil {
		return err
	}
	if d.CaptureNow, err = readOptionalDefaultFalse(&in, der.TagBoolean, typ, "captureNow"); err != nil {
		return err
	}
	if d.SaleDetail, err = readOpaqueOctets(&in, 1, typ, "saleDetail"); err != nil {
		return err
	}
	if d.PGThumb, err = readOptionalCertThumb(&in, 10, typ, "pgThumb"); err != nil {
		return err
	}
	if d.Expiry, err = readOptionalDate(&in, 11, typ, "expiry"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// Marshal returns the DER encoding of d.
func (d *AuthReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalAuthReqData decodes an AuthReqData, rejecting trailing bytes.
func UnmarshalAuthReqData(b []byte) (*AuthReqData, error) {
	return unmarshalNew[AuthReqData](b, "AuthReqData")
}

// AuthReqItem is one authorization's identifiers and amounts:
//
//	AuthReqItem ::= SEQUENCE {
//	  authTags       AuthTags,
//	  checkDigests   [0] CheckDigests OPTIONAL,  -- absent when the PI is an AuthToken
//	  authReqPayload AuthReqPayload }
type AuthReqItem struct {
	AuthTags       AuthTags
	CheckDigests   *CheckDigests // optional
	AuthReqPayload AuthReqPayload
}

func (it *AuthReqItem) add(b *cryptobyte.Builder) { it.addAs(b, der.TagSequence) }

func (it *AuthReqItem) addAs(b *cryptobyte.Builder, t der.Tag) {
	der.AddElement(b, t, func(b *cryptobyte.Builder) {
		it.AuthTags.add(b)
		if it.CheckDigests != nil {
			it.CheckDigests.addAs(b, der.Explicit(0))
		}
		it.AuthReqPayload.add(b)
	})
}

func (it *AuthReqItem) read(s *cryptobyte.String) error { return it.readAs(s, der.TagSequence) }

func (it *AuthReqItem) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "AuthReqItem"
	e, err := readAs(s, t, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if err := it.AuthTags.read(&in); err != nil {
		return der.Wrap(typ, "authTags", err)
	}
	if nextIs(in, der.Explicit(0)) {
		it.CheckDigests = new(CheckDigests)
		if err := it.CheckDigests.readAs(&in, der.Explicit(0)); err != nil {
			return der.Wrap(typ, "checkDigests", err)
		}
	}
	if err := it.AuthReqPayload.read(&in); err != nil {
		return der.Wrap(typ, "authReqPayload", err)
	}
	return expectEnd(in, typ, "")
}

// AuthTags identifies an authorization:
//
//	AuthTags ::= SEQUENCE { authRRTags RRTags, transIDs TransIDs, authRetNum [0] INTEGER OPTIONAL }
type AuthTags struct {
	AuthRRTags RRTags
	TransIDs   TransIDs
	AuthRetNum *int64 // optional: the acquirer's retrieval number
}

func (a *AuthTags) add(b *cryptobyte.Builder) {
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		a.AuthRRTags.add(b)
		a.TransIDs.add(b)
		addOptionalInt(b, 0, a.AuthRetNum, 0, "AuthTags", "authRetNum")
	})
}

func (a *AuthTags) read(s *cryptobyte.String) error {
	const typ = "AuthTags"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if err := a.AuthRRTags.read(&in); err != nil {
		return der.Wrap(typ, "authRRTags", err)
	}
	if err := a.TransIDs.read(&in); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if a.AuthRetNum, err = readOptionalInt(&in, 0, 0, typ, "authRetNum"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// CheckDigests lets the gateway check the dual signature without the order:
//
//	CheckDigests ::= SEQUENCE { hOIData DD{OIData}, hod2 DD{HODInput} }
type CheckDigests struct {
	HOIData []byte // DigestedData ContentInfo DER
	HOD2    []byte // DigestedData ContentInfo DER
}

func (c *CheckDigests) addAs(b *cryptobyte.Builder, t der.Tag) {
	der.AddElement(b, t, func(b *cryptobyte.Builder) {
		addContentInfoDER(b, c.HOIData, "CheckDigests", "hOIData")
		addContentInfoDER(b, c.HOD2, "CheckDigests", "hod2")
	})
}

func (c *CheckDigests) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "CheckDigests"
	e, err := readAs(s, t, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if c.HOIData, err = readContentInfoDER(&in, typ, "hOIData"); err != nil {
		return err
	}
	if c.HOD2, err = readContentInfoDER(&in, typ, "hod2"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// AuthReqPayload carries what the issuer needs to decide:
//
//	AuthReqPayload ::= SEQUENCE {
//	  subsequentAuthInd  BOOLEAN DEFAULT FALSE,
//	  authReqAmt         CurrencyAmount,
//	  avsData            [0] OPTIONAL,   -- opaque
//	  specialProcessing  [1] ENUMERATED OPTIONAL,
//	  cardSuspect        [2] OPTIONAL,   -- opaque
//	  requestCardTypeInd BOOLEAN DEFAULT FALSE,
//	  installRecurData   [3] OPTIONAL,   -- opaque
//	  marketSpecAuthData [4] OPTIONAL,   -- opaque
//	  merchData          MerchData,
//	  aRqExtensions      [5] MsgExtensions OPTIONAL }
//
// Opaque components are IMPLICIT OCTET STRINGs until a later issue defines
// them; nil means absent.
type AuthReqPayload struct {
	SubsequentAuthInd  bool
	AuthReqAmt         CurrencyAmount
	AVSData            []byte
	SpecialProcessing  *int // optional ENUMERATED, 0..MaxEnumValue
	CardSuspect        []byte
	RequestCardTypeInd bool
	InstallRecurData   []byte
	MarketSpecAuthData []byte
	MerchData          MerchData
	ARqExtensions      MsgExtensions // optional: empty when absent
}

func (p *AuthReqPayload) add(b *cryptobyte.Builder) {
	const typ = "AuthReqPayload"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		addDefaultFalse(b, der.TagBoolean, p.SubsequentAuthInd)
		p.AuthReqAmt.add(b)
		addOpaqueOctets(b, 0, p.AVSData, typ, "avsData")
		addOptionalEnum(b, 1, p.SpecialProcessing, typ, "specialProcessing")
		addOpaqueOctets(b, 2, p.CardSuspect, typ, "cardSuspect")
		addDefaultFalse(b, der.TagBoolean, p.RequestCardTypeInd)
		addOpaqueOctets(b, 3, p.InstallRecurData, typ, "installRecurData")
		addOpaqueOctets(b, 4, p.MarketSpecAuthData, typ, "marketSpecAuthData")
		p.MerchData.add(b)
		addOptionalExtensions(b, 5, p.ARqExtensions)
	})
}

func (p *AuthReqPayload) read(s *cryptobyte.String) error {
	const typ = "AuthReqPayload"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if p.SubsequentAuthInd, err = readOptionalDefaultFalse(&in, der.TagBoolean, typ, "subsequentAuthInd"); err != nil {
		return err
	}
	if err := p.AuthReqAmt.read(&in); err != nil {
		return der.Wrap(typ, "authReqAmt", err)
	}
	if p.AVSData, err = readOpaqueOctets(&in, 0, typ, "avsData"); err != nil {
		return err
	}
	if p.SpecialProcessing, err = readOptionalEnum(&in, 1, typ, "specialProcessing"); err != nil {
		return err
	}
	if p.CardSuspect, err = readOpaqueOctets(&in, 2, typ, "cardSuspect"); err != nil {
		return err
	}
	if p.RequestCardTypeInd, err = readOptionalDefaultFalse(&in, der.TagBoolean, typ, "requestCardTypeInd"); err != nil {
		return err
	}
	if p.InstallRecurData, err = readOpaqueOctets(&in, 3, typ, "installRecurData"); err != nil {
		return err
	}
	if p.MarketSpecAuthData, err = readOpaqueOctets(&in, 4, typ, "marketSpecAuthData"); err != nil {
		return err
	}
	if err := p.MerchData.read(&in); err != nil {
		return der.Wrap(typ, "merchData", err)
	}
	if p.ARqExtensions, err = readOptionalExtensions(&in, 5, typ, "aRqExtensions"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// MerchData describes the merchant to the issuer:
//
//	MerchData ::= SEQUENCE {
//	  merchCatCode [0] NumericString (SIZE(4)) OPTIONAL,
//	  merchGroup   [1] ENUMERATED OPTIONAL }
type MerchData struct {
	MerchCatCode string // optional: ISO 18245 merchant category code; "" when absent
	MerchGroup   *int   // optional ENUMERATED, 0..MaxEnumValue
}

func (m *MerchData) add(b *cryptobyte.Builder) {
	const typ = "MerchData"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		if m.MerchCatCode != "" {
			if !digitsOK(m.MerchCatCode) || len(m.MerchCatCode) != 4 {
				b.SetError(der.Errorf(typ, "merchCatCode", "want 4 digits: %w", der.ErrInvalid))
				return
			}
			b.AddBytes(der.Encode(der.Implicit(0), []byte(m.MerchCatCode)))
		}
		addOptionalEnum(b, 1, m.MerchGroup, typ, "merchGroup")
	})
}

func (m *MerchData) read(s *cryptobyte.String) error {
	const typ = "MerchData"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if nextIs(in, der.Implicit(0)) {
		f, err := readAs(&in, der.Implicit(0), typ, "merchCatCode")
		if err != nil {
			return err
		}
		if len(f.Contents) != 4 || !digitsOK(string(f.Contents)) {
			return der.Errorf(typ, "merchCatCode", "want 4 digits: %w", der.ErrInvalid)
		}
		m.MerchCatCode = string(f.Contents)
	}
	if m.MerchGroup, err = readOptionalEnum(&in, 1, typ, "merchGroup"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// AuthRes is the gateway's authorization response:
//
//	AuthRes ::= EncB{P, M, AuthResData, AuthResBaggage}
//	        = SEQUENCE { authResTBE ContentInfo, authResBaggage AuthResBaggage OPTIONAL }
type AuthRes struct {
	// AuthResTBE is the ContentInfo DER of the envelope (setct-AuthResTBE)
	// holding the gateway's SignedData over AuthResTBS.
	AuthResTBE     []byte
	AuthResBaggage *AuthResBaggage // optional

	raw []byte
}

// Tag returns the AuthRes alternative's Message CHOICE tag.
func (m *AuthRes) Tag() uint32 { return TagAuthRes }

// Name returns "AuthRes".
func (m *AuthRes) Name() string { return "AuthRes" }

// Raw returns the bytes m was decoded from.
func (m *AuthRes) Raw() []byte { return m.raw }

func (m *AuthRes) add(b *cryptobyte.Builder) {
	var baggage func(*cryptobyte.Builder)
	if m.AuthResBaggage != nil {
		baggage = m.AuthResBaggage.add
	}
	addEncB(b, "AuthRes", m.AuthResTBE, "authResTBE", baggage)
}

func (m *AuthRes) read(s *cryptobyte.String) (err error) {
	m.AuthResTBE, m.raw, err = readEncB(s, "AuthRes", "authResTBE", "authResBaggage", true, func(s *cryptobyte.String) error {
		m.AuthResBaggage = new(AuthResBaggage)
		return m.AuthResBaggage.read(s)
	})
	return err
}

// Marshal returns the DER encoding of m.
func (m *AuthRes) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalAuthRes decodes an AuthRes, rejecting trailing bytes.
func UnmarshalAuthRes(b []byte) (*AuthRes, error) { return unmarshalNew[AuthRes](b, "AuthRes") }

// AuthResTBS is the content the gateway signs inside the AuthRes envelope
// (content type setct-AuthResTBS):
//
//	AuthResTBS ::= L{AuthResData, AuthResBaggage}
//	           = SEQUENCE { authResData AuthResData, hAuthResBaggage DD{AuthResBaggage} OPTIONAL }
type AuthResTBS struct {
	AuthResData     AuthResData
	HAuthResBaggage []byte // optional DigestedData ContentInfo DER; nil when absent

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *AuthResTBS) Raw() []byte { return t.raw }

func (t *AuthResTBS) add(b *cryptobyte.Builder) {
	addLinkage(b, "AuthResTBS", t.AuthResData.add, t.HAuthResBaggage, "hAuthResBaggage", true)
}

func (t *AuthResTBS) read(s *cryptobyte.String) (err error) {
	t.HAuthResBaggage, t.raw, err = readLinkage(s, "AuthResTBS", "authResData", t.AuthResData.read, "hAuthResBaggage", true)
	return err
}

// Marshal returns the DER encoding of t.
func (t *AuthResTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalAuthResTBS decodes an AuthResTBS, rejecting trailing bytes.
func UnmarshalAuthResTBS(b []byte) (*AuthResTBS, error) {
	return unmarshalNew[AuthResTBS](b, "AuthResTBS")
}

// AuthResData is the gateway's answer:
//
//	AuthResData ::= SEQUENCE {
//	  authTags           AuthTags,
//	  brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL,  -- opaque DER
//	  peThumb            [1] EXPLICIT CertThumb OPTIONAL,
//	  authResPayload     AuthResPayload,
//	  merchantThumb      [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 2
//	  hAuthReq           [11] OCTET STRING OPTIONAL }       -- setpay deviation 2
type AuthResData struct {
	AuthTags           AuthTags
	BrandCRLIdentifier []byte     // optional: DER of one element, kept opaque
	PEThumb            *CertThumb // optional
	AuthResPayload     AuthResPayload
	MerchantThumb      *CertThumb // optional: the merchant signature certificate answered
	HAuthReq           []byte     // optional: digest of the AuthReqTBS answered (1..64 octets)

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *AuthResData) Raw() []byte { return d.raw }

// maxDigestLen bounds hash-valued OCTET STRINGs (SHA-512 is the longest we
// foresee).
const maxDigestLen = 64

func (d *AuthResData) add(b *cryptobyte.Builder) {
	const typ = "AuthResData"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		d.AuthTags.add(b)
		addOpaqueExplicit(b, 0, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalCertThumb(b, 1, d.PEThumb)
		d.AuthResPayload.add(b)
		addOptionalCertThumb(b, 10, d.MerchantThumb)
		addOptionalOctets(b, der.Implicit(11), d.HAuthReq, typ, "hAuthReq", 1, maxDigestLen)
	})
}

func (d *AuthResData) read(s *cryptobyte.String) error {
	const typ = "AuthResData"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	d.raw = e.Raw
	in := cryptobyte.String(e.Contents)
	if err := d.AuthTags.read(&in); err != nil {
		return der.Wrap(typ, "authTags", err)
	}
	if d.BrandCRLIdentifier, err = readOpaqueExplicit(&in, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if d.PEThumb, err = readOptionalCertThumb(&in, 1, typ, "peThumb"); err != nil {
		return err
	}
	if err := d.AuthResPayload.read(&in); err != nil {
		return der.Wrap(typ, "authResPayload", err)
	}
	if d.MerchantThumb, err = readOptionalCertThumb(&in, 10, typ, "merchantThumb"); err != nil {
		return err
	}
	if d.HAuthReq, err = readOptionalOctets(&in, der.Implicit(11), typ, "hAuthReq", 1, maxDigestLen); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// Marshal returns the DER encoding of d.
func (d *AuthResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalAuthResData decodes an AuthResData, rejecting trailing bytes.
func UnmarshalAuthResData(b []byte) (*AuthResData, error) {
	return unmarshalNew[AuthResData](b, "AuthResData")
}

// AuthResPayload is the outcome of one authorization:
//
//	AuthResPayload ::= SEQUENCE {
//	  authHeader    AuthHeader,
//	  capResPayload [0] CapResPayload OPTIONAL,  -- present when captured at once
//	  aRsExtensions [1] MsgExtensions OPTIONAL }
type AuthResPayload struct {
	AuthHeader    AuthHeader
	CapResPayload *CapResPayload // optional
	ARsExtensions MsgExtensions  // optional: empty when absent
}

func (p *AuthResPayload) add(b *cryptobyte.Builder) { p.addAs(b, der.TagSequence) }

func (p *AuthResPayload) addAs(b *cryptobyte.Builder, t der.Tag) {
	der.AddElement(b, t, func(b *cryptobyte.Builder) {
		p.AuthHeader.add(b)
		if p.CapResPayload != nil {
			p.CapResPayload.addAs(b, der.Explicit(0))
		}
		addOptionalExtensions(b, 1, p.ARsExtensions)
	})
}

func (p *AuthResPayload) read(s *cryptobyte.String) error { return p.readAs(s, der.TagSequence) }

func (p *AuthResPayload) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "AuthResPayload"
	e, err := readAs(s, t, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if err := p.AuthHeader.read(&in); err != nil {
		return der.Wrap(typ, "authHeader", err)
	}
	if nextIs(in, der.Explicit(0)) {
		p.CapResPayload = new(CapResPayload)
		if err := p.CapResPayload.readAs(&in, der.Explicit(0)); err != nil {
			return der.Wrap(typ, "capResPayload", err)
		}
	}
	if p.ARsExtensions, err = readOptionalExtensions(&in, 1, typ, "aRsExtensions"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// AuthHeader is the authorization decision:
//
//	AuthHeader ::= SEQUENCE {
//	  authAmt      CurrencyAmount,
//	  authCode     AuthCode,
//	  responseData ResponseData,
//	  batchStatus  [0] OPTIONAL,   -- opaque
//	  currConv     [1] OPTIONAL }  -- opaque
type AuthHeader struct {
	AuthAmt      CurrencyAmount
	AuthCode     AuthCode
	ResponseData ResponseData
	BatchStatus  []byte // optional, opaque
	CurrConv     []byte // optional, opaque
}

func (h *AuthHeader) add(b *cryptobyte.Builder) {
	const typ = "AuthHeader"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		h.AuthAmt.add(b)
		if !h.AuthCode.Valid() {
			b.SetError(der.Errorf(typ, "authCode", "value %d: %w", int(h.AuthCode), der.ErrInvalid))
			return
		}
		b.AddBytes(der.Encode(der.TagEnumerated, appendInt64(int64(h.AuthCode))))
		h.ResponseData.add(b)
		addOpaqueOctets(b, 0, h.BatchStatus, typ, "batchStatus")
		addOpaqueOctets(b, 1, h.CurrConv, typ, "currConv")
	})
}

func (h *AuthHeader) read(s *cryptobyte.String) error {
	const typ = "AuthHeader"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if err := h.AuthAmt.read(&in); err != nil {
		return der.Wrap(typ, "authAmt", err)
	}
	v, err := readIntRange(&in, der.TagEnumerated, typ, "authCode", 0, int64(len(authCodeNames)-1))
	if err != nil {
		return err
	}
	h.AuthCode = AuthCode(v)
	if err := h.ResponseData.read(&in); err != nil {
		return der.Wrap(typ, "responseData", err)
	}
	if h.BatchStatus, err = readOpaqueOctets(&in, 0, typ, "batchStatus"); err != nil {
		return err
	}
	if h.CurrConv, err = readOpaqueOctets(&in, 1, typ, "currConv"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// AuthCode is the authorization outcome (reconstructed ENUMERATED).
type AuthCode int

const (
	AuthApproved               AuthCode = 0
	AuthUnspecifiedFailure     AuthCode = 1
	AuthDeclined               AuthCode = 2
	AuthNoReply                AuthCode = 3
	AuthCallIssuer             AuthCode = 4
	AuthAmountError            AuthCode = 5
	AuthExpiredCard            AuthCode = 6
	AuthInvalidTransaction     AuthCode = 7
	AuthSystemError            AuthCode = 8
	AuthPIPreviouslyUsed       AuthCode = 9
	AuthRecurringTooSoon       AuthCode = 10
	AuthRecurringExpired       AuthCode = 11
	AuthPIAuthMismatch         AuthCode = 12
	AuthInstallRecurMismatch   AuthCode = 13
	AuthCaptureNotSupported    AuthCode = 14
	AuthSignatureRequired      AuthCode = 15
	AuthCardMerchBrandMismatch AuthCode = 16
)

var authCodeNames = [...]string{
	"approved", "unspecifiedFailure", "declined", "noReply", "callIssuer",
	"amountError", "expiredCard", "invalidTransaction", "systemError",
	"piPreviouslyUsed", "recurringTooSoon", "recurringExpired", "piAuthMismatch",
	"installRecurMismatch", "captureNotSupported", "signatureRequired",
	"cardMerchBrandMismatch",
}

// Valid reports whether c is a defined AuthCode.
func (c AuthCode) Valid() bool { return c >= 0 && int(c) < len(authCodeNames) }

func (c AuthCode) String() string {
	if c.Valid() {
		return authCodeNames[c]
	}
	return fmt.Sprintf("AuthCode(%d)", int(c))
}

// ResponseData holds the issuer's supplementary response fields:
//
//	ResponseData ::= SEQUENCE {
//	  authValCodes [0] AuthValCodes OPTIONAL,
//	  respReason   [1] ENUMERATED OPTIONAL,
//	  cardType     [2] ENUMERATED OPTIONAL,
//	  avsResult    [3] ENUMERATED OPTIONAL,
//	  logRefID     [4] OCTET STRING OPTIONAL }
type ResponseData struct {
	AuthValCodes *AuthValCodes // optional
	RespReason   *int          // optional ENUMERATED, 0..MaxEnumValue
	CardType     *int          // optional ENUMERATED, 0..MaxEnumValue
	AVSResult    *int          // optional ENUMERATED, 0..MaxEnumValue
	LogRefID     []byte        // optional, 1..maxLogRefID octets
}

// maxLogRefID bounds ResponseData.logRefID (reconstructed; the spec's
// bound is not public).
const maxLogRefID = 32

func (r *ResponseData) add(b *cryptobyte.Builder) {
	const typ = "ResponseData"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		if r.AuthValCodes != nil {
			r.AuthValCodes.addAs(b, der.Explicit(0))
		}
		addOptionalEnum(b, 1, r.RespReason, typ, "respReason")
		addOptionalEnum(b, 2, r.CardType, typ, "cardType")
		addOptionalEnum(b, 3, r.AVSResult, typ, "avsResult")
		addOptionalOctets(b, der.Implicit(4), r.LogRefID, typ, "logRefID", 1, maxLogRefID)
	})
}

func (r *ResponseData) read(s *cryptobyte.String) error {
	const typ = "ResponseData"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if nextIs(in, der.Explicit(0)) {
		r.AuthValCodes = new(AuthValCodes)
		if err := r.AuthValCodes.readAs(&in, der.Explicit(0)); err != nil {
			return der.Wrap(typ, "authValCodes", err)
		}
	}
	if r.RespReason, err = readOptionalEnum(&in, 1, typ, "respReason"); err != nil {
		return err
	}
	if r.CardType, err = readOptionalEnum(&in, 2, typ, "cardType"); err != nil {
		return err
	}
	if r.AVSResult, err = readOptionalEnum(&in, 3, typ, "avsResult"); err != nil {
		return err
	}
	if r.LogRefID, err = readOptionalOctets(&in, der.Implicit(4), typ, "logRefID", 1, maxLogRefID); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// AuthValCodes are the issuer's validation codes (reduced reconstruction):
//
//	AuthValCodes ::= SEQUENCE {
//	  approvalCode [0] VisibleString (SIZE(6)) OPTIONAL,
//	  avsResult    [1] ENUMERATED OPTIONAL }
type AuthValCodes struct {
	ApprovalCode string // optional: "" when absent
	AVSResult    *int   // optional ENUMERATED, 0..MaxEnumValue
}

func (a *AuthValCodes) addAs(b *cryptobyte.Builder, t der.Tag) {
	const typ = "AuthValCodes"
	der.AddElement(b, t, func(b *cryptobyte.Builder) {
		if a.ApprovalCode != "" {
			addVisibleString(b, der.Implicit(0), a.ApprovalCode, typ, "approvalCode", 6, 6)
		}
		addOptionalEnum(b, 1, a.AVSResult, typ, "avsResult")
	})
}

func (a *AuthValCodes) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "AuthValCodes"
	e, err := readAs(s, t, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if nextIs(in, der.Implicit(0)) {
		if a.ApprovalCode, err = readVisibleStringAs(&in, der.Implicit(0), typ, "approvalCode", 6, 6); err != nil {
			return err
		}
	}
	if a.AVSResult, err = readOptionalEnum(&in, 1, typ, "avsResult"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// AuthResBaggage is what the gateway hands the merchant for later:
//
//	AuthResBaggage ::= SEQUENCE {
//	  capToken   [0] EXPLICIT CapToken OPTIONAL,      -- opaque ContentInfo
//	  acqCardMsg [1] EXPLICIT OCTET STRING OPTIONAL,  -- opaque
//	  authToken  [2] EXPLICIT AuthToken OPTIONAL }    -- opaque ContentInfo
type AuthResBaggage struct {
	CapToken   []byte // optional ContentInfo DER
	AcqCardMsg []byte // optional, opaque
	AuthToken  []byte // optional ContentInfo DER

	raw []byte
}

// Raw returns the bytes g was decoded from.
func (g *AuthResBaggage) Raw() []byte { return g.raw }

func (g *AuthResBaggage) add(b *cryptobyte.Builder) {
	const typ = "AuthResBaggage"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		addOptionalExplicitContentInfo(b, 0, g.CapToken, typ, "capToken")
		addOptionalExplicitOctets(b, 1, g.AcqCardMsg, typ, "acqCardMsg", 1)
		addOptionalExplicitContentInfo(b, 2, g.AuthToken, typ, "authToken")
	})
}

func (g *AuthResBaggage) read(s *cryptobyte.String) error {
	const typ = "AuthResBaggage"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	g.raw = e.Raw
	in := cryptobyte.String(e.Contents)
	if g.CapToken, err = readOptionalExplicitContentInfo(&in, 0, typ, "capToken"); err != nil {
		return err
	}
	if g.AcqCardMsg, err = readOptionalExplicitOctets(&in, 1, typ, "acqCardMsg", 1); err != nil {
		return err
	}
	if g.AuthToken, err = readOptionalExplicitContentInfo(&in, 2, typ, "authToken"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// Marshal returns the DER encoding of g.
func (g *AuthResBaggage) Marshal() ([]byte, error) { return marshal(g.add) }

// UnmarshalAuthResBaggage decodes an AuthResBaggage, rejecting trailing bytes.
func UnmarshalAuthResBaggage(b []byte) (*AuthResBaggage, error) {
	return unmarshalNew[AuthResBaggage](b, "AuthResBaggage")
}
