package msg

import (
	"crypto"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// Paying from a bank account instead of a card: SET lets the PI carry
// "other delicate financial information" where it carries the PAN, but
// the public fragments define no type for it. The reconstruction (see
// docs/spec-gaps.md) keeps every card encoding byte for byte and adds one
// context-tagged alternative at the PANData position:
//
//	PIAccount ::= CHOICE {
//	  panData    PANData,                  -- a card, as before (SEQUENCE)
//	  acctPIData [0] EXPLICIT AcctPIData } -- a bank account
//
//	AcctPIData ::= SEQUENCE {
//	  account    BankAccount,
//	  acctSecret Secret,    -- the account's PANSecret: binds the certificate
//	  exNonce    Nonce }
//
//	BankAccount ::= CHOICE {
//	  iban     [0] IMPLICIT PrintableString (SIZE(15..34)), -- ISO 13616, electronic form
//	  domestic [1] IMPLICIT SEQUENCE {
//	    accountNumber VisibleString (SIZE(1..34)),
//	    routingCode   VisibleString (SIZE(1..16)) } }   -- sort code, ABA, BLZ ...

// Limits of BankAccount's components.
const (
	minIBAN          = 15 // the shortest IBAN format in use (Norway)
	maxIBAN          = 34 // ISO 13616's ceiling
	maxAccountNumber = 34
	maxRoutingCode   = 16
)

// ErrIBANCheckDigits reports an IBAN whose check digits do not verify
// (ISO 13616: the number, rearranged and read as digits, mod 97 ≠ 1):
// a mistyped account number.
var ErrIBANCheckDigits = errors.New("IBAN check digits do not verify (ISO 13616 mod-97)")

// CheckIBAN reports whether s is an IBAN in electronic form: a two-letter
// country code, two check digits, then up to 30 capital letters and
// digits, 15 to 34 characters in all, whose check digits verify. The
// error never quotes s.
func CheckIBAN(s string) error {
	if len(s) < minIBAN || len(s) > maxIBAN {
		return fmt.Errorf("IBAN of %d characters, want %d..%d: %w", len(s), minIBAN, maxIBAN, der.ErrInvalid)
	}
	if !upper(s[0]) || !upper(s[1]) || !digit(s[2]) || !digit(s[3]) {
		return fmt.Errorf("IBAN does not start with a country code and two check digits: %w", der.ErrInvalid)
	}
	for i := 4; i < len(s); i++ {
		if !upper(s[i]) && !digit(s[i]) {
			return fmt.Errorf("IBAN holds a character other than A-Z and 0-9 at %d: %w", i, der.ErrInvalid)
		}
	}
	// Move the first four characters to the end and read letters as
	// 10..35; the remainder mod 97 must be 1. Reducing as we go keeps
	// the running value small.
	r := 0
	for i := range len(s) {
		c := s[(i+4)%len(s)]
		if digit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	if r != 1 {
		return ErrIBANCheckDigits
	}
	return nil
}

// domesticTag is BankAccount's [1] IMPLICIT SEQUENCE: context class 1,
// constructed.
var domesticTag = der.Tag{Class: der.ClassContextSpecific, Constructed: true, Number: 1}

func upper(c byte) bool { return 'A' <= c && c <= 'Z' }
func digit(c byte) bool { return '0' <= c && c <= '9' }

// BankAccount names a bank account by IBAN, or by account number and
// routing code where there is no IBAN. Exactly one form is set.
type BankAccount struct {
	IBAN          string
	AccountNumber string
	RoutingCode   string
}

// Check reports whether exactly one form is set and valid.
func (a BankAccount) Check() error {
	const typ = "BankAccount"
	switch {
	case a.IBAN != "" && a.AccountNumber == "" && a.RoutingCode == "":
		if err := CheckIBAN(a.IBAN); err != nil {
			return der.Wrap(typ, "iban", err)
		}
	case a.IBAN == "" && a.AccountNumber != "" && a.RoutingCode != "":
		if err := checkSize(len(a.AccountNumber), 1, maxAccountNumber, typ, "accountNumber"); err != nil {
			return err
		}
		if err := checkSize(len(a.RoutingCode), 1, maxRoutingCode, typ, "routingCode"); err != nil {
			return err
		}
		if !visibleOK(a.AccountNumber) || !visibleOK(a.RoutingCode) {
			return der.Errorf(typ, "domestic", "not a VisibleString: %w", der.ErrInvalid)
		}
	default:
		return der.Errorf(typ, "", "exactly one of iban and accountNumber with routingCode: %w", der.ErrInvalid)
	}
	return nil
}

// Identification is the account as one string, what the certificate
// binds and the bank looks up: the IBAN, or routingCode/accountNumber.
func (a BankAccount) Identification() string {
	if a.IBAN != "" {
		return a.IBAN
	}
	return a.RoutingCode + "/" + a.AccountNumber
}

// HolderID is the subject common name of the certificate of this
// account's holder, as a cardholder's is hex(HMAC(PANSecret, PAN ‖
// expiry)): hex(HMAC(secret, Identification())). Only the holder, the CA
// that issued it and the gateway reading the PI can compute it. A card's
// input is all digits and an account's never is (an IBAN starts with
// letters, a domestic identification holds "/"), so the two cannot
// collide.
func (a BankAccount) HolderID(h crypto.Hash, secret Secret) string {
	mac := hmac.New(h.New, secret[:])
	mac.Write([]byte(a.Identification()))
	return hex.EncodeToString(mac.Sum(nil))
}

// String shows the account masked like a PAN: first six, last four.
func (a BankAccount) String() string { return "account " + MaskAccount(a.Identification()) }

// Format makes every fmt verb print String.
func (a BankAccount) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// MaskAccount keeps an account identification's first six and last four
// characters, as a PAN is shown; a shorter one is masked entirely.
func MaskAccount(id string) string {
	if len(id) < 13 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}

func (a *BankAccount) add(b *cryptobyte.Builder) {
	if err := a.Check(); err != nil {
		b.SetError(err)
		return
	}
	if a.IBAN != "" {
		b.AddBytes(der.Encode(der.Implicit(0), []byte(a.IBAN)))
		return
	}
	der.AddElement(b, domesticTag, func(b *cryptobyte.Builder) {
		addVisibleString(b, der.TagVisibleString, a.AccountNumber, "BankAccount", "accountNumber", 1, maxAccountNumber)
		addVisibleString(b, der.TagVisibleString, a.RoutingCode, "BankAccount", "routingCode", 1, maxRoutingCode)
	})
}

func (a *BankAccount) read(s *cryptobyte.String) error {
	const typ = "BankAccount"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	var out BankAccount
	switch el.Tag {
	case der.Implicit(0):
		// PrintableString's alphabet holds IBAN's; CheckIBAN is stricter.
		out.IBAN = string(el.Contents)
		if err := CheckIBAN(out.IBAN); err != nil {
			return der.Wrap(typ, "iban", err)
		}
	case domesticTag:
		in := cryptobyte.String(el.Contents)
		if out.AccountNumber, err = readVisibleString(&in, typ, "accountNumber", 1, maxAccountNumber); err != nil {
			return err
		}
		if out.RoutingCode, err = readVisibleString(&in, typ, "routingCode", 1, maxRoutingCode); err != nil {
			return err
		}
		if err := expectEnd(in, typ, "domestic"); err != nil {
			return err
		}
	default:
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	*a = out
	return nil
}

// AcctPIData is the bank-account alternative of PANData: the account,
// its secret (issued at registration as a card's PANSecret is, and bound
// into the account holder's certificate the same way) and the nonce that
// keeps its digest from being guessed. Printed masked.
type AcctPIData struct {
	Account    BankAccount
	AcctSecret Secret
	EXNonce    Nonce

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *AcctPIData) Raw() []byte { return v.raw }

func (v *AcctPIData) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		v.Account.add(b)
		v.AcctSecret.add(b)
		v.EXNonce.add(b)
	})
}

func (v *AcctPIData) read(s *cryptobyte.String) error {
	const typ = "AcctPIData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AcctPIData{raw: raw}
	if err := out.Account.read(&seq); err != nil {
		return der.Wrap(typ, "account", err)
	}
	if err := out.AcctSecret.read(&seq); err != nil {
		return der.Wrap(typ, "acctSecret", err)
	}
	if err := out.EXNonce.read(&seq); err != nil {
		return der.Wrap(typ, "exNonce", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *AcctPIData) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalAcctPIData decodes an AcctPIData.
func UnmarshalAcctPIData(b []byte) (*AcctPIData, error) {
	return unmarshalNew[AcctPIData](b, "AcctPIData")
}

// String shows only the masked account.
func (v AcctPIData) String() string { return "AcctPIData{" + v.Account.String() + "}" }

// Format makes every fmt verb print String.
func (v AcctPIData) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// PIAccount is what the PI carries at the PANData position: a card
// (PANData, encoded exactly as before) or a bank account (AcctPIData
// under [0] EXPLICIT). Exactly one is set. It is what EX puts in the OAEP
// block and what hPANData digests.
type PIAccount struct {
	PANData    *PANData
	AcctPIData *AcctPIData

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *PIAccount) Raw() []byte { return v.raw }

func (v *PIAccount) add(b *cryptobyte.Builder) {
	switch {
	case v.PANData != nil && v.AcctPIData == nil:
		v.PANData.add(b)
	case v.PANData == nil && v.AcctPIData != nil:
		addExplicit(b, 0, v.AcctPIData.add)
	default:
		failf(b, "PIAccount", "", "exactly one of panData and acctPIData must be set")
	}
}

func (v *PIAccount) read(s *cryptobyte.String) error {
	const typ = "PIAccount"
	if !nextIs(*s, der.Explicit(0)) {
		var p PANData
		if err := p.read(s); err != nil {
			return err
		}
		*v = PIAccount{PANData: &p, raw: p.raw}
		return nil
	}
	var a AcctPIData
	raw, err := readExplicitAlternative(s, typ, "acctPIData", a.read)
	if err != nil {
		return err
	}
	*v = PIAccount{AcctPIData: &a, raw: raw}
	return nil
}

// readExplicitAlternative reads the [n] EXPLICIT alternative of a CHOICE
// whose other alternative is an untagged SEQUENCE (PIAccount,
// RegFormAcct), the caller having seen the tag. raw is the whole element,
// tag included, as the CHOICE's value holds it.
func readExplicitAlternative(s *cryptobyte.String, typ, field string, read func(*cryptobyte.String) error) (raw []byte, err error) {
	el, err := der.ReadElement(s)
	if err != nil {
		return nil, der.Wrap(typ, "", err)
	}
	in := cryptobyte.String(el.Contents)
	if err := read(&in); err != nil {
		return nil, der.Wrap(typ, field, err)
	}
	if err := expectEnd(in, typ, field); err != nil {
		return nil, err
	}
	return el.Raw, nil
}

// Marshal returns the DER of v.
func (v *PIAccount) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalPIAccount decodes what a PI carries at the PANData position.
func UnmarshalPIAccount(b []byte) (*PIAccount, error) {
	return unmarshalNew[PIAccount](b, "PIAccount")
}

// String shows only the masked card or account.
func (v PIAccount) String() string {
	switch {
	case v.PANData != nil:
		return v.PANData.String()
	case v.AcctPIData != nil:
		return v.AcctPIData.String()
	}
	return "PIAccount{}"
}

// Format makes every fmt verb print String.
func (v PIAccount) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// AccountBIN is the BIN a bank-account holder's wallet sends where SET
// expects a card's (PInitReq): a bank account has no card issuer. A
// cardholder CA registers bank-account holders for the issuer whose BIN
// range holds it.
const AccountBIN = "000000"

// ParseAccountIdentification is the inverse of Identification: an IBAN,
// or routingCode "/" accountNumber. It is how an AcctData's
// acctIdentification names a bank-account holder's account.
func ParseAccountIdentification(s string) (BankAccount, error) {
	a := BankAccount{IBAN: s}
	if routing, number, ok := strings.Cut(s, "/"); ok {
		a = BankAccount{AccountNumber: number, RoutingCode: routing}
	}
	if err := a.Check(); err != nil {
		return BankAccount{}, err
	}
	return a, nil
}

// RegFormAcct is the extra data of a cardholder's RegFormReq: PANOnly for
// a card (encoded exactly as before), or, for a bank-account holder, the
// account as SET's AcctData under [1] EXPLICIT (the tag AcctInfo gives
// it):
//
//	RegFormAcct ::= CHOICE { panOnly PANOnly, acctData [1] EXPLICIT AcctData }
//
// The CA needs the account here, as it needs the PAN, to pick the
// issuer's form and bind its chall-CA to the account.
type RegFormAcct struct {
	PANOnly  *PANOnly
	AcctData *AcctData

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *RegFormAcct) Raw() []byte { return v.raw }

func (v *RegFormAcct) add(b *cryptobyte.Builder) {
	switch {
	case v.PANOnly != nil && v.AcctData == nil:
		v.PANOnly.add(b)
	case v.PANOnly == nil && v.AcctData != nil:
		a := v.AcctData
		if _, err := ParseAccountIdentification(a.AcctIdentification); err != nil {
			b.SetError(der.Wrap("RegFormAcct", "acctData", err))
			return
		}
		addExplicit(b, 1, a.add) // as AcctInfo's acctData
	default:
		failf(b, "RegFormAcct", "", "exactly one of panOnly and acctData must be set")
	}
}

func (v *RegFormAcct) read(s *cryptobyte.String) error {
	const typ = "RegFormAcct"
	if !nextIs(*s, der.Explicit(1)) {
		var p PANOnly
		if err := p.read(s); err != nil {
			return err
		}
		*v = RegFormAcct{PANOnly: &p, raw: p.raw}
		return nil
	}
	var a *AcctData
	raw, err := readExplicitAlternative(s, typ, "acctData", func(in *cryptobyte.String) (err error) {
		a, err = readAcctData(in)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := ParseAccountIdentification(a.AcctIdentification); err != nil {
		return der.Wrap(typ, "acctData", err)
	}
	*v = RegFormAcct{AcctData: a, raw: raw}
	return nil
}

// Marshal returns the DER of v.
func (v *RegFormAcct) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalRegFormAcct decodes a RegFormReq's extra data.
func UnmarshalRegFormAcct(b []byte) (*RegFormAcct, error) {
	return unmarshalNew[RegFormAcct](b, "RegFormAcct")
}

// String shows only the masked card or account.
func (v RegFormAcct) String() string {
	if v.AcctData != nil {
		return "RegFormAcct{account " + MaskAccount(v.AcctData.AcctIdentification) + "}"
	}
	if v.PANOnly != nil {
		return "RegFormAcct{PAN: " + maskPAN(v.PANOnly.PAN) + "}"
	}
	return "RegFormAcct{}"
}

// Format makes every fmt verb print String.
func (v RegFormAcct) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// MarshalEX returns v as the PI's EX carries it in the OAEP block and as
// hPANData (DD{PANData}) digests it: PANData for a card, the AcctPIData
// SEQUENCE itself for a bank account. The CHOICE tag is left out there
// because encap signs and digests SEQUENCEs only (under set1's PKCS#7 a
// digest covers contents octets, not the tag); the two cannot be confused,
// as PANData starts with a NumericString and AcctPIData never does, and
// the dual signature covers the tag inside PIData.
func (v *PIAccount) MarshalEX() ([]byte, error) {
	switch {
	case v.PANData != nil && v.AcctPIData == nil:
		return v.PANData.Marshal()
	case v.PANData == nil && v.AcctPIData != nil:
		return v.AcctPIData.Marshal()
	}
	return nil, der.Errorf("PIAccount", "", "exactly one of panData and acctPIData must be set: %w", der.ErrInvalid)
}

// UnmarshalPIAccountEX decodes what MarshalEX encodes. Raw of the result
// is the value as PIData holds it (AcctPIData under its [0] tag), so that
// a gateway rebuilds the signed PIData from the bytes it received.
func UnmarshalPIAccountEX(b []byte) (*PIAccount, error) {
	card, err := startsWithPAN(b, "PIAccount")
	if err != nil {
		return nil, err
	}
	if card {
		p, err := UnmarshalPANData(b)
		if err != nil {
			return nil, err
		}
		return &PIAccount{PANData: p, raw: p.raw}, nil
	}
	a, err := UnmarshalAcctPIData(b)
	if err != nil {
		return nil, err
	}
	return &PIAccount{AcctPIData: a, raw: der.Encode(der.Explicit(0), a.raw)}, nil
}

// startsWithPAN reports whether b, one SEQUENCE, opens with a
// NumericString: a card's PANData or PANToken rather than its bank-account
// counterpart. The untagged forms an OAEP block carries (MarshalEX,
// TokenAccount) are told apart this way.
func startsWithPAN(b []byte, typ string) (bool, error) {
	e, err := der.Parse(b)
	if err != nil {
		return false, der.Wrap(typ, "", err)
	}
	if e.Tag != der.TagSequence {
		return false, der.Errorf(typ, "", "%s, want SEQUENCE: %w", e.Tag, der.ErrUnexpected)
	}
	return nextIs(cryptobyte.String(e.Contents), der.TagNumericString), nil
}

// AcctToken is the bank-account counterpart of PANToken: what an
// AuthToken carries in its OAEP block, sealed by the gateway to itself,
// when the purchase was paid from a bank account (docs/spec-gaps.md):
//
//	AcctToken ::= SEQUENCE { account BankAccount, exNonce Nonce }
//
// Like PANToken, which leaves out the PANSecret, it holds no secret: the
// token only lets the gateway that sealed it ask the bank again.
type AcctToken struct {
	Account BankAccount
	EXNonce Nonce

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *AcctToken) Raw() []byte { return v.raw }

func (v *AcctToken) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		v.Account.add(b)
		v.EXNonce.add(b)
	})
}

func (v *AcctToken) read(s *cryptobyte.String) error {
	const typ = "AcctToken"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := AcctToken{raw: raw}
	if err := out.Account.read(&seq); err != nil {
		return der.Wrap(typ, "account", err)
	}
	if err := out.EXNonce.read(&seq); err != nil {
		return der.Wrap(typ, "exNonce", err)
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER of v.
func (v *AcctToken) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalAcctToken decodes an AcctToken.
func UnmarshalAcctToken(b []byte) (*AcctToken, error) {
	return unmarshalNew[AcctToken](b, "AcctToken")
}

// String shows only the masked account.
func (v AcctToken) String() string { return "AcctToken{" + v.Account.String() + "}" }

// Format makes every fmt verb print String.
func (v AcctToken) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// TokenAccount is what a token's OAEP block carries: a card's PANToken,
// or an AcctToken. Exactly one is set. As with MarshalEX no CHOICE tag is
// added, the block being a SEQUENCE that encap pairs with the signed
// data; the two cannot be confused, since a PANToken starts with a
// NumericString and an AcctToken with a BankAccount's context tag.
type TokenAccount struct {
	PANToken  *PANToken
	AcctToken *AcctToken

	raw []byte
}

// Raw returns the bytes v was decoded from.
func (v *TokenAccount) Raw() []byte { return v.raw }

// Marshal returns the DER of whichever of v's alternatives is set.
func (v *TokenAccount) Marshal() ([]byte, error) {
	switch {
	case v.PANToken != nil && v.AcctToken == nil:
		return v.PANToken.Marshal()
	case v.PANToken == nil && v.AcctToken != nil:
		return v.AcctToken.Marshal()
	}
	return nil, der.Errorf("TokenAccount", "", "exactly one of panToken and acctToken must be set: %w", der.ErrInvalid)
}

// UnmarshalTokenAccount decodes a token's OAEP block: a PANToken or an
// AcctToken.
func UnmarshalTokenAccount(b []byte) (*TokenAccount, error) {
	card, err := startsWithPAN(b, "TokenAccount")
	if err != nil {
		return nil, err
	}
	if card {
		p, err := UnmarshalPANToken(b)
		if err != nil {
			return nil, err
		}
		return &TokenAccount{PANToken: p, raw: p.raw}, nil
	}
	a, err := UnmarshalAcctToken(b)
	if err != nil {
		return nil, err
	}
	return &TokenAccount{AcctToken: a, raw: a.raw}, nil
}

// String shows only the masked card or account.
func (v TokenAccount) String() string {
	switch {
	case v.PANToken != nil:
		return v.PANToken.String()
	case v.AcctToken != nil:
		return v.AcctToken.String()
	}
	return "TokenAccount{}"
}

// Format makes every fmt verb print String.
func (v TokenAccount) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }
