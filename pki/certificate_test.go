package pki

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

var update = flag.Bool("update", false, "rewrite testdata/ from freshly generated certificates")

func TestParseReparseEqual(t *testing.T) {
	for _, suite := range []string{"set1", "modern", "pq"} {
		f := fixture(t, suite)
		for _, nc := range f.all() {
			again, err := ParseCertificate(bytes.Clone(nc.cert.Raw))
			if err != nil {
				t.Fatalf("%s/%s: %v", suite, nc.name, err)
			}
			if !reflect.DeepEqual(again, nc.cert) {
				t.Errorf("%s/%s: re-parse differs", suite, nc.name)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	raw := fixture(t, "modern").merSig.Raw
	// Truncation at every byte.
	for i := range raw {
		if _, err := ParseCertificate(raw[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: parsed", i)
		}
	}
	// Trailing data.
	if _, err := ParseCertificate(append(bytes.Clone(raw), 0)); !errors.Is(err, der.ErrTrailingData) {
		t.Errorf("trailing byte: %v", err)
	}
	// Non-minimal outer length (0x82 0x00 0xNN style re-encoded in long form).
	long := append([]byte{0x30, 0x84}, 0, 0, byte(len(raw)-4>>8), byte(len(raw)-4))
	long = append(long, raw[4:]...)
	if _, err := ParseCertificate(long); err == nil {
		t.Error("non-minimal length accepted")
	}
	// Every single-byte flip must either fail to parse or parse to
	// something whose signature no longer verifies; it must never panic.
	f := fixture(t, "modern")
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x80
		c, err := ParseCertificate(b)
		if err != nil {
			continue
		}
		if _, err := c.Verify(f.opts()); err == nil {
			t.Fatalf("flip at %d still verifies", i)
		}
	}
}

// TestParseRejectsTBS builds certificates with one deliberate defect each.
func TestParseRejectsTBS(t *testing.T) {
	f := fixture(t, "modern")
	good := f.card
	// Rebuild the TBS with a modified field by splicing raw elements.
	tbs := cryptobyte.String(good.RawTBSCertificate)
	var body cryptobyte.String
	tbs.ReadASN1(&body, 0x30)
	var elems [][]byte
	for !body.Empty() {
		el, err := der.ReadElement(&body)
		if err != nil {
			t.Fatal(err)
		}
		elems = append(elems, el.Raw)
	}
	build := func(parts [][]byte) []byte {
		inner := der.Encode(der.TagSequence, bytes.Join(parts, nil))
		alg := elems[2]
		sig := der.Encode(der.TagBitString, append([]byte{0}, good.Signature...))
		return der.Encode(der.TagSequence, bytes.Join([][]byte{inner, alg, sig}, nil))
	}
	// Sanity: the splice reproduces the original.
	if !bytes.Equal(build(elems), good.Raw) {
		t.Fatal("splice does not reproduce the certificate")
	}
	replace := func(i int, v []byte) [][]byte {
		out := append([][]byte(nil), elems...)
		out[i] = v
		return out
	}
	without := func(i int) [][]byte {
		out := append([][]byte(nil), elems[:i]...)
		return append(out, elems[i+1:]...)
	}
	cases := []struct {
		name  string
		parts [][]byte
	}{
		{"version v1 (absent)", without(0)},
		{"version v2", replace(0, []byte{0xa0, 0x03, 0x02, 0x01, 0x01})},
		{"version v4", replace(0, []byte{0xa0, 0x03, 0x02, 0x01, 0x03})},
		{"inner algorithm differs", replace(2, []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03})},
		{"unsupported key", replace(6, []byte{0x30, 0x0b, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x02, 0x00, 0x01})},
		{"issuerUniqueID", append(append(append([][]byte(nil), elems[:7]...), []byte{0x81, 0x02, 0x00, 0x01}), elems[7:]...)},
		{"no validity", without(4)},
		{"trailing element", append(append([][]byte(nil), elems...), []byte{0x05, 0x00})},
		{"empty extensions", replace(7, []byte{0xa3, 0x02, 0x30, 0x00})},
	}
	for _, tc := range cases {
		if _, err := ParseCertificate(build(tc.parts)); err == nil {
			t.Errorf("%s: parsed", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
			var de *der.Error
			if !errors.As(err, &de) && !errors.Is(err, ErrUnsupportedKey) {
				t.Errorf("%s: error %v is not a der.Error", tc.name, err)
			}
		}
	}
	if _, err := ParseCertificate(build(replace(6, []byte{0x30, 0x0b, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x02, 0x00, 0x01}))); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("Ed25519 key: %v, want ErrUnsupportedKey", err)
	}
}

func TestNamedBits(t *testing.T) {
	cases := []struct {
		v    uint16
		want string
	}{
		{0, "030100"},
		{uint16(CertTypeCard), "03020780"},
		{uint16(CertTypeMer), "03020640"},
		{uint16(CertTypeMCA), "03020308"},
		{uint16(CertTypeBCA), "03020001"},
		{uint16(CertTypeRCA), "0303070080"},
		{uint16(CertTypeAcq), "0303060040"},
		{uint16(x509.KeyUsageCertSign | x509.KeyUsageCRLSign), "03020106"},
		{uint16(x509.KeyUsageDigitalSignature), "03020780"},
	}
	for _, tc := range cases {
		var b cryptobyte.Builder
		appendNamedBits(&b, tc.v)
		got, _ := b.Bytes()
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("encode %#x = %x, want %s", tc.v, got, tc.want)
		}
		back, err := parseNamedBits(got, certTypeBits)
		if err != nil || back != tc.v {
			t.Errorf("decode %s = %#x, %v", tc.want, back, err)
		}
	}
	for _, bad := range []string{
		"03020080",   // unused 0 but trailing zero bit... last bit 0: not minimal
		"030200ff00", // wrong length
		"03020781",   // padding bit set
		"03020800",   // unused 8
		"030107",     // unused bits without data
		"03020700",   // trailing zero octet
		"0303060020", // bit 10: unknown certificate type
		"040100",     // not a BIT STRING
		"030207800000",
	} {
		b, _ := hex.DecodeString(bad)
		if v, err := parseNamedBits(b, certTypeBits); err == nil {
			t.Errorf("parse %s = %#x, want error", bad, v)
		}
	}
	if s := (CertTypeCCA | CertTypeMCA).String(); s != "cca|mca" {
		t.Errorf("String = %q", s)
	}
}

func TestMerchantData(t *testing.T) {
	enc := func(md MerchantData) ([]byte, error) {
		var b cryptobyte.Builder
		md.marshal(&b)
		return b.Bytes()
	}
	for _, flag := range []bool{true, false} {
		md := testMerchant
		md.MerAuthFlag = flag
		b, err := enc(md)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseMerchantData(b)
		if err != nil {
			t.Fatalf("flag %v: %v", flag, err)
		}
		if !reflect.DeepEqual(*got, md) {
			t.Errorf("flag %v: round trip %+v, want %+v", flag, *got, md)
		}
		// Truncation at every byte.
		for i := range b {
			if _, err := parseMerchantData(b[:i]); err == nil {
				t.Fatalf("truncated MerchantData at %d parsed", i)
			}
		}
	}
	// DEFAULT TRUE must not be encoded.
	md := testMerchant
	md.MerAuthFlag = false
	b, _ := enc(md)
	b[len(b)-1] = 0xff
	if _, err := parseMerchantData(b); !errors.Is(err, der.ErrNonMinimal) {
		t.Errorf("explicit DEFAULT TRUE: %v", err)
	}
	for name, mutate := range map[string]func(*MerchantData){
		"BIN length":    func(m *MerchantData) { m.MerAcquirerBIN = "12345" },
		"BIN digits":    func(m *MerchantData) { m.MerAcquirerBIN = "12345x" },
		"country 0":     func(m *MerchantData) { m.MerCountry = 0 },
		"country 1000":  func(m *MerchantData) { m.MerCountry = 1000 },
		"merID empty":   func(m *MerchantData) { m.MerID = "" },
		"merID long":    func(m *MerchantData) { m.MerID = string(bytes.Repeat([]byte("x"), 31)) },
		"language none": func(m *MerchantData) { m.MerNames = []MerName{{Name: "a", City: "b", CountryName: "c"}} },
		"name missing":  func(m *MerchantData) { m.MerNames = []MerName{{Language: "en", City: "b", CountryName: "c"}} },
	} {
		m := testMerchant
		m.MerNames = append([]MerName(nil), m.MerNames...)
		mutate(&m)
		if _, err := enc(m); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func TestHashedRootKeyEncoding(t *testing.T) {
	// With SHA-1 the prefix must match the DER template cryptlib writes.
	const cryptlibPrefix = "302d020100300906052b0e03021a050030070605672a0300000414"
	digest := bytes.Repeat([]byte{0xab}, 20)
	var b cryptobyte.Builder
	marshalHashedRootKey(&b, digest)
	got, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if want := "302f" + cryptlibPrefix + hex.EncodeToString(digest); hex.EncodeToString(got) != want {
		t.Errorf("hashedRootKey = %x\nwant            %s", got, want)
	}
	d, h, err := parseHashedRootKey(got)
	if err != nil || h != crypto.SHA1 || !bytes.Equal(d, digest) {
		t.Errorf("parse: %x %v %v", d, h, err)
	}
	for i := range got {
		if _, _, err := parseHashedRootKey(got[:i]); err == nil {
			t.Fatalf("truncated at %d parsed", i)
		}
	}
	var bad cryptobyte.Builder
	marshalHashedRootKey(&bad, []byte{1, 2, 3})
	if _, err := bad.Bytes(); err == nil {
		t.Error("3-byte digest encoded")
	}
}

func TestExtensionCriticality(t *testing.T) {
	f := fixture(t, "modern")
	want := map[string]bool{
		OIDExtBasicConstraints.String(): true, OIDExtKeyUsage.String(): true,
		OIDExtSubjectKeyID.String(): false, OIDExtAuthorityKeyID.String(): false,
		OIDExtCertificateType.String(): true, OIDExtHashedRootKey.String(): true,
		OIDExtMerchantData.String(): false, OIDExtCardCertRequired.String(): false,
	}
	seen := map[string]bool{}
	for _, nc := range f.all() {
		for _, e := range nc.cert.Extensions {
			w, ok := want[e.ID.String()]
			if !ok {
				t.Errorf("%s: unexpected extension %v", nc.name, e.ID)
				continue
			}
			seen[e.ID.String()] = true
			if e.Critical != w {
				t.Errorf("%s: %v critical=%v, want %v", nc.name, e.ID, e.Critical, w)
			}
		}
	}
	for _, id := range []string{OIDExtHashedRootKey.String(), OIDExtMerchantData.String(), OIDExtCertificateType.String()} {
		if !seen[id] {
			t.Errorf("no certificate carries %s", id)
		}
	}
	// SET's AuthorityKeyIdentifier: issuer name and serial, no key ID.
	card := f.card
	if card.AuthorityKeyID != nil || !bytes.Equal(card.AuthorityCertIssuer, f.h.CCA.Cert.RawIssuer) || card.AuthorityCertSerial.Cmp(f.h.CCA.Cert.SerialNumber) != 0 {
		t.Errorf("AKI = %x / %x / %v", card.AuthorityKeyID, card.AuthorityCertIssuer, card.AuthorityCertSerial)
	}
	if f.h.Root.Cert.AuthorityCertSerial != nil {
		t.Error("self-signed root carries an AKI")
	}
	if f.h.Brand.Cert.MaxPathLen != 1 || f.h.CCA.Cert.MaxPathLen != 0 || f.h.Root.Cert.MaxPathLen != -1 || card.MaxPathLen != -1 {
		t.Errorf("path lengths %d %d %d %d", f.h.Root.Cert.MaxPathLen, f.h.Brand.Cert.MaxPathLen, f.h.CCA.Cert.MaxPathLen, card.MaxPathLen)
	}
}

func TestCardholderCertHasNoPAN(t *testing.T) {
	for _, suite := range []string{"set1", "modern", "pq"} {
		f := fixture(t, suite)
		raw := f.card.Raw
		ascii := []byte(testPAN)
		bcd, _ := hex.DecodeString(testPAN) // packed BCD: one digit per nibble
		var u16be, u16le []byte
		for _, c := range utf16.Encode([]rune(testPAN)) {
			u16be = append(u16be, byte(c>>8), byte(c))
			u16le = append(u16le, byte(c), byte(c>>8))
		}
		for name, needle := range map[string][]byte{"ASCII": ascii, "BCD": bcd, "UTF-16BE": u16be, "UTF-16LE": u16le, "ASCII last 8": ascii[8:]} {
			if bytes.Contains(raw, needle) {
				t.Errorf("%s: cardholder certificate contains the PAN as %s", suite, name)
			}
		}
		mac := hmac.New(f.hash.New, testPANSecret)
		mac.Write([]byte(testPAN + testExpiry))
		if f.card.Subject.CommonName != hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("%s: subject CN %q is not the HMAC of PAN and expiry", suite, f.card.Subject.CommonName)
		}
	}
	for _, bad := range []struct{ pan, exp string }{{"4111", testExpiry}, {"41111111111111x1", testExpiry}, {testPAN, "2029-12"}, {testPAN, "202913"}} {
		if _, err := CardholderTemplate(nil, bad.pan, bad.exp, testPANSecret, crypto.SHA256, testNow); err == nil {
			t.Errorf("CardholderTemplate(%q, %q) accepted", bad.pan, bad.exp)
		}
	}
	// The certificate ends with the card.
	ct, _ := CardholderTemplate(nil, testPAN, "202606", testPANSecret, crypto.SHA256, testNow)
	if want := "2026-07-01"; ct.NotAfter.Format("2006-01-02") != want {
		t.Errorf("NotAfter %v, want %s", ct.NotAfter, want)
	}
}

// TestGolden parses the recorded modern hierarchy in testdata/ and checks
// it still validates at its recording time; -update records a new one.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "modern")
	if *update {
		f := fixture(t, "modern")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, nc := range f.all() {
			if err := os.WriteFile(filepath.Join(dir, nc.name+".der"), nc.cert.Raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	load := func(name string) *Certificate {
		b, err := os.ReadFile(filepath.Join(dir, name+".der"))
		if err != nil {
			t.Fatalf("%v (run with -update to record)", err)
		}
		c, err := ParseCertificate(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	root, brand := load("root"), load("brand")
	cas := map[string]*Certificate{"cca": load("cca"), "mca": load("mca"), "pca": load("pca")}
	opts := VerifyOptions{
		Roots:         []*Certificate{root},
		Intermediates: []*Certificate{brand, cas["cca"], cas["mca"], cas["pca"]},
		Now:           root.NotBefore.Add(time.Hour),
	}
	for _, tc := range []struct {
		name string
		typ  CertType
		ku   x509.KeyUsage
		ca   string
	}{
		{"card", CertTypeCard, x509.KeyUsageDigitalSignature, "cca"},
		{"mer-sig", CertTypeMer, x509.KeyUsageDigitalSignature, "mca"},
		{"mer-exch", CertTypeMer, x509.KeyUsageKeyAgreement, "mca"},
		{"pgwy-sig", CertTypePgwy, x509.KeyUsageDigitalSignature, "pca"},
		{"pgwy-exch", CertTypePgwy, x509.KeyUsageKeyAgreement, "pca"},
	} {
		c := load(tc.name)
		o := opts
		o.CertType, o.KeyUsage = tc.typ, tc.ku
		chain, err := c.Verify(o)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(chain) != 4 || chain[1] != cas[tc.ca] || chain[2] != brand || chain[3] != root {
			t.Errorf("%s: unexpected chain", tc.name)
		}
	}
	if root.CertType != CertTypeRCA || brand.CertType != CertTypeBCA || cas["cca"].CertType != CertTypeCCA {
		t.Errorf("types %v %v %v", root.CertType, brand.CertType, cas["cca"].CertType)
	}
	if md := load("mer-sig").MerchantData; md == nil || !reflect.DeepEqual(*md, testMerchant) {
		t.Errorf("merchant data %+v", md)
	}
	if root.Subject.CommonName != "SETpay SET Root CA" || brand.Subject.Organization[0] != "SETpay" {
		t.Errorf("names %v / %v", root.Subject, brand.Subject)
	}
}

func FuzzParseCertificate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "modern", "*.der"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCertificate(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Raw, b) {
			t.Fatal("Raw is not the input")
		}
		again, err := ParseCertificate(c.Raw)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	for _, suite := range []string{"modern", "pq"} {
		for _, nc := range fixture(f, suite).all() {
			f.Add(nc.cert.RawSubjectPublicKeyInfo)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		// What we accept we write back identically.
		again, err := MarshalPublicKey(pub)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-marshal differs: %v", err)
		}
	})
}

func FuzzSETExtensions(f *testing.F) {
	fx := fixture(f, "modern")
	for _, c := range []*Certificate{fx.h.Root.Cert, fx.merSig} {
		for _, e := range c.Extensions {
			f.Add(e.Value)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if md, err := parseMerchantData(b); err == nil {
			var bld cryptobyte.Builder
			md.marshal(&bld)
			// SETString is a CHOICE, so the bytes may differ (a BMPString
			// of ASCII comes back as VisibleString); the value may not.
			again, err := bld.Bytes()
			if err != nil {
				t.Fatalf("MerchantData re-marshal: %v", err)
			}
			if md2, err := parseMerchantData(again); err != nil || !reflect.DeepEqual(md2, md) {
				t.Fatalf("MerchantData round trip differs: %v", err)
			}
		}
		if d, _, err := parseHashedRootKey(b); err == nil {
			var bld cryptobyte.Builder
			marshalHashedRootKey(&bld, d)
			if again, err := bld.Bytes(); err != nil || !bytes.Equal(again, b) {
				t.Fatalf("hashedRootKey re-marshal differs: %v", err)
			}
		}
		if v, err := parseNamedBits(b, certTypeBits); err == nil {
			var bld cryptobyte.Builder
			appendNamedBits(&bld, v)
			if again, _ := bld.Bytes(); !bytes.Equal(again, b) {
				t.Fatal("named bits re-encode differs")
			}
		}
	})
}
