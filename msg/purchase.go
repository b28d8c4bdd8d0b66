package msg

// Purchase messages (SetPayMsgs): PInitReq/PInitRes, PReq and everything the
// dual signature covers, PRes. PInitReq, PInitResData, PReq, PReqDualSigned
// and PIDualSigned are verbatim Book 3 ASN.1; the rest is reconstructed (see
// docs/spec-gaps.md, section "msg"). Fields holding PKCS#7 (signatures,
// envelopes, DigestedData "DD{}" digests) are opaque ContentInfo DER.

import (
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// ---- value checks shared by the purchase types ----

// checkPAN: PAN ::= NumericString (SIZE(12..19)); digits only (a space is
// a NumericString character but never part of a card number).
func checkPAN(v, typ string) error {
	if len(v) < 12 || len(v) > 19 || !digitsOK(v) {
		return der.Errorf(typ, "pan", "not 12..19 digits: %w", der.ErrInvalid)
	}
	return nil
}

// checkCardExpiry: CardExpiry ::= NumericString (SIZE(6)), YYYYMM.
func checkCardExpiry(v, typ string) error {
	if len(v) != 6 || !digitsOK(v) || v[4:] < "01" || v[4:] > "12" {
		return der.Errorf(typ, "cardExpiry", "not YYYYMM: %w", der.ErrInvalid)
	}
	return nil
}

// checkBIN: BIN ::= NumericString (SIZE(6)).
func checkBIN(v, typ string) error {
	if len(v) != 6 || !digitsOK(v) {
		return der.Errorf(typ, "bin", "not 6 digits: %w", der.ErrInvalid)
	}
	return nil
}

func readPAN(s *cryptobyte.String, typ string) (string, error) {
	v, err := readNumericString(s, typ, "pan", 12, 19)
	if err != nil {
		// The input may hold the card number: never echo it.
		return "", err
	}
	return v, checkPAN(v, typ)
}

func readCardExpiry(s *cryptobyte.String, typ string) (string, error) {
	v, err := readNumericString(s, typ, "cardExpiry", 6, 6)
	if err != nil {
		return "", err
	}
	return v, checkCardExpiry(v, typ)
}

func readBIN(s *cryptobyte.String, typ string) (string, error) {
	v, err := readNumericString(s, typ, "bin", 6, 6)
	if err != nil {
		return "", err
	}
	return v, checkBIN(v, typ)
}

// maskPAN keeps the first 6 and last 4 digits, as PCI DSS allows to show.
func maskPAN(pan string) string {
	if len(pan) < 12 {
		return "<invalid PAN>"
	}
	m := []byte(pan)
	for i := 6; i < len(m)-4; i++ {
		m[i] = '*'
	}
	return string(m)
}

// ---- PInitReq ----

// PInitReq is the cardholder's purchase initialization request (verbatim):
//
//	PInitReq ::= SEQUENCE { rrpid RRPID, language Language, localID-C LocalID,
//	  localID-M [0] LocalID OPTIONAL, chall-C Challenge, brandID BrandID,
//	  bin BIN, thumbs [1] EXPLICIT Thumbs OPTIONAL,
//	  piRqExtensions [2] MsgExtensions OPTIONAL }
type PInitReq struct {
	RRPID          RRPID
	Language       string
	LocalIDC       []byte
	LocalIDM       []byte // optional: nil when absent
	ChallC         Challenge
	BrandID        string
	BIN            string
	Thumbs         *Thumbs // optional
	PIRqExtensions MsgExtensions

	raw []byte
}

// Tag implements Message.
func (m *PInitReq) Tag() uint32 { return TagPInitReq }

// Name implements Message.
func (m *PInitReq) Name() string { return "PInitReq" }

// Raw returns the bytes m was decoded from.
func (m *PInitReq) Raw() []byte { return m.raw }

func (m *PInitReq) add(b *cryptobyte.Builder) {
	const typ = "PInitReq"
	if err := checkBIN(m.BIN, typ); err != nil {
		b.SetError(err)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		m.RRPID.add(b)
		addVisibleString(b, der.TagVisibleString, m.Language, typ, "language", 1, maxLanguage)
		addOctetsBounded(b, der.TagOctetString, m.LocalIDC, typ, "localID-C", 1, maxLocalID)
		addOptionalOctets(b, der.Implicit(0), m.LocalIDM, typ, "localID-M", 1, maxLocalID)
		m.ChallC.add(b)
		addVisibleString(b, der.TagVisibleString, m.BrandID, typ, "brandID", 1, maxBrandID)
		addNumericString(b, der.TagNumericString, m.BIN, typ, "bin", 6, 6)
		addOptionalThumbs(b, 1, m.Thumbs)
		addOptionalExtensions(b, 2, m.PIRqExtensions)
	})
}

func (m *PInitReq) read(s *cryptobyte.String) error {
	const typ = "PInitReq"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PInitReq{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.Language, err = readVisibleString(&seq, typ, "language", 1, maxLanguage); err != nil {
		return err
	}
	if out.LocalIDC, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "localID-C", 1, maxLocalID); err != nil {
		return err
	}
	if out.LocalIDM, err = readOptionalOctets(&seq, der.Implicit(0), typ, "localID-M", 1, maxLocalID); err != nil {
		return err
	}
	if err := out.ChallC.read(&seq); err != nil {
		return der.Wrap(typ, "chall-C", err)
	}
	if out.BrandID, err = readVisibleString(&seq, typ, "brandID", 1, maxBrandID); err != nil {
		return err
	}
	if out.BIN, err = readBIN(&seq, typ); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 1, typ, "thumbs"); err != nil {
		return err
	}
	if out.PIRqExtensions, err = readOptionalExtensions(&seq, 2, typ, "piRqExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER of m.
func (m *PInitReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalPInitReq decodes a PInitReq.
func UnmarshalPInitReq(b []byte) (*PInitReq, error) { return unmarshalNew[PInitReq](b, "PInitReq") }

// ---- opaque signed messages: PInitRes, PRes ----

// PInitRes ::= S{M, PInitResData}: the merchant's SignedData (content type
// setct-PInitResData), as ContentInfo DER.
type PInitRes struct {
	SignedData []byte
}

// Tag implements Message.
func (m *PInitRes) Tag() uint32 { return TagPInitRes }

// Name implements Message.
func (m *PInitRes) Name() string { return "PInitRes" }

// Raw returns the ContentInfo DER.
func (m *PInitRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *PInitRes) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "PInitRes") }

// UnmarshalPInitRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalPInitRes(b []byte) (*PInitRes, error) {
	ci, err := unmarshalContentInfo(b, "PInitRes")
	if err != nil {
		return nil, err
	}
	return &PInitRes{SignedData: ci}, nil
}

// PRes ::= S{M, PResData}: the merchant's SignedData (content type
// setct-PResData), as ContentInfo DER.
type PRes struct {
	SignedData []byte
}

// Tag implements Message.
func (m *PRes) Tag() uint32 { return TagPRes }

// Name implements Message.
func (m *PRes) Name() string { return "PRes" }

// Raw returns the ContentInfo DER.
func (m *PRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *PRes) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "PRes") }

// UnmarshalPRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalPRes(b []byte) (*PRes, error) {
	ci, err := unmarshalContentInfo(b, "PRes")
	if err != nil {
		return nil, err
	}
	return &PRes{SignedData: ci}, nil
}

// ---- PInitResData ----

// PInitResData is the content the merchant signs in PInitRes (verbatim):
//
//	PInitResData ::= SEQUENCE { transIDs TransIDs, rrpid RRPID,
//	  chall-C Challenge, chall-M Challenge,
//	  brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL,
//	  peThumb [1] EXPLICIT CertThumb, thumbs [2] EXPLICIT Thumbs OPTIONAL,
//	  piRsExtensions [3] MsgExtensions OPTIONAL }
type PInitResData struct {
	TransIDs           TransIDs
	RRPID              RRPID
	ChallC             Challenge
	ChallM             Challenge
	BrandCRLIdentifier []byte // optional: DER of the BrandCRLIdentifier (opaque for now)
	PEThumb            CertThumb
	Thumbs             *Thumbs // optional
	PIRsExtensions     MsgExtensions

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *PInitResData) Raw() []byte { return d.raw }

func (d *PInitResData) add(b *cryptobyte.Builder) {
	const typ = "PInitResData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.TransIDs.add(b)
		d.RRPID.add(b)
		d.ChallC.add(b)
		d.ChallM.add(b)
		addOpaqueExplicit(b, 0, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addExplicit(b, 1, d.PEThumb.add)
		addOptionalThumbs(b, 2, d.Thumbs)
		addOptionalExtensions(b, 3, d.PIRsExtensions)
	})
}

func (d *PInitResData) read(s *cryptobyte.String) error {
	const typ = "PInitResData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PInitResData{raw: raw}
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if err := out.ChallC.read(&seq); err != nil {
		return der.Wrap(typ, "chall-C", err)
	}
	if err := out.ChallM.read(&seq); err != nil {
		return der.Wrap(typ, "chall-M", err)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	inner, err := readExplicit(&seq, 1, typ, "peThumb")
	if err != nil {
		return err
	}
	if err := out.PEThumb.read(&inner); err != nil {
		return der.Wrap(typ, "peThumb", err)
	}
	if err := expectEnd(inner, typ, "peThumb"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 2, typ, "thumbs"); err != nil {
		return err
	}
	if out.PIRsExtensions, err = readOptionalExtensions(&seq, 3, typ, "piRsExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *PInitResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalPInitResData decodes a PInitResData.
func UnmarshalPInitResData(b []byte) (*PInitResData, error) {
	return unmarshalNew[PInitResData](b, "PInitResData")
}

// ---- PReq ----

// PReq ::= CHOICE { pReqDualSigned [0] EXPLICIT PReqDualSigned,
// pReqUnsigned [1] EXPLICIT PReqUnsigned } (verbatim). Exactly one is set.
type PReq struct {
	DualSigned *PReqDualSigned
	Unsigned   *PReqUnsigned

	raw []byte
}

// Tag implements Message.
func (m *PReq) Tag() uint32 { return TagPReq }

// Name implements Message.
func (m *PReq) Name() string { return "PReq" }

// Raw returns the bytes m was decoded from.
func (m *PReq) Raw() []byte { return m.raw }

// OIData returns the order information of either alternative (nil if m
// is empty).
func (m *PReq) OIData() *OIData {
	switch {
	case m.DualSigned != nil:
		return &m.DualSigned.OIDualSigned.OIData
	case m.Unsigned != nil:
		return &m.Unsigned.OIUnsigned.OIData
	}
	return nil
}

func (m *PReq) add(b *cryptobyte.Builder) {
	switch {
	case m.DualSigned != nil && m.Unsigned == nil:
		addExplicit(b, 0, m.DualSigned.add)
	case m.DualSigned == nil && m.Unsigned != nil:
		addExplicit(b, 1, m.Unsigned.add)
	default:
		failf(b, "PReq", "", "exactly one of pReqDualSigned and pReqUnsigned must be set")
	}
}

func (m *PReq) read(s *cryptobyte.String) error {
	const typ = "PReq"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	out := PReq{raw: el.Raw}
	inner := cryptobyte.String(el.Contents)
	switch el.Tag {
	case der.Explicit(0):
		out.DualSigned = new(PReqDualSigned)
		if err := out.DualSigned.read(&inner); err != nil {
			return der.Wrap(typ, "pReqDualSigned", err)
		}
	case der.Explicit(1):
		out.Unsigned = new(PReqUnsigned)
		if err := out.Unsigned.read(&inner); err != nil {
			return der.Wrap(typ, "pReqUnsigned", err)
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

// Marshal returns the DER of m.
func (m *PReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalPReq decodes a PReq.
func UnmarshalPReq(b []byte) (*PReq, error) { return unmarshalNew[PReq](b, "PReq") }

// PReqDualSigned ::= SEQUENCE { piDualSigned PIDualSigned, oiDualSigned
// OIDualSigned } (verbatim).
type PReqDualSigned struct {
	PIDualSigned PIDualSigned
	OIDualSigned OIDualSigned

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PReqDualSigned) Raw() []byte { return v.raw }

func (v *PReqDualSigned) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		v.PIDualSigned.add(b)
		v.OIDualSigned.add(b)
	})
}

func (v *PReqDualSigned) read(s *cryptobyte.String) error {
	const typ = "PReqDualSigned"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PReqDualSigned{raw: raw}
	if err := out.PIDualSigned.read(&seq); err != nil {
		return der.Wrap(typ, "piDualSigned", err)
	}
	if err := out.OIDualSigned.read(&seq); err != nil {
		return der.Wrap(typ, "oiDualSigned", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// PIDualSigned ::= SEQUENCE { piSignature PISignature, exPIData EX{P,
// PI-OILink, PANData} } (verbatim). PISignature is the cardholder's
// detached SignedData over PI-TBS (setct-PI-TBS); EXPIData the envelope to
// the gateway (setct-PIDualSignedTBE). Both are ContentInfo DER.
type PIDualSigned struct {
	PISignature []byte
	EXPIData    []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIDualSigned) Raw() []byte { return v.raw }

func (v *PIDualSigned) add(b *cryptobyte.Builder) {
	const typ = "PIDualSigned"
	addSequence(b, func(b *cryptobyte.Builder) {
		addContentInfoDER(b, v.PISignature, typ, "piSignature")
		addContentInfoDER(b, v.EXPIData, typ, "exPIData")
	})
}

func (v *PIDualSigned) read(s *cryptobyte.String) error {
	const typ = "PIDualSigned"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PIDualSigned{raw: raw}
	if out.PISignature, err = readContentInfoDER(&seq, typ, "piSignature"); err != nil {
		return err
	}
	if out.EXPIData, err = readContentInfoDER(&seq, typ, "exPIData"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PIDualSigned) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIDualSigned decodes a PIDualSigned.
func UnmarshalPIDualSigned(b []byte) (*PIDualSigned, error) {
	return unmarshalNew[PIDualSigned](b, "PIDualSigned")
}

// ---- pairs of a value and a detached digest (L{} in SET) ----

// PITBS ::= SEQUENCE { hPIData DD{PIData}, hOIData DD{OIData} }: the
// content of the dual signature (setct-PI-TBS). Both are DigestedData
// ContentInfo DER.
type PITBS struct {
	HPIData []byte
	HOIData []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PITBS) Raw() []byte { return v.raw }

func (v *PITBS) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addContentInfoDER(b, v.HPIData, "PI-TBS", "hPIData")
		addContentInfoDER(b, v.HOIData, "PI-TBS", "hOIData")
	})
}

func (v *PITBS) read(s *cryptobyte.String) error {
	const typ = "PI-TBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PITBS{raw: raw}
	if out.HPIData, err = readContentInfoDER(&seq, typ, "hPIData"); err != nil {
		return err
	}
	if out.HOIData, err = readContentInfoDER(&seq, typ, "hOIData"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PITBS) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPITBS decodes a PI-TBS.
func UnmarshalPITBS(b []byte) (*PITBS, error) { return unmarshalNew[PITBS](b, "PI-TBS") }

// PIOILink ::= L{PIHead, OIData} = SEQUENCE { piHead PIHead, hOIData
// DD{OIData} }.
type PIOILink struct {
	PIHead  PIHead
	HOIData []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIOILink) Raw() []byte { return v.raw }

func (v *PIOILink) add(b *cryptobyte.Builder) {
	addLinkage(b, "PI-OILink", v.PIHead.add, v.HOIData, "hOIData", false)
}

func (v *PIOILink) read(s *cryptobyte.String) (err error) {
	v.HOIData, v.raw, err = readLinkage(s, "PI-OILink", "piHead", v.PIHead.read, "hOIData", false)
	return err
}

// Marshal returns the DER of v.
func (v *PIOILink) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIOILink decodes a PI-OILink.
func UnmarshalPIOILink(b []byte) (*PIOILink, error) { return unmarshalNew[PIOILink](b, "PI-OILink") }

// PIDualSignedTBE ::= L{PI-OILink, PANData} = SEQUENCE { piOILink
// PI-OILink, hPANData DD{PANData} }: what EX encrypts for the gateway
// (setct-PIDualSignedTBE); the PANData itself travels in the OAEP block.
type PIDualSignedTBE struct {
	PIOILink PIOILink
	HPANData []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIDualSignedTBE) Raw() []byte { return v.raw }

func (v *PIDualSignedTBE) add(b *cryptobyte.Builder) {
	addLinkage(b, "PIDualSignedTBE", v.PIOILink.add, v.HPANData, "hPANData", false)
}

func (v *PIDualSignedTBE) read(s *cryptobyte.String) (err error) {
	v.HPANData, v.raw, err = readLinkage(s, "PIDualSignedTBE", "piOILink", v.PIOILink.read, "hPANData", false)
	return err
}

// Marshal returns the DER of v.
func (v *PIDualSignedTBE) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIDualSignedTBE decodes a PIDualSignedTBE.
func UnmarshalPIDualSignedTBE(b []byte) (*PIDualSignedTBE, error) {
	return unmarshalNew[PIDualSignedTBE](b, "PIDualSignedTBE")
}

// PIUnsignedTBE ::= L{PI-OILink, PANToken} = SEQUENCE { piOILink
// PI-OILink, hPANToken DD{PANToken} } (setct-PIUnsignedTBE).
type PIUnsignedTBE struct {
	PIOILink  PIOILink
	HPANToken []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIUnsignedTBE) Raw() []byte { return v.raw }

func (v *PIUnsignedTBE) add(b *cryptobyte.Builder) {
	addLinkage(b, "PIUnsignedTBE", v.PIOILink.add, v.HPANToken, "hPANToken", false)
}

func (v *PIUnsignedTBE) read(s *cryptobyte.String) (err error) {
	v.HPANToken, v.raw, err = readLinkage(s, "PIUnsignedTBE", "piOILink", v.PIOILink.read, "hPANToken", false)
	return err
}

// Marshal returns the DER of v.
func (v *PIUnsignedTBE) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIUnsignedTBE decodes a PIUnsignedTBE.
func UnmarshalPIUnsignedTBE(b []byte) (*PIUnsignedTBE, error) {
	return unmarshalNew[PIUnsignedTBE](b, "PIUnsignedTBE")
}

// OIDualSigned ::= L{OIData, PIData} = SEQUENCE { oiData OIData, hPIData
// DD{PIData} }: what the merchant receives of a dual-signed purchase.
type OIDualSigned struct {
	OIData  OIData
	HPIData []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *OIDualSigned) Raw() []byte { return v.raw }

func (v *OIDualSigned) add(b *cryptobyte.Builder) {
	addLinkage(b, "OIDualSigned", v.OIData.add, v.HPIData, "hPIData", false)
}

func (v *OIDualSigned) read(s *cryptobyte.String) (err error) {
	v.HPIData, v.raw, err = readLinkage(s, "OIDualSigned", "oiData", v.OIData.read, "hPIData", false)
	return err
}

// OIUnsigned ::= L{OIData, PIDataUnsigned} = SEQUENCE { oiData OIData,
// hPIDataUnsigned DD{PIDataUnsigned} }.
type OIUnsigned struct {
	OIData          OIData
	HPIDataUnsigned []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *OIUnsigned) Raw() []byte { return v.raw }

func (v *OIUnsigned) add(b *cryptobyte.Builder) {
	addLinkage(b, "OIUnsigned", v.OIData.add, v.HPIDataUnsigned, "hPIDataUnsigned", false)
}

func (v *OIUnsigned) read(s *cryptobyte.String) (err error) {
	v.HPIDataUnsigned, v.raw, err = readLinkage(s, "OIUnsigned", "oiData", v.OIData.read, "hPIDataUnsigned", false)
	return err
}

// PReqUnsigned ::= SEQUENCE { piUnsigned PIUnsigned, oiUnsigned
// OIUnsigned }. PIUnsigned is the EXH envelope to the gateway
// (setct-PIUnsignedTBE), ContentInfo DER.
type PReqUnsigned struct {
	PIUnsigned []byte
	OIUnsigned OIUnsigned

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PReqUnsigned) Raw() []byte { return v.raw }

func (v *PReqUnsigned) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addContentInfoDER(b, v.PIUnsigned, "PReqUnsigned", "piUnsigned")
		v.OIUnsigned.add(b)
	})
}

func (v *PReqUnsigned) read(s *cryptobyte.String) error {
	const typ = "PReqUnsigned"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PReqUnsigned{raw: raw}
	if out.PIUnsigned, err = readContentInfoDER(&seq, typ, "piUnsigned"); err != nil {
		return err
	}
	if err := out.OIUnsigned.read(&seq); err != nil {
		return der.Wrap(typ, "oiUnsigned", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// ---- PIData, PANData, PANToken ----

// PIData ::= SEQUENCE { piHead PIHead, panData PANData }: what the
// cardholder's dual signature covers on the payment side. Printing it never
// shows the full PAN. The panData position is a PIAccount (account.go):
// with AcctPIData set, a bank account travels there instead of PANData,
// which is then left zero.
type PIData struct {
	PIHead     PIHead
	PANData    PANData
	AcctPIData *AcctPIData // a bank account instead of a card

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIData) Raw() []byte { return v.raw }

func (v *PIData) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		v.PIHead.add(b)
		if v.AcctPIData != nil {
			addExplicit(b, 0, v.AcctPIData.add)
			return
		}
		v.PANData.add(b)
	})
}

func (v *PIData) read(s *cryptobyte.String) error {
	const typ = "PIData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PIData{raw: raw}
	if err := out.PIHead.read(&seq); err != nil {
		return der.Wrap(typ, "piHead", err)
	}
	var acct PIAccount
	if err := acct.read(&seq); err != nil {
		return der.Wrap(typ, "panData", err)
	}
	if acct.PANData != nil {
		out.PANData = *acct.PANData
	}
	out.AcctPIData = acct.AcctPIData
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PIData) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIData decodes a PIData.
func UnmarshalPIData(b []byte) (*PIData, error) { return unmarshalNew[PIData](b, "PIData") }

// Format prints v with the PAN masked, whatever the verb: raw bytes and
// the PAN never reach a log.
func (v PIData) Format(f fmt.State, _ rune) {
	if v.AcctPIData != nil {
		fmt.Fprintf(f, "PIData{PIHead: %s, AcctPIData: %s}", v.PIHead.summary(), v.AcctPIData.String())
		return
	}
	fmt.Fprintf(f, "PIData{PIHead: %s, PANData: %s}", v.PIHead.summary(), v.PANData.String())
}

// PIDataUnsigned ::= SEQUENCE { piHead PIHead, panToken PANToken }.
type PIDataUnsigned struct {
	PIHead   PIHead
	PANToken PANToken

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIDataUnsigned) Raw() []byte { return v.raw }

func (v *PIDataUnsigned) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		v.PIHead.add(b)
		v.PANToken.add(b)
	})
}

func (v *PIDataUnsigned) read(s *cryptobyte.String) error {
	const typ = "PIDataUnsigned"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PIDataUnsigned{raw: raw}
	if err := out.PIHead.read(&seq); err != nil {
		return der.Wrap(typ, "piHead", err)
	}
	if err := out.PANToken.read(&seq); err != nil {
		return der.Wrap(typ, "panToken", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PIDataUnsigned) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIDataUnsigned decodes a PIDataUnsigned.
func UnmarshalPIDataUnsigned(b []byte) (*PIDataUnsigned, error) {
	return unmarshalNew[PIDataUnsigned](b, "PIDataUnsigned")
}

// Format prints v with the PAN masked, whatever the verb.
func (v PIDataUnsigned) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "PIDataUnsigned{PIHead: %s, PANToken: %s}", v.PIHead.summary(), v.PANToken.String())
}

// PANData ::= SEQUENCE { pan PAN, cardExpiry CardExpiry, panSecret Secret,
// exNonce Nonce }. String and Format mask the PAN (first 6, last 4) and
// omit the rest, so a PANData can never leak through a log line.
type PANData struct {
	PAN        string
	CardExpiry string // YYYYMM
	PANSecret  Secret
	EXNonce    Nonce

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PANData) Raw() []byte { return v.raw }

func (v *PANData) add(b *cryptobyte.Builder) {
	const typ = "PANData"
	if err := checkPAN(v.PAN, typ); err != nil {
		b.SetError(err)
		return
	}
	if err := checkCardExpiry(v.CardExpiry, typ); err != nil {
		b.SetError(err)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addNumericString(b, der.TagNumericString, v.PAN, typ, "pan", 12, 19)
		addNumericString(b, der.TagNumericString, v.CardExpiry, typ, "cardExpiry", 6, 6)
		v.PANSecret.add(b)
		v.EXNonce.add(b)
	})
}

func (v *PANData) read(s *cryptobyte.String) error {
	const typ = "PANData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PANData{raw: raw}
	if out.PAN, err = readPAN(&seq, typ); err != nil {
		return err
	}
	if out.CardExpiry, err = readCardExpiry(&seq, typ); err != nil {
		return err
	}
	if err := out.PANSecret.read(&seq); err != nil {
		return der.Wrap(typ, "panSecret", err)
	}
	if err := out.EXNonce.read(&seq); err != nil {
		return der.Wrap(typ, "exNonce", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PANData) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPANData decodes a PANData.
func UnmarshalPANData(b []byte) (*PANData, error) { return unmarshalNew[PANData](b, "PANData") }

// String shows only the masked PAN.
func (v PANData) String() string { return "PANData{PAN: " + maskPAN(v.PAN) + "}" }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x …) print String.
func (v PANData) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// PANToken ::= SEQUENCE { pan PAN, cardExpiry CardExpiry, exNonce Nonce }.
// Printed like PANData: masked PAN only.
type PANToken struct {
	PAN        string
	CardExpiry string // YYYYMM
	EXNonce    Nonce

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PANToken) Raw() []byte { return v.raw }

func (v *PANToken) add(b *cryptobyte.Builder) {
	const typ = "PANToken"
	if err := checkPAN(v.PAN, typ); err != nil {
		b.SetError(err)
		return
	}
	if err := checkCardExpiry(v.CardExpiry, typ); err != nil {
		b.SetError(err)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addNumericString(b, der.TagNumericString, v.PAN, typ, "pan", 12, 19)
		addNumericString(b, der.TagNumericString, v.CardExpiry, typ, "cardExpiry", 6, 6)
		v.EXNonce.add(b)
	})
}

func (v *PANToken) read(s *cryptobyte.String) error {
	const typ = "PANToken"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PANToken{raw: raw}
	if out.PAN, err = readPAN(&seq, typ); err != nil {
		return err
	}
	if out.CardExpiry, err = readCardExpiry(&seq, typ); err != nil {
		return err
	}
	if err := out.EXNonce.read(&seq); err != nil {
		return der.Wrap(typ, "exNonce", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PANToken) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPANToken decodes a PANToken.
func UnmarshalPANToken(b []byte) (*PANToken, error) { return unmarshalNew[PANToken](b, "PANToken") }

// String shows only the masked PAN.
func (v PANToken) String() string { return "PANToken{PAN: " + maskPAN(v.PAN) + "}" }

// Format makes every fmt verb print String.
func (v PANToken) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// ---- PIHead, Inputs ----

// PIHead ::= SEQUENCE { transIDs TransIDs, inputs Inputs, merchantID
// MerchantID, installRecurData [0] OCTET STRING OPTIONAL, transStain
// TransStain, swIdent SWIdent, acqBackKeyData [1] EXPLICIT OCTET STRING
// OPTIONAL, piExtensions [2] MsgExtensions OPTIONAL, pgThumb [10] EXPLICIT
// CertThumb OPTIONAL }. pgThumb is setpay deviation 1: the payment gateway
// (its key-exchange certificate) the cardholder meant; the modern and pq
// suites require it, set1 leaves it out.
type PIHead struct {
	TransIDs         TransIDs
	Inputs           Inputs
	MerchantID       string
	InstallRecurData []byte // optional, opaque for now
	TransStain       []byte // HMAC{XID, CardSecret}
	SWIdent          string
	AcqBackKeyData   []byte // optional, opaque
	PIExtensions     MsgExtensions
	PGThumb          *CertThumb // optional (deviation 1)

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIHead) Raw() []byte { return v.raw }

// summary names the transaction without printing raw bytes.
func (v *PIHead) summary() string {
	return fmt.Sprintf("{XID: %x, MerchantID: %q, PurchAmt: %+v}", v.TransIDs.XID[:], v.MerchantID, v.Inputs.PurchAmt)
}

func (v *PIHead) add(b *cryptobyte.Builder) {
	const typ = "PIHead"
	addSequence(b, func(b *cryptobyte.Builder) {
		v.TransIDs.add(b)
		v.Inputs.add(b)
		addVisibleString(b, der.TagVisibleString, v.MerchantID, typ, "merchantID", 1, maxMerchantID)
		addOptionalOctets(b, der.Implicit(0), v.InstallRecurData, typ, "installRecurData", 0, 0)
		addOctetsBounded(b, der.TagOctetString, v.TransStain, typ, "transStain", 1, 0)
		addVisibleString(b, der.TagVisibleString, v.SWIdent, typ, "swIdent", 1, maxSWIdent)
		addOptionalExplicitOctets(b, 1, v.AcqBackKeyData, typ, "acqBackKeyData", 0)
		addOptionalExtensions(b, 2, v.PIExtensions)
		addOptionalCertThumb(b, 10, v.PGThumb)
	})
}

func (v *PIHead) read(s *cryptobyte.String) error {
	const typ = "PIHead"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PIHead{raw: raw}
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.Inputs.read(&seq); err != nil {
		return der.Wrap(typ, "inputs", err)
	}
	if out.MerchantID, err = readVisibleString(&seq, typ, "merchantID", 1, maxMerchantID); err != nil {
		return err
	}
	if out.InstallRecurData, err = readOptionalOctets(&seq, der.Implicit(0), typ, "installRecurData", 0, 0); err != nil {
		return err
	}
	if out.TransStain, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "transStain", 1, 0); err != nil {
		return err
	}
	if out.SWIdent, err = readVisibleString(&seq, typ, "swIdent", 1, maxSWIdent); err != nil {
		return err
	}
	if out.AcqBackKeyData, err = readOptionalExplicitOctets(&seq, 1, typ, "acqBackKeyData", 0); err != nil {
		return err
	}
	if out.PIExtensions, err = readOptionalExtensions(&seq, 2, typ, "piExtensions"); err != nil {
		return err
	}
	if out.PGThumb, err = readOptionalCertThumb(&seq, 10, typ, "pgThumb"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PIHead) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIHead decodes a PIHead.
func UnmarshalPIHead(b []byte) (*PIHead, error) { return unmarshalNew[PIHead](b, "PIHead") }

// Inputs ::= SEQUENCE { hod HOD, purchAmt CurrencyAmount }. HOD is
// DD{HODInput}: DigestedData ContentInfo DER.
type Inputs struct {
	HOD      []byte
	PurchAmt CurrencyAmount
}

func (v *Inputs) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addContentInfoDER(b, v.HOD, "Inputs", "hod")
		v.PurchAmt.add(b)
	})
}

func (v *Inputs) read(s *cryptobyte.String) error {
	const typ = "Inputs"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out Inputs
	if out.HOD, err = readContentInfoDER(&seq, typ, "hod"); err != nil {
		return err
	}
	if err := out.PurchAmt.read(&seq); err != nil {
		return der.Wrap(typ, "purchAmt", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// ---- OIData, HODInput ----

// OIData ::= SEQUENCE { transIDs TransIDs, rrpid RRPID, chall-C
// Challenge, hod HOD, odSalt Nonce, chall-M [0] Challenge OPTIONAL, brandID
// BrandID, bin BIN, odExtOIDs [1] SEQUENCE OF OBJECT IDENTIFIER OPTIONAL,
// oiExtensions [2] MsgExtensions OPTIONAL }: the order information the
// merchant sees.
type OIData struct {
	TransIDs     TransIDs
	RRPID        RRPID
	ChallC       Challenge
	HOD          []byte // DD{HODInput}
	ODSalt       Nonce
	ChallM       *Challenge // optional
	BrandID      string
	BIN          string
	ODExtOIDs    []asn1.ObjectIdentifier // nil: absent
	OIExtensions MsgExtensions

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *OIData) Raw() []byte { return v.raw }

func (v *OIData) add(b *cryptobyte.Builder) {
	const typ = "OIData"
	if err := checkBIN(v.BIN, typ); err != nil {
		b.SetError(err)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		v.TransIDs.add(b)
		v.RRPID.add(b)
		v.ChallC.add(b)
		addContentInfoDER(b, v.HOD, typ, "hod")
		v.ODSalt.add(b)
		if v.ChallM != nil {
			addOctets(b, der.Implicit(0), v.ChallM[:])
		}
		addVisibleString(b, der.TagVisibleString, v.BrandID, typ, "brandID", 1, maxBrandID)
		addNumericString(b, der.TagNumericString, v.BIN, typ, "bin", 6, 6)
		if v.ODExtOIDs != nil {
			addTagged(b, der.Explicit(1), func(b *cryptobyte.Builder) {
				for _, oid := range v.ODExtOIDs {
					addOID(b, der.TagOID, oid)
				}
			})
		}
		addOptionalExtensions(b, 2, v.OIExtensions)
	})
}

func (v *OIData) read(s *cryptobyte.String) error {
	const typ = "OIData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := OIData{raw: raw}
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if err := out.ChallC.read(&seq); err != nil {
		return der.Wrap(typ, "chall-C", err)
	}
	if out.HOD, err = readContentInfoDER(&seq, typ, "hod"); err != nil {
		return err
	}
	if err := out.ODSalt.read(&seq); err != nil {
		return der.Wrap(typ, "odSalt", err)
	}
	if nextIs(seq, der.Implicit(0)) {
		c, err := readOctets20(&seq, der.Implicit(0), typ, "chall-M")
		if err != nil {
			return err
		}
		cm := Challenge(c)
		out.ChallM = &cm
	}
	if out.BrandID, err = readVisibleString(&seq, typ, "brandID", 1, maxBrandID); err != nil {
		return err
	}
	if out.BIN, err = readBIN(&seq, typ); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(1)) { // [1] IMPLICIT SEQUENCE OF: constructed
		inner, _, err := readSequenceAs(&seq, der.Explicit(1), typ)
		if err != nil {
			return der.Wrap(typ, "odExtOIDs", err)
		}
		out.ODExtOIDs = []asn1.ObjectIdentifier{}
		for len(inner) > 0 {
			oid, err := readOID(&inner, der.TagOID, typ, "odExtOIDs")
			if err != nil {
				return err
			}
			out.ODExtOIDs = append(out.ODExtOIDs, oid)
		}
	}
	if out.OIExtensions, err = readOptionalExtensions(&seq, 2, typ, "oiExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *OIData) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalOIData decodes an OIData.
func UnmarshalOIData(b []byte) (*OIData, error) { return unmarshalNew[OIData](b, "OIData") }

// HODInput ::= SEQUENCE { od OD, purchAmt CurrencyAmount, odSalt Nonce,
// installRecurData [0] OCTET STRING OPTIONAL, odExtensions [1]
// MsgExtensions OPTIONAL }: the digest input binding the order description
// and amount (HOD = DD{HODInput}).
type HODInput struct {
	OD               []byte // order description, 1..4096 bytes
	PurchAmt         CurrencyAmount
	ODSalt           Nonce
	InstallRecurData []byte // optional, opaque for now
	ODExtensions     MsgExtensions

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *HODInput) Raw() []byte { return v.raw }

func (v *HODInput) add(b *cryptobyte.Builder) {
	const typ = "HODInput"
	addSequence(b, func(b *cryptobyte.Builder) {
		addOctetsBounded(b, der.TagOctetString, v.OD, typ, "od", 1, maxOD)
		v.PurchAmt.add(b)
		v.ODSalt.add(b)
		addOptionalOctets(b, der.Implicit(0), v.InstallRecurData, typ, "installRecurData", 0, 0)
		addOptionalExtensions(b, 1, v.ODExtensions)
	})
}

func (v *HODInput) read(s *cryptobyte.String) error {
	const typ = "HODInput"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := HODInput{raw: raw}
	if out.OD, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "od", 1, maxOD); err != nil {
		return err
	}
	if err := out.PurchAmt.read(&seq); err != nil {
		return der.Wrap(typ, "purchAmt", err)
	}
	if err := out.ODSalt.read(&seq); err != nil {
		return der.Wrap(typ, "odSalt", err)
	}
	if out.InstallRecurData, err = readOptionalOctets(&seq, der.Implicit(0), typ, "installRecurData", 0, 0); err != nil {
		return err
	}
	if out.ODExtensions, err = readOptionalExtensions(&seq, 1, typ, "odExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *HODInput) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalHODInput decodes a HODInput.
func UnmarshalHODInput(b []byte) (*HODInput, error) { return unmarshalNew[HODInput](b, "HODInput") }

// ---- PI ----

// PI ::= CHOICE { piUnsigned [0] EXPLICIT PIUnsigned, piDualSigned [1]
// EXPLICIT PIDualSigned, authToken [2] EXPLICIT AuthToken }: the payment
// instructions the merchant forwards to the gateway in AuthReq. PIUnsigned
// and AuthToken are opaque ContentInfo DER. Exactly one field is set.
type PI struct {
	PIUnsigned   []byte
	PIDualSigned *PIDualSigned
	AuthToken    []byte

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PI) Raw() []byte { return v.raw }

func (v *PI) add(b *cryptobyte.Builder) {
	n := 0
	for _, set := range []bool{v.PIUnsigned != nil, v.PIDualSigned != nil, v.AuthToken != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		failf(b, "PI", "", "exactly one of piUnsigned, piDualSigned and authToken must be set")
		return
	}
	switch {
	case v.PIUnsigned != nil:
		addExplicit(b, 0, func(b *cryptobyte.Builder) { addContentInfoDER(b, v.PIUnsigned, "PI", "piUnsigned") })
	case v.PIDualSigned != nil:
		addExplicit(b, 1, v.PIDualSigned.add)
	default:
		addExplicit(b, 2, func(b *cryptobyte.Builder) { addContentInfoDER(b, v.AuthToken, "PI", "authToken") })
	}
}

func (v *PI) read(s *cryptobyte.String) error {
	const typ = "PI"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	out := PI{raw: el.Raw}
	inner := cryptobyte.String(el.Contents)
	switch el.Tag {
	case der.Explicit(0):
		if out.PIUnsigned, err = readContentInfoDER(&inner, typ, "piUnsigned"); err != nil {
			return err
		}
	case der.Explicit(1):
		out.PIDualSigned = new(PIDualSigned)
		if err := out.PIDualSigned.read(&inner); err != nil {
			return der.Wrap(typ, "piDualSigned", err)
		}
	case der.Explicit(2):
		if out.AuthToken, err = readContentInfoDER(&inner, typ, "authToken"); err != nil {
			return err
		}
	default:
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	if err := expectEnd(inner, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PI) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPI decodes a PI.
func UnmarshalPI(b []byte) (*PI, error) { return unmarshalNew[PI](b, "PI") }

// ---- PResData ----

// PResData ::= SEQUENCE { transIDs TransIDs, rrpid RRPID, chall-C
// Challenge, brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL,
// pResPayloadSeq SEQUENCE SIZE(1..MAX) OF PResPayload }: the content the
// merchant signs in PRes (setct-PResData).
type PResData struct {
	TransIDs           TransIDs
	RRPID              RRPID
	ChallC             Challenge
	BrandCRLIdentifier []byte // optional, opaque DER
	PResPayloadSeq     []PResPayload

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PResData) Raw() []byte { return v.raw }

func (v *PResData) add(b *cryptobyte.Builder) {
	const typ = "PResData"
	if len(v.PResPayloadSeq) == 0 {
		failf(b, typ, "pResPayloadSeq", "empty")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		v.TransIDs.add(b)
		v.RRPID.add(b)
		v.ChallC.add(b)
		addOpaqueExplicit(b, 0, v.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addSequence(b, func(b *cryptobyte.Builder) {
			for i := range v.PResPayloadSeq {
				v.PResPayloadSeq[i].add(b)
			}
		})
	})
}

func (v *PResData) read(s *cryptobyte.String) error {
	const typ = "PResData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PResData{raw: raw}
	if err := out.TransIDs.read(&seq); err != nil {
		return der.Wrap(typ, "transIDs", err)
	}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if err := out.ChallC.read(&seq); err != nil {
		return der.Wrap(typ, "chall-C", err)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.PResPayloadSeq, err = readSequenceOf[PResPayload](&seq, typ, "pResPayloadSeq"); err != nil {
		return err
	}
	if len(out.PResPayloadSeq) == 0 {
		return der.Errorf(typ, "pResPayloadSeq", "empty: %w", der.ErrInvalid)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *PResData) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPResData decodes a PResData.
func UnmarshalPResData(b []byte) (*PResData, error) { return unmarshalNew[PResData](b, "PResData") }

// CompletionCode ::= ENUMERATED (reconstructed, docs/spec-gaps.md).
type CompletionCode int

// Completion codes.
const (
	MeaninglessRatio      CompletionCode = 0
	OrderRejected         CompletionCode = 1
	OrderReceived         CompletionCode = 2
	OrderNotReceived      CompletionCode = 3
	AuthorizationAccepted CompletionCode = 4
	CapturePerformed      CompletionCode = 5
	CreditPerformed       CompletionCode = 6
)

var completionCodeNames = [...]string{
	"meaninglessRatio", "orderRejected", "orderReceived", "orderNotReceived",
	"authorizationAccepted", "capturePerformed", "creditPerformed",
}

// String returns the specification's name of c.
func (c CompletionCode) String() string {
	if c >= 0 && int(c) < len(completionCodeNames) {
		return completionCodeNames[c]
	}
	return fmt.Sprintf("CompletionCode(%d)", int(c))
}

// PResPayload ::= SEQUENCE { completionCode CompletionCode, results [0]
// Results OPTIONAL, pRsExtensions [1] MsgExtensions OPTIONAL,
// authResSigned [10] OCTET STRING OPTIONAL }. authResSigned is setpay
// deviation 4: the gateway's own SignedData over AuthResData, forwarded
// byte for byte so the cardholder holds proof the gateway approved.
type PResPayload struct {
	CompletionCode CompletionCode
	Results        *Results // optional
	PRsExtensions  MsgExtensions
	AuthResSigned  []byte // optional (deviation 4)
}

func (v *PResPayload) add(b *cryptobyte.Builder) {
	const typ = "PResPayload"
	if v.CompletionCode < 0 || int(v.CompletionCode) >= len(completionCodeNames) {
		failf(b, typ, "completionCode", "unknown code %d", int(v.CompletionCode))
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagEnumerated, int64(v.CompletionCode))
		if v.Results != nil {
			v.Results.addAs(b, der.Explicit(0)) // [0] IMPLICIT SEQUENCE: constructed
		}
		addOptionalExtensions(b, 1, v.PRsExtensions)
		addOptionalOctets(b, der.Implicit(10), v.AuthResSigned, typ, "authResSigned", 1, 0)
	})
}

func (v *PResPayload) read(s *cryptobyte.String) error {
	const typ = "PResPayload"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out PResPayload
	c, err := readIntRange(&seq, der.TagEnumerated, typ, "completionCode", 0, int64(len(completionCodeNames)-1))
	if err != nil {
		return err
	}
	out.CompletionCode = CompletionCode(c)
	if nextIs(seq, der.Explicit(0)) {
		out.Results = new(Results)
		if err := out.Results.readAs(&seq, der.Explicit(0)); err != nil {
			return der.Wrap(typ, "results", err)
		}
	}
	if out.PRsExtensions, err = readOptionalExtensions(&seq, 1, typ, "pRsExtensions"); err != nil {
		return err
	}
	if out.AuthResSigned, err = readOptionalOctets(&seq, der.Implicit(10), typ, "authResSigned", 1, 0); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Results ::= SEQUENCE { acqCardMsg [0] EXPLICIT OCTET STRING OPTIONAL,
// authStatus [1] AuthStatus OPTIONAL, capStatus [2] CapStatus OPTIONAL }
// (simplified: credStatusSeq is left out until credits exist).
type Results struct {
	AcqCardMsg []byte // optional, opaque
	AuthStatus *AuthStatus
	CapStatus  *CapStatus
}

func (v *Results) addAs(b *cryptobyte.Builder, t der.Tag) {
	addTagged(b, t, func(b *cryptobyte.Builder) {
		addOptionalExplicitOctets(b, 0, v.AcqCardMsg, "Results", "acqCardMsg", 0)
		if v.AuthStatus != nil {
			v.AuthStatus.addAs(b, der.Explicit(1))
		}
		if v.CapStatus != nil {
			v.CapStatus.addAs(b, der.Explicit(2))
		}
	})
}

func (v *Results) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "Results"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out Results
	if out.AcqCardMsg, err = readOptionalExplicitOctets(&seq, 0, typ, "acqCardMsg", 0); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(1)) {
		out.AuthStatus = new(AuthStatus)
		if err := out.AuthStatus.readAs(&seq, der.Explicit(1)); err != nil {
			return der.Wrap(typ, "authStatus", err)
		}
	}
	if nextIs(seq, der.Explicit(2)) {
		out.CapStatus = new(CapStatus)
		if err := out.CapStatus.readAs(&seq, der.Explicit(2)); err != nil {
			return der.Wrap(typ, "capStatus", err)
		}
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// AuthStatus ::= SEQUENCE { authDate Date, authCode AuthCode, authRatio
// INTEGER (0..1000) } (simplified: the ratio is in permille rather than
// REAL; currConv is left out). AuthCode carries the AuthCode ENUMERATED
// value of the authorization messages.
type AuthStatus struct {
	AuthDate  time.Time
	AuthCode  int
	AuthRatio int // permille of the purchase amount authorized
}

func (v *AuthStatus) addAs(b *cryptobyte.Builder, t der.Tag) {
	if v.AuthCode < 0 || v.AuthRatio < 0 || v.AuthRatio > 1000 {
		failf(b, "AuthStatus", "", "authCode or authRatio out of range")
		return
	}
	addTagged(b, t, func(b *cryptobyte.Builder) {
		addDate(b, v.AuthDate)
		addInt64(b, der.TagEnumerated, int64(v.AuthCode))
		addInt64(b, der.TagInteger, int64(v.AuthRatio))
	})
}

func (v *AuthStatus) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "AuthStatus"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out AuthStatus
	if out.AuthDate, err = readDate(&seq, typ, "authDate"); err != nil {
		return err
	}
	c, err := readIntRange(&seq, der.TagEnumerated, typ, "authCode", 0, 255)
	if err != nil {
		return err
	}
	r, err := readIntRange(&seq, der.TagInteger, typ, "authRatio", 0, 1000)
	if err != nil {
		return err
	}
	out.AuthCode, out.AuthRatio = int(c), int(r)
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// CapStatus ::= SEQUENCE { capDate Date, capCode CapCode, capRatio INTEGER
// (0..1000) } (simplified like AuthStatus).
type CapStatus struct {
	CapDate  time.Time
	CapCode  int
	CapRatio int // permille
}

func (v *CapStatus) addAs(b *cryptobyte.Builder, t der.Tag) {
	if v.CapCode < 0 || v.CapRatio < 0 || v.CapRatio > 1000 {
		failf(b, "CapStatus", "", "capCode or capRatio out of range")
		return
	}
	addTagged(b, t, func(b *cryptobyte.Builder) {
		addDate(b, v.CapDate)
		addInt64(b, der.TagEnumerated, int64(v.CapCode))
		addInt64(b, der.TagInteger, int64(v.CapRatio))
	})
}

func (v *CapStatus) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "CapStatus"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out CapStatus
	if out.CapDate, err = readDate(&seq, typ, "capDate"); err != nil {
		return err
	}
	c, err := readIntRange(&seq, der.TagEnumerated, typ, "capCode", 0, 255)
	if err != nil {
		return err
	}
	r, err := readIntRange(&seq, der.TagInteger, typ, "capRatio", 0, 1000)
	if err != nil {
		return err
	}
	out.CapCode, out.CapRatio = int(c), int(r)
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Alternative returns the DER of the PI's chosen alternative without its
// CHOICE tag: what DD{PI} digests. SET's digests cover SEQUENCEs (under
// set1's PKCS#7 only the contents octets are digested, so a CHOICE tag
// would go unprotected); the alternatives differ in shape, so one cannot
// be read as another (docs/spec-gaps.md).
func (v *PI) Alternative() ([]byte, error) {
	switch {
	case v.PIDualSigned != nil && v.PIUnsigned == nil && v.AuthToken == nil:
		if raw := v.PIDualSigned.Raw(); raw != nil {
			return raw, nil
		}
		return v.PIDualSigned.Marshal()
	case v.PIUnsigned != nil && v.PIDualSigned == nil && v.AuthToken == nil:
		return v.PIUnsigned, nil
	case v.AuthToken != nil && v.PIDualSigned == nil && v.PIUnsigned == nil:
		return v.AuthToken, nil
	}
	return nil, der.Errorf("PI", "", "exactly one alternative must be set")
}
