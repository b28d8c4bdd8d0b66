package iso8583

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The golden messages below were written out by hand from the field table
// (bitmap bits worked out byte by byte in the comments), not produced by
// the encoder.

const pan = "4111111111111111"

// 0800 with fields 7 and 11.
// bitmap byte 1: bit 7 = 0x02; byte 2: bit 11 = 0x20 → 0220000000000000.
const goldenEcho = "0800" + "0220000000000000" + "0611143000" + "000001"

func echoMessage() *Message {
	return &Message{MTI: "0800", Fields: map[int]string{7: "0611143000", 11: "000001"}}
}

// 0100 with fields 2 3 4 7 11 12 13 14 22 25 32 41 42 49.
// byte 1 (bits 1–8):   2,3,4,7      = 0x40|0x20|0x10|0x02 = 0x72
// byte 2 (bits 9–16):  11,12,13,14  = 0x20|0x10|0x08|0x04 = 0x3C
// byte 3 (bits 17–24): 22           = 0x04
// byte 4 (bits 25–32): 25,32        = 0x80|0x01 = 0x81
// byte 5 (bits 33–40): none         = 0x00
// byte 6 (bits 41–48): 41,42        = 0x80|0x40 = 0xC0
// byte 7 (bits 49–56): 49           = 0x80
// byte 8 (bits 57–64): none         = 0x00
const goldenAuth = "0100" + "723C048100C08000" +
	"16" + pan + // 2, LLVAR
	"000000" + // 3
	"000000012345" + // 4
	"0611143000" + // 7
	"000123" + // 11
	"103000" + // 12
	"0611" + // 13
	"2812" + // 14
	"012" + // 22
	"59" + // 25
	"06" + "123456" + // 32, LLVAR
	"TERM0001" + // 41
	"MERCHANT0000001" + // 42
	"840" // 49

func authMessage() *Message {
	return &Message{MTI: "0100", Fields: map[int]string{
		2: pan, 3: "000000", 4: "000000012345", 7: "0611143000", 11: "000123",
		12: "103000", 13: "0611", 14: "2812", 22: "012", 25: "59", 32: "123456",
		41: "TERM0001", 42: "MERCHANT0000001", 49: "840",
	}}
}

// 0110 with fields 3 4 7 11 37 38 39 41 49.
// byte 1: 3,4,7 = 0x20|0x10|0x02 = 0x32; byte 2: 11 = 0x20;
// byte 5 (33–40): 37,38,39 = 0x08|0x04|0x02 = 0x0E; byte 6: 41 = 0x80;
// byte 7: 49 = 0x80 → 322000000E808000.
const goldenAuthResp = "0110" + "322000000E808000" +
	"000000" + "000000012345" + "0611143001" + "000123" +
	"616214000123" + "A1B2C3" + "00" + "TERM0001" + "840"

func authRespMessage() *Message {
	return &Message{MTI: "0110", Fields: map[int]string{
		3: "000000", 4: "000000012345", 7: "0611143001", 11: "000123",
		37: "616214000123", 38: "A1B2C3", 39: "00", 41: "TERM0001", 49: "840",
	}}
}

// 0400 with fields 2 3 4 7 11 32 49 and 90 (so bit 1 and a secondary bitmap).
// primary byte 1: 1,2,3,4,7 = 0x80|0x40|0x20|0x10|0x02 = 0xF2; byte 2: 11 =
// 0x20; byte 4: 32 = 0x01; byte 7: 49 = 0x80 → F220000100008000.
// secondary: 90 is bit 26 of it, byte 4 (bits 25–32) 0x40 → 0000004000000000.
const goldenReversal = "0400" + "F220000100008000" + "0000004000000000" +
	"16" + pan + "000000" + "000000012345" + "0611143105" + "000124" +
	"06" + "123456" + "840" +
	"0100" + "000123" + "0611143000" + "00000123456" + "00000000000" // 90

func reversalMessage() *Message {
	return &Message{MTI: "0400", Fields: map[int]string{
		2: pan, 3: "000000", 4: "000000012345", 7: "0611143105", 11: "000124",
		32: "123456", 49: "840",
		90: "0100" + "000123" + "0611143000" + "00000123456" + "00000000000",
	}}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		msg    *Message
		golden string
	}{
		{"echo", echoMessage(), goldenEcho},
		{"authorization", authMessage(), goldenAuth},
		{"authorization response", authRespMessage(), goldenAuthResp},
		{"reversal", reversalMessage(), goldenReversal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.msg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.golden {
				t.Fatalf("Marshal:\n got %s\nwant %s", got, tc.golden)
			}
			m, err := Unmarshal([]byte(tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if m.MTI != tc.msg.MTI || !maps.Equal(m.Fields, tc.msg.Fields) {
				t.Fatalf("Unmarshal = %v, want %v", m, tc.msg)
			}
			if string(m.Raw()) != tc.golden {
				t.Fatal("Raw does not keep the decoded bytes")
			}
		})
	}
}

func TestGoldenFrame(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, []byte(goldenEcho)); err != nil {
		t.Fatal(err)
	}
	// 4 + 16 + 10 + 6 = 36 = 0x0024.
	if want := "\x00\x24" + goldenEcho; buf.String() != want {
		t.Fatalf("frame %q, want %q", buf.String(), want)
	}
}

// example returns a valid message of type mti.
func example(mti string) *Message {
	var m *Message
	switch {
	case IsResponse(mti):
		m = authRespMessage()
	case mti[1] == '4':
		m = reversalMessage()
	case mti[1] == '8':
		m = echoMessage()
	default:
		m = authMessage()
	}
	m.MTI = mti
	return m
}

var allMTIs = []string{
	"0100", "0101", "0110", "0200", "0201", "0210", "0220", "0221", "0230",
	"0400", "0401", "0410", "0420", "0421", "0430", "0800", "0801", "0810",
}

func TestRoundTripEveryMTI(t *testing.T) {
	for _, mti := range allMTIs {
		m := example(mti)
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("%s: %v", mti, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", mti, err)
		}
		if got.MTI != mti || !maps.Equal(got.Fields, m.Fields) {
			t.Fatalf("%s: round trip gave %v", mti, got)
		}
	}
}

func TestMTIHelpers(t *testing.T) {
	for _, tc := range []struct{ mti, resp, repeat string }{
		{"0100", "0110", "0101"}, {"0101", "0110", "0101"}, {"0200", "0210", "0201"},
		{"0220", "0230", "0221"}, {"0221", "0230", "0221"}, {"0400", "0410", "0401"},
		{"0420", "0430", "0421"}, {"0800", "0810", "0801"},
	} {
		if got := ResponseMTI(tc.mti); got != tc.resp {
			t.Errorf("ResponseMTI(%s) = %s, want %s", tc.mti, got, tc.resp)
		}
		if got := RepeatMTI(tc.mti); got != tc.repeat {
			t.Errorf("RepeatMTI(%s) = %s, want %s", tc.mti, got, tc.repeat)
		}
		if got := BaseMTI(tc.repeat); got != tc.mti[:3]+"0" {
			t.Errorf("BaseMTI(%s) = %s", tc.repeat, got)
		}
	}
	if ResponseMTI("0110") != "" || IsRepeat("0110") || !IsResponse("0430") {
		t.Error("responses misclassified")
	}
}

func TestUnmarshalRejects(t *testing.T) {
	replace := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("test setup: %q not in %q", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	for _, tc := range []struct {
		name  string
		in    string
		field int
	}{
		{"empty", "", 0},
		{"short MTI", "08", 0},
		{"MTI not digits", "08A0" + goldenEcho[4:], 0},
		{"MTI not in subset", "0300" + goldenEcho[4:], 0},
		{"response repeat", "0111" + goldenAuthResp[4:], 0},
		{"bitmap truncated", "08000220", 0},
		{"lowercase bitmap", "0110" + "322000000e808000" + goldenAuthResp[20:], 0},
		{"bitmap not hex", "0800" + "0G20000000000000" + goldenEcho[20:], 0},
		{"unknown primary field 5", "0800" + "0A20000000000000" + goldenEcho[20:], 5},
		{"bit 1 without secondary elements", "0800" + "8220000000000000" + "0000000000000000" + goldenEcho[20:], FieldSecondaryBitmap},
		{"secondary bitmap missing", "0800" + "8220000000000000", 0},
		{"unknown secondary field 70", "0800" + "8220000000000000" + "0400000000000000" + goldenEcho[20:], 70},
		{"truncated element", goldenAuth[:len(goldenAuth)-1], FieldCurrency},
		{"trailing byte", goldenAuth + "9", 0},
		{"numeric with letter", replace(goldenEcho, "000001", "00000A"), FieldSTAN},
		{"LLVAR length zero", replace(goldenAuth, "16"+pan, "00"), FieldPAN},
		{"LLVAR over maximum", replace(goldenAuth, "16"+pan, "20"+pan+"0000"), FieldPAN},
		{"LLVAR prefix not digits", replace(goldenAuth, "16"+pan, "1A"+pan), FieldPAN},
		{"LLVAR prefix truncated", "0100" + "4000000000000000" + "1", FieldPAN},
		{"PAN not digits", replace(goldenAuth, pan, "411111111111111X"), FieldPAN},
		{"month 13", replace(goldenEcho, "0611143000", "1311143000"), FieldTransmissionTime},
		{"minute 60", replace(goldenEcho, "0611143000", "0611146000"), FieldTransmissionTime},
		{"expiry month 00", replace(goldenAuth, "2812", "2800"), FieldExpiry},
		{"control character in ans", replace(goldenAuth, "TERM0001", "TERM\x00001"), FieldTerminalID},
		{"space in an", replace(goldenAuthResp, "A1B2C3", "A1B2C "), FieldApprovalCode},
		{"STAN missing", "0800" + "0200000000000000" + "0611143000", FieldSTAN},
		{"response without code", "0810" + "0220000000000000" + "0611143000" + "000001", FieldResponseCode},
		{"reversal without field 90", "0400" + "0220000000000000" + "0611143000" + "000001", FieldOriginalData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Unmarshal([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted: %v", m)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("error %v names field %d, want %d", err, fe.Field, tc.field)
			}
			if strings.Contains(err.Error(), "41111111") {
				t.Fatalf("error quotes the PAN: %v", err)
			}
		})
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	// Every proper prefix of a valid message is rejected as such.
	for _, g := range []string{goldenEcho, goldenAuth, goldenAuthResp, goldenReversal, goldenAccountAuth} {
		for i := 0; i < len(g); i++ {
			if _, err := Unmarshal([]byte(g[:i])); err == nil {
				t.Fatalf("prefix of %d bytes of %.4s accepted", i, g)
			}
		}
	}
}

func TestMarshalRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Message)
		field int
	}{
		{"unknown MTI", func(m *Message) { m.MTI = "0300" }, 0},
		{"short MTI", func(m *Message) { m.MTI = "100" }, 0},
		{"field 1 set by caller", func(m *Message) { m.Set(1, "0000000000000000") }, 1},
		{"field outside subset", func(m *Message) { m.Set(35, "4111") }, 35},
		{"fixed too short", func(m *Message) { m.Set(4, "12345") }, 4},
		{"fixed too long", func(m *Message) { m.Set(49, "8400") }, 49},
		{"LLVAR empty", func(m *Message) { m.Set(32, "") }, 32},
		{"LLVAR too long", func(m *Message) { m.Set(2, pan+"0000") }, 2},
		{"non-digit amount", func(m *Message) { m.Set(4, "00000001234.") }, 4},
		{"local time 24h", func(m *Message) { m.Set(12, "240000") }, 12},
		{"local date day 00", func(m *Message) { m.Set(13, "0600") }, 13},
		{"missing STAN", func(m *Message) { delete(m.Fields, 11) }, 11},
		{"non-ASCII in ans", func(m *Message) { m.Set(42, "MERCHANT000000é"[:15]) }, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := authMessage()
			tc.edit(m)
			_, err := m.Marshal()
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("Marshal error %v, want a FormatError on field %d", err, tc.field)
			}
			if strings.Contains(err.Error(), "41111111") {
				t.Fatalf("error quotes the PAN: %v", err)
			}
		})
	}
}

func TestStringMasksPAN(t *testing.T) {
	m := authMessage()
	s := m.String()
	if strings.Contains(s, pan) || strings.Contains(s, "1111111111") {
		t.Fatalf("String shows the PAN: %s", s)
	}
	if !strings.Contains(s, "411111******1111") {
		t.Fatalf("String lacks the masked PAN: %s", s)
	}
	for in, want := range map[string]string{
		"4111111111111111":    "411111******1111",
		"6011000990139424000": "601100*********4000",
		"123456789012":        "************",
		"":                    "",
	} {
		if got := MaskPAN(in); got != want {
			t.Errorf("MaskPAN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOriginalData(t *testing.T) {
	v, err := OriginalData{MTI: "0100", STAN: "000123", TransmissionTime: "0611143000", AcquirerID: "123456"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := "0100" + "000123" + "0611143000" + "00000123456" + "00000000000"; v != want {
		t.Fatalf("Encode = %s, want %s", v, want)
	}
	o, err := ParseOriginalData(v)
	if err != nil {
		t.Fatal(err)
	}
	if o.MTI != "0100" || o.STAN != "000123" || o.TransmissionTime != "0611143000" || o.AcquirerID != "00000123456" || o.ForwardingID != "00000000000" {
		t.Fatalf("ParseOriginalData = %+v", o)
	}
	for _, bad := range []OriginalData{
		{MTI: "100", STAN: "000123", TransmissionTime: "0611143000"},
		{MTI: "0100", STAN: "00012X", TransmissionTime: "0611143000"},
		{MTI: "0100", STAN: "000123", TransmissionTime: "0611143000", AcquirerID: "123456789012"},
	} {
		if _, err := bad.Encode(); err == nil {
			t.Errorf("Encode(%+v) accepted", bad)
		}
	}
	for _, bad := range []string{v[:41], "0300" + v[4:], v[:10] + "1311143000" + v[20:]} {
		if _, err := ParseOriginalData(bad); err == nil {
			t.Errorf("ParseOriginalData(%s) accepted", bad)
		}
	}
}

func TestResponseCodeString(t *testing.T) {
	if got := InsufficientFunds.String(); got != "51 insufficient funds" {
		t.Fatal(got)
	}
	if got := ResponseCode("77").String(); !strings.HasPrefix(got, "77 ") {
		t.Fatal(got)
	}
	if (&Message{Fields: map[int]string{39: "54"}}).ResponseCode() != ExpiredCard {
		t.Fatal("ResponseCode accessor")
	}
}

// TestLLLVAR exercises the 3-digit prefix, which no element of the subset
// uses but the codec supports.
func TestLLLVAR(t *testing.T) {
	spec := fieldSpec{name: "test", charset: printable, length: 999, prefix: 3}
	v := strings.Repeat("x", 120)
	b := spec.append(nil, v)
	if string(b[:3]) != "120" {
		t.Fatalf("prefix %q", b[:3])
	}
	got, rest, err := spec.read(append(b, "tail"...))
	if err != nil || got != v || string(rest) != "tail" {
		t.Fatalf("read = %q, %q, %v", got, rest, err)
	}
	if _, _, err := spec.read([]byte("12")); err == nil {
		t.Fatal("truncated prefix accepted")
	}
	if _, _, err := spec.read([]byte("005abc")); err == nil {
		t.Fatal("truncated value accepted")
	}
}

// genValue draws a valid value for field n.
func genValue(t *rapid.T, n int) string {
	f := fields[n]
	two := func(lo, hi int, label string) string {
		v := rapid.IntRange(lo, hi).Draw(t, label)
		return string([]byte{byte('0' + v/10), byte('0' + v%10)})
	}
	switch f.check {
	case mmddhhmmss:
		return two(1, 12, "month") + two(1, 31, "day") + two(0, 23, "hour") + two(0, 59, "min") + two(0, 59, "sec")
	case hhmmss:
		return two(0, 23, "hour") + two(0, 59, "min") + two(0, 59, "sec")
	case mmdd:
		return two(1, 12, "month") + two(1, 31, "day")
	case yymm:
		return two(0, 99, "year") + two(1, 12, "month")
	}
	length := f.length
	if f.prefix != 0 {
		length = rapid.IntRange(1, f.length).Draw(t, "len")
	}
	var alphabet string
	switch f.charset {
	case numeric:
		alphabet = "0123456789"
	case alphanumeric:
		alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	case printable:
		alphabet = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	}
	b := make([]byte, length)
	for i := range b {
		b[i] = alphabet[rapid.IntRange(0, len(alphabet)-1).Draw(t, "c")]
	}
	return string(b)
}

func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mti := rapid.SampledFrom(allMTIs).Draw(t, "mti")
		m := NewMessage(mti)
		for n := range fields {
			if rapid.Bool().Draw(t, "present") {
				m.Set(n, genValue(t, n))
			}
		}
		// The mandatory elements.
		m.Set(FieldSTAN, genValue(t, FieldSTAN))
		if IsResponse(mti) {
			m.Set(FieldResponseCode, genValue(t, FieldResponseCode))
		}
		if mti[1] == '4' && !IsResponse(mti) {
			m.Set(FieldOriginalData, genValue(t, FieldOriginalData))
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal %v: %v", m, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal %q: %v", b, err)
		}
		if got.MTI != m.MTI || !maps.Equal(got.Fields, m.Fields) {
			t.Fatalf("round trip %v → %v", m, got)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	for _, g := range []string{goldenEcho, goldenAuth, goldenAuthResp, goldenReversal, goldenAccountAuth} {
		f.Add([]byte(g))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		// The format has one encoding per message, so whatever decodes
		// must re-encode to the very same bytes.
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("decoded %v but cannot re-encode: %v", m, err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %q\nout %q", b, out)
		}
	})
}
