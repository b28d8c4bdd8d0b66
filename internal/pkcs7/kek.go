package pkcs7

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// KEKRecipientInfo (RFC 5652 §6.2.3): the content key wrapped under a
// symmetric key-encryption key both ends already share. It is how the
// modern suite does SET's EK{k, t}: an AuthEnvelopedData (AES-256-GCM)
// whose only recipient is the back key k, as an AES-256 key wrap KEK
// (RFC 3394, id-aes256-wrap, parameters absent per RFC 3565).
//
//	KEKRecipientInfo ::= SEQUENCE {          -- tagged [2] in RecipientInfo
//	  version CMSVersion,                    -- 4
//	  kekid KEKIdentifier,
//	  keyEncryptionAlgorithm AlgorithmIdentifier,
//	  encryptedKey OCTET STRING }
//	KEKIdentifier ::= SEQUENCE {
//	  keyIdentifier OCTET STRING,
//	  date GeneralizedTime OPTIONAL,         -- never used here
//	  other OtherKeyAttribute OPTIONAL }     -- never used here

const kekriVersion = 4

var (
	kekriTag = cbasn1.Tag(2).Constructed().ContextSpecific()
	errKEKRI = errors.New("pkcs7: KEKRecipientInfo")
)

// KEKRecipient is a recipient that holds KEK (32 bytes, AES-256), named by
// KeyID (non-empty). It is also the Decrypter for the same key.
type KEKRecipient struct {
	KeyID []byte
	KEK   []byte
}

func (r KEKRecipient) check() error {
	if len(r.KEK) != 32 {
		return fmt.Errorf("%w: KEK of %d bytes (want 32, AES-256 wrap)", ErrUnsupportedAlgorithm, len(r.KEK))
	}
	if len(r.KeyID) == 0 {
		return errors.New("pkcs7: KEKRecipient without a key identifier")
	}
	return nil
}

func (r KEKRecipient) recipientInfo(_ io.Reader, cek []byte) ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	wrapped, err := aesWrapKey(r.KEK, cek)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(kekriTag, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(kekriVersion)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(r.KeyID)
		})
		AlgorithmIdentifier{Algorithm: OIDAES256Wrap}.Marshal(b)
		b.AddASN1OctetString(wrapped)
	})
	return b.Bytes()
}

// unwrapCEK reads one RecipientInfo: other alternatives and other key
// identifiers are not for r (ok=false); a KEKRecipientInfo for r that is
// malformed or does not unwrap is an error.
func (r KEKRecipient) unwrapCEK(ri []byte) ([]byte, bool, error) {
	const typ = "KEKRecipientInfo"
	if err := r.check(); err != nil {
		return nil, false, err
	}
	s := cryptobyte.String(ri)
	if !s.PeekASN1Tag(kekriTag) {
		return nil, false, nil
	}
	var seq, kekid, keyID, wrapped cryptobyte.String
	if !s.ReadASN1(&seq, kekriTag) || !s.Empty() {
		return nil, false, der.Errorf(typ, "", "malformed")
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v != kekriVersion {
		return nil, false, der.Errorf(typ, "version", "want 4")
	}
	if !seq.ReadASN1(&kekid, cbasn1.SEQUENCE) || !kekid.ReadASN1(&keyID, cbasn1.OCTET_STRING) || !kekid.Empty() {
		return nil, false, der.Errorf(typ, "kekid", "want SEQUENCE { keyIdentifier OCTET STRING }")
	}
	alg, err := ReadAlgorithmIdentifier(&seq)
	if err != nil {
		return nil, false, der.Wrap(typ, "keyEncryptionAlgorithm", err)
	}
	if !seq.ReadASN1(&wrapped, cbasn1.OCTET_STRING) || !seq.Empty() {
		return nil, false, der.Errorf(typ, "encryptedKey", "malformed OCTET STRING")
	}
	if !bytes.Equal(keyID, r.KeyID) {
		return nil, false, nil
	}
	if !alg.Algorithm.Equal(OIDAES256Wrap) || alg.Parameters != nil {
		return nil, false, fmt.Errorf("%w: key encryption %v", ErrUnsupportedAlgorithm, alg.Algorithm)
	}
	cek, err := aesUnwrapKey(r.KEK, wrapped)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errKEKRI, ErrDecryption)
	}
	if subtle.ConstantTimeEq(int32(len(cek)), authCEKLen) != 1 {
		return nil, false, fmt.Errorf("%w: %w", errKEKRI, ErrDecryption)
	}
	return cek, true, nil
}
