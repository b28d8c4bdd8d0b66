package msg

import (
	"testing"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

func fullInqReqData() *InqReqData {
	return &InqReqData{TransIDs: testTransIDs(), RRPID: RRPID(fill20(0x41)), ChallC2: Challenge(fill20(0x42)), InqRqExtensions: testExts()}
}

func inqCodecs(t testing.TB) []codec {
	min := &InqReqData{TransIDs: testTransIDs(), RRPID: RRPID(fill20(0x41)), ChallC2: Challenge(fill20(0x43))}
	return []codec{
		{"InqReq/signed", "inquiry_req_signed.der", &InqReq{InqReqSigned: testCI(t, pkcs7.OIDSignedData, 0x44)}, decoder(UnmarshalInqReq)},
		{"InqReq/unsigned", "inquiry_req_unsigned.der", &InqReq{InqReqUnsigned: fullInqReqData()}, decoder(UnmarshalInqReq)},
		{"InqReqData/full", "inquiry_req_data.der", fullInqReqData(), decoder(UnmarshalInqReqData)},
		{"InqReqData/minimal", "inquiry_req_data_min.der", min, decoder(UnmarshalInqReqData)},
		{"InqRes", "inquiry_res.der", &InqRes{SignedData: testCI(t, pkcs7.OIDSignedData, 0x45)}, decoder(UnmarshalInqRes)},
	}
}

func TestInqRoundTrip(t *testing.T) { runRoundTrips(t, inqCodecs(t)) }
func TestInqGolden(t *testing.T)    { runGolden(t, inqCodecs(t)) }
func TestInqMutations(t *testing.T) { runMutations(t, inqCodecs(t)) }

func TestInqMessageInterface(t *testing.T) {
	checkMessage(t, &InqReq{InqReqUnsigned: fullInqReqData()}, 4, "InqReq")
	checkMessage(t, &InqReq{InqReqSigned: testCI(t, pkcs7.OIDSignedData, 1)}, 4, "InqReq")
	checkMessage(t, &InqRes{SignedData: testCI(t, pkcs7.OIDSignedData, 1)}, 5, "InqRes")
}

func TestInqMarshalRejects(t *testing.T) {
	runMarshalRejects(t, []marshalReject{
		{"neither alternative", &InqReq{}, ""},
		{"both alternatives", &InqReq{InqReqSigned: testCI(t, pkcs7.OIDSignedData, 1), InqReqUnsigned: fullInqReqData()}, ""},
		{"signed garbage", &InqReq{InqReqSigned: []byte{0x04, 0x00}}, "inqReqSigned"},
		{"language empty", &InqReq{InqReqUnsigned: &InqReqData{TransIDs: TransIDs{LIDC: []byte{1}}}}, "language"},
		{"inqRes garbage", &InqRes{SignedData: []byte{0x30, 0x01}}, ""},
	})
}

func TestInqUnmarshalRejects(t *testing.T) {
	dec := func(b []byte) error { _, err := UnmarshalInqReq(b); return err }
	data := mustMarshal(t, fullInqReqData())
	tests := append(nonDERRejects(t, inqCodecs(t)),
		unmarshalReject{"alternative [2]", der.Encode(der.Explicit(2), data), dec},
		unmarshalReject{"untagged InqReqData", data, dec},
		unmarshalReject{"unsigned trailing", der.Encode(der.Explicit(1), append(data, 0x05, 0x00)), dec},
		unmarshalReject{"signed not a ContentInfo", der.Encode(der.Explicit(0), der.Encode(der.TagOctetString, []byte{1})), dec},
	)
	runUnmarshalRejects(t, tests)
	if err := dec(der.Encode(der.Explicit(1), data)); err != nil {
		t.Errorf("control: %v", err)
	}
}

func FuzzUnmarshalInqReq(f *testing.F) {
	fuzzFamily(f, inqCodecs(f), "InqReq/")
	fuzzSeeds(f, "inquiry_req_signed.der", "inquiry_req_unsigned.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalInqReq) })
}

func FuzzUnmarshalInqReqData(f *testing.F) {
	fuzzFamily(f, inqCodecs(f), "InqReqData/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalInqReqData) })
}

func FuzzUnmarshalInqRes(f *testing.F) {
	fuzzFamily(f, inqCodecs(f), "InqRes")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalInqRes) })
}
