package msg

// Credit messages between merchant and payment gateway (SetPayMsgs):
// CredReq/CredRes return money on a captured sale, CredRevReq/CredRevRes
// undo a credit. Their bodies are CapRevOrCredReqData and
// CapRevOrCredResData (reversal.go). Reconstructed; see docs/spec-gaps.md,
// "msg: the rest of the payment messages".

import (
	"golang.org/x/crypto/cryptobyte"
)

func init() {
	registerMessage(TagCredReq, func(b []byte) (Message, error) { return UnmarshalCredReq(b) })
	registerMessage(TagCredRes, func(b []byte) (Message, error) { return UnmarshalCredRes(b) })
	registerMessage(TagCredRevReq, func(b []byte) (Message, error) { return UnmarshalCredRevReq(b) })
	registerMessage(TagCredRevRes, func(b []byte) (Message, error) { return UnmarshalCredRevRes(b) })
}

// CredReq is the merchant's credit request:
//
//	CredReq ::= < EncB{M, P, CredReqData, CapTokenSeq}, EncBX{M, P, CredReqData, CapTokenSeq, PANToken} >
//	        = SEQUENCE { credReqTBE ContentInfo, capTokenSeq CapTokenSeq OPTIONAL }
//
// CredReqData is a CapRevOrCredReqData whose capRevOrCredReqAmt is the
// amount to credit.
type CredReq struct {
	CredReqTBE  []byte       // ContentInfo DER (setct-CredReqTBE or …TBEX)
	CapTokenSeq *CapTokenSeq // optional

	raw []byte
}

// Tag returns the CredReq alternative's Message CHOICE tag.
func (m *CredReq) Tag() uint32 { return TagCredReq }

// Name returns "CredReq".
func (m *CredReq) Name() string { return "CredReq" }

// Raw returns the bytes m was decoded from.
func (m *CredReq) Raw() []byte { return m.raw }

// Marshal returns the DER encoding of m.
func (m *CredReq) Marshal() ([]byte, error) {
	return marshal(func(b *cryptobyte.Builder) {
		addCapTokenEncB(b, "CredReq", "credReqTBE", m.CredReqTBE, m.CapTokenSeq)
	})
}

func (m *CredReq) read(s *cryptobyte.String) (err error) {
	m.CredReqTBE, m.CapTokenSeq, m.raw, err = readCapTokenEncB(s, "CredReq", "credReqTBE")
	return err
}

// UnmarshalCredReq decodes a CredReq, rejecting trailing bytes.
func UnmarshalCredReq(b []byte) (*CredReq, error) { return unmarshalNew[CredReq](b, "CredReq") }

// CredRes is the gateway's credit response, Enc{P, M, CredResData}: one
// envelope ContentInfo (setct-CredResTBE) holding the gateway's SignedData
// over a CapRevOrCredResData (setct-CredResData).
type CredRes struct {
	CredResTBE []byte // ContentInfo DER
}

// Tag returns the CredRes alternative's Message CHOICE tag.
func (m *CredRes) Tag() uint32 { return TagCredRes }

// Name returns "CredRes".
func (m *CredRes) Name() string { return "CredRes" }

// Raw returns the ContentInfo DER.
func (m *CredRes) Raw() []byte { return m.CredResTBE }

// Marshal returns the DER encoding of m.
func (m *CredRes) Marshal() ([]byte, error) { return marshalContentInfo(m.CredResTBE, "CredRes") }

// UnmarshalCredRes decodes a CredRes, rejecting trailing bytes.
func UnmarshalCredRes(b []byte) (*CredRes, error) {
	ci, err := unmarshalContentInfo(b, "CredRes")
	if err != nil {
		return nil, err
	}
	return &CredRes{CredResTBE: ci}, nil
}

// CredRevReq is the merchant's credit reversal request:
//
//	CredRevReq ::= < EncB{M, P, CredRevReqData, CapTokenSeq}, EncBX{M, P, CredRevReqData, CapTokenSeq, PANToken} >
//	           = SEQUENCE { credRevReqTBE ContentInfo, capTokenSeq CapTokenSeq OPTIONAL }
//
// CredRevReqData is a CapRevOrCredReqData. With a PANToken there is exactly
// one item.
type CredRevReq struct {
	CredRevReqTBE []byte       // ContentInfo DER (setct-CredRevReqTBE or …TBEX)
	CapTokenSeq   *CapTokenSeq // optional

	raw []byte
}

// Tag returns the CredRevReq alternative's Message CHOICE tag.
func (m *CredRevReq) Tag() uint32 { return TagCredRevReq }

// Name returns "CredRevReq".
func (m *CredRevReq) Name() string { return "CredRevReq" }

// Raw returns the bytes m was decoded from.
func (m *CredRevReq) Raw() []byte { return m.raw }

// Marshal returns the DER encoding of m.
func (m *CredRevReq) Marshal() ([]byte, error) {
	return marshal(func(b *cryptobyte.Builder) {
		addCapTokenEncB(b, "CredRevReq", "credRevReqTBE", m.CredRevReqTBE, m.CapTokenSeq)
	})
}

func (m *CredRevReq) read(s *cryptobyte.String) (err error) {
	m.CredRevReqTBE, m.CapTokenSeq, m.raw, err = readCapTokenEncB(s, "CredRevReq", "credRevReqTBE")
	return err
}

// UnmarshalCredRevReq decodes a CredRevReq, rejecting trailing bytes.
func UnmarshalCredRevReq(b []byte) (*CredRevReq, error) {
	return unmarshalNew[CredRevReq](b, "CredRevReq")
}

// CredRevRes is the gateway's credit reversal response, Enc{P, M,
// CredRevResData}: one envelope ContentInfo (setct-CredRevResTBE) holding
// the gateway's SignedData over a CapRevOrCredResData
// (setct-CredRevResData).
type CredRevRes struct {
	CredRevResTBE []byte // ContentInfo DER
}

// Tag returns the CredRevRes alternative's Message CHOICE tag.
func (m *CredRevRes) Tag() uint32 { return TagCredRevRes }

// Name returns "CredRevRes".
func (m *CredRevRes) Name() string { return "CredRevRes" }

// Raw returns the ContentInfo DER.
func (m *CredRevRes) Raw() []byte { return m.CredRevResTBE }

// Marshal returns the DER encoding of m.
func (m *CredRevRes) Marshal() ([]byte, error) {
	return marshalContentInfo(m.CredRevResTBE, "CredRevRes")
}

// UnmarshalCredRevRes decodes a CredRevRes, rejecting trailing bytes.
func UnmarshalCredRevRes(b []byte) (*CredRevRes, error) {
	ci, err := unmarshalContentInfo(b, "CredRevRes")
	if err != nil {
		return nil, err
	}
	return &CredRevRes{CredRevResTBE: ci}, nil
}
