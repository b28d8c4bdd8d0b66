package msg

// Purchase inquiry between cardholder and merchant (SetPayMsgs): InqReq and
// InqRes. The cardholder asks for the state of an order after PRes; the
// merchant answers with a PRes-shaped signed status. Reconstructed; see
// docs/spec-gaps.md, "msg: the rest of the payment messages".

import (
	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

func init() {
	registerMessage(TagInqReq, func(b []byte) (Message, error) { return UnmarshalInqReq(b) })
	registerMessage(TagInqRes, func(b []byte) (Message, error) { return UnmarshalInqRes(b) })
}

// InqReq is the cardholder's inquiry, signed when the cardholder has a
// signature certificate:
//
//	InqReq ::= CHOICE {
//	  inqReqSigned   [0] EXPLICIT S{C, InqReqData},  -- SignedData ContentInfo
//	  inqReqUnsigned [1] EXPLICIT InqReqData }
//
// Exactly one field is set.
type InqReq struct {
	InqReqSigned   []byte      // ContentInfo DER of the cardholder's SignedData
	InqReqUnsigned *InqReqData // the bare request

	raw []byte
}

// Tag returns the InqReq alternative's Message CHOICE tag.
func (m *InqReq) Tag() uint32 { return TagInqReq }

// Name returns "InqReq".
func (m *InqReq) Name() string { return "InqReq" }

// Raw returns the bytes m was decoded from.
func (m *InqReq) Raw() []byte { return m.raw }

func (m *InqReq) add(b *cryptobyte.Builder) {
	const typ = "InqReq"
	switch {
	case m.InqReqSigned != nil && m.InqReqUnsigned == nil:
		addExplicit(b, 0, func(b *cryptobyte.Builder) { addContentInfoDER(b, m.InqReqSigned, typ, "inqReqSigned") })
	case m.InqReqSigned == nil && m.InqReqUnsigned != nil:
		addExplicit(b, 1, m.InqReqUnsigned.add)
	default:
		failf(b, typ, "", "exactly one of inqReqSigned and inqReqUnsigned must be set")
	}
}

func (m *InqReq) read(s *cryptobyte.String) error {
	const typ = "InqReq"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	out := InqReq{raw: el.Raw}
	inner := cryptobyte.String(el.Contents)
	switch el.Tag {
	case der.Explicit(0):
		if out.InqReqSigned, err = readContentInfoDER(&inner, typ, "inqReqSigned"); err != nil {
			return err
		}
	case der.Explicit(1):
		out.InqReqUnsigned = new(InqReqData)
		if err := out.InqReqUnsigned.read(&inner); err != nil {
			return der.Wrap(typ, "inqReqUnsigned", err)
		}
	default:
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	if err := expectEnd(inner, typ, ""); err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER encoding of m.
func (m *InqReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalInqReq decodes an InqReq, rejecting trailing bytes.
func UnmarshalInqReq(b []byte) (*InqReq, error) { return unmarshalNew[InqReq](b, "InqReq") }

// InqReqData names the purchase asked about (SETREF:
// inqReqData.{transIDs, rrpid, chall_C2}):
//
//	InqReqData ::= SEQUENCE {
//	  transIDs        TransIDs,
//	  rrpid           RRPID,
//	  chall-C2        Challenge,   -- fresh: the answer must echo it
//	  inqRqExtensions [0] MsgExtensions OPTIONAL }
type InqReqData struct {
	TransIDs        TransIDs
	RRPID           RRPID
	ChallC2         Challenge
	InqRqExtensions MsgExtensions // optional: empty when absent

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *InqReqData) Raw() []byte { return d.raw }

func (d *InqReqData) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		d.TransIDs.add(b)
		d.RRPID.add(b)
		d.ChallC2.add(b)
		addOptionalExtensions(b, 0, d.InqRqExtensions)
	})
}

func (d *InqReqData) read(s *cryptobyte.String) error {
	const typ = "InqReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := InqReqData{raw: raw}
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if err := out.ChallC2.read(&seq); err != nil {
		return der.Wrap(typ, "chall-C2", err)
	}
	if out.InqRqExtensions, err = readOptionalExtensions(&seq, 0, typ, "inqRqExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *InqReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalInqReqData decodes an InqReqData, rejecting trailing bytes.
func UnmarshalInqReqData(b []byte) (*InqReqData, error) {
	return unmarshalNew[InqReqData](b, "InqReqData")
}

// InqRes ::= S{M, PResData}: the merchant's SignedData over a PResData
// (content type setct-PResData) whose chall-C echoes the inquiry's
// chall-C2, as ContentInfo DER. It has PRes's shape; only the Message tag
// differs.
type InqRes struct {
	SignedData []byte
}

// Tag returns the InqRes alternative's Message CHOICE tag.
func (m *InqRes) Tag() uint32 { return TagInqRes }

// Name returns "InqRes".
func (m *InqRes) Name() string { return "InqRes" }

// Raw returns the ContentInfo DER.
func (m *InqRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *InqRes) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "InqRes") }

// UnmarshalInqRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalInqRes(b []byte) (*InqRes, error) {
	ci, err := unmarshalContentInfo(b, "InqRes")
	if err != nil {
		return nil, err
	}
	return &InqRes{SignedData: ci}, nil
}
