package msg

import (
	"bytes"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

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

func TestAuthRoundTrip(t *testing.T) { runRoundTrips(t, authCodecs(t)) }

func TestAuthGolden(t *testing.T) { runGolden(t, authCodecs(t)) }

func TestAuthMutations(t *testing.T) { runMutations(t, authCodecs(t)) }

func TestAuthMessageInterface(t *testing.T) {
	checkMessage(t, &AuthReq{AuthReqTBE: testCI(t, OIDAuthReqTBE, 1), PI: testPI(t)}, 6, "AuthReq")
	checkMessage(t, &AuthRes{AuthResTBE: testCI(t, OIDAuthResTBE, 2)}, 7, "AuthRes")
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
	runMarshalRejects(t, []marshalReject{
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
	})
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
	runUnmarshalRejects(t, []unmarshalReject{
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
	})
}

func decAuthReqTBS(b []byte) error { _, err := UnmarshalAuthReqTBS(b); return err }

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
