package msg

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// The -update flag regenerates testdata/auth_*.der and cap_*.der. It is
// registered only if another test file of the package has not done so.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// testCI returns a small well-formed ContentInfo of the given content type,
// standing in for the envelopes and digests package encap produces.
func testCI(t testing.TB, ct asn1.ObjectIdentifier, fill byte) []byte {
	t.Helper()
	ci, err := pkcs7.MarshalContentInfo(ct, der.Encode(der.TagSequence, der.Encode(der.TagOctetString, bytes.Repeat([]byte{fill}, 8))))
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

// testPI is the authToken alternative of PI: the simplest to build here.
func testPI(t testing.TB) PI {
	return PI{AuthToken: testCI(t, OIDAuthTokenTBE, 0x77)}
}

var testTime = time.Date(2026, 11, 25, 13, 14, 15, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func fill20(c byte) (a [20]byte) {
	for i := range a {
		a[i] = c
	}
	return a
}

func testTransIDs() TransIDs {
	return TransIDs{LIDC: []byte("lidc"), LIDM: []byte("lidm"), XID: XID(fill20(0x11)), PReqDate: testTime, PaySysID: "visa", Language: "en"}
}

func testRRTags() RRTags {
	return RRTags{
		RRPID:       RRPID(fill20(0x22)),
		MerTermIDs:  MerTermIDs{MerchantID: "MERCHANT-1", TerminalID: "T1", AgentNum: ptr[int64](3)},
		CurrentDate: testTime,
	}
}

func testThumb(c byte) *CertThumb {
	return &CertThumb{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, Thumbprint: bytes.Repeat([]byte{c}, 32)}
}

func testExts() MsgExtensions {
	return MsgExtensions{{ID: asn1.ObjectIdentifier{2, 23, 42, 3, 99}, Critical: true, Value: []byte{0x05, 0x00}}}
}

var amount = CurrencyAmount{Currency: 978, Amount: 12345, AmtExp10: -2}

func minimalAuthReqItem() AuthReqItem {
	return AuthReqItem{
		AuthTags:       AuthTags{AuthRRTags: testRRTags(), TransIDs: testTransIDs()},
		AuthReqPayload: AuthReqPayload{AuthReqAmt: amount},
	}
}

func fullAuthReqItem(t testing.TB) AuthReqItem {
	return AuthReqItem{
		AuthTags: AuthTags{AuthRRTags: testRRTags(), TransIDs: testTransIDs(), AuthRetNum: ptr[int64](42)},
		CheckDigests: &CheckDigests{
			HOIData: testCI(t, pkcs7.OIDDigestedData, 0x01),
			HOD2:    testCI(t, pkcs7.OIDDigestedData, 0x02),
		},
		AuthReqPayload: AuthReqPayload{
			SubsequentAuthInd:  true,
			AuthReqAmt:         amount,
			AVSData:            []byte("1 Main St"),
			SpecialProcessing:  ptr(2),
			CardSuspect:        []byte{1},
			RequestCardTypeInd: true,
			InstallRecurData:   []byte("recur"),
			MarketSpecAuthData: []byte("hotel"),
			MerchData:          MerchData{MerchCatCode: "5411", MerchGroup: ptr(0)},
			ARqExtensions:      testExts(),
		},
	}
}

func fullAuthReqData(t testing.TB) AuthReqData {
	return AuthReqData{
		AuthReqItem: fullAuthReqItem(t),
		MThumbs:     &Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, CertThumbs: [][]byte{bytes.Repeat([]byte{9}, 32)}},
		CaptureNow:  true,
		SaleDetail:  []byte("sale"),
		PGThumb:     testThumb(0xaa),
		Expiry:      testTime.Add(time.Hour),
	}
}

func fullAuthHeader() AuthHeader {
	return AuthHeader{
		AuthAmt:  amount,
		AuthCode: AuthCardMerchBrandMismatch,
		ResponseData: ResponseData{
			AuthValCodes: &AuthValCodes{ApprovalCode: "A1B2C3", AVSResult: ptr(1)},
			RespReason:   ptr(3),
			CardType:     ptr(4),
			AVSResult:    ptr(255),
			LogRefID:     []byte("log-17"),
		},
		BatchStatus: []byte("open"),
		CurrConv:    []byte("eur->usd"),
	}
}

func fullCapResPayload() CapResPayload {
	return CapResPayload{CapCode: CapUnknownLID, CapAmt: amount, BatchID: ptr[int64](7), BatchSequenceNum: ptr[int64](0), CRsPayExtensions: testExts()}
}

func fullAuthResPayload() AuthResPayload {
	crp := fullCapResPayload()
	return AuthResPayload{AuthHeader: fullAuthHeader(), CapResPayload: &crp, ARsExtensions: testExts()}
}

func fullAuthResData(t testing.TB) AuthResData {
	return AuthResData{
		AuthTags:           AuthTags{AuthRRTags: testRRTags(), TransIDs: testTransIDs(), AuthRetNum: ptr[int64](1)},
		BrandCRLIdentifier: der.Encode(der.TagSequence, der.Encode(der.TagInteger, []byte{5})),
		PEThumb:            testThumb(0xbb),
		AuthResPayload:     fullAuthResPayload(),
		MerchantThumb:      testThumb(0xcc),
		HAuthReq:           bytes.Repeat([]byte{0xdd}, 32),
	}
}

func fullAuthResBaggage(t testing.TB) *AuthResBaggage {
	return &AuthResBaggage{
		CapToken:   testCI(t, OIDCapTokenTBE, 0x31),
		AcqCardMsg: []byte("call us"),
		AuthToken:  testCI(t, OIDAuthTokenTBE, 0x32),
	}
}

// marshaler is what every encodable type offers.
type marshaler = interface{ Marshal() ([]byte, error) }

// decoder adapts a typed Unmarshal function for table tests.
func decoder[T marshaler](f func([]byte) (T, error)) func([]byte) (marshaler, error) {
	return func(b []byte) (marshaler, error) {
		v, err := f(b)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// codec is one standalone type under test.
type codec struct {
	name      string
	golden    string // testdata file name; "" for no golden vector
	value     marshaler
	unmarshal func([]byte) (marshaler, error)
}

func authCodecs(t testing.TB) []codec {
	uAuthReq := decoder(UnmarshalAuthReq)
	uAuthReqTBS := decoder(UnmarshalAuthReqTBS)
	uAuthReqData := decoder(UnmarshalAuthReqData)
	uAuthRes := decoder(UnmarshalAuthRes)
	uAuthResTBS := decoder(UnmarshalAuthResTBS)
	uAuthResData := decoder(UnmarshalAuthResData)
	uBaggage := decoder(UnmarshalAuthResBaggage)

	minData := AuthReqData{AuthReqItem: minimalAuthReqItem()}
	minResData := AuthResData{
		AuthTags:       AuthTags{AuthRRTags: testRRTags(), TransIDs: testTransIDs()},
		AuthResPayload: AuthResPayload{AuthHeader: AuthHeader{AuthAmt: amount, AuthCode: AuthApproved}},
	}
	codecs := []codec{
		{"AuthReq/full", "auth_req.der", &AuthReq{AuthReqTBE: testCI(t, OIDAuthReqTBE, 0x41), PI: testPI(t)}, uAuthReq},
		{"AuthReq/piUnsigned", "", &AuthReq{AuthReqTBE: testCI(t, OIDAuthReqTBE, 0x41), PI: PI{PIUnsigned: testCI(t, OIDPIUnsignedTBE, 0x45)}}, uAuthReq},
		{"AuthReqTBS/full", "auth_req_tbs.der", &AuthReqTBS{AuthReqData: fullAuthReqData(t), HPI: testCI(t, pkcs7.OIDDigestedData, 0x42)}, uAuthReqTBS},
		{"AuthReqTBS/minimal", "auth_req_tbs_min.der", &AuthReqTBS{AuthReqData: minData, HPI: testCI(t, pkcs7.OIDDigestedData, 0x42)}, uAuthReqTBS},
		{"AuthReqData/full", "", ptr(fullAuthReqData(t)), uAuthReqData},
		{"AuthReqData/minimal", "", &minData, uAuthReqData},
		{"AuthRes/full", "auth_res.der", &AuthRes{AuthResTBE: testCI(t, OIDAuthResTBE, 0x43), AuthResBaggage: fullAuthResBaggage(t)}, uAuthRes},
		{"AuthRes/minimal", "auth_res_min.der", &AuthRes{AuthResTBE: testCI(t, OIDAuthResTBE, 0x43)}, uAuthRes},
		{"AuthRes/emptyBaggage", "", &AuthRes{AuthResTBE: testCI(t, OIDAuthResTBE, 0x43), AuthResBaggage: &AuthResBaggage{}}, uAuthRes},
		{"AuthResTBS/full", "auth_res_tbs.der", &AuthResTBS{AuthResData: fullAuthResData(t), HAuthResBaggage: testCI(t, pkcs7.OIDDigestedData, 0x44)}, uAuthResTBS},
		{"AuthResTBS/minimal", "auth_res_tbs_min.der", &AuthResTBS{AuthResData: minResData}, uAuthResTBS},
		{"AuthResData/full", "", ptr(fullAuthResData(t)), uAuthResData},
		{"AuthResData/minimal", "", &minResData, uAuthResData},
		{"AuthResBaggage/full", "auth_res_baggage.der", fullAuthResBaggage(t), uBaggage},
		{"AuthResBaggage/capTokenOnly", "", &AuthResBaggage{CapToken: testCI(t, OIDCapTokenTBE, 0x31)}, uBaggage},
	}
	// A dual-signed PI, as recorded by the purchase tests, when available.
	if b, err := os.ReadFile(filepath.Join("testdata", "purchase-PI-dual.der")); err == nil {
		pi, err := UnmarshalPI(b)
		if err != nil {
			t.Fatalf("purchase-PI-dual.der: %v", err)
		}
		codecs = append(codecs, codec{"AuthReq/piDualSigned", "auth_req_dual.der", &AuthReq{AuthReqTBE: testCI(t, OIDAuthReqTBE, 0x41), PI: *pi}, uAuthReq})
	}
	return codecs
}

// clearRaw zeroes every unexported field named raw, so a decoded value can
// be compared with the value it was encoded from.
func clearRaw(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearRaw(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if v.Type().Field(i).Name == "raw" && f.CanAddr() {
				reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().SetZero()
				continue
			}
			clearRaw(f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			clearRaw(v.Index(i))
		}
	}
}

// rawer is what every standalone type offers.
type rawer interface{ Raw() []byte }

func runRoundTrips(t *testing.T, codecs []codec) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			enc, err := c.value.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if _, err := der.Parse(enc); err != nil {
				t.Fatalf("encoding is not one DER element: %v", err)
			}
			got, err := c.unmarshal(enc)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if r, ok := got.(rawer); !ok || !bytes.Equal(r.Raw(), enc) {
				t.Errorf("Raw() does not return the decoded bytes")
			}
			again, err := got.Marshal()
			if err != nil || !bytes.Equal(again, enc) {
				t.Errorf("re-encoding differs (err %v)", err)
			}
			clearRaw(reflect.ValueOf(got))
			want := reflect.New(reflect.TypeOf(c.value).Elem())
			want.Elem().Set(reflect.ValueOf(c.value).Elem())
			clearRaw(want)
			if !reflect.DeepEqual(got, want.Interface()) {
				t.Errorf("decoded value differs:\n got %+v\nwant %+v", got, want.Interface())
			}
		})
	}
}

func runGolden(t *testing.T, codecs []codec) {
	for _, c := range codecs {
		if c.golden == "" {
			continue
		}
		t.Run(c.golden, func(t *testing.T) {
			enc, err := c.value.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.golden)
			if updating() {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, enc, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(enc, want) {
				t.Errorf("encoding differs from %s (run with -update if the change is intended)", path)
			}
			if _, err := c.unmarshal(want); err != nil {
				t.Errorf("golden vector does not decode: %v", err)
			}
		})
	}
}

// runMutations checks, for every valid encoding, that each truncation is an
// error and that no single-byte change panics; a change that still decodes
// must re-encode to exactly the changed bytes (decoding accepts DER only).
func runMutations(t *testing.T, codecs []codec) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			enc, err := c.value.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(enc); i++ {
				if _, err := c.unmarshal(enc[:i]); err == nil {
					t.Fatalf("truncation to %d of %d bytes decoded", i, len(enc))
				}
			}
			if _, err := c.unmarshal(append(bytes.Clone(enc), 0)); !errors.Is(err, der.ErrTrailingData) {
				t.Errorf("trailing byte: got %v, want ErrTrailingData", err)
			}
			for i := range enc {
				for _, x := range []byte{0x01, 0x80, 0xff} {
					m := bytes.Clone(enc)
					m[i] ^= x
					checkStrict(t, c.unmarshal, m)
				}
			}
		})
	}
}

// checkStrict decodes b and, if that succeeds, requires the re-encoding to
// be b itself.
func checkStrict(t *testing.T, unmarshal func([]byte) (marshaler, error), b []byte) {
	t.Helper()
	v, err := unmarshal(b)
	if err != nil {
		var de *der.Error
		if !errors.As(err, &de) {
			t.Errorf("error %v is not a *der.Error", err)
		}
		return
	}
	again, err := v.Marshal()
	if err != nil {
		t.Errorf("decoded %x but cannot re-encode: %v", b, err)
		return
	}
	if !bytes.Equal(again, b) {
		t.Errorf("non-canonical input accepted:\n in %x\nout %x", b, again)
	}
}

func TestAuthRoundTrip(t *testing.T) { runRoundTrips(t, authCodecs(t)) }
func TestAuthGolden(t *testing.T)    { runGolden(t, authCodecs(t)) }
func TestAuthMutations(t *testing.T) { runMutations(t, authCodecs(t)) }

func TestAuthMessageInterface(t *testing.T) {
	var _ Message = (*AuthReq)(nil)
	var _ Message = (*AuthRes)(nil)
	if (&AuthReq{}).Tag() != 6 || (&AuthRes{}).Tag() != 7 {
		t.Error("wrong Message CHOICE tags")
	}
	if (&AuthReq{}).Name() != "AuthReq" || (&AuthRes{}).Name() != "AuthRes" {
		t.Error("wrong names")
	}
	for _, tag := range []uint32{TagAuthReq, TagAuthRes} {
		if messageDecoders[tag] == nil {
			t.Errorf("no decoder registered for [%d]", tag)
		}
	}
	enc, err := (&AuthReq{AuthReqTBE: testCI(t, OIDAuthReqTBE, 1), PI: testPI(t)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := messageDecoders[TagAuthReq](enc)
	if err != nil || m.Name() != "AuthReq" {
		t.Errorf("registered decoder: %v, %v", m, err)
	}
}

func TestAuthCodeString(t *testing.T) {
	if AuthApproved.String() != "approved" || AuthCardMerchBrandMismatch.String() != "cardMerchBrandMismatch" {
		t.Error("AuthCode names")
	}
	if AuthCode(17).Valid() || AuthCode(-1).Valid() || AuthCode(17).String() != "AuthCode(17)" {
		t.Error("AuthCode(17) treated as valid")
	}
}

// TestAuthMarshalRejects checks that invalid values are refused by Marshal
// with an error naming the type and field, never a panic.
func TestAuthMarshalRejects(t *testing.T) {
	type m = marshaler
	tbs := func(f func(d *AuthReqData)) m {
		d := fullAuthReqData(t)
		f(&d)
		return &AuthReqTBS{AuthReqData: d, HPI: testCI(t, pkcs7.OIDDigestedData, 1)}
	}
	res := func(f func(d *AuthResData)) m {
		d := fullAuthResData(t)
		f(&d)
		return &d
	}
	tests := []struct {
		name  string
		v     m
		field string
	}{
		{"tbe not ContentInfo", &AuthReq{AuthReqTBE: []byte{0x04, 0x00}, PI: testPI(t)}, "authReqTBE"},
		{"tbe empty", &AuthReq{PI: testPI(t)}, "authReqTBE"},
		{"hPI missing", &AuthReqTBS{AuthReqData: fullAuthReqData(t)}, "hPI"},
		{"merchCatCode letters", tbs(func(d *AuthReqData) { d.AuthReqItem.AuthReqPayload.MerchData.MerchCatCode = "54a1" }), "merchCatCode"},
		{"merchCatCode length", tbs(func(d *AuthReqData) { d.AuthReqItem.AuthReqPayload.MerchData.MerchCatCode = "541" }), "merchCatCode"},
		{"specialProcessing range", tbs(func(d *AuthReqData) { d.AuthReqItem.AuthReqPayload.SpecialProcessing = ptr(256) }), "specialProcessing"},
		{"merchGroup negative", tbs(func(d *AuthReqData) { d.AuthReqItem.AuthReqPayload.MerchData.MerchGroup = ptr(-1) }), "merchGroup"},
		{"avsData empty", tbs(func(d *AuthReqData) { d.AuthReqItem.AuthReqPayload.AVSData = []byte{} }), "avsData"},
		{"saleDetail empty", tbs(func(d *AuthReqData) { d.SaleDetail = []byte{} }), "saleDetail"},
		{"authRetNum negative", tbs(func(d *AuthReqData) { d.AuthReqItem.AuthTags.AuthRetNum = ptr[int64](-1) }), "authRetNum"},
		{"checkDigests garbage", tbs(func(d *AuthReqData) { d.AuthReqItem.CheckDigests.HOD2 = []byte{1, 2, 3} }), "hod2"},
		{"authCode", res(func(d *AuthResData) { d.AuthResPayload.AuthHeader.AuthCode = 17 }), "authCode"},
		{"approvalCode length", res(func(d *AuthResData) { d.AuthResPayload.AuthHeader.ResponseData.AuthValCodes.ApprovalCode = "12345" }), "approvalCode"},
		{"approvalCode charset", res(func(d *AuthResData) { d.AuthResPayload.AuthHeader.ResponseData.AuthValCodes.ApprovalCode = "12345\n" }), "approvalCode"},
		{"logRefID long", res(func(d *AuthResData) { d.AuthResPayload.AuthHeader.ResponseData.LogRefID = make([]byte, 33) }), "logRefID"},
		{"hAuthReq long", res(func(d *AuthResData) { d.HAuthReq = make([]byte, 65) }), "hAuthReq"},
		{"hAuthReq empty", res(func(d *AuthResData) { d.HAuthReq = []byte{} }), "hAuthReq"},
		{"brandCRLIdentifier not DER", res(func(d *AuthResData) { d.BrandCRLIdentifier = []byte{0x30, 0x05} }), "brandCRLIdentifier"},
		{"capCode inside", res(func(d *AuthResData) { d.AuthResPayload.CapResPayload.CapCode = -1 }), "capCode"},
		{"baggage acqCardMsg empty", &AuthResBaggage{AcqCardMsg: []byte{}}, "acqCardMsg"},
		{"baggage capToken garbage", &AuthResBaggage{CapToken: []byte{0x30}}, "capToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Marshal()
			var de *der.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *der.Error", err)
			}
			if !containsField(err, tc.field) {
				t.Errorf("error %q does not name field %q", err, tc.field)
			}
		})
	}
}

// containsField reports whether some *der.Error in err's chain names field.
func containsField(err error, field string) bool {
	for err != nil {
		if de, ok := err.(*der.Error); ok && de.Field == field {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

// mustMarshal encodes v or fails the test.
func mustMarshal(t testing.TB, v marshaler) []byte {
	t.Helper()
	b, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceOnce swaps the single occurrence of old in b for new; the
// surrounding lengths are fixed up by the caller's choice of equal-length
// replacements, so the result differs only where intended.
func replaceOnce(t testing.TB, b, old, new []byte) []byte {
	t.Helper()
	if bytes.Count(b, old) != 1 {
		t.Fatalf("pattern %x occurs %d times", old, bytes.Count(b, old))
	}
	return bytes.Replace(b, old, new, 1)
}

// TestAuthUnmarshalRejects feeds hand-made non-DER or out-of-range
// encodings and checks each is refused.
func TestAuthUnmarshalRejects(t *testing.T) {
	d := fullAuthReqData(t)
	tbs := mustMarshal(t, &AuthReqTBS{AuthReqData: d, HPI: testCI(t, pkcs7.OIDDigestedData, 0x42)})
	resData := fullAuthResData(t)
	res := mustMarshal(t, &resData)
	min := AuthReqData{AuthReqItem: minimalAuthReqItem()}
	minEnc := mustMarshal(t, &min)

	authCode := der.Encode(der.TagEnumerated, []byte{16})
	tests := []struct {
		name string
		in   []byte
		dec  func([]byte) error
	}{
		{"captureNow 0x01", replaceOnce(t, tbs, []byte{0x01, 0x01, 0xff, 0x81}, []byte{0x01, 0x01, 0x01, 0x81}), decAuthReqTBS},
		{"captureNow FALSE encoded", replaceOnce(t, tbs, []byte{0x01, 0x01, 0xff, 0x81}, []byte{0x01, 0x01, 0x00, 0x81}), decAuthReqTBS},
		{"merchCatCode letters", replaceOnce(t, tbs, []byte("5411"), []byte("54x1")), decAuthReqTBS},
		{"expiry with offset", replaceOnce(t, tbs, []byte("20261125141415Z"), []byte("2026112514141+0")), decAuthReqTBS},
		{"authCode 17", replaceOnce(t, res, authCode, der.Encode(der.TagEnumerated, []byte{17})), decAuthResData},
		{"authCode negative", replaceOnce(t, res, authCode, der.Encode(der.TagEnumerated, []byte{0xff})), decAuthResData},
		{"approvalCode control char", replaceOnce(t, res, []byte("A1B2C3"), []byte("A1B2C\x00")), decAuthResData},
		{"avsResult 256 would need 2 bytes; 0xff is -1", replaceOnce(t, res, []byte{0x83, 0x02, 0x00, 0xff}, []byte{0x83, 0x02, 0xff, 0xff}), decAuthResData},
		{"non-minimal length", nonMinimalLength(t, minEnc), decAuthReqData},
		{"indefinite length", append(append([]byte{0x30, 0x80}, contentsOf(t, minEnc)...), 0, 0), decAuthReqData},
		{"set instead of sequence", der.Encode(der.TagSet, contentsOf(t, minEnc)), decAuthReqData},
		{"empty", nil, decAuthReqData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec(tc.in); err == nil {
				t.Fatal("decoded")
			}
		})
	}
}

func contentsOf(t testing.TB, enc []byte) []byte {
	t.Helper()
	e, err := der.Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	return e.Contents
}

// nonMinimalLength re-encodes a SEQUENCE with a 4-octet length (never
// minimal for SET-sized messages).
func nonMinimalLength(t testing.TB, enc []byte) []byte {
	c := contentsOf(t, enc)
	n := len(c)
	return append([]byte{0x30, 0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, c...)
}

func decAuthReqTBS(b []byte) error  { _, err := UnmarshalAuthReqTBS(b); return err }
func decAuthReqData(b []byte) error { _, err := UnmarshalAuthReqData(b); return err }
func decAuthResData(b []byte) error { _, err := UnmarshalAuthResData(b); return err }

// TestAuthOptionalOrder checks that an OPTIONAL component out of its place
// is rejected rather than skipped.
func TestAuthOptionalOrder(t *testing.T) {
	// AuthReqData with pgThumb [10] placed before captureNow.
	d := AuthReqData{AuthReqItem: minimalAuthReqItem(), PGThumb: testThumb(1)}
	enc := mustMarshal(t, &d)
	e, _ := der.Parse(enc)
	kids, err := e.Children()
	if err != nil || len(kids) != 2 {
		t.Fatalf("children: %v %d", err, len(kids))
	}
	swapped := der.Encode(der.TagSequence, append(bytes.Clone(kids[1].Raw), kids[0].Raw...))
	if _, err := UnmarshalAuthReqData(swapped); err == nil {
		t.Error("reordered components decoded")
	}
}

// TestAuthRawKeptAfterInputChange checks that decoded values own their
// bytes: signatures are checked over Raw, which must not change when the
// caller reuses its buffer.
func TestAuthRawKeptAfterInputChange(t *testing.T) {
	enc := mustMarshal(t, &AuthRes{AuthResTBE: testCI(t, OIDAuthResTBE, 0x43), AuthResBaggage: fullAuthResBaggage(t)})
	keep := bytes.Clone(enc)
	m, err := UnmarshalAuthRes(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 0
	}
	if !bytes.Equal(m.Raw(), keep) || !bytes.Equal(m.AuthResBaggage.Raw(), keep[len(keep)-len(m.AuthResBaggage.Raw()):]) {
		t.Error("Raw aliases the caller's buffer")
	}
}

func fuzzSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
}

// fuzzStrict is the body of every fuzz target: never panic, and anything
// accepted re-encodes to exactly the input.
func fuzzStrict[T marshaler](t *testing.T, b []byte, dec func([]byte) (T, error)) {
	v, err := dec(b)
	if err != nil {
		return
	}
	again, err := v.Marshal()
	if err != nil {
		t.Fatalf("accepted %x but cannot re-encode: %v", b, err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted non-canonical input %x (re-encodes as %x)", b, again)
	}
}

func FuzzUnmarshalAuthReq(f *testing.F) {
	f.Add(mustMarshal(f, &AuthReq{AuthReqTBE: testCI(f, OIDAuthReqTBE, 0x41), PI: testPI(f)}))
	fuzzSeeds(f, "auth_req.der", "auth_req_dual.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthReq) })
}

func FuzzUnmarshalAuthReqTBS(f *testing.F) {
	f.Add(mustMarshal(f, &AuthReqTBS{AuthReqData: fullAuthReqData(f), HPI: testCI(f, pkcs7.OIDDigestedData, 0x42)}))
	fuzzSeeds(f, "auth_req_tbs.der", "auth_req_tbs_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthReqTBS) })
}

func FuzzUnmarshalAuthRes(f *testing.F) {
	f.Add(mustMarshal(f, &AuthRes{AuthResTBE: testCI(f, OIDAuthResTBE, 0x43), AuthResBaggage: fullAuthResBaggage(f)}))
	fuzzSeeds(f, "auth_res.der", "auth_res_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRes) })
}

func FuzzUnmarshalAuthResTBS(f *testing.F) {
	d := fullAuthResData(f)
	f.Add(mustMarshal(f, &AuthResTBS{AuthResData: d, HAuthResBaggage: testCI(f, pkcs7.OIDDigestedData, 0x44)}))
	fuzzSeeds(f, "auth_res_tbs.der", "auth_res_tbs_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthResTBS) })
}
