package msg

// CRL distribution (SetCertMsgs, reconstructed; docs/spec-gaps.md,
// "CRLNotification"): a CA pushes, or a party fetches, the CRLs in force
// and the brand's BrandCRLIdentifier in one message signed by the CA. The
// CRLs travel in the SignedData's own crls field, as PKCS#7 provides; the
// signed content names them by thumbprint, so a receiver knows the set is
// complete and untouched, and carries the BCI.

import (
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// CRLNotification ::= S{CA, CRLNotificationTBS}: the CA's SignedData
// (content type setct-CRLNotificationTBS) with the CRLs it announces in
// its crls field, as ContentInfo DER.
type CRLNotification struct {
	SignedData []byte
}

// Raw returns the ContentInfo DER.
func (m *CRLNotification) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *CRLNotification) Marshal() ([]byte, error) {
	return marshalContentInfo(m.SignedData, "CRLNotification")
}

// UnmarshalCRLNotification checks that b is one ContentInfo SEQUENCE and
// keeps it.
func UnmarshalCRLNotification(b []byte) (*CRLNotification, error) {
	ci, err := unmarshalContentInfo(b, "CRLNotification")
	if err != nil {
		return nil, err
	}
	return &CRLNotification{SignedData: ci}, nil
}

// CRLNotificationTBS is what the CA signs in CRLNotification
// (reconstructed):
//
//	CRLNotificationTBS ::= SEQUENCE {
//	  date               Date,
//	  thumbs             Thumbs,   -- crlThumbs: each CRL of the crls field;
//	                               -- brandCRLIdThumbs: the BCI below
//	  brandCRLIdentifier [0] EXPLICIT BrandCRLIdentifier OPTIONAL }
type CRLNotificationTBS struct {
	Date               time.Time
	Thumbs             Thumbs
	BrandCRLIdentifier []byte // optional: DER of one element, opaque

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CRLNotificationTBS) Raw() []byte { return d.raw }

func (d *CRLNotificationTBS) add(b *cryptobyte.Builder) {
	const typ = "CRLNotificationTBS"
	addSequence(b, func(b *cryptobyte.Builder) {
		addDate(b, d.Date)
		d.Thumbs.add(b)
		addOpaqueExplicit(b, 0, d.BrandCRLIdentifier, typ, "brandCRLIdentifier")
	})
}

func (d *CRLNotificationTBS) read(s *cryptobyte.String) error {
	const typ = "CRLNotificationTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CRLNotificationTBS{raw: raw}
	if out.Date, err = readDate(&seq, typ, "date"); err != nil {
		return err
	}
	if err := out.Thumbs.read(&seq); err != nil {
		return der.Wrap(typ, "thumbs", err)
	}
	if out.BrandCRLIdentifier, err = readOpaqueExplicit(&seq, 0, typ, "brandCRLIdentifier"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *CRLNotificationTBS) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCRLNotificationTBS decodes a CRLNotificationTBS.
func UnmarshalCRLNotificationTBS(b []byte) (*CRLNotificationTBS, error) {
	return unmarshalNew[CRLNotificationTBS](b, "CRLNotificationTBS")
}

// CRLNotificationRes ::= S{EE, CRLNotificationResTBS}: a party's signed
// acknowledgement of a pushed CRLNotification, as ContentInfo DER.
type CRLNotificationRes struct {
	SignedData []byte
}

// Raw returns the ContentInfo DER.
func (m *CRLNotificationRes) Raw() []byte { return m.SignedData }

// Marshal returns the ContentInfo DER after checking its framing.
func (m *CRLNotificationRes) Marshal() ([]byte, error) {
	return marshalContentInfo(m.SignedData, "CRLNotificationRes")
}

// UnmarshalCRLNotificationRes checks that b is one ContentInfo SEQUENCE
// and keeps it.
func UnmarshalCRLNotificationRes(b []byte) (*CRLNotificationRes, error) {
	ci, err := unmarshalContentInfo(b, "CRLNotificationRes")
	if err != nil {
		return nil, err
	}
	return &CRLNotificationRes{SignedData: ci}, nil
}

// CRLNotificationResTBS is what the party signs in CRLNotificationRes
// (reconstructed):
//
//	CRLNotificationResTBS ::= SEQUENCE {
//	  date   Date,
//	  thumbs Thumbs }   -- the CRLs and BCI the party now holds
type CRLNotificationResTBS struct {
	Date   time.Time
	Thumbs Thumbs

	raw []byte
}

// Raw returns the bytes d was decoded from.
func (d *CRLNotificationResTBS) Raw() []byte { return d.raw }

func (d *CRLNotificationResTBS) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addDate(b, d.Date)
		d.Thumbs.add(b)
	})
}

func (d *CRLNotificationResTBS) read(s *cryptobyte.String) error {
	const typ = "CRLNotificationResTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := CRLNotificationResTBS{raw: raw}
	if out.Date, err = readDate(&seq, typ, "date"); err != nil {
		return err
	}
	if err := out.Thumbs.read(&seq); err != nil {
		return der.Wrap(typ, "thumbs", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*d = out
	return nil
}

// Marshal returns the DER of d.
func (d *CRLNotificationResTBS) Marshal() ([]byte, error) { return marshal(d.add) }

// UnmarshalCRLNotificationResTBS decodes a CRLNotificationResTBS.
func UnmarshalCRLNotificationResTBS(b []byte) (*CRLNotificationResTBS, error) {
	return unmarshalNew[CRLNotificationResTBS](b, "CRLNotificationResTBS")
}
