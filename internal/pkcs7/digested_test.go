package pkcs7

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/setpay/setpay/internal/der"
)

func TestDigestRoundTrip(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		for _, mode := range []ContentMode{ModePKCS7, ModeCMS} {
			for _, detached := range []bool{false, true} {
				b, err := Digest(signedTestContentType, signedTestContent, h, mode, detached)
				if err != nil {
					t.Fatal(err)
				}
				dd, err := ParseDigestedData(b)
				if err != nil {
					t.Fatalf("%v %v detached=%v: %v", h, mode, detached, err)
				}
				wantVersion := map[ContentMode]int{ModePKCS7: 0, ModeCMS: 2}[mode]
				if dd.Version != wantVersion || dd.Mode != mode || !dd.ContentType.Equal(signedTestContentType) || !bytes.Equal(dd.Raw, b) {
					t.Errorf("%v %v: version %d mode %v type %v", h, mode, dd.Version, dd.Mode, dd.ContentType)
				}
				if got, _ := HashForAlgorithm(dd.DigestAlgorithm); got != h || dd.DigestAlgorithm.Parameters != nil {
					t.Errorf("digest algorithm %v %x", dd.DigestAlgorithm.Algorithm, dd.DigestAlgorithm.Parameters)
				}
				if detached != (dd.Content == nil) || (!detached && !bytes.Equal(dd.Content, signedTestContent)) {
					t.Errorf("content %x", dd.Content)
				}
				if err := dd.Check(signedTestContent); err != nil {
					t.Errorf("Check: %v", err)
				}
				other := bytes.Clone(signedTestContent)
				other[len(other)-1] ^= 1
				if err := dd.Check(other); !errors.Is(err, ErrDigestMismatch) {
					t.Errorf("Check of other content: %v", err)
				}
				if detached {
					if err := dd.Check(nil); !errors.Is(err, ErrDigestMismatch) {
						t.Errorf("Check without content: %v", err)
					}
				} else if err := dd.Check(nil); err != nil {
					t.Errorf("Check of attached content: %v", err)
				}
				// The digest itself changed.
				m := bytes.Clone(b)
				m[len(m)-1] ^= 1
				dd2, err := ParseDigestedData(m)
				if err != nil {
					t.Fatal(err)
				}
				if err := dd2.Check(signedTestContent); !errors.Is(err, ErrDigestMismatch) {
					t.Errorf("Check with a changed digest: %v", err)
				}
			}
		}
	}
}

// TestDigestEncoding pins the encodings byte for byte, built here from
// their parts: what is digested in each mode and where every byte goes.
func TestDigestEncoding(t *testing.T) {
	seq := func(parts ...string) string {
		b, _ := hex.DecodeString(strings.Join(parts, ""))
		return hex.EncodeToString(der.Encode(der.TagSequence, b))
	}
	explicit0 := func(s string) string {
		b, _ := hex.DecodeString(s)
		return hex.EncodeToString(der.Encode(der.Explicit(0), b))
	}
	const (
		oidDigestedData = "06092a864886f70d010705"
		oidPInitResData = "0604672a000c"
		sha1Alg         = "300706052b0e03021a"
		sha256Alg       = "300b0609608648016503040201"
		content         = "300e0c0568656c6c6f0201070402cafe"
	)
	sha1Contents := sha1.Sum(signedTestContent[2:]) // PKCS#7 §9.3: contents octets only
	sha256Whole := sha256.Sum256(signedTestContent)
	tests := []struct {
		mode     ContentMode
		h        crypto.Hash
		detached bool
		want     string
	}{
		{ModePKCS7, crypto.SHA1, true, seq(oidDigestedData, explicit0(seq("020100", sha1Alg, seq(oidPInitResData), "0414"+hex.EncodeToString(sha1Contents[:]))))},
		{ModePKCS7, crypto.SHA1, false, seq(oidDigestedData, explicit0(seq("020100", sha1Alg, seq(oidPInitResData, explicit0(content)), "0414"+hex.EncodeToString(sha1Contents[:]))))},
		{ModeCMS, crypto.SHA256, false, seq(oidDigestedData, explicit0(seq("020102", sha256Alg, seq(oidPInitResData, explicit0("0410"+content)), "0420"+hex.EncodeToString(sha256Whole[:]))))},
		{ModeCMS, crypto.SHA256, true, seq(oidDigestedData, explicit0(seq("020102", sha256Alg, seq(oidPInitResData), "0420"+hex.EncodeToString(sha256Whole[:]))))},
	}
	for _, tt := range tests {
		b, err := Digest(signedTestContentType, signedTestContent, tt.h, tt.mode, tt.detached)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != tt.want {
			t.Errorf("%v %v detached=%v:\n got %s\nwant %s", tt.mode, tt.h, tt.detached, got, tt.want)
		}
	}
}

// TestParseDigestedDataCryptlibTemplate reads SET's hashedRootKey shape as
// cryptlib writes it: version 0, SHA-1 with NULL parameters, content type
// rootKeyThumb with no content, a 20-byte digest.
func TestParseDigestedDataCryptlibTemplate(t *testing.T) {
	tmpl, _ := hex.DecodeString("302d020100300906052b0e03021a05003007" + "0605672a030000" + "0414" + strings.Repeat("ab", 20))
	ci, err := MarshalContentInfo(OIDDigestedData, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	dd, err := ParseDigestedData(ci)
	if err != nil {
		t.Fatal(err)
	}
	if dd.Mode != ModePKCS7 || dd.Content != nil || !dd.ContentType.Equal(asn1.ObjectIdentifier{2, 23, 42, 3, 0, 0}) ||
		!bytes.Equal(dd.DigestAlgorithm.Parameters, asn1.NullBytes) || len(dd.Digest) != 20 {
		t.Errorf("parsed %+v", dd)
	}
}

func TestDigestRejects(t *testing.T) {
	tests := []struct {
		name    string
		ct      asn1.ObjectIdentifier
		content []byte
		h       crypto.Hash
		mode    ContentMode
	}{
		{"md5", signedTestContentType, signedTestContent, crypto.MD5, ModeCMS},
		{"sha512", signedTestContentType, signedTestContent, crypto.SHA512, ModeCMS},
		{"no mode", signedTestContentType, signedTestContent, crypto.SHA256, 0},
		{"cms id-data", OIDData, signedTestContent, crypto.SHA256, ModeCMS},
		{"pkcs7 not DER", signedTestContentType, []byte("xyz"), crypto.SHA1, ModePKCS7},
		{"pkcs7 OCTET STRING", signedTestContentType, []byte{4, 0}, crypto.SHA1, ModePKCS7},
	}
	for _, tt := range tests {
		if b, err := Digest(tt.ct, tt.content, tt.h, tt.mode, true); err == nil {
			t.Errorf("%s: Digest succeeded: %x", tt.name, b)
		}
	}
	// id-data in PKCS#7 mode is the ordinary OCTET STRING Data.
	if _, err := Digest(OIDData, []byte{4, 1, 7}, crypto.SHA1, ModePKCS7, false); err != nil {
		t.Errorf("id-data: %v", err)
	}
}

func TestParseDigestedDataRejects(t *testing.T) {
	good, err := Digest(signedTestContentType, signedTestContent, crypto.SHA256, ModeCMS, false)
	if err != nil {
		t.Fatal(err)
	}
	build := func(parts ...[]byte) []byte {
		ci, err := MarshalContentInfo(OIDDigestedData, der.Encode(der.TagSequence, bytes.Join(parts, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return ci
	}
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sha256Alg := h("300b0609608648016503040201")
	encapCMS := h("301a" + "0604672a000c" + "a012" + "0410" + "300e0c0568656c6c6f0201070402cafe")
	encapAny := h("3016" + "0604672a000c" + "a010" + "300e0c0568656c6c6f0201070402cafe")
	digest := der.Encode(der.TagOctetString, make([]byte, 32))
	notDD, _ := MarshalContentInfo(OIDSignedData, []byte{0x30, 0})
	noContent, _ := MarshalContentInfo(OIDDigestedData, nil)

	if _, err := ParseDigestedData(build(h("020102"), sha256Alg, encapCMS, digest)); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	tests := map[string][]byte{
		"version 1":               build(h("020101"), sha256Alg, encapCMS, digest),
		"version 3":               build(h("020103"), sha256Alg, encapCMS, digest),
		"version 2 with ANY":      build(h("020102"), sha256Alg, encapAny, digest),
		"md5":                     build(h("020102"), h("300c06082a864886f70d02050500"), encapCMS, der.Encode(der.TagOctetString, make([]byte, 16))),
		"sha256 with parameters":  build(h("020102"), h("300d06096086480165030402010400"), encapCMS, digest),
		"short digest":            build(h("020102"), sha256Alg, encapCMS, der.Encode(der.TagOctetString, make([]byte, 20))),
		"digest not OCTET STRING": build(h("020102"), sha256Alg, encapCMS, der.Encode(der.TagBitString, make([]byte, 32))),
		"no digest":               build(h("020102"), sha256Alg, encapCMS),
		"trailing element":        build(h("020102"), sha256Alg, encapCMS, digest, h("0500")),
		"wrong content type":      notDD,
		"no content":              noContent,
		"trailing byte":           append(bytes.Clone(good), 0),
		"empty":                   {},
	}
	for name, b := range tests {
		if dd, err := ParseDigestedData(b); err == nil {
			t.Errorf("%s: parsed %+v", name, dd)
		}
	}
	for i := range good {
		if _, err := ParseDigestedData(good[:i]); err == nil {
			t.Fatalf("truncated to %d bytes parsed", i)
		}
	}
	count := 0
	signedTestReencode(good, -1, &count)
	for i := 0; i < count; i++ {
		c := 0
		if _, err := ParseDigestedData(signedTestReencode(good, i, &c)); !errors.Is(err, der.ErrNonMinimal) {
			t.Errorf("element %d with a long-form length: %v", i, err)
		}
	}
}

func FuzzParseDigestedData(f *testing.F) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		for _, mode := range []ContentMode{ModePKCS7, ModeCMS} {
			for _, detached := range []bool{false, true} {
				b, err := Digest(signedTestContentType, signedTestContent, h, mode, detached)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dd, err := ParseDigestedData(b)
		if err != nil {
			return
		}
		if !bytes.Equal(dd.Raw, b) {
			t.Error("Raw is not the input")
		}
		_ = dd.Check(nil)
		_ = dd.Check(signedTestContent)
		// What parses and checks must be reproducible by Digest.
		if dd.Content != nil && dd.Check(nil) == nil {
			h, _ := HashForAlgorithm(dd.DigestAlgorithm)
			again, err := Digest(dd.ContentType, dd.Content, h, dd.Mode, false)
			if err != nil {
				t.Fatalf("Digest of parsed content: %v", err)
			}
			dd2, err := ParseDigestedData(again)
			if err != nil || !bytes.Equal(dd2.Digest, dd.Digest) {
				t.Errorf("digest differs after re-encoding: %v", err)
			}
		}
	})
}
