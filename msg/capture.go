package msg

// Capture messages between merchant and payment gateway (SetPayMsgs): CapReq
// and CapRes with the structures inside their envelopes. Reconstructed; see
// docs/spec-gaps.md, section "msg".

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

func init() {
	registerMessage(TagCapReq, func(b []byte) (Message, error) { return UnmarshalCapReq(b) })
	registerMessage(TagCapRes, func(b []byte) (Message, error) { return UnmarshalCapRes(b) })
}

// CapReq is the merchant's capture request:
//
//	CapReq ::= EncB{M, P, CapReqData, CapTokenSeq}
//	       = SEQUENCE { capReqTBE ContentInfo, capTokenSeq CapTokenSeq OPTIONAL }
type CapReq struct {
	// CapReqTBE is the ContentInfo DER of the envelope (setct-CapReqTBE)
	// holding the merchant's SignedData over CapReqTBS.
	CapReqTBE   []byte
	CapTokenSeq *CapTokenSeq // optional

	raw []byte
}

// Tag returns the CapReq alternative's Message CHOICE tag.
func (m *CapReq) Tag() uint32 { return TagCapReq }

// Name returns "CapReq".
func (m *CapReq) Name() string { return "CapReq" }

// Raw returns the bytes m was decoded from.
func (m *CapReq) Raw() []byte { return m.raw }

func (m *CapReq) add(b *cryptobyte.Builder) {
	var baggage func(*cryptobyte.Builder)
	if m.CapTokenSeq != nil {
		baggage = m.CapTokenSeq.add
	}
	addEncB(b, "CapReq", m.CapReqTBE, "capReqTBE", baggage)
}

func (m *CapReq) read(s *cryptobyte.String) (err error) {
	m.CapReqTBE, m.raw, err = readEncB(s, "CapReq", "capReqTBE", "capTokenSeq", true, func(s *cryptobyte.String) error {
		m.CapTokenSeq = new(CapTokenSeq)
		return m.CapTokenSeq.read(s)
	})
	return err
}

// Marshal returns the DER encoding of m.
func (m *CapReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalCapReq decodes a CapReq, rejecting trailing bytes.
func UnmarshalCapReq(b []byte) (*CapReq, error) { return unmarshalNew[CapReq](b, "CapReq") }

// CapReqTBS is the content the merchant signs inside the CapReq envelope
// (content type setct-CapReqTBS):
//
//	CapReqTBS ::= L{CapReqData, CapTokenSeq}
//	          = SEQUENCE { capReqData CapReqData, hCapTokenSeq DD{CapTokenSeq} OPTIONAL }
type CapReqTBS struct {
	CapReqData   CapReqData
	HCapTokenSeq []byte // optional DigestedData ContentInfo DER; nil when absent

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *CapReqTBS) Raw() []byte { return t.raw }

func (t *CapReqTBS) add(b *cryptobyte.Builder) {
	addLinkage(b, "CapReqTBS", t.CapReqData.add, t.HCapTokenSeq, "hCapTokenSeq", true)
}

func (t *CapReqTBS) read(s *cryptobyte.String) (err error) {
	t.HCapTokenSeq, t.raw, err = readLinkage(s, "CapReqTBS", "capReqData", t.CapReqData.read, "hCapTokenSeq", true)
	return err
}

// Marshal returns the DER encoding of t.
func (t *CapReqTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalCapReqTBS decodes a CapReqTBS, rejecting trailing bytes.
func UnmarshalCapReqTBS(b []byte) (*CapReqTBS, error) { return unmarshalNew[CapReqTBS](b, "CapReqTBS") }

// CapReqData lists the authorizations the merchant wants captured:
//
//	CapReqData ::= SEQUENCE {
//	  capRRTags          RRTags,
//	  mThumbs            [0] EXPLICIT Thumbs OPTIONAL,
//	  capItemSeq         SEQUENCE SIZE(1..MAX) OF CapItem,
//	  cRReqResPayloadSeq [1] OPTIONAL,                   -- opaque
//	  cRqExtensions      [2] MsgExtensions OPTIONAL,
//	  pgThumb            [10] EXPLICIT CertThumb OPTIONAL, -- setpay deviation 1
//	  expiry             [11] GeneralizedTime OPTIONAL }   -- setpay deviation 3
type CapReqData struct {
	CapRRTags          RRTags
	MThumbs            *Thumbs // optional
	CapItemSeq         []CapItem
	CRReqResPayloadSeq []byte        // optional, opaque
	CRqExtensions      MsgExtensions // optional: empty when absent
	PGThumb            *CertThumb    // optional
	Expiry             time.Time     // optional: zero when absent

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CapReqData) Raw() []byte { return d.raw }

func (d *CapReqData) add(b *cryptobyte.Builder) {
	const typ = "CapReqData"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		d.CapRRTags.add(b)
		addOptionalThumbs(b, 0, d.MThumbs)
		if len(d.CapItemSeq) == 0 {
			b.SetError(der.Errorf(typ, "capItemSeq", "empty: %w", der.ErrInvalid))
			return
		}
		der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
			for i := range d.CapItemSeq {
				d.CapItemSeq[i].add(b)
			}
		})
		addOpaqueOctets(b, 1, d.CRReqResPayloadSeq, typ, "cRReqResPayloadSeq")
		addOptionalExtensions(b, 2, d.CRqExtensions)
		addOptionalCertThumb(b, 10, d.PGThumb)
		addOptionalDate(b, 11, d.Expiry)
	})
}

func (d *CapReqData) read(s *cryptobyte.String) error {
	const typ = "CapReqData"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	d.raw = e.Raw
	in := cryptobyte.String(e.Contents)
	if err := d.CapRRTags.read(&in); err != nil {
		return der.Wrap(typ, "capRRTags", err)
	}
	if d.MThumbs, err = readOptionalThumbs(&in, 0, typ, "mThumbs"); err != nil {
		return err
	}
	if d.CapItemSeq, err = readSequenceOf[CapItem](&in, typ, "capItemSeq"); err != nil {
		return err
	}
	if len(d.CapItemSeq) == 0 {
		return der.Errorf(typ, "capItemSeq", "empty: %w", der.ErrInvalid)
	}
	if d.CRReqResPayloadSeq, err = readOpaqueOctets(&in, 1, typ, "cRReqResPayloadSeq"); err != nil {
		return err
	}
	if d.CRqExtensions, err = readOptionalExtensions(&in, 2, typ, "cRqExtensions"); err != nil {
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
func (d *CapReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCapReqData decodes a CapReqData, rejecting trailing bytes.
func UnmarshalCapReqData(b []byte) (*CapReqData, error) {
	return unmarshalNew[CapReqData](b, "CapReqData")
}

// CapItem asks for one authorization to be captured:
//
//	CapItem ::= SEQUENCE {
//	  transIDs        TransIDs,
//	  authRRPID       RRPID,
//	  capPayload      CapPayload,
//	  cItemExtensions [0] MsgExtensions OPTIONAL }
type CapItem struct {
	TransIDs        TransIDs
	AuthRRPID       RRPID
	CapPayload      CapPayload
	CItemExtensions MsgExtensions // optional: empty when absent
}

func (c *CapItem) add(b *cryptobyte.Builder) {
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		c.TransIDs.add(b)
		c.AuthRRPID.add(b)
		c.CapPayload.add(b)
		addOptionalExtensions(b, 0, c.CItemExtensions)
	})
}

func (c *CapItem) read(s *cryptobyte.String) error {
	const typ = "CapItem"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if err := c.TransIDs.read(&in); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := c.AuthRRPID.read(&in); err != nil {
		return der.Wrap(typ, "authRRPID", err)
	}
	if err := c.CapPayload.read(&in); err != nil {
		return der.Wrap(typ, "capPayload", err)
	}
	if c.CItemExtensions, err = readOptionalExtensions(&in, 0, typ, "cItemExtensions"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// CapPayload is the amount to capture and, for a capture without prior
// state at the gateway, the authorization it settles:
//
//	CapPayload ::= SEQUENCE {
//	  capDate        Date,
//	  capReqAmt      CurrencyAmount,
//	  authReqItem    [0] AuthReqItem OPTIONAL,
//	  authResPayload [1] AuthResPayload OPTIONAL,
//	  saleDetail     [2] OPTIONAL,                 -- opaque
//	  cPayExtensions [3] MsgExtensions OPTIONAL }
type CapPayload struct {
	CapDate        time.Time
	CapReqAmt      CurrencyAmount
	AuthReqItem    *AuthReqItem    // optional
	AuthResPayload *AuthResPayload // optional
	SaleDetail     []byte          // optional, opaque
	CPayExtensions MsgExtensions   // optional: empty when absent
}

func (p *CapPayload) add(b *cryptobyte.Builder) {
	const typ = "CapPayload"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		addDate(b, p.CapDate)
		p.CapReqAmt.add(b)
		if p.AuthReqItem != nil {
			p.AuthReqItem.addAs(b, der.Explicit(0))
		}
		if p.AuthResPayload != nil {
			p.AuthResPayload.addAs(b, der.Explicit(1))
		}
		addOpaqueOctets(b, 2, p.SaleDetail, typ, "saleDetail")
		addOptionalExtensions(b, 3, p.CPayExtensions)
	})
}

func (p *CapPayload) read(s *cryptobyte.String) error {
	const typ = "CapPayload"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if p.CapDate, err = readDate(&in, typ, "capDate"); err != nil {
		return err
	}
	if err := p.CapReqAmt.read(&in); err != nil {
		return der.Wrap(typ, "capReqAmt", err)
	}
	if nextIs(in, der.Explicit(0)) {
		p.AuthReqItem = new(AuthReqItem)
		if err := p.AuthReqItem.readAs(&in, der.Explicit(0)); err != nil {
			return der.Wrap(typ, "authReqItem", err)
		}
	}
	if nextIs(in, der.Explicit(1)) {
		p.AuthResPayload = new(AuthResPayload)
		if err := p.AuthResPayload.readAs(&in, der.Explicit(1)); err != nil {
			return der.Wrap(typ, "authResPayload", err)
		}
	}
	if p.SaleDetail, err = readOpaqueOctets(&in, 2, typ, "saleDetail"); err != nil {
		return err
	}
	if p.CPayExtensions, err = readOptionalExtensions(&in, 3, typ, "cPayExtensions"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// CapTokenSeq carries, per CapItem, the gateway's CapToken or NULL:
//
//	CapTokenSeq ::= SEQUENCE SIZE(1..MAX) OF CapTokenOrNull
//	CapTokenOrNull ::= CHOICE { capToken CapToken, null NULL }
type CapTokenSeq struct {
	// Tokens holds each CapToken's ContentInfo DER; a nil entry is NULL.
	Tokens [][]byte

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *CapTokenSeq) Raw() []byte { return t.raw }

func (t *CapTokenSeq) add(b *cryptobyte.Builder) {
	const typ = "CapTokenSeq"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		if len(t.Tokens) == 0 {
			b.SetError(der.Errorf(typ, "", "empty: %w", der.ErrInvalid))
			return
		}
		for i, tok := range t.Tokens {
			if tok == nil {
				b.AddBytes([]byte{0x05, 0x00})
				continue
			}
			addContentInfoDER(b, tok, typ, fmt.Sprintf("[%d]", i))
		}
	})
}

func (t *CapTokenSeq) read(s *cryptobyte.String) error {
	const typ = "CapTokenSeq"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	t.raw = e.Raw
	in := cryptobyte.String(e.Contents)
	for len(in) > 0 {
		field := fmt.Sprintf("[%d]", len(t.Tokens))
		if nextIs(in, der.TagNull) {
			f, _ := der.ReadElement(&in)
			if len(f.Contents) != 0 {
				return der.Errorf(typ, field, "NULL with contents: %w", der.ErrInvalid)
			}
			t.Tokens = append(t.Tokens, nil)
			continue
		}
		tok, err := readContentInfoDER(&in, typ, field)
		if err != nil {
			return err
		}
		t.Tokens = append(t.Tokens, tok)
	}
	if len(t.Tokens) == 0 {
		return der.Errorf(typ, "", "empty: %w", der.ErrInvalid)
	}
	return nil
}

// Marshal returns the DER encoding of t.
func (t *CapTokenSeq) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalCapTokenSeq decodes a CapTokenSeq, rejecting trailing bytes.
func UnmarshalCapTokenSeq(b []byte) (*CapTokenSeq, error) {
	return unmarshalNew[CapTokenSeq](b, "CapTokenSeq")
}

// CapRes is the gateway's capture response, Enc{P, M, CapResData}: one
// envelope ContentInfo (setct-CapResTBE) holding the gateway's SignedData
// over CapResData. msg only carries it; encap opens it.
type CapRes struct {
	CapResTBE []byte // ContentInfo DER

	raw []byte
}

// Tag returns the CapRes alternative's Message CHOICE tag.
func (m *CapRes) Tag() uint32 { return TagCapRes }

// Name returns "CapRes".
func (m *CapRes) Name() string { return "CapRes" }

// Raw returns the bytes m was decoded from.
func (m *CapRes) Raw() []byte { return m.raw }

// Marshal returns the DER encoding of m.
func (m *CapRes) Marshal() ([]byte, error) { return marshalContentInfo(m.CapResTBE, "CapRes") }

// UnmarshalCapRes decodes a CapRes, rejecting trailing bytes.
func UnmarshalCapRes(b []byte) (*CapRes, error) {
	ci, err := unmarshalContentInfo(b, "CapRes")
	if err != nil {
		return nil, err
	}
	return &CapRes{CapResTBE: ci, raw: ci}, nil
}

// CapResData is the gateway's signed capture result:
//
//	CapResData ::= SEQUENCE {
//	  capRRTags          RRTags,
//	  brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL,  -- opaque DER
//	  peThumb            [1] EXPLICIT CertThumb OPTIONAL,
//	  batchStatusSeq     [2] OPTIONAL,                              -- opaque
//	  capResItemSeq      SEQUENCE OF CapResItem,
//	  cRsExtensions      [3] MsgExtensions OPTIONAL,
//	  merchantThumb      [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 2
//	  hCapReq            [11] OCTET STRING OPTIONAL }       -- setpay deviation 2
type CapResData struct {
	CapRRTags          RRTags
	BrandCRLIdentifier []byte     // optional: DER of one element, kept opaque
	PEThumb            *CertThumb // optional
	BatchStatusSeq     []byte     // optional, opaque
	CapResItemSeq      []CapResItem
	CRsExtensions      MsgExtensions // optional: empty when absent
	MerchantThumb      *CertThumb    // optional: the merchant signature certificate answered
	HCapReq            []byte        // optional: digest of the CapReqTBS answered (1..64 octets)

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CapResData) Raw() []byte { return d.raw }

func (d *CapResData) add(b *cryptobyte.Builder) {
	const typ = "CapResData"
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		d.CapRRTags.add(b)
		addOpaqueExplicit(b, 0, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalCertThumb(b, 1, d.PEThumb)
		addOpaqueOctets(b, 2, d.BatchStatusSeq, typ, "batchStatusSeq")
		der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
			for i := range d.CapResItemSeq {
				d.CapResItemSeq[i].add(b)
			}
		})
		addOptionalExtensions(b, 3, d.CRsExtensions)
		addOptionalCertThumb(b, 10, d.MerchantThumb)
		addOptionalOctets(b, der.Implicit(11), d.HCapReq, typ, "hCapReq", 1, maxDigestLen)
	})
}

func (d *CapResData) read(s *cryptobyte.String) error {
	const typ = "CapResData"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	d.raw = e.Raw
	in := cryptobyte.String(e.Contents)
	if err := d.CapRRTags.read(&in); err != nil {
		return der.Wrap(typ, "capRRTags", err)
	}
	if d.BrandCRLIdentifier, err = readOpaqueExplicit(&in, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if d.PEThumb, err = readOptionalCertThumb(&in, 1, typ, "peThumb"); err != nil {
		return err
	}
	if d.BatchStatusSeq, err = readOpaqueOctets(&in, 2, typ, "batchStatusSeq"); err != nil {
		return err
	}
	if d.CapResItemSeq, err = readSequenceOf[CapResItem](&in, typ, "capResItemSeq"); err != nil {
		return err
	}
	if d.CRsExtensions, err = readOptionalExtensions(&in, 3, typ, "cRsExtensions"); err != nil {
		return err
	}
	if d.MerchantThumb, err = readOptionalCertThumb(&in, 10, typ, "merchantThumb"); err != nil {
		return err
	}
	if d.HCapReq, err = readOptionalOctets(&in, der.Implicit(11), typ, "hCapReq", 1, maxDigestLen); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// Marshal returns the DER encoding of d.
func (d *CapResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCapResData decodes a CapResData, rejecting trailing bytes.
func UnmarshalCapResData(b []byte) (*CapResData, error) {
	return unmarshalNew[CapResData](b, "CapResData")
}

// CapResItem is the result for one CapItem:
//
//	CapResItem ::= SEQUENCE { transIDs TransIDs, authRRPID RRPID, capResPayload CapResPayload }
type CapResItem struct {
	TransIDs      TransIDs
	AuthRRPID     RRPID
	CapResPayload CapResPayload
}

func (c *CapResItem) add(b *cryptobyte.Builder) {
	der.AddElement(b, der.TagSequence, func(b *cryptobyte.Builder) {
		c.TransIDs.add(b)
		c.AuthRRPID.add(b)
		c.CapResPayload.add(b)
	})
}

func (c *CapResItem) read(s *cryptobyte.String) error {
	const typ = "CapResItem"
	e, err := readAs(s, der.TagSequence, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	if err := c.TransIDs.read(&in); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := c.AuthRRPID.read(&in); err != nil {
		return der.Wrap(typ, "authRRPID", err)
	}
	if err := c.CapResPayload.read(&in); err != nil {
		return der.Wrap(typ, "capResPayload", err)
	}
	return expectEnd(in, typ, "")
}

// CapResPayload is the outcome of one capture:
//
//	CapResPayload ::= SEQUENCE {
//	  capCode          CapCode,
//	  capAmt           CurrencyAmount,
//	  batchID          [0] INTEGER OPTIONAL,   -- non-negative
//	  batchSequenceNum [1] INTEGER OPTIONAL,   -- non-negative
//	  cRsPayExtensions [2] MsgExtensions OPTIONAL }
type CapResPayload struct {
	CapCode          CapCode
	CapAmt           CurrencyAmount
	BatchID          *int64        // optional
	BatchSequenceNum *int64        // optional
	CRsPayExtensions MsgExtensions // optional: empty when absent
}

func (p *CapResPayload) add(b *cryptobyte.Builder) { p.addAs(b, der.TagSequence) }

func (p *CapResPayload) addAs(b *cryptobyte.Builder, t der.Tag) {
	const typ = "CapResPayload"
	der.AddElement(b, t, func(b *cryptobyte.Builder) {
		if !p.CapCode.Valid() {
			b.SetError(der.Errorf(typ, "capCode", "value %d: %w", int(p.CapCode), der.ErrInvalid))
			return
		}
		b.AddBytes(der.Encode(der.TagEnumerated, appendInt64(int64(p.CapCode))))
		p.CapAmt.add(b)
		addOptionalInt(b, 0, p.BatchID, 0, typ, "batchID")
		addOptionalInt(b, 1, p.BatchSequenceNum, 0, typ, "batchSequenceNum")
		addOptionalExtensions(b, 2, p.CRsPayExtensions)
	})
}

func (p *CapResPayload) read(s *cryptobyte.String) error { return p.readAs(s, der.TagSequence) }

func (p *CapResPayload) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "CapResPayload"
	e, err := readAs(s, t, typ, "")
	if err != nil {
		return err
	}
	in := cryptobyte.String(e.Contents)
	v, err := readIntRange(&in, der.TagEnumerated, typ, "capCode", 0, int64(len(capCodeNames)-1))
	if err != nil {
		return err
	}
	p.CapCode = CapCode(v)
	if err := p.CapAmt.read(&in); err != nil {
		return der.Wrap(typ, "capAmt", err)
	}
	if p.BatchID, err = readOptionalInt(&in, 0, 0, typ, "batchID"); err != nil {
		return err
	}
	if p.BatchSequenceNum, err = readOptionalInt(&in, 1, 0, typ, "batchSequenceNum"); err != nil {
		return err
	}
	if p.CRsPayExtensions, err = readOptionalExtensions(&in, 2, typ, "cRsPayExtensions"); err != nil {
		return err
	}
	return expectEnd(in, typ, "")
}

// CapCode is the capture outcome (reconstructed ENUMERATED).
type CapCode int

const (
	CapSuccess            CapCode = 0
	CapUnspecifiedFailure CapCode = 1
	CapDuplicateRequest   CapCode = 2
	CapAuthExpired        CapCode = 3
	CapAuthDataMissing    CapCode = 4
	CapInvalidAuthData    CapCode = 5
	CapCapTokenMissing    CapCode = 6
	CapInvalidCapToken    CapCode = 7
	CapBatchUnknown       CapCode = 8
	CapBatchClosed        CapCode = 9
	CapUnknownXID         CapCode = 10
	CapUnknownLID         CapCode = 11
)

var capCodeNames = [...]string{
	"success", "unspecifiedFailure", "duplicateRequest", "authExpired",
	"authDataMissing", "invalidAuthData", "capTokenMissing", "invalidCapToken",
	"batchUnknown", "batchClosed", "unknownXID", "unknownLID",
}

// Valid reports whether c is a defined CapCode.
func (c CapCode) Valid() bool { return c >= 0 && int(c) < len(capCodeNames) }

func (c CapCode) String() string {
	if c.Valid() {
		return capCodeNames[c]
	}
	return fmt.Sprintf("CapCode(%d)", int(c))
}
