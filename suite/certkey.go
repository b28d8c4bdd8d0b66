package suite

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
)

// certificatePublicKey returns the subject public key of a DER X.509
// certificate. It reads only as far as subjectPublicKeyInfo: the suite
// layer sits below pki, and validating the certificate (chain, type, usage)
// is the caller's job before a certificate reaches Seal.
func certificatePublicKey(cert []byte) (crypto.PublicKey, error) {
	s := cryptobyte.String(cert)
	var c, tbs cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.SEQUENCE) || len(s) != 0 {
		return nil, der.Errorf("Certificate", "", "malformed SEQUENCE")
	}
	if !c.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, der.Errorf("Certificate", "tbsCertificate", "malformed SEQUENCE")
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, der.Errorf("TBSCertificate", "version", "malformed")
	}
	for _, f := range []struct {
		name string
		tag  cbasn1.Tag
	}{
		{"serialNumber", cbasn1.INTEGER},
		{"signature", cbasn1.SEQUENCE},
		{"issuer", cbasn1.SEQUENCE},
		{"validity", cbasn1.SEQUENCE},
		{"subject", cbasn1.SEQUENCE},
	} {
		if !tbs.SkipASN1(f.tag) {
			return nil, der.Errorf("TBSCertificate", f.name, "malformed")
		}
	}
	var spki cryptobyte.String
	if !tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, der.Errorf("TBSCertificate", "subjectPublicKeyInfo", "malformed SEQUENCE")
	}
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, der.Wrap("TBSCertificate", "subjectPublicKeyInfo", fmt.Errorf("%w: %v", ErrKeyType, err))
	}
	return pub, nil
}
