package iso8583

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

const iban = "DE89370400440532013000"

// 0100 paying from a bank account: fields 3 4 7 11 32 41 42 49 and 102 (so
// bit 1 and a secondary bitmap), no PAN and no expiry.
// primary byte 1: 1,3,4,7 = 0x80|0x20|0x10|0x02 = 0xB2; byte 2: 11 = 0x20;
// byte 4: 32 = 0x01; byte 6: 41,42 = 0xC0; byte 7: 49 = 0x80 →
// B220000100C08000. secondary: 102 is bit 38 of it, byte 5 (bits 33–40),
// sixth from the left, 0x04 → 0000000004000000.
const goldenAccountAuth = "0100" + "B220000100C08000" + "0000000004000000" +
	"002000" + // 3: purchase from a checking account
	"000000012345" + // 4
	"0611143000" + // 7
	"000125" + // 11
	"06" + "123456" + // 32, LLVAR
	"TERM0001" + // 41
	"MERCHANT0000001" + // 42
	"978" + // 49
	"22" + iban // 102, LLVAR

func accountAuthMessage() *Message {
	return &Message{MTI: "0100", Fields: map[int]string{
		3: "002000", 4: "000000012345", 7: "0611143000", 11: "000125", 32: "123456",
		41: "TERM0001", 42: "MERCHANT0000001", 49: "978", 102: iban,
	}}
}

func TestGoldenAccount(t *testing.T) {
	got, err := accountAuthMessage().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != goldenAccountAuth {
		t.Fatalf("Marshal:\n got %s\nwant %s", got, goldenAccountAuth)
	}
	m, err := Unmarshal([]byte(goldenAccountAuth))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(m.Fields, accountAuthMessage().Fields) {
		t.Fatalf("Unmarshal = %v", m)
	}
	if s := m.String(); strings.Contains(s, iban) || !strings.Contains(s, "DE8937************3000") {
		t.Fatalf("String does not mask field 102: %s", s)
	}
}

func TestAccountFieldRejects(t *testing.T) {
	replace := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("test setup: %q not in %q", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	for _, tc := range []struct{ name, in string }{
		{"over 28", replace(goldenAccountAuth, "22"+iban, "29"+iban+"1234567")},
		{"length zero", replace(goldenAccountAuth, "22"+iban, "00")},
		{"control character", replace(goldenAccountAuth, iban, "DE8937040044053201300\x01")},
		{"truncated", goldenAccountAuth[:len(goldenAccountAuth)-3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tc.in))
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field != FieldAccountID1 {
				t.Fatalf("Unmarshal = %v, want a FormatError in field 102", err)
			}
			if strings.Contains(err.Error(), "0532013") {
				t.Fatalf("error quotes the account: %v", err)
			}
		})
	}
	m := accountAuthMessage()
	m.Fields[FieldAccountID1] = strings.Repeat("A", 29)
	if _, err := m.Marshal(); err == nil {
		t.Fatal("Marshal accepted a 29-character field 102")
	}
}
