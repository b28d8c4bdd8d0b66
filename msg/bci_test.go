package msg

import (
	"bytes"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/der"
)

// TestBCIMarshalUnsigned: MarshalUnsigned writes exactly the part Marshal
// signs over, which RawUnsigned returns after decoding, and needs no
// signature.
func TestBCIMarshalUnsigned(t *testing.T) {
	v := testBCI()
	full := mustMarshal(t, v)
	dec, err := UnmarshalBrandCRLIdentifier(full)
	if err != nil {
		t.Fatal(err)
	}
	v.SignatureAlgorithm.Algorithm, v.Signature = nil, nil
	u, err := v.MarshalUnsigned()
	if err != nil {
		t.Fatal(err)
	}
	kids, err := der.ParseSequence(contentsOf(t, full))
	if err != nil || len(kids) != 3 {
		t.Fatalf("BrandCRLIdentifier children: %d, %v", len(kids), err)
	}
	if !bytes.Equal(u, kids[0].Raw) || !bytes.Equal(u, dec.RawUnsigned()) {
		t.Errorf("MarshalUnsigned = %x, first child = %x, RawUnsigned = %x", u, kids[0].Raw, dec.RawUnsigned())
	}
	if _, err := v.Marshal(); err == nil {
		t.Error("Marshal without a signature algorithm succeeded")
	}
}

// TestBCIDuplicateCA: a BCI names one CRL per CA, so both directions of
// the codec refuse a thumbprint listed twice.
func TestBCIDuplicateCA(t *testing.T) {
	a := bytes.Repeat([]byte{0xd1}, 20)
	b := append(bytes.Repeat([]byte{0xd1}, 19), 0xd2)
	v := testBCI()
	v.CRLIdentifierSeq = []CRLIdentifier{{IssuerThumb: a, CRLNumber: big.NewInt(1)}, {IssuerThumb: b, CRLNumber: big.NewInt(2)}}
	enc := mustMarshal(t, v) // control: distinct thumbprints are fine
	dup := replaceOnce(t, enc, der.Encode(der.TagOctetString, b), der.Encode(der.TagOctetString, a))
	if _, err := UnmarshalBrandCRLIdentifier(dup); err == nil || !strings.Contains(err.Error(), "crlIdentifierSeq[1]") {
		t.Errorf("Unmarshal of a CA listed twice = %v, want an error naming crlIdentifierSeq[1]", err)
	}
	v.CRLIdentifierSeq[1].IssuerThumb = a
	for name, f := range map[string]func() ([]byte, error){"Marshal": v.Marshal, "MarshalUnsigned": v.MarshalUnsigned} {
		if _, err := f(); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s of a CA listed twice = %v, want a duplicate error", name, err)
		}
	}
}

// TestBCISubSecondPeriod: the encoder compares the validity period as it
// writes it, to the second, so it never writes notAfter == notBefore,
// which the decoder rejects.
func TestBCISubSecondPeriod(t *testing.T) {
	v := testBCI()
	v.NotBefore = testTime.Add(100 * time.Millisecond)
	v.NotAfter = testTime.Add(900 * time.Millisecond)
	if _, err := v.MarshalUnsigned(); err == nil || !strings.Contains(err.Error(), "notAfter") {
		t.Errorf("MarshalUnsigned of a sub-second period = %v, want a notAfter error", err)
	}
	v.NotAfter = testTime.Add(time.Second)
	if _, err := v.MarshalUnsigned(); err != nil {
		t.Errorf("control, one second apart once truncated: %v", err)
	}
}
