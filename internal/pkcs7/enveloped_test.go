package pkcs7

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"testing"

	"github.com/setpay/setpay/internal/der"
)

// envSETType stands in for a SET content type OID (2.23.42 arc).
var envSETType = asn1.ObjectIdentifier{2, 23, 42, 0, 99}

// envPANData is a ~100-byte DER value shaped like PANData
// {PAN, CardExpiry, PANSecret, EXNonce}.
func envPANData() []byte {
	b, err := asn1.Marshal(struct {
		PAN        string `asn1:"numeric"`
		CardExpiry string `asn1:"numeric"`
		PANSecret  []byte
		EXNonce    []byte
	}{"4111111111111111111", "202912", bytes.Repeat([]byte{0x5a}, 32), bytes.Repeat([]byte{0xa5}, 32)})
	if err != nil {
		panic(err)
	}
	return b
}

func TestEnvelopeSETRoundTrip(t *testing.T) {
	rsa1024, rsa2048, _, _, _ := envParties(t)
	content := []byte("\x30\x0b\x0c\x09PInitReq!")
	shortExtra := []byte{0x04, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, party := range []struct {
		name string
		p    envRSAParty
	}{{"rsa1024", rsa1024}, {"rsa2048", rsa2048}} {
		for _, cipher := range []ContentCipher{CipherDESCBC, CipherDESEDE3CBC} {
			for _, op := range []struct {
				name  string
				hash  bool
				extra []byte
				bc    BlockContents
			}{
				{"E", false, nil, BlockE},
				{"EH", true, nil, BlockEH},
				{"EX", false, shortExtra, BlockEX},
				{"EXH", true, shortExtra, BlockEXH},
			} {
				t.Run(fmt.Sprintf("%s/%d/%s", party.name, cipher, op.name), func(t *testing.T) {
					env, err := EnvelopeSET(rand.Reader, envSETType, content, []KeyTransRecipient{party.p.recipient()},
						EnvelopeSETOptions{Cipher: cipher, HashContent: op.hash, Extra: op.extra})
					if err != nil {
						t.Fatal(err)
					}
					ed, err := ParseEnvelopedData(env)
					if err != nil {
						t.Fatal(err)
					}
					if !ed.ContentType.Equal(envSETType) || ed.Version != 0 || len(ed.Recipients) != 1 {
						t.Fatalf("parsed %+v", ed)
					}
					got, extra, bc, err := ed.OpenSETBlock(party.p.cert, party.p.key)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, content) || !bytes.Equal(extra, op.extra) || bc != op.bc {
						t.Fatalf("got %q extra %x bc %d", got, extra, bc)
					}
				})
			}
		}
	}
}

func TestEnvelopeSETPANDataFits2048(t *testing.T) {
	rsa1024, rsa2048, _, _, _ := envParties(t)
	pan := envPANData()
	if len(pan) < 90 {
		t.Fatalf("PANData stand-in is only %d bytes", len(pan))
	}
	opts := EnvelopeSETOptions{Cipher: CipherDESEDE3CBC, HashContent: true, Extra: pan}
	env, err := EnvelopeSET(rand.Reader, envSETType, []byte("PI"), []KeyTransRecipient{rsa2048.recipient()}, opts)
	if err != nil {
		t.Fatalf("%d-byte PANData should fit RSA-2048: %v", len(pan), err)
	}
	ed, err := ParseEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	_, extra, err := ed.OpenSET(rsa2048.cert, rsa2048.key)
	if err != nil || !bytes.Equal(extra, pan) {
		t.Fatalf("extra %x, %v", extra, err)
	}
	_, err = EnvelopeSET(rand.Reader, envSETType, []byte("PI"), []KeyTransRecipient{rsa1024.recipient()}, opts)
	if !errors.Is(err, ErrExtraTooLong) {
		t.Fatalf("RSA-1024 with %d bytes of extra: err = %v, want ErrExtraTooLong", len(pan), err)
	}
}

func TestEnvelopeSETMultipleRecipients(t *testing.T) {
	rsa1024, rsa2048, other, _, _ := envParties(t)
	content := []byte("two recipients")
	env, err := EnvelopeSET(rand.Reader, envSETType, content, []KeyTransRecipient{rsa2048.recipient(), rsa1024.recipient()},
		EnvelopeSETOptions{Cipher: CipherDESCBC, HashContent: true})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ParseEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []envRSAParty{rsa1024, rsa2048} {
		got, _, err := ed.OpenSET(p.cert, p.key)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("open: %q, %v", got, err)
		}
	}
	if _, _, err := ed.OpenSET(other.cert, other.key); !errors.Is(err, ErrNoRecipient) {
		t.Fatalf("stranger: err = %v, want ErrNoRecipient", err)
	}
}

func TestOpenSETWrongKey(t *testing.T) {
	rsa1024, _, other, _, _ := envParties(t)
	env, err := EnvelopeSET(rand.Reader, envSETType, []byte("secret"), []KeyTransRecipient{rsa1024.recipient()},
		EnvelopeSETOptions{Cipher: CipherDESCBC})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ParseEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	// Right certificate, wrong private key (same modulus size).
	if _, _, err := ed.OpenSET(rsa1024.cert, other.key); !errors.Is(err, ErrDecryption) {
		t.Fatalf("err = %v, want ErrDecryption", err)
	}
}

func TestEnvelopeSETRejectsBadInput(t *testing.T) {
	rsa1024, _, _, _, _ := envParties(t)
	if _, err := EnvelopeSET(rand.Reader, envSETType, nil, nil, EnvelopeSETOptions{Cipher: CipherDESCBC}); err == nil {
		t.Error("no recipients accepted")
	}
	if _, err := EnvelopeSET(rand.Reader, envSETType, nil, []KeyTransRecipient{rsa1024.recipient()}, EnvelopeSETOptions{}); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("zero cipher: err = %v", err)
	}
	if _, err := EnvelopeSET(rand.Reader, envSETType, nil, []KeyTransRecipient{{Cert: []byte{0x30, 0}, Key: &rsa1024.key.PublicKey}}, EnvelopeSETOptions{Cipher: CipherDESCBC}); err == nil {
		t.Error("malformed certificate accepted")
	}
	if _, err := EnvelopeSET(rand.Reader, envSETType, nil, []KeyTransRecipient{{Cert: rsa1024.cert}}, EnvelopeSETOptions{Cipher: CipherDESCBC}); err == nil {
		t.Error("nil key accepted")
	}
}

func envRecordedSET(t *testing.T) []byte {
	_, rsa2048, _, _, _ := envParties(t)
	return envRecorded(t, "env-set1-exh-3des.der", func() ([]byte, error) {
		return EnvelopeSET(rand.Reader, envSETType, []byte("\x30\x06\x04\x04OI!!"), []KeyTransRecipient{rsa2048.recipient()},
			EnvelopeSETOptions{Cipher: CipherDESEDE3CBC, HashContent: true, Extra: envPANData()})
	})
}

func TestRecordedEnvelopedData(t *testing.T) {
	_, rsa2048, _, _, _ := envParties(t)
	env := envRecordedSET(t)
	ed, err := ParseEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	content, extra, bc, err := ed.OpenSETBlock(rsa2048.cert, rsa2048.key)
	if err != nil {
		t.Fatal(err)
	}
	if string(content) != "\x30\x06\x04\x04OI!!" || !bytes.Equal(extra, envPANData()) || bc != BlockEXH {
		t.Fatalf("content %q extra %x bc %d", content, extra, bc)
	}
	if !bytes.Equal(ed.Raw, env[len(env)-len(ed.Raw):]) {
		t.Fatal("Raw is not the EnvelopedData bytes")
	}

	// Truncation at every byte is a decoding error.
	for n := 0; n < len(env); n++ {
		if _, err := ParseEnvelopedData(env[:n]); err == nil {
			t.Fatalf("truncation to %d bytes accepted", n)
		}
	}
	if _, err := ParseEnvelopedData(append(bytes.Clone(env), 0)); !errors.Is(err, der.ErrTrailingData) {
		t.Fatalf("trailing byte: err = %v", err)
	}

	// A flipped byte anywhere either fails to parse or open, or leaves the
	// content intact and changes only the unauthenticated content type
	// label (SET messages carry their own type inside the content).
	for i := range env {
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		ed2, err := ParseEnvelopedData(bad)
		if err != nil {
			continue
		}
		got, gotExtra, err := ed2.OpenSET(rsa2048.cert, rsa2048.key)
		if err != nil {
			continue
		}
		if !bytes.Equal(got, content) || !bytes.Equal(gotExtra, extra) || ed2.ContentType.Equal(ed.ContentType) {
			t.Fatalf("flip at byte %d went unnoticed", i)
		}
	}
}

// Flips in the fields that carry secrets must always be caught when the
// block carries the content hash (EH/EXH).
func TestOpenSETDetectsTampering(t *testing.T) {
	_, rsa2048, _, _, _ := envParties(t)
	env := envRecordedSET(t)
	ed, err := ParseEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string][]byte{
		"encryptedContent": ed.EncryptedContent,
		"encryptedKey":     ed.Recipients[0].EncryptedKey,
		"iv":               ed.ContentEncryptionAlgorithm.Parameters[2:],
	}
	for name, field := range fields {
		for i := range field {
			for _, bit := range []byte{0x01, 0x80} {
				field[i] ^= bit
				_, _, err := ed.OpenSET(rsa2048.cert, rsa2048.key)
				field[i] ^= bit
				if !errors.Is(err, ErrDecryption) {
					t.Fatalf("%s byte %d bit %#x: err = %v", name, i, bit, err)
				}
			}
		}
	}
}

func TestParseEnvelopedDataRejects(t *testing.T) {
	env := envRecordedSET(t)
	ed, err := ParseEnvelopedData(env)
	if err != nil {
		t.Fatal(err)
	}
	ri := ed.Recipients[0].Raw
	replace := func(old, new []byte) []byte {
		t.Helper()
		if bytes.Count(env, old) != 1 {
			t.Fatalf("pattern %x not unique", old)
		}
		return bytes.Replace(env, old, new, 1)
	}
	for _, tc := range []struct {
		name  string
		input []byte
		field string
	}{
		{"wrong content type", func() []byte { b, _ := MarshalContentInfo(OIDData, ed.Raw); return b }(), "contentType"},
		{"no content", func() []byte { b, _ := MarshalContentInfo(OIDEnvelopedData, nil); return b }(), "content"},
		{"version 1", func() []byte {
			b := bytes.Clone(env)
			b[bytes.Index(b, []byte{0x02, 0x01, 0x00, 0x31})+2] = 1
			return b
		}(), "version"},
		{"ri version 2", replace(ri[:7], append(bytes.Clone(ri[:6]), 2)), "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEnvelopedData(tc.input)
			if de := envInnermostDERError(err); de == nil || de.Field != tc.field {
				t.Fatalf("err = %v, want a der.Error on field %q", err, tc.field)
			}
		})
	}
}

func FuzzParseEnvelopedData(f *testing.F) {
	f.Add(envRecordedSETSeed(f))
	_, rsa2048, _, _, _ := envParties(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ed, err := ParseEnvelopedData(b)
		if err != nil {
			return
		}
		if len(ed.Recipients) == 0 || ed.Version != 0 || ed.Raw == nil {
			t.Fatalf("accepted inconsistent %+v", ed)
		}
		// Opening must never panic, whatever the fields say.
		_, _, _ = ed.OpenSET(rsa2048.cert, rsa2048.key)
	})
}

func envRecordedSETSeed(f *testing.F) []byte {
	b, err := envReadTestdata("env-set1-exh-3des.der")
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// envInnermostDERError finds the der.Error closest to the failure.
func envInnermostDERError(err error) *der.Error {
	var found *der.Error
	for err != nil {
		if de, ok := err.(*der.Error); ok {
			found = de
		}
		err = errors.Unwrap(err)
	}
	return found
}
