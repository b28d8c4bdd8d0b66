package encap

import (
	"encoding/asn1"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/suite"
)

// L is SET's linkage L{t, u} = SEQUENCE { t, DD{u} }: t in clear with a
// digest pointer to u (content type ctU), which travels elsewhere.
func L(st suite.Suite, t []byte, ctU asn1.ObjectIdentifier, u []byte) ([]byte, error) {
	if _, err := der.Parse(t); err != nil {
		return nil, fmt.Errorf("%w: linked value: %w", ErrMalformed, err)
	}
	dd, err := DD(st, ctU, u)
	if err != nil {
		return nil, err
	}
	return pair(t, dd)
}

// OpenL checks that l is L{t, u} for the u the caller holds and returns t.
func OpenL(st suite.Suite, l []byte, ctU asn1.ObjectIdentifier, u []byte) (t []byte, err error) {
	t, dd, err := splitPair(l, "L")
	if err != nil {
		return nil, err
	}
	if err := CheckDD(st, dd, ctU, u); err != nil {
		return nil, err
	}
	return t, nil
}

// pair encodes SEQUENCE { a, b } from two DER encodings, byte for byte.
func pair(a, b []byte) ([]byte, error) {
	var bld cryptobyte.Builder
	bld.AddASN1(cbasn1.SEQUENCE, func(bld *cryptobyte.Builder) {
		bld.AddBytes(a)
		bld.AddBytes(b)
	})
	return bld.Bytes()
}

// splitPair decodes SEQUENCE { a, b } into the two raw encodings.
func splitPair(p []byte, typ string) (a, b []byte, err error) {
	e, err := der.Parse(p)
	if err == nil {
		err = e.Expect(der.TagSequence)
	}
	var parts []der.Element
	if err == nil {
		parts, err = e.Children()
	}
	if err == nil && len(parts) != 2 {
		err = fmt.Errorf("%d components, want 2", len(parts))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, der.Wrap(typ, "", err))
	}
	return parts[0].Raw, parts[1].Raw, nil
}

// EncX is EncX{s, r, t, p} = EX{r, {t, SO{s, {t, p}}}, p}: the signature
// covers both t and the secret p, and p rides beside the key (set1) rather
// than under the bulk cipher. The SO{} carries content type ctSigned, the
// envelope ctEnvelope (SET's …TBS and …TBEX types).
func EncX(st suite.Suite, rand io.Reader, s Signer, recipientCert []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier, t, p []byte) ([]byte, error) {
	if _, err := der.Parse(t); err != nil {
		return nil, fmt.Errorf("%w: EncX content: %w", ErrMalformed, err)
	}
	tp, err := pair(t, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	so, err := SO(st, rand, s, ctSigned, tp)
	if err != nil {
		return nil, err
	}
	inner, err := pair(t, so)
	if err != nil {
		return nil, err
	}
	return EX(st, rand, recipientCert, ctEnvelope, inner, p)
}

// OpenEncX reverses EncX: it opens the envelope, rebuilds {t, p} and checks
// the signature over it. It returns t, p and the signer's certificate.
func OpenEncX(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier, verify CertVerifier) (t, p, signerCert []byte, err error) {
	inner, p, err := OpenEX(st, key, cert, env, ctEnvelope)
	if err != nil {
		return nil, nil, nil, err
	}
	t, so, err := splitPair(inner, "EncX")
	if err != nil {
		return nil, nil, nil, err
	}
	tp, err := pair(t, p)
	if err != nil {
		return nil, nil, nil, err
	}
	if signerCert, err = VerifySO(st, so, ctSigned, tp, verify); err != nil {
		return nil, nil, nil, err
	}
	return t, p, signerCert, nil
}

// EncB is the enveloped part of EncB{s, r, t, b} = {Enc{s, r, L{t, b}}, b}:
// the baggage b (content type ctB) travels beside the envelope, in clear
// to whoever carries it, while its digest is signed inside. The caller
// sends b with the result.
func EncB(st suite.Suite, rand io.Reader, s Signer, recipientCert []byte, ctSigned, ctEnvelope, ctB asn1.ObjectIdentifier, t, b []byte) ([]byte, error) {
	l, err := L(st, t, ctB, b)
	if err != nil {
		return nil, err
	}
	return Enc(st, rand, s, recipientCert, ctSigned, ctEnvelope, l)
}

// OpenEncB opens the envelope of EncB, checks the signature and that the
// signed linkage points at the baggage b received beside it, and returns t,
// the inner SignedData and the signer's certificate.
func OpenEncB(st suite.Suite, key suite.ExchangeKey, cert, env, b []byte, ctSigned, ctEnvelope, ctB asn1.ObjectIdentifier, verify CertVerifier, opts ...OpenOption) (t, signed, signerCert []byte, err error) {
	l, signed, signerCert, err := OpenEnc(st, key, cert, env, ctSigned, ctEnvelope, verify, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	if t, err = OpenL(st, l, ctB, b); err != nil {
		return nil, nil, nil, err
	}
	return t, signed, signerCert, nil
}
