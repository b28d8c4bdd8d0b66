package msg

import (
	"strings"
	"testing"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// Shared by the tests of inquiry.go, reversal.go, credit.go,
// gateway_admin.go and tokens.go.

// fuzzFamily seeds f with the encoding of every codec whose name starts
// with prefix.
func fuzzFamily(f *testing.F, codecs []codec, prefix string) {
	for _, c := range codecs {
		if strings.HasPrefix(c.name, prefix) {
			f.Add(mustMarshal(f, c.value))
		}
	}
}

// nonDERRejects builds, for each codec whose encoding is a SEQUENCE, the
// indefinite-length and non-minimal-length forms, which must be refused.
func nonDERRejects(t *testing.T, codecs []codec) []unmarshalReject {
	var out []unmarshalReject
	for _, c := range codecs {
		enc := mustMarshal(t, c.value)
		if enc[0] != 0x30 {
			continue
		}
		dec := func(b []byte) error { _, err := c.unmarshal(b); return err }
		out = append(out,
			unmarshalReject{c.name + "/indefinite", append(append([]byte{0x30, 0x80}, contentsOf(t, enc)...), 0, 0), dec},
			unmarshalReject{c.name + "/non-minimal length", nonMinimalLength(t, enc), dec})
	}
	return out
}

func testBackKeyData() *BackKeyData {
	return &BackKeyData{BackAlgID: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}, BackKey: []byte("0123456789abcdef")}
}

func fullAuthTokenData() AuthTokenData {
	return AuthTokenData{
		TransIDs:         testTransIDs(),
		PurchAmt:         amount,
		MerchantID:       "MERCHANT-1",
		AcqBackKeyData:   testBackKeyData(),
		InstallRecurData: []byte("recur"),
		RecurringCount:   ptr[int64](2),
		PrevAuthDateTime: testTime,
		TotalAuthAmount:  CurrencyAmount{Currency: 978, Amount: 5000, AmtExp10: -2},
		AuthTokenOpaque:  []byte("gateway state"),
	}
}

func minimalAuthTokenData() AuthTokenData {
	return AuthTokenData{TransIDs: testTransIDs(), PurchAmt: amount, MerchantID: "M", PrevAuthDateTime: testTime,
		TotalAuthAmount: amount, AuthTokenOpaque: []byte{1}}
}

func fullAuthRevReqBaggage(t testing.TB) *AuthRevReqBaggage {
	return &AuthRevReqBaggage{PI: testPI(t), CapToken: testCI(t, OIDCapTokenTBE, 0x81)}
}

func tokenCodecs(t testing.TB) []codec {
	full, min := fullAuthTokenData(), minimalAuthTokenData()
	return []codec{
		{"AuthToken", "tokens_auth_token.der", &AuthToken{AuthTokenTBE: testCI(t, OIDAuthTokenTBE, 0x71)}, decoder(UnmarshalAuthToken)},
		{"AuthTokenData/full", "tokens_auth_token_data.der", &full, decoder(UnmarshalAuthTokenData)},
		{"AuthTokenData/minimal", "tokens_auth_token_data_min.der", &min, decoder(UnmarshalAuthTokenData)},
		{"CapToken", "tokens_cap_token.der", &CapToken{CapTokenTBE: testCI(t, OIDCapTokenTBEX, 0x72)}, decoder(UnmarshalCapToken)},
		{"CapTokenData", "tokens_cap_token_data.der", &CapTokenData{AuthRRPID: RRPID(fill20(0x73)), AuthAmt: amount, TokenOpaque: []byte("tok")}, decoder(UnmarshalCapTokenData)},
		{"AuthRevReqBaggage/full", "tokens_auth_rev_req_baggage.der", fullAuthRevReqBaggage(t), decoder(UnmarshalAuthRevReqBaggage)},
		{"AuthRevReqBaggage/minimal", "", &AuthRevReqBaggage{PI: testPI(t)}, decoder(UnmarshalAuthRevReqBaggage)},
		{"AuthRevResBaggage/full", "tokens_auth_rev_res_baggage.der", &AuthRevResBaggage{CapTokenNew: testCI(t, OIDCapTokenTBE, 0x74), AuthTokenNew: testCI(t, OIDAuthTokenTBE, 0x75)}, decoder(UnmarshalAuthRevResBaggage)},
		{"AuthRevResBaggage/empty", "", &AuthRevResBaggage{}, decoder(UnmarshalAuthRevResBaggage)},
	}
}

func TestTokensRoundTrip(t *testing.T) { runRoundTrips(t, tokenCodecs(t)) }
func TestTokensGolden(t *testing.T)    { runGolden(t, tokenCodecs(t)) }
func TestTokensMutations(t *testing.T) { runMutations(t, tokenCodecs(t)) }

func TestTokensMarshalRejects(t *testing.T) {
	atd := func(f func(d *AuthTokenData)) marshaler {
		d := fullAuthTokenData()
		f(&d)
		return &d
	}
	runMarshalRejects(t, []marshalReject{
		{"authToken garbage", &AuthToken{AuthTokenTBE: []byte{0x04, 0x00}}, ""},
		{"capToken nil", &CapToken{}, ""},
		{"recurringCount zero", atd(func(d *AuthTokenData) { d.RecurringCount = ptr[int64](0) }), "recurringCount"},
		{"merchantID empty", atd(func(d *AuthTokenData) { d.MerchantID = "" }), "merchantID"},
		{"installRecurData empty", atd(func(d *AuthTokenData) { d.InstallRecurData = []byte{} }), "installRecurData"},
		{"totalAuthAmount currency", atd(func(d *AuthTokenData) { d.TotalAuthAmount.Currency = 0 }), "currency"},
		{"baggage without PI", &AuthRevReqBaggage{CapToken: testCI(t, OIDCapTokenTBE, 1)}, ""},
		{"baggage capToken garbage", &AuthRevReqBaggage{PI: testPI(t), CapToken: []byte{0x05, 0x00}}, "capToken"},
		{"capTokenNew garbage", &AuthRevResBaggage{CapTokenNew: []byte{0x02, 0x01, 0x00}}, "capTokenNew"},
	})
}

func TestTokensUnmarshalRejects(t *testing.T) {
	tests := nonDERRejects(t, tokenCodecs(t))
	ci := testCI(t, OIDCapTokenTBE, 0x81)
	tests = append(tests,
		// The capToken tag [0] would clash with PI's own alternatives.
		unmarshalReject{"baggage capToken as [0]", der.Encode(der.TagSequence, append(mustMarshal(t, ptr(testPI(t))), der.Encode(der.Explicit(0), ci)...)),
			func(b []byte) error { _, err := UnmarshalAuthRevReqBaggage(b); return err }},
		unmarshalReject{"baggage without PI", der.Encode(der.TagSequence, der.Encode(der.Explicit(3), ci)),
			func(b []byte) error { _, err := UnmarshalAuthRevReqBaggage(b); return err }},
	)
	runUnmarshalRejects(t, tests)
}

func TestAuthTokenDataRecurringCountMinimum(t *testing.T) {
	d := fullAuthTokenData()
	enc := mustMarshal(t, &d)
	// recurringCount [2] IMPLICIT INTEGER 2 → 0: refused (counts start at 1).
	bad := replaceOnce(t, enc, []byte{0x82, 0x01, 0x02}, []byte{0x82, 0x01, 0x00})
	if _, err := UnmarshalAuthTokenData(bad); !containsField(err, "recurringCount") {
		t.Errorf("recurringCount 0: got %v", err)
	}
}

func FuzzUnmarshalAuthTokenData(f *testing.F) {
	fuzzFamily(f, tokenCodecs(f), "AuthTokenData/")
	fuzzSeeds(f, "tokens_auth_token_data.der", "tokens_auth_token_data_min.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthTokenData) })
}

func FuzzUnmarshalCapTokenData(f *testing.F) {
	fuzzFamily(f, tokenCodecs(f), "CapTokenData")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapTokenData) })
}

func FuzzUnmarshalAuthToken(f *testing.F) {
	fuzzFamily(f, tokenCodecs(f), "AuthToken")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthToken) })
}

func FuzzUnmarshalCapToken(f *testing.F) {
	fuzzFamily(f, tokenCodecs(f), "CapToken")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalCapToken) })
}

func FuzzUnmarshalAuthRevReqBaggage(f *testing.F) {
	fuzzFamily(f, tokenCodecs(f), "AuthRevReqBaggage/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevReqBaggage) })
}

func FuzzUnmarshalAuthRevResBaggage(f *testing.F) {
	fuzzFamily(f, tokenCodecs(f), "AuthRevResBaggage/")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalAuthRevResBaggage) })
}

// TestNewMessagesThroughWrapper checks that every message of inquiry.go,
// reversal.go, credit.go and gateway_admin.go travels in a MessageWrapper
// under its own CHOICE tag and comes out equal.
func TestNewMessagesThroughWrapper(t *testing.T) {
	msgs := []Message{
		&InqReq{InqReqUnsigned: fullInqReqData()}, &InqRes{SignedData: testCI(t, pkcs7.OIDSignedData, 1)},
		&AuthRevReq{AuthRevReqTBE: testCI(t, OIDAuthRevReqTBE, 2), AuthRevReqBaggage: fullAuthRevReqBaggage(t)},
		&AuthRevRes{AuthRevResTBE: testCI(t, OIDAuthRevResTBE, 3)},
		&CapRevReq{CapRevReqTBE: testCI(t, OIDCapRevReqTBE, 4)}, &CapRevRes{CapRevResTBE: testCI(t, OIDCapRevResTBE, 5)},
		&CredReq{CredReqTBE: testCI(t, OIDCredReqTBE, 6)}, &CredRes{CredResTBE: testCI(t, OIDCredResTBE, 7)},
		&CredRevReq{CredRevReqTBE: testCI(t, OIDCredRevReqTBE, 8)}, &CredRevRes{CredRevResTBE: testCI(t, OIDCredRevResTBE, 9)},
		&PCertReq{SignedData: testCI(t, pkcs7.OIDSignedData, 10)}, &PCertRes{SignedData: testCI(t, pkcs7.OIDSignedData, 11)},
		&BatchAdminReq{BatchAdminReqTBE: testCI(t, OIDBatchAdminReqTBE, 12)}, &BatchAdminRes{BatchAdminResTBE: testCI(t, OIDBatchAdminResTBE, 13)},
	}
	seen := map[uint32]bool{}
	for _, m := range msgs {
		seen[m.Tag()] = true
		w, err := UnmarshalMessageWrapper(pWrapped(t, m))
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		if w.MessageTag() != m.Tag() || w.Message.Name() != m.Name() || MessageName(m.Tag()) != m.Name() {
			t.Errorf("%s: came back as [%d] %s", m.Name(), w.MessageTag(), w.Message.Name())
		}
		if !equalIgnoringRaw(m, w.Message) {
			t.Errorf("%s differs after the wrapper round trip", m.Name())
		}
	}
	for tag := TagInqReq; tag <= TagBatchAdminRes; tag++ {
		if tag == TagAuthReq || tag == TagAuthRes || tag == TagCapReq || tag == TagCapRes {
			continue
		}
		if !seen[tag] {
			t.Errorf("tag %d (%s) not covered", tag, MessageName(tag))
		}
	}
}
