package msg

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setpay/setpay/internal/der"
)

const testIBAN = "DE89370400440532013000"

func aAcctPIData(domestic bool) AcctPIData {
	a := AcctPIData{Account: BankAccount{IBAN: testIBAN}, AcctSecret: pFill(0x51), EXNonce: pFill(0x62)}
	if domestic {
		a.Account = BankAccount{AccountNumber: "31926819", RoutingCode: "60-16-13"}
	}
	return a
}

// aCodecs lists the bank-account types under test; golden vectors are
// testdata/account-<name>.der.
func aCodecs() []codec {
	iban, dom := aAcctPIData(false), aAcctPIData(true)
	pan := pPANData()
	var out []codec
	for _, full := range []bool{false, true} {
		sfx := "/minimal"
		if full {
			sfx = "/full"
		}
		out = append(out, aCodec("PIData"+sfx, &PIData{PIHead: pPIHead(full), AcctPIData: &iban}, decoder(UnmarshalPIData)))
	}
	return append(out,
		aCodec("AcctPIData/iban", &iban, decoder(UnmarshalAcctPIData)),
		aCodec("AcctPIData/domestic", &dom, decoder(UnmarshalAcctPIData)),
		aCodec("PIAccount/iban", &PIAccount{AcctPIData: &iban}, decoder(UnmarshalPIAccount)),
		aCodec("PIAccount/domestic", &PIAccount{AcctPIData: &dom}, decoder(UnmarshalPIAccount)),
		aCodec("PIAccount/card", &PIAccount{PANData: &pan}, decoder(UnmarshalPIAccount)),
		aCodec("RegFormAcct/iban", &RegFormAcct{AcctData: &AcctData{AcctIdentification: testIBAN, EXNonce: pFill(0x63)}}, decoder(UnmarshalRegFormAcct)),
		aCodec("RegFormAcct/domestic", &RegFormAcct{AcctData: &AcctData{AcctIdentification: "60-16-13/31926819", EXNonce: pFill(0x64)}}, decoder(UnmarshalRegFormAcct)),
		aCodec("RegFormAcct/card", &RegFormAcct{PANOnly: &PANOnly{PAN: "4111111111111111", EXNonce: pFill(0x65)}}, decoder(UnmarshalRegFormAcct)),
	)
}

func aCodec(name string, v marshaler, dec func([]byte) (marshaler, error)) codec {
	return codec{name: name, golden: "account-" + strings.ReplaceAll(name, "/", "-") + ".der", value: v, unmarshal: dec}
}

func TestAccountRoundTrip(t *testing.T) { runRoundTrips(t, aCodecs()) }
func TestAccountGolden(t *testing.T)    { runGolden(t, aCodecs()) }
func TestAccountMutations(t *testing.T) { runMutations(t, aCodecs()) }

// TestAccountLayout pins the encoding written out by hand from the ASN.1:
// [0] EXPLICIT around the SEQUENCE, the IBAN under [0] IMPLICIT.
func TestAccountLayout(t *testing.T) {
	a := AcctPIData{Account: BankAccount{IBAN: testIBAN}}
	for i := range 20 {
		a.AcctSecret[i], a.EXNonce[i] = 0x51, 0x62
	}
	got, err := (&PIAccount{AcctPIData: &a}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "a0" + "46" + // [0] EXPLICIT, 70 bytes
		"30" + "44" + // AcctPIData SEQUENCE, 24 + 22 + 22 = 68 bytes
		"80" + "16" + hex.EncodeToString([]byte(testIBAN)) + // iban [0] IMPLICIT, 22 bytes
		"04" + "14" + strings.Repeat("51", 20) + // acctSecret
		"04" + "14" + strings.Repeat("62", 20) // exNonce
	if hex.EncodeToString(got) != want {
		t.Fatalf("PIAccount:\n got %x\nwant %s", got, want)
	}
}

// TestPIAccountCardUnchanged: a card at the PANData position encodes
// exactly as PANData always has, so existing signatures and digests hold.
func TestPIAccountCardUnchanged(t *testing.T) {
	pan := pPANData()
	a, err := (&PIAccount{PANData: &pan}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pan.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("PIAccount with a card differs from its PANData")
	}
	pid := PIData{PIHead: pPIHead(true), PANData: pan}
	enc, err := pid.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalPIData(enc)
	if err != nil || got.AcctPIData != nil || got.PANData.PAN != pan.PAN {
		t.Fatalf("card PIData decodes as %v, %v", got, err)
	}
}

func TestCheckIBAN(t *testing.T) {
	for _, ok := range []string{
		testIBAN, "GB82WEST12345698765432", "NO9386011117947", "FR1420041010050500013M02606",
		"MT84MALT011000012345MTLCAST001S", "CH9300762011623852957",
	} {
		if err := CheckIBAN(ok); err != nil {
			t.Errorf("CheckIBAN(%s) = %v", ok, err)
		}
	}
	for _, tc := range []struct {
		name, iban string
		digits     bool // fails on the check digits, not the form
	}{
		{"check digits", "DE88370400440532013000", true},
		{"transposed", "DE89370400440532031000", true},
		{"lower case", "de89370400440532013000", false},
		{"space", "DE89 3704 0044 0532 0130 00", false},
		{"too short", "NO938601111794", false},
		{"too long", "DE890370400440532013000000000000000", false},
		{"no country", "1289370400440532013000", false},
		{"punctuation", "DE8937040044053201300-", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckIBAN(tc.iban)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, ErrIBANCheckDigits) != tc.digits {
				t.Errorf("error %v: check-digit error %v, want %v", err, !tc.digits, tc.digits)
			}
			if strings.Contains(err.Error(), "0532") {
				t.Errorf("error quotes the account: %v", err)
			}
		})
	}
}

func TestAccountRejects(t *testing.T) {
	good := aAcctPIData(false)
	enc, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// A wrong check digit in the encoding is refused with ErrIBANCheckDigits.
	bad := bytes.Replace(enc, []byte(testIBAN), []byte("DE88370400440532013000"), 1)
	if _, err := UnmarshalAcctPIData(bad); !errors.Is(err, ErrIBANCheckDigits) {
		t.Errorf("wrong check digits: %v", err)
	}
	// The IBAN under any other tag is not an alternative.
	other := bytes.Replace(enc, []byte{0x80, 0x16}, []byte{0x82, 0x16}, 1)
	if _, err := UnmarshalAcctPIData(other); !errors.Is(err, der.ErrUnexpected) {
		t.Errorf("[2] alternative: %v", err)
	}
	for _, tc := range []struct {
		name string
		v    AcctPIData
	}{
		{"no account", AcctPIData{}},
		{"both forms", AcctPIData{Account: BankAccount{IBAN: testIBAN, AccountNumber: "1", RoutingCode: "2"}}},
		{"number without routing code", AcctPIData{Account: BankAccount{AccountNumber: "31926819"}}},
		{"routing code too long", AcctPIData{Account: BankAccount{AccountNumber: "1", RoutingCode: strings.Repeat("1", 17)}}},
		{"control character", AcctPIData{Account: BankAccount{AccountNumber: "1\n", RoutingCode: "2"}}},
		{"bad IBAN", AcctPIData{Account: BankAccount{IBAN: "DE88370400440532013000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.v.Marshal(); err == nil {
				t.Fatal("Marshal accepted it")
			}
		})
	}
	if _, err := (&PIAccount{}).Marshal(); err == nil {
		t.Error("empty PIAccount marshalled")
	}
	pan := pPANData()
	if _, err := (&PIAccount{PANData: &pan, AcctPIData: &good}).Marshal(); err == nil {
		t.Error("PIAccount with both marshalled")
	}
}

// TestAccountNeverPrinted: no fmt verb shows the account, as for PANs.
func TestAccountNeverPrinted(t *testing.T) {
	a := aAcctPIData(false)
	d := aAcctPIData(true)
	vals := []any{a, &a, a.Account, PIAccount{AcctPIData: &a}, PIData{PIHead: pPIHead(false), AcctPIData: &a}, d, d.Account}
	for _, v := range vals {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			s := fmt.Sprintf(verb, v)
			for _, secret := range []string{testIBAN, "0532013", "31926819", hex.EncodeToString([]byte(testIBAN))} {
				if strings.Contains(s, secret) {
					t.Errorf("%s of %T shows the account: %s", verb, v, s)
				}
			}
		}
	}
}

func FuzzUnmarshalPIAccount(f *testing.F) {
	for _, c := range aCodecs() {
		f.Add(mustMarshal(f, c.value))
	}
	fuzzSeeds(f, "account-PIAccount-iban.der", "account-PIAccount-domestic.der", "account-PIAccount-card.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPIAccount) })
}

func FuzzUnmarshalPIDataAccount(f *testing.F) {
	fuzzSeeds(f, "account-PIData-minimal.der", "account-PIData-full.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalPIData) })
}

// TestPIAccountEX: what EX carries is the PANData or the bare AcctPIData
// SEQUENCE (encap digests SEQUENCEs only), and decoding it gives back the
// form PIData holds, so the gateway rebuilds the signed bytes.
func TestPIAccountEX(t *testing.T) {
	a, pan := aAcctPIData(false), pPANData()
	for _, v := range []*PIAccount{{AcctPIData: &a}, {PANData: &pan}} {
		ex, err := v.MarshalEX()
		if err != nil {
			t.Fatal(err)
		}
		if ex[0] != 0x30 {
			t.Errorf("%v: EX form starts with %#x, not SEQUENCE", v, ex[0])
		}
		got, err := UnmarshalPIAccountEX(ex)
		if err != nil {
			t.Fatal(err)
		}
		in, err := v.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Raw(), in) {
			t.Errorf("%v: Raw is not the PIData form", v)
		}
		if _, err := UnmarshalPIAccountEX(in[:len(in)-1]); err == nil {
			t.Errorf("%v: truncated EX form decoded", v)
		}
	}
	if _, err := UnmarshalPIAccountEX([]byte{0xa0, 0x00}); err == nil {
		t.Error("a [0] element decoded as the EX form")
	}
	if _, err := (&PIAccount{}).MarshalEX(); err == nil {
		t.Error("empty PIAccount has an EX form")
	}
}

func TestParseAccountIdentification(t *testing.T) {
	for _, a := range []BankAccount{{IBAN: testIBAN}, {AccountNumber: "31926819", RoutingCode: "60-16-13"}} {
		got, err := ParseAccountIdentification(a.Identification())
		if err != nil || got != a {
			t.Errorf("%v: parsed back as %v, %v", a, got, err)
		}
	}
	for _, bad := range []string{"", "DE88370400440532013000", "/123", "123/", "not an iban"} {
		if _, err := ParseAccountIdentification(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if (BankAccount{IBAN: testIBAN}).HolderID(crypto.SHA256, pFill(1)) == (BankAccount{IBAN: "GB82WEST12345698765432"}).HolderID(crypto.SHA256, pFill(1)) {
		t.Error("two accounts share a holder ID")
	}
}

func FuzzUnmarshalPIAccountEX(f *testing.F) {
	a, pan := aAcctPIData(true), pPANData()
	for _, v := range []*PIAccount{{AcctPIData: &a}, {PANData: &pan}} {
		b, err := v.MarshalEX()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := UnmarshalPIAccountEX(b)
		if err != nil {
			return
		}
		again, err := v.MarshalEX()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded %x but re-encodes to %x (%v)", b, again, err)
		}
	})
}

func FuzzUnmarshalRegFormAcct(f *testing.F) {
	fuzzSeeds(f, "account-RegFormAcct-iban.der", "account-RegFormAcct-domestic.der", "account-RegFormAcct-card.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalRegFormAcct) })
}
