package msg

import (
	"crypto"
	"crypto/subtle"

	"github.com/setpay/setpay/internal/pkcs7"
)

// ThumbOf returns the CertThumb of a certificate: the digest under h of
// its DER, with the digest algorithm named (docs/spec-gaps.md, pki).
func ThumbOf(h crypto.Hash, certDER []byte) CertThumb {
	d := h.New()
	d.Write(certDER)
	return CertThumb{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h), Thumbprint: d.Sum(nil)}
}

// Matches reports whether t is the thumbprint of certDER.
func (v *CertThumb) Matches(certDER []byte) bool {
	if v == nil {
		return false
	}
	h, err := pkcs7.HashForAlgorithm(v.DigestAlgorithm)
	if err != nil {
		return false
	}
	want := ThumbOf(h, certDER)
	return subtle.ConstantTimeCompare(want.Thumbprint, v.Thumbprint) == 1
}
