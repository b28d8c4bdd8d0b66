package msg

// Gateway administration messages between merchant and payment gateway
// (SetPayMsgs): PCertReq/PCertRes (the merchant fetches the gateway's
// current certificates) and BatchAdminReq/BatchAdminRes (open, close,
// purge or query a settlement batch). Only their purpose is public; the
// shapes below are setpay's smallest faithful design. See
// docs/spec-gaps.md, "msg: the rest of the payment messages".

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

func init() {
	registerMessage(TagPCertReq, func(b []byte) (Message, error) { return UnmarshalPCertReq(b) })
	registerMessage(TagPCertRes, func(b []byte) (Message, error) { return UnmarshalPCertRes(b) })
	registerMessage(TagBatchAdminReq, func(b []byte) (Message, error) { return UnmarshalBatchAdminReq(b) })
	registerMessage(TagBatchAdminRes, func(b []byte) (Message, error) { return UnmarshalBatchAdminRes(b) })
}

// ---- PCertReq / PCertRes ----

// PCertReq ::= S{M, PCertReqData}: the merchant's SignedData (content type
// setct-PCertReqData), as ContentInfo DER. Nothing in it is secret, so it
// is signed, not enveloped.
type PCertReq struct {
	SignedData []byte
}

// Tag returns the PCertReq alternative's Message CHOICE tag.
func (m *PCertReq) Tag() uint32 { return TagPCertReq }

// Name returns "PCertReq".
func (m *PCertReq) Name() string { return "PCertReq" }

// Raw returns the ContentInfo DER.
func (m *PCertReq) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *PCertReq) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "PCertReq") }

// UnmarshalPCertReq checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalPCertReq(b []byte) (*PCertReq, error) {
	ci, err := unmarshalContentInfo(b, "PCertReq")
	if err != nil {
		return nil, err
	}
	return &PCertReq{SignedData: ci}, nil
}

// PCertReqData asks for the gateway certificates of some brands (SETREF:
// pCertReqData.{pCertRRTags, mThumbs, brandAndBINSeq}):
//
//	PCertReqData ::= SEQUENCE {
//	  pCertRRTags    RRTags,
//	  mThumbs        [0] EXPLICIT Thumbs OPTIONAL,
//	  brandAndBINSeq SEQUENCE SIZE(1..MAX) OF BrandAndBIN,
//	  pCRqExtensions [1] MsgExtensions OPTIONAL,
//	  pgThumb        [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 1
//	  expiry         [11] GeneralizedTime OPTIONAL }    -- setpay deviation 3
type PCertReqData struct {
	PCertRRTags    RRTags
	MThumbs        *Thumbs // optional: certificates the merchant already holds
	BrandAndBINSeq []BrandAndBIN
	PCRqExtensions MsgExtensions // optional: empty when absent
	PGThumb        *CertThumb    // optional
	Expiry         time.Time     // optional: zero when absent

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *PCertReqData) Raw() []byte { return d.raw }

func (d *PCertReqData) add(b *cryptobyte.Builder) {
	const typ = "PCertReqData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.PCertRRTags.add(b)
		addOptionalThumbs(b, 0, d.MThumbs)
		if len(d.BrandAndBINSeq) == 0 {
			failf(b, typ, "brandAndBINSeq", "empty: %w", der.ErrInvalid)
			return
		}
		addSequence(b, func(b *cryptobyte.Builder) {
			for i := range d.BrandAndBINSeq {
				d.BrandAndBINSeq[i].add(b)
			}
		})
		addOptionalExtensions(b, 1, d.PCRqExtensions)
		addOptionalCertThumb(b, 10, d.PGThumb)
		addOptionalDate(b, 11, d.Expiry)
	})
}

func (d *PCertReqData) read(s *cryptobyte.String) error {
	const typ = "PCertReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PCertReqData{raw: raw}
	if err := out.PCertRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "pCertRRTags", err)
	}
	if out.MThumbs, err = readOptionalThumbs(&seq, 0, typ, "mThumbs"); err != nil {
		return err
	}
	if out.BrandAndBINSeq, err = readSequenceOf[BrandAndBIN](&seq, typ, "brandAndBINSeq"); err != nil {
		return err
	}
	if len(out.BrandAndBINSeq) == 0 {
		return der.Errorf(typ, "brandAndBINSeq", "empty: %w", der.ErrInvalid)
	}
	if out.PCRqExtensions, err = readOptionalExtensions(&seq, 1, typ, "pCRqExtensions"); err != nil {
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
func (d *PCertReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalPCertReqData decodes a PCertReqData, rejecting trailing bytes.
func UnmarshalPCertReqData(b []byte) (*PCertReqData, error) {
	return unmarshalNew[PCertReqData](b, "PCertReqData")
}

// BrandAndBIN names a brand, and optionally one BIN range of it, whose
// gateway certificates are wanted:
//
//	BrandAndBIN ::= SEQUENCE { brandID BrandID, bin BIN OPTIONAL }
type BrandAndBIN struct {
	BrandID string
	BIN     string // optional: "" when absent
}

func (v *BrandAndBIN) add(b *cryptobyte.Builder) {
	const typ = "BrandAndBIN"
	addSequence(b, func(b *cryptobyte.Builder) {
		addBrandID(b, v.BrandID, typ)
		if v.BIN != "" {
			if err := checkBIN(v.BIN, typ); err != nil {
				b.SetError(err)
				return
			}
			addNumericString(b, der.TagNumericString, v.BIN, typ, "bin", 6, 6)
		}
	})
}

func (v *BrandAndBIN) read(s *cryptobyte.String) error {
	const typ = "BrandAndBIN"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out BrandAndBIN
	if out.BrandID, err = readBrandID(&seq, typ); err != nil {
		return err
	}
	if nextIs(seq, der.TagNumericString) {
		if out.BIN, err = readBIN(&seq, typ); err != nil {
			return err
		}
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// PCertRes ::= S{P, PCertResTBS}: the gateway's SignedData (content type
// setct-PCertResTBS), as ContentInfo DER. The certificates themselves
// travel in the SignedData's certificate set; PCertResTBS lists them.
type PCertRes struct {
	SignedData []byte
}

// Tag returns the PCertRes alternative's Message CHOICE tag.
func (m *PCertRes) Tag() uint32 { return TagPCertRes }

// Name returns "PCertRes".
func (m *PCertRes) Name() string { return "PCertRes" }

// Raw returns the ContentInfo DER.
func (m *PCertRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *PCertRes) Marshal() ([]byte, error) { return marshalContentInfo(m.SignedData, "PCertRes") }

// UnmarshalPCertRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalPCertRes(b []byte) (*PCertRes, error) {
	ci, err := unmarshalContentInfo(b, "PCertRes")
	if err != nil {
		return nil, err
	}
	return &PCertRes{SignedData: ci}, nil
}

// PCertResTBS is the gateway's signed answer:
//
//	PCertResTBS ::= SEQUENCE {
//	  pCertRRTags        RRTags,
//	  pCertResItemSeq    SEQUENCE SIZE(1..MAX) OF PCertResItem,  -- one per BrandAndBIN asked
//	  brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL,  -- opaque DER
//	  pCRsExtensions     [1] MsgExtensions OPTIONAL,
//	  merchantThumb      [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 2
//	  hPCertReq          [11] OCTET STRING OPTIONAL }       -- setpay deviation 2
type PCertResTBS struct {
	PCertRRTags        RRTags
	PCertResItemSeq    []PCertResItem
	BrandCRLIdentifier []byte        // optional: DER of one element, kept opaque
	PCRsExtensions     MsgExtensions // optional: empty when absent
	MerchantThumb      *CertThumb    // optional: the merchant signature certificate answered
	HPCertReq          []byte        // optional: digest of the PCertReqData answered (1..64 octets)

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *PCertResTBS) Raw() []byte { return t.raw }

func (t *PCertResTBS) add(b *cryptobyte.Builder) {
	const typ = "PCertResTBS"
	addSequence(b, func(b *cryptobyte.Builder) {
		t.PCertRRTags.add(b)
		if len(t.PCertResItemSeq) == 0 {
			failf(b, typ, "pCertResItemSeq", "empty: %w", der.ErrInvalid)
			return
		}
		addSequence(b, func(b *cryptobyte.Builder) {
			for i := range t.PCertResItemSeq {
				t.PCertResItemSeq[i].add(b)
			}
		})
		addOpaqueExplicit(b, 0, t.BrandCRLIdentifier, typ, "brandCRLIdentifier")
		addOptionalExtensions(b, 1, t.PCRsExtensions)
		addOptionalCertThumb(b, 10, t.MerchantThumb)
		addOptionalOctets(b, der.Implicit(11), t.HPCertReq, typ, "hPCertReq", 1, maxDigestLen)
	})
}

func (t *PCertResTBS) read(s *cryptobyte.String) error {
	const typ = "PCertResTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := PCertResTBS{raw: raw}
	if err := out.PCertRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "pCertRRTags", err)
	}
	if out.PCertResItemSeq, err = readSequenceOf[PCertResItem](&seq, typ, "pCertResItemSeq"); err != nil {
		return err
	}
	if len(out.PCertResItemSeq) == 0 {
		return der.Errorf(typ, "pCertResItemSeq", "empty: %w", der.ErrInvalid)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if out.PCRsExtensions, err = readOptionalExtensions(&seq, 1, typ, "pCRsExtensions"); err != nil {
		return err
	}
	if out.MerchantThumb, err = readOptionalCertThumb(&seq, 10, typ, "merchantThumb"); err != nil {
		return err
	}
	if out.HPCertReq, err = readOptionalOctets(&seq, der.Implicit(11), typ, "hPCertReq", 1, maxDigestLen); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*t = out
	return nil
}

// Marshal returns the DER encoding of t.
func (t *PCertResTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalPCertResTBS decodes a PCertResTBS, rejecting trailing bytes.
func UnmarshalPCertResTBS(b []byte) (*PCertResTBS, error) {
	return unmarshalNew[PCertResTBS](b, "PCertResTBS")
}

// PCertResItem answers one BrandAndBIN:
//
//	PCertResItem ::= SEQUENCE {
//	  brandAndBIN BrandAndBIN,
//	  pCertCode   PCertCode,
//	  certThumbs  [0] SEQUENCE SIZE(1..MAX) OF CertThumb OPTIONAL }
//
// certThumbs names the gateway certificates (key exchange and signature)
// included in the SignedData for this brand; absent unless pCertCode is
// success.
type PCertResItem struct {
	BrandAndBIN BrandAndBIN
	PCertCode   PCertCode
	CertThumbs  []CertThumb // optional: nil when absent
}

func (it *PCertResItem) add(b *cryptobyte.Builder) {
	const typ = "PCertResItem"
	addSequence(b, func(b *cryptobyte.Builder) {
		it.BrandAndBIN.add(b)
		if !it.PCertCode.Valid() {
			failf(b, typ, "pCertCode", "value %d: %w", int(it.PCertCode), der.ErrInvalid)
			return
		}
		addInt64(b, der.TagEnumerated, int64(it.PCertCode))
		if it.CertThumbs != nil {
			if len(it.CertThumbs) == 0 {
				failf(b, typ, "certThumbs", "empty: %w", der.ErrInvalid)
				return
			}
			addTagged(b, der.Explicit(0), func(b *cryptobyte.Builder) {
				for i := range it.CertThumbs {
					it.CertThumbs[i].add(b)
				}
			})
		}
	})
}

func (it *PCertResItem) read(s *cryptobyte.String) error {
	const typ = "PCertResItem"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out PCertResItem
	if err := out.BrandAndBIN.read(&seq); err != nil {
		return der.Wrap(typ, "brandAndBIN", err)
	}
	v, err := readIntRange(&seq, der.TagEnumerated, typ, "pCertCode", 0, int64(len(pCertCodeNames)-1))
	if err != nil {
		return err
	}
	out.PCertCode = PCertCode(v)
	if nextIs(seq, der.Explicit(0)) {
		e, err := readAs(&seq, der.Explicit(0), typ, "certThumbs")
		if err != nil {
			return err
		}
		in := cryptobyte.String(e.Contents)
		out.CertThumbs = []CertThumb{}
		for len(in) > 0 {
			var th CertThumb
			if err := th.read(&in); err != nil {
				return der.Wrap(typ, fmt.Sprintf("certThumbs[%d]", len(out.CertThumbs)), err)
			}
			out.CertThumbs = append(out.CertThumbs, th)
		}
		if len(out.CertThumbs) == 0 {
			return der.Errorf(typ, "certThumbs", "empty: %w", der.ErrInvalid)
		}
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*it = out
	return nil
}

// PCertCode is the outcome for one BrandAndBIN (setpay's ENUMERATED).
type PCertCode int

const (
	PCertSuccess            PCertCode = 0
	PCertUnspecifiedFailure PCertCode = 1
	PCertBrandNotSupported  PCertCode = 2
	PCertUnknownBIN         PCertCode = 3
)

var pCertCodeNames = [...]string{"success", "unspecifiedFailure", "brandNotSupported", "unknownBIN"}

// Valid reports whether c is a defined PCertCode.
func (c PCertCode) Valid() bool { return c >= 0 && int(c) < len(pCertCodeNames) }

func (c PCertCode) String() string {
	if c.Valid() {
		return pCertCodeNames[c]
	}
	return fmt.Sprintf("PCertCode(%d)", int(c))
}

// ---- BatchAdminReq / BatchAdminRes ----

// BatchAdminReq is the merchant's batch administration request, Enc{M, P,
// BatchAdminReqData}: one envelope ContentInfo (setct-BatchAdminReqTBE)
// holding the merchant's SignedData over BatchAdminReqData
// (setct-BatchAdminReqData).
type BatchAdminReq struct {
	BatchAdminReqTBE []byte // ContentInfo DER
}

// Tag returns the BatchAdminReq alternative's Message CHOICE tag.
func (m *BatchAdminReq) Tag() uint32 { return TagBatchAdminReq }

// Name returns "BatchAdminReq".
func (m *BatchAdminReq) Name() string { return "BatchAdminReq" }

// Raw returns the ContentInfo DER.
func (m *BatchAdminReq) Raw() []byte { return m.BatchAdminReqTBE }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *BatchAdminReq) Marshal() ([]byte, error) {
	return marshalContentInfo(m.BatchAdminReqTBE, "BatchAdminReq")
}

// UnmarshalBatchAdminReq checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalBatchAdminReq(b []byte) (*BatchAdminReq, error) {
	ci, err := unmarshalContentInfo(b, "BatchAdminReq")
	if err != nil {
		return nil, err
	}
	return &BatchAdminReq{BatchAdminReqTBE: ci}, nil
}

// BatchAdminReqData asks for one operation on a settlement batch:
//
//	BatchAdminReqData ::= SEQUENCE {
//	  batchAdminRRTags RRTags,
//	  batchOperation   BatchOperation,
//	  batchID          [0] INTEGER (0..MAX) OPTIONAL,  -- absent for open: the gateway numbers batches
//	  bARqExtensions   [1] MsgExtensions OPTIONAL,
//	  pgThumb          [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 1
//	  expiry           [11] GeneralizedTime OPTIONAL }    -- setpay deviation 3
type BatchAdminReqData struct {
	BatchAdminRRTags RRTags
	BatchOperation   BatchOperation
	BatchID          *int64        // optional
	BARqExtensions   MsgExtensions // optional: empty when absent
	PGThumb          *CertThumb    // optional
	Expiry           time.Time     // optional: zero when absent

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *BatchAdminReqData) Raw() []byte { return d.raw }

func (d *BatchAdminReqData) add(b *cryptobyte.Builder) {
	const typ = "BatchAdminReqData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.BatchAdminRRTags.add(b)
		if !d.BatchOperation.Valid() {
			failf(b, typ, "batchOperation", "value %d: %w", int(d.BatchOperation), der.ErrInvalid)
			return
		}
		addInt64(b, der.TagEnumerated, int64(d.BatchOperation))
		addOptionalInt(b, 0, d.BatchID, 0, typ, "batchID")
		addOptionalExtensions(b, 1, d.BARqExtensions)
		addOptionalCertThumb(b, 10, d.PGThumb)
		addOptionalDate(b, 11, d.Expiry)
	})
}

func (d *BatchAdminReqData) read(s *cryptobyte.String) error {
	const typ = "BatchAdminReqData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := BatchAdminReqData{raw: raw}
	if err := out.BatchAdminRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "batchAdminRRTags", err)
	}
	v, err := readIntRange(&seq, der.TagEnumerated, typ, "batchOperation", 0, int64(len(batchOperationNames)-1))
	if err != nil {
		return err
	}
	out.BatchOperation = BatchOperation(v)
	if out.BatchID, err = readOptionalInt(&seq, 0, 0, typ, "batchID"); err != nil {
		return err
	}
	if out.BARqExtensions, err = readOptionalExtensions(&seq, 1, typ, "bARqExtensions"); err != nil {
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
func (d *BatchAdminReqData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalBatchAdminReqData decodes a BatchAdminReqData, rejecting
// trailing bytes.
func UnmarshalBatchAdminReqData(b []byte) (*BatchAdminReqData, error) {
	return unmarshalNew[BatchAdminReqData](b, "BatchAdminReqData")
}

// BatchOperation is what BatchAdminReq asks for (setpay's ENUMERATED).
type BatchOperation int

const (
	BatchOpOpen   BatchOperation = 0 // start a new batch
	BatchOpClose  BatchOperation = 1 // submit the batch for settlement
	BatchOpPurge  BatchOperation = 2 // discard an open batch's captures
	BatchOpStatus BatchOperation = 3 // report counts and totals
)

var batchOperationNames = [...]string{"open", "close", "purge", "status"}

// Valid reports whether o is a defined BatchOperation.
func (o BatchOperation) Valid() bool { return o >= 0 && int(o) < len(batchOperationNames) }

func (o BatchOperation) String() string {
	if o.Valid() {
		return batchOperationNames[o]
	}
	return fmt.Sprintf("BatchOperation(%d)", int(o))
}

// BatchAdminRes is the gateway's answer, Enc{P, M, BatchAdminResData}: one
// envelope ContentInfo (setct-BatchAdminResTBE) holding the gateway's
// SignedData over BatchAdminResData (setct-BatchAdminResData).
type BatchAdminRes struct {
	BatchAdminResTBE []byte // ContentInfo DER
}

// Tag returns the BatchAdminRes alternative's Message CHOICE tag.
func (m *BatchAdminRes) Tag() uint32 { return TagBatchAdminRes }

// Name returns "BatchAdminRes".
func (m *BatchAdminRes) Name() string { return "BatchAdminRes" }

// Raw returns the ContentInfo DER.
func (m *BatchAdminRes) Raw() []byte { return m.BatchAdminResTBE }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *BatchAdminRes) Marshal() ([]byte, error) {
	return marshalContentInfo(m.BatchAdminResTBE, "BatchAdminRes")
}

// UnmarshalBatchAdminRes checks that b is one ContentInfo SEQUENCE and keeps it.
func UnmarshalBatchAdminRes(b []byte) (*BatchAdminRes, error) {
	ci, err := unmarshalContentInfo(b, "BatchAdminRes")
	if err != nil {
		return nil, err
	}
	return &BatchAdminRes{BatchAdminResTBE: ci}, nil
}

// BatchAdminResData is the gateway's signed result:
//
//	BatchAdminResData ::= SEQUENCE {
//	  batchAdminRRTags RRTags,
//	  batchAdminCode   BatchAdminCode,
//	  batchID          [0] INTEGER (0..MAX) OPTIONAL,
//	  batchStatus      [1] EXPLICIT BatchStatus OPTIONAL,
//	  bARsExtensions   [2] MsgExtensions OPTIONAL,
//	  merchantThumb    [10] EXPLICIT CertThumb OPTIONAL,  -- setpay deviation 2
//	  hBatchAdminReq   [11] OCTET STRING OPTIONAL }       -- setpay deviation 2
type BatchAdminResData struct {
	BatchAdminRRTags RRTags
	BatchAdminCode   BatchAdminCode
	BatchID          *int64        // optional: the batch acted on (or opened)
	BatchStatus      *BatchStatus  // optional
	BARsExtensions   MsgExtensions // optional: empty when absent
	MerchantThumb    *CertThumb    // optional: the merchant signature certificate answered
	HBatchAdminReq   []byte        // optional: digest of the BatchAdminReqData answered (1..64 octets)

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *BatchAdminResData) Raw() []byte { return d.raw }

func (d *BatchAdminResData) add(b *cryptobyte.Builder) {
	const typ = "BatchAdminResData"
	addSequence(b, func(b *cryptobyte.Builder) {
		d.BatchAdminRRTags.add(b)
		if !d.BatchAdminCode.Valid() {
			failf(b, typ, "batchAdminCode", "value %d: %w", int(d.BatchAdminCode), der.ErrInvalid)
			return
		}
		addInt64(b, der.TagEnumerated, int64(d.BatchAdminCode))
		addOptionalInt(b, 0, d.BatchID, 0, typ, "batchID")
		if d.BatchStatus != nil {
			addExplicit(b, 1, d.BatchStatus.add)
		}
		addOptionalExtensions(b, 2, d.BARsExtensions)
		addOptionalCertThumb(b, 10, d.MerchantThumb)
		addOptionalOctets(b, der.Implicit(11), d.HBatchAdminReq, typ, "hBatchAdminReq", 1, maxDigestLen)
	})
}

func (d *BatchAdminResData) read(s *cryptobyte.String) error {
	const typ = "BatchAdminResData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := BatchAdminResData{raw: raw}
	if err := out.BatchAdminRRTags.read(&seq); err != nil {
		return der.Wrap(typ, "batchAdminRRTags", err)
	}
	v, err := readIntRange(&seq, der.TagEnumerated, typ, "batchAdminCode", 0, int64(len(batchAdminCodeNames)-1))
	if err != nil {
		return err
	}
	out.BatchAdminCode = BatchAdminCode(v)
	if out.BatchID, err = readOptionalInt(&seq, 0, 0, typ, "batchID"); err != nil {
		return err
	}
	var st BatchStatus
	ok, err := readOptionalExplicit(&seq, 1, typ, "batchStatus", func(s *cryptobyte.String) error {
		if err := st.read(s); err != nil {
			return der.Wrap(typ, "batchStatus", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ok {
		out.BatchStatus = &st
	}
	if out.BARsExtensions, err = readOptionalExtensions(&seq, 2, typ, "bARsExtensions"); err != nil {
		return err
	}
	if out.MerchantThumb, err = readOptionalCertThumb(&seq, 10, typ, "merchantThumb"); err != nil {
		return err
	}
	if out.HBatchAdminReq, err = readOptionalOctets(&seq, der.Implicit(11), typ, "hBatchAdminReq", 1, maxDigestLen); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER encoding of d.
func (d *BatchAdminResData) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalBatchAdminResData decodes a BatchAdminResData, rejecting
// trailing bytes.
func UnmarshalBatchAdminResData(b []byte) (*BatchAdminResData, error) {
	return unmarshalNew[BatchAdminResData](b, "BatchAdminResData")
}

// BatchAdminCode is the outcome of a batch operation (setpay's ENUMERATED).
type BatchAdminCode int

const (
	BatchAdminSuccess            BatchAdminCode = 0
	BatchAdminUnspecifiedFailure BatchAdminCode = 1
	BatchAdminBatchUnknown       BatchAdminCode = 2
	BatchAdminBatchClosed        BatchAdminCode = 3 // close, purge or capture on a closed batch
	BatchAdminBatchIDMissing     BatchAdminCode = 4 // close, purge or status without batchID
	BatchAdminOperationRefused   BatchAdminCode = 5 // acquirer policy forbids it
)

var batchAdminCodeNames = [...]string{
	"success", "unspecifiedFailure", "batchUnknown", "batchClosed", "batchIDMissing", "operationRefused",
}

// Valid reports whether c is a defined BatchAdminCode.
func (c BatchAdminCode) Valid() bool { return c >= 0 && int(c) < len(batchAdminCodeNames) }

func (c BatchAdminCode) String() string {
	if c.Valid() {
		return batchAdminCodeNames[c]
	}
	return fmt.Sprintf("BatchAdminCode(%d)", int(c))
}

// BatchStatus is the state of one merchant–gateway settlement batch with
// its counts and totals:
//
//	BatchStatus ::= SEQUENCE {
//	  batchID        INTEGER (0..MAX),
//	  batchState     BatchState,
//	  openDateTime   Date,
//	  closeDateTime  [0] GeneralizedTime OPTIONAL,
//	  captureCount   INTEGER (0..MAX),
//	  captureTotal   CurrencyAmount,
//	  creditCount    INTEGER (0..MAX),
//	  creditTotal    CurrencyAmount,
//	  bStExtensions  [1] MsgExtensions OPTIONAL }
//
// Totals are net of reversals, in the batch's one currency.
type BatchStatus struct {
	BatchID       int64
	BatchState    BatchState
	OpenDateTime  time.Time
	CloseDateTime time.Time // optional: zero when absent
	CaptureCount  int64
	CaptureTotal  CurrencyAmount
	CreditCount   int64
	CreditTotal   CurrencyAmount
	BStExtensions MsgExtensions // optional: empty when absent

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *BatchStatus) Raw() []byte { return v.raw }

func (v *BatchStatus) add(b *cryptobyte.Builder) {
	const typ = "BatchStatus"
	switch {
	case v.BatchID < 0:
		failf(b, typ, "batchID", "negative: %w", der.ErrInvalid)
		return
	case !v.BatchState.Valid():
		failf(b, typ, "batchState", "value %d: %w", int(v.BatchState), der.ErrInvalid)
		return
	case v.CaptureCount < 0:
		failf(b, typ, "captureCount", "negative: %w", der.ErrInvalid)
		return
	case v.CreditCount < 0:
		failf(b, typ, "creditCount", "negative: %w", der.ErrInvalid)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagInteger, v.BatchID)
		addInt64(b, der.TagEnumerated, int64(v.BatchState))
		addDate(b, v.OpenDateTime)
		addOptionalDate(b, 0, v.CloseDateTime)
		addInt64(b, der.TagInteger, v.CaptureCount)
		v.CaptureTotal.add(b)
		addInt64(b, der.TagInteger, v.CreditCount)
		v.CreditTotal.add(b)
		addOptionalExtensions(b, 1, v.BStExtensions)
	})
}

func (v *BatchStatus) read(s *cryptobyte.String) error {
	const typ = "BatchStatus"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := BatchStatus{raw: raw}
	if out.BatchID, err = readIntRange(&seq, der.TagInteger, typ, "batchID", 0, 1<<63-1); err != nil {
		return err
	}
	st, err := readIntRange(&seq, der.TagEnumerated, typ, "batchState", 0, int64(len(batchStateNames)-1))
	if err != nil {
		return err
	}
	out.BatchState = BatchState(st)
	if out.OpenDateTime, err = readDate(&seq, typ, "openDateTime"); err != nil {
		return err
	}
	if out.CloseDateTime, err = readOptionalDate(&seq, 0, typ, "closeDateTime"); err != nil {
		return err
	}
	if out.CaptureCount, err = readIntRange(&seq, der.TagInteger, typ, "captureCount", 0, 1<<63-1); err != nil {
		return err
	}
	if err := out.CaptureTotal.read(&seq); err != nil {
		return der.Wrap(typ, "captureTotal", err)
	}
	if out.CreditCount, err = readIntRange(&seq, der.TagInteger, typ, "creditCount", 0, 1<<63-1); err != nil {
		return err
	}
	if err := out.CreditTotal.read(&seq); err != nil {
		return der.Wrap(typ, "creditTotal", err)
	}
	if out.BStExtensions, err = readOptionalExtensions(&seq, 1, typ, "bStExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER encoding of v.
func (v *BatchStatus) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalBatchStatus decodes a BatchStatus, rejecting trailing bytes.
func UnmarshalBatchStatus(b []byte) (*BatchStatus, error) {
	return unmarshalNew[BatchStatus](b, "BatchStatus")
}

// BatchState is where a batch is in its life (setpay's ENUMERATED).
type BatchState int

const (
	BatchStateOpen    BatchState = 0
	BatchStateClosed  BatchState = 1 // submitted; settlement follows
	BatchStateSettled BatchState = 2
	BatchStatePurged  BatchState = 3
)

var batchStateNames = [...]string{"open", "closed", "settled", "purged"}

// Valid reports whether s is a defined BatchState.
func (s BatchState) Valid() bool { return s >= 0 && int(s) < len(batchStateNames) }

func (s BatchState) String() string {
	if s.Valid() {
		return batchStateNames[s]
	}
	return fmt.Sprintf("BatchState(%d)", int(s))
}

// addOptionalBatchStatusSeq appends [n] IMPLICIT SEQUENCE OF BatchStatus
// unless v is nil (a non-nil empty list is encoded, present and empty).
func addOptionalBatchStatusSeq(b *cryptobyte.Builder, n uint32, v []BatchStatus) {
	if v == nil {
		return
	}
	addTagged(b, der.Explicit(n), func(b *cryptobyte.Builder) {
		for i := range v {
			v[i].add(b)
		}
	})
}

// readOptionalBatchStatusSeq reads what addOptionalBatchStatusSeq writes.
func readOptionalBatchStatusSeq(s *cryptobyte.String, n uint32, typ string) ([]BatchStatus, error) {
	if !nextIs(*s, der.Explicit(n)) {
		return nil, nil
	}
	e, err := readAs(s, der.Explicit(n), typ, "batchStatusSeq")
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(e.Contents)
	out := []BatchStatus{}
	for len(in) > 0 {
		var st BatchStatus
		if err := st.read(&in); err != nil {
			return nil, der.Wrap(typ, fmt.Sprintf("batchStatusSeq[%d]", len(out)), err)
		}
		out = append(out, st)
	}
	return out, nil
}
