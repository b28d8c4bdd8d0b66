package suite

import (
	"bytes"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// oidORIKEM is id-ori-kem (RFC 9629), the OtherRecipientInfo type that
// carries a KEMRecipientInfo.
var oidORIKEM = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 13, 3}

// Identify reports which suite produced a SignedData, EnvelopedData or
// AuthEnvelopedData (a ContentInfo, DER), from its algorithm identifiers
// alone. Mixed or unknown algorithms are an error wrapping ErrUnknownSuite.
// It reads only the algorithm identifiers; the full structure is checked by
// whoever processes it.
func Identify(contentInfo []byte) (ID, error) {
	ci, err := pkcs7.ParseContentInfo(contentInfo)
	if err != nil {
		return "", err
	}
	if ci.Content == nil {
		return "", der.Errorf("ContentInfo", "content", "absent")
	}
	switch {
	case ci.ContentType.Equal(pkcs7.OIDSignedData):
		return identifySigned(ci.Content)
	case ci.ContentType.Equal(pkcs7.OIDEnvelopedData):
		return identifyEnveloped(ci.Content, "EnvelopedData")
	case ci.ContentType.Equal(pkcs7.OIDAuthEnvelopedData):
		return identifyEnveloped(ci.Content, "AuthEnvelopedData")
	}
	return "", fmt.Errorf("%w: content type %v carries no suite", ErrUnknownSuite, ci.ContentType)
}

// agree folds one more verdict into the running one; a structure whose
// parts disagree belongs to no suite.
func agree(cur ID, next ID, what asn1.ObjectIdentifier) (ID, error) {
	if next == "" {
		return "", fmt.Errorf("%w: algorithm %v", ErrUnknownSuite, what)
	}
	if cur != "" && cur != next {
		return "", fmt.Errorf("%w: algorithms of %s and %s mixed", ErrUnknownSuite, cur, next)
	}
	return next, nil
}

func identifySigned(b []byte) (ID, error) {
	const typ = "SignedData"
	s := cryptobyte.String(b)
	var sd, digestAlgs, signerInfos cryptobyte.String
	var version int64
	if !s.ReadASN1(&sd, cbasn1.SEQUENCE) || len(s) != 0 {
		return "", der.Errorf(typ, "", "malformed SEQUENCE")
	}
	if !sd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return "", der.Errorf(typ, "version", "malformed INTEGER")
	}
	if !sd.ReadASN1(&digestAlgs, cbasn1.SET) {
		return "", der.Errorf(typ, "digestAlgorithms", "malformed SET")
	}
	if !sd.SkipASN1(cbasn1.SEQUENCE) {
		return "", der.Errorf(typ, "contentInfo", "malformed SEQUENCE")
	}
	if !sd.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return "", der.Errorf(typ, "certificates", "malformed")
	}
	if !sd.ReadASN1(&signerInfos, cbasn1.SET) {
		return "", der.Errorf(typ, "signerInfos", "malformed SET")
	}
	// The signature algorithms name the suite; every digest algorithm
	// must then be that suite's hash.
	var id ID
	var err error
	var digests []asn1.ObjectIdentifier
	for len(digestAlgs) > 0 {
		a, rerr := pkcs7.ReadAlgorithmIdentifier(&digestAlgs)
		if rerr != nil {
			return "", der.Wrap(typ, "digestAlgorithms", rerr)
		}
		if !nullOrAbsent(a.Parameters) {
			return "", fmt.Errorf("%w: digest %v with parameters", ErrUnknownSuite, a.Algorithm)
		}
		digests = append(digests, a.Algorithm)
	}
	if len(signerInfos) == 0 {
		return "", fmt.Errorf("%w: SignedData without signers", ErrUnknownSuite)
	}
	for len(signerInfos) > 0 {
		var si cryptobyte.String
		if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) {
			return "", der.Errorf("SignerInfo", "", "malformed SEQUENCE")
		}
		// version, sid (IssuerAndSerialNumber or [0] SubjectKeyIdentifier)
		if !si.SkipASN1(cbasn1.INTEGER) || !si.SkipASN1(readTag(si)) {
			return "", der.Errorf("SignerInfo", "sid", "malformed")
		}
		da, rerr := pkcs7.ReadAlgorithmIdentifier(&si)
		if rerr != nil {
			return "", der.Wrap("SignerInfo", "digestAlgorithm", rerr)
		}
		if !nullOrAbsent(da.Parameters) {
			return "", fmt.Errorf("%w: digest %v with parameters", ErrUnknownSuite, da.Algorithm)
		}
		digests = append(digests, da.Algorithm)
		if !si.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return "", der.Errorf("SignerInfo", "signedAttrs", "malformed")
		}
		sa, rerr := pkcs7.ReadAlgorithmIdentifier(&si)
		if rerr != nil {
			return "", der.Wrap("SignerInfo", "signatureAlgorithm", rerr)
		}
		if id, err = agree(id, signatureSuite(sa, da.Algorithm), sa.Algorithm); err != nil {
			return "", err
		}
	}
	for _, d := range digests {
		if !digestFits(id, d) {
			return "", fmt.Errorf("%w: digest %v in a %s signature", ErrUnknownSuite, d, id)
		}
	}
	return id, nil
}

// readTag peeks at the next tag so a CHOICE can be skipped whole.
func readTag(s cryptobyte.String) cbasn1.Tag {
	if len(s) == 0 {
		return 0
	}
	return cbasn1.Tag(s[0])
}

// digestFits reports whether a digest algorithm is the one suite id hashes
// with.
func digestFits(id ID, oid asn1.ObjectIdentifier) bool {
	switch id {
	case Set1:
		return oid.Equal(pkcs7.OIDSHA1)
	case Modern, PQ:
		return oid.Equal(pkcs7.OIDSHA256)
	}
	return false
}

// signatureSuite names the suite of a signature algorithm, parameters
// included: an identifier whose parameters are not exactly what the
// algorithm defines (NULL for RSA, absent for ECDSA and ML-DSA) is no
// suite's, so those bytes cannot be altered unnoticed.
func signatureSuite(sig pkcs7.AlgorithmIdentifier, digest asn1.ObjectIdentifier) ID {
	switch {
	case sig.Algorithm.Equal(pkcs7.OIDSHA1WithRSA) && nullOrAbsent(sig.Parameters):
		return Set1
	case sig.Algorithm.Equal(pkcs7.OIDRSAEncryption) && nullOrAbsent(sig.Parameters) && digest.Equal(pkcs7.OIDSHA1):
		// PKCS#7 v1.5 names the raw RSA operation and lets the digest
		// algorithm say which hash it signs.
		return Set1
	case sig.Algorithm.Equal(pkcs7.OIDECDSAWithSHA256) && sig.Parameters == nil:
		return Modern
	case sig.Algorithm.Equal(pkcs7.OIDMLDSA65) && sig.Parameters == nil:
		return PQ
	}
	return ""
}

// nullOrAbsent: the two encodings RFC 3279 / RFC 5754 allow for the
// parameters of RSA and SHA-family identifiers.
func nullOrAbsent(p []byte) bool {
	return p == nil || bytes.Equal(p, asn1.NullBytes)
}

// identifyEnveloped reads EnvelopedData (RFC 5652 §6.1, PKCS#7 v1.5 being
// the same without originatorInfo) or AuthEnvelopedData (RFC 5083): both
// start version, [0] originatorInfo OPTIONAL, recipientInfos,
// EncryptedContentInfo.
func identifyEnveloped(b []byte, typ string) (ID, error) {
	s := cryptobyte.String(b)
	var env, ris, eci cryptobyte.String
	if !s.ReadASN1(&env, cbasn1.SEQUENCE) || len(s) != 0 {
		return "", der.Errorf(typ, "", "malformed SEQUENCE")
	}
	if !env.SkipASN1(cbasn1.INTEGER) {
		return "", der.Errorf(typ, "version", "malformed INTEGER")
	}
	if !env.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return "", der.Errorf(typ, "originatorInfo", "malformed")
	}
	if !env.ReadASN1(&ris, cbasn1.SET) {
		return "", der.Errorf(typ, "recipientInfos", "malformed SET")
	}
	if !env.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) {
		return "", der.Errorf(typ, "encryptedContentInfo", "malformed")
	}
	cea, err := pkcs7.ReadAlgorithmIdentifier(&eci)
	if err != nil {
		return "", der.Wrap(typ, "contentEncryptionAlgorithm", err)
	}
	auth := typ == "AuthEnvelopedData"
	var id ID
	switch {
	case !auth && (cea.Algorithm.Equal(pkcs7.OIDDESCBC) || cea.Algorithm.Equal(pkcs7.OIDDESEDE3CBC)):
		id = Set1
	case auth && cea.Algorithm.Equal(pkcs7.OIDAES256GCM):
		// Modern or PQ: the recipient infos decide.
	default:
		return "", fmt.Errorf("%w: %s content encryption %v", ErrUnknownSuite, typ, cea.Algorithm)
	}
	if len(ris) == 0 {
		return "", fmt.Errorf("%w: %s without recipients", ErrUnknownSuite, typ)
	}
	for len(ris) > 0 {
		rid, oid, err := recipientSuite(&ris)
		if err != nil {
			return "", der.Wrap(typ, "recipientInfos", err)
		}
		if id, err = agree(id, rid, oid); err != nil {
			return "", err
		}
	}
	if id == Set1 && auth || id != Set1 && !auth {
		return "", fmt.Errorf("%w: %s with %s recipients", ErrUnknownSuite, typ, id)
	}
	return id, nil
}

// recipientSuite reads one RecipientInfo and names the suite its key
// management algorithm belongs to ("" if none).
func recipientSuite(s *cryptobyte.String) (ID, asn1.ObjectIdentifier, error) {
	tag := readTag(*s)
	var ri cryptobyte.String
	if !s.ReadASN1(&ri, tag) {
		return "", nil, der.Errorf("RecipientInfo", "", "malformed")
	}
	switch tag {
	case cbasn1.SEQUENCE: // ktri: version, rid, keyEncryptionAlgorithm, encryptedKey
		if !ri.SkipASN1(cbasn1.INTEGER) || !ri.SkipASN1(readTag(ri)) {
			return "", nil, der.Errorf("KeyTransRecipientInfo", "rid", "malformed")
		}
		a, err := pkcs7.ReadAlgorithmIdentifier(&ri)
		if err != nil {
			return "", nil, der.Wrap("KeyTransRecipientInfo", "keyEncryptionAlgorithm", err)
		}
		if a.Algorithm.Equal(pkcs7.OIDRSAOAEPSET) {
			return Set1, a.Algorithm, nil
		}
		return "", a.Algorithm, nil
	case cbasn1.Tag(1).Constructed().ContextSpecific(): // kari
		if !ri.SkipASN1(cbasn1.INTEGER) ||
			!ri.SkipASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
			!ri.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
			return "", nil, der.Errorf("KeyAgreeRecipientInfo", "originator", "malformed")
		}
		a, err := pkcs7.ReadAlgorithmIdentifier(&ri)
		if err != nil {
			return "", nil, der.Wrap("KeyAgreeRecipientInfo", "keyEncryptionAlgorithm", err)
		}
		if a.Algorithm.Equal(pkcs7.OIDECDHSHA256KDF) {
			return Modern, a.Algorithm, nil
		}
		return "", a.Algorithm, nil
	case cbasn1.Tag(4).Constructed().ContextSpecific(): // ori
		var oid asn1.ObjectIdentifier
		if !ri.ReadASN1ObjectIdentifier(&oid) {
			return "", nil, der.Errorf("OtherRecipientInfo", "oriType", "malformed")
		}
		if oid.Equal(oidORIKEM) {
			return PQ, oid, nil
		}
		return "", oid, nil
	}
	return "", nil, fmt.Errorf("%w: RecipientInfo alternative %#x", ErrUnknownSuite, uint8(tag))
}
