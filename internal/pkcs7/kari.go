package pkcs7

import (
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// KeyAgreeRecipientInfo (RFC 5652 §6.2.2) with ECDH P-256
// ephemeral-static as RFC 5753 profiles it:
//
//	KeyAgreeRecipientInfo ::= SEQUENCE {          -- tagged [1] in RecipientInfo
//	  version CMSVersion,                         -- 3
//	  originator [0] EXPLICIT OriginatorIdentifierOrKey,  -- [1] originatorKey
//	  ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
//	  keyEncryptionAlgorithm AlgorithmIdentifier, -- dhSinglePass-stdDH-sha256kdf-scheme,
//	                                              -- parameters: id-aes256-wrap
//	  recipientEncryptedKeys SEQUENCE OF SEQUENCE {
//	    rid KeyAgreeRecipientIdentifier,          -- IssuerAndSerialNumber
//	    encryptedKey OCTET STRING } }

const kariVersion = 3

var (
	kariTag           = cbasn1.Tag(1).Constructed().ContextSpecific()
	kariOriginatorTag = cbasn1.Tag(0).Constructed().ContextSpecific()
	kariOrigKeyTag    = cbasn1.Tag(1).Constructed().ContextSpecific()
	kariUKMTag        = cbasn1.Tag(1).Constructed().ContextSpecific()
	kariKEKLen        = 32 // AES-256 key wrap
)

// Recipient is the sender's view of one recipient of an AuthEnvelopedData.
// Each kind (ECDH key agreement now, RFC 9629 KEM later) wraps the content
// key its own way and returns one complete RecipientInfo.
type Recipient interface {
	// recipientInfo wraps cek for this recipient and returns the DER of one
	// RecipientInfo, CHOICE alternative already tagged.
	recipientInfo(rand io.Reader, cek []byte) ([]byte, error)
}

// Decrypter is the receiver's view: given one raw RecipientInfo it returns
// the content key, or ok=false when the RecipientInfo is not addressed to it.
type Decrypter interface {
	unwrapCEK(ri []byte) (cek []byte, ok bool, err error)
}

// ECDHRecipient is a P-256 key-agreement recipient: its certificate (DER;
// issuer and serial identify it) and the key in it. With crypto/x509:
// cert.PublicKey.(*ecdsa.PublicKey).ECDH().
type ECDHRecipient struct {
	Cert []byte
	Key  *ecdh.PublicKey
}

func (r ECDHRecipient) recipientInfo(rand io.Reader, cek []byte) ([]byte, error) {
	if r.Key == nil || r.Key.Curve() != ecdh.P256() {
		return nil, fmt.Errorf("%w: ECDH recipient key must be P-256", ErrUnsupportedAlgorithm)
	}
	ias, err := envCertIssuerSerial(r.Cert)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.P256().GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	z, err := eph.ECDH(r.Key)
	if err != nil {
		return nil, err
	}
	wrapAlg := AlgorithmIdentifier{Algorithm: OIDAES256Wrap}
	kek, err := kariKDF(z, nil, wrapAlg)
	if err != nil {
		return nil, err
	}
	wrapped, err := aesWrapKey(kek, cek)
	if err != nil {
		return nil, err
	}
	var wb cryptobyte.Builder
	wrapAlg.Marshal(&wb)
	wrapDER, err := wb.Bytes()
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(kariTag, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(kariVersion)
		b.AddASN1(kariOriginatorTag, func(b *cryptobyte.Builder) {
			b.AddASN1(kariOrigKeyTag, func(b *cryptobyte.Builder) {
				// RFC 5753 §3.1.1: id-ecPublicKey with absent parameters.
				AlgorithmIdentifier{Algorithm: OIDECPublicKey}.Marshal(b)
				b.AddASN1BitString(eph.PublicKey().Bytes())
			})
		})
		AlgorithmIdentifier{Algorithm: OIDECDHSHA256KDF, Parameters: wrapDER}.Marshal(b)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				ias.Marshal(b)
				b.AddASN1OctetString(wrapped)
			})
		})
	})
	return b.Bytes()
}

// kariKDF is the ANSI X9.63 KDF with SHA-256 over the shared secret z and
// the DER of ECC-CMS-SharedInfo (RFC 5753 §7.2):
//
//	ECC-CMS-SharedInfo ::= SEQUENCE {
//	  keyInfo AlgorithmIdentifier,                 -- the key wrap algorithm
//	  entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,  -- ukm
//	  suppPubInfo [2] EXPLICIT OCTET STRING }      -- KEK length in bits, 4 bytes
func kariKDF(z, ukm []byte, wrapAlg AlgorithmIdentifier) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		wrapAlg.Marshal(b)
		if ukm != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(ukm)
			})
		}
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			var bits [4]byte
			binary.BigEndian.PutUint32(bits[:], uint32(8*kariKEKLen))
			b.AddASN1OctetString(bits[:])
		})
	})
	sharedInfo, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	// One SHA-256 block is exactly the 32-byte KEK; counter starts at 1.
	h := sha256.New()
	h.Write(z)
	h.Write([]byte{0, 0, 0, 1})
	h.Write(sharedInfo)
	return h.Sum(nil), nil
}

// ECDHDecrypter opens KeyAgreeRecipientInfos addressed to Cert with Key.
type ECDHDecrypter struct {
	Cert []byte
	Key  *ecdh.PrivateKey
}

// errKARI marks a KeyAgreeRecipientInfo addressed to us that we cannot use.
var errKARI = errors.New("pkcs7: KeyAgreeRecipientInfo")

func (d ECDHDecrypter) unwrapCEK(ri []byte) ([]byte, bool, error) {
	const typ = "KeyAgreeRecipientInfo"
	s := cryptobyte.String(ri)
	var kari cryptobyte.String
	if !s.ReadASN1(&kari, kariTag) || !s.Empty() {
		return nil, false, nil // another RecipientInfo kind
	}
	if d.Key == nil || d.Key.Curve() != ecdh.P256() {
		return nil, false, fmt.Errorf("%w: ECDH decrypter key must be P-256", ErrUnsupportedAlgorithm)
	}
	me, err := envCertIssuerSerial(d.Cert)
	if err != nil {
		return nil, false, err
	}
	var v int64
	if !kari.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
		return nil, false, der.Errorf(typ, "version", "malformed INTEGER")
	}
	if v != kariVersion {
		return nil, false, der.Errorf(typ, "version", "unsupported version %d", v)
	}
	var orig, origKey cryptobyte.String
	if !kari.ReadASN1(&orig, kariOriginatorTag) {
		return nil, false, der.Errorf(typ, "originator", "want [0] EXPLICIT")
	}
	if !orig.ReadASN1(&origKey, kariOrigKeyTag) || !orig.Empty() {
		return nil, false, der.Errorf(typ, "originator", "only originatorKey [1] is supported")
	}
	origAlg, err := ReadAlgorithmIdentifier(&origKey)
	if err != nil {
		return nil, false, der.Wrap(typ, "originator.originatorKey.algorithm", err)
	}
	var point asn1.BitString
	if !origKey.ReadASN1BitString(&point) || point.BitLength%8 != 0 || !origKey.Empty() {
		return nil, false, der.Errorf(typ, "originator.originatorKey.publicKey", "malformed BIT STRING")
	}
	var ukm []byte
	if kari.PeekASN1Tag(kariUKMTag) {
		var u, os cryptobyte.String
		if !kari.ReadASN1(&u, kariUKMTag) || !u.ReadASN1(&os, cbasn1.OCTET_STRING) || !u.Empty() {
			return nil, false, der.Errorf(typ, "ukm", "malformed")
		}
		ukm = append([]byte{}, os...)
	}
	keyAlg, err := ReadAlgorithmIdentifier(&kari)
	if err != nil {
		return nil, false, der.Wrap(typ, "keyEncryptionAlgorithm", err)
	}
	var reks cryptobyte.String
	if !kari.ReadASN1(&reks, cbasn1.SEQUENCE) || !kari.Empty() {
		return nil, false, der.Errorf(typ, "recipientEncryptedKeys", "malformed SEQUENCE OF")
	}
	var wrapped []byte
	for !reks.Empty() {
		var rek, ek cryptobyte.String
		if !reks.ReadASN1(&rek, cbasn1.SEQUENCE) {
			return nil, false, der.Errorf(typ, "recipientEncryptedKeys", "malformed RecipientEncryptedKey")
		}
		var rid IssuerAndSerialNumber
		isIAS := rek.PeekASN1Tag(cbasn1.SEQUENCE)
		if isIAS {
			if rid, err = ReadIssuerAndSerialNumber(&rek); err != nil {
				return nil, false, der.Wrap(typ, "recipientEncryptedKeys.rid", err)
			}
		} else if !rek.SkipASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, false, der.Errorf(typ, "recipientEncryptedKeys.rid", "want IssuerAndSerialNumber or [0] rKeyId")
		}
		if !rek.ReadASN1(&ek, cbasn1.OCTET_STRING) || !rek.Empty() {
			return nil, false, der.Errorf(typ, "recipientEncryptedKeys.encryptedKey", "malformed OCTET STRING")
		}
		if isIAS && wrapped == nil && envSameIssuerSerial(rid, me) {
			wrapped = ek
		}
	}
	if wrapped == nil {
		return nil, false, nil
	}

	// Addressed to us: from here on every failure is an error.
	if !origAlg.Algorithm.Equal(OIDECPublicKey) || !kariCurveParamsOK(origAlg.Parameters) {
		return nil, true, fmt.Errorf("%w: originator key %v", ErrUnsupportedAlgorithm, origAlg.Algorithm)
	}
	if !keyAlg.Algorithm.Equal(OIDECDHSHA256KDF) {
		return nil, true, fmt.Errorf("%w: key agreement %v", ErrUnsupportedAlgorithm, keyAlg.Algorithm)
	}
	ps := cryptobyte.String(keyAlg.Parameters)
	wrapAlg, err := ReadAlgorithmIdentifier(&ps)
	if err != nil || !ps.Empty() {
		return nil, true, der.Errorf(typ, "keyEncryptionAlgorithm.parameters", "want the key wrap AlgorithmIdentifier")
	}
	if !wrapAlg.Algorithm.Equal(OIDAES256Wrap) || wrapAlg.Parameters != nil {
		return nil, true, fmt.Errorf("%w: key wrap %v", ErrUnsupportedAlgorithm, wrapAlg.Algorithm)
	}
	eph, err := ecdh.P256().NewPublicKey(point.Bytes)
	if err != nil {
		return nil, true, fmt.Errorf("%w: originator key: %v", errKARI, err)
	}
	z, err := d.Key.ECDH(eph)
	if err != nil {
		return nil, true, ErrDecryption
	}
	kek, err := kariKDF(z, ukm, wrapAlg)
	if err != nil {
		return nil, true, err
	}
	cek, err := aesUnwrapKey(kek, wrapped)
	if err != nil {
		return nil, true, ErrDecryption
	}
	return cek, true, nil
}

// kariCurveParamsOK accepts the id-ecPublicKey parameters producers use for
// the ephemeral key: absent (RFC 5753), NULL (RFC 3278) or the P-256 OID.
func kariCurveParamsOK(p []byte) bool {
	if p == nil || string(p) == string(asn1.NullBytes) {
		return true
	}
	s := cryptobyte.String(p)
	var oid asn1.ObjectIdentifier
	return s.ReadASN1ObjectIdentifier(&oid) && s.Empty() && oid.Equal(OIDCurveP256)
}
