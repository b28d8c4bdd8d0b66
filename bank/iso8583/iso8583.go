// Package iso8583 is the ISO 8583:1987 subset that the gateway ↔ bank link
// speaks: the messages an acquirer exchanges with an issuer host to
// authorize, capture and reverse card payments, with framing over TCP, a
// client that matches responses by STAN, retransmits and reverses what it
// could not confirm, and a server that keeps serving whatever one peer sends.
//
// # Wire format
//
// Each message travels in a frame: a 2-byte big-endian length, then that many
// bytes of message. A message is
//
//	MTI              4 ASCII digits
//	primary bitmap   16 uppercase ASCII hex digits (bits 1–64, bit 1 first)
//	secondary bitmap 16 uppercase ASCII hex digits, present iff bit 1 is set
//	data elements    in ascending field order
//
// Fixed-length elements are ASCII of exactly their length; LLVAR elements
// carry a 2-digit ASCII decimal length prefix and LLLVAR a 3-digit one (DE 48
// is the subset's one LLLVAR element). Nothing is padded for the caller: a
// value must already have its exact length, and a present variable element
// is at least one character long (an empty one is sent as absent).
//
// # Message types
//
//	0100 / 0110  authorization request / response      (repeat 0101)
//	0200 / 0210  financial request / response (sale)   (repeat 0201)
//	0220 / 0230  completion (capture) advice / response (repeat 0221)
//	0400 / 0410  reversal request / response           (repeat 0401)
//	0420 / 0430  reversal advice / response            (repeat 0421)
//	0800 / 0810  network management (echo)             (repeat 0801)
//
// A repeat (last MTI digit 1) is a retransmission of the same request with
// the same STAN; it is answered with the ordinary response MTI.
//
// # Data elements
//
//	field  name                                  format  length  encoding
//	   1   secondary bitmap                      b 64    16      hex, set by Marshal
//	   2   primary account number (PAN)          n       ..19    LLVAR
//	   3   processing code                       n       6       fixed
//	   4   amount, transaction (minor units)     n       12      fixed
//	   7   transmission date and time (GMT)      n       10      fixed, MMDDhhmmss
//	  11   system trace audit number (STAN)      n       6       fixed
//	  12   time, local transaction               n       6       fixed, hhmmss
//	  13   date, local transaction               n       4       fixed, MMDD
//	  14   date, expiration                      n       4       fixed, YYMM
//	  22   point of service entry mode           n       3       fixed
//	  25   point of service condition code       n       2       fixed
//	  32   acquiring institution ID code         n       ..11    LLVAR
//	  37   retrieval reference number            an      12      fixed
//	  38   authorization ID response (approval)  an      6       fixed
//	  39   response code                         an      2       fixed
//	  41   card acceptor terminal ID             ans     8       fixed
//	  42   card acceptor ID code                 ans     15      fixed
//	  49   currency code, transaction (ISO 4217) n       3       fixed
//	  90   original data elements                n       42      fixed
//	 102   account identification 1             ans     ..28    LLVAR
//
// n is ASCII digits 0–9; an is ASCII letters and digits; ans is printable
// ASCII (0x20–0x7E). Date and time elements are also checked for range
// (month 01–12, day 01–31, hour 00–23, minute and second 00–59).
//
// Field 90 is, in order: original MTI (4), original STAN (6), original
// transmission date and time (10), original acquiring institution ID (11,
// right-justified, zero-padded) and original forwarding institution ID (11,
// zeros when none); see OriginalData.
//
// Field 102 names the cardholder's bank account when the payment is from a
// bank account instead of a card (SET's "other delicate financial
// information"): the IBAN, or the account number when there is none. It is
// as confidential as the PAN and masked like it. ISO 8583:1987 gives it at
// most 28 characters: most IBANs fit, the few countries' longer ones (the
// IBAN format allows 34) cannot travel on this link.
//
// Every message carries field 11, every response field 39, and every
// reversal (0400, 0420 and their repeats) field 90; Marshal and Unmarshal
// refuse one that does not.
//
// # Confidentiality
//
// The PAN (field 2) and the account (field 102) are never printed:
// Message.String masks them to their first six and last four characters,
// and no error quotes any element's value.
package iso8583

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Field numbers of the data elements this subset carries.
const (
	FieldSecondaryBitmap  = 1
	FieldPAN              = 2
	FieldProcessingCode   = 3
	FieldAmount           = 4
	FieldTransmissionTime = 7
	FieldSTAN             = 11
	FieldLocalTime        = 12
	FieldLocalDate        = 13
	FieldExpiry           = 14
	FieldPOSEntryMode     = 22
	FieldPOSCondition     = 25
	FieldAcquirerID       = 32
	FieldRetrievalRef     = 37
	FieldApprovalCode     = 38
	FieldResponseCode     = 39
	FieldTerminalID       = 41
	FieldMerchantID       = 42
	FieldAdditionalData   = 48
	FieldCurrency         = 49
	FieldOriginalData     = 90
	FieldAccountID1       = 102
)

// charset is what an element may contain.
type charset uint8

const (
	numeric      charset = iota // n
	alphanumeric                // an
	printable                   // ans
)

// check is an extra semantic check on an element already of the right
// charset and length.
type check uint8

const (
	noCheck check = iota
	mmddhhmmss
	hhmmss
	mmdd
	yymm
)

// fieldSpec describes one data element.
type fieldSpec struct {
	name    string
	charset charset
	length  int // exact length when prefix is 0, else the maximum
	prefix  int // 0 fixed, 2 LLVAR, 3 LLLVAR
	check   check
}

// fields is the element table documented in the package comment.
var fields = map[int]fieldSpec{
	FieldPAN:              {name: "PAN", charset: numeric, length: 19, prefix: 2},
	FieldProcessingCode:   {name: "processing code", charset: numeric, length: 6},
	FieldAmount:           {name: "amount", charset: numeric, length: 12},
	FieldTransmissionTime: {name: "transmission date and time", charset: numeric, length: 10, check: mmddhhmmss},
	FieldSTAN:             {name: "STAN", charset: numeric, length: 6},
	FieldLocalTime:        {name: "local time", charset: numeric, length: 6, check: hhmmss},
	FieldLocalDate:        {name: "local date", charset: numeric, length: 4, check: mmdd},
	FieldExpiry:           {name: "expiration date", charset: numeric, length: 4, check: yymm},
	FieldPOSEntryMode:     {name: "POS entry mode", charset: numeric, length: 3},
	FieldPOSCondition:     {name: "POS condition code", charset: numeric, length: 2},
	FieldAcquirerID:       {name: "acquiring institution ID", charset: numeric, length: 11, prefix: 2},
	FieldRetrievalRef:     {name: "retrieval reference number", charset: alphanumeric, length: 12},
	FieldApprovalCode:     {name: "approval code", charset: alphanumeric, length: 6},
	FieldResponseCode:     {name: "response code", charset: alphanumeric, length: 2},
	FieldTerminalID:       {name: "terminal ID", charset: printable, length: 8},
	FieldMerchantID:       {name: "card acceptor ID", charset: printable, length: 15},
	FieldAdditionalData:   {name: "additional data, private", charset: printable, length: 999, prefix: 3},
	FieldCurrency:         {name: "currency code", charset: numeric, length: 3},
	FieldOriginalData:     {name: "original data elements", charset: numeric, length: 42},
	FieldAccountID1:       {name: "account identification 1", charset: printable, length: 28, prefix: 2},
}

// ErrTruncated reports a message or frame that ends before its contents do.
var ErrTruncated = errors.New("truncated")

// FormatError reports a message that does not follow the wire format or the
// field table. It names where the failure is and never quotes an element's
// value, so it is safe to log even when the element was a PAN.
type FormatError struct {
	MTI   string // empty when the MTI itself was unreadable
	Field int    // 0 when the failure is not inside one data element
	Err   error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("iso8583")
	if e.MTI != "" {
		b.WriteString(" " + e.MTI)
	}
	if e.Field != 0 {
		fmt.Fprintf(&b, " field %d", e.Field)
		if f, ok := fields[e.Field]; ok {
			b.WriteString(" (" + f.name + ")")
		}
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(mti string, field int, format string, args ...any) error {
	return &FormatError{MTI: mti, Field: field, Err: fmt.Errorf(format, args...)}
}

// Message is one ISO 8583 message: its type and its data elements, keyed
// by field number, each as the ASCII text that travels on the wire.
// Field 1 (the secondary bitmap) is never in Fields: Marshal sets it when
// an element above 64 is present.
type Message struct {
	MTI    string
	Fields map[int]string

	raw []byte // the bytes Unmarshal decoded this from
}

// NewMessage returns an empty message of type mti.
func NewMessage(mti string) *Message {
	return &Message{MTI: mti, Fields: make(map[int]string)}
}

// Get returns data element n and whether it is present.
func (m *Message) Get(n int) (string, bool) {
	v, ok := m.Fields[n]
	return v, ok
}

// Set sets data element n; validation happens in Marshal.
func (m *Message) Set(n int, v string) {
	if m.Fields == nil {
		m.Fields = make(map[int]string)
	}
	m.Fields[n] = v
}

// STAN returns field 11, or "" when absent.
func (m *Message) STAN() string { return m.Fields[FieldSTAN] }

// ResponseCode returns field 39, or "" when absent.
func (m *Message) ResponseCode() ResponseCode { return ResponseCode(m.Fields[FieldResponseCode]) }

// Raw returns the exact bytes the message was decoded from, or nil for a
// message built in memory.
func (m *Message) Raw() []byte { return m.raw }

// Clone returns a deep copy without the raw bytes.
func (m *Message) Clone() *Message {
	return &Message{MTI: m.MTI, Fields: maps.Clone(m.Fields)}
}

// String shows the MTI and every element in field order, with the PAN and
// the account masked: it is meant for logs.
func (m *Message) String() string {
	var b strings.Builder
	b.WriteString(m.MTI)
	b.WriteString("{")
	for i, n := range slices.Sorted(maps.Keys(m.Fields)) {
		if i > 0 {
			b.WriteString(" ")
		}
		v := m.Fields[n]
		if n == FieldPAN || n == FieldAccountID1 {
			v = MaskPAN(v)
		}
		fmt.Fprintf(&b, "%d:%q", n, v)
	}
	b.WriteString("}")
	return b.String()
}

// MaskPAN keeps a PAN's first six and last four digits and replaces the
// rest with '*' (the most PCI DSS allows to be shown); a value too short to
// keep ten digits and still hide some is masked entirely.
func MaskPAN(pan string) string {
	if len(pan) < 13 {
		return strings.Repeat("*", len(pan))
	}
	return pan[:6] + strings.Repeat("*", len(pan)-10) + pan[len(pan)-4:]
}

// Marshal encodes the message without its frame, after checking the MTI,
// every element against the field table and the mandatory elements.
func (m *Message) Marshal() ([]byte, error) {
	if err := checkMTI(m.MTI); err != nil {
		return nil, err
	}
	var primary, secondary uint64
	for n, v := range m.Fields {
		spec, ok := fields[n]
		if !ok {
			if n == FieldSecondaryBitmap {
				return nil, formatErr(m.MTI, n, "set by Marshal, not by the caller")
			}
			return nil, formatErr(m.MTI, n, "not in this subset")
		}
		if err := spec.validate(v); err != nil {
			return nil, &FormatError{MTI: m.MTI, Field: n, Err: err}
		}
		if n <= 64 {
			primary |= bit(n)
		} else {
			secondary |= bit(n - 64)
		}
	}
	if err := checkMandatory(m.MTI, m.Fields); err != nil {
		return nil, err
	}
	if secondary != 0 {
		primary |= bit(1)
	}
	b := make([]byte, 0, 64)
	b = append(b, m.MTI...)
	b = fmt.Appendf(b, "%016X", primary)
	if secondary != 0 {
		b = fmt.Appendf(b, "%016X", secondary)
	}
	for _, n := range slices.Sorted(maps.Keys(m.Fields)) {
		b = fields[n].append(b, m.Fields[n])
	}
	return b, nil
}

// Unmarshal decodes one message (without its frame). It is strict: an
// unknown MTI, a bitmap that is not 16 uppercase hex digits, a bit for an
// element outside the field table, bit 1 without any secondary element, an
// element of the wrong length or characters, a missing mandatory element or
// bytes after the last element are all errors.
func Unmarshal(b []byte) (*Message, error) {
	if len(b) < 4 {
		return nil, formatErr("", 0, "MTI: %w", ErrTruncated)
	}
	mti := string(b[:4])
	if err := checkMTI(mti); err != nil {
		return nil, err
	}
	rest := b[4:]
	primary, rest, err := readBitmap(rest)
	if err != nil {
		return nil, formatErr(mti, 0, "primary bitmap: %w", err)
	}
	var secondary uint64
	if primary&bit(1) != 0 {
		if secondary, rest, err = readBitmap(rest); err != nil {
			return nil, formatErr(mti, 0, "secondary bitmap: %w", err)
		}
		if secondary == 0 {
			return nil, formatErr(mti, FieldSecondaryBitmap, "bit 1 set but no element above 64 present")
		}
	}
	m := &Message{MTI: mti, Fields: make(map[int]string)}
	for n := 2; n <= 128; n++ {
		var present bool
		if n <= 64 {
			present = primary&bit(n) != 0
		} else {
			present = secondary&bit(n-64) != 0
		}
		if !present {
			continue
		}
		spec, ok := fields[n]
		if !ok {
			return nil, formatErr(mti, n, "present in the bitmap but not in this subset")
		}
		var v string
		if v, rest, err = spec.read(rest); err != nil {
			return nil, &FormatError{MTI: mti, Field: n, Err: err}
		}
		m.Fields[n] = v
	}
	if len(rest) != 0 {
		return nil, formatErr(mti, 0, "%d trailing bytes after the last element", len(rest))
	}
	if err := checkMandatory(mti, m.Fields); err != nil {
		return nil, err
	}
	m.raw = b
	return m, nil
}

// bit returns the bitmap mask of bit n (1–64, bit 1 the most significant).
func bit(n int) uint64 { return 1 << (64 - n) }

func readBitmap(b []byte) (uint64, []byte, error) {
	if len(b) < 16 {
		return 0, nil, ErrTruncated
	}
	var v uint64
	for _, c := range b[:16] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			// Lowercase hex is refused too: one spelling per message.
			return 0, nil, errors.New("not 16 uppercase hex digits")
		}
		v = v<<4 | uint64(d)
	}
	return v, b[16:], nil
}

// validate checks a value against the element's format.
func (f fieldSpec) validate(v string) error {
	switch {
	case f.prefix == 0 && len(v) != f.length:
		return fmt.Errorf("length %d, want %d", len(v), f.length)
	case f.prefix != 0 && (len(v) < 1 || len(v) > f.length):
		return fmt.Errorf("length %d, want 1 to %d", len(v), f.length)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		var ok bool
		switch f.charset {
		case numeric:
			ok = isDigit(c)
		case alphanumeric:
			ok = isDigit(c) || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
		case printable:
			ok = 0x20 <= c && c <= 0x7e
		}
		if !ok {
			return fmt.Errorf("character %d not allowed in %s", i+1, [...]string{"n", "an", "ans"}[f.charset])
		}
	}
	return f.checkRange(v)
}

// checkRange applies the date and time checks to an all-digit value of the
// right length.
func (f fieldSpec) checkRange(v string) error {
	num := func(i int) int { return int(v[i]-'0')*10 + int(v[i+1]-'0') }
	var month, day, hour, minute, second = 1, 1, 0, 0, 0
	switch f.check {
	case noCheck:
		return nil
	case mmddhhmmss:
		month, day, hour, minute, second = num(0), num(2), num(4), num(6), num(8)
	case hhmmss:
		hour, minute, second = num(0), num(2), num(4)
	case mmdd:
		month, day = num(0), num(2)
	case yymm:
		month = num(2)
	}
	switch {
	case month < 1 || month > 12:
		return errors.New("month out of range")
	case day < 1 || day > 31:
		return errors.New("day out of range")
	case hour > 23 || minute > 59 || second > 59:
		return errors.New("time of day out of range")
	}
	return nil
}

func (f fieldSpec) append(b []byte, v string) []byte {
	switch f.prefix {
	case 2:
		b = fmt.Appendf(b, "%02d", len(v))
	case 3:
		b = fmt.Appendf(b, "%03d", len(v))
	}
	return append(b, v...)
}

// read consumes one element from b and validates it.
func (f fieldSpec) read(b []byte) (string, []byte, error) {
	n := f.length
	if f.prefix != 0 {
		if len(b) < f.prefix {
			return "", nil, fmt.Errorf("length prefix: %w", ErrTruncated)
		}
		n = 0
		for _, c := range b[:f.prefix] {
			if !isDigit(c) {
				return "", nil, errors.New("length prefix is not decimal digits")
			}
			n = n*10 + int(c-'0')
		}
		b = b[f.prefix:]
		if n < 1 || n > f.length {
			return "", nil, fmt.Errorf("length %d, want 1 to %d", n, f.length)
		}
	}
	if len(b) < n {
		return "", nil, ErrTruncated
	}
	v := string(b[:n])
	if err := f.validate(v); err != nil {
		return "", nil, err
	}
	return v, b[n:], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkMandatory enforces the elements the link cannot work without: the
// STAN everywhere (responses are matched by it), the response code in
// responses, and the original data elements in reversals (the issuer
// finds the hold to release by them).
func checkMandatory(mti string, f map[int]string) error {
	if _, ok := f[FieldSTAN]; !ok {
		return formatErr(mti, FieldSTAN, "missing")
	}
	if IsResponse(mti) {
		if _, ok := f[FieldResponseCode]; !ok {
			return formatErr(mti, FieldResponseCode, "missing in a response")
		}
	}
	if mti[1] == '4' && !IsResponse(mti) {
		if _, ok := f[FieldOriginalData]; !ok {
			return formatErr(mti, FieldOriginalData, "missing in a reversal")
		}
	}
	return nil
}
