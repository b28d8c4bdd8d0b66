package iso8583

import (
	"errors"
	"fmt"
	"strings"
)

// Message type indicators of this subset. The repeat of a request is its
// MTI with the last digit 1 (see RepeatMTI).
const (
	MTIAuthorizationRequest  = "0100"
	MTIAuthorizationResponse = "0110"
	MTIFinancialRequest      = "0200"
	MTIFinancialResponse     = "0210"
	MTICompletionAdvice      = "0220"
	MTICompletionResponse    = "0230"
	MTIReversalRequest       = "0400"
	MTIReversalResponse      = "0410"
	MTIReversalAdvice        = "0420"
	MTIReversalAdviceResp    = "0430"
	MTINetworkRequest        = "0800"
	MTINetworkResponse       = "0810"
)

// requests lists the request classes; each answers with class+10 and
// repeats as class+1.
var requests = [...]string{
	MTIAuthorizationRequest, MTIFinancialRequest, MTICompletionAdvice,
	MTIReversalRequest, MTIReversalAdvice, MTINetworkRequest,
}

// checkMTI accepts exactly the requests, their repeats and their responses.
func checkMTI(mti string) error {
	if len(mti) != 4 {
		return formatErr("", 0, "MTI: length %d, want 4", len(mti))
	}
	for i := 0; i < 4; i++ {
		if !isDigit(mti[i]) {
			return formatErr("", 0, "MTI: not 4 ASCII digits")
		}
	}
	for _, r := range requests {
		if mti[:3] == r[:3] && (mti[3] == '0' || mti[3] == '1') {
			return nil
		}
		if mti == ResponseMTI(r) {
			return nil
		}
	}
	return formatErr(mti, 0, "MTI not in this subset")
}

// IsResponse reports whether mti is a response (third digit 1 or 3).
func IsResponse(mti string) bool {
	return len(mti) == 4 && (mti[2] == '1' || mti[2] == '3')
}

// IsRepeat reports whether mti is a repeated request (last digit 1).
func IsRepeat(mti string) bool {
	return len(mti) == 4 && !IsResponse(mti) && mti[3] == '1'
}

// BaseMTI returns the request MTI a repeat repeats; other MTIs unchanged.
func BaseMTI(mti string) string {
	if IsRepeat(mti) {
		return mti[:3] + "0"
	}
	return mti
}

// RepeatMTI returns the MTI a retransmission of request mti carries.
func RepeatMTI(mti string) string {
	if len(mti) != 4 || IsResponse(mti) {
		return mti
	}
	return mti[:3] + "1"
}

// ResponseMTI returns the MTI that answers request mti (or its repeat):
// 0100 and 0101 → 0110, 0220 → 0230, and so on.
func ResponseMTI(mti string) string {
	if len(mti) != 4 || IsResponse(mti) || (mti[2] != '0' && mti[2] != '2') {
		return ""
	}
	return mti[:2] + string(mti[2]+1) + "0"
}

// ResponseCode is field 39: the issuer's answer.
type ResponseCode string

// Response codes (ISO 8583:1987 field 39) this link uses.
const (
	Approved                ResponseCode = "00"
	DoNotHonour             ResponseCode = "05"
	InvalidTransaction      ResponseCode = "12"
	InvalidCardNumber       ResponseCode = "14"
	FormatFailure           ResponseCode = "30"
	InsufficientFunds       ResponseCode = "51"
	ExpiredCard             ResponseCode = "54"
	TransactionNotPermitted ResponseCode = "57"
	IssuerUnavailable       ResponseCode = "91"
	SystemMalfunction       ResponseCode = "96"
)

var responseNames = map[ResponseCode]string{
	Approved:                "approved",
	DoNotHonour:             "do not honour",
	InvalidTransaction:      "invalid transaction",
	InvalidCardNumber:       "invalid card number",
	FormatFailure:           "format error",
	InsufficientFunds:       "insufficient funds",
	ExpiredCard:             "expired card",
	TransactionNotPermitted: "transaction not permitted to cardholder",
	IssuerUnavailable:       "issuer or switch inoperative",
	SystemMalfunction:       "system malfunction",
}

// String is the code and its meaning, such as "51 insufficient funds".
func (c ResponseCode) String() string {
	if name, ok := responseNames[c]; ok {
		return string(c) + " " + name
	}
	return string(c) + " (unknown response code)"
}

// OriginalData is field 90: what a reversal names of the message it
// reverses.
type OriginalData struct {
	MTI              string // 4 digits
	STAN             string // 6 digits
	TransmissionTime string // 10 digits, MMDDhhmmss
	AcquirerID       string // up to 11 digits; zero-padded on the left
	ForwardingID     string // up to 11 digits, may be empty; zero-padded
}

// Encode returns the 42-digit value of field 90.
func (o OriginalData) Encode() (string, error) {
	parts := []struct {
		name  string
		v     string
		width int
		pad   bool
	}{
		{"original MTI", o.MTI, 4, false},
		{"original STAN", o.STAN, 6, false},
		{"original transmission time", o.TransmissionTime, 10, false},
		{"original acquirer ID", o.AcquirerID, 11, true},
		{"original forwarding ID", o.ForwardingID, 11, true},
	}
	var b strings.Builder
	for _, p := range parts {
		if len(p.v) > p.width || !p.pad && len(p.v) != p.width {
			return "", formatErr("", FieldOriginalData, "%s: length %d, want %d", p.name, len(p.v), p.width)
		}
		for i := 0; i < len(p.v); i++ {
			if !isDigit(p.v[i]) {
				return "", formatErr("", FieldOriginalData, "%s: not digits", p.name)
			}
		}
		b.WriteString(strings.Repeat("0", p.width-len(p.v)))
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// ParseOriginalData splits a field 90 value. The identifiers come back
// with their padding, 11 digits each.
func ParseOriginalData(v string) (OriginalData, error) {
	if err := fields[FieldOriginalData].validate(v); err != nil {
		return OriginalData{}, &FormatError{Field: FieldOriginalData, Err: err}
	}
	o := OriginalData{MTI: v[0:4], STAN: v[4:10], TransmissionTime: v[10:20], AcquirerID: v[20:31], ForwardingID: v[31:42]}
	if err := checkMTI(o.MTI); err != nil {
		return OriginalData{}, &FormatError{Field: FieldOriginalData, Err: fmt.Errorf("original MTI: %w", errors.Unwrap(err))}
	}
	if err := fields[FieldTransmissionTime].checkRange(o.TransmissionTime); err != nil {
		return OriginalData{}, &FormatError{Field: FieldOriginalData, Err: fmt.Errorf("original transmission time: %w", err)}
	}
	return o, nil
}
