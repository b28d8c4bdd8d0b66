package msg

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

func pWrapped(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := Wrap(pHeader(true), m)
	if err != nil {
		t.Fatalf("Wrap(%s): %v", m.Name(), err)
	}
	return b
}

func TestWrapperRoundTrip(t *testing.T) {
	msgs := []Message{
		pPInitReq(true), &PInitRes{SignedData: pCI(pkcs7.OIDSignedData, 50, 1)},
		pPReqDual(true), pPReqUnsigned(false), &PRes{SignedData: pCI(pkcs7.OIDSignedData, 50, 2)},
		pErrorMsg(true), pErrorMsg(false), &Error{SignedError: pCI(pkcs7.OIDSignedData, 40, 3)},
	}
	for _, m := range msgs {
		t.Run(m.Name(), func(t *testing.T) {
			b := pWrapped(t, m)
			w, err := UnmarshalMessageWrapper(b)
			if err != nil {
				t.Fatal(err)
			}
			if w.MessageTag() != m.Tag() || w.Message.Tag() != m.Tag() {
				t.Fatalf("tag %d, want %d", w.MessageTag(), m.Tag())
			}
			inner, _ := m.Marshal()
			if !bytes.Equal(w.MessageRaw(), inner) || !bytes.Equal(w.Raw(), b) {
				t.Error("raw bytes not kept")
			}
			if !equalIgnoringRaw(m, w.Message) {
				t.Errorf("message differs after round trip")
			}
			re, err := w.Marshal()
			if err != nil || !bytes.Equal(re, b) {
				t.Errorf("re-encoding differs (err %v)", err)
			}
			if !w.Header.Date.Equal(pDate) || w.Header.RRPID == nil || w.Header.MessageIDs.XID == nil {
				t.Errorf("header lost: %+v", w.Header)
			}
			for i := range b {
				if _, err := UnmarshalMessageWrapper(b[:i]); err == nil {
					t.Fatalf("truncated to %d decoded", i)
				}
			}
		})
	}
}

func TestWrapperErrorTag999(t *testing.T) {
	b := pWrapped(t, pErrorMsg(true))
	// [0] EXPLICIT { [999] EXPLICIT ... } : 0xbf 0x87 0x67 is [999] constructed.
	if !bytes.Contains(b, []byte{0xbf, 0x87, 0x67}) {
		t.Fatalf("no high-tag-number [999] in %x", b)
	}
	w, err := UnmarshalMessageWrapper(b)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := w.Message.(*Error)
	if !ok || e.UnsignedError.ErrorCode != UnknownXID || e.UnsignedError.ErrorMsg.MessageHeader == nil {
		t.Fatalf("got %#v", w.Message)
	}
	if UnknownXID.String() != "unknownXID" || ErrorCode(99).String() != "ErrorCode(99)" || DecodingFailure.String() != "decodingFailure" {
		t.Error("ErrorCode.String")
	}
}

func TestWrapperExtensions(t *testing.T) {
	w := &MessageWrapper{Header: *pHeader(false), Message: pPInitReq(false), Extensions: pExts()}
	b, err := w.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalMessageWrapper(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Extensions) != 2 || !got.Extensions[1].Critical {
		t.Errorf("extensions lost: %+v", got.Extensions)
	}
}

// pRewrap builds a wrapper by hand around arbitrary header and message DER.
func pRewrap(header []byte, tag uint32, inner []byte) []byte {
	b, _ := marshal(func(b *cryptobyte.Builder) {
		addSequence(b, func(b *cryptobyte.Builder) {
			b.AddBytes(header)
			addExplicit(b, 0, func(b *cryptobyte.Builder) {
				addExplicit(b, tag, func(b *cryptobyte.Builder) { b.AddBytes(inner) })
			})
		})
	})
	return b
}

func TestWrapperRejects(t *testing.T) {
	hdr, _ := pHeader(false).Marshal()
	inner, _ := pPInitReq(false).Marshal()
	if _, err := UnmarshalMessageWrapper(pRewrap(hdr, 0, inner)); err != nil {
		t.Fatalf("hand-built wrapper rejected: %v", err)
	}
	// version 2 / revision 1 / revision 0 encoded explicitly.
	v2 := bytes.Clone(hdr)
	v2[4] = 2 // SEQUENCE hdr (2 bytes), INTEGER tag+len (2), value
	rev1 := der.Encode(der.TagSequence, append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, hdr[5:]...))
	rev0 := der.Encode(der.TagSequence, append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00}, hdr[5:]...))
	for name, h := range map[string][]byte{"version 2": v2, "revision 1": rev1} {
		_, err := UnmarshalMessageWrapper(pRewrap(h, 0, inner))
		if !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("%s: got %v, want ErrUnsupportedVersion", name, err)
		}
	}
	if _, err := UnmarshalMessageWrapper(pRewrap(rev0, 0, inner)); err == nil {
		t.Error("DEFAULT revision 0 encoded: accepted")
	}
	// Message in the wrong alternative: PInitReq bytes under [2] PReq.
	if _, err := UnmarshalMessageWrapper(pRewrap(hdr, 2, inner)); err == nil {
		t.Error("PInitReq under the PReq tag decoded")
	}
	// A tag the CHOICE does not have.
	if _, err := UnmarshalMessageWrapper(pRewrap(hdr, 32, inner)); err == nil || errors.Is(err, ErrUnsupportedMessage) {
		t.Errorf("tag [32]: got %v, want a decoding error", err)
	}
	// Trailing bytes after the wrapper and inside [0].
	good := pRewrap(hdr, 0, inner)
	if _, err := UnmarshalMessageWrapper(append(bytes.Clone(good), 0)); !errors.Is(err, der.ErrTrailingData) {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := UnmarshalMessageWrapper(pRewrap(hdr, 0, append(bytes.Clone(inner), 0x05, 0x00))); err == nil {
		t.Error("two elements inside the message CHOICE decoded")
	}
}

func TestWrapperUnsupported(t *testing.T) {
	hdr, _ := pHeader(true).Marshal()
	for _, tag := range []uint32{TagInqReq, TagCertInqRes, TagBatchAdminRes} {
		if _, ok := messageDecoders[tag]; ok {
			continue // implemented by now
		}
		w, err := UnmarshalMessageWrapper(pRewrap(hdr, tag, []byte{0x30, 0x00}))
		if !errors.Is(err, ErrUnsupportedMessage) {
			t.Fatalf("tag %d: got %v, want ErrUnsupportedMessage", tag, err)
		}
		if w == nil || w.Message != nil || w.MessageTag() != tag || w.Header.RRPID == nil {
			t.Fatalf("tag %d: wrapper not returned with header: %+v", tag, w)
		}
	}
}

func TestMessageNames(t *testing.T) {
	if len(messageNames) != 33 || MessageName(TagCertInqRes) != "CertInqRes" || MessageName(TagError) != "Error" || MessageName(40) != "" {
		t.Error("Message CHOICE names")
	}
	for tag := range messageDecoders {
		if MessageName(tag) == "" {
			t.Errorf("decoder for unknown tag %d", tag)
		}
	}
}

func FuzzUnmarshalMessageWrapper(f *testing.F) {
	for _, m := range []Message{pPInitReq(true), pPReqDual(true), pPReqUnsigned(false), pErrorMsg(true), &PRes{SignedData: pCI(pkcs7.OIDSignedData, 20, 1)}} {
		f.Add(pWrapped(f, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalMessageWrapper) })
}
