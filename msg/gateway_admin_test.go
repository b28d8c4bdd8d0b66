package msg

import (
	"testing"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
)

func fullPCertReqData() PCertReqData {
	return PCertReqData{
		PCertRRTags:    testRRTags(),
		MThumbs:        &Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, CertThumbs: [][]byte{make([]byte, 32)}},
		BrandAndBINSeq: []BrandAndBIN{{BrandID: "Visa", BIN: "411111"}, {BrandID: "MasterCard"}},
		PCRqExtensions: testExts(),
		PGThumb:        testThumb(0xc1),
		Expiry:         testTime.Add(time.Hour),
	}
}

func fullPCertResTBS() PCertResTBS {
	return PCertResTBS{
		PCertRRTags: testRRTags(),
		PCertResItemSeq: []PCertResItem{
			{BrandAndBIN: BrandAndBIN{BrandID: "Visa", BIN: "411111"}, PCertCode: PCertSuccess, CertThumbs: []CertThumb{*testThumb(0xc2), *testThumb(0xc3)}},
			{BrandAndBIN: BrandAndBIN{BrandID: "MasterCard"}, PCertCode: PCertBrandNotSupported},
		},
		BrandCRLIdentifier: []byte{0x30, 0x00},
		PCRsExtensions:     testExts(),
		MerchantThumb:      testThumb(0xc4),
		HPCertReq:          make([]byte, 32),
	}
}

func fullBatchAdminReqData() BatchAdminReqData {
	return BatchAdminReqData{BatchAdminRRTags: testRRTags(), BatchOperation: BatchOpClose, BatchID: ptr[int64](12),
		BARqExtensions: testExts(), PGThumb: testThumb(0xc5), Expiry: testTime.Add(time.Hour)}
}

func fullBatchAdminResData() BatchAdminResData {
	st := testBatchStatus()
	return BatchAdminResData{BatchAdminRRTags: testRRTags(), BatchAdminCode: BatchAdminSuccess, BatchID: ptr[int64](12),
		BatchStatus: &st, BARsExtensions: testExts(), MerchantThumb: testThumb(0xc6), HBatchAdminReq: make([]byte, 48)}
}

func gatewayAdminCodecs(t testing.TB) []codec {
	pcrq, pcrs := fullPCertReqData(), fullPCertResTBS()
	pcrqMin := PCertReqData{PCertRRTags: testRRTags(), BrandAndBINSeq: []BrandAndBIN{{BrandID: "Visa"}}}
	pcrsMin := PCertResTBS{PCertRRTags: testRRTags(), PCertResItemSeq: []PCertResItem{{BrandAndBIN: BrandAndBIN{BrandID: "Visa"}, PCertCode: PCertUnknownBIN}}}
	barq, bars := fullBatchAdminReqData(), fullBatchAdminResData()
	barqMin := BatchAdminReqData{BatchAdminRRTags: testRRTags(), BatchOperation: BatchOpOpen}
	barsMin := BatchAdminResData{BatchAdminRRTags: testRRTags(), BatchAdminCode: BatchAdminBatchUnknown}
	stMin := BatchStatus{BatchID: 0, BatchState: BatchStateOpen, OpenDateTime: testTime, CaptureTotal: amount, CreditTotal: amount}
	return []codec{
		{"PCertReq", "gateway_admin_pcert_req.der", &PCertReq{SignedData: testCI(t, pkcs7.OIDSignedData, 0xc7)}, decoder(UnmarshalPCertReq)},
		{"PCertReqData/full", "gateway_admin_pcert_req_data.der", &pcrq, decoder(UnmarshalPCertReqData)},
		{"PCertReqData/minimal", "gateway_admin_pcert_req_data_min.der", &pcrqMin, decoder(UnmarshalPCertReqData)},
		{"PCertRes", "gateway_admin_pcert_res.der", &PCertRes{SignedData: testCI(t, pkcs7.OIDSignedData, 0xc8)}, decoder(UnmarshalPCertRes)},
		{"PCertResTBS/full", "gateway_admin_pcert_res_tbs.der", &pcrs, decoder(UnmarshalPCertResTBS)},
		{"PCertResTBS/minimal", "gateway_admin_pcert_res_tbs_min.der", &pcrsMin, decoder(UnmarshalPCertResTBS)},
		{"BatchAdminReq", "gateway_admin_batch_req.der", &BatchAdminReq{BatchAdminReqTBE: testCI(t, OIDBatchAdminReqTBE, 0xc9)}, decoder(UnmarshalBatchAdminReq)},
		{"BatchAdminReqData/full", "gateway_admin_batch_req_data.der", &barq, decoder(UnmarshalBatchAdminReqData)},
		{"BatchAdminReqData/minimal", "gateway_admin_batch_req_data_min.der", &barqMin, decoder(UnmarshalBatchAdminReqData)},
		{"BatchAdminRes", "gateway_admin_batch_res.der", &BatchAdminRes{BatchAdminResTBE: testCI(t, OIDBatchAdminResTBE, 0xca)}, decoder(UnmarshalBatchAdminRes)},
		{"BatchAdminResData/full", "gateway_admin_batch_res_data.der", &bars, decoder(UnmarshalBatchAdminResData)},
		{"BatchAdminResData/minimal", "gateway_admin_batch_res_data_min.der", &barsMin, decoder(UnmarshalBatchAdminResData)},
		{"BatchStatus/full", "gateway_admin_batch_status.der", ptr(testBatchStatus()), decoder(UnmarshalBatchStatus)},
		{"BatchStatus/minimal", "", &stMin, decoder(UnmarshalBatchStatus)},
	}
}

func TestGatewayAdminRoundTrip(t *testing.T) { runRoundTrips(t, gatewayAdminCodecs(t)) }
func TestGatewayAdminGolden(t *testing.T)    { runGolden(t, gatewayAdminCodecs(t)) }
func TestGatewayAdminMutations(t *testing.T) { runMutations(t, gatewayAdminCodecs(t)) }

func TestGatewayAdminMessageInterface(t *testing.T) {
	checkMessage(t, &PCertReq{SignedData: testCI(t, pkcs7.OIDSignedData, 1)}, 18, "PCertReq")
	checkMessage(t, &PCertRes{SignedData: testCI(t, pkcs7.OIDSignedData, 1)}, 19, "PCertRes")
	checkMessage(t, &BatchAdminReq{BatchAdminReqTBE: testCI(t, OIDBatchAdminReqTBE, 1)}, 20, "BatchAdminReq")
	checkMessage(t, &BatchAdminRes{BatchAdminResTBE: testCI(t, OIDBatchAdminResTBE, 1)}, 21, "BatchAdminRes")
}

func TestGatewayAdminCodeStrings(t *testing.T) {
	if BatchOpPurge.String() != "purge" || BatchOperation(4).Valid() || BatchOperation(4).String() != "BatchOperation(4)" {
		t.Error("BatchOperation names")
	}
	if BatchStatePurged.String() != "purged" || BatchState(4).Valid() || BatchAdminCode(6).Valid() || PCertCode(4).Valid() {
		t.Error("batch / pcert code ranges")
	}
}

func TestGatewayAdminMarshalRejects(t *testing.T) {
	pcrq := func(f func(d *PCertReqData)) marshaler {
		d := fullPCertReqData()
		f(&d)
		return &d
	}
	pcrs := func(f func(d *PCertResTBS)) marshaler {
		d := fullPCertResTBS()
		f(&d)
		return &d
	}
	barq := func(f func(d *BatchAdminReqData)) marshaler {
		d := fullBatchAdminReqData()
		f(&d)
		return &d
	}
	bars := func(f func(d *BatchAdminResData)) marshaler {
		d := fullBatchAdminResData()
		f(&d)
		return &d
	}
	runMarshalRejects(t, []marshalReject{
		{"empty brandAndBINSeq", pcrq(func(d *PCertReqData) { d.BrandAndBINSeq = nil }), "brandAndBINSeq"},
		{"BIN not digits", pcrq(func(d *PCertReqData) { d.BrandAndBINSeq[0].BIN = "41111A" }), "bin"},
		{"brandID empty", pcrq(func(d *PCertReqData) { d.BrandAndBINSeq[1].BrandID = "" }), "brandID"},
		{"empty pCertResItemSeq", pcrs(func(d *PCertResTBS) { d.PCertResItemSeq = nil }), "pCertResItemSeq"},
		{"pCertCode", pcrs(func(d *PCertResTBS) { d.PCertResItemSeq[0].PCertCode = 4 }), "pCertCode"},
		{"empty certThumbs", pcrs(func(d *PCertResTBS) { d.PCertResItemSeq[0].CertThumbs = []CertThumb{} }), "certThumbs"},
		{"batchOperation", barq(func(d *BatchAdminReqData) { d.BatchOperation = 4 }), "batchOperation"},
		{"batchID negative", barq(func(d *BatchAdminReqData) { d.BatchID = ptr[int64](-1) }), "batchID"},
		{"batchAdminCode", bars(func(d *BatchAdminResData) { d.BatchAdminCode = -1 }), "batchAdminCode"},
		{"batchState", bars(func(d *BatchAdminResData) { d.BatchStatus.BatchState = 9 }), "batchState"},
		{"creditCount negative", bars(func(d *BatchAdminResData) { d.BatchStatus.CreditCount = -2 }), "creditCount"},
		{"hBatchAdminReq empty", bars(func(d *BatchAdminResData) { d.HBatchAdminReq = []byte{} }), "hBatchAdminReq"},
		{"pCertReq garbage", &PCertReq{SignedData: []byte{0x04, 0x00}}, ""},
		{"batchAdminRes nil", &BatchAdminRes{}, ""},
	})
}

func TestGatewayAdminUnmarshalRejects(t *testing.T) {
	tests := nonDERRejects(t, gatewayAdminCodecs(t))
	st := testBatchStatus()
	enc := mustMarshal(t, &st)
	dec := func(b []byte) error { _, err := UnmarshalBatchStatus(b); return err }
	// batchState closed (ENUMERATED 1) → 4: undefined.
	tests = append(tests, unmarshalReject{"batchState 4", replaceOnce(t, enc, []byte{0x0a, 0x01, 0x01}, []byte{0x0a, 0x01, 0x04}), dec})
	// captureCount 3 → -3 (0xfd).
	tests = append(tests, unmarshalReject{"captureCount negative", replaceOnce(t, enc, []byte{0x02, 0x01, 0x03}, []byte{0x02, 0x01, 0xfd}), dec})
	runUnmarshalRejects(t, tests)
}

func FuzzUnmarshalPCertReq(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "PCertReq")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPCertReq) })
}

func FuzzUnmarshalPCertReqData(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "PCertReqData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPCertReqData) })
}

func FuzzUnmarshalPCertRes(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "PCertRes")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPCertRes) })
}

func FuzzUnmarshalPCertResTBS(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "PCertResTBS/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPCertResTBS) })
}

func FuzzUnmarshalBatchAdminReq(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "BatchAdminReq")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalBatchAdminReq) })
}

func FuzzUnmarshalBatchAdminReqData(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "BatchAdminReqData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalBatchAdminReqData) })
}

func FuzzUnmarshalBatchAdminRes(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "BatchAdminRes")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalBatchAdminRes) })
}

func FuzzUnmarshalBatchAdminResData(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "BatchAdminResData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalBatchAdminResData) })
}

func FuzzUnmarshalBatchStatus(f *testing.F) {
	fuzzFamily(f, gatewayAdminCodecs(f), "BatchStatus/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalBatchStatus) })
}
