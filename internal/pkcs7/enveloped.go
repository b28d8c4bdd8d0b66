package pkcs7

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// PKCS#7 v1.5 EnvelopedData as SET 1997 uses it (the set1 suite):
//
//	EnvelopedData ::= SEQUENCE {
//	  version Version,                              -- 0
//	  recipientInfos SET OF RecipientInfo,
//	  encryptedContentInfo EncryptedContentInfo }
//	RecipientInfo ::= SEQUENCE {                     -- CMS KeyTransRecipientInfo
//	  version Version,                              -- 0
//	  issuerAndSerialNumber IssuerAndSerialNumber,
//	  keyEncryptionAlgorithm AlgorithmIdentifier,   -- rsaOAEPEncryptionSET, NULL
//	  encryptedKey OCTET STRING }
//	EncryptedContentInfo ::= SEQUENCE {
//	  contentType ContentType,
//	  contentEncryptionAlgorithm AlgorithmIdentifier,
//	  encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }

// ErrNoRecipient is returned when an envelope holds nothing for the given
// certificate (or decrypter).
var ErrNoRecipient = errors.New("pkcs7: no recipient info for this certificate")

// ContentCipher selects the set1 content-encryption algorithm.
type ContentCipher int

const (
	CipherDESCBC     ContentCipher = iota + 1 // DES-CBC, as SET 1997 specifies
	CipherDESEDE3CBC                          // DES-EDE3-CBC
)

// envCBCParams gives the OID and key length of a set1 content cipher.
func envCBCParams(c ContentCipher) (asn1.ObjectIdentifier, int, error) {
	switch c {
	case CipherDESCBC:
		return OIDDESCBC, 8, nil
	case CipherDESEDE3CBC:
		return OIDDESEDE3CBC, 24, nil
	}
	return nil, 0, fmt.Errorf("%w: content cipher %d", ErrUnsupportedAlgorithm, c)
}

// envCBCKeyLen maps a contentEncryptionAlgorithm back to its key length
// and checks its parameters (an 8-byte IV OCTET STRING), returning the IV.
func envCBCKeyLen(alg AlgorithmIdentifier) (keyLen int, iv []byte, err error) {
	switch {
	case alg.Algorithm.Equal(OIDDESCBC):
		keyLen = 8
	case alg.Algorithm.Equal(OIDDESEDE3CBC):
		keyLen = 24
	default:
		return 0, nil, fmt.Errorf("%w: content encryption %v", ErrUnsupportedAlgorithm, alg.Algorithm)
	}
	s := cryptobyte.String(alg.Parameters)
	var ivs cryptobyte.String
	if !s.ReadASN1(&ivs, cbasn1.OCTET_STRING) || !s.Empty() || len(ivs) != des.BlockSize {
		return 0, nil, der.Errorf("EncryptedContentInfo", "contentEncryptionAlgorithm", "parameters must be an 8-byte IV")
	}
	return keyLen, ivs, nil
}

func envCBCBlock(key []byte) (cipher.Block, error) {
	if len(key) == 8 {
		return des.NewCipher(key)
	}
	return des.NewTripleDESCipher(key)
}

// envSetDESParity sets odd parity on every key byte, as DES keys carry it.
func envSetDESParity(key []byte) {
	for i, b := range key {
		b &^= 1
		p := b ^ b>>4
		p ^= p >> 2
		p ^= p >> 1
		key[i] = b | (^p & 1)
	}
}

// KeyTransRecipient is one set1 recipient: its key-exchange certificate
// (DER; issuer and serial are read from it) and the RSA key in it. The
// caller vouches that Key is the certificate's key.
type KeyTransRecipient struct {
	Cert []byte
	Key  *rsa.PublicKey
}

// EnvelopeSETOptions selects the cipher and the SET operator: HashContent
// puts SHA-1 of the content into the OAEP block (EH, EXH), Extra puts
// extra data, the DER of a SET type such as PANData, there (EX, EXH).
type EnvelopeSETOptions struct {
	Cipher      ContentCipher
	HashContent bool
	Extra       []byte
}

// EnvelopeSET encrypts content (the DER of a SET type, labelled
// contentType) for every recipient and returns the DER of a ContentInfo
// holding the EnvelopedData.
func EnvelopeSET(rand io.Reader, contentType asn1.ObjectIdentifier, content []byte, to []KeyTransRecipient, opts EnvelopeSETOptions) ([]byte, error) {
	if len(to) == 0 {
		return nil, errors.New("pkcs7: EnvelopeSET: no recipients")
	}
	oid, keyLen, err := envCBCParams(opts.Cipher)
	if err != nil {
		return nil, err
	}
	key := make([]byte, keyLen)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, err
	}
	envSetDESParity(key)
	iv := make([]byte, des.BlockSize)
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, err
	}
	block, err := envCBCBlock(key)
	if err != nil {
		return nil, err
	}
	ciphertext := envCBCEncrypt(block, iv, content)

	blk := setOAEPBlock{bc: BlockE, key: key}
	if opts.HashContent {
		h := sha1.Sum(content)
		blk.hash = h[:]
		blk.bc |= BlockEH
	}
	if len(opts.Extra) > 0 {
		blk.extra = opts.Extra
		blk.bc |= BlockEX
	}

	ris := make([][]byte, 0, len(to))
	for i, r := range to {
		ias, err := envCertIssuerSerial(r.Cert)
		if err != nil {
			return nil, fmt.Errorf("pkcs7: EnvelopeSET: recipient %d: %w", i, err)
		}
		ek, err := setOAEPEncrypt(rand, r.Key, blk)
		if err != nil {
			return nil, fmt.Errorf("pkcs7: EnvelopeSET: recipient %d: %w", i, err)
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			ias.Marshal(b)
			AlgorithmIdentifier{Algorithm: OIDRSAOAEPSET, Parameters: asn1.NullBytes}.Marshal(b)
			b.AddASN1OctetString(ek)
		})
		ri, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		ris = append(ris, ri)
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddBytes(der.SetOf(ris))
		envMarshalEncryptedContentInfo(b, contentType,
			AlgorithmIdentifier{Algorithm: oid, Parameters: der.Encode(der.TagOctetString, iv)}, ciphertext)
	})
	ed, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return MarshalContentInfo(OIDEnvelopedData, ed)
}

// envMarshalEncryptedContentInfo adds an EncryptedContentInfo; CMS uses the
// same layout for EnvelopedData and AuthEnvelopedData.
func envMarshalEncryptedContentInfo(b *cryptobyte.Builder, contentType asn1.ObjectIdentifier, alg AlgorithmIdentifier, ciphertext []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(contentType)
		alg.Marshal(b)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddBytes(ciphertext)
		})
	})
}

// envReadEncryptedContentInfo reads an EncryptedContentInfo. The
// encryptedContent is required: SET never detaches it, and CMS producers
// that do cannot be opened here anyway.
func envReadEncryptedContentInfo(s *cryptobyte.String, typ string) (asn1.ObjectIdentifier, AlgorithmIdentifier, []byte, error) {
	const field = "encryptedContentInfo"
	var seq cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, AlgorithmIdentifier{}, nil, der.Errorf(typ, field, "malformed SEQUENCE")
	}
	if !seq.ReadASN1ObjectIdentifier(&ct) {
		return nil, AlgorithmIdentifier{}, nil, der.Errorf(typ, field+".contentType", "malformed OBJECT IDENTIFIER")
	}
	alg, err := ReadAlgorithmIdentifier(&seq)
	if err != nil {
		return nil, AlgorithmIdentifier{}, nil, der.Wrap(typ, field+".contentEncryptionAlgorithm", err)
	}
	var enc cryptobyte.String
	if !seq.ReadASN1(&enc, cbasn1.Tag(0).ContextSpecific()) {
		return nil, AlgorithmIdentifier{}, nil, der.Errorf(typ, field+".encryptedContent", "want [0] IMPLICIT OCTET STRING (primitive)")
	}
	if !seq.Empty() {
		return nil, AlgorithmIdentifier{}, nil, der.Wrap(typ, field, der.ErrTrailingData)
	}
	return ct, alg, enc, nil
}

func envCBCEncrypt(block cipher.Block, iv, plaintext []byte) []byte {
	bs := block.BlockSize()
	pad := bs - len(plaintext)%bs
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return buf
}

// envCBCDecrypt decrypts and strips PKCS#5 padding; every failure is
// ErrDecryption.
func envCBCDecrypt(block cipher.Block, iv, ciphertext []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, ErrDecryption
	}
	buf := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, ciphertext)
	pad := int(buf[len(buf)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, bs)
	for i := 1; i <= bs; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, pad)
		match := subtle.ConstantTimeByteEq(buf[len(buf)-i], byte(pad))
		good &= 1 - inPad + inPad*match
	}
	if good != 1 {
		return nil, ErrDecryption
	}
	return buf[:len(buf)-pad], nil
}

// envCertIssuerSerial reads issuer and serial number from a DER
// certificate by walking the start of the TBSCertificate; the issuer is
// kept byte for byte as the certificate spells it, which is what
// IssuerAndSerialNumber must match.
func envCertIssuerSerial(cert []byte) (IssuerAndSerialNumber, error) {
	var ias IssuerAndSerialNumber
	s := cryptobyte.String(cert)
	var c, tbs cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.SEQUENCE) || !s.Empty() {
		return ias, der.Errorf("Certificate", "", "malformed SEQUENCE")
	}
	if !c.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return ias, der.Errorf("Certificate", "tbsCertificate", "malformed SEQUENCE")
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return ias, der.Errorf("TBSCertificate", "version", "malformed")
	}
	serial := new(big.Int)
	if !tbs.ReadASN1Integer(serial) {
		return ias, der.Errorf("TBSCertificate", "serialNumber", "malformed INTEGER")
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return ias, der.Errorf("TBSCertificate", "signature", "malformed AlgorithmIdentifier")
	}
	var issuer cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return ias, der.Errorf("TBSCertificate", "issuer", "malformed Name")
	}
	ias.Issuer = issuer
	ias.SerialNumber = serial
	return ias, nil
}

func envSameIssuerSerial(a, b IssuerAndSerialNumber) bool {
	return bytes.Equal(a.Issuer, b.Issuer) && a.SerialNumber != nil && b.SerialNumber != nil &&
		a.SerialNumber.Cmp(b.SerialNumber) == 0
}

// KeyTransRecipientInfo is one decoded set1 RecipientInfo.
type KeyTransRecipientInfo struct {
	Version                int
	IssuerAndSerialNumber  IssuerAndSerialNumber
	KeyEncryptionAlgorithm AlgorithmIdentifier
	EncryptedKey           []byte
	Raw                    []byte
}

// EnvelopedData is a decoded PKCS#7 EnvelopedData. Raw is the
// EnvelopedData SEQUENCE (the ContentInfo's content), byte for byte.
type EnvelopedData struct {
	Version                    int
	Recipients                 []KeyTransRecipientInfo
	ContentType                asn1.ObjectIdentifier // of the encrypted content
	ContentEncryptionAlgorithm AlgorithmIdentifier
	EncryptedContent           []byte
	Raw                        []byte
}

// ParseEnvelopedData decodes a ContentInfo holding an EnvelopedData.
func ParseEnvelopedData(contentInfo []byte) (*EnvelopedData, error) {
	const typ = "EnvelopedData"
	ci, err := ParseContentInfo(contentInfo)
	if err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(OIDEnvelopedData) {
		return nil, der.Errorf("ContentInfo", "contentType", "%v is not envelopedData", ci.ContentType)
	}
	if ci.Content == nil {
		return nil, der.Errorf("ContentInfo", "content", "absent")
	}
	ed := &EnvelopedData{Raw: ci.Content}
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
	var set cryptobyte.String
	if !seq.ReadASN1(&set, cbasn1.SET) {
		return nil, der.Errorf(typ, "recipientInfos", "malformed SET OF")
	}
	if err := der.CheckSetOf(set); err != nil {
		return nil, der.Wrap(typ, "recipientInfos", err)
	}
	for !set.Empty() {
		ri, err := envReadKeyTransRecipientInfo(&set)
		if err != nil {
			return nil, der.Wrap(typ, "recipientInfos", err)
		}
		ed.Recipients = append(ed.Recipients, ri)
	}
	if len(ed.Recipients) == 0 {
		return nil, der.Errorf(typ, "recipientInfos", "empty")
	}
	ed.ContentType, ed.ContentEncryptionAlgorithm, ed.EncryptedContent, err = envReadEncryptedContentInfo(&seq, typ)
	if err != nil {
		return nil, err
	}
	if !seq.Empty() {
		return nil, der.Wrap(typ, "", der.ErrTrailingData)
	}
	return ed, nil
}

func envReadKeyTransRecipientInfo(s *cryptobyte.String) (KeyTransRecipientInfo, error) {
	const typ = "RecipientInfo"
	var ri KeyTransRecipientInfo
	var elem, seq cryptobyte.String
	if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return ri, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	ri.Raw = elem
	if !elem.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return ri, der.Errorf(typ, "", "malformed SEQUENCE")
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
		return ri, der.Errorf(typ, "version", "malformed INTEGER")
	}
	if v != 0 {
		return ri, der.Errorf(typ, "version", "unsupported version %d", v)
	}
	var err error
	if ri.IssuerAndSerialNumber, err = ReadIssuerAndSerialNumber(&seq); err != nil {
		return ri, der.Wrap(typ, "issuerAndSerialNumber", err)
	}
	if ri.KeyEncryptionAlgorithm, err = ReadAlgorithmIdentifier(&seq); err != nil {
		return ri, der.Wrap(typ, "keyEncryptionAlgorithm", err)
	}
	var ek cryptobyte.String
	if !seq.ReadASN1(&ek, cbasn1.OCTET_STRING) {
		return ri, der.Errorf(typ, "encryptedKey", "malformed OCTET STRING")
	}
	ri.EncryptedKey = ek
	if !seq.Empty() {
		return ri, der.Wrap(typ, "", der.ErrTrailingData)
	}
	return ri, nil
}

// OpenSET finds the recipient info matching cert (issuer and serial),
// decrypts the OAEP block with key, decrypts the content and, when the
// block carried a hash, checks it against the plaintext. It returns the
// plaintext (the DER of the SET type named by ed.ContentType) and the
// extra data (nil if none).
func (ed *EnvelopedData) OpenSET(cert []byte, key *rsa.PrivateKey) (content, extra []byte, err error) {
	content, extra, _, err = ed.OpenSETBlock(cert, key)
	return content, extra, err
}

// OpenSETBlock is OpenSET that also reports which SET operator built the
// block (E, EH, EX, EXH), for callers that must insist on one.
func (ed *EnvelopedData) OpenSETBlock(cert []byte, key *rsa.PrivateKey) (content, extra []byte, bc BlockContents, err error) {
	if key == nil {
		return nil, nil, 0, errors.New("pkcs7: OpenSET: nil key")
	}
	me, err := envCertIssuerSerial(cert)
	if err != nil {
		return nil, nil, 0, err
	}
	var ri *KeyTransRecipientInfo
	for i := range ed.Recipients {
		if envSameIssuerSerial(ed.Recipients[i].IssuerAndSerialNumber, me) {
			ri = &ed.Recipients[i]
			break
		}
	}
	if ri == nil {
		return nil, nil, 0, ErrNoRecipient
	}
	if !ri.KeyEncryptionAlgorithm.Algorithm.Equal(OIDRSAOAEPSET) ||
		!bytes.Equal(ri.KeyEncryptionAlgorithm.Parameters, asn1.NullBytes) {
		return nil, nil, 0, fmt.Errorf("%w: key encryption %v", ErrUnsupportedAlgorithm, ri.KeyEncryptionAlgorithm.Algorithm)
	}
	keyLen, iv, err := envCBCKeyLen(ed.ContentEncryptionAlgorithm)
	if err != nil {
		return nil, nil, 0, err
	}
	blk, err := setOAEPDecrypt(cryptorand.Reader, key, ri.EncryptedKey, keyLen)
	if err != nil {
		return nil, nil, 0, err
	}
	block, err := envCBCBlock(blk.key)
	if err != nil {
		return nil, nil, 0, ErrDecryption
	}
	content, err = envCBCDecrypt(block, iv, ed.EncryptedContent)
	if err != nil {
		return nil, nil, 0, err
	}
	if blk.bc.hasHash() {
		h := sha1.Sum(content)
		if subtle.ConstantTimeCompare(h[:], blk.hash) != 1 {
			return nil, nil, 0, ErrDecryption
		}
	}
	return content, blk.extra, blk.bc, nil
}
