package msg

import (
	"testing"
	"time"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

func testAuthRevTags() AuthRevTags {
	return AuthRevTags{AuthRevRRTags: testRRTags(), TransIDs: testTransIDs(), AuthRetNum: ptr[int64](7)}
}

func fullAuthRevReqData(t testing.TB) AuthRevReqData {
	return AuthRevReqData{
		AuthRevTags:     testAuthRevTags(),
		MThumbs:         &Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, CertThumbs: [][]byte{make([]byte, 32)}},
		AuthReqData:     fullAuthReqData(t),
		AuthResPayload:  fullAuthResPayload(),
		AuthNewAmt:      CurrencyAmount{Currency: 978, Amount: 0, AmtExp10: -2},
		ARvRqExtensions: testExts(),
		PGThumb:         testThumb(0xe1),
		Expiry:          testTime.Add(time.Hour),
	}
}

func minimalAuthRevReqData() AuthRevReqData {
	return AuthRevReqData{
		AuthRevTags:    AuthRevTags{AuthRevRRTags: testRRTags(), TransIDs: testTransIDs()},
		AuthReqData:    AuthReqData{AuthReqItem: minimalAuthReqItem()},
		AuthResPayload: AuthResPayload{AuthHeader: AuthHeader{AuthAmt: amount, AuthCode: AuthApproved}},
		AuthNewAmt:     CurrencyAmount{Currency: 978, Amount: 5000, AmtExp10: -2},
	}
}

func fullAuthRevResData() AuthRevResData {
	arp := fullAuthResPayload()
	return AuthRevResData{
		AuthRevTags:        testAuthRevTags(),
		BrandCRLIdentifier: der.Encode(der.TagSequence, nil),
		GKThumb:            testThumb(0xe2),
		AuthRevCode:        AuthRevSuccess,
		AuthNewAmt:         CurrencyAmount{Currency: 978, Amount: 5000, AmtExp10: -2},
		AuthResPayload:     &arp,
		ARvRsExtensions:    testExts(),
		MerchantThumb:      testThumb(0xe3),
		HAuthRevReq:        make([]byte, 32),
	}
}

func fullCapRevOrCredReqData(t testing.TB) CapRevOrCredReqData {
	min := minimalCapItem()
	return CapRevOrCredReqData{
		CapRevOrCredRRTags: testRRTags(),
		MThumbs:            &Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, CRLThumbs: [][]byte{}},
		CapRevOrCredReqItemSeq: []CapRevOrCredReqItem{
			{
				TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x91)), CapPayload: fullCapItem(t).CapPayload,
				NewBatchID: ptr[int64](12), CapRevOrCredReqDate: testTime, CapRevOrCredReqAmt: &amount,
				NewAccountInd: true, CRvRqItemExtensions: testExts(),
			},
			{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x92)), CapPayload: min.CapPayload, CapRevOrCredReqDate: testTime},
		},
		CRvRqExtensions: testExts(),
		PGThumb:         testThumb(0xe4),
		Expiry:          testTime.Add(time.Hour),
	}
}

func minimalCapRevOrCredReqData() CapRevOrCredReqData {
	min := minimalCapItem()
	return CapRevOrCredReqData{
		CapRevOrCredRRTags: testRRTags(),
		CapRevOrCredReqItemSeq: []CapRevOrCredReqItem{
			{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x93)), CapPayload: min.CapPayload, CapRevOrCredReqDate: testTime},
		},
	}
}

func testBatchStatus() BatchStatus {
	return BatchStatus{
		BatchID: 12, BatchState: BatchStateClosed, OpenDateTime: testTime, CloseDateTime: testTime.Add(8 * time.Hour),
		CaptureCount: 3, CaptureTotal: CurrencyAmount{Currency: 978, Amount: 30000, AmtExp10: -2},
		CreditCount: 1, CreditTotal: amount, BStExtensions: testExts(),
	}
}

func fullCapRevOrCredResData() CapRevOrCredResData {
	return CapRevOrCredResData{
		CapRevOrCredRRTags: testRRTags(),
		BrandCRLIdentifier: der.Encode(der.TagSequence, nil),
		PEThumb:            testThumb(0xe5),
		BatchStatusSeq:     []BatchStatus{testBatchStatus(), {BatchID: 13, OpenDateTime: testTime, CaptureTotal: amount, CreditTotal: amount}},
		CapRevOrCredResItemSeq: []CapRevOrCredResItem{
			{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x94)), CapRevOrCredCode: CapRevOrCredSuccess, CapRevOrCredActualAmt: amount,
				BatchID: ptr[int64](12), BatchSequenceNum: ptr[int64](4), CRvRsItemExtensions: testExts()},
			{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x95)), CapRevOrCredCode: CapRevOrCredAmountError, CapRevOrCredActualAmt: amount},
		},
		CRvRsExtensions:  testExts(),
		MerchantThumb:    testThumb(0xe6),
		HCapRevOrCredReq: make([]byte, 20),
	}
}

func reversalCodecs(t testing.TB) []codec {
	arq, arqMin := fullAuthRevReqData(t), minimalAuthRevReqData()
	ars := fullAuthRevResData()
	arsMin := AuthRevResData{AuthRevTags: AuthRevTags{AuthRevRRTags: testRRTags(), TransIDs: testTransIDs()}, AuthRevCode: AuthRevAmountError, AuthNewAmt: amount}
	crq, crqMin := fullCapRevOrCredReqData(t), minimalCapRevOrCredReqData()
	crs := fullCapRevOrCredResData()
	crsMin := CapRevOrCredResData{CapRevOrCredRRTags: testRRTags()}
	return []codec{
		{"AuthRevReq/full", "reversal_auth_rev_req.der", &AuthRevReq{AuthRevReqTBE: testCI(t, OIDAuthRevReqTBE, 0xa1), AuthRevReqBaggage: fullAuthRevReqBaggage(t)}, decoder(UnmarshalAuthRevReq)},
		{"AuthRevReq/minimal", "reversal_auth_rev_req_min.der", &AuthRevReq{AuthRevReqTBE: testCI(t, OIDAuthRevReqTBE, 0xa1)}, decoder(UnmarshalAuthRevReq)},
		{"AuthRevReqTBS/full", "reversal_auth_rev_req_tbs.der", &AuthRevReqTBS{AuthRevReqData: arq, HAuthRevReqBaggage: testCI(t, pkcs7.OIDDigestedData, 0xa2)}, decoder(UnmarshalAuthRevReqTBS)},
		{"AuthRevReqTBS/minimal", "reversal_auth_rev_req_tbs_min.der", &AuthRevReqTBS{AuthRevReqData: arqMin}, decoder(UnmarshalAuthRevReqTBS)},
		{"AuthRevReqData/full", "", ptr(fullAuthRevReqData(t)), decoder(UnmarshalAuthRevReqData)},
		{"AuthRevRes/full", "reversal_auth_rev_res.der", &AuthRevRes{AuthRevResTBE: testCI(t, OIDAuthRevResTBEB, 0xa3), AuthRevResBaggage: &AuthRevResBaggage{CapTokenNew: testCI(t, OIDCapTokenTBE, 0xa4)}}, decoder(UnmarshalAuthRevRes)},
		{"AuthRevRes/minimal", "reversal_auth_rev_res_min.der", &AuthRevRes{AuthRevResTBE: testCI(t, OIDAuthRevResTBE, 0xa3)}, decoder(UnmarshalAuthRevRes)},
		{"AuthRevResTBS/full", "reversal_auth_rev_res_tbs.der", &AuthRevResTBS{AuthRevResData: ars, HAuthRevResBaggage: testCI(t, pkcs7.OIDDigestedData, 0xa5)}, decoder(UnmarshalAuthRevResTBS)},
		{"AuthRevResData/full", "reversal_auth_rev_res_data.der", ptr(fullAuthRevResData()), decoder(UnmarshalAuthRevResData)},
		{"AuthRevResData/minimal", "reversal_auth_rev_res_data_min.der", &arsMin, decoder(UnmarshalAuthRevResData)},
		{"CapRevReq/full", "reversal_cap_rev_req.der", &CapRevReq{CapRevReqTBE: testCI(t, OIDCapRevReqTBEX, 0xa6), CapTokenSeq: &CapTokenSeq{Tokens: [][]byte{testCI(t, OIDCapTokenTBE, 0xa7)}}}, decoder(UnmarshalCapRevReq)},
		{"CapRevReq/minimal", "reversal_cap_rev_req_min.der", &CapRevReq{CapRevReqTBE: testCI(t, OIDCapRevReqTBE, 0xa6)}, decoder(UnmarshalCapRevReq)},
		{"CapRevRes", "reversal_cap_rev_res.der", &CapRevRes{CapRevResTBE: testCI(t, OIDCapRevResTBE, 0xa8)}, decoder(UnmarshalCapRevRes)},
		{"CapRevOrCredReqTBS/full", "reversal_caprevorcred_req_tbs.der", &CapRevOrCredReqTBS{CapRevOrCredReqData: crq, HCapTokenSeq: testCI(t, pkcs7.OIDDigestedData, 0xa9)}, decoder(UnmarshalCapRevOrCredReqTBS)},
		{"CapRevOrCredReqTBS/minimal", "reversal_caprevorcred_req_tbs_min.der", &CapRevOrCredReqTBS{CapRevOrCredReqData: crqMin}, decoder(UnmarshalCapRevOrCredReqTBS)},
		{"CapRevOrCredReqData/full", "", ptr(fullCapRevOrCredReqData(t)), decoder(UnmarshalCapRevOrCredReqData)},
		{"CapRevOrCredResData/full", "reversal_caprevorcred_res_data.der", &crs, decoder(UnmarshalCapRevOrCredResData)},
		{"CapRevOrCredResData/minimal", "reversal_caprevorcred_res_data_min.der", &crsMin, decoder(UnmarshalCapRevOrCredResData)},
	}
}

func TestReversalRoundTrip(t *testing.T) { runRoundTrips(t, reversalCodecs(t)) }
func TestReversalGolden(t *testing.T)    { runGolden(t, reversalCodecs(t)) }
func TestReversalMutations(t *testing.T) { runMutations(t, reversalCodecs(t)) }

func TestReversalMessageInterface(t *testing.T) {
	checkMessage(t, &AuthRevReq{AuthRevReqTBE: testCI(t, OIDAuthRevReqTBE, 1), AuthRevReqBaggage: fullAuthRevReqBaggage(t)}, 8, "AuthRevReq")
	checkMessage(t, &AuthRevRes{AuthRevResTBE: testCI(t, OIDAuthRevResTBE, 1)}, 9, "AuthRevRes")
	checkMessage(t, &CapRevReq{CapRevReqTBE: testCI(t, OIDCapRevReqTBE, 1)}, 12, "CapRevReq")
	checkMessage(t, &CapRevRes{CapRevResTBE: testCI(t, OIDCapRevResTBE, 1)}, 13, "CapRevRes")
}

func TestReversalCodeStrings(t *testing.T) {
	if AuthRevAlreadyCaptured.String() != "alreadyCaptured" || AuthRevCode(8).Valid() || AuthRevCode(8).String() != "AuthRevCode(8)" {
		t.Error("AuthRevCode names")
	}
	if CapRevOrCredAmountError.String() != "amountError" || CapRevOrCredCode(12).Valid() || CapRevOrCredCode(-1).Valid() {
		t.Error("CapRevOrCredCode names")
	}
}

func TestReversalMarshalRejects(t *testing.T) {
	arq := func(f func(d *AuthRevReqData)) marshaler {
		d := fullAuthRevReqData(t)
		f(&d)
		return &d
	}
	ars := func(f func(d *AuthRevResData)) marshaler {
		d := fullAuthRevResData()
		f(&d)
		return &d
	}
	crq := func(f func(d *CapRevOrCredReqData)) marshaler {
		d := fullCapRevOrCredReqData(t)
		f(&d)
		return &d
	}
	crs := func(f func(d *CapRevOrCredResData)) marshaler {
		d := fullCapRevOrCredResData()
		f(&d)
		return &d
	}
	runMarshalRejects(t, []marshalReject{
		{"authRevReqTBE garbage", &AuthRevReq{AuthRevReqTBE: []byte{0x02, 0x01, 0x00}}, "authRevReqTBE"},
		{"authNewAmt negative", arq(func(d *AuthRevReqData) { d.AuthNewAmt.Amount = -1 }), "amount"},
		{"authRetNum negative", arq(func(d *AuthRevReqData) { d.AuthRevTags.AuthRetNum = ptr[int64](-1) }), "authRetNum"},
		{"authRevCode", ars(func(d *AuthRevResData) { d.AuthRevCode = 8 }), "authRevCode"},
		{"hAuthRevReq too long", ars(func(d *AuthRevResData) { d.HAuthRevReq = make([]byte, 65) }), "hAuthRevReq"},
		{"empty item seq", crq(func(d *CapRevOrCredReqData) { d.CapRevOrCredReqItemSeq = nil }), "capRevOrCredReqItemSeq"},
		{"newBatchID negative", crq(func(d *CapRevOrCredReqData) { d.CapRevOrCredReqItemSeq[0].NewBatchID = ptr[int64](-1) }), "newBatchID"},
		{"capRevOrCredCode", crs(func(d *CapRevOrCredResData) { d.CapRevOrCredResItemSeq[1].CapRevOrCredCode = 12 }), "capRevOrCredCode"},
		{"batchStatus count", crs(func(d *CapRevOrCredResData) { d.BatchStatusSeq[0].CaptureCount = -1 }), "captureCount"},
		{"capRevReq empty capTokenSeq", &CapRevReq{CapRevReqTBE: testCI(t, OIDCapRevReqTBE, 1), CapTokenSeq: &CapTokenSeq{}}, ""},
		{"capRevRes garbage", &CapRevRes{CapRevResTBE: []byte{0x30, 0x01}}, ""},
	})
}

func TestReversalUnmarshalRejects(t *testing.T) {
	tests := nonDERRejects(t, reversalCodecs(t))
	resEnc := mustMarshal(t, ptr(fullAuthRevResData()))
	decRes := func(b []byte) error { _, err := UnmarshalAuthRevResData(b); return err }
	// authRevCode success (0x0a 0x01 0x00) → 8, outside the defined codes.
	tests = append(tests, unmarshalReject{"authRevCode 8", replaceOnce(t, resEnc, []byte{0x0a, 0x01, 0x00, 0x30}, []byte{0x0a, 0x01, 0x08, 0x30}), decRes})
	one := minimalCapRevOrCredReqData()
	one.CapRevOrCredReqItemSeq[0].NewAccountInd = true
	crqEnc := mustMarshal(t, &one)
	decCrq := func(b []byte) error { _, err := UnmarshalCapRevOrCredReqData(b); return err }
	// newAccountInd DEFAULT FALSE encoded as FALSE is not DER.
	tests = append(tests, unmarshalReject{"newAccountInd FALSE", replaceOnce(t, crqEnc, []byte{0x01, 0x01, 0xff}, []byte{0x01, 0x01, 0x00}), decCrq})
	runUnmarshalRejects(t, tests)
}

func FuzzUnmarshalAuthRevReq(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "AuthRevReq/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevReq) })
}

func FuzzUnmarshalAuthRevReqTBS(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "AuthRevReqTBS/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevReqTBS) })
}

func FuzzUnmarshalAuthRevReqData(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "AuthRevReqData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevReqData) })
}

func FuzzUnmarshalAuthRevRes(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "AuthRevRes/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevRes) })
}

func FuzzUnmarshalAuthRevResTBS(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "AuthRevResTBS/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevResTBS) })
}

func FuzzUnmarshalAuthRevResData(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "AuthRevResData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevResData) })
}

func FuzzUnmarshalCapRevReq(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "CapRevReq/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapRevReq) })
}

func FuzzUnmarshalCapRevRes(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "CapRevRes")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapRevRes) })
}

func FuzzUnmarshalCapRevOrCredReqTBS(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "CapRevOrCredReqTBS/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapRevOrCredReqTBS) })
}

func FuzzUnmarshalCapRevOrCredReqData(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "CapRevOrCredReqData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapRevOrCredReqData) })
}

func FuzzUnmarshalCapRevOrCredResData(f *testing.F) {
	fuzzFamily(f, reversalCodecs(f), "CapRevOrCredResData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapRevOrCredResData) })
}
