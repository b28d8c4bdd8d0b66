package msg

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// Fixtures: deterministic, fully populated ("full") and minimal values.

var pDate = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func pFill(b byte) (out [20]byte) {
	for i := range out {
		out[i] = b + byte(i)
	}
	return out
}

// pCI builds a realistic-looking opaque ContentInfo: random-ish bytes
// inside a valid SEQUENCE { OID, [0] EXPLICIT OCTET STRING }.
func pCI(ct asn1.ObjectIdentifier, n int, seed byte) []byte {
	body := make([]byte, n)
	for i := range body {
		body[i] = seed ^ byte(i*31)
	}
	b, err := pkcs7.MarshalContentInfo(ct, der.Encode(der.TagOctetString, body))
	if err != nil {
		panic(err)
	}
	return b
}

var pSHA256 = pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}

func pThumb(seed byte) *CertThumb {
	t := pFill(seed)
	return &CertThumb{DigestAlgorithm: pSHA256, Thumbprint: t[:]}
}

func pExts() MsgExtensions {
	return MsgExtensions{
		{ID: asn1.ObjectIdentifier{2, 23, 42, 7, 99}, Value: []byte{0x05, 0x00}},
		{ID: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte("x")},
	}
}

func pTransIDs(full bool) TransIDs {
	t := TransIDs{LIDC: []byte("lid-c-1"), XID: pFill(0x10), PReqDate: pDate, Language: "en-US"}
	if full {
		t.LIDM = []byte("merchant-local-id-20")
		t.PaySysID = "VISA-SYS-42"
	}
	return t
}

func pAmount() CurrencyAmount { return CurrencyAmount{Currency: 978, Amount: 4999, AmtExp10: -2} }

func pPIHead(full bool) PIHead {
	h := PIHead{
		TransIDs:   pTransIDs(full),
		Inputs:     Inputs{HOD: pCI(pkcs7.OIDDigestedData, 48, 1), PurchAmt: pAmount()},
		MerchantID: "MERCHANT-0001",
		TransStain: bytes.Repeat([]byte{0xab}, 32),
		SWIdent:    "setpay-wallet/0.1",
	}
	if full {
		h.InstallRecurData = []byte{0x30, 0x00}
		h.AcqBackKeyData = []byte("acq-back-key")
		h.PIExtensions = pExts()
		h.PGThumb = pThumb(0x40)
	}
	return h
}

func pPANData() PANData {
	return PANData{PAN: "4111111111111111", CardExpiry: "202812", PANSecret: pFill(0x50), EXNonce: pFill(0x60)}
}

func pPANToken() PANToken {
	return PANToken{PAN: "5500000000000004", CardExpiry: "203001", EXNonce: pFill(0x61)}
}

func pOIData(full bool) OIData {
	o := OIData{
		TransIDs: pTransIDs(full), RRPID: pFill(0x20), ChallC: pFill(0x30),
		HOD: pCI(pkcs7.OIDDigestedData, 48, 1), ODSalt: pFill(0x70),
		BrandID: "Visa", BIN: "411111",
	}
	if full {
		cm := Challenge(pFill(0x31))
		o.ChallM = &cm
		o.ODExtOIDs = []asn1.ObjectIdentifier{{2, 23, 42, 9, 1}, {2, 23, 42, 9, 2}}
		o.OIExtensions = pExts()
	}
	return o
}

func pPIDualSigned() PIDualSigned {
	return PIDualSigned{
		PISignature: pCI(pkcs7.OIDSignedData, 300, 2),
		EXPIData:    pCI(pkcs7.OIDEnvelopedData, 400, 3),
	}
}

func pPReqDual(full bool) *PReq {
	return &PReq{DualSigned: &PReqDualSigned{
		PIDualSigned: pPIDualSigned(),
		OIDualSigned: OIDualSigned{OIData: pOIData(full), HPIData: pCI(pkcs7.OIDDigestedData, 48, 4)},
	}}
}

func pPReqUnsigned(full bool) *PReq {
	return &PReq{Unsigned: &PReqUnsigned{
		PIUnsigned: pCI(pkcs7.OIDEnvelopedData, 200, 5),
		OIUnsigned: OIUnsigned{OIData: pOIData(full), HPIDataUnsigned: pCI(pkcs7.OIDDigestedData, 48, 6)},
	}}
}

func pPInitReq(full bool) *PInitReq {
	m := &PInitReq{RRPID: pFill(1), Language: "en", LocalIDC: []byte{1}, ChallC: pFill(2), BrandID: "Mastercard", BIN: "550000"}
	if full {
		m.LocalIDM = []byte("m")
		m.Thumbs = &Thumbs{DigestAlgorithm: pSHA256, CertThumbs: [][]byte{{1, 2}, {3}}, CRLThumbs: [][]byte{}, BrandCRLIdThumbs: [][]byte{{9}}}
		m.PIRqExtensions = pExts()
	}
	return m
}

func pPInitResData(full bool) *PInitResData {
	d := &PInitResData{TransIDs: pTransIDs(full), RRPID: pFill(1), ChallC: pFill(2), ChallM: pFill(3), PEThumb: *pThumb(4)}
	if full {
		d.BrandCRLIdentifier = der.Encode(der.TagSequence, []byte{0x02, 0x01, 0x07})
		d.Thumbs = &Thumbs{DigestAlgorithm: pSHA256, CRLThumbs: [][]byte{{7, 7}}}
		d.PIRsExtensions = pExts()
	}
	return d
}

func pPResData(full bool) *PResData {
	d := &PResData{TransIDs: pTransIDs(full), RRPID: pFill(1), ChallC: pFill(2),
		PResPayloadSeq: []PResPayload{{CompletionCode: OrderReceived}}}
	if full {
		d.BrandCRLIdentifier = der.Encode(der.TagSequence, []byte{0x05, 0x00})
		d.PResPayloadSeq = append(d.PResPayloadSeq, PResPayload{
			CompletionCode: AuthorizationAccepted,
			Results: &Results{
				AcqCardMsg: []byte("call us"),
				AuthStatus: &AuthStatus{AuthDate: pDate, AuthCode: 0, AuthRatio: 1000},
				CapStatus:  &CapStatus{CapDate: pDate, CapCode: 0, CapRatio: 500},
			},
			PRsExtensions: pExts(),
			AuthResSigned: pCI(pkcs7.OIDSignedData, 120, 7),
		})
	}
	return d
}

func pHODInput(full bool) *HODInput {
	h := &HODInput{OD: []byte("1 x teapot, 1 x cosy"), PurchAmt: pAmount(), ODSalt: pFill(0x70)}
	if full {
		h.InstallRecurData = []byte{1, 2, 3}
		h.ODExtensions = pExts()
	}
	return h
}

func pHeader(full bool) *MessageHeader {
	h := &MessageHeader{Date: pDate, SWIdent: "setpay/0.1"}
	if full {
		x := XID(pFill(0x10))
		r := RRPID(pFill(0x20))
		h.MessageIDs = &MessageIDs{LIDC: []byte("c"), LIDM: []byte("m"), XID: &x}
		h.RRPID = &r
	}
	return h
}

func pErrorMsg(full bool) *Error {
	tbs := &ErrorTBS{ErrorCode: UnknownXID, ErrorNonce: pFill(0x33), ErrorMsg: ErrorMsg{BadWrapper: []byte{0x30, 0x80}}}
	if full {
		tbs.ErrorOID = asn1.ObjectIdentifier{2, 23, 42, 0, 49}
		tbs.ErrorThumb = pThumb(9)
		tbs.ErrorMsg = ErrorMsg{MessageHeader: pHeader(true)}
	}
	return &Error{UnsignedError: tbs}
}

// pCodecs lists the purchase types under test; golden vectors are
// testdata/purchase-<name>.der.
func pCodecs() []codec {
	var out []codec
	for _, full := range []bool{false, true} {
		sfx := "/minimal"
		if full {
			sfx = "/full"
		}
		pid := PIData{PIHead: pPIHead(full), PANData: pPANData()}
		pidu := PIDataUnsigned{PIHead: pPIHead(full), PANToken: pPANToken()}
		link := PIOILink{PIHead: pPIHead(full), HOIData: pCI(pkcs7.OIDDigestedData, 48, 8)}
		oi := pOIData(full)
		head := pPIHead(full)
		out = append(out,
			pCodec("PInitReq"+sfx, pPInitReq(full), decoder(UnmarshalPInitReq)),
			pCodec("PInitResData"+sfx, pPInitResData(full), decoder(UnmarshalPInitResData)),
			pCodec("PReqDual"+sfx, pPReqDual(full), decoder(UnmarshalPReq)),
			pCodec("PReqUnsigned"+sfx, pPReqUnsigned(full), decoder(UnmarshalPReq)),
			pCodec("PIData"+sfx, &pid, decoder(UnmarshalPIData)),
			pCodec("PIDataUnsigned"+sfx, &pidu, decoder(UnmarshalPIDataUnsigned)),
			pCodec("PIOILink"+sfx, &link, decoder(UnmarshalPIOILink)),
			pCodec("PIDualSignedTBE"+sfx, &PIDualSignedTBE{PIOILink: link, HPANData: pCI(pkcs7.OIDDigestedData, 48, 9)}, decoder(UnmarshalPIDualSignedTBE)),
			pCodec("PIUnsignedTBE"+sfx, &PIUnsignedTBE{PIOILink: link, HPANToken: pCI(pkcs7.OIDDigestedData, 48, 10)}, decoder(UnmarshalPIUnsignedTBE)),
			pCodec("OIData"+sfx, &oi, decoder(UnmarshalOIData)),
			pCodec("PIHead"+sfx, &head, decoder(UnmarshalPIHead)),
			pCodec("HODInput"+sfx, pHODInput(full), decoder(UnmarshalHODInput)),
			pCodec("PResData"+sfx, pPResData(full), decoder(UnmarshalPResData)),
			pCodec("MessageHeader"+sfx, pHeader(full), decoder(UnmarshalMessageHeader)),
			pCodec("Error"+sfx, pErrorMsg(full), decoder(UnmarshalError)),
			pCodec("ErrorTBS"+sfx, pErrorMsg(full).UnsignedError, decoder(UnmarshalErrorTBS)),
		)
	}
	pan, tok, pds, pitbs := pPANData(), pPANToken(), pPIDualSigned(), PITBS{HPIData: pCI(pkcs7.OIDDigestedData, 48, 11), HOIData: pCI(pkcs7.OIDDigestedData, 48, 12)}
	out = append(out,
		pCodec("PANData", &pan, decoder(UnmarshalPANData)),
		pCodec("PANToken", &tok, decoder(UnmarshalPANToken)),
		pCodec("PIDualSigned", &pds, decoder(UnmarshalPIDualSigned)),
		pCodec("PI-TBS", &pitbs, decoder(UnmarshalPITBS)),
		pCodec("PI/dual", &PI{PIDualSigned: &pds}, decoder(UnmarshalPI)),
		pCodec("PI/unsigned", &PI{PIUnsigned: pCI(pkcs7.OIDEnvelopedData, 64, 13)}, decoder(UnmarshalPI)),
		pCodec("PI/authToken", &PI{AuthToken: pCI(pkcs7.OIDEnvelopedData, 64, 14)}, decoder(UnmarshalPI)),
		pCodec("PInitRes", &PInitRes{SignedData: pCI(pkcs7.OIDSignedData, 100, 15)}, decoder(UnmarshalPInitRes)),
		pCodec("PRes", &PRes{SignedData: pCI(pkcs7.OIDSignedData, 100, 16)}, decoder(UnmarshalPRes)),
		pCodec("Error/signed", &Error{SignedError: pCI(pkcs7.OIDSignedData, 90, 17)}, decoder(UnmarshalError)),
	)
	return out
}

func pCodec(name string, v marshaler, dec func([]byte) (marshaler, error)) codec {
	golden := "purchase-" + strings.ReplaceAll(name, "/", "-") + ".der"
	return codec{name: name, golden: golden, value: v, unmarshal: dec}
}

func TestPurchaseRoundTrip(t *testing.T) { runRoundTrips(t, pCodecs()) }
func TestPurchaseGolden(t *testing.T)    { runGolden(t, pCodecs()) }
func TestPurchaseMutations(t *testing.T) { runMutations(t, pCodecs()) }

// TestPurchaseOptionalAbsent checks that minimal values really leave the
// optional components out (and full ones put them in).
func TestPurchaseOptionalAbsent(t *testing.T) {
	min, _ := ptr(pOIData(false)).Marshal()
	full, _ := ptr(pOIData(true)).Marshal()
	d, err := UnmarshalOIData(min)
	if err != nil {
		t.Fatal(err)
	}
	if d.ChallM != nil || d.ODExtOIDs != nil || d.OIExtensions != nil || d.TransIDs.LIDM != nil || d.TransIDs.PaySysID != "" {
		t.Errorf("minimal OIData decoded with optional fields: %+v", d)
	}
	if len(full) <= len(min) {
		t.Errorf("full OIData (%d bytes) not longer than minimal (%d)", len(full), len(min))
	}
}

func TestPurchaseRejectsNonDER(t *testing.T) {
	amt, _ := marshal(func(b *cryptobyte.Builder) { a := pAmount(); a.add(b) })
	tests := []struct {
		name string
		in   []byte
		dec  func([]byte) error
	}{
		{"long-form length", []byte{0x30, 0x81, 0x09, 0x02, 0x02, 0x03, 0xd2, 0x02, 0x01, 0x05, 0x02, 0x01, 0x00}, pDecAmount},
		{"non-minimal INTEGER", []byte{0x30, 0x0a, 0x02, 0x03, 0x00, 0x03, 0xd2, 0x02, 0x01, 0x05, 0x02, 0x01, 0x00}, pDecAmount},
		{"negative amount", []byte{0x30, 0x09, 0x02, 0x02, 0x03, 0xd2, 0x02, 0x01, 0xff, 0x02, 0x01, 0x00}, pDecAmount},
		{"currency 0", []byte{0x30, 0x09, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x00}, pDecAmount},
		{"SET instead of SEQUENCE", append([]byte{0x31}, amt[1:]...), pDecAmount},
		{"indefinite length", []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x00, 0x00}, pDecAmount},
		{"BOOLEAN 0x01", pExtWithBool(0x01), pDecExt},
		{"BOOLEAN FALSE encoded", pExtWithBool(0x00), pDecExt},
		{"trailing inside SEQUENCE", append(bytes.Clone(amt[:1]), append([]byte{amt[1] + 2}, append(amt[2:], 0x05, 0x00)...)...), pDecAmount},
	}
	if err := pDecAmount(amt); err != nil {
		t.Fatalf("valid CurrencyAmount rejected: %v", err)
	}
	if err := pDecExt(pExtWithBool(0xff)); err != nil {
		t.Fatalf("valid Extension rejected: %v", err)
	}
	for _, tc := range tests {
		if err := tc.dec(tc.in); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func pDecAmount(b []byte) error {
	var a CurrencyAmount
	return unmarshal(b, "CurrencyAmount", a.read)
}

func pDecExt(b []byte) error {
	var e Extension
	return unmarshal(b, "Extension", e.read)
}

func pExtWithBool(v byte) []byte {
	body := []byte{0x06, 0x03, 0x2a, 0x03, 0x04, 0x01, 0x01, v, 0x04, 0x00}
	return der.Encode(der.TagSequence, body)
}

func TestPurchaseFieldValidation(t *testing.T) {
	bad := []struct {
		name string
		mut  func(p *PIData)
	}{
		{"PAN 11 digits", func(p *PIData) { p.PANData.PAN = "41111111111" }},
		{"PAN 20 digits", func(p *PIData) { p.PANData.PAN = "41111111111111111111" }},
		{"PAN with space", func(p *PIData) { p.PANData.PAN = "4111 1111 1111 1111" }},
		{"expiry month 13", func(p *PIData) { p.PANData.CardExpiry = "202813" }},
		{"expiry month 00", func(p *PIData) { p.PANData.CardExpiry = "202800" }},
		{"expiry short", func(p *PIData) { p.PANData.CardExpiry = "20281" }},
		{"LocalID 21 bytes", func(p *PIData) { p.PIHead.TransIDs.LIDC = make([]byte, 21) }},
		{"LocalID empty", func(p *PIData) { p.PIHead.TransIDs.LIDC = nil }},
		{"currency 1000", func(p *PIData) { p.PIHead.Inputs.PurchAmt.Currency = 1000 }},
		{"amount negative", func(p *PIData) { p.PIHead.Inputs.PurchAmt.Amount = -1 }},
		{"merchantID too long", func(p *PIData) { p.PIHead.MerchantID = strings.Repeat("m", 31) }},
		{"language non-visible", func(p *PIData) { p.PIHead.TransIDs.Language = "en\n" }},
		{"HOD not a SEQUENCE", func(p *PIData) { p.PIHead.Inputs.HOD = []byte{0x04, 0x00} }},
		{"HOD two elements", func(p *PIData) { p.PIHead.Inputs.HOD = []byte{0x30, 0x00, 0x30, 0x00} }},
		{"empty transStain", func(p *PIData) { p.PIHead.TransStain = nil }},
	}
	for _, tc := range bad {
		p := PIData{PIHead: pPIHead(true), PANData: pPANData()}
		tc.mut(&p)
		if _, err := p.Marshal(); err == nil {
			t.Errorf("%s: Marshal accepted", tc.name)
		} else if strings.Contains(err.Error(), "4111111111") {
			t.Errorf("%s: error leaks the PAN: %v", tc.name, err)
		}
	}
	// The same invalid values are refused when decoding.
	good := PIData{PIHead: pPIHead(false), PANData: pPANData()}
	enc, _ := good.Marshal()
	for _, sub := range []struct{ from, to string }{
		{"202812", "202813"}, {"4111111111111111", "41111111111111 1"}, {"4111111111111111", "411111111111111a"},
	} {
		m := bytes.Replace(enc, []byte(sub.from), []byte(sub.to), 1)
		if _, err := UnmarshalPIData(m); err == nil {
			t.Errorf("decoded PIData with %q", sub.to)
		}
	}
	o := pOIData(false)
	o.BIN = "41111"
	if _, err := o.Marshal(); err == nil {
		t.Error("OIData with 5-digit BIN marshalled")
	}
	for name, m := range map[string]Message{
		"PReq both":    &PReq{DualSigned: pPReqDual(false).DualSigned, Unsigned: pPReqUnsigned(false).Unsigned},
		"PReq neither": &PReq{},
		"Error both":   &Error{SignedError: pCI(pkcs7.OIDSignedData, 4, 1), UnsignedError: pErrorMsg(false).UnsignedError},
		"PRes garbage": &PRes{SignedData: []byte{0x04, 0x00}},
	} {
		if _, err := m.Marshal(); err == nil {
			t.Errorf("%s: Marshal accepted", name)
		}
	}
	if _, err := (&PI{PIUnsigned: pCI(pkcs7.OIDData, 1, 1), AuthToken: pCI(pkcs7.OIDData, 1, 1)}).Marshal(); err == nil {
		t.Error("PI with two alternatives marshalled")
	}
	if _, err := (&PResData{TransIDs: pTransIDs(false)}).Marshal(); err == nil {
		t.Error("PResData with empty pResPayloadSeq marshalled")
	}
}

func TestPANNeverPrinted(t *testing.T) {
	pd := PIData{PIHead: pPIHead(true), PANData: pPANData()}
	enc, _ := pd.Marshal()
	dec, err := UnmarshalPIData(enc) // decoded: raw fields hold the PAN too
	if err != nil {
		t.Fatal(err)
	}
	pdu := PIDataUnsigned{PIHead: pPIHead(false), PANToken: pPANToken()}
	values := []any{pd.PANData, &pd.PANData, dec, *dec, dec.PANData, pdu, &pdu, pdu.PANToken, &pdu.PANToken,
		struct{ P PANData }{pd.PANData}, []PANData{pd.PANData}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, pan := range []string{"4111111111111111", "5500000000000004", "111111111", "000000000"} {
				if strings.Contains(out, pan) {
					t.Errorf("%s of %T prints %q: %s", verb, v, pan, out)
				}
			}
			// Nor the PAN's bytes printed as numbers.
			if strings.Contains(out, "52 49 49 49 49 49") || strings.Contains(out, "0x34, 0x31, 0x31") {
				t.Errorf("%s of %T prints the PAN's bytes: %s", verb, v, out)
			}
		}
	}
	if got := fmt.Sprint(pd.PANData); !strings.Contains(got, "411111******1111") {
		t.Errorf("masked PAN not shown: %s", got)
	}
}

func TestContentTypeName(t *testing.T) {
	if got := ContentTypeName(OIDPIDualSignedTBE); got != "setct-PIDualSignedTBE" {
		t.Errorf("got %q", got)
	}
	if got := ContentTypeName(asn1.ObjectIdentifier{2, 23, 42, 0, 13}); got != "setct-PI-TBS" || !OIDPITBS.Equal(asn1.ObjectIdentifier{2, 23, 42, 0, 13}) {
		t.Errorf("got %q", got)
	}
	if got := ContentTypeName(pkcs7.OIDData); got != "" {
		t.Errorf("non-SET OID named %q", got)
	}
	if len(contentTypeNames) != 82 {
		t.Errorf("%d content types, want 82", len(contentTypeNames))
	}
}

func TestCriticalUnknown(t *testing.T) {
	e := pExts()
	if id, ok := e.CriticalUnknown(); !ok || !id.Equal(e[1].ID) {
		t.Errorf("got %v %v", id, ok)
	}
	if _, ok := e.CriticalUnknown(e[1].ID); ok {
		t.Error("known critical extension reported")
	}
}

func FuzzUnmarshalPReq(f *testing.F) {
	for _, m := range []*PReq{pPReqDual(true), pPReqDual(false), pPReqUnsigned(true)} {
		b, _ := m.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPReq) })
}

func FuzzUnmarshalPIData(f *testing.F) {
	for _, full := range []bool{true, false} {
		b, _ := (&PIData{PIHead: pPIHead(full), PANData: pPANData()}).Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPIData) })
}

func FuzzUnmarshalOIData(f *testing.F) {
	for _, full := range []bool{true, false} {
		o := pOIData(full)
		b, _ := (&o).Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalOIData) })
}
