package encap

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/setpay/setpay/suite"
)

// E is E{r, t}: t in a digital envelope for the holder of the key-exchange
// certificate recipientCert. The caller has validated recipientCert.
func E(st suite.Suite, rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	return seal(st, rand, recipientCert, ct, t, nil, false)
}

// EH is EH{r, t}: as E, with H(t) bound into the key transport so t cannot
// be swapped under the same key (set1); in modern GCM gives this already.
func EH(st suite.Suite, rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	return seal(st, rand, recipientCert, ct, t, nil, true)
}

// EX is EX{r, t, p}: t in an envelope and the small secret p (e.g. PANData)
// beside the content-encryption key, never under the bulk cipher (set1).
// t is passed as is: the linkage L{t, p} that SET's TBE types spell out is
// the message layer's to build, since it names p's content type.
func EX(st suite.Suite, rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, t, p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, errors.New("encap: EX{} without extra data")
	}
	return seal(st, rand, recipientCert, ct, t, p, false)
}

// EXH is EXH{r, t, p}: EX with H(t) bound into the key transport.
func EXH(st suite.Suite, rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, t, p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, errors.New("encap: EXH{} without extra data")
	}
	return seal(st, rand, recipientCert, ct, t, p, true)
}

func seal(st suite.Suite, rand io.Reader, recipientCert []byte, ct asn1.ObjectIdentifier, t, p []byte, withHash bool) ([]byte, error) {
	env, err := st.Seal(rand, recipientCert, ct, t, p, withHash)
	if err != nil {
		return nil, fmt.Errorf("encap: enveloping %v: %w", ct, err)
	}
	return env, nil
}

// OpenE opens E{r, t} with the recipient's key-exchange key and certificate
// and returns t, which must be of content type ct. An envelope that carries
// extra data is not an E{} and is refused.
func OpenE(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) (t []byte, err error) {
	t, p, err := open(st, key, cert, env, ct)
	if err != nil {
		return nil, err
	}
	if p != nil {
		return nil, fmt.Errorf("%w: extra data in an envelope without it", ErrMalformed)
	}
	return t, nil
}

// OpenEH opens EH{r, t}. The suite checks H(t) when the envelope carries it.
func OpenEH(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) (t []byte, err error) {
	return OpenE(st, key, cert, env, ct)
}

// OpenEX opens EX{r, t, p} and returns t and p.
func OpenEX(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) (t, p []byte, err error) {
	t, p, err = open(st, key, cert, env, ct)
	if err != nil {
		return nil, nil, err
	}
	if len(p) == 0 {
		return nil, nil, fmt.Errorf("%w: envelope lacks its extra data", ErrMalformed)
	}
	return t, p, nil
}

// OpenEXH opens EXH{r, t, p}. The suite checks H(t) when the envelope
// carries it.
func OpenEXH(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) (t, p []byte, err error) {
	return OpenEX(st, key, cert, env, ct)
}

func open(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ct asn1.ObjectIdentifier) (t, p []byte, err error) {
	if err := checkSuite(st, env); err != nil {
		return nil, nil, err
	}
	got, t, p, err := st.Open(key, cert, env)
	if err != nil {
		switch {
		case errors.Is(err, suite.ErrDecrypt):
			return nil, nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
		case errors.Is(err, suite.ErrKeyType):
			return nil, nil, fmt.Errorf("%w: %w", ErrWrongSuite, err)
		}
		return nil, nil, malformed(err)
	}
	if !got.Equal(ct) {
		return nil, nil, fmt.Errorf("%w: envelope holds %v, want %v", ErrWrongContentType, got, ct)
	}
	return t, p, nil
}

// Enc is Enc{s, r, t} = E{r, S{s, t}}: t signed by s (content type
// ctSigned, SET's …TBS types), the SignedData enveloped for r (content type
// ctEnvelope, SET's …TBE types).
func Enc(st suite.Suite, rand io.Reader, s Signer, recipientCert []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	signed, err := S(st, rand, s, ctSigned, t)
	if err != nil {
		return nil, err
	}
	return E(st, rand, recipientCert, ctEnvelope, signed)
}

// OpenEnc reverses Enc: it opens the envelope, checks the inner signature
// and returns t, the inner SignedData byte for byte (for records and
// non-repudiation) and the signer's certificate.
func OpenEnc(st suite.Suite, key suite.ExchangeKey, cert, env []byte, ctSigned, ctEnvelope asn1.ObjectIdentifier, verify CertVerifier, opts ...OpenOption) (t, signed, signerCert []byte, err error) {
	signed, err = OpenE(st, key, cert, env, ctEnvelope)
	if err != nil {
		return nil, nil, nil, err
	}
	t, signerCert, err = OpenS(st, signed, ctSigned, verify, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, signed, signerCert, nil
}
