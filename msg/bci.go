package msg

import (
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// ---- BrandCRLIdentifier ----

// BrandCRLIdentifier lists the current CRL of every CA of a brand, signed
// by the brand CA like a certificate (docs/spec-gaps.md,
// "BrandCRLIdentifier"): what pki issues and what messages carry in their
// brandCRLIdentifier components.
//
//	BrandCRLIdentifier ::= SEQUENCE {
//	  unsignedBrandCRLIdentifier UnsignedBrandCRLIdentifier,
//	  signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
//	UnsignedBrandCRLIdentifier ::= SEQUENCE {
//	  version INTEGER { bciVer1(0) } (bciVer1),
//	  sequenceNum INTEGER (0..2^31-1), brandID BrandID,
//	  notBefore GeneralizedTime, notAfter GeneralizedTime,
//	  crlIdentifierSeq SEQUENCE OF CRLIdentifier } -- one per CA
//	CRLIdentifier ::= SEQUENCE { issuerThumb OCTET STRING (SIZE(20|32)),
//	  crlNumber INTEGER (0..2^159) }
//
// This is the one codec of the structure: pki signs what MarshalUnsigned
// writes and parses with UnmarshalBrandCRLIdentifier. The version is
// fixed, written by Marshal and checked by Unmarshal; both refuse a CA
// listed twice.
// Checking the signature is pki's business (pki.ParseBrandCRLIdentifier
// and Verify); this type decodes and shows what travels, and Marshal
// writes the given signature as it is.
type BrandCRLIdentifier struct {
	SequenceNum        int64
	BrandID            string
	NotBefore          time.Time
	NotAfter           time.Time
	CRLIdentifierSeq   []CRLIdentifier
	SignatureAlgorithm pkcs7.AlgorithmIdentifier
	Signature          []byte

	raw []byte
}

// CRLIdentifier names one CA's current CRL: the CA by the thumbprint of
// its certificate (SHA-1 in set1, SHA-256 otherwise: the length says
// which), the CRL by its cRLNumber.
type CRLIdentifier struct {
	IssuerThumb []byte
	CRLNumber   *big.Int
}

// Raw returns the bytes v was decoded from.
func (v *BrandCRLIdentifier) Raw() []byte { return v.raw }

// RawUnsigned returns the UnsignedBrandCRLIdentifier v was decoded from:
// the bytes the signature covers.
func (v *BrandCRLIdentifier) RawUnsigned() []byte {
	s := cryptobyte.String(v.raw)
	var seq, u cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&u, cbasn1.SEQUENCE) {
		return nil // not decoded
	}
	return u
}

const maxBCISequenceNum = 1<<31 - 1

// maxCRLNumberBits bounds a crlNumber: 20 octets (RFC 5280).
const maxCRLNumberBits = 159

func (v *BrandCRLIdentifier) add(b *cryptobyte.Builder) {
	if len(v.SignatureAlgorithm.Algorithm) == 0 {
		failf(b, "BrandCRLIdentifier", "signatureAlgorithm", "missing")
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		v.addUnsigned(b)
		v.SignatureAlgorithm.Marshal(b)
		b.AddASN1BitString(v.Signature)
	})
}

// addUnsigned writes the UnsignedBrandCRLIdentifier, refusing anything
// readUnsigned would reject, so that a BCI pki signs always decodes.
func (v *BrandCRLIdentifier) addUnsigned(b *cryptobyte.Builder) {
	const typ = "UnsignedBrandCRLIdentifier"
	switch {
	case v.SequenceNum < 0 || v.SequenceNum > maxBCISequenceNum:
		failf(b, typ, "sequenceNum", "%d out of 0..2^31-1", v.SequenceNum)
		return
	// Compared as written, to the second: the wire form has no fraction.
	case !v.NotBefore.Truncate(time.Second).Before(v.NotAfter.Truncate(time.Second)):
		failf(b, typ, "notAfter", "not after notBefore")
		return
	}
	if err := checkCRLIdentifiers(v.CRLIdentifierSeq); err != nil {
		b.SetError(err)
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagInteger, 0) // bciVer1
		addInt64(b, der.TagInteger, v.SequenceNum)
		addBrandID(b, v.BrandID, typ)
		addDate(b, v.NotBefore)
		addDate(b, v.NotAfter)
		addSequence(b, func(b *cryptobyte.Builder) {
			for _, c := range v.CRLIdentifierSeq {
				addSequence(b, func(b *cryptobyte.Builder) {
					addOctets(b, der.TagOctetString, c.IssuerThumb)
					b.AddASN1BigInt(c.CRLNumber)
				})
			}
		})
	})
}

// checkCRLIdentifiers checks what an encoder must not write: thumbprints
// of the wrong size, CRL numbers out of range, and a CA listed twice (a
// BCI names one current CRL per CA; two would leave the reader to guess).
func checkCRLIdentifiers(ids []CRLIdentifier) error {
	const typ = "UnsignedBrandCRLIdentifier"
	for i, c := range ids {
		field := fmt.Sprintf("crlIdentifierSeq[%d]", i)
		if n := len(c.IssuerThumb); n != 20 && n != 32 {
			return der.Errorf(typ, field, "issuerThumb of %d bytes: want 20 or 32", n)
		}
		if c.CRLNumber == nil || c.CRLNumber.Sign() < 0 || c.CRLNumber.BitLen() > maxCRLNumberBits {
			return der.Errorf(typ, field, "crlNumber must be 0..2^159")
		}
	}
	if i, j := duplicateThumb(ids); i >= 0 {
		return der.Errorf(typ, fmt.Sprintf("crlIdentifierSeq[%d]", j), "issuerThumb: CA listed twice (also at %d)", i)
	}
	return nil
}

// duplicateThumb returns the indexes i < j of the first two identifiers
// naming the same CA, or -1, -1.
func duplicateThumb(ids []CRLIdentifier) (int, int) {
	seen := make(map[string]int, len(ids))
	for j, c := range ids {
		if i, ok := seen[string(c.IssuerThumb)]; ok {
			return i, j
		}
		seen[string(c.IssuerThumb)] = j
	}
	return -1, -1
}

func (v *BrandCRLIdentifier) read(s *cryptobyte.String) error {
	const typ = "BrandCRLIdentifier"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := BrandCRLIdentifier{raw: raw}
	u, _, err := readSequenceAs(&seq, der.TagSequence, "UnsignedBrandCRLIdentifier")
	if err != nil {
		return der.Wrap(typ, "unsignedBrandCRLIdentifier", err)
	}
	if err := out.readUnsigned(u); err != nil {
		return err
	}
	if out.SignatureAlgorithm, err = pkcs7.ReadAlgorithmIdentifier(&seq); err != nil {
		return der.Wrap(typ, "signatureAlgorithm", err)
	}
	e, err := readAs(&seq, der.TagBitString, typ, "signature")
	if err != nil {
		return err
	}
	// Whole octets only: no signature algorithm here has a partial one.
	if len(e.Contents) < 2 || e.Contents[0] != 0 {
		return der.Errorf(typ, "signature", "want a non-empty BIT STRING of whole octets: %w", der.ErrInvalid)
	}
	out.Signature = e.Contents[1:]
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

func (v *BrandCRLIdentifier) readUnsigned(u cryptobyte.String) error {
	const typ = "UnsignedBrandCRLIdentifier"
	ver, err := readInt64(&u, der.TagInteger, typ, "version")
	if err != nil {
		return err
	}
	if ver != 0 {
		return der.Errorf(typ, "version", "%d: %w", ver, ErrUnsupportedVersion)
	}
	if v.SequenceNum, err = readIntRange(&u, der.TagInteger, typ, "sequenceNum", 0, maxBCISequenceNum); err != nil {
		return err
	}
	if v.BrandID, err = readBrandID(&u, typ); err != nil {
		return err
	}
	if v.NotBefore, err = readDate(&u, typ, "notBefore"); err != nil {
		return err
	}
	if v.NotAfter, err = readDate(&u, typ, "notAfter"); err != nil {
		return err
	}
	if !v.NotBefore.Before(v.NotAfter) {
		return der.Errorf(typ, "notAfter", "not after notBefore: %w", der.ErrInvalid)
	}
	if v.CRLIdentifierSeq, err = readSequenceOf[CRLIdentifier](&u, typ, "crlIdentifierSeq"); err != nil {
		return err
	}
	if i, j := duplicateThumb(v.CRLIdentifierSeq); i >= 0 {
		return der.Errorf(typ, fmt.Sprintf("crlIdentifierSeq[%d]", j), "issuerThumb: CA listed twice (also at %d): %w", i, der.ErrInvalid)
	}
	return expectEnd(u, typ, "")
}

func (c *CRLIdentifier) read(s *cryptobyte.String) error {
	const typ = "CRLIdentifier"
	seq, _, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out CRLIdentifier
	if out.IssuerThumb, err = readOctetStringBounded(&seq, der.TagOctetString, typ, "issuerThumb", 20, 32); err != nil {
		return err
	}
	if n := len(out.IssuerThumb); n != 20 && n != 32 {
		return der.Errorf(typ, "issuerThumb", "%d bytes: want 20 or 32: %w", n, der.ErrInvalid)
	}
	// cryptobyte's INTEGER reader refuses non-minimal encodings.
	out.CRLNumber = new(big.Int)
	if !seq.ReadASN1Integer(out.CRLNumber) {
		return der.Errorf(typ, "crlNumber", "malformed INTEGER: %w", der.ErrInvalid)
	}
	if out.CRLNumber.Sign() < 0 || out.CRLNumber.BitLen() > maxCRLNumberBits {
		return der.Errorf(typ, "crlNumber", "want 0..2^159: %w", der.ErrInvalid)
	}
	*c = out
	return expectEnd(seq, typ, "")
}

// Marshal returns the DER of v.
func (v *BrandCRLIdentifier) Marshal() ([]byte, error) { return marshal(v.add) }

// MarshalUnsigned returns the DER of v's UnsignedBrandCRLIdentifier: the
// bytes a brand CA signs (pki.Authority.IssueBCI). SignatureAlgorithm and
// Signature are not used.
func (v *BrandCRLIdentifier) MarshalUnsigned() ([]byte, error) { return marshal(v.addUnsigned) }

// UnmarshalBrandCRLIdentifier decodes a BrandCRLIdentifier. It does not
// check the signature.
func UnmarshalBrandCRLIdentifier(b []byte) (*BrandCRLIdentifier, error) {
	return unmarshalNew[BrandCRLIdentifier](b, "BrandCRLIdentifier")
}
