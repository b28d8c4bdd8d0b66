// Package msg defines the SET message types (Book 3, SetMessage and
// SetPayMsgs) with strict DER encoding and decoding, and the MessageWrapper
// every SET message travels in.
//
// Every type has an unexported add (append its DER to a cryptobyte.Builder)
// and read (consume exactly one element); types that are encoded on their
// own also have Marshal, UnmarshalT and Raw. Decoded values keep the bytes
// they were decoded from: hashes and signatures are computed over Raw(),
// never over a re-encoding. PKCS#7 pieces (signatures, envelopes, detached
// digests) are carried as opaque ContentInfo DER; package encap builds and
// checks them.
package msg

import (
	"bytes"
	"encoding/asn1"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// Size bounds of the SetMessage primitive types.
const (
	maxLocalID    = 20
	maxLanguage   = 35
	maxBrandID    = 40
	maxSWIdent    = 256
	maxMerchantID = 30
	maxPaySysID   = 64
	maxOD         = 4096
)

// RRPID is the request/response pair identifier: OCTET STRING (SIZE(20)).
type RRPID [20]byte

// Challenge is a freshness challenge: OCTET STRING (SIZE(20)).
type Challenge [20]byte

// Nonce is OCTET STRING (SIZE(20)).
type Nonce [20]byte

// XID is the transaction identifier: OCTET STRING (SIZE(20)).
type XID [20]byte

// Secret is OCTET STRING (SIZE(20)).
type Secret [20]byte

func (v *RRPID) add(b *cryptobyte.Builder) { addOctets(b, der.TagOctetString, v[:]) }
func (v *RRPID) read(s *cryptobyte.String) (err error) {
	*v, err = readOctets20(s, der.TagOctetString, "RRPID", "")
	return err
}

func (v *Challenge) add(b *cryptobyte.Builder) { addOctets(b, der.TagOctetString, v[:]) }
func (v *Challenge) read(s *cryptobyte.String) (err error) {
	*v, err = readOctets20(s, der.TagOctetString, "Challenge", "")
	return err
}

func (v *Nonce) add(b *cryptobyte.Builder) { addOctets(b, der.TagOctetString, v[:]) }
func (v *Nonce) read(s *cryptobyte.String) (err error) {
	*v, err = readOctets20(s, der.TagOctetString, "Nonce", "")
	return err
}

func (v *XID) add(b *cryptobyte.Builder) { addOctets(b, der.TagOctetString, v[:]) }
func (v *XID) read(s *cryptobyte.String) (err error) {
	*v, err = readOctets20(s, der.TagOctetString, "XID", "")
	return err
}

func (v *Secret) add(b *cryptobyte.Builder) { addOctets(b, der.TagOctetString, v[:]) }
func (v *Secret) read(s *cryptobyte.String) (err error) {
	*v, err = readOctets20(s, der.TagOctetString, "Secret", "")
	return err
}

// Secret never prints its value.
func (v Secret) String() string { return "Secret(redacted)" }

// GoString keeps %#v from printing the secret.
func (v Secret) GoString() string { return "msg.Secret{redacted}" }

// CurrencyAmount ::= SEQUENCE { currency INTEGER (1..999), amount INTEGER
// (0..MAX), amtExp10 INTEGER (-18..18) }. The value is Amount × 10^AmtExp10
// units of the ISO 4217 numeric Currency.
type CurrencyAmount struct {
	Currency int
	Amount   int64
	AmtExp10 int
}

func (v *CurrencyAmount) add(b *cryptobyte.Builder) {
	const typ = "CurrencyAmount"
	switch {
	case v.Currency < 1 || v.Currency > 999:
		failf(b, typ, "currency", "%d outside 1..999", v.Currency)
		return
	case v.Amount < 0:
		failf(b, typ, "amount", "negative")
		return
	case v.AmtExp10 < -18 || v.AmtExp10 > 18:
		failf(b, typ, "amtExp10", "%d outside -18..18", v.AmtExp10)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagInteger, int64(v.Currency))
		addInt64(b, der.TagInteger, v.Amount)
		addInt64(b, der.TagInteger, int64(v.AmtExp10))
	})
}

func (v *CurrencyAmount) read(s *cryptobyte.String) error {
	const typ = "CurrencyAmount"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	c, err := readIntRange(&seq, der.TagInteger, typ, "currency", 1, 999)
	if err != nil {
		return err
	}
	a, err := readIntRange(&seq, der.TagInteger, typ, "amount", 0, 1<<63-1)
	if err != nil {
		return err
	}
	e, err := readIntRange(&seq, der.TagInteger, typ, "amtExp10", -18, 18)
	if err != nil {
		return err
	}
	*v = CurrencyAmount{Currency: int(c), Amount: a, AmtExp10: int(e)}
	return expectEnd(seq, typ, "")
}

// CertThumb ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, thumbprint
// OCTET STRING }: a certificate named by the digest of its DER.
type CertThumb struct {
	DigestAlgorithm pkcs7.AlgorithmIdentifier
	Thumbprint      []byte
}

func (v *CertThumb) add(b *cryptobyte.Builder) {
	if len(v.DigestAlgorithm.Algorithm) == 0 {
		failf(b, "CertThumb", "digestAlgorithm", "missing")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		v.DigestAlgorithm.Marshal(b)
		addOctets(b, der.TagOctetString, v.Thumbprint)
	})
}

func (v *CertThumb) read(s *cryptobyte.String) error {
	const typ = "CertThumb"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	alg, err := pkcs7.ReadAlgorithmIdentifier(&seq)
	if err != nil {
		return der.Wrap(typ, "digestAlgorithm", err)
	}
	tp, err := readOctetStringBounded(&seq, der.TagOctetString, typ, "thumbprint", 0, 0)
	if err != nil {
		return err
	}
	*v = CertThumb{DigestAlgorithm: alg, Thumbprint: tp}
	return expectEnd(seq, typ, "")
}

// Equal reports whether two thumbprints name the same certificate the same
// way.
func (v *CertThumb) Equal(o *CertThumb) bool {
	if v == nil || o == nil {
		return v == o
	}
	return v.DigestAlgorithm.Algorithm.Equal(o.DigestAlgorithm.Algorithm) &&
		bytes.Equal(v.DigestAlgorithm.Parameters, o.DigestAlgorithm.Parameters) &&
		bytes.Equal(v.Thumbprint, o.Thumbprint)
}

// Thumbs ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier,
// certThumbs [0] SEQUENCE OF OCTET STRING OPTIONAL, crlThumbs [1] ...,
// brandCRLIdThumbs [2] ... }: what the sender already holds. A nil list is
// absent; a non-nil empty list is encoded as present and empty.
type Thumbs struct {
	DigestAlgorithm                         pkcs7.AlgorithmIdentifier
	CertThumbs, CRLThumbs, BrandCRLIdThumbs [][]byte
}

func (v *Thumbs) add(b *cryptobyte.Builder) {
	if len(v.DigestAlgorithm.Algorithm) == 0 {
		failf(b, "Thumbs", "digestAlgorithm", "missing")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		v.DigestAlgorithm.Marshal(b)
		for i, l := range [][][]byte{v.CertThumbs, v.CRLThumbs, v.BrandCRLIdThumbs} {
			if l == nil {
				continue
			}
			addTagged(b, der.Tag{Class: der.ClassContextSpecific, Constructed: true, Number: uint32(i)}, func(b *cryptobyte.Builder) {
				for _, t := range l {
					addOctets(b, der.TagOctetString, t)
				}
			})
		}
	})
}

func (v *Thumbs) read(s *cryptobyte.String) error {
	const typ = "Thumbs"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out Thumbs
	if out.DigestAlgorithm, err = pkcs7.ReadAlgorithmIdentifier(&seq); err != nil {
		return der.Wrap(typ, "digestAlgorithm", err)
	}
	fields := []struct {
		name string
		dst  *[][]byte
	}{{"certThumbs", &out.CertThumbs}, {"crlThumbs", &out.CRLThumbs}, {"brandCRLIdThumbs", &out.BrandCRLIdThumbs}}
	for i, f := range fields {
		t := der.Tag{Class: der.ClassContextSpecific, Constructed: true, Number: uint32(i)}
		if !nextIs(seq, t) {
			continue
		}
		inner, _, err := readSequenceAs(&seq, t, typ)
		if err != nil {
			return der.Wrap(typ, f.name, err)
		}
		l := [][]byte{}
		for len(inner) > 0 {
			o, err := readOctetStringBounded(&inner, der.TagOctetString, typ, f.name, 0, 0)
			if err != nil {
				return err
			}
			l = append(l, o)
		}
		*f.dst = l
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// TransIDs ::= SEQUENCE { lid-C LocalID, lid-M [0] LocalID OPTIONAL, xID
// XID, pReqDate Date, paySysID [1] VisibleString (SIZE(1..64)) OPTIONAL,
// language Language }. PaySysID "" is absent.
type TransIDs struct {
	LIDC     []byte
	LIDM     []byte // nil = absent
	XID      XID
	PReqDate time.Time
	PaySysID string
	Language string
}

func (v *TransIDs) add(b *cryptobyte.Builder) {
	const typ = "TransIDs"
	addSequence(b, func(b *cryptobyte.Builder) {
		addOctetsBounded(b, der.TagOctetString, v.LIDC, typ, "lid-C", 1, maxLocalID)
		addOptionalOctets(b, der.Implicit(0), v.LIDM, typ, "lid-M", 1, maxLocalID)
		v.XID.add(b)
		addDate(b, v.PReqDate)
		if v.PaySysID != "" {
			addVisibleString(b, der.Implicit(1), v.PaySysID, typ, "paySysID", 1, maxPaySysID)
		}
		addVisibleString(b, der.TagVisibleString, v.Language, typ, "language", 1, maxLanguage)
	})
}

// Marshal returns the DER of v. Parties store it to compare the TransIDs a
// later message carries with those they issued.
func (v *TransIDs) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalTransIDs decodes a TransIDs.
func UnmarshalTransIDs(b []byte) (*TransIDs, error) { return unmarshalNew[TransIDs](b, "TransIDs") }

func (v *TransIDs) read(s *cryptobyte.String) error {
	const typ = "TransIDs"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out TransIDs
	if out.LIDC, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "lid-C", 1, maxLocalID); err != nil {
		return err
	}
	if out.LIDM, err = readOptionalOctets(&seq, der.Implicit(0), typ, "lid-M", 1, maxLocalID); err != nil {
		return err
	}
	if err := out.XID.read(&seq); err != nil {
		return der.Wrap(typ, "xID", err)
	}
	if out.PReqDate, err = readDate(&seq, typ, "pReqDate"); err != nil {
		return err
	}
	if nextIs(seq, der.Implicit(1)) {
		if out.PaySysID, err = readVisibleStringAs(&seq, der.Implicit(1), typ, "paySysID", 1, maxPaySysID); err != nil {
			return err
		}
	}
	if out.Language, err = readVisibleString(&seq, typ, "language", 1, maxLanguage); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// MerTermIDs ::= SEQUENCE { merchantID MerchantID, terminalID [0]
// VisibleString OPTIONAL, agentNum [1] INTEGER OPTIONAL, chainNum [2]
// INTEGER OPTIONAL, storeNum [3] INTEGER OPTIONAL }. TerminalID "" is absent.
type MerTermIDs struct {
	MerchantID                   string
	TerminalID                   string
	AgentNum, ChainNum, StoreNum *int64
}

func (v *MerTermIDs) add(b *cryptobyte.Builder) {
	const typ = "MerTermIDs"
	addSequence(b, func(b *cryptobyte.Builder) {
		addVisibleString(b, der.TagVisibleString, v.MerchantID, typ, "merchantID", 1, maxMerchantID)
		if v.TerminalID != "" {
			addVisibleString(b, der.Implicit(0), v.TerminalID, typ, "terminalID", 1, 0)
		}
		for i, n := range []*int64{v.AgentNum, v.ChainNum, v.StoreNum} {
			if n != nil {
				addInt64(b, der.Implicit(uint32(i+1)), *n)
			}
		}
	})
}

func (v *MerTermIDs) read(s *cryptobyte.String) error {
	const typ = "MerTermIDs"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out MerTermIDs
	if out.MerchantID, err = readVisibleString(&seq, typ, "merchantID", 1, maxMerchantID); err != nil {
		return err
	}
	if nextIs(seq, der.Implicit(0)) {
		if out.TerminalID, err = readVisibleStringAs(&seq, der.Implicit(0), typ, "terminalID", 1, 0); err != nil {
			return err
		}
	}
	names := []string{"agentNum", "chainNum", "storeNum"}
	dsts := []**int64{&out.AgentNum, &out.ChainNum, &out.StoreNum}
	for i := range dsts {
		t := der.Implicit(uint32(i + 1))
		if !nextIs(seq, t) {
			continue
		}
		n, err := readInt64(&seq, t, typ, names[i])
		if err != nil {
			return err
		}
		*dsts[i] = &n
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// RRTags ::= SEQUENCE { rrpid RRPID, merTermIDs MerTermIDs, currentDate Date }
type RRTags struct {
	RRPID       RRPID
	MerTermIDs  MerTermIDs
	CurrentDate time.Time
}

func (v *RRTags) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		v.RRPID.add(b)
		v.MerTermIDs.add(b)
		addDate(b, v.CurrentDate)
	})
}

func (v *RRTags) read(s *cryptobyte.String) error {
	const typ = "RRTags"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out RRTags
	if err := out.RRPID.read(&seq); err != nil {
		return der.Wrap(typ, "rrpid", err)
	}
	if err := out.MerTermIDs.read(&seq); err != nil {
		return der.Wrap(typ, "merTermIDs", err)
	}
	if out.CurrentDate, err = readDate(&seq, typ, "currentDate"); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// Extension is one X.509-shaped extension: SEQUENCE { extnID OBJECT
// IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte
}

func (v *Extension) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addOID(b, der.TagOID, v.ID)
		addDefaultFalse(b, der.TagBoolean, v.Critical)
		addOctets(b, der.TagOctetString, v.Value)
	})
}

func (v *Extension) read(s *cryptobyte.String) error {
	const typ = "Extension"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out Extension
	if out.ID, err = readOID(&seq, der.TagOID, typ, "extnID"); err != nil {
		return err
	}
	if out.Critical, err = readOptionalDefaultFalse(&seq, der.TagBoolean, typ, "critical"); err != nil {
		return err
	}
	if out.Value, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "extnValue", 0, 0); err != nil {
		return err
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// MsgExtensions ::= SEQUENCE SIZE(1..MAX) OF Extension. msg decodes and
// keeps every extension; deciding what an unknown critical one means is the
// caller's business (see CriticalUnknown). Empty is absent.
type MsgExtensions []Extension

// addAs appends the extensions under tag t (they always appear IMPLICITly
// tagged inside messages).
func (v MsgExtensions) addAs(b *cryptobyte.Builder, t der.Tag) {
	addTagged(b, t, func(b *cryptobyte.Builder) {
		for i := range v {
			v[i].add(b)
		}
	})
}

// readAs reads extensions encoded under tag t.
func (v *MsgExtensions) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "MsgExtensions"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	if len(seq) == 0 {
		return der.Errorf(typ, "", "empty: %w", der.ErrInvalid)
	}
	var out MsgExtensions
	for len(seq) > 0 {
		var e Extension
		if err := e.read(&seq); err != nil {
			return der.Wrap(typ, "", err)
		}
		out = append(out, e)
	}
	*v = out
	return nil
}

// readOptionalExtensions reads an OPTIONAL [n] MsgExtensions component.
func readOptionalExtensions(s *cryptobyte.String, n uint32, typ, field string) (MsgExtensions, error) {
	t := der.Tag{Class: der.ClassContextSpecific, Constructed: true, Number: n}
	if !nextIs(*s, t) {
		return nil, nil
	}
	var v MsgExtensions
	if err := v.readAs(s, t); err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	return v, nil
}

// addOptionalExtensions appends an OPTIONAL [n] MsgExtensions component.
func addOptionalExtensions(b *cryptobyte.Builder, n uint32, v MsgExtensions) {
	if len(v) == 0 {
		return
	}
	v.addAs(b, der.Tag{Class: der.ClassContextSpecific, Constructed: true, Number: n})
}

// CriticalUnknown returns the first critical extension whose ID is not
// among known. SET requires rejecting a message that carries one
// (ErrorCode unrecognizedExtension).
func (v MsgExtensions) CriticalUnknown(known ...asn1.ObjectIdentifier) (asn1.ObjectIdentifier, bool) {
next:
	for _, e := range v {
		if !e.Critical {
			continue
		}
		for _, k := range known {
			if k.Equal(e.ID) {
				continue next
			}
		}
		return e.ID, true
	}
	return nil, false
}

// readOptionalCertThumb reads an OPTIONAL [n] EXPLICIT CertThumb.
func readOptionalCertThumb(s *cryptobyte.String, n uint32, typ, field string) (*CertThumb, error) {
	var v CertThumb
	ok, err := readOptionalExplicit(s, n, typ, field, func(s *cryptobyte.String) error {
		return der.Wrap(typ, field, v.read(s))
	})
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// addOptionalCertThumb appends an OPTIONAL [n] EXPLICIT CertThumb.
func addOptionalCertThumb(b *cryptobyte.Builder, n uint32, v *CertThumb) {
	if v != nil {
		addExplicit(b, n, v.add)
	}
}

// readOptionalThumbs reads an OPTIONAL [n] EXPLICIT Thumbs.
func readOptionalThumbs(s *cryptobyte.String, n uint32, typ, field string) (*Thumbs, error) {
	var v Thumbs
	ok, err := readOptionalExplicit(s, n, typ, field, func(s *cryptobyte.String) error {
		return der.Wrap(typ, field, v.read(s))
	})
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// addOptionalThumbs appends an OPTIONAL [n] EXPLICIT Thumbs.
func addOptionalThumbs(b *cryptobyte.Builder, n uint32, v *Thumbs) {
	if v != nil {
		addExplicit(b, n, v.add)
	}
}
