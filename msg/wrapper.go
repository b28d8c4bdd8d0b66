package msg

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// Message is one alternative of the Message CHOICE carried by a
// MessageWrapper. Tag is the alternative's context tag number ([0]
// PInitReq … [31] CertInqRes, [999] Error).
type Message interface {
	Tag() uint32
	Name() string
	Marshal() ([]byte, error)
}

// Context tag numbers of the Message CHOICE. [0] and [1] are verbatim; the
// rest follow the order in which SetMessage IMPORTS the messages (see
// docs/spec-gaps.md).
const (
	TagPInitReq      uint32 = 0
	TagPInitRes      uint32 = 1
	TagPReq          uint32 = 2
	TagPRes          uint32 = 3
	TagInqReq        uint32 = 4
	TagInqRes        uint32 = 5
	TagAuthReq       uint32 = 6
	TagAuthRes       uint32 = 7
	TagAuthRevReq    uint32 = 8
	TagAuthRevRes    uint32 = 9
	TagCapReq        uint32 = 10
	TagCapRes        uint32 = 11
	TagCapRevReq     uint32 = 12
	TagCapRevRes     uint32 = 13
	TagCredReq       uint32 = 14
	TagCredRes       uint32 = 15
	TagCredRevReq    uint32 = 16
	TagCredRevRes    uint32 = 17
	TagPCertReq      uint32 = 18
	TagPCertRes      uint32 = 19
	TagBatchAdminReq uint32 = 20
	TagBatchAdminRes uint32 = 21
	TagCardCInitReq  uint32 = 22
	TagCardCInitRes  uint32 = 23
	TagMeAqCInitReq  uint32 = 24
	TagMeAqCInitRes  uint32 = 25
	TagRegFormReq    uint32 = 26
	TagRegFormRes    uint32 = 27
	TagCertReq       uint32 = 28
	TagCertRes       uint32 = 29
	TagCertInqReq    uint32 = 30
	TagCertInqRes    uint32 = 31
	TagError         uint32 = 999
)

var messageNames = map[uint32]string{
	TagPInitReq: "PInitReq", TagPInitRes: "PInitRes", TagPReq: "PReq", TagPRes: "PRes",
	TagInqReq: "InqReq", TagInqRes: "InqRes", TagAuthReq: "AuthReq", TagAuthRes: "AuthRes",
	TagAuthRevReq: "AuthRevReq", TagAuthRevRes: "AuthRevRes", TagCapReq: "CapReq", TagCapRes: "CapRes",
	TagCapRevReq: "CapRevReq", TagCapRevRes: "CapRevRes", TagCredReq: "CredReq", TagCredRes: "CredRes",
	TagCredRevReq: "CredRevReq", TagCredRevRes: "CredRevRes", TagPCertReq: "PCertReq", TagPCertRes: "PCertRes",
	TagBatchAdminReq: "BatchAdminReq", TagBatchAdminRes: "BatchAdminRes",
	TagCardCInitReq: "CardCInitReq", TagCardCInitRes: "CardCInitRes",
	TagMeAqCInitReq: "Me-AqCInitReq", TagMeAqCInitRes: "Me-AqCInitRes",
	TagRegFormReq: "RegFormReq", TagRegFormRes: "RegFormRes", TagCertReq: "CertReq", TagCertRes: "CertRes",
	TagCertInqReq: "CertInqReq", TagCertInqRes: "CertInqRes", TagError: "Error",
}

// MessageName returns the specification's name for a Message CHOICE tag,
// or "" for a tag the CHOICE does not have.
func MessageName(tag uint32) string { return messageNames[tag] }

// messageDecoders holds a decoder per implemented Message alternative.
// Files that implement further messages add theirs in an init function
// (registerMessage), so the table always lists exactly what compiles.
var messageDecoders = map[uint32]func([]byte) (Message, error){
	TagPInitReq: func(b []byte) (Message, error) { return UnmarshalPInitReq(b) },
	TagPInitRes: func(b []byte) (Message, error) { return UnmarshalPInitRes(b) },
	TagPReq:     func(b []byte) (Message, error) { return UnmarshalPReq(b) },
	TagPRes:     func(b []byte) (Message, error) { return UnmarshalPRes(b) },
	TagError:    func(b []byte) (Message, error) { return UnmarshalError(b) },
}

// registerMessage adds the decoder of an implemented Message alternative.
func registerMessage(tag uint32, dec func([]byte) (Message, error)) {
	messageDecoders[tag] = dec
}

// ErrUnsupportedMessage is wrapped when a MessageWrapper carries a Message
// alternative this implementation knows by tag but does not implement; a
// party answers it with ErrorCode messageNotSupported.
var ErrUnsupportedMessage = errors.New("message type not supported")

// ErrUnsupportedVersion is wrapped for a MessageHeader version or revision
// other than SET 1.0.
var ErrUnsupportedVersion = errors.New("unsupported SET version")

// MessageIDs ::= SEQUENCE { lid-C [0] LocalID OPTIONAL, lid-M [1] LocalID
// OPTIONAL, xID [2] XID OPTIONAL } (verbatim). nil fields are absent.
type MessageIDs struct {
	LIDC []byte
	LIDM []byte
	XID  *XID
}

func (v *MessageIDs) addAs(b *cryptobyte.Builder, t der.Tag) {
	const typ = "MessageIDs"
	addTagged(b, t, func(b *cryptobyte.Builder) {
		addOptionalOctets(b, der.Implicit(0), v.LIDC, typ, "lid-C", 1, maxLocalID)
		addOptionalOctets(b, der.Implicit(1), v.LIDM, typ, "lid-M", 1, maxLocalID)
		if v.XID != nil {
			addOctets(b, der.Implicit(2), v.XID[:])
		}
	})
}

func (v *MessageIDs) readAs(s *cryptobyte.String, t der.Tag) error {
	const typ = "MessageIDs"
	seq, _, err := readSequenceAs(s, t, typ)
	if err != nil {
		return err
	}
	var out MessageIDs
	if out.LIDC, err = readOptionalOctets(&seq, der.Implicit(0), typ, "lid-C", 1, maxLocalID); err != nil {
		return err
	}
	if out.LIDM, err = readOptionalOctets(&seq, der.Implicit(1), typ, "lid-M", 1, maxLocalID); err != nil {
		return err
	}
	if nextIs(seq, der.Implicit(2)) {
		x, err := readOctets20(&seq, der.Implicit(2), typ, "xID")
		if err != nil {
			return err
		}
		xid := XID(x)
		out.XID = &xid
	}
	*v = out
	return expectEnd(seq, typ, "")
}

// MessageHeader ::= SEQUENCE { version INTEGER { setVer1(1) } (setVer1),
// revision INTEGER (0) DEFAULT 0, date Date, messageIDs [0] MessageIDs
// OPTIONAL, rrpid [1] RRPID OPTIONAL, swIdent SWIdent } (verbatim). Version
// and revision are fixed at 1.0: they are written by Marshal and checked by
// Unmarshal, so they have no fields.
type MessageHeader struct {
	Date       time.Time
	MessageIDs *MessageIDs // optional
	RRPID      *RRPID      // optional
	SWIdent    string

	raw []byte
}

// Raw returns the bytes h was decoded from.
func (h *MessageHeader) Raw() []byte { return h.raw }

func (h *MessageHeader) add(b *cryptobyte.Builder) {
	addSequence(b, func(b *cryptobyte.Builder) {
		addInt64(b, der.TagInteger, 1) // setVer1; revision 0 is the DEFAULT, so omitted
		addDate(b, h.Date)
		if h.MessageIDs != nil {
			h.MessageIDs.addAs(b, der.Explicit(0)) // IMPLICIT [0] on a SEQUENCE: constructed
		}
		if h.RRPID != nil {
			addOctets(b, der.Implicit(1), h.RRPID[:])
		}
		addVisibleString(b, der.TagVisibleString, h.SWIdent, "MessageHeader", "swIdent", 1, maxSWIdent)
	})
}

func (h *MessageHeader) read(s *cryptobyte.String) error {
	const typ = "MessageHeader"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	var out MessageHeader
	out.raw = raw
	ver, err := readInt64(&seq, der.TagInteger, typ, "version")
	if err != nil {
		return err
	}
	if ver != 1 {
		return der.Errorf(typ, "version", "%d: %w", ver, ErrUnsupportedVersion)
	}
	if nextIs(seq, der.TagInteger) {
		rev, err := readInt64(&seq, der.TagInteger, typ, "revision")
		if err != nil {
			return err
		}
		if rev == 0 {
			return der.Errorf(typ, "revision", "DEFAULT 0 encoded: %w", der.ErrInvalid)
		}
		return der.Errorf(typ, "revision", "%d: %w", rev, ErrUnsupportedVersion)
	}
	if out.Date, err = readDate(&seq, typ, "date"); err != nil {
		return err
	}
	if nextIs(seq, der.Explicit(0)) {
		out.MessageIDs = new(MessageIDs)
		if err := out.MessageIDs.readAs(&seq, der.Explicit(0)); err != nil {
			return der.Wrap(typ, "messageIDs", err)
		}
	}
	if nextIs(seq, der.Implicit(1)) {
		r, err := readOctets20(&seq, der.Implicit(1), typ, "rrpid")
		if err != nil {
			return err
		}
		rr := RRPID(r)
		out.RRPID = &rr
	}
	if out.SWIdent, err = readVisibleString(&seq, typ, "swIdent", 1, maxSWIdent); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*h = out
	return nil
}

// Marshal returns the DER of h.
func (h *MessageHeader) Marshal() ([]byte, error) { return marshal(h.add) }

// UnmarshalMessageHeader decodes a MessageHeader.
func UnmarshalMessageHeader(b []byte) (*MessageHeader, error) {
	return unmarshalNew[MessageHeader](b, "MessageHeader")
}

// MessageWrapper ::= SEQUENCE { messageHeader MessageHeader, message [0]
// EXPLICIT MESSAGE.&Type (Message), mwExtensions [1] MsgExtensions
// OPTIONAL } (verbatim): the outer form of every SET message on the wire.
type MessageWrapper struct {
	Header     MessageHeader
	Message    Message       // nil only in the wrapper returned with ErrUnsupportedMessage
	Extensions MsgExtensions // mwExtensions; nil when absent

	messageTag uint32
	messageRaw []byte
	raw        []byte
}

// Raw returns the bytes w was decoded from.
func (w *MessageWrapper) Raw() []byte { return w.raw }

// MessageTag returns the Message CHOICE tag that was decoded.
func (w *MessageWrapper) MessageTag() uint32 { return w.messageTag }

// MessageRaw returns the DER of the inner message (inside its CHOICE tag)
// as received: the bytes a hash over "the message" covers.
func (w *MessageWrapper) MessageRaw() []byte { return w.messageRaw }

// Wrap encodes m inside a MessageWrapper with header h.
func Wrap(h *MessageHeader, m Message) ([]byte, error) {
	if h == nil {
		return nil, der.Errorf("MessageWrapper", "messageHeader", "missing")
	}
	w := &MessageWrapper{Header: *h, Message: m}
	return w.Marshal()
}

// Marshal returns the DER of w.
func (w *MessageWrapper) Marshal() ([]byte, error) {
	const typ = "MessageWrapper"
	if w.Message == nil {
		return nil, der.Errorf(typ, "message", "missing")
	}
	if _, ok := messageNames[w.Message.Tag()]; !ok {
		return nil, der.Errorf(typ, "message", "tag [%d] is not a Message alternative", w.Message.Tag())
	}
	inner, err := w.Message.Marshal()
	if err != nil {
		return nil, der.Wrap(typ, "message", err)
	}
	return marshal(func(b *cryptobyte.Builder) {
		addSequence(b, func(b *cryptobyte.Builder) {
			w.Header.add(b)
			addExplicit(b, 0, func(b *cryptobyte.Builder) {
				addExplicit(b, w.Message.Tag(), func(b *cryptobyte.Builder) {
					addRawElement(b, inner, typ, "message")
				})
			})
			addOptionalExtensions(b, 1, w.Extensions)
		})
	})
}

// UnmarshalMessageWrapper decodes a MessageWrapper and the Message inside
// it. For a Message alternative that exists in SET but is not implemented
// here it returns the wrapper (header, tag and raw message filled in,
// Message nil) together with an error wrapping ErrUnsupportedMessage, so the
// caller can answer with an Error naming the header.
func UnmarshalMessageWrapper(b []byte) (*MessageWrapper, error) {
	const typ = "MessageWrapper"
	w := new(MessageWrapper)
	var unsupported error
	err := unmarshal(b, typ, func(s *cryptobyte.String) error {
		seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
		if err != nil {
			return err
		}
		w.raw = raw
		if err := w.Header.read(&seq); err != nil {
			return der.Wrap(typ, "messageHeader", err)
		}
		outer, err := readExplicit(&seq, 0, typ, "message")
		if err != nil {
			return err
		}
		choice, err := der.ReadElement(&outer)
		if err != nil {
			return der.Wrap(typ, "message", err)
		}
		if err := expectEnd(outer, typ, "message"); err != nil {
			return err
		}
		if choice.Tag.Class != der.ClassContextSpecific || !choice.Tag.Constructed {
			return der.Errorf(typ, "message", "%s is not a Message alternative: %w", choice.Tag, der.ErrUnexpected)
		}
		tag := choice.Tag.Number
		name, known := messageNames[tag]
		if !known {
			return der.Errorf(typ, "message", "%s is not a Message alternative: %w", choice.Tag, der.ErrUnexpected)
		}
		inner, err := der.Parse(choice.Contents)
		if err != nil {
			return der.Wrap(typ, name, err)
		}
		w.messageTag = tag
		w.messageRaw = inner.Raw
		// mwExtensions come before deciding on the message, so an
		// unsupported message still yields a fully checked wrapper.
		if w.Extensions, err = readOptionalExtensions(&seq, 1, typ, "mwExtensions"); err != nil {
			return err
		}
		if err := expectEnd(seq, typ, ""); err != nil {
			return err
		}
		dec, ok := messageDecoders[tag]
		if !ok {
			unsupported = der.Errorf(typ, "message", "%s [%d]: %w", name, tag, ErrUnsupportedMessage)
			return nil
		}
		if w.Message, err = dec(inner.Raw); err != nil {
			return der.Wrap(typ, "message", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if unsupported != nil {
		return w, unsupported
	}
	return w, nil
}

// String summarises the wrapper for logs (never the message contents).
func (w *MessageWrapper) String() string {
	name := MessageName(w.messageTag)
	if w.Message != nil {
		name = w.Message.Name()
	}
	if name == "" {
		name = "[" + strconv.FormatUint(uint64(w.messageTag), 10) + "]"
	}
	return fmt.Sprintf("MessageWrapper{%s, %d bytes, date %s}", name, len(w.raw), w.Header.Date.Format(time.RFC3339))
}
