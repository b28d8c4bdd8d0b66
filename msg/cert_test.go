package msg

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// testSPKI returns a well-formed SubjectPublicKeyInfo (an id-ecPublicKey
// P-256 point shape; the key bytes are filler, msg does not parse them).
func testSPKI(fill byte) []byte {
	alg := der.Encode(der.TagSequence, append(
		der.Encode(der.TagOID, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}),
		der.Encode(der.TagOID, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})...))
	key := append([]byte{0x00, 0x04}, bytes.Repeat([]byte{fill}, 64)...)
	return der.Encode(der.TagSequence, append(alg, der.Encode(der.TagBitString, key)...))
}

var sha256Alg = pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}

func testThumbs() *Thumbs {
	return &Thumbs{DigestAlgorithm: sha256Alg, CertThumbs: [][]byte{bytes.Repeat([]byte{7}, 32)}}
}

// bciDER is testBCI's encoding, as pki would put it in a message.
func bciDER() []byte {
	b, err := testBCI().Marshal()
	if err != nil {
		panic(err) // a fixture bug, not an input
	}
	return b
}

func testBCI() *BrandCRLIdentifier {
	return &BrandCRLIdentifier{
		SequenceNum: 7, BrandID: "Visa", NotBefore: testTime, NotAfter: testTime.Add(24 * 3600e9),
		CRLIdentifierSeq:   []CRLIdentifier{{IssuerThumb: bytes.Repeat([]byte{0xc1}, 32), CRLNumber: big.NewInt(3)}, {IssuerThumb: bytes.Repeat([]byte{0xc2}, 20), CRLNumber: big.NewInt(300)}},
		SignatureAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDECDSAWithSHA256},
		Signature:          bytes.Repeat([]byte{0x5b}, 70),
	}
}

func fullRegTemplate() *RegTemplate {
	return &RegTemplate{
		RegFormID: 42, BrandLogoURL: "https://brand.example/logo.png", CardLogoURL: "https://bank.example/card.png",
		RegFieldSeq: []RegField{
			{FieldID: asn1.ObjectIdentifier{2, 23, 42, 99, 1}, FieldName: "Name", FieldDesc: "Name on card", FieldLen: 40, FieldRequired: true},
			{FieldName: "Mother's maiden name", FieldLen: 128},
			{FieldName: "Session", FieldLen: 8, FieldInvisible: true, FieldValue: "abc123"},
		},
	}
}

func fullCardCInitResTBS() *CardCInitResTBS {
	return &CardCInitResTBS{RRPID: RRPID(fill20(1)), LIDEE: []byte("lid-ee"), ChallEE: Challenge(fill20(2)), LIDCA: []byte("lid-ca"),
		CAEThumb: *testThumb(0xca), BrandCRLIdentifier: bciDER(), Thumbs: testThumbs()}
}

func fullMeAqCInitReq() *MeAqCInitReq {
	return &MeAqCInitReq{RRPID: RRPID(fill20(3)), LocalIDEE: []byte("m-lid"), ChallEE: Challenge(fill20(4)), RequestType: MerInitialBoth,
		IDData:  IDData{MerchantAcquirerID: &MerchantAcquirerID{MerchantBIN: "400000", MerchantID: "MERCHANT-1"}},
		BrandID: "Visa", Language: "en", Thumbs: testThumbs()}
}

func fullMeAqCInitResTBS() *MeAqCInitResTBS {
	return &MeAqCInitResTBS{RRPID: RRPID(fill20(3)), LIDEE: []byte("m-lid"), ChallEE: Challenge(fill20(4)), LIDCA: []byte("ca"),
		ChallCA: Challenge(fill20(5)), RequestType: MerInitialBoth,
		RegFormOrReferral: RegFormOrReferral{RegFormData: &RegFormData{RegTemplate: fullRegTemplate(), Policy: "Be nice."}},
		AcctDataField:     &RegField{FieldName: "Account", FieldRequired: true, FieldLen: 34},
		CAEThumb:          *testThumb(0xcb), BrandCRLIdentifier: der.Encode(der.TagSequence, nil), Thumbs: testThumbs()}
}

func fullRegFormResTBS() *RegFormResTBS {
	return &RegFormResTBS{RRPID: RRPID(fill20(6)), LIDEE: []byte("lid-ee"), ChallEE2: Challenge(fill20(7)), LIDCA: []byte("lid-ca"),
		ChallCA: Challenge(fill20(8)), CAEThumb: testThumb(0xcc), RequestType: CardInitialSig,
		RegFormOrReferral:  RegFormOrReferral{RegFormData: &RegFormData{RegTemplate: fullRegTemplate(), Policy: "Policy text"}},
		BrandCRLIdentifier: der.Encode(der.TagSequence, nil), Thumbs: testThumbs()}
}

func fullCertReqData() *CertReqData {
	return &CertReqData{
		RRPID: RRPID(fill20(9)), LIDEE: []byte("m-lid"), ChallEE3: Challenge(fill20(10)), LIDCA: []byte("ca"), ChallCA: Challenge(fill20(11)),
		RequestType: MerInitialBoth, RequestDate: testTime,
		IDData:    &IDData{AcquirerID: &AcquirerID{AcquirerBIN: "411111", AcquirerBusinessID: "12345"}},
		RegFormID: 42, RegForm: []RegFormItem{{FieldName: "Name", FieldValue: "Alice"}, {FieldName: "Optional", FieldValue: ""}},
		CABackKeyData: &BackKeyData{BackAlgID: pkcs7.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}}, BackKey: bytes.Repeat([]byte{0x5a}, 32)},
		PublicKeySorE: PublicKeySorE{PublicKeyS: testSPKI(0x51), PublicKeyE: testSPKI(0x52)},
		EEThumb:       testThumb(0xee), Thumbs: testThumbs(),
		PoPSignatures: []PoPSignature{{PoPKey: PoPKeyE, SignatureAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, Signature: []byte("sig-e")}},
		CRqExtensions: testExts(),
	}
}

func minimalCertReqData() *CertReqData {
	return &CertReqData{RRPID: RRPID(fill20(12)), LIDEE: []byte("c"), ChallEE3: Challenge(fill20(13)), ChallCA: Challenge(fill20(14)),
		RequestType: CardInitialSig, RequestDate: testTime, PublicKeySorE: PublicKeySorE{PublicKeyS: testSPKI(0x53)}}
}

func fullCertResData() *CertResData {
	return &CertResData{RRPID: RRPID(fill20(15)), LIDEE: []byte("c"), ChallEE3: Challenge(fill20(16)), LIDCA: []byte("ca"),
		CertStatus: CertStatus{CertStatusCode: RequestComplete, NonceCCA: ptr(Nonce(fill20(17))), EEMessage: "Welcome",
			CAMsg:         &CAMsg{CardLogoURL: "https://x/c", BrandLogoURL: "https://x/b", CardCurrency: 978, CardholderMsg: "hi"},
			FailedItemSeq: []FailedItem{{ItemNumber: 1, ItemReason: "too long"}}},
		CertThumbs: []CertThumb{*testThumb(0xd1), *testThumb(0xd2)}, BrandCRLIdentifier: bciDER(),
		Thumbs: testThumbs(), CRsExtensions: testExts()}
}

func certCodecs(t testing.TB) []codec {
	pan := &AcctInfo{PANData0: &PANData0{PAN: "4111111111111111", CardExpiry: "202812", CardSecret: Secret(fill20(0x21)), EXNonce: Nonce(fill20(0x22))}}
	acct := &AcctInfo{AcctData: &AcctData{AcctIdentification: "DE89370400440532013000", EXNonce: Nonce(fill20(0x23))}}
	return []codec{
		{"CardCInitReq/full", "cert_cardcinitreq.der", &CardCInitReq{RRPID: RRPID(fill20(1)), LIDEE: []byte("lid"), ChallEE: Challenge(fill20(2)), BrandID: "Visa", Thumbs: testThumbs()}, decoder(UnmarshalCardCInitReq)},
		{"CardCInitReq/minimal", "cert_cardcinitreq_min.der", &CardCInitReq{RRPID: RRPID(fill20(1)), LIDEE: []byte("l"), ChallEE: Challenge(fill20(2)), BrandID: "V"}, decoder(UnmarshalCardCInitReq)},
		{"CardCInitRes", "cert_cardcinitres.der", &CardCInitRes{SignedData: testCI(t, pkcs7.OIDSignedData, 0x31)}, decoder(UnmarshalCardCInitRes)},
		{"CardCInitResTBS/full", "cert_cardcinitres_tbs.der", fullCardCInitResTBS(), decoder(UnmarshalCardCInitResTBS)},
		{"CardCInitResTBS/minimal", "cert_cardcinitres_tbs_min.der", &CardCInitResTBS{RRPID: RRPID(fill20(1)), LIDEE: []byte("l"), ChallEE: Challenge(fill20(2)), CAEThumb: *testThumb(1)}, decoder(UnmarshalCardCInitResTBS)},
		{"MeAqCInitReq/full", "cert_meaqcinitreq.der", fullMeAqCInitReq(), decoder(UnmarshalMeAqCInitReq)},
		{"MeAqCInitReq/acquirer", "cert_meaqcinitreq_min.der", &MeAqCInitReq{RRPID: RRPID(fill20(3)), LocalIDEE: []byte("g"), ChallEE: Challenge(fill20(4)), RequestType: PgwyInitialEnc,
			IDData: IDData{AcquirerID: &AcquirerID{AcquirerBIN: "411111"}}, BrandID: "Visa", Language: "en"}, decoder(UnmarshalMeAqCInitReq)},
		{"MeAqCInitRes", "cert_meaqcinitres.der", &MeAqCInitRes{SignedData: testCI(t, pkcs7.OIDSignedData, 0x32)}, decoder(UnmarshalMeAqCInitRes)},
		{"MeAqCInitResTBS/full", "cert_meaqcinitres_tbs.der", fullMeAqCInitResTBS(), decoder(UnmarshalMeAqCInitResTBS)},
		{"MeAqCInitResTBS/referral", "cert_meaqcinitres_tbs_min.der", &MeAqCInitResTBS{RRPID: RRPID(fill20(3)), LIDEE: []byte("m"), ChallEE: Challenge(fill20(4)), ChallCA: Challenge(fill20(5)),
			RequestType: MerRenewalSig, RegFormOrReferral: RegFormOrReferral{ReferralData: &ReferralData{}}, CAEThumb: *testThumb(2)}, decoder(UnmarshalMeAqCInitResTBS)},
		{"RegFormReq", "cert_regformreq.der", &RegFormReq{Envelope: testCI(t, pkcs7.OIDEnvelopedData, 0x33)}, decoder(UnmarshalRegFormReq)},
		{"RegFormReqData/full", "cert_regformreqdata.der", &RegFormReqData{RRPID: RRPID(fill20(6)), LIDEE: []byte("lid"), ChallEE2: Challenge(fill20(7)), LIDCA: []byte("ca"), RequestType: CardInitialSig, Language: "en", Thumbs: testThumbs()}, decoder(UnmarshalRegFormReqData)},
		{"RegFormReqData/minimal", "cert_regformreqdata_min.der", &RegFormReqData{RRPID: RRPID(fill20(6)), LIDEE: []byte("l"), ChallEE2: Challenge(fill20(7)), RequestType: CardRenewalSig, Language: "en"}, decoder(UnmarshalRegFormReqData)},
		{"PANOnly", "cert_panonly.der", &PANOnly{PAN: "4111111111111111", EXNonce: Nonce(fill20(0x24))}, decoder(UnmarshalPANOnly)},
		{"RegFormRes", "cert_regformres.der", &RegFormRes{SignedData: testCI(t, pkcs7.OIDSignedData, 0x34)}, decoder(UnmarshalRegFormRes)},
		{"RegFormResTBS/full", "cert_regformres_tbs.der", fullRegFormResTBS(), decoder(UnmarshalRegFormResTBS)},
		{"RegFormResTBS/minimal", "cert_regformres_tbs_min.der", &RegFormResTBS{RRPID: RRPID(fill20(6)), LIDEE: []byte("l"), ChallEE2: Challenge(fill20(7)), ChallCA: Challenge(fill20(8)), RequestType: CardInitialSig,
			RegFormOrReferral: RegFormOrReferral{RegFormData: &RegFormData{Policy: "p"}}}, decoder(UnmarshalRegFormResTBS)},
		{"RegFormResTBS/referral", "", &RegFormResTBS{RRPID: RRPID(fill20(6)), LIDEE: []byte("l"), ChallEE2: Challenge(fill20(7)), ChallCA: Challenge(fill20(8)), RequestType: CardInitialSig,
			RegFormOrReferral: RegFormOrReferral{ReferralData: &ReferralData{Reason: "Call your bank", ReferralURLSeq: []string{"https://bank.example/", "https://b2.example/"}}}}, decoder(UnmarshalRegFormResTBS)},
		{"CertReq/encX", "cert_certreq_encx.der", &CertReq{EncX: testCI(t, pkcs7.OIDEnvelopedData, 0x35)}, decoder(UnmarshalCertReq)},
		{"CertReq/enc", "cert_certreq_enc.der", &CertReq{Enc: testCI(t, pkcs7.OIDEnvelopedData, 0x36)}, decoder(UnmarshalCertReq)},
		{"CertReqData/full", "cert_certreqdata.der", fullCertReqData(), decoder(UnmarshalCertReqData)},
		{"CertReqData/minimal", "cert_certreqdata_min.der", minimalCertReqData(), decoder(UnmarshalCertReqData)},
		{"AcctInfo/panData0", "cert_acctinfo_pan.der", pan, decoder(UnmarshalAcctInfo)},
		{"AcctInfo/acctData", "cert_acctinfo_acct.der", acct, decoder(UnmarshalAcctInfo)},
		{"CertRes/signed", "cert_certres_signed.der", &CertRes{Signed: testCI(t, pkcs7.OIDSignedData, 0x37)}, decoder(UnmarshalCertRes)},
		{"CertRes/encrypted", "cert_certres_enck.der", &CertRes{Encrypted: testCI(t, pkcs7.OIDEnvelopedData, 0x38)}, decoder(UnmarshalCertRes)},
		{"CertResData/full", "cert_certresdata.der", fullCertResData(), decoder(UnmarshalCertResData)},
		{"CertResData/minimal", "cert_certresdata_min.der", &CertResData{RRPID: RRPID(fill20(15)), LIDEE: []byte("c"), ChallEE3: Challenge(fill20(16)), CertStatus: CertStatus{CertStatusCode: RequestPended}}, decoder(UnmarshalCertResData)},
		{"CertInqReq", "cert_certinqreq.der", &CertInqReq{SignedData: testCI(t, pkcs7.OIDSignedData, 0x39)}, decoder(UnmarshalCertInqReq)},
		{"CertInqReqTBS/full", "cert_certinqreq_tbs.der", &CertInqReqTBS{RRPID: RRPID(fill20(18)), LIDEE: []byte("c"), ChallEE3: Challenge(fill20(19)), LIDCA: []byte("ca"), Thumbs: testThumbs()}, decoder(UnmarshalCertInqReqTBS)},
		{"CertInqReqTBS/minimal", "cert_certinqreq_tbs_min.der", &CertInqReqTBS{RRPID: RRPID(fill20(18)), LIDEE: []byte("c"), ChallEE3: Challenge(fill20(19))}, decoder(UnmarshalCertInqReqTBS)},
		{"CertInqRes", "cert_certinqres.der", &CertInqRes{Signed: testCI(t, pkcs7.OIDSignedData, 0x3a)}, decoder(UnmarshalCertInqRes)},
		{"BrandCRLIdentifier/full", "cert_bci.der", testBCI(), decoder(UnmarshalBrandCRLIdentifier)},
		{"BrandCRLIdentifier/minimal", "cert_bci_min.der", &BrandCRLIdentifier{BrandID: "MC", NotBefore: testTime, NotAfter: testTime.Add(1e9), SignatureAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDECDSAWithSHA256}, Signature: []byte{1}}, decoder(UnmarshalBrandCRLIdentifier)},
	}
}

func TestCertRoundTrip(t *testing.T) { runRoundTrips(t, certCodecs(t)) }
func TestCertGolden(t *testing.T)    { runGolden(t, certCodecs(t)) }
func TestCertMutations(t *testing.T) { runMutations(t, certCodecs(t)) }

func TestCertMessageInterface(t *testing.T) {
	ci := testCI(t, pkcs7.OIDSignedData, 1)
	for _, c := range []struct {
		m    Message
		tag  uint32
		name string
	}{
		{&CardCInitReq{LIDEE: []byte("l"), BrandID: "V"}, 22, "CardCInitReq"},
		{&CardCInitRes{SignedData: ci}, 23, "CardCInitRes"},
		{fullMeAqCInitReq(), 24, "Me-AqCInitReq"},
		{&MeAqCInitRes{SignedData: ci}, 25, "Me-AqCInitRes"},
		{&RegFormReq{Envelope: ci}, 26, "RegFormReq"},
		{&RegFormRes{SignedData: ci}, 27, "RegFormRes"},
		{&CertReq{Enc: ci}, 28, "CertReq"},
		{&CertRes{Signed: ci}, 29, "CertRes"},
		{&CertInqReq{SignedData: ci}, 30, "CertInqReq"},
		{&CertInqRes{Encrypted: ci}, 31, "CertInqRes"},
	} {
		checkMessage(t, c.m, c.tag, c.name)
		if MessageName(c.tag) != c.name {
			t.Errorf("MessageName(%d) = %q, want %q", c.tag, MessageName(c.tag), c.name)
		}
	}
	// Through the wrapper: a CertReq comes out as a *CertReq.
	enc, err := Wrap(&MessageHeader{Date: testTime, SWIdent: "setpay"}, &CertReq{EncX: ci})
	if err != nil {
		t.Fatal(err)
	}
	w, err := UnmarshalMessageWrapper(enc)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := w.Message.(*CertReq); !ok || !bytes.Equal(m.EncX, ci) {
		t.Errorf("wrapper returned %T", w.Message)
	}
}

func TestRequestType(t *testing.T) {
	for _, c := range []struct {
		t                        RequestType
		card, mer, gw, ren, s, e bool
	}{
		{CardInitialSig, true, false, false, false, true, false},
		{MerInitialSig, false, true, false, false, true, false},
		{MerInitialEnc, false, true, false, false, false, true},
		{MerInitialBoth, false, true, false, false, true, true},
		{PgwyInitialEnc, false, false, true, false, false, true},
		{CardRenewalSig, true, false, false, true, true, false},
		{MerRenewalBoth, false, true, false, true, true, true},
		{PgwyRenewalSig, false, false, true, true, true, false},
		{PgwyRenewalBoth, false, false, true, true, true, true},
	} {
		if c.t.Cardholder() != c.card || c.t.Merchant() != c.mer || c.t.Gateway() != c.gw || c.t.Renewal() != c.ren ||
			c.t.WantsSignature() != c.s || c.t.WantsEncryption() != c.e {
			t.Errorf("%s: wrong classification", c.t)
		}
	}
	for _, v := range []RequestType{0, 2, 3, 11, 12, 19, -1} {
		if v.Valid() || v.WantsSignature() || v.WantsEncryption() || v.Renewal() {
			t.Errorf("%d treated as valid", v)
		}
	}
	if MerInitialBoth.String() != "merInitialBoth" || RequestType(2).String() != "RequestType(2)" {
		t.Error("names")
	}
	if !RequestPended.Pending() || !RequestInProgress.Pending() || RequestComplete.Pending() || CertStatusCode(10).Valid() || CertStatusCode(10).String() != "CertStatusCode(10)" {
		t.Error("CertStatusCode")
	}
}

// TestCertReqDataConsistency checks the rules decoding enforces: the keys
// match the request type, cardholders send no IDData, PoPs name requested
// keys once.
func TestCertReqDataConsistency(t *testing.T) {
	mod := func(f func(d *CertReqData)) marshaler {
		d := fullCertReqData()
		f(d)
		return d
	}
	runMarshalRejects(t, []marshalReject{
		{"sig key missing", mod(func(d *CertReqData) { d.PublicKeySorE.PublicKeyS = nil }), "publicKeySorE"},
		{"enc key unwanted", mod(func(d *CertReqData) { d.RequestType = MerInitialSig }), "publicKeySorE"},
		{"no keys", mod(func(d *CertReqData) { d.PublicKeySorE = PublicKeySorE{}; d.RequestType = MerInitialSig }), "publicKeySorE"},
		{"reserved requestType", mod(func(d *CertReqData) { d.RequestType = 2 }), "requestType"},
		{"cardholder with idData", mod(func(d *CertReqData) {
			d.RequestType = CardInitialSig
			d.PublicKeySorE.PublicKeyE = nil
			d.PoPSignatures = nil
		}), "idData"},
		{"duplicate PoP", mod(func(d *CertReqData) { d.PoPSignatures = append(d.PoPSignatures, d.PoPSignatures[0]) }), "popSignatures[1]"},
		{"PoP for absent key", mod(func(d *CertReqData) { d.RequestType = MerInitialSig; d.PublicKeySorE.PublicKeyE = nil }), "popSignatures[0]"},
		{"PoP key 2", mod(func(d *CertReqData) { d.PoPSignatures[0].PoPKey = 2 }), "popSignatures[0]"},
		{"empty popSignatures", mod(func(d *CertReqData) { d.PoPSignatures = []PoPSignature{} }), "popSignatures"},
		{"empty regForm", mod(func(d *CertReqData) { d.RegForm = []RegFormItem{} }), "regForm"},
		{"bad SPKI", mod(func(d *CertReqData) { d.PublicKeySorE.PublicKeyS = der.Encode(der.TagSequence, nil) }), "publicKeyS"},
		{"SPKI with trailing bits", mod(func(d *CertReqData) {
			k := testSPKI(1)
			k[len(k)-66] = 1 // unused-bits octet of the BIT STRING
			d.PublicKeySorE.PublicKeyS = k
		}), "publicKeyS"},
		{"negative regFormID", mod(func(d *CertReqData) { d.RegFormID = -1 }), "regFormID"},
		{"backKey too long", mod(func(d *CertReqData) { d.CABackKeyData.BackKey = make([]byte, 65) }), "backKey"},
		{"regForm value too long", mod(func(d *CertReqData) { d.RegForm[0].FieldValue = string(bytes.Repeat([]byte{'a'}, 129)) }), "fieldValue"},
	})

	// Decoding enforces the same: swap the request type in a valid
	// encoding for one that asks for a signature key only.
	enc := mustMarshal(t, fullCertReqData())
	bad := replaceOnce(t, enc, der.Encode(der.TagEnumerated, []byte{byte(MerInitialBoth)}), der.Encode(der.TagEnumerated, []byte{byte(MerInitialSig)}))
	if _, err := UnmarshalCertReqData(bad); !containsField(err, "publicKeySorE") {
		t.Errorf("request type / keys mismatch decoded: %v", err)
	}
	bad = replaceOnce(t, enc, der.Encode(der.TagEnumerated, []byte{byte(MerInitialBoth)}), der.Encode(der.TagEnumerated, []byte{3}))
	if _, err := UnmarshalCertReqData(bad); !containsField(err, "requestType") {
		t.Errorf("reserved request type decoded: %v", err)
	}
}

// TestCertReqDataChallCARequired checks deviation 6: a CertReqData
// without the CA's nonce does not decode.
func TestCertReqDataChallCARequired(t *testing.T) {
	enc := mustMarshal(t, minimalCertReqData())
	kids, err := der.ParseSequence(contentsOf(t, enc))
	if err != nil {
		t.Fatal(err)
	}
	var rebuilt []byte
	for _, k := range kids {
		if k.Tag != der.Implicit(1) {
			rebuilt = append(rebuilt, k.Raw...)
		}
	}
	if len(rebuilt) == len(contentsOf(t, enc)) {
		t.Fatal("chall-CA not found in the encoding")
	}
	if _, err := UnmarshalCertReqData(der.Encode(der.TagSequence, rebuilt)); !containsField(err, "chall-CA") {
		t.Errorf("CertReqData without chall-CA: %v", err)
	}
}

// TestPoPInput checks that what PoP signatures sign binds the CA nonce, the
// request and the keys, and does not depend on the signatures themselves.
func TestPoPInput(t *testing.T) {
	base := fullCertReqData()
	in, err := base.PoPInput()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := der.Parse(in); err != nil {
		t.Fatalf("PoPInput is not one DER element: %v", err)
	}
	same := fullCertReqData()
	same.PoPSignatures[0].Signature = []byte("other")
	same.RegForm = nil
	if b, _ := same.PoPInput(); !bytes.Equal(b, in) {
		t.Error("PoPInput depends on the signatures or the form")
	}
	for name, f := range map[string]func(d *CertReqData){
		"chall-CA":    func(d *CertReqData) { d.ChallCA[0] ^= 1 },
		"chall-EE3":   func(d *CertReqData) { d.ChallEE3[0] ^= 1 },
		"rrpid":       func(d *CertReqData) { d.RRPID[0] ^= 1 },
		"requestType": func(d *CertReqData) { d.RequestType = MerRenewalBoth },
		"publicKeyE":  func(d *CertReqData) { d.PublicKeySorE.PublicKeyE = testSPKI(0x99) },
		"lid-EE":      func(d *CertReqData) { d.LIDEE = []byte("other") },
	} {
		d := fullCertReqData()
		f(d)
		if b, err := d.PoPInput(); err != nil || bytes.Equal(b, in) {
			t.Errorf("PoPInput does not cover %s (err %v)", name, err)
		}
	}
}

func TestCertMarshalRejects(t *testing.T) {
	ci := testCI(t, pkcs7.OIDSignedData, 1)
	tmpl := func(f func(r *RegTemplate)) marshaler {
		d := fullRegFormResTBS()
		f(d.RegFormOrReferral.RegFormData.RegTemplate)
		return d
	}
	runMarshalRejects(t, []marshalReject{
		{"CertReq both", &CertReq{EncX: ci, Enc: ci}, ""},
		{"CertReq none", &CertReq{}, ""},
		{"CertReq garbage", &CertReq{Enc: []byte{0x02, 0x01, 0x00}}, "enc"},
		{"CertRes both", &CertRes{Signed: ci, Encrypted: ci}, ""},
		{"CertInqRes none", &CertInqRes{}, ""},
		{"CardCInitRes garbage", &CardCInitRes{SignedData: []byte{0x30, 0x01}}, ""},
		{"AcctInfo none", &AcctInfo{}, ""},
		{"AcctInfo bad PAN", &AcctInfo{PANData0: &PANData0{PAN: "41111", CardExpiry: "202812"}}, "pan"},
		{"AcctInfo bad expiry", &AcctInfo{PANData0: &PANData0{PAN: "4111111111111111", CardExpiry: "202813"}}, "cardExpiry"},
		{"AcctData empty", &AcctInfo{AcctData: &AcctData{}}, "acctIdentification"},
		{"PANOnly bad PAN", &PANOnly{PAN: "41111111111111x1"}, "pan"},
		{"MeAq cardholder type", func() marshaler { m := fullMeAqCInitReq(); m.RequestType = CardInitialSig; return m }(), "requestType"},
		{"MeAq no IDData", func() marshaler { m := fullMeAqCInitReq(); m.IDData = IDData{}; return m }(), ""},
		{"MeAq bad BIN", func() marshaler { m := fullMeAqCInitReq(); m.IDData.MerchantAcquirerID.MerchantBIN = "4000"; return m }(), "bin"},
		{"MeAq lid too long", func() marshaler { m := fullMeAqCInitReq(); m.LocalIDEE = make([]byte, 21); return m }(), "localID-EE"},
		{"RegFormOrReferral none", func() marshaler { d := fullRegFormResTBS(); d.RegFormOrReferral = RegFormOrReferral{}; return d }(), ""},
		{"empty policy", func() marshaler { d := fullRegFormResTBS(); d.RegFormOrReferral.RegFormData.Policy = ""; return d }(), "policy"},
		{"empty regFieldSeq", tmpl(func(r *RegTemplate) { r.RegFieldSeq = nil }), "regFieldSeq"},
		{"fieldLen 129", tmpl(func(r *RegTemplate) { r.RegFieldSeq[0].FieldLen = 129 }), "fieldLen"},
		{"fieldValue longer than fieldLen", tmpl(func(r *RegTemplate) { r.RegFieldSeq[2].FieldValue = "123456789" }), "fieldValue"},
		{"fieldName empty", tmpl(func(r *RegTemplate) { r.RegFieldSeq[1].FieldName = "" }), "fieldName"},
		{"URL not visible", tmpl(func(r *RegTemplate) { r.BrandLogoURL = "http://\x00" }), "brandLogoURL"},
		{"empty referral URLs", &RegFormResTBS{LIDEE: []byte("l"), RequestType: CardInitialSig, RegFormOrReferral: RegFormOrReferral{ReferralData: &ReferralData{ReferralURLSeq: []string{}}}}, "referralURLSeq"},
		{"bad certStatusCode", func() marshaler { d := fullCertResData(); d.CertStatus.CertStatusCode = 0; return d }(), "certStatusCode"},
		{"cardCurrency", func() marshaler { d := fullCertResData(); d.CertStatus.CAMsg.CardCurrency = 1000; return d }(), "cardCurrency"},
		{"empty certThumbs", func() marshaler { d := fullCertResData(); d.CertThumbs = []CertThumb{}; return d }(), "certThumbs"},
		{"failedItem negative", func() marshaler { d := fullCertResData(); d.CertStatus.FailedItemSeq[0].ItemNumber = -1; return d }(), "itemNumber"},
		{"BCI notAfter before notBefore", func() marshaler { b := testBCI(); b.NotAfter = b.NotBefore.Add(-1e9); return b }(), "notAfter"},
		{"BCI negative crlNumber", func() marshaler { b := testBCI(); b.CRLIdentifierSeq[1].CRLNumber = big.NewInt(-1); return b }(), "crlIdentifierSeq[1]"},
		{"BCI issuerThumb of 16 bytes", func() marshaler { b := testBCI(); b.CRLIdentifierSeq[0].IssuerThumb = make([]byte, 16); return b }(), "crlIdentifierSeq[0]"},
		{"BCI sequenceNum past 2^31", func() marshaler { b := testBCI(); b.SequenceNum = 1 << 31; return b }(), "sequenceNum"},
		{"BCI unsigned", func() marshaler { b := testBCI(); b.SignatureAlgorithm = pkcs7.AlgorithmIdentifier{}; return b }(), "signatureAlgorithm"},
		{"BCI brandID empty", func() marshaler { b := testBCI(); b.BrandID = ""; return b }(), "brandID"},
		{"brandCRLIdentifier not DER", func() marshaler { d := fullCardCInitResTBS(); d.BrandCRLIdentifier = []byte{0x30, 0x05}; return d }(), "brandCRLIdentifier"},
	})
}

func TestCertUnmarshalRejects(t *testing.T) {
	dec := func(f func([]byte) error) func([]byte) error { return f }
	reqEnc := mustMarshal(t, fullCertReqData())
	bciEnc := mustMarshal(t, testBCI())
	resEnc := mustMarshal(t, fullCertResData())
	tbsEnc := mustMarshal(t, fullRegFormResTBS())
	ci := testCI(t, pkcs7.OIDSignedData, 1)
	decReq := dec(func(b []byte) error { _, err := UnmarshalCertReqData(b); return err })
	decBCI := dec(func(b []byte) error { _, err := UnmarshalBrandCRLIdentifier(b); return err })
	decRes := dec(func(b []byte) error { _, err := UnmarshalCertResData(b); return err })
	decTBS := dec(func(b []byte) error { _, err := UnmarshalRegFormResTBS(b); return err })
	decCertReq := dec(func(b []byte) error { _, err := UnmarshalCertReq(b); return err })
	decAcct := dec(func(b []byte) error { _, err := UnmarshalAcctInfo(b); return err })
	runUnmarshalRejects(t, []unmarshalReject{
		{"CertReq [2]", der.Encode(der.Explicit(2), ci), decCertReq},
		{"CertReq two envelopes", der.Encode(der.Explicit(0), append(bytes.Clone(ci), ci...)), decCertReq},
		{"CertReq envelope not a SEQUENCE", der.Encode(der.Explicit(0), der.Encode(der.TagOctetString, ci)), decCertReq},
		{"AcctInfo [2]", der.Encode(der.Explicit(2), nil), decAcct},
		{"CertReqData non-minimal length", nonMinimalLength(t, reqEnc), decReq},
		{"CertReqData indefinite", append(append([]byte{0x30, 0x80}, contentsOf(t, reqEnc)...), 0, 0), decReq},
		{"fieldLen DEFAULT encoded", replaceOnce(t, tbsEnc, der.Encode(der.Implicit(2), []byte{40}), der.Encode(der.Implicit(2), []byte{0x00, 0x80})), decTBS},
		{"fieldRequired FALSE encoded", replaceOnce(t, tbsEnc, der.Encode(der.Implicit(3), []byte{0xff}), der.Encode(der.Implicit(3), []byte{0x00})), decTBS},
		{"BCI version 1", replaceOnce(t, bciEnc, []byte{0x02, 0x01, 0x00, 0x02, 0x01, 0x07}, []byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x07}), decBCI},
		{"BCI sequenceNum negative", replaceOnce(t, bciEnc, []byte{0x02, 0x01, 0x00, 0x02, 0x01, 0x07}, []byte{0x02, 0x01, 0x00, 0x02, 0x01, 0xf9}), decBCI},
		{"BCI crlNumber negative", replaceOnce(t, bciEnc, []byte{0x02, 0x02, 0x01, 0x2c}, []byte{0x02, 0x02, 0xff, 0x2c}), decBCI},
		{"BCI unsigned layout", contentsOf(t, bciEnc)[:len(unsignedOf(t, bciEnc))], decBCI},
		{"BCI signature with unused bits", replaceOnce(t, bciEnc, []byte{0x03, 0x47, 0x00}, []byte{0x03, 0x47, 0x01}), decBCI},
		{"certStatusCode 10", replaceOnce(t, resEnc, der.Encode(der.TagEnumerated, []byte{1}), der.Encode(der.TagEnumerated, []byte{10})), decRes},
	})
	// Control: the fieldLen replacement target is valid with a legal value.
	if _, err := UnmarshalRegFormResTBS(replaceOnce(t, tbsEnc, der.Encode(der.Implicit(2), []byte{40}), der.Encode(der.Implicit(2), []byte{41}))); err != nil {
		t.Errorf("control: %v", err)
	}
}

// TestCertSecretsNotPrinted checks that no fmt verb prints a PAN, card
// secret, account or back key.
func TestCertSecretsNotPrinted(t *testing.T) {
	pan := "4111111111111111"
	secret := Secret(fill20('S'))
	values := []any{
		AcctInfo{PANData0: &PANData0{PAN: pan, CardExpiry: "202812", CardSecret: secret}},
		&AcctInfo{AcctData: &AcctData{AcctIdentification: "DE89370400440532013000"}},
		PANOnly{PAN: pan},
		&PANData0{PAN: pan, CardSecret: secret},
		AcctData{AcctIdentification: "DE89370400440532013000"},
		fullCertReqData(),
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
			out := fmt.Sprintf(verb, v)
			if bytes.Contains([]byte(out), []byte(pan)) || bytes.Contains([]byte(out), []byte("DE8937040044")) ||
				bytes.Contains([]byte(out), []byte("SSSSSSSS")) || bytes.Contains([]byte(out), bytes.Repeat([]byte{0x5a}, 8)) ||
				bytes.Contains([]byte(out), []byte("5a5a5a5a")) || bytes.Contains([]byte(out), []byte("90, 90, 90")) {
				t.Errorf("%T printed with %s leaks: %s", v, verb, out)
			}
		}
	}
}

func TestBrandCRLIdentifierOpaqueField(t *testing.T) {
	// The DER pki puts in a message's opaque brandCRLIdentifier decodes
	// with UnmarshalBrandCRLIdentifier.
	d, err := UnmarshalCardCInitResTBS(mustMarshal(t, fullCardCInitResTBS()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := UnmarshalBrandCRLIdentifier(d.BrandCRLIdentifier)
	if err != nil || b.SequenceNum != 7 || len(b.CRLIdentifierSeq) != 2 || b.CRLIdentifierSeq[1].CRLNumber.Int64() != 300 {
		t.Errorf("BrandCRLIdentifier from message: %+v, %v", b, err)
	}
	if _, err := UnmarshalBrandCRLIdentifier(append(mustMarshal(t, testBCI()), 0)); !errors.Is(err, der.ErrTrailingData) {
		t.Errorf("trailing: %v", err)
	}
}

// unsignedOf returns the UnsignedBrandCRLIdentifier of a BCI's DER.
func unsignedOf(t *testing.T, bci []byte) []byte {
	t.Helper()
	b, err := UnmarshalBrandCRLIdentifier(bci)
	if err != nil {
		t.Fatal(err)
	}
	return b.RawUnsigned()
}

func fuzzCert[T marshaler](f *testing.F, dec func([]byte) (T, error), v marshaler, golden ...string) {
	f.Add(mustMarshal(f, v))
	fuzzSeeds(f, golden...)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, dec) })
}

func FuzzUnmarshalCardCInitReq(f *testing.F) {
	fuzzCert(f, UnmarshalCardCInitReq, &CardCInitReq{LIDEE: []byte("l"), BrandID: "V", Thumbs: testThumbs()}, "cert_cardcinitreq.der")
}
func FuzzUnmarshalCardCInitRes(f *testing.F) {
	fuzzCert(f, UnmarshalCardCInitRes, &CardCInitRes{SignedData: testCI(f, pkcs7.OIDSignedData, 1)}, "cert_cardcinitres.der")
}
func FuzzUnmarshalCardCInitResTBS(f *testing.F) {
	fuzzCert(f, UnmarshalCardCInitResTBS, fullCardCInitResTBS(), "cert_cardcinitres_tbs.der", "cert_cardcinitres_tbs_min.der")
}
func FuzzUnmarshalMeAqCInitReq(f *testing.F) {
	fuzzCert(f, UnmarshalMeAqCInitReq, fullMeAqCInitReq(), "cert_meaqcinitreq.der", "cert_meaqcinitreq_min.der")
}
func FuzzUnmarshalMeAqCInitRes(f *testing.F) {
	fuzzCert(f, UnmarshalMeAqCInitRes, &MeAqCInitRes{SignedData: testCI(f, pkcs7.OIDSignedData, 1)}, "cert_meaqcinitres.der")
}
func FuzzUnmarshalMeAqCInitResTBS(f *testing.F) {
	fuzzCert(f, UnmarshalMeAqCInitResTBS, fullMeAqCInitResTBS(), "cert_meaqcinitres_tbs.der", "cert_meaqcinitres_tbs_min.der")
}
func FuzzUnmarshalRegFormReq(f *testing.F) {
	fuzzCert(f, UnmarshalRegFormReq, &RegFormReq{Envelope: testCI(f, pkcs7.OIDEnvelopedData, 1)}, "cert_regformreq.der")
}
func FuzzUnmarshalRegFormReqData(f *testing.F) {
	fuzzCert(f, UnmarshalRegFormReqData, &RegFormReqData{LIDEE: []byte("l"), RequestType: CardInitialSig, Language: "en"}, "cert_regformreqdata.der", "cert_regformreqdata_min.der")
}
func FuzzUnmarshalPANOnly(f *testing.F) {
	fuzzCert(f, UnmarshalPANOnly, &PANOnly{PAN: "4111111111111111"}, "cert_panonly.der")
}
func FuzzUnmarshalRegFormRes(f *testing.F) {
	fuzzCert(f, UnmarshalRegFormRes, &RegFormRes{SignedData: testCI(f, pkcs7.OIDSignedData, 1)}, "cert_regformres.der")
}
func FuzzUnmarshalRegFormResTBS(f *testing.F) {
	fuzzCert(f, UnmarshalRegFormResTBS, fullRegFormResTBS(), "cert_regformres_tbs.der", "cert_regformres_tbs_min.der")
}
func FuzzUnmarshalCertReq(f *testing.F) {
	fuzzCert(f, UnmarshalCertReq, &CertReq{EncX: testCI(f, pkcs7.OIDEnvelopedData, 1)}, "cert_certreq_encx.der", "cert_certreq_enc.der")
}
func FuzzUnmarshalCertReqData(f *testing.F) {
	fuzzCert(f, UnmarshalCertReqData, fullCertReqData(), "cert_certreqdata.der", "cert_certreqdata_min.der")
}
func FuzzUnmarshalAcctInfo(f *testing.F) {
	fuzzCert(f, UnmarshalAcctInfo, &AcctInfo{AcctData: &AcctData{AcctIdentification: "x"}}, "cert_acctinfo_pan.der", "cert_acctinfo_acct.der")
}
func FuzzUnmarshalCertRes(f *testing.F) {
	fuzzCert(f, UnmarshalCertRes, &CertRes{Signed: testCI(f, pkcs7.OIDSignedData, 1)}, "cert_certres_signed.der", "cert_certres_enck.der")
}
func FuzzUnmarshalCertResData(f *testing.F) {
	fuzzCert(f, UnmarshalCertResData, fullCertResData(), "cert_certresdata.der", "cert_certresdata_min.der")
}
func FuzzUnmarshalCertInqReq(f *testing.F) {
	fuzzCert(f, UnmarshalCertInqReq, &CertInqReq{SignedData: testCI(f, pkcs7.OIDSignedData, 1)}, "cert_certinqreq.der")
}
func FuzzUnmarshalCertInqReqTBS(f *testing.F) {
	fuzzCert(f, UnmarshalCertInqReqTBS, &CertInqReqTBS{LIDEE: []byte("c")}, "cert_certinqreq_tbs.der", "cert_certinqreq_tbs_min.der")
}
func FuzzUnmarshalCertInqRes(f *testing.F) {
	fuzzCert(f, UnmarshalCertInqRes, &CertInqRes{Encrypted: testCI(f, pkcs7.OIDEnvelopedData, 1)}, "cert_certinqres.der")
}
func FuzzUnmarshalBrandCRLIdentifier(f *testing.F) {
	fuzzCert(f, UnmarshalBrandCRLIdentifier, testBCI(), "cert_bci.der", "cert_bci_min.der")
}
