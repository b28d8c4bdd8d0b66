package pkcs7

import (
	"crypto/des"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// EncryptedData (PKCS#7 v1.5 §13, RFC 5652 §8), SET's EK{k, t} in the set1
// suite: content encrypted under a key both ends already hold, with no
// recipient infos.
//
//	EncryptedData ::= SEQUENCE {
//	  version CMSVersion,                                  -- 0
//	  encryptedContentInfo EncryptedContentInfo,
//	  unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }  -- never used here
//
// The content cipher follows the key length: 8 bytes DES-CBC (SET 1.0), 24
// bytes DES-EDE3-CBC. Like every CBC envelope it is not authenticated; SET
// relies on the signature inside (EncK = EK(k, S(s, t))).

// EncryptSET encrypts content (of content type contentType) under key and
// returns the DER of a ContentInfo holding the EncryptedData. The key's
// parity bits are not checked, DES ignores them.
func EncryptSET(rand io.Reader, contentType asn1.ObjectIdentifier, content, key []byte) ([]byte, error) {
	var oid asn1.ObjectIdentifier
	switch len(key) {
	case 8:
		oid = OIDDESCBC
	case 24:
		oid = OIDDESEDE3CBC
	default:
		return nil, fmt.Errorf("%w: EncryptedData key of %d bytes (want 8 or 24)", ErrUnsupportedAlgorithm, len(key))
	}
	if len(contentType) == 0 {
		return nil, errors.New("pkcs7: EncryptSET: no content type")
	}
	iv := make([]byte, des.BlockSize)
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, err
	}
	block, err := envCBCBlock(key)
	if err != nil {
		return nil, err
	}
	ciphertext := envCBCEncrypt(block, iv, content)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		envMarshalEncryptedContentInfo(b, contentType,
			AlgorithmIdentifier{Algorithm: oid, Parameters: der.Encode(der.TagOctetString, iv)}, ciphertext)
	})
	ed, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return MarshalContentInfo(OIDEncryptedData, ed)
}

// EncryptedData is a decoded EncryptedData; Raw is its SEQUENCE.
type EncryptedData struct {
	Version                    int
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm AlgorithmIdentifier
	EncryptedContent           []byte
	Raw                        []byte
}

// ParseEncryptedData decodes a ContentInfo holding an EncryptedData.
// unprotectedAttrs are rejected: nothing here writes them and nothing here
// would read them.
func ParseEncryptedData(contentInfo []byte) (*EncryptedData, error) {
	const typ = "EncryptedData"
	ci, err := ParseContentInfo(contentInfo)
	if err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(OIDEncryptedData) {
		return nil, der.Errorf("ContentInfo", "contentType", "%v is not encryptedData", ci.ContentType)
	}
	if ci.Content == nil {
		return nil, der.Errorf("ContentInfo", "content", "absent")
	}
	ed := &EncryptedData{Raw: ci.Content}
	s := cryptobyte.String(ci.Content)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
		return nil, der.Errorf(typ, "version", "malformed INTEGER")
	}
	if v != 0 {
		return nil, der.Errorf(typ, "version", "unsupported version %d", v)
	}
	ed.ContentType, ed.ContentEncryptionAlgorithm, ed.EncryptedContent, err = envReadEncryptedContentInfo(&seq, typ)
	if err != nil {
		return nil, err
	}
	if seq.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, der.Errorf(typ, "unprotectedAttrs", "not supported")
	}
	if !seq.Empty() {
		return nil, der.Wrap(typ, "", der.ErrTrailingData)
	}
	if _, _, err := envCBCKeyLen(ed.ContentEncryptionAlgorithm); err != nil {
		return nil, err
	}
	return ed, nil
}

// Decrypt decrypts the content with key, which must fit the content
// cipher. Every failure after parsing is ErrDecryption; a wrong key is
// caught only by the padding check (probability about 1/256 to pass), so
// callers must authenticate what they decrypt, as EncK does by signing.
func (ed *EncryptedData) Decrypt(key []byte) ([]byte, error) {
	keyLen, iv, err := envCBCKeyLen(ed.ContentEncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	if len(key) != keyLen {
		return nil, ErrDecryption
	}
	block, err := envCBCBlock(key)
	if err != nil {
		return nil, ErrDecryption
	}
	return envCBCDecrypt(block, iv, ed.EncryptedContent)
}
