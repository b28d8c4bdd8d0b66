package pkcs7

import (
	"bytes"
	"crypto"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// DigestedData versions: 0 in PKCS#7 v1.5; RFC 5652 §7 makes it 2 when the
// encapsulated content type is not id-data.
const (
	digestedDataVersionPKCS7 = 0
	digestedDataVersionCMS   = 2
)

// DigestedData is a decoded PKCS#7 / CMS DigestedData (SET's DD{}).
type DigestedData struct {
	Version         int
	DigestAlgorithm AlgorithmIdentifier
	Mode            ContentMode // from the version: 0 is ModePKCS7, 2 is ModeCMS
	ContentType     asn1.ObjectIdentifier
	Content         []byte // as SignedData.Content; nil when detached
	Digest          []byte
	Raw             []byte // the ContentInfo bytes decoded
}

// Digest builds a ContentInfo{digestedData} over content, the DER of a SET
// type of type contentType, digested with h (SHA-1 for set1, SHA-256
// otherwise) as mode defines. detached omits the content: SET's DD{}
// usually carries only the digest.
func Digest(contentType asn1.ObjectIdentifier, content []byte, h crypto.Hash, mode ContentMode, detached bool) ([]byte, error) {
	var version int
	switch mode {
	case ModePKCS7:
		version = digestedDataVersionPKCS7
	case ModeCMS:
		if contentType.Equal(OIDData) {
			// RFC 5652 would make this version 0, which is how ModePKCS7
			// is recognised; for id-data both modes digest the same bytes.
			return nil, errors.New("pkcs7: ModeCMS with id-data content; use ModePKCS7")
		}
		version = digestedDataVersionCMS
	default:
		return nil, fmt.Errorf("pkcs7: unknown content mode %d", int(mode))
	}
	alg := DigestAlgorithmFor(h)
	if _, err := HashForAlgorithm(alg); err != nil {
		return nil, err
	}
	encap, err := buildEncapContentInfo(mode, contentType, content, detached)
	if err != nil {
		return nil, err
	}
	digest, err := digestEncapContent(h, mode, content)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(version))
		alg.Marshal(b)
		b.AddBytes(encap)
		b.AddASN1OctetString(digest)
	})
	dd, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return MarshalContentInfo(OIDDigestedData, dd)
}

// ParseDigestedData decodes a ContentInfo holding a DigestedData: DER only,
// known versions and digest algorithms only, and a digest of the length
// the algorithm produces.
func ParseDigestedData(contentInfo []byte) (*DigestedData, error) {
	if err := checkDERInput(contentInfo, "DigestedData"); err != nil {
		return nil, err
	}
	ci, err := ParseContentInfo(contentInfo)
	if err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(OIDDigestedData) {
		return nil, der.Errorf("ContentInfo", "contentType", "got %v, want digestedData", ci.ContentType)
	}
	if ci.Content == nil {
		return nil, der.Errorf("ContentInfo", "content", "digestedData without content")
	}
	dd := &DigestedData{Raw: ci.Raw}
	e, err := der.Parse(ci.Content)
	if err != nil {
		return nil, der.Wrap("DigestedData", "", err)
	}
	if err := e.Expect(der.TagSequence); err != nil {
		return nil, der.Wrap("DigestedData", "", err)
	}
	s := cryptobyte.String(e.Contents)
	if !s.ReadASN1Integer(&dd.Version) {
		return nil, der.Errorf("DigestedData", "version", "malformed INTEGER")
	}
	switch dd.Version {
	case digestedDataVersionPKCS7:
		dd.Mode = ModePKCS7
	case digestedDataVersionCMS:
		dd.Mode = ModeCMS
	default:
		return nil, der.Errorf("DigestedData", "version", "unsupported version %d", dd.Version)
	}
	if dd.DigestAlgorithm, err = ReadAlgorithmIdentifier(&s); err != nil {
		return nil, der.Wrap("DigestedData", "digestAlgorithm", err)
	}
	h, err := HashForAlgorithm(dd.DigestAlgorithm)
	if err != nil {
		return nil, der.Wrap("DigestedData", "digestAlgorithm", err)
	}
	dd.ContentType, dd.Content, err = readEncapContentInfo(&s, dd.Mode, "DigestedData")
	if err != nil {
		return nil, err
	}
	var digest cryptobyte.String
	if !s.ReadASN1(&digest, cbasn1.OCTET_STRING) {
		return nil, der.Errorf("DigestedData", "digest", "malformed OCTET STRING")
	}
	if len(digest) != h.Size() {
		return nil, der.Errorf("DigestedData", "digest", "%d bytes, %v gives %d", len(digest), h, h.Size())
	}
	dd.Digest = digest
	if len(s) != 0 {
		return nil, der.Wrap("DigestedData", "", der.ErrTrailingData)
	}
	return dd, nil
}

// Check recomputes the digest and compares it with dd.Digest in constant
// time. content has the form of DigestedData.Content; it is needed when the
// content is detached, and must equal dd.Content when it is not.
// A mismatch wraps ErrDigestMismatch.
func (dd *DigestedData) Check(content []byte) error {
	switch {
	case dd.Content == nil && content == nil:
		return fmt.Errorf("%w: content is detached and none was given", ErrDigestMismatch)
	case dd.Content == nil:
	case content != nil && !bytes.Equal(content, dd.Content):
		return fmt.Errorf("%w: given content differs from the attached content", ErrDigestMismatch)
	default:
		content = dd.Content
	}
	h, err := HashForAlgorithm(dd.DigestAlgorithm)
	if err != nil {
		return err
	}
	digest, err := digestEncapContent(h, dd.Mode, content)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
	if subtle.ConstantTimeCompare(digest, dd.Digest) != 1 {
		return ErrDigestMismatch
	}
	return nil
}
