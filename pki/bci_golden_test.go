package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// goldenBCITemplates are the inputs of testdata/bci/{full,empty}-*.der,
// recorded from IssueBCI before pki encoded BCIs through msg: extreme
// sequence numbers, a notBefore with nanoseconds outside UTC, thumbprints
// of both sizes, CRL numbers at the sign-octet boundary and at 2^159-1.
func goldenBCITemplates() map[string]*BrandCRLIdentifier {
	est := time.FixedZone("EST", -5*3600)
	big159 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))
	thumb := func(n int, fill byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = fill + byte(i)
		}
		return b
	}
	return map[string]*BrandCRLIdentifier{
		"full": {SequenceNum: 1<<31 - 1, BrandID: "SETpay Brand ~!", NotBefore: time.Date(2026, 3, 1, 7, 0, 0, 999_999_999, est),
			NotAfter: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC),
			CRLIdentifiers: []CRLIdentifier{
				{IssuerThumb: thumb(20, 0x10), CRLNumber: big.NewInt(0)},
				{IssuerThumb: thumb(32, 0x80), CRLNumber: big.NewInt(127)},
				{IssuerThumb: thumb(32, 0x40), CRLNumber: big.NewInt(128)},
				{IssuerThumb: thumb(20, 0xf0), CRLNumber: big159},
			}},
		"empty": {SequenceNum: 0, BrandID: "S", NotBefore: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), NotAfter: time.Date(2050, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
}

// goldenBrand loads the brand CA (a test key, recorded with the BCIs) of
// testdata/bci for suite.
func goldenBrand(t *testing.T, suite string) *Authority {
	t.Helper()
	certDER, err := os.ReadFile(filepath.Join("testdata", "bci", "brand-"+suite+".der"))
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := os.ReadFile(filepath.Join("testdata", "bci", "brand-"+suite+".key"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		t.Fatal(err)
	}
	return &Authority{Cert: cert, Key: key.(crypto.Signer), Hash: suites[suite].hash}
}

// TestBCIGolden checks that IssueBCI writes, through msg's codec, the very
// bytes pki's own encoder wrote: identical BCIs under set1 (RSA PKCS#1
// v1.5 signatures are deterministic), identical signed parts and
// algorithms under modern (ECDSA's are not). msg re-encodes each golden
// BCI to the same bytes, and pki and msg decode it to the same fields.
func TestBCIGolden(t *testing.T) {
	for _, suite := range []string{"set1", "modern"} {
		brand := goldenBrand(t, suite)
		for name, tmpl := range goldenBCITemplates() {
			t.Run(suite+"/"+name, func(t *testing.T) {
				golden, err := os.ReadFile(filepath.Join("testdata", "bci", name+"-"+suite+".der"))
				if err != nil {
					t.Fatal(err)
				}
				raw, err := brand.IssueBCI(rand.Reader, tmpl)
				if err != nil {
					t.Fatal(err)
				}
				want, err := ParseBrandCRLIdentifier(golden)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ParseBrandCRLIdentifier(raw)
				if err != nil {
					t.Fatal(err)
				}
				if suite == "set1" && !bytes.Equal(raw, golden) {
					t.Errorf("IssueBCI =\n%x\nwant\n%x", raw, golden)
				}
				if !bytes.Equal(got.RawTBS, want.RawTBS) || !got.SignatureAlgorithm.Algorithm.Equal(want.SignatureAlgorithm.Algorithm) ||
					!bytes.Equal(got.SignatureAlgorithm.Parameters, want.SignatureAlgorithm.Parameters) {
					t.Errorf("signed part =\n%x %v\nwant\n%x %v", got.RawTBS, got.SignatureAlgorithm, want.RawTBS, want.SignatureAlgorithm)
				}
				// The brand IDs are not the certificate's: check the
				// signatures alone.
				for _, b := range []*BrandCRLIdentifier{got, want} {
					if err := verifySignature(brand.Cert, b.SignatureAlgorithm, b.RawTBS, b.Signature); err != nil {
						t.Errorf("signature: %v", err)
					}
				}
				if got.SequenceNum != tmpl.SequenceNum || got.BrandID != tmpl.BrandID ||
					!got.NotBefore.Equal(tmpl.NotBefore.Truncate(time.Second)) || !got.NotAfter.Equal(tmpl.NotAfter.Truncate(time.Second)) ||
					got.NotBefore.Location() != time.UTC || len(got.CRLIdentifiers) != len(tmpl.CRLIdentifiers) {
					t.Errorf("decoded %+v from template %+v", got, tmpl)
				}
				for i, id := range got.CRLIdentifiers {
					if !bytes.Equal(id.IssuerThumb, tmpl.CRLIdentifiers[i].IssuerThumb) || id.CRLNumber.Cmp(tmpl.CRLIdentifiers[i].CRLNumber) != 0 {
						t.Errorf("identifier %d = %x/%v, want %x/%v", i, id.IssuerThumb, id.CRLNumber, tmpl.CRLIdentifiers[i].IssuerThumb, tmpl.CRLIdentifiers[i].CRLNumber)
					}
				}
				m, err := msg.UnmarshalBrandCRLIdentifier(golden)
				if err != nil {
					t.Fatal(err)
				}
				again, err := m.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, golden) {
					t.Errorf("msg re-encodes the golden BCI as\n%x", again)
				}
			})
		}
	}
}

// TestIssueBCIStrict: IssueBCI refuses what ParseBrandCRLIdentifier would
// reject (before msg wrote BCIs, all but the year were signed and then
// could not be read back), and ParseBrandCRLIdentifier rejects a signed BCI naming a
// CA twice.
func TestIssueBCIStrict(t *testing.T) {
	brand := goldenBrand(t, "modern")
	base := goldenBCITemplates()["full"]
	for name, mut := range map[string]func(*BrandCRLIdentifier){
		"sequenceNum 2^31": func(b *BrandCRLIdentifier) { b.SequenceNum = 1 << 31 },
		"sub-second period": func(b *BrandCRLIdentifier) {
			b.NotBefore = time.Date(2026, 3, 1, 12, 0, 0, 1, time.UTC)
			b.NotAfter = b.NotBefore.Add(time.Millisecond)
		},
		"CA twice": func(b *BrandCRLIdentifier) {
			b.CRLIdentifiers = append(b.CRLIdentifiers[:len(b.CRLIdentifiers):len(b.CRLIdentifiers)], b.CRLIdentifiers[1])
		},
		"year 10000": func(b *BrandCRLIdentifier) { b.NotAfter = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		bad := *base
		mut(&bad)
		if raw, err := brand.IssueBCI(rand.Reader, &bad); err == nil {
			_, perr := ParseBrandCRLIdentifier(raw)
			t.Errorf("IssueBCI with %s succeeded (parses back: %v)", name, perr)
		}
	}

	// Sign a BCI listing one CA twice, as another encoder might.
	thumb := bytes.Repeat([]byte{0xab}, 32)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.Tag(26), func(b *cryptobyte.Builder) { b.AddBytes([]byte("SETpay")) })
		b.AddASN1GeneralizedTime(crlThis)
		b.AddASN1GeneralizedTime(crlNext)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for n := range int64(2) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(thumb)
					b.AddASN1Int64(n)
				})
			}
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	alg, err := pkcs7.SignatureAlgorithmFor(brand.Key.Public(), brand.Hash)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signed(rand.Reader, brand.Key, alg, tbs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseBrandCRLIdentifier(raw); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("BCI naming a CA twice: ParseBrandCRLIdentifier = %v, want a duplicate error", err)
	}
}
