package msg

import (
	"bytes"
	"testing"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

func fullCapItem(t testing.TB) CapItem {
	item := fullAuthReqItem(t)
	arp := fullAuthResPayload()
	return CapItem{
		TransIDs:  testTransIDs(),
		AuthRRPID: RRPID(fill20(0x33)),
		CapPayload: CapPayload{
			CapDate:        testTime,
			CapReqAmt:      amount,
			AuthReqItem:    &item,
			AuthResPayload: &arp,
			SaleDetail:     []byte("sale"),
			CPayExtensions: testExts(),
		},
		CItemExtensions: testExts(),
	}
}

func minimalCapItem() CapItem {
	return CapItem{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x34)), CapPayload: CapPayload{CapDate: testTime, CapReqAmt: amount}}
}

func fullCapReqData(t testing.TB) CapReqData {
	return CapReqData{
		CapRRTags:          testRRTags(),
		MThumbs:            &Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, CRLThumbs: [][]byte{bytes.Repeat([]byte{8}, 32)}},
		CapItemSeq:         []CapItem{fullCapItem(t), minimalCapItem()},
		CRReqResPayloadSeq: []byte("cr"),
		CRqExtensions:      testExts(),
		PGThumb:            testThumb(0xee),
		Expiry:             testTime.Add(2 * 3600e9),
	}
}

func minimalCapReqData() CapReqData {
	return CapReqData{CapRRTags: testRRTags(), CapItemSeq: []CapItem{minimalCapItem()}}
}

func fullCapTokenSeq(t testing.TB) *CapTokenSeq {
	return &CapTokenSeq{Tokens: [][]byte{testCI(t, OIDCapTokenTBE, 0x51), nil, testCI(t, OIDCapTokenTBE, 0x52)}}
}

func fullCapResData(t testing.TB) CapResData {
	return CapResData{
		CapRRTags:          testRRTags(),
		BrandCRLIdentifier: der.Encode(der.TagSequence, nil),
		PEThumb:            testThumb(0xef),
		BatchStatusSeq:     []byte("batch"),
		CapResItemSeq: []CapResItem{
			{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x35)), CapResPayload: fullCapResPayload()},
			{TransIDs: testTransIDs(), AuthRRPID: RRPID(fill20(0x36)), CapResPayload: CapResPayload{CapCode: CapSuccess, CapAmt: amount}},
		},
		CRsExtensions: testExts(),
		MerchantThumb: testThumb(0xcc),
		HCapReq:       bytes.Repeat([]byte{0xdd}, 32),
	}
}

func capCodecs(t testing.TB) []codec {
	uCapReq := decoder(UnmarshalCapReq)
	uCapReqTBS := decoder(UnmarshalCapReqTBS)
	uCapReqData := decoder(UnmarshalCapReqData)
	uCapTokenSeq := decoder(UnmarshalCapTokenSeq)
	uCapRes := decoder(UnmarshalCapRes)
	uCapResData := decoder(UnmarshalCapResData)
	minData := minimalCapReqData()
	minResData := CapResData{CapRRTags: testRRTags()}
	return []codec{
		{"CapReq/full", "cap_req.der", &CapReq{CapReqTBE: testCI(t, OIDCapReqTBE, 0x61), CapTokenSeq: fullCapTokenSeq(t)}, uCapReq},
		{"CapReq/minimal", "cap_req_min.der", &CapReq{CapReqTBE: testCI(t, OIDCapReqTBE, 0x61)}, uCapReq},
		{"CapReqTBS/full", "cap_req_tbs.der", &CapReqTBS{CapReqData: fullCapReqData(t), HCapTokenSeq: testCI(t, pkcs7.OIDDigestedData, 0x62)}, uCapReqTBS},
		{"CapReqTBS/minimal", "cap_req_tbs_min.der", &CapReqTBS{CapReqData: minData}, uCapReqTBS},
		{"CapReqData/full", "", ptr(fullCapReqData(t)), uCapReqData},
		{"CapReqData/minimal", "", &minData, uCapReqData},
		{"CapTokenSeq/full", "cap_token_seq.der", fullCapTokenSeq(t), uCapTokenSeq},
		{"CapTokenSeq/allNull", "", &CapTokenSeq{Tokens: [][]byte{nil}}, uCapTokenSeq},
		{"CapRes", "cap_res.der", &CapRes{CapResTBE: testCI(t, OIDCapResTBE, 0x63)}, uCapRes},
		{"CapResData/full", "cap_res_data.der", ptr(fullCapResData(t)), uCapResData},
		{"CapResData/minimal", "cap_res_data_min.der", &minResData, uCapResData},
	}
}

func TestCapRoundTrip(t *testing.T) { runRoundTrips(t, capCodecs(t)) }
func TestCapGolden(t *testing.T)    { runGolden(t, capCodecs(t)) }
func TestCapMutations(t *testing.T) { runMutations(t, capCodecs(t)) }

func TestCapMessageInterface(t *testing.T) {
	checkMessage(t, &CapReq{CapReqTBE: testCI(t, OIDCapReqTBE, 1)}, 10, "CapReq")
	checkMessage(t, &CapRes{CapResTBE: testCI(t, OIDCapResTBE, 1)}, 11, "CapRes")
}

func TestCapCodeString(t *testing.T) {
	if CapSuccess.String() != "success" || CapUnknownLID.String() != "unknownLID" {
		t.Error("CapCode names")
	}
	if CapCode(12).Valid() || CapCode(-1).Valid() || CapCode(12).String() != "CapCode(12)" {
		t.Error("CapCode(12) treated as valid")
	}
}

func TestCapMarshalRejects(t *testing.T) {
	data := func(f func(d *CapReqData)) marshaler {
		d := fullCapReqData(t)
		f(&d)
		return &d
	}
	resData := func(f func(d *CapResData)) marshaler {
		d := fullCapResData(t)
		f(&d)
		return &d
	}
	runMarshalRejects(t, []marshalReject{
		{"capReqTBE garbage", &CapReq{CapReqTBE: []byte{0x02, 0x01, 0x00}}, "capReqTBE"},
		{"empty capItemSeq", data(func(d *CapReqData) { d.CapItemSeq = nil }), "capItemSeq"},
		{"empty capTokenSeq", &CapReq{CapReqTBE: testCI(t, OIDCapReqTBE, 1), CapTokenSeq: &CapTokenSeq{}}, ""},
		{"capToken garbage", &CapTokenSeq{Tokens: [][]byte{{0x05, 0x00}}}, "[0]"},
		{"saleDetail empty", data(func(d *CapReqData) { d.CapItemSeq[0].CapPayload.SaleDetail = []byte{} }), "saleDetail"},
		{"authCode inside capItem", data(func(d *CapReqData) { d.CapItemSeq[0].CapPayload.AuthResPayload.AuthHeader.AuthCode = 99 }), "authCode"},
		{"cRReqResPayloadSeq empty", data(func(d *CapReqData) { d.CRReqResPayloadSeq = []byte{} }), "cRReqResPayloadSeq"},
		{"capCode", resData(func(d *CapResData) { d.CapResItemSeq[1].CapResPayload.CapCode = 12 }), "capCode"},
		{"batchID negative", resData(func(d *CapResData) { d.CapResItemSeq[0].CapResPayload.BatchID = ptr[int64](-5) }), "batchID"},
		{"batchStatusSeq empty", resData(func(d *CapResData) { d.BatchStatusSeq = []byte{} }), "batchStatusSeq"},
		{"hCapReq long", resData(func(d *CapResData) { d.HCapReq = make([]byte, 65) }), "hCapReq"},
		{"hCapReq empty", resData(func(d *CapResData) { d.HCapReq = []byte{} }), "hCapReq"},
		{"capRes garbage", &CapRes{CapResTBE: []byte{0x30, 0x01}}, ""},
	})
}

func TestCapUnmarshalRejects(t *testing.T) {
	resEnc := mustMarshal(t, ptr(fullCapResData(t)))
	capCode := der.Encode(der.TagEnumerated, []byte{11})
	ciEnc := testCI(t, OIDCapTokenTBE, 0x51)
	emptyItems := der.Encode(der.TagSequence, append(encodeRRTags(t), der.Encode(der.TagSequence, nil)...))
	runUnmarshalRejects(t, []unmarshalReject{
		{"capCode 12", replaceOnce(t, resEnc, capCode, der.Encode(der.TagEnumerated, []byte{12})), decCapResData},
		{"capCode negative", replaceOnce(t, resEnc, []byte{0x0a, 0x01, 0x0b, 0x30}, []byte{0x0a, 0x01, 0x8b, 0x30}), decCapResData},
		{"empty capItemSeq", emptyItems, decCapReqData},
		{"empty capTokenSeq", der.Encode(der.TagSequence, nil), decCapTokenSeq},
		{"NULL with contents", der.Encode(der.TagSequence, []byte{0x05, 0x01, 0x00}), decCapTokenSeq},
		{"token not a SEQUENCE", der.Encode(der.TagSequence, der.Encode(der.TagOctetString, ciEnc)), decCapTokenSeq},
		{"capRes not a SEQUENCE", der.Encode(der.TagOctetString, ciEnc), decCapRes},
		{"capRes trailing", append(bytes.Clone(ciEnc), 0x05, 0x00), decCapRes},
		{"capResData indefinite", append(append([]byte{0x30, 0x80}, contentsOf(t, resEnc)...), 0, 0), decCapResData},
		{"capResData non-minimal length", nonMinimalLength(t, resEnc), decCapResData},
	})
	// The hand-made empty capItemSeq is otherwise well formed: a capItemSeq
	// with one item decodes.
	one := der.Encode(der.TagSequence, append(encodeRRTags(t), der.Encode(der.TagSequence, mustMarshalItem(t))...))
	if _, err := UnmarshalCapReqData(one); err != nil {
		t.Errorf("control: %v", err)
	}
}

func encodeRRTags(t testing.TB) []byte {
	rr := testRRTags()
	b, err := marshal(rr.add)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarshalItem(t testing.TB) []byte {
	d := minimalCapReqData()
	enc := mustMarshal(t, &d)
	kids, err := der.ParseSequence(contentsOf(t, enc))
	if err != nil || len(kids) != 2 {
		t.Fatalf("CapReqData children: %v", err)
	}
	return kids[1].Contents // the single CapItem's encoding
}

func decCapResData(b []byte) error  { _, err := UnmarshalCapResData(b); return err }
func decCapReqData(b []byte) error  { _, err := UnmarshalCapReqData(b); return err }
func decCapTokenSeq(b []byte) error { _, err := UnmarshalCapTokenSeq(b); return err }
func decCapRes(b []byte) error      { _, err := UnmarshalCapRes(b); return err }

// TestCapTokenSeqNullPositions checks that NULL entries keep their place, so
// tokens stay matched to the CapItems they belong to.
func TestCapTokenSeqNullPositions(t *testing.T) {
	seq, err := UnmarshalCapTokenSeq(mustMarshal(t, fullCapTokenSeq(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(seq.Tokens) != 3 || seq.Tokens[0] == nil || seq.Tokens[1] != nil || seq.Tokens[2] == nil {
		t.Errorf("token positions lost: %d entries", len(seq.Tokens))
	}
}

func FuzzUnmarshalCapReq(f *testing.F) {
	f.Add(mustMarshal(f, &CapReq{CapReqTBE: testCI(f, OIDCapReqTBE, 0x61), CapTokenSeq: fullCapTokenSeq(f)}))
	fuzzSeeds(f, "cap_req.der", "cap_req_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapReq) })
}

func FuzzUnmarshalCapReqTBS(f *testing.F) {
	f.Add(mustMarshal(f, &CapReqTBS{CapReqData: fullCapReqData(f), HCapTokenSeq: testCI(f, pkcs7.OIDDigestedData, 0x62)}))
	fuzzSeeds(f, "cap_req_tbs.der", "cap_req_tbs_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapReqTBS) })
}

func FuzzUnmarshalCapResData(f *testing.F) {
	f.Add(mustMarshal(f, ptr(fullCapResData(f))))
	fuzzSeeds(f, "cap_res_data.der", "cap_res_data_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapResData) })
}

func FuzzUnmarshalCapTokenSeq(f *testing.F) {
	f.Add(mustMarshal(f, fullCapTokenSeq(f)))
	fuzzSeeds(f, "cap_token_seq.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapTokenSeq) })
}
