package msg

// Certificate management messages (SetCertMsgs): CardCInitReq/Res,
// Me-AqCInitReq/Res, RegFormReq/Res, CertReq/Res, CertInqReq/Res, and
// BrandCRLIdentifier. AcctInfo, AcctData, AcctIdentification, IDData,
// MerchantAcquirerID, AcquirerID, AcquirerBusinessID, RequestType,
// RegFormOrReferral and RegFormData are verbatim Book 3 ASN.1; everything
// else is reconstructed (docs/spec-gaps.md, "msg: certificate management").
// Signed and enveloped forms (S{}, EXH{}, Enc{}, EncX{}, EncK{}) are opaque
// ContentInfo DER that package encap builds and opens.

import (
	"encoding/asn1"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// Size bounds of the certificate-management types. Book 3's ub-* values
// are not public; these are ours (docs/spec-gaps.md).
const (
	maxAcctIdentification = 128
	maxAcqBusinessID      = 32
	maxURL                = 512
	maxFieldName          = 128
	maxFieldDesc          = 512
	maxFieldLen           = 128 // also fieldLen's DEFAULT
	maxPolicyText         = 8192
	maxReferralReason     = 512
	maxEEMessage          = 512
	maxItemReason         = 128
	maxBackKey            = 64
)

// ---- small readers and writers used only here ----

// readOptionalVisible reads an OPTIONAL [n] IMPLICIT VisibleString; min
// must be at least 1 so that "" means absent.
func readOptionalVisible(s *cryptobyte.String, n uint32, typ, field string, min, max int) (string, error) {
	if !nextIs(*s, der.Implicit(n)) {
		return "", nil
	}
	return readVisibleStringAs(s, der.Implicit(n), typ, field, min, max)
}

func addOptionalVisible(b *cryptobyte.Builder, n uint32, v, typ, field string, min, max int) {
	if v != "" {
		addVisibleString(b, der.Implicit(n), v, typ, field, min, max)
	}
}

// readRequiredThumb reads a required [n] EXPLICIT CertThumb.
func readRequiredThumb(s *cryptobyte.String, n uint32, typ, field string, dst *CertThumb) error {
	inner, err := readExplicit(s, n, typ, field)
	if err != nil {
		return err
	}
	if err := dst.read(&inner); err != nil {
		return der.Wrap(typ, field, err)
	}
	return expectEnd(inner, typ, field)
}

// readLocalID reads a required LocalID; readOptionalLocalID an OPTIONAL
// [n] IMPLICIT one.
func readLocalID(s *cryptobyte.String, typ, field string) ([]byte, error) {
	return readOctetStringBounded(s, der.TagOctetString, typ, field, 1, maxLocalID)
}

func readOptionalLocalID(s *cryptobyte.String, n uint32, typ, field string) ([]byte, error) {
	return readOptionalOctets(s, der.Implicit(n), typ, field, 1, maxLocalID)
}

func addLocalID(b *cryptobyte.Builder, v []byte, typ, field string) {
	addOctetsBounded(b, der.TagOctetString, v, typ, field, 1, maxLocalID)
}

func readBrandID(s *cryptobyte.String, typ string) (string, error) {
	return readVisibleString(s, typ, "brandID", 1, maxBrandID)
}

func addBrandID(b *cryptobyte.Builder, v, typ string) {
	addVisibleString(b, der.TagVisibleString, v, typ, "brandID", 1, maxBrandID)
}

// checkSPKI checks that v is one SubjectPublicKeyInfo: SEQUENCE {
// AlgorithmIdentifier, BIT STRING } with a whole number of octets of key.
// The key itself is parsed by whoever certifies it.
func checkSPKI(v []byte, typ, field string) error {
	e, err := der.Parse(v)
	if err != nil {
		return der.Wrap(typ, field, err)
	}
	if e.Tag != der.TagSequence {
		return der.Errorf(typ, field, "SubjectPublicKeyInfo is %s: %w", e.Tag, der.ErrUnexpected)
	}
	s := cryptobyte.String(e.Contents)
	if _, err := pkcs7.ReadAlgorithmIdentifier(&s); err != nil {
		return der.Wrap(typ, field, err)
	}
	bs, err := readAs(&s, der.TagBitString, typ, field)
	if err != nil {
		return err
	}
	if len(bs.Contents) < 2 || bs.Contents[0] != 0 {
		return der.Errorf(typ, field, "subjectPublicKey is not a non-empty whole-octet BIT STRING: %w", der.ErrInvalid)
	}
	return expectEnd(s, typ, field)
}

// ---- RequestType ----

// RequestType says who asks for which certificates (verbatim ENUMERATED;
// the reserved cardholder encryption values 2, 3, 11, 12 are invalid).
type RequestType int

// RequestType values (verbatim).
const (
	CardInitialSig  RequestType = 1
	MerInitialSig   RequestType = 4
	MerInitialEnc   RequestType = 5
	MerInitialBoth  RequestType = 6
	PgwyInitialSig  RequestType = 7
	PgwyInitialEnc  RequestType = 8
	PgwyInitialBoth RequestType = 9
	CardRenewalSig  RequestType = 10
	MerRenewalSig   RequestType = 13
	MerRenewalEnc   RequestType = 14
	MerRenewalBoth  RequestType = 15
	PgwyRenewalSig  RequestType = 16
	PgwyRenewalEnc  RequestType = 17
	PgwyRenewalBoth RequestType = 18
)

var requestTypeNames = map[RequestType]string{
	CardInitialSig: "cardInitialSig", MerInitialSig: "merInitialSig", MerInitialEnc: "merInitialEnc",
	MerInitialBoth: "merInitialBoth", PgwyInitialSig: "pgwyInitialSig", PgwyInitialEnc: "pgwyInitialEnc",
	PgwyInitialBoth: "pgwyInitialBoth", CardRenewalSig: "cardRenewalSig", MerRenewalSig: "merRenewalSig",
	MerRenewalEnc: "merRenewalEnc", MerRenewalBoth: "merRenewalBoth", PgwyRenewalSig: "pgwyRenewalSig",
	PgwyRenewalEnc: "pgwyRenewalEnc", PgwyRenewalBoth: "pgwyRenewalBoth",
}

// Valid reports whether t is one of the specification's values.
func (t RequestType) Valid() bool { _, ok := requestTypeNames[t]; return ok }

// String returns the specification's name.
func (t RequestType) String() string {
	if n, ok := requestTypeNames[t]; ok {
		return n
	}
	return "RequestType(" + strconv.Itoa(int(t)) + ")"
}

// Cardholder reports a cardholder request; Merchant and Gateway likewise.
func (t RequestType) Cardholder() bool { return t == CardInitialSig || t == CardRenewalSig }

// Merchant reports a merchant request.
func (t RequestType) Merchant() bool { return (t >= 4 && t <= 6) || (t >= 13 && t <= 15) }

// Gateway reports a payment-gateway request.
func (t RequestType) Gateway() bool { return (t >= 7 && t <= 9) || (t >= 16 && t <= 18) }

// Renewal reports a renewal (as opposed to an initial) request.
func (t RequestType) Renewal() bool { return t.Valid() && t >= 10 }

// WantsSignature reports that a signature certificate is requested: the
// values run Sig, Enc, Both in threes from 1.
func (t RequestType) WantsSignature() bool { return t.Valid() && (t-1)%3 != 1 }

// WantsEncryption reports that a key-exchange certificate is requested.
func (t RequestType) WantsEncryption() bool { return t.Valid() && (t-1)%3 != 0 }

func readRequestType(s *cryptobyte.String, typ string) (RequestType, error) {
	v, err := readIntRange(s, der.TagEnumerated, typ, "requestType", 1, 18)
	if err != nil {
		return 0, err
	}
	if !RequestType(v).Valid() {
		return 0, der.Errorf(typ, "requestType", "reserved value %d: %w", v, der.ErrInvalid)
	}
	return RequestType(v), nil
}

func addRequestType(b *cryptobyte.Builder, t RequestType, typ string) {
	if !t.Valid() {
		failf(b, typ, "requestType", "%s is not a valid value", t)
		return
	}
	addInt64(b, der.TagEnumerated, int64(t))
}

// ---- IDData, MerchantAcquirerID, AcquirerID (verbatim) ----

// IDData ::= CHOICE { merchantAcquirerID [0] MerchantAcquirerID,
// acquirerID [1] AcquirerID } (verbatim; merchants and acquirers only).
// Exactly one is set.
type IDData struct {
	MerchantAcquirerID *MerchantAcquirerID
	AcquirerID         *AcquirerID
}

// MerchantAcquirerID ::= SEQUENCE { merchantBIN BIN, merchantID
// MerchantID } (verbatim): the merchant as its acquirer knows it.
type MerchantAcquirerID struct {
	MerchantBIN string
	MerchantID  string
}

// AcquirerID ::= SEQUENCE { acquirerBIN BIN, acquirerBusinessID
// AcquirerBusinessID OPTIONAL } (verbatim). AcquirerBusinessID is a
// NumericString (SIZE(1..ub-acqBusinessID)); "" is absent.
type AcquirerID struct {
	AcquirerBIN        string
	AcquirerBusinessID string
}

func (v *IDData) add(b *cryptobyte.Builder) {
	const typ = "IDData"
	switch {
	case v.MerchantAcquirerID != nil && v.AcquirerID == nil:
		m := v.MerchantAcquirerID
		if err := checkBIN(m.MerchantBIN, "MerchantAcquirerID"); err != nil {
			b.SetError(err)
			return
		}
		addTagged(b, der.Explicit(0), func(b *cryptobyte.Builder) { // [0] IMPLICIT SEQUENCE
			addNumericString(b, der.TagNumericString, m.MerchantBIN, "MerchantAcquirerID", "merchantBIN", 6, 6)
			addVisibleString(b, der.TagVisibleString, m.MerchantID, "MerchantAcquirerID", "merchantID", 1, maxMerchantID)
		})
	case v.MerchantAcquirerID == nil && v.AcquirerID != nil:
		a := v.AcquirerID
		if err := checkBIN(a.AcquirerBIN, "AcquirerID"); err != nil {
			b.SetError(err)
			return
		}
		if a.AcquirerBusinessID != "" && !digitsOK(a.AcquirerBusinessID) {
			failf(b, "AcquirerID", "acquirerBusinessID", "not digits")
			return
		}
		addTagged(b, der.Explicit(1), func(b *cryptobyte.Builder) {
			addNumericString(b, der.TagNumericString, a.AcquirerBIN, "AcquirerID", "acquirerBIN", 6, 6)
			if a.AcquirerBusinessID != "" {
				addNumericString(b, der.TagNumericString, a.AcquirerBusinessID, "AcquirerID", "acquirerBusinessID", 1, maxAcqBusinessID)
			}
		})
	default:
		failf(b, typ, "", "exactly one of merchantAcquirerID and acquirerID must be set")
	}
}

func (v *IDData) read(s *cryptobyte.String) error {
	const typ = "IDData"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	in := cryptobyte.String(el.Contents)
	var out IDData
	switch el.Tag {
	case der.Explicit(0):
		const t = "MerchantAcquirerID"
		m := new(MerchantAcquirerID)
		if m.MerchantBIN, err = readNumericString(&in, t, "merchantBIN", 6, 6); err != nil {
			return der.Wrap(typ, "merchantAcquirerID", err)
		}
		if err := checkBIN(m.MerchantBIN, t); err != nil {
			return der.Wrap(typ, "merchantAcquirerID", err)
		}
		if m.MerchantID, err = readVisibleString(&in, t, "merchantID", 1, maxMerchantID); err != nil {
			return der.Wrap(typ, "merchantAcquirerID", err)
		}
		out.MerchantAcquirerID = m
	case der.Explicit(1):
		const t = "AcquirerID"
		a := new(AcquirerID)
		if a.AcquirerBIN, err = readNumericString(&in, t, "acquirerBIN", 6, 6); err != nil {
			return der.Wrap(typ, "acquirerID", err)
		}
		if err := checkBIN(a.AcquirerBIN, t); err != nil {
			return der.Wrap(typ, "acquirerID", err)
		}
		if len(in) > 0 {
			if a.AcquirerBusinessID, err = readNumericString(&in, t, "acquirerBusinessID", 1, maxAcqBusinessID); err != nil {
				return der.Wrap(typ, "acquirerID", err)
			}
			if !digitsOK(a.AcquirerBusinessID) {
				return der.Errorf(t, "acquirerBusinessID", "not digits: %w", der.ErrInvalid)
			}
		}
		out.AcquirerID = a
	default:
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	if err := expectEnd(in, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// ---- CardCInitReq / CardCInitRes / CardCInitResTBS ----

// CardCInitReq is the cardholder's registration initialization request:
//
//	CardCInitReq ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE Challenge, brandID BrandID,
//	  thumbs [0] EXPLICIT Thumbs OPTIONAL }
type CardCInitReq struct {
	RRPID   RRPID
	LIDEE   []byte
	ChallEE Challenge
	BrandID string
	Thumbs  *Thumbs // optional

	raw []byte
}

// Tag implements Message.
func (m *CardCInitReq) Tag() uint32 { return TagCardCInitReq }

// Name implements Message.
func (m *CardCInitReq) Name() string { return "CardCInitReq" }

// Raw returns the bytes m was decoded from.
func (m *CardCInitReq) Raw() []byte { return m.raw }

func (m *CardCInitReq) add(b *cryptobyte.Builder) {
	const typ = "CardCInitReq"
	addSequence(b, func(b *cryptobyte.Builder) {
		m.RRPID.add(b)
		addLocalID(b, m.LIDEE, typ, "lid-EE")
		m.ChallEE.add(b)
		addBrandID(b, m.BrandID, typ)
		addOptionalThumbs(b, 0, m.Thumbs)
	})
}

func (m *CardCInitReq) read(s *cryptobyte.String) error {
	const typ = "CardCInitReq"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CardCInitReq{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE", err)
	}
	if out.BrandID, err = readBrandID(&seq, typ); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 0, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER of m.
func (m *CardCInitReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalCardCInitReq decodes a CardCInitReq.
func UnmarshalCardCInitReq(b []byte) (*CardCInitReq, error) {
	return unmarshalNew[CardCInitReq](b, "CardCInitReq")
}

// CardCInitRes ::= S{CA, CardCInitResTBS}: the CA's SignedData (content
// type setct-CardCInitResTBS), as ContentInfo DER.
type CardCInitRes struct {
	SignedData []byte
}

// Tag implements Message.
func (m *CardCInitRes) Tag() uint32 { return TagCardCInitRes }

// Name implements Message.
func (m *CardCInitRes) Name() string { return "CardCInitRes" }

// Raw returns the ContentInfo DER.
func (m *CardCInitRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *CardCInitRes) Marshal() ([]byte, error) {
	return marshalContentInfo(m.SignedData, "CardCInitRes")
}

// UnmarshalCardCInitRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalCardCInitRes(b []byte) (*CardCInitRes, error) {
	ci, err := unmarshalContentInfo(b, "CardCInitRes")
	if err != nil {
		return nil, err
	}
	return &CardCInitRes{SignedData: ci}, nil
}

// CardCInitResTBS is what the CA signs in CardCInitRes:
//
//	CardCInitResTBS ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE Challenge, lid-CA [0] LocalID OPTIONAL,
//	  caeThumb [1] EXPLICIT CertThumb,
//	  brandCRLIdentifier [2] EXPLICIT BrandCRLIdentifier OPTIONAL,
//	  thumbs [3] EXPLICIT Thumbs OPTIONAL }
//
// caeThumb names the CA key-exchange certificate the cardholder seals its
// RegFormReq to.
type CardCInitResTBS struct {
	RRPID              RRPID
	LIDEE              []byte
	ChallEE            Challenge
	LIDCA              []byte // optional
	CAEThumb           CertThumb
	BrandCRLIdentifier []byte  // optional: DER of one element, opaque
	Thumbs             *Thumbs // optional

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CardCInitResTBS) Raw() []byte { return d.raw }

func (d *CardCInitResTBS) add(b *cryptobyte.Builder) {
	const typ = "CardCInitResTBS"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		addExplicit(b, 1, d.CAEThumb.add)
		addOpaqueExplicit(b, 2, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalThumbs(b, 3, d.Thumbs)
	})
}

func (d *CardCInitResTBS) read(s *cryptobyte.String) error {
	const typ = "CardCInitResTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CardCInitResTBS{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if err := readRequiredThumb(&seq, 1, typ, "caeThumb", &out.CAEThumb); err != nil {
		return err
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 2, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 3, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *CardCInitResTBS) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCardCInitResTBS decodes a CardCInitResTBS.
func UnmarshalCardCInitResTBS(b []byte) (*CardCInitResTBS, error) {
	return unmarshalNew[CardCInitResTBS](b, "CardCInitResTBS")
}

// ---- Me-AqCInitReq / Me-AqCInitRes / Me-AqCInitResTBS ----

// MeAqCInitReq is the merchant's or payment gateway's registration
// initialization request (Me-AqCInitReq):
//
//	Me-AqCInitReq ::= SEQUENCE { rrpid RRPID, localID-EE LocalID,
//	  chall-EE Challenge, requestType RequestType, idData IDData,
//	  brandID BrandID, language Language,
//	  thumbs [2] EXPLICIT Thumbs OPTIONAL }
type MeAqCInitReq struct {
	RRPID       RRPID
	LocalIDEE   []byte
	ChallEE     Challenge
	RequestType RequestType
	IDData      IDData
	BrandID     string
	Language    string
	Thumbs      *Thumbs // optional

	raw []byte
}

// Tag implements Message.
func (m *MeAqCInitReq) Tag() uint32 { return TagMeAqCInitReq }

// Name implements Message.
func (m *MeAqCInitReq) Name() string { return "Me-AqCInitReq" }

// Raw returns the bytes m was decoded from.
func (m *MeAqCInitReq) Raw() []byte { return m.raw }

func (m *MeAqCInitReq) add(b *cryptobyte.Builder) {
	const typ = "Me-AqCInitReq"
	if m.RequestType.Cardholder() {
		failf(b, typ, "requestType", "%s is a cardholder request", m.RequestType)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		m.RRPID.add(b)
		addLocalID(b, m.LocalIDEE, typ, "localID-EE")
		m.ChallEE.add(b)
		addRequestType(b, m.RequestType, typ)
		m.IDData.add(b)
		addBrandID(b, m.BrandID, typ)
		addVisibleString(b, der.TagVisibleString, m.Language, typ, "language", 1, maxLanguage)
		addOptionalThumbs(b, 2, m.Thumbs)
	})
}

func (m *MeAqCInitReq) read(s *cryptobyte.String) error {
	const typ = "Me-AqCInitReq"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := MeAqCInitReq{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LocalIDEE, err = readLocalID(&seq, typ, "localID-EE"); err != nil {
		return err
	}
	if err := out.ChallEE.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE", err)
	}
	if out.RequestType, err = readRequestType(&seq, typ); err != nil {
		return err
	}
	if out.RequestType.Cardholder() {
		return der.Errorf(typ, "requestType", "%s is a cardholder request: %w", out.RequestType, der.ErrInvalid)
	}
	if err := out.IDData.read(&seq); err != nil {
		return der.Wrap(typ, "idData", err)
	}
	if out.BrandID, err = readBrandID(&seq, typ); err != nil {
		return err
	}
	if out.Language, err = readVisibleString(&seq, typ, "language", 1, maxLanguage); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 2, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER of m.
func (m *MeAqCInitReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalMeAqCInitReq decodes a Me-AqCInitReq.
func UnmarshalMeAqCInitReq(b []byte) (*MeAqCInitReq, error) {
	return unmarshalNew[MeAqCInitReq](b, "Me-AqCInitReq")
}

// MeAqCInitRes ::= S{CA, Me-AqCInitResTBS} (Me-AqCInitRes): the CA's
// SignedData (content type setct-MeAqCInitResTBS), as ContentInfo DER.
type MeAqCInitRes struct {
	SignedData []byte
}

// Tag implements Message.
func (m *MeAqCInitRes) Tag() uint32 { return TagMeAqCInitRes }

// Name implements Message.
func (m *MeAqCInitRes) Name() string { return "Me-AqCInitRes" }

// Raw returns the ContentInfo DER.
func (m *MeAqCInitRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *MeAqCInitRes) Marshal() ([]byte, error) {
	return marshalContentInfo(m.SignedData, "Me-AqCInitRes")
}

// UnmarshalMeAqCInitRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalMeAqCInitRes(b []byte) (*MeAqCInitRes, error) {
	ci, err := unmarshalContentInfo(b, "Me-AqCInitRes")
	if err != nil {
		return nil, err
	}
	return &MeAqCInitRes{SignedData: ci}, nil
}

// MeAqCInitResTBS is what the CA signs in Me-AqCInitRes: merchants and
// gateways get their registration form at once (there is no RegFormReq).
//
//	Me-AqCInitResTBS ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE Challenge, lid-CA [0] LocalID OPTIONAL, chall-CA Challenge,
//	  requestType RequestType, regFormOrReferral RegFormOrReferral,
//	  acctDataField [2] EXPLICIT RegField OPTIONAL,
//	  caeThumb [3] EXPLICIT CertThumb,
//	  brandCRLIdentifier [4] EXPLICIT BrandCRLIdentifier OPTIONAL,
//	  thumbs [5] EXPLICIT Thumbs OPTIONAL }
//
// acctDataField describes the account data (AcctData) the CA wants in the
// CertReq's EncX.
type MeAqCInitResTBS struct {
	RRPID              RRPID
	LIDEE              []byte
	ChallEE            Challenge
	LIDCA              []byte // optional
	ChallCA            Challenge
	RequestType        RequestType
	RegFormOrReferral  RegFormOrReferral
	AcctDataField      *RegField // optional
	CAEThumb           CertThumb
	BrandCRLIdentifier []byte  // optional: DER of one element, opaque
	Thumbs             *Thumbs // optional

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *MeAqCInitResTBS) Raw() []byte { return d.raw }

func (d *MeAqCInitResTBS) add(b *cryptobyte.Builder) {
	const typ = "Me-AqCInitResTBS"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		d.ChallCA.add(b)
		addRequestType(b, d.RequestType, typ)
		d.RegFormOrReferral.add(b)
		if d.AcctDataField != nil {
			addExplicit(b, 2, d.AcctDataField.add)
		}
		addExplicit(b, 3, d.CAEThumb.add)
		addOpaqueExplicit(b, 4, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalThumbs(b, 5, d.Thumbs)
	})
}

func (d *MeAqCInitResTBS) read(s *cryptobyte.String) error {
	const typ = "Me-AqCInitResTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := MeAqCInitResTBS{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if err := out.ChallCA.read(&seq); err != nil {
		return der.Wrap(typ, "chall-CA", err)
	}
	if out.RequestType, err = readRequestType(&seq, typ); err != nil {
		return err
	}
	if err := out.RegFormOrReferral.read(&seq); err != nil {
		return der.Wrap(typ, "regFormOrReferral", err)
	}
	var f RegField
	ok, err := readOptionalExplicit(&seq, 2, typ, "acctDataField", func(s *cryptobyte.String) error {
		return der.Wrap(typ, "acctDataField", f.read(s))
	})
	if err != nil {
		return err
	}
	if ok {
		out.AcctDataField = &f
	}
	if err := readRequiredThumb(&seq, 3, typ, "caeThumb", &out.CAEThumb); err != nil {
		return err
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 4, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 5, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *MeAqCInitResTBS) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalMeAqCInitResTBS decodes a Me-AqCInitResTBS.
func UnmarshalMeAqCInitResTBS(b []byte) (*MeAqCInitResTBS, error) {
	return unmarshalNew[MeAqCInitResTBS](b, "Me-AqCInitResTBS")
}

// ---- RegFormOrReferral, RegFormData (verbatim), RegTemplate, RegField,
// ReferralData ----

// RegFormOrReferral ::= CHOICE { regFormData [0] RegFormData,
// referralData [1] ReferralData } (verbatim; IMPLICIT tags). Exactly one is
// set.
type RegFormOrReferral struct {
	RegFormData  *RegFormData
	ReferralData *ReferralData
}

func (v *RegFormOrReferral) add(b *cryptobyte.Builder) {
	switch {
	case v.RegFormData != nil && v.ReferralData == nil:
		v.RegFormData.addAs(b, der.Explicit(0))
	case v.RegFormData == nil && v.ReferralData != nil:
		v.ReferralData.addAs(b, der.Explicit(1))
	default:
		failf(b, "RegFormOrReferral", "", "exactly one of regFormData and referralData must be set")
	}
}

func (v *RegFormOrReferral) read(s *cryptobyte.String) error {
	const typ = "RegFormOrReferral"
	var out RegFormOrReferral
	switch t, _ := der.PeekTag(*s); t {
	case der.Explicit(0):
		out.RegFormData = new(RegFormData)
		if err := out.RegFormData.readAs(s, t); err != nil {
			return der.Wrap(typ, "regFormData", err)
		}
	case der.Explicit(1):
		out.ReferralData = new(ReferralData)
		if err := out.ReferralData.readAs(s, t); err != nil {
			return der.Wrap(typ, "referralData", err)
		}
	default:
		if _, err := der.ReadElement(s); err != nil {
			return der.Wrap(typ, "", err)
		}
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", t, der.ErrUnexpected)
	}
	*v = out
	return nil
}

// RegFormData ::= SEQUENCE { regTemplate RegTemplate OPTIONAL, policy
// PolicyText } (verbatim). PolicyText is a VisibleString (1..8192) here.
type RegFormData struct {
	RegTemplate *RegTemplate // optional: nil when the CA asks for nothing
	Policy      string
}

func (v *RegFormData) addAs(b *cryptobyte.Builder, t der.Tag) {
	addTagged(b, t, func(b *cryptobyte.Builder) {
		if v.RegTemplate != nil {
			v.RegTemplate.add(b)
		}
		addVisibleString(b, der.TagVisibleString, v.Policy, "RegFormData", "policy", 1, maxPolicyText)
	})
}

func (v *RegFormData) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "RegFormData"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out RegFormData
	if nextIs(seq, der.TagSequence) {
		out.RegTemplate = new(RegTemplate)
		if err := out.RegTemplate.read(&seq); err != nil {
			return der.Wrap(typ, "regTemplate", err)
		}
	}
	if out.Policy, err = readVisibleString(&seq, typ, "policy", 1, maxPolicyText); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// RegTemplate is the form an issuer defines per BIN range and language:
//
//	RegTemplate ::= SEQUENCE { regFormID INTEGER (0..MAX),
//	  brandLogoURL [0] URL OPTIONAL, cardLogoURL [1] URL OPTIONAL,
//	  regFieldSeq SEQUENCE SIZE(1..MAX) OF RegField }
//
// The cardholder echoes regFormID in CertReqData. URLs "" are absent.
type RegTemplate struct {
	RegFormID    int64
	BrandLogoURL string
	CardLogoURL  string
	RegFieldSeq  []RegField
}

func (v *RegTemplate) add(b *cryptobyte.Builder) {
	const typ = "RegTemplate"
	switch {
	case v.RegFormID < 0:
		failf(b, typ, "regFormID", "negative")
		return
	case len(v.RegFieldSeq) == 0:
		failf(b, typ, "regFieldSeq", "empty")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagInteger, v.RegFormID)
		addOptionalVisible(b, 0, v.BrandLogoURL, typ, "brandLogoURL", 1, maxURL)
		addOptionalVisible(b, 1, v.CardLogoURL, typ, "cardLogoURL", 1, maxURL)
		addSequence(b, func(b *cryptobyte.Builder) {
			for i := range v.RegFieldSeq {
				v.RegFieldSeq[i].add(b)
			}
		})
	})
}

func (v *RegTemplate) read(s *cryptobyte.String) error {
	const typ = "RegTemplate"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out RegTemplate
	if out.RegFormID, err = readIntRange(&seq, der.TagInteger, typ, "regFormID", 0, 1<<63-1); err != nil {
		return err
	}
	if out.BrandLogoURL, err = readOptionalVisible(&seq, 0, typ, "brandLogoURL", 1, maxURL); err != nil {
		return err
	}
	if out.CardLogoURL, err = readOptionalVisible(&seq, 1, typ, "cardLogoURL", 1, maxURL); err != nil {
		return err
	}
	if out.RegFieldSeq, err = readSequenceOf[RegField](&seq, typ, "regFieldSeq"); err != nil {
		return err
	}
	if len(out.RegFieldSeq) == 0 {
		return der.Errorf(typ, "regFieldSeq", "empty: %w", der.ErrInvalid)
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// RegField is one field of a registration form:
//
//	RegField ::= SEQUENCE { fieldId [0] OBJECT IDENTIFIER OPTIONAL,
//	  fieldName FieldName, fieldDesc [1] FieldDesc OPTIONAL,
//	  fieldLen [2] INTEGER (1..128) DEFAULT 128,
//	  fieldRequired [3] BOOLEAN DEFAULT FALSE,
//	  fieldInvisible [4] BOOLEAN DEFAULT FALSE,
//	  fieldValue [5] FieldValue OPTIONAL }
//
// FieldLen is the maximum length of the answer; 0 stands for the DEFAULT
// (128), which DER leaves out, so a decoded RegField always has 1..128.
// FieldValue is a value the CA fills in (for an invisible field, the value
// to return); "" is absent.
type RegField struct {
	FieldID        asn1.ObjectIdentifier // optional
	FieldName      string
	FieldDesc      string
	FieldLen       int
	FieldRequired  bool
	FieldInvisible bool
	FieldValue     string
}

// MaxLen returns the effective maximum answer length.
func (v *RegField) MaxLen() int {
	if v.FieldLen == 0 {
		return maxFieldLen
	}
	return v.FieldLen
}

func (v *RegField) add(b *cryptobyte.Builder) {
	const typ = "RegField"
	if v.FieldLen < 0 || v.FieldLen > maxFieldLen {
		failf(b, typ, "fieldLen", "%d outside 1..%d", v.FieldLen, maxFieldLen)
		return
	}
	if len(v.FieldValue) > v.MaxLen() {
		failf(b, typ, "fieldValue", "longer than fieldLen %d", v.MaxLen())
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		if v.FieldID != nil {
			addOID(b, der.Implicit(0), v.FieldID)
		}
		addVisibleString(b, der.TagVisibleString, v.FieldName, typ, "fieldName", 1, maxFieldName)
		addOptionalVisible(b, 1, v.FieldDesc, typ, "fieldDesc", 1, maxFieldDesc)
		if v.FieldLen != 0 && v.FieldLen != maxFieldLen {
			addInt64(b, der.Implicit(2), int64(v.FieldLen))
		}
		addDefaultFalse(b, der.Implicit(3), v.FieldRequired)
		addDefaultFalse(b, der.Implicit(4), v.FieldInvisible)
		addOptionalVisible(b, 5, v.FieldValue, typ, "fieldValue", 1, maxFieldLen)
	})
}

func (v *RegField) read(s *cryptobyte.String) error {
	const typ = "RegField"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := RegField{FieldLen: maxFieldLen}
	if nextIs(seq, der.Implicit(0)) {
		if out.FieldID, err = readOID(&seq, der.Implicit(0), typ, "fieldId"); err != nil {
			return err
		}
	}
	if out.FieldName, err = readVisibleString(&seq, typ, "fieldName", 1, maxFieldName); err != nil {
		return err
	}
	if out.FieldDesc, err = readOptionalVisible(&seq, 1, typ, "fieldDesc", 1, maxFieldDesc); err != nil {
		return err
	}
	if nextIs(seq, der.Implicit(2)) {
		n, err := readIntRange(&seq, der.Implicit(2), typ, "fieldLen", 1, maxFieldLen-1)
		if err != nil {
			return err // 128 is the DEFAULT: encoding it is not DER
		}
		out.FieldLen = int(n)
	}
	if out.FieldRequired, err = readOptionalDefaultFalse(&seq, der.Implicit(3), typ, "fieldRequired"); err != nil {
		return err
	}
	if out.FieldInvisible, err = readOptionalDefaultFalse(&seq, der.Implicit(4), typ, "fieldInvisible"); err != nil {
		return err
	}
	if out.FieldValue, err = readOptionalVisible(&seq, 5, typ, "fieldValue", 1, out.FieldLen); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// ReferralData sends the requester elsewhere instead of giving a form:
//
//	ReferralData ::= SEQUENCE { reason [0] VisibleString (SIZE(1..512))
//	  OPTIONAL, referralURLSeq [1] SEQUENCE SIZE(1..MAX) OF URL OPTIONAL }
type ReferralData struct {
	Reason         string   // optional
	ReferralURLSeq []string // optional: nil when absent
}

func (v *ReferralData) addAs(b *cryptobyte.Builder, t der.Tag) {
	const typ = "ReferralData"
	if v.ReferralURLSeq != nil && len(v.ReferralURLSeq) == 0 {
		failf(b, typ, "referralURLSeq", "empty")
		return
	}
	addTagged(b, t, func(b *cryptobyte.Builder) {
		addOptionalVisible(b, 0, v.Reason, typ, "reason", 1, maxReferralReason)
		if v.ReferralURLSeq != nil {
			addTagged(b, der.Explicit(1), func(b *cryptobyte.Builder) {
				for _, u := range v.ReferralURLSeq {
					addVisibleString(b, der.TagVisibleString, u, typ, "referralURLSeq", 1, maxURL)
				}
			})
		}
	})
}

func (v *ReferralData) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "ReferralData"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out ReferralData
	if out.Reason, err = readOptionalVisible(&seq, 0, typ, "reason", 1, maxReferralReason); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(1)) {
		urls, _, err := readSequenceAs(&seq, der.Explicit(1), typ)
		if err != nil {
			return der.Wrap(typ, "referralURLSeq", err)
		}
		out.ReferralURLSeq = []string{}
		for len(urls) > 0 {
			u, err := readVisibleString(&urls, typ, "referralURLSeq", 1, maxURL)
			if err != nil {
				return err
			}
			out.ReferralURLSeq = append(out.ReferralURLSeq, u)
		}
		if len(out.ReferralURLSeq) == 0 {
			return der.Errorf(typ, "referralURLSeq", "empty: %w", der.ErrInvalid)
		}
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// ---- RegFormReq / RegFormReqData / PANOnly ----

// RegFormReq ::= EXH{CA, RegFormReqData, PANOnly}: the cardholder's
// envelope to the CA's key-exchange key (content type setct-RegFormReqTBE,
// PANOnly as the extra data), as ContentInfo DER.
type RegFormReq struct {
	Envelope []byte
}

// Tag implements Message.
func (m *RegFormReq) Tag() uint32 { return TagRegFormReq }

// Name implements Message.
func (m *RegFormReq) Name() string { return "RegFormReq" }

// Raw returns the ContentInfo DER.
func (m *RegFormReq) Raw() []byte { return m.Envelope }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *RegFormReq) Marshal() ([]byte, error) { return marshalContentInfo(m.Envelope, "RegFormReq") }

// UnmarshalRegFormReq checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalRegFormReq(b []byte) (*RegFormReq, error) {
	ci, err := unmarshalContentInfo(b, "RegFormReq")
	if err != nil {
		return nil, err
	}
	return &RegFormReq{Envelope: ci}, nil
}

// RegFormReqData is the cardholder's request for a registration form:
//
//	RegFormReqData ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE2 Challenge, lid-CA [0] LocalID OPTIONAL,
//	  requestType RequestType, language Language,
//	  thumbs [1] EXPLICIT Thumbs OPTIONAL }
type RegFormReqData struct {
	RRPID       RRPID
	LIDEE       []byte
	ChallEE2    Challenge
	LIDCA       []byte // optional
	RequestType RequestType
	Language    string
	Thumbs      *Thumbs // optional

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *RegFormReqData) Raw() []byte { return d.raw }

func (d *RegFormReqData) add(b *cryptobyte.Builder) {
	const typ = "RegFormReqData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE2.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		addRequestType(b, d.RequestType, typ)
		addVisibleString(b, der.TagVisibleString, d.Language, typ, "language", 1, maxLanguage)
		addOptionalThumbs(b, 1, d.Thumbs)
	})
}

func (d *RegFormReqData) read(s *cryptobyte.String) error {
	const typ = "RegFormReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := RegFormReqData{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE2.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE2", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if out.RequestType, err = readRequestType(&seq, typ); err != nil {
		return err
	}
	if out.Language, err = readVisibleString(&seq, typ, "language", 1, maxLanguage); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 1, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *RegFormReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalRegFormReqData decodes a RegFormReqData.
func UnmarshalRegFormReqData(b []byte) (*RegFormReqData, error) {
	return unmarshalNew[RegFormReqData](b, "RegFormReqData")
}

// PANOnly ::= SEQUENCE { pan PAN, exNonce Nonce }: the extra data of
// RegFormReq's EXH, so the CA can pick the form for the card's BIN. Printed
// with the PAN masked.
type PANOnly struct {
	PAN     string
	EXNonce Nonce

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PANOnly) Raw() []byte { return v.raw }

func (v *PANOnly) add(b *cryptobyte.Builder) {
	const typ = "PANOnly"
	if err := checkPAN(v.PAN, typ); err != nil {
		b.SetError(err)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addNumericString(b, der.TagNumericString, v.PAN, typ, "pan", 12, 19)
		v.EXNonce.add(b)
	})
}

func (v *PANOnly) read(s *cryptobyte.String) error {
	const typ = "PANOnly"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PANOnly{raw: raw}
	if out.PAN, err = readPAN(&seq, typ); err != nil {
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
func (v *PANOnly) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPANOnly decodes a PANOnly.
func UnmarshalPANOnly(b []byte) (*PANOnly, error) { return unmarshalNew[PANOnly](b, "PANOnly") }

// String shows only the masked PAN.
func (v PANOnly) String() string { return "PANOnly{PAN: " + maskPAN(v.PAN) + "}" }

// Format makes every fmt verb print String.
func (v PANOnly) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// ---- RegFormRes / RegFormResTBS ----

// RegFormRes ::= S{CA, RegFormResTBS}: the CA's SignedData (content type
// setct-RegFormResTBS), as ContentInfo DER.
type RegFormRes struct {
	SignedData []byte
}

// Tag implements Message.
func (m *RegFormRes) Tag() uint32 { return TagRegFormRes }

// Name implements Message.
func (m *RegFormRes) Name() string { return "RegFormRes" }

// Raw returns the ContentInfo DER.
func (m *RegFormRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *RegFormRes) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "RegFormRes") }

// UnmarshalRegFormRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalRegFormRes(b []byte) (*RegFormRes, error) {
	ci, err := unmarshalContentInfo(b, "RegFormRes")
	if err != nil {
		return nil, err
	}
	return &RegFormRes{SignedData: ci}, nil
}

// RegFormResTBS is what the CA signs in RegFormRes:
//
//	RegFormResTBS ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE2 Challenge, lid-CA [0] LocalID OPTIONAL, chall-CA Challenge,
//	  caeThumb [1] EXPLICIT CertThumb OPTIONAL, requestType RequestType,
//	  regFormOrReferral RegFormOrReferral,
//	  brandCRLIdentifier [2] EXPLICIT BrandCRLIdentifier OPTIONAL,
//	  thumbs [3] EXPLICIT Thumbs OPTIONAL }
//
// chall-CA is the CA's nonce the CertReq must echo (deviation 6).
type RegFormResTBS struct {
	RRPID              RRPID
	LIDEE              []byte
	ChallEE2           Challenge
	LIDCA              []byte // optional
	ChallCA            Challenge
	CAEThumb           *CertThumb // optional
	RequestType        RequestType
	RegFormOrReferral  RegFormOrReferral
	BrandCRLIdentifier []byte  // optional: DER of one element, opaque
	Thumbs             *Thumbs // optional

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *RegFormResTBS) Raw() []byte { return d.raw }

func (d *RegFormResTBS) add(b *cryptobyte.Builder) {
	const typ = "RegFormResTBS"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE2.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		d.ChallCA.add(b)
		addOptionalCertThumb(b, 1, d.CAEThumb)
		addRequestType(b, d.RequestType, typ)
		d.RegFormOrReferral.add(b)
		addOpaqueExplicit(b, 2, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalThumbs(b, 3, d.Thumbs)
	})
}

func (d *RegFormResTBS) read(s *cryptobyte.String) error {
	const typ = "RegFormResTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := RegFormResTBS{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE2.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE2", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if err := out.ChallCA.read(&seq); err != nil {
		return der.Wrap(typ, "chall-CA", err)
	}
	if out.CAEThumb, err = readOptionalCertThumb(&seq, 1, typ, "caeThumb"); err != nil {
		return err
	}
	if out.RequestType, err = readRequestType(&seq, typ); err != nil {
		return err
	}
	if err := out.RegFormOrReferral.read(&seq); err != nil {
		return der.Wrap(typ, "regFormOrReferral", err)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 2, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 3, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *RegFormResTBS) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalRegFormResTBS decodes a RegFormResTBS.
func UnmarshalRegFormResTBS(b []byte) (*RegFormResTBS, error) {
	return unmarshalNew[RegFormResTBS](b, "RegFormResTBS")
}

// ---- CertReq / CertReqData ----

// CertReq ::= CHOICE { encX [0] EXPLICIT EncX{EE, CA, CertReqData,
// AcctInfo}, enc [1] EXPLICIT Enc{EE, CA, CertReqData} }: the end entity's
// certificate request, as one of two opaque envelopes (ContentInfo DER).
// EncX carries AcctInfo in its extra data (cardholders always, merchants
// and gateways when the CA asked for account data). Exactly one is set.
type CertReq struct {
	EncX []byte
	Enc  []byte

	raw []byte
}

// Tag implements Message.
func (m *CertReq) Tag() uint32 { return TagCertReq }

// Name implements Message.
func (m *CertReq) Name() string { return "CertReq" }

// Raw returns the bytes m was decoded from.
func (m *CertReq) Raw() []byte { return m.raw }

func (m *CertReq) add(b *cryptobyte.Builder) {
	addEnvelopeChoice(b, "CertReq", "encX", m.EncX, "enc", m.Enc)
}

func (m *CertReq) read(s *cryptobyte.String) (err error) {
	var out CertReq
	out.EncX, out.Enc, out.raw, err = readEnvelopeChoice(s, "CertReq", "encX", "enc")
	if err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER of m.
func (m *CertReq) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalCertReq decodes a CertReq.
func UnmarshalCertReq(b []byte) (*CertReq, error) { return unmarshalNew[CertReq](b, "CertReq") }

// addEnvelopeChoice writes CHOICE { a [0] EXPLICIT ContentInfo, b [1]
// EXPLICIT ContentInfo } (CertReq, CertRes, CertInqRes): both alternatives
// are opaque PKCS#7, which the modern suite's envelopes do not tell apart,
// so the tag does.
func addEnvelopeChoice(b *cryptobyte.Builder, typ, nameA string, a []byte, nameB string, c []byte) {
	switch {
	case a != nil && c == nil:
		addExplicit(b, 0, func(b *cryptobyte.Builder) { addContentInfoDER(b, a, typ, nameA) })
	case a == nil && c != nil:
		addExplicit(b, 1, func(b *cryptobyte.Builder) { addContentInfoDER(b, c, typ, nameB) })
	default:
		failf(b, typ, "", "exactly one of %s and %s must be set", nameA, nameB)
	}
}

func readEnvelopeChoice(s *cryptobyte.String, typ, nameA, nameB string) (a, c, raw []byte, err error) {
	el, err := der.ReadElement(s)
	if err != nil {
		return nil, nil, nil, der.Wrap(typ, "", err)
	}
	in := cryptobyte.String(el.Contents)
	switch el.Tag {
	case der.Explicit(0):
		a, err = readContentInfoDER(&in, typ, nameA)
	case der.Explicit(1):
		c, err = readContentInfoDER(&in, typ, nameB)
	default:
		err = der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if err := expectEnd(in, typ, ""); err != nil {
		return nil, nil, nil, err
	}
	return a, c, el.Raw, nil
}

// CertReqData is the content of a certificate request:
//
//	CertReqData ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE3 Challenge, lid-CA [0] LocalID OPTIONAL,
//	  chall-CA [1] Challenge,               -- OPTIONAL in SET 1.0; deviation 6
//	  requestType RequestType, requestDate Date,
//	  idData [2] EXPLICIT IDData OPTIONAL,
//	  regFormID INTEGER (0..MAX), regForm [3] RegForm OPTIONAL,
//	  caBackKeyData [4] EXPLICIT BackKeyData OPTIONAL,
//	  publicKeySorE PublicKeySorE,
//	  eeThumb [5] EXPLICIT CertThumb OPTIONAL,
//	  thumbs [6] EXPLICIT Thumbs OPTIONAL,
//	  popSignatures [7] PoPSignatures OPTIONAL,  -- deviation 6
//	  crqExtensions [8] MsgExtensions OPTIONAL }
//	RegForm ::= SEQUENCE SIZE(1..MAX) OF RegFormItems
//
// Encoding and decoding check that publicKeySorE holds exactly the keys
// requestType asks for, that idData is absent from cardholder requests, and
// that each PoPSignature names a key being certified, at most once.
// CABackKeyData is the symmetric key the CA encrypts CertRes with (EncK);
// EEThumb names the certificate being renewed.
type CertReqData struct {
	RRPID         RRPID
	LIDEE         []byte
	ChallEE3      Challenge
	LIDCA         []byte // optional
	ChallCA       Challenge
	RequestType   RequestType
	RequestDate   time.Time
	IDData        *IDData // optional
	RegFormID     int64
	RegForm       []RegFormItem // optional: nil when absent
	CABackKeyData *BackKeyData  // optional
	PublicKeySorE PublicKeySorE
	EEThumb       *CertThumb     // optional
	Thumbs        *Thumbs        // optional
	PoPSignatures []PoPSignature // optional: nil when absent
	CRqExtensions MsgExtensions

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CertReqData) Raw() []byte { return d.raw }

// check is the consistency both Marshal and Unmarshal enforce.
func (d *CertReqData) check() error {
	const typ = "CertReqData"
	t := d.RequestType
	if !t.Valid() {
		return der.Errorf(typ, "requestType", "%s is not a valid value: %w", t, der.ErrInvalid)
	}
	k := &d.PublicKeySorE
	if (k.PublicKeyS != nil) != t.WantsSignature() || (k.PublicKeyE != nil) != t.WantsEncryption() {
		return der.Errorf(typ, "publicKeySorE", "keys do not match requestType %s: %w", t, der.ErrInvalid)
	}
	if t.Cardholder() && d.IDData != nil {
		return der.Errorf(typ, "idData", "present in a cardholder request: %w", der.ErrInvalid)
	}
	var seen [2]bool
	for i, p := range d.PoPSignatures {
		if p.PoPKey != PoPKeyS && p.PoPKey != PoPKeyE {
			return der.Errorf(typ, fmt.Sprintf("popSignatures[%d]", i), "popKey %d: %w", p.PoPKey, der.ErrInvalid)
		}
		if seen[p.PoPKey] || k.key(p.PoPKey) == nil {
			return der.Errorf(typ, fmt.Sprintf("popSignatures[%d]", i), "duplicate or for a key not requested: %w", der.ErrInvalid)
		}
		seen[p.PoPKey] = true
	}
	return nil
}

func (d *CertReqData) add(b *cryptobyte.Builder) {
	const typ = "CertReqData"
	if err := d.check(); err != nil {
		b.SetError(err)
		return
	}
	switch {
	case d.RegFormID < 0:
		failf(b, typ, "regFormID", "negative")
		return
	case d.RegForm != nil && len(d.RegForm) == 0:
		failf(b, typ, "regForm", "empty")
		return
	case d.PoPSignatures != nil && len(d.PoPSignatures) == 0:
		failf(b, typ, "popSignatures", "empty")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE3.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		addOctets(b, der.Implicit(1), d.ChallCA[:])
		addRequestType(b, d.RequestType, typ)
		addDate(b, d.RequestDate)
		if d.IDData != nil {
			addExplicit(b, 2, d.IDData.add)
		}
		addInt64(b, der.TagInteger, d.RegFormID)
		if d.RegForm != nil {
			addTagged(b, der.Explicit(3), func(b *cryptobyte.Builder) {
				for i := range d.RegForm {
					d.RegForm[i].add(b)
				}
			})
		}
		if d.CABackKeyData != nil {
			addExplicit(b, 4, d.CABackKeyData.add)
		}
		d.PublicKeySorE.add(b)
		addOptionalCertThumb(b, 5, d.EEThumb)
		addOptionalThumbs(b, 6, d.Thumbs)
		if d.PoPSignatures != nil {
			addTagged(b, der.Explicit(7), func(b *cryptobyte.Builder) {
				for i := range d.PoPSignatures {
					d.PoPSignatures[i].add(b)
				}
			})
		}
		addOptionalExtensions(b, 8, d.CRqExtensions)
	})
}

func (d *CertReqData) read(s *cryptobyte.String) error {
	const typ = "CertReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CertReqData{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE3.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE3", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if out.ChallCA, err = readOctets20(&seq, der.Implicit(1), typ, "chall-CA"); err != nil {
		return err
	}
	if out.RequestType, err = readRequestType(&seq, typ); err != nil {
		return err
	}
	if out.RequestDate, err = readDate(&seq, typ, "requestDate"); err != nil {
		return err
	}
	var id IDData
	ok, err := readOptionalExplicit(&seq, 2, typ, "idData", func(s *cryptobyte.String) error {
		return der.Wrap(typ, "idData", id.read(s))
	})
	if err != nil {
		return err
	}
	if ok {
		out.IDData = &id
	}
	if out.RegFormID, err = readIntRange(&seq, der.TagInteger, typ, "regFormID", 0, 1<<63-1); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(3)) {
		items, _, err := readSequenceAs(&seq, der.Explicit(3), typ)
		if err != nil {
			return der.Wrap(typ, "regForm", err)
		}
		out.RegForm = []RegFormItem{}
		for len(items) > 0 {
			var it RegFormItem
			if err := it.read(&items); err != nil {
				return der.Wrap(typ, fmt.Sprintf("regForm[%d]", len(out.RegForm)), err)
			}
			out.RegForm = append(out.RegForm, it)
		}
		if len(out.RegForm) == 0 {
			return der.Errorf(typ, "regForm", "empty: %w", der.ErrInvalid)
		}
	}
	var bk BackKeyData
	if ok, err = readOptionalExplicit(&seq, 4, typ, "caBackKeyData", func(s *cryptobyte.String) error {
		return der.Wrap(typ, "caBackKeyData", bk.read(s))
	}); err != nil {
		return err
	}
	if ok {
		out.CABackKeyData = &bk
	}
	if err := out.PublicKeySorE.read(&seq); err != nil {
		return der.Wrap(typ, "publicKeySorE", err)
	}
	if out.EEThumb, err = readOptionalCertThumb(&seq, 5, typ, "eeThumb"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 6, typ, "thumbs"); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(7)) {
		pops, _, err := readSequenceAs(&seq, der.Explicit(7), typ)
		if err != nil {
			return der.Wrap(typ, "popSignatures", err)
		}
		out.PoPSignatures = []PoPSignature{}
		for len(pops) > 0 {
			var p PoPSignature
			if err := p.read(&pops); err != nil {
				return der.Wrap(typ, fmt.Sprintf("popSignatures[%d]", len(out.PoPSignatures)), err)
			}
			out.PoPSignatures = append(out.PoPSignatures, p)
		}
		if len(out.PoPSignatures) == 0 {
			return der.Errorf(typ, "popSignatures", "empty: %w", der.ErrInvalid)
		}
	}
	if out.CRqExtensions, err = readOptionalExtensions(&seq, 8, typ, "crqExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	if err := out.check(); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *CertReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCertReqData decodes a CertReqData.
func UnmarshalCertReqData(b []byte) (*CertReqData, error) {
	return unmarshalNew[CertReqData](b, "CertReqData")
}

// PoPInput returns the DER of what every PoPSignature of d signs
// (deviation 6):
//
//	PoPInput ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE3 Challenge, chall-CA Challenge, requestType RequestType,
//	  publicKeySorE PublicKeySorE }
//
// It binds each new key to this request, the CA's nonce and the whole set
// of keys requested, and leaves out the signatures themselves (which sit
// inside CertReqData). Like HODInput it is computed, never sent; strict DER
// makes the encoding the same on both sides.
func (d *CertReqData) PoPInput() ([]byte, error) {
	const typ = "PoPInput"
	return marshal(func(b *cryptobyte.Builder) {
		addSequence(b, func(b *cryptobyte.Builder) {
			d.RRPID.add(b)
			addLocalID(b, d.LIDEE, typ, "lid-EE")
			d.ChallEE3.add(b)
			d.ChallCA.add(b)
			addRequestType(b, d.RequestType, typ)
			d.PublicKeySorE.add(b)
		})
	})
}

// RegFormItems ::= SEQUENCE { fieldName FieldName, fieldValue FieldValue }:
// one answered field of the registration form (FieldValue may be empty).
type RegFormItem struct {
	FieldName  string
	FieldValue string
}

func (v *RegFormItem) add(b *cryptobyte.Builder) {
	const typ = "RegFormItems"
	addSequence(b, func(b *cryptobyte.Builder) {
		addVisibleString(b, der.TagVisibleString, v.FieldName, typ, "fieldName", 1, maxFieldName)
		addVisibleString(b, der.TagVisibleString, v.FieldValue, typ, "fieldValue", 0, maxFieldLen)
	})
}

func (v *RegFormItem) read(s *cryptobyte.String) error {
	const typ = "RegFormItems"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out RegFormItem
	if out.FieldName, err = readVisibleString(&seq, typ, "fieldName", 1, maxFieldName); err != nil {
		return err
	}
	if out.FieldValue, err = readVisibleString(&seq, typ, "fieldValue", 0, maxFieldLen); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// BackKeyData ::= SEQUENCE { backAlgID AlgorithmIdentifier, backKey
// OCTET STRING (SIZE(1..64)) }: a symmetric key (and its algorithm) the
// sender supplies so the answer can be encrypted back to it (EncK). Never
// printed.
type BackKeyData struct {
	BackAlgID pkcs7.AlgorithmIdentifier
	BackKey   []byte
}

func (v *BackKeyData) add(b *cryptobyte.Builder) {
	if len(v.BackAlgID.Algorithm) == 0 {
		failf(b, "BackKeyData", "backAlgID", "missing")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		v.BackAlgID.Marshal(b)
		addOctetsBounded(b, der.TagOctetString, v.BackKey, "BackKeyData", "backKey", 1, maxBackKey)
	})
}

func (v *BackKeyData) read(s *cryptobyte.String) error {
	const typ = "BackKeyData"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out BackKeyData
	if out.BackAlgID, err = pkcs7.ReadAlgorithmIdentifier(&seq); err != nil {
		return der.Wrap(typ, "backAlgID", err)
	}
	if out.BackKey, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "backKey", 1, maxBackKey); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// String names the algorithm only.
func (v BackKeyData) String() string {
	return fmt.Sprintf("BackKeyData{%v, key redacted}", v.BackAlgID.Algorithm)
}

// Format makes every fmt verb print String.
func (v BackKeyData) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// PublicKeySorE ::= SEQUENCE { publicKeyS [0] EXPLICIT
// SubjectPublicKeyInfo OPTIONAL, publicKeyE [1] EXPLICIT
// SubjectPublicKeyInfo OPTIONAL }: the keys to certify, signature and/or
// key-exchange, each as the DER of its SubjectPublicKeyInfo (nil = absent).
// At least one is present.
type PublicKeySorE struct {
	PublicKeyS []byte
	PublicKeyE []byte
}

// PoPKey names which key of PublicKeySorE a PoPSignature is by.
type PoPKey int

// PoPKey values.
const (
	PoPKeyS PoPKey = 0 // publicKeyS
	PoPKeyE PoPKey = 1 // publicKeyE
)

func (v *PublicKeySorE) key(k PoPKey) []byte {
	if k == PoPKeyS {
		return v.PublicKeyS
	}
	return v.PublicKeyE
}

func (v *PublicKeySorE) add(b *cryptobyte.Builder) {
	const typ = "PublicKeySorE"
	if v.PublicKeyS == nil && v.PublicKeyE == nil {
		failf(b, typ, "", "no key")
		return
	}
	for i, k := range [][]byte{v.PublicKeyS, v.PublicKeyE} {
		if k == nil {
			continue
		}
		name := [...]string{"publicKeyS", "publicKeyE"}[i]
		if err := checkSPKI(k, typ, name); err != nil {
			b.SetError(err)
			return
		}
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		if v.PublicKeyS != nil {
			addExplicit(b, 0, func(b *cryptobyte.Builder) { b.AddBytes(v.PublicKeyS) })
		}
		if v.PublicKeyE != nil {
			addExplicit(b, 1, func(b *cryptobyte.Builder) { b.AddBytes(v.PublicKeyE) })
		}
	})
}

func (v *PublicKeySorE) read(s *cryptobyte.String) error {
	const typ = "PublicKeySorE"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out PublicKeySorE
	dsts := []*[]byte{&out.PublicKeyS, &out.PublicKeyE}
	for i, name := range []string{"publicKeyS", "publicKeyE"} {
		if _, err := readOptionalExplicit(&seq, uint32(i), typ, name, func(s *cryptobyte.String) error {
			k, err := readRawElement(s, typ, name)
			if err != nil {
				return err
			}
			if err := checkSPKI(k, typ, name); err != nil {
				return err
			}
			*dsts[i] = k
			return nil
		}); err != nil {
			return err
		}
	}
	if out.PublicKeyS == nil && out.PublicKeyE == nil {
		return der.Errorf(typ, "", "no key: %w", der.ErrInvalid)
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// PoPSignature is a proof of possession of one new private key
// (deviation 6):
//
//	PoPSignature ::= SEQUENCE { popKey ENUMERATED { publicKeyS(0),
//	  publicKeyE(1) }, signatureAlgorithm AlgorithmIdentifier,
//	  signature OCTET STRING (SIZE(1..MAX)) }
//
// The signature is over CertReqData.PoPInput, made with the private half
// of the key popKey names.
type PoPSignature struct {
	PoPKey             PoPKey
	SignatureAlgorithm pkcs7.AlgorithmIdentifier
	Signature          []byte
}

func (v *PoPSignature) add(b *cryptobyte.Builder) {
	const typ = "PoPSignature"
	if len(v.SignatureAlgorithm.Algorithm) == 0 {
		failf(b, typ, "signatureAlgorithm", "missing")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagEnumerated, int64(v.PoPKey))
		v.SignatureAlgorithm.Marshal(b)
		addOctetsBounded(b, der.TagOctetString, v.Signature, typ, "signature", 1, 0)
	})
}

func (v *PoPSignature) read(s *cryptobyte.String) error {
	const typ = "PoPSignature"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out PoPSignature
	k, err := readIntRange(&seq, der.TagEnumerated, typ, "popKey", 0, 1)
	if err != nil {
		return err
	}
	out.PoPKey = PoPKey(k)
	if out.SignatureAlgorithm, err = pkcs7.ReadAlgorithmIdentifier(&seq); err != nil {
		return der.Wrap(typ, "signatureAlgorithm", err)
	}
	if out.Signature, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "signature", 1, 0); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// ---- AcctInfo (verbatim), PANData0, AcctData (verbatim) ----

// AcctInfo ::= CHOICE { panData0 [0] EXPLICIT PANData0, acctData [1]
// EXPLICIT AcctData } (verbatim): the extra data of CertReq's EncX, the
// account being certified. Exactly one is set. Printed masked.
type AcctInfo struct {
	PANData0 *PANData0
	AcctData *AcctData

	raw []byte
}

// PANData0 ::= SEQUENCE { pan PAN, cardExpiry CardExpiry, cardSecret
// Secret, exNonce Nonce }: the card, and the cardholder's half of the
// PANSecret (PANSecret = CardSecret ⊕ NonceCCA).
type PANData0 struct {
	PAN        string
	CardExpiry string // YYYYMM
	CardSecret Secret
	EXNonce    Nonce
}

// AcctData ::= SEQUENCE { acctIdentification AcctIdentification, exNonce
// Nonce } (verbatim): a merchant's or gateway's account.
// AcctIdentification is a VisibleString (SIZE(1..128)) here.
type AcctData struct {
	AcctIdentification string
	EXNonce            Nonce
}

// Raw returns the bytes v was decoded from.
func (v *AcctInfo) Raw() []byte { return v.raw }

func (v *AcctInfo) add(b *cryptobyte.Builder) {
	switch {
	case v.PANData0 != nil && v.AcctData == nil:
		p := v.PANData0
		const typ = "PANData0"
		if err := checkPAN(p.PAN, typ); err != nil {
			b.SetError(err)
			return
		}
		if err := checkCardExpiry(p.CardExpiry, typ); err != nil {
			b.SetError(err)
			return
		}
		addExplicit(b, 0, func(b *cryptobyte.Builder) {
			addSequence(b, func(b *cryptobyte.Builder) {
				addNumericString(b, der.TagNumericString, p.PAN, typ, "pan", 12, 19)
				addNumericString(b, der.TagNumericString, p.CardExpiry, typ, "cardExpiry", 6, 6)
				p.CardSecret.add(b)
				p.EXNonce.add(b)
			})
		})
	case v.PANData0 == nil && v.AcctData != nil:
		addExplicit(b, 1, v.AcctData.add)
	default:
		failf(b, "AcctInfo", "", "exactly one of panData0 and acctData must be set")
	}
}

func (v *AcctInfo) read(s *cryptobyte.String) error {
	const typ = "AcctInfo"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	out := AcctInfo{raw: el.Raw}
	in := cryptobyte.String(el.Contents)
	switch el.Tag {
	case der.Explicit(0):
		if out.PANData0, err = readPANData0(&in); err != nil {
			return der.Wrap(typ, "panData0", err)
		}
	case der.Explicit(1):
		if out.AcctData, err = readAcctData(&in); err != nil {
			return der.Wrap(typ, "acctData", err)
		}
	default:
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	if err := expectEnd(in, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

func readPANData0(s *cryptobyte.String) (*PANData0, error) {
	const typ = "PANData0"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return nil, err
	}
	var out PANData0
	if out.PAN, err = readPAN(&seq, typ); err != nil {
		return nil, err
	}
	if out.CardExpiry, err = readCardExpiry(&seq, typ); err != nil {
		return nil, err
	}
	if err := out.CardSecret.read(&seq); err != nil {
		return nil, der.Wrap(typ, "cardSecret", err)
	}
	if err := out.EXNonce.read(&seq); err != nil {
		return nil, der.Wrap(typ, "exNonce", err)
	}
	return &out, expectEnd(seq, typ, "")
}

func (a *AcctData) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addVisibleString(b, der.TagVisibleString, a.AcctIdentification, "AcctData", "acctIdentification", 1, maxAcctIdentification)
		a.EXNonce.add(b)
	})
}

func readAcctData(s *cryptobyte.String) (*AcctData, error) {
	const typ = "AcctData"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return nil, err
	}
	var out AcctData
	if out.AcctIdentification, err = readVisibleString(&seq, typ, "acctIdentification", 1, maxAcctIdentification); err != nil {
		return nil, err
	}
	if err := out.EXNonce.read(&seq); err != nil {
		return nil, der.Wrap(typ, "exNonce", err)
	}
	return &out, expectEnd(seq, typ, "")
}

// Marshal returns the DER of v.
func (v *AcctInfo) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalAcctInfo decodes an AcctInfo.
func UnmarshalAcctInfo(b []byte) (*AcctInfo, error) { return unmarshalNew[AcctInfo](b, "AcctInfo") }

// String shows only a masked account.
func (v AcctInfo) String() string {
	switch {
	case v.PANData0 != nil:
		return "AcctInfo{PANData0{PAN: " + maskPAN(v.PANData0.PAN) + "}}"
	case v.AcctData != nil:
		return "AcctInfo{AcctData{redacted}}"
	}
	return "AcctInfo{}"
}

// Format makes every fmt verb print String.
func (v AcctInfo) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// String shows only the masked PAN.
func (v PANData0) String() string { return "PANData0{PAN: " + maskPAN(v.PAN) + "}" }

// Format makes every fmt verb print String.
func (v PANData0) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// String never shows the account.
func (v AcctData) String() string { return "AcctData{redacted}" }

// Format makes every fmt verb print String.
func (v AcctData) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// ---- CertRes / CertInqRes / CertResData ----

// CertRes ::= CHOICE { signed [0] EXPLICIT S{CA, CertResData}, encrypted
// [1] EXPLICIT EncK{CABackKey, CA, CertResData} }: the CA's answer, signed
// (merchants, gateways) or signed and encrypted under the CABackKey the
// cardholder supplied. Both are opaque ContentInfo DER; exactly one is set.
// The issued certificates travel in the SignedData's certificates.
type CertRes struct {
	Signed    []byte
	Encrypted []byte

	raw []byte
}

// Tag implements Message.
func (m *CertRes) Tag() uint32 { return TagCertRes }

// Name implements Message.
func (m *CertRes) Name() string { return "CertRes" }

// Raw returns the bytes m was decoded from.
func (m *CertRes) Raw() []byte { return m.raw }

func (m *CertRes) add(b *cryptobyte.Builder) {
	addEnvelopeChoice(b, "CertRes", "signed", m.Signed, "encrypted", m.Encrypted)
}

func (m *CertRes) read(s *cryptobyte.String) (err error) {
	var out CertRes
	out.Signed, out.Encrypted, out.raw, err = readEnvelopeChoice(s, "CertRes", "signed", "encrypted")
	if err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER of m.
func (m *CertRes) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalCertRes decodes a CertRes.
func UnmarshalCertRes(b []byte) (*CertRes, error) { return unmarshalNew[CertRes](b, "CertRes") }

// CertInqRes has CertRes's shape: the answer to a CertInqReq.
type CertInqRes struct {
	Signed    []byte
	Encrypted []byte

	raw []byte
}

// Tag implements Message.
func (m *CertInqRes) Tag() uint32 { return TagCertInqRes }

// Name implements Message.
func (m *CertInqRes) Name() string { return "CertInqRes" }

// Raw returns the bytes m was decoded from.
func (m *CertInqRes) Raw() []byte { return m.raw }

func (m *CertInqRes) add(b *cryptobyte.Builder) {
	addEnvelopeChoice(b, "CertInqRes", "signed", m.Signed, "encrypted", m.Encrypted)
}

func (m *CertInqRes) read(s *cryptobyte.String) (err error) {
	var out CertInqRes
	out.Signed, out.Encrypted, out.raw, err = readEnvelopeChoice(s, "CertInqRes", "signed", "encrypted")
	if err != nil {
		return err
	}
	*m = out
	return nil
}

// Marshal returns the DER of m.
func (m *CertInqRes) Marshal() ([]byte, error) { return marshal(m.add) }

// UnmarshalCertInqRes decodes a CertInqRes.
func UnmarshalCertInqRes(b []byte) (*CertInqRes, error) {
	return unmarshalNew[CertInqRes](b, "CertInqRes")
}

// CertResData is what the CA signs in CertRes and CertInqRes:
//
//	CertResData ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE3 Challenge, lid-CA [0] LocalID OPTIONAL,
//	  certStatus CertStatus,
//	  certThumbs [1] SEQUENCE SIZE(1..MAX) OF CertThumb OPTIONAL,
//	  brandCRLIdentifier [2] EXPLICIT BrandCRLIdentifier OPTIONAL,
//	  thumbs [3] EXPLICIT Thumbs OPTIONAL,
//	  crsExtensions [4] MsgExtensions OPTIONAL }
//
// certThumbs name the certificates issued.
type CertResData struct {
	RRPID              RRPID
	LIDEE              []byte
	ChallEE3           Challenge
	LIDCA              []byte // optional
	CertStatus         CertStatus
	CertThumbs         []CertThumb // optional: nil when absent
	BrandCRLIdentifier []byte      // optional: DER of one element, opaque
	Thumbs             *Thumbs     // optional
	CRsExtensions      MsgExtensions

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CertResData) Raw() []byte { return d.raw }

func (d *CertResData) add(b *cryptobyte.Builder) {
	const typ = "CertResData"
	if d.CertThumbs != nil && len(d.CertThumbs) == 0 {
		failf(b, typ, "certThumbs", "empty")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE3.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		d.CertStatus.add(b)
		if d.CertThumbs != nil {
			addTagged(b, der.Explicit(1), func(b *cryptobyte.Builder) {
				for i := range d.CertThumbs {
					d.CertThumbs[i].add(b)
				}
			})
		}
		addOpaqueExplicit(b, 2, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalThumbs(b, 3, d.Thumbs)
		addOptionalExtensions(b, 4, d.CRsExtensions)
	})
}

func (d *CertResData) read(s *cryptobyte.String) error {
	const typ = "CertResData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CertResData{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE3.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE3", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if err := out.CertStatus.read(&seq); err != nil {
		return der.Wrap(typ, "certStatus", err)
	}
	if nextIs(seq, der.Explicit(1)) {
		thumbs, _, err := readSequenceAs(&seq, der.Explicit(1), typ)
		if err != nil {
			return der.Wrap(typ, "certThumbs", err)
		}
		out.CertThumbs = []CertThumb{}
		for len(thumbs) > 0 {
			var t CertThumb
			if err := t.read(&thumbs); err != nil {
				return der.Wrap(typ, fmt.Sprintf("certThumbs[%d]", len(out.CertThumbs)), err)
			}
			out.CertThumbs = append(out.CertThumbs, t)
		}
		if len(out.CertThumbs) == 0 {
			return der.Errorf(typ, "certThumbs", "empty: %w", der.ErrInvalid)
		}
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 2, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 3, typ, "thumbs"); err != nil {
		return err
	}
	if out.CRsExtensions, err = readOptionalExtensions(&seq, 4, typ, "crsExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *CertResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCertResData decodes a CertResData.
func UnmarshalCertResData(b []byte) (*CertResData, error) {
	return unmarshalNew[CertResData](b, "CertResData")
}

// CertStatusCode is the outcome of a certificate request.
type CertStatusCode int

// CertStatusCode values (reconstructed; see docs/spec-gaps.md).
const (
	RequestComplete   CertStatusCode = 1 // certificates issued
	InvalidLanguage   CertStatusCode = 2
	InvalidBIN        CertStatusCode = 3
	SigValidationFail CertStatusCode = 4
	DecryptionError   CertStatusCode = 5
	RequestInProgress CertStatusCode = 6 // ask again with CertInqReq
	RejectByIssuer    CertStatusCode = 7
	RequestPended     CertStatusCode = 8 // ask again with CertInqReq
	RejectByAgent     CertStatusCode = 9
)

var certStatusCodeNames = [...]string{"", "requestComplete", "invalidLanguage", "invalidBIN",
	"sigValidationFail", "decryptionError", "requestInProgress", "rejectByIssuer", "requestPended", "rejectByAgent"}

// Valid reports whether c is a defined value.
func (c CertStatusCode) Valid() bool { return c >= RequestComplete && c <= RejectByAgent }

// Pending reports that no certificate was issued yet and a CertInqReq may
// fetch it later.
func (c CertStatusCode) Pending() bool { return c == RequestInProgress || c == RequestPended }

// String returns the name of c.
func (c CertStatusCode) String() string {
	if c.Valid() {
		return certStatusCodeNames[c]
	}
	return "CertStatusCode(" + strconv.Itoa(int(c)) + ")"
}

// CertStatus says what became of the request:
//
//	CertStatus ::= SEQUENCE { certStatusCode CertStatusCode,
//	  nonceCCA [0] Nonce OPTIONAL, eeMessage [1] VisibleString
//	  (SIZE(1..512)) OPTIONAL, caMsg [2] CAMsg OPTIONAL,
//	  failedItemSeq [3] SEQUENCE SIZE(1..MAX) OF FailedItem OPTIONAL }
//
// nonceCCA is the CA's half of a cardholder's PANSecret.
type CertStatus struct {
	CertStatusCode CertStatusCode
	NonceCCA       *Nonce // optional
	EEMessage      string // optional
	CAMsg          *CAMsg // optional
	FailedItemSeq  []FailedItem
}

func (v *CertStatus) add(b *cryptobyte.Builder) {
	const typ = "CertStatus"
	if !v.CertStatusCode.Valid() {
		failf(b, typ, "certStatusCode", "%s is not a valid value", v.CertStatusCode)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagEnumerated, int64(v.CertStatusCode))
		if v.NonceCCA != nil {
			addOctets(b, der.Implicit(0), v.NonceCCA[:])
		}
		addOptionalVisible(b, 1, v.EEMessage, typ, "eeMessage", 1, maxEEMessage)
		if v.CAMsg != nil {
			v.CAMsg.addAs(b, der.Explicit(2))
		}
		if len(v.FailedItemSeq) > 0 {
			addTagged(b, der.Explicit(3), func(b *cryptobyte.Builder) {
				for i := range v.FailedItemSeq {
					v.FailedItemSeq[i].add(b)
				}
			})
		}
	})
}

func (v *CertStatus) read(s *cryptobyte.String) error {
	const typ = "CertStatus"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out CertStatus
	c, err := readIntRange(&seq, der.TagEnumerated, typ, "certStatusCode", int64(RequestComplete), int64(RejectByAgent))
	if err != nil {
		return err
	}
	out.CertStatusCode = CertStatusCode(c)
	if nextIs(seq, der.Implicit(0)) {
		n, err := readOctets20(&seq, der.Implicit(0), typ, "nonceCCA")
		if err != nil {
			return err
		}
		nonce := Nonce(n)
		out.NonceCCA = &nonce
	}
	if out.EEMessage, err = readOptionalVisible(&seq, 1, typ, "eeMessage", 1, maxEEMessage); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(2)) {
		out.CAMsg = new(CAMsg)
		if err := out.CAMsg.readAs(&seq, der.Explicit(2)); err != nil {
			return der.Wrap(typ, "caMsg", err)
		}
	}
	if nextIs(seq, der.Explicit(3)) {
		items, _, err := readSequenceAs(&seq, der.Explicit(3), typ)
		if err != nil {
			return der.Wrap(typ, "failedItemSeq", err)
		}
		for len(items) > 0 {
			var it FailedItem
			if err := it.read(&items); err != nil {
				return der.Wrap(typ, fmt.Sprintf("failedItemSeq[%d]", len(out.FailedItemSeq)), err)
			}
			out.FailedItemSeq = append(out.FailedItemSeq, it)
		}
		if len(out.FailedItemSeq) == 0 {
			return der.Errorf(typ, "failedItemSeq", "empty: %w", der.ErrInvalid)
		}
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// CAMsg is what the CA tells the end entity to show:
//
//	CAMsg ::= SEQUENCE { cardLogoURL [0] URL OPTIONAL,
//	  brandLogoURL [1] URL OPTIONAL, cardCurrency [2] Currency OPTIONAL,
//	  cardholderMsg [3] VisibleString (SIZE(1..512)) OPTIONAL }
//
// Strings "" and CardCurrency 0 are absent.
type CAMsg struct {
	CardLogoURL   string
	BrandLogoURL  string
	CardCurrency  int // ISO 4217 numeric, 1..999
	CardholderMsg string
}

func (v *CAMsg) addAs(b *cryptobyte.Builder, t der.Tag) {
	const typ = "CAMsg"
	if v.CardCurrency < 0 || v.CardCurrency > 999 {
		failf(b, typ, "cardCurrency", "%d outside 1..999", v.CardCurrency)
		return
	}
	addTagged(b, t, func(b *cryptobyte.Builder) {
		addOptionalVisible(b, 0, v.CardLogoURL, typ, "cardLogoURL", 1, maxURL)
		addOptionalVisible(b, 1, v.BrandLogoURL, typ, "brandLogoURL", 1, maxURL)
		if v.CardCurrency != 0 {
			addInt64(b, der.Implicit(2), int64(v.CardCurrency))
		}
		addOptionalVisible(b, 3, v.CardholderMsg, typ, "cardholderMsg", 1, maxEEMessage)
	})
}

func (v *CAMsg) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "CAMsg"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out CAMsg
	if out.CardLogoURL, err = readOptionalVisible(&seq, 0, typ, "cardLogoURL", 1, maxURL); err != nil {
		return err
	}
	if out.BrandLogoURL, err = readOptionalVisible(&seq, 1, typ, "brandLogoURL", 1, maxURL); err != nil {
		return err
	}
	if nextIs(seq, der.Implicit(2)) {
		c, err := readIntRange(&seq, der.Implicit(2), typ, "cardCurrency", 1, 999)
		if err != nil {
			return err
		}
		out.CardCurrency = int(c)
	}
	if out.CardholderMsg, err = readOptionalVisible(&seq, 3, typ, "cardholderMsg", 1, maxEEMessage); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// FailedItem ::= SEQUENCE { itemNumber INTEGER (0..MAX), itemReason
// VisibleString (SIZE(1..128)) }: a registration-form field (its index in
// regForm) the CA refused, and why.
type FailedItem struct {
	ItemNumber int64
	ItemReason string
}

func (v *FailedItem) add(b *cryptobyte.Builder) {
	const typ = "FailedItem"
	if v.ItemNumber < 0 {
		failf(b, typ, "itemNumber", "negative")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagInteger, v.ItemNumber)
		addVisibleString(b, der.TagVisibleString, v.ItemReason, typ, "itemReason", 1, maxItemReason)
	})
}

func (v *FailedItem) read(s *cryptobyte.String) error {
	const typ = "FailedItem"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out FailedItem
	if out.ItemNumber, err = readIntRange(&seq, der.TagInteger, typ, "itemNumber", 0, 1<<63-1); err != nil {
		return err
	}
	if out.ItemReason, err = readVisibleString(&seq, typ, "itemReason", 1, maxItemReason); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// ---- CertInqReq / CertInqReqTBS ----

// CertInqReq ::= S{EE, CertInqReqTBS}: the end entity's SignedData
// (content type setct-CertInqReqTBS), as ContentInfo DER.
type CertInqReq struct {
	SignedData []byte
}

// Tag implements Message.
func (m *CertInqReq) Tag() uint32 { return TagCertInqReq }

// Name implements Message.
func (m *CertInqReq) Name() string { return "CertInqReq" }

// Raw returns the ContentInfo DER.
func (m *CertInqReq) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *CertInqReq) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "CertInqReq") }

// UnmarshalCertInqReq checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalCertInqReq(b []byte) (*CertInqReq, error) {
	ci, err := unmarshalContentInfo(b, "CertInqReq")
	if err != nil {
		return nil, err
	}
	return &CertInqReq{SignedData: ci}, nil
}

// CertInqReqTBS asks after a pending request:
//
//	CertInqReqTBS ::= SEQUENCE { rrpid RRPID, lid-EE LocalID,
//	  chall-EE3 Challenge, lid-CA [0] LocalID OPTIONAL,
//	  thumbs [1] EXPLICIT Thumbs OPTIONAL }
type CertInqReqTBS struct {
	RRPID    RRPID
	LIDEE    []byte
	ChallEE3 Challenge
	LIDCA    []byte  // optional
	Thumbs   *Thumbs // optional

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CertInqReqTBS) Raw() []byte { return d.raw }

func (d *CertInqReqTBS) add(b *cryptobyte.Builder) {
	const typ = "CertInqReqTBS"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.RRPID.add(b)
		addLocalID(b, d.LIDEE, typ, "lid-EE")
		d.ChallEE3.add(b)
		addOptionalOctets(b, der.Implicit(0), d.LIDCA, typ, "lid-CA", 1, maxLocalID)
		addOptionalThumbs(b, 1, d.Thumbs)
	})
}

func (d *CertInqReqTBS) read(s *cryptobyte.String) error {
	const typ = "CertInqReqTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CertInqReqTBS{raw: raw}
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if out.LIDEE, err = readLocalID(&seq, typ, "lid-EE"); err != nil {
		return err
	}
	if err := out.ChallEE3.read(&seq); err != nil {
		return der.Wrap(typ, "chall-EE3", err)
	}
	if out.LIDCA, err = readOptionalLocalID(&seq, 0, typ, "lid-CA"); err != nil {
		return err
	}
	if out.Thumbs, err = readOptionalThumbs(&seq, 1, typ, "thumbs"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *CertInqReqTBS) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCertInqReqTBS decodes a CertInqReqTBS.
func UnmarshalCertInqReqTBS(b []byte) (*CertInqReqTBS, error) {
	return unmarshalNew[CertInqReqTBS](b, "CertInqReqTBS")
}

func init() {
	registerMessage(TagCardCInitReq, func(b []byte) (Message, error) { return UnmarshalCardCInitReq(b) })
	registerMessage(TagCardCInitRes, func(b []byte) (Message, error) { return UnmarshalCardCInitRes(b) })
	registerMessage(TagMeAqCInitReq, func(b []byte) (Message, error) { return UnmarshalMeAqCInitReq(b) })
	registerMessage(TagMeAqCInitRes, func(b []byte) (Message, error) { return UnmarshalMeAqCInitRes(b) })
	registerMessage(TagRegFormReq, func(b []byte) (Message, error) { return UnmarshalRegFormReq(b) })
	registerMessage(TagRegFormRes, func(b []byte) (Message, error) { return UnmarshalRegFormRes(b) })
	registerMessage(TagCertReq, func(b []byte) (Message, error) { return UnmarshalCertReq(b) })
	registerMessage(TagCertRes, func(b []byte) (Message, error) { return UnmarshalCertRes(b) })
	registerMessage(TagCertInqReq, func(b []byte) (Message, error) { return UnmarshalCertInqReq(b) })
	registerMessage(TagCertInqRes, func(b []byte) (Message, error) { return UnmarshalCertInqRes(b) })
}
