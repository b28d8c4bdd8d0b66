package msg

import "testing"

func creditCodecs(t testing.TB) []codec {
	seq := &CapTokenSeq{Tokens: [][]byte{nil, testCI(t, OIDCapTokenTBE, 0xb1)}}
	return []codec{
		{"CredReq/full", "credit_req.der", &CredReq{CredReqTBE: testCI(t, OIDCredReqTBE, 0xb2), CapTokenSeq: seq}, decoder(UnmarshalCredReq)},
		{"CredReq/minimal", "credit_req_min.der", &CredReq{CredReqTBE: testCI(t, OIDCredReqTBEX, 0xb2)}, decoder(UnmarshalCredReq)},
		{"CredRes", "credit_res.der", &CredRes{CredResTBE: testCI(t, OIDCredResTBE, 0xb3)}, decoder(UnmarshalCredRes)},
		{"CredRevReq/full", "credit_rev_req.der", &CredRevReq{CredRevReqTBE: testCI(t, OIDCredRevReqTBE, 0xb4), CapTokenSeq: seq}, decoder(UnmarshalCredRevReq)},
		{"CredRevReq/minimal", "credit_rev_req_min.der", &CredRevReq{CredRevReqTBE: testCI(t, OIDCredRevReqTBEX, 0xb4)}, decoder(UnmarshalCredRevReq)},
		{"CredRevRes", "credit_rev_res.der", &CredRevRes{CredRevResTBE: testCI(t, OIDCredRevResTBE, 0xb5)}, decoder(UnmarshalCredRevRes)},
	}
}

func TestCreditRoundTrip(t *testing.T) { runRoundTrips(t, creditCodecs(t)) }
func TestCreditGolden(t *testing.T)    { runGolden(t, creditCodecs(t)) }
func TestCreditMutations(t *testing.T) { runMutations(t, creditCodecs(t)) }

func TestCreditMessageInterface(t *testing.T) {
	checkMessage(t, &CredReq{CredReqTBE: testCI(t, OIDCredReqTBE, 1)}, 14, "CredReq")
	checkMessage(t, &CredRes{CredResTBE: testCI(t, OIDCredResTBE, 1)}, 15, "CredRes")
	checkMessage(t, &CredRevReq{CredRevReqTBE: testCI(t, OIDCredRevReqTBE, 1)}, 16, "CredRevReq")
	checkMessage(t, &CredRevRes{CredRevResTBE: testCI(t, OIDCredRevResTBE, 1)}, 17, "CredRevRes")
}

func TestCreditMarshalRejects(t *testing.T) {
	runMarshalRejects(t, []marshalReject{
		{"credReqTBE missing", &CredReq{}, "credReqTBE"},
		{"credRevReqTBE garbage", &CredRevReq{CredRevReqTBE: []byte{0x04, 0x00}}, "credRevReqTBE"},
		{"credReq capToken garbage", &CredReq{CredReqTBE: testCI(t, OIDCredReqTBE, 1), CapTokenSeq: &CapTokenSeq{Tokens: [][]byte{{0x02, 0x01, 0x00}}}}, "[0]"},
		{"credRes garbage", &CredRes{CredResTBE: []byte{0x30, 0x01}}, ""},
		{"credRevRes nil", &CredRevRes{}, ""},
	})
}

func TestCreditUnmarshalRejects(t *testing.T) {
	runUnmarshalRejects(t, nonDERRejects(t, creditCodecs(t)))
}

func FuzzUnmarshalCredReq(f *testing.F) {
	fuzzFamily(f, creditCodecs(f), "CredReq/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCredReq) })
}

func FuzzUnmarshalCredRes(f *testing.F) {
	fuzzFamily(f, creditCodecs(f), "CredRes")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCredRes) })
}

func FuzzUnmarshalCredRevReq(f *testing.F) {
	fuzzFamily(f, creditCodecs(f), "CredRevReq/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCredRevReq) })
}

func FuzzUnmarshalCredRevRes(f *testing.F) {
	fuzzFamily(f, creditCodecs(f), "CredRevRes")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCredRevRes) })
}
