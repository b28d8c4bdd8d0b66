package msg

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// tCodecs lists the token-account types; golden vectors are
// testdata/account-<name>.der.
func tCodecs() []codec {
	iban := AcctToken{Account: BankAccount{IBAN: testIBAN}, EXNonce: pFill(0x71)}
	dom := AcctToken{Account: BankAccount{AccountNumber: "31926819", RoutingCode: "60-16-13"}, EXNonce: pFill(0x72)}
	pan := pPANToken()
	return []codec{
		aCodec("AcctToken/iban", &iban, decoder(UnmarshalAcctToken)),
		aCodec("AcctToken/domestic", &dom, decoder(UnmarshalAcctToken)),
		aCodec("TokenAccount/iban", &TokenAccount{AcctToken: &iban}, decoder(UnmarshalTokenAccount)),
		aCodec("TokenAccount/card", &TokenAccount{PANToken: &pan}, decoder(UnmarshalTokenAccount)),
	}
}

func TestTokenAccountRoundTrip(t *testing.T) { runRoundTrips(t, tCodecs()) }
func TestTokenAccountGolden(t *testing.T)    { runGolden(t, tCodecs()) }
func TestTokenAccountMutations(t *testing.T) { runMutations(t, tCodecs()) }

// TestTokenAccountCardUnchanged: a card's token block is the PANToken's
// DER byte for byte, so tokens sealed before accounts existed still open.
func TestTokenAccountCardUnchanged(t *testing.T) {
	pan := pPANToken()
	want, err := pan.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&TokenAccount{PANToken: &pan}).Marshal()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("card token block %x, %v; want the PANToken %x", got, err, want)
	}
	back, err := UnmarshalTokenAccount(want)
	if err != nil || back.PANToken == nil || back.AcctToken != nil || back.PANToken.PAN != pan.PAN {
		t.Fatalf("decoded %v, %v", back, err)
	}
}

func TestTokenAccountRejects(t *testing.T) {
	if _, err := (&TokenAccount{}).Marshal(); err == nil {
		t.Error("empty TokenAccount encoded")
	}
	pan := pPANToken()
	acct := AcctToken{Account: BankAccount{IBAN: testIBAN}}
	if _, err := (&TokenAccount{PANToken: &pan, AcctToken: &acct}).Marshal(); err == nil {
		t.Error("TokenAccount with both alternatives encoded")
	}
	bad := AcctToken{Account: BankAccount{IBAN: "DE00370400440532013000"}}
	if _, err := bad.Marshal(); err == nil {
		t.Error("AcctToken with a wrong IBAN check digit encoded")
	}
	good, err := acct.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte{}, good...), 0),
		"not a seq": {0x04, 0x00},
	} {
		if _, err := UnmarshalTokenAccount(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAcctTokenNeverPrinted(t *testing.T) {
	v := TokenAccount{AcctToken: &AcctToken{Account: BankAccount{IBAN: testIBAN}}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := fmt.Sprintf(verb, v); strings.Contains(s, testIBAN) || strings.Contains(s, "0532013") {
			t.Errorf("%s prints the account: %s", verb, s)
		}
	}
}

func FuzzUnmarshalTokenAccount(f *testing.F) {
	for _, c := range tCodecs() {
		if b, err := c.value.Marshal(); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalTokenAccount) })
}
