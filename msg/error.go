package msg

import (
	"encoding/asn1"
	"strconv"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// ErrorCode ::= ENUMERATED. The first four names are verbatim (Book 2);
// the numbering and the remaining names are reconstructed (docs/spec-gaps.md).
type ErrorCode int

// Error codes.
const (
	UnspecifiedFailure    ErrorCode = 1
	MessageNotSupported   ErrorCode = 2
	DecodingFailure       ErrorCode = 3
	InvalidCertificate    ErrorCode = 4
	ExpiredCertificate    ErrorCode = 5
	RevokedCertificate    ErrorCode = 6
	MissingCertificate    ErrorCode = 7
	SignatureFailure      ErrorCode = 8
	BadMessageHeader      ErrorCode = 9
	WrapperMsgMismatch    ErrorCode = 10
	VersionTooOld         ErrorCode = 11
	VersionTooNew         ErrorCode = 12
	UnrecognizedExtension ErrorCode = 13
	MessageTooBig         ErrorCode = 14
	SignatureRequired     ErrorCode = 15
	MessageTooOld         ErrorCode = 16
	MessageTooNew         ErrorCode = 17
	ThumbsMismatch        ErrorCode = 18
	UnknownRRPID          ErrorCode = 19
	UnknownXID            ErrorCode = 20
	UnknownLID            ErrorCode = 21
	ChallengeMismatch     ErrorCode = 22
)

var errorCodeNames = [...]string{
	UnspecifiedFailure: "unspecifiedFailure", MessageNotSupported: "messageNotSupported",
	DecodingFailure: "decodingFailure", InvalidCertificate: "invalidCertificate",
	ExpiredCertificate: "expiredCertificate", RevokedCertificate: "revokedCertificate",
	MissingCertificate: "missingCertificate", SignatureFailure: "signatureFailure",
	BadMessageHeader: "badMessageHeader", WrapperMsgMismatch: "wrapperMsgMismatch",
	VersionTooOld: "versionTooOld", VersionTooNew: "versionTooNew",
	UnrecognizedExtension: "unrecognizedExtension", MessageTooBig: "messageTooBig",
	SignatureRequired: "signatureRequired", MessageTooOld: "messageTooOld",
	MessageTooNew: "messageTooNew", ThumbsMismatch: "thumbsMismatch",
	UnknownRRPID: "unknownRRPID", UnknownXID: "unknownXID", UnknownLID: "unknownLID",
	ChallengeMismatch: "challengeMismatch",
}

// Valid reports whether c is one of the defined codes.
func (c ErrorCode) Valid() bool {
	return c >= UnspecifiedFailure && int(c) < len(errorCodeNames)
}

// String returns the specification's name of c.
func (c ErrorCode) String() string {
	if c.Valid() {
		return errorCodeNames[c]
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// ErrorMsg ::= CHOICE { messageHeader [0] EXPLICIT MessageHeader,
// badWrapper [1] OCTET STRING (SIZE(1..20000)) }: what the Error answers —
// the header of a message that could be decoded, else (a prefix of) the raw
// bytes that could not. Exactly one field is set.
type ErrorMsg struct {
	MessageHeader *MessageHeader
	BadWrapper    []byte
}

const maxBadWrapper = 20000

func (v *ErrorMsg) add(b *cryptobyte.Builder) {
	switch {
	case v.MessageHeader != nil && v.BadWrapper == nil:
		addExplicit(b, 0, v.MessageHeader.add)
	case v.MessageHeader == nil && v.BadWrapper != nil:
		addOctetsBounded(b, der.Implicit(1), v.BadWrapper, "ErrorMsg", "badWrapper", 1, maxBadWrapper)
	default:
		failf(b, "ErrorMsg", "", "exactly one of messageHeader and badWrapper must be set")
	}
}

func (v *ErrorMsg) read(s *cryptobyte.String) error {
	const typ = "ErrorMsg"
	var out ErrorMsg
	switch {
	case nextIs(*s, der.Explicit(0)):
		inner, err := readExplicit(s, 0, typ, "messageHeader")
		if err != nil {
			return err
		}
		out.MessageHeader = new(MessageHeader)
		if err := out.MessageHeader.read(&inner); err != nil {
			return der.Wrap(typ, "messageHeader", err)
		}
		if err := expectEnd(inner, typ, "messageHeader"); err != nil {
			return err
		}
	default:
		bw, err := readOctetStringBounded(s, der.Implicit(1), typ, "badWrapper", 1, maxBadWrapper)
		if err != nil {
			return err
		}
		out.BadWrapper = bw
	}
	*v = out
	return nil
}

// ErrorTBS ::= SEQUENCE { errorCode ErrorCode, errorNonce Nonce, errorOID
// [0] OBJECT IDENTIFIER OPTIONAL, errorThumb [1] EXPLICIT CertThumb
// OPTIONAL, errorMsg [2] EXPLICIT ErrorMsg } (reconstructed). It is the
// unsigned error itself and the content of the signed one (setct-ErrorTBS).
type ErrorTBS struct {
	ErrorCode  ErrorCode
	ErrorNonce Nonce
	ErrorOID   asn1.ObjectIdentifier // optional: the offending extension or content type
	ErrorThumb *CertThumb            // optional: the offending certificate
	ErrorMsg   ErrorMsg

	raw []byte
}

// Raw returns the bytes t was decoded from.
func (t *ErrorTBS) Raw() []byte { return t.raw }

func (t *ErrorTBS) add(b *cryptobyte.Builder) {
	const typ = "ErrorTBS"
	if !t.ErrorCode.Valid() {
		failf(b, typ, "errorCode", "unknown code %d", int(t.ErrorCode))
		return
	}
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagEnumerated, int64(t.ErrorCode))
		t.ErrorNonce.add(b)
		if t.ErrorOID != nil {
			addOID(b, der.Implicit(0), t.ErrorOID)
		}
		addOptionalCertThumb(b, 1, t.ErrorThumb)
		addExplicit(b, 2, t.ErrorMsg.add)
	})
}

func (t *ErrorTBS) read(s *cryptobyte.String) error {
	const typ = "ErrorTBS"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := ErrorTBS{raw: raw}
	code, err := readIntRange(&seq, der.TagEnumerated, typ, "errorCode", int64(UnspecifiedFailure), int64(len(errorCodeNames)-1))
	if err != nil {
		return err
	}
	out.ErrorCode = ErrorCode(code)
	if err := out.ErrorNonce.read(&seq); err != nil {
		return der.Wrap(typ, "errorNonce", err)
	}
	if nextIs(seq, der.Implicit(0)) {
		if out.ErrorOID, err = readOID(&seq, der.Implicit(0), typ, "errorOID"); err != nil {
			return err
		}
	}
	if out.ErrorThumb, err = readOptionalCertThumb(&seq, 1, typ, "errorThumb"); err != nil {
		return err
	}
	inner, err := readExplicit(&seq, 2, typ, "errorMsg")
	if err != nil {
		return err
	}
	if err := out.ErrorMsg.read(&inner); err != nil {
		return der.Wrap(typ, "errorMsg", err)
	}
	if err := expectEnd(inner, typ, "errorMsg"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*t = out
	return nil
}

// Marshal returns the DER of t.
func (t *ErrorTBS) Marshal() ([]byte, error) { return marshal(t.add) }

// UnmarshalErrorTBS decodes an ErrorTBS.
func UnmarshalErrorTBS(b []byte) (*ErrorTBS, error) { return unmarshalNew[ErrorTBS](b, "ErrorTBS") }

// Error ::= CHOICE { signedError [0] EXPLICIT SignedError, unsignedError
// [1] EXPLICIT UnsignedError }, Message alternative [999]. SignedError is
// the ContentInfo DER of a SignedData over ErrorTBS (setct-ErrorTBS), built
// and checked by encap; UnsignedError is an ErrorTBS. Exactly one is set.
type Error struct {
	SignedError   []byte
	UnsignedError *ErrorTBS

	raw []byte
}

// Tag implements Message.
func (e *Error) Tag() uint32 { return TagError }

// Name implements Message.
func (e *Error) Name() string { return "Error" }

// Raw returns the bytes e was decoded from.
func (e *Error) Raw() []byte { return e.raw }

func (e *Error) add(b *cryptobyte.Builder) {
	switch {
	case e.SignedError != nil && e.UnsignedError == nil:
		addExplicit(b, 0, func(b *cryptobyte.Builder) {
			addContentInfoDER(b, e.SignedError, "Error", "signedError")
		})
	case e.SignedError == nil && e.UnsignedError != nil:
		addExplicit(b, 1, e.UnsignedError.add)
	default:
		failf(b, "Error", "", "exactly one of signedError and unsignedError must be set")
	}
}

func (e *Error) read(s *cryptobyte.String) error {
	const typ = "Error"
	el, err := der.ReadElement(s)
	if err != nil {
		return der.Wrap(typ, "", err)
	}
	out := Error{raw: el.Raw}
	inner := cryptobyte.String(el.Contents)
	switch el.Tag {
	case der.Explicit(0):
		if out.SignedError, err = readContentInfoDER(&inner, typ, "signedError"); err != nil {
			return err
		}
	case der.Explicit(1):
		out.UnsignedError = new(ErrorTBS)
		if err := out.UnsignedError.read(&inner); err != nil {
			return der.Wrap(typ, "unsignedError", err)
		}
	default:
		return der.Errorf(typ, "", "CHOICE alternative %s: %w", el.Tag, der.ErrUnexpected)
	}
	if err := expectEnd(inner, typ, ""); err != nil {
		return err
	}
	*e = out
	return nil
}

// Marshal returns the DER of e.
func (e *Error) Marshal() ([]byte, error) { return marshal(e.add) }

// UnmarshalError decodes an Error.
func UnmarshalError(b []byte) (*Error, error) { return unmarshalNew[Error](b, "Error") }
