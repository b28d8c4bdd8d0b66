package encap

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/suite"
)

// S is S{s, t}: t (DER of a SET type with content type ct) signed by s,
// content included. The signer's certificate and chain travel in the
// SignedData.
func S(st suite.Suite, rand io.Reader, s Signer, ct asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	return sign(st, rand, s, ct, t, false)
}

// SO is SO{s, t}: the detached signature of s over t; t is not included.
func SO(st suite.Suite, rand io.Reader, s Signer, ct asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	return sign(st, rand, s, ct, t, true)
}

func sign(st suite.Suite, rand io.Reader, s Signer, ct asn1.ObjectIdentifier, t []byte, detached bool) ([]byte, error) {
	if s.Key == nil || s.Cert == nil {
		return nil, errors.New("encap: signer without key or certificate")
	}
	if err := checkSequence(t); err != nil {
		return nil, err
	}
	certs := make([][]byte, 0, 1+len(s.Chain))
	for _, c := range append([][]byte{s.Cert}, s.Chain...) {
		if s.Omit == nil || !s.Omit(c) {
			certs = append(certs, c)
		}
	}
	signed, err := pkcs7.Sign(rand, ct, t, []pkcs7.Signer{{Key: s.Key, Cert: s.Cert, Hash: st.Hash()}},
		pkcs7.SignOptions{Mode: st.ContentMode(), Detached: detached, Certificates: certs, CRLs: s.CRLs})
	if err != nil {
		return nil, fmt.Errorf("encap: signing %v: %w", ct, err)
	}
	// A key of the wrong kind (an RSA key under modern, say) signs fine
	// but yields a structure no peer of this suite accepts: refuse it here.
	if err := checkSuite(st, signed); err != nil {
		return nil, fmt.Errorf("encap: signing key does not fit the %s suite: %w", st.ID(), err)
	}
	return signed, nil
}

// OpenS checks S{s, t}: the structure is this suite's, carries content of
// type ct, has exactly one signer whose certificate verify accepts, and the
// signature holds. It returns t and the signer's certificate.
func OpenS(st suite.Suite, signed []byte, ct asn1.ObjectIdentifier, verify CertVerifier, opts ...OpenOption) (t []byte, signerCert []byte, err error) {
	sd, err := parseSigned(st, signed, ct)
	if err != nil {
		return nil, nil, err
	}
	if sd.Content == nil {
		return nil, nil, fmt.Errorf("%w: S{} without content", ErrMalformed)
	}
	if err := checkSequence(sd.Content); err != nil {
		return nil, nil, err
	}
	signerCert, err = verifySigned(sd, nil, verify, openOptions(opts))
	if err != nil {
		return nil, nil, err
	}
	return sd.Content, signerCert, nil
}

// VerifySO checks SO{s, t} against t, which the caller holds, and returns
// the signer's certificate.
func VerifySO(st suite.Suite, sig []byte, ct asn1.ObjectIdentifier, t []byte, verify CertVerifier) (signerCert []byte, err error) {
	sd, err := parseSigned(st, sig, ct)
	if err != nil {
		return nil, err
	}
	if sd.Content != nil {
		// SO{} is detached by definition; content riding along could be
		// mistaken for what was verified.
		return nil, fmt.Errorf("%w: SO{} carries content", ErrMalformed)
	}
	if err := checkSequence(t); err != nil {
		return nil, err
	}
	return verifySigned(sd, t, verify, openConfig{})
}

// findSigner returns the signer's certificate, from the SignedData or else
// from held, and the other certificates of both as possible intermediates.
func findSigner(sd *pkcs7.SignedData, si *pkcs7.SignerInfo, held [][]byte) (cert []byte, others [][]byte, ok bool) {
	cert, ok = sd.FindCertificate(si)
	if !ok && len(held) > 0 {
		cert, ok = (&pkcs7.SignedData{Certificates: held}).FindCertificate(si)
	}
	if !ok {
		return nil, nil, false
	}
	for _, c := range append(sd.Certificates[:len(sd.Certificates):len(sd.Certificates)], held...) {
		if !bytes.Equal(c, cert) {
			others = append(others, c)
		}
	}
	return cert, others, true
}

func parseSigned(st suite.Suite, signed []byte, ct asn1.ObjectIdentifier) (*pkcs7.SignedData, error) {
	if err := checkSuite(st, signed); err != nil {
		return nil, err
	}
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, malformed(err)
	}
	if !sd.ContentType.Equal(ct) {
		return nil, fmt.Errorf("%w: signed %v, want %v", ErrWrongContentType, sd.ContentType, ct)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%w: %d signers, SET signs with exactly one", ErrMalformed, len(sd.SignerInfos))
	}
	si := &sd.SignerInfos[0]
	if si.AttrContentType != nil && !si.AttrContentType.Equal(ct) {
		return nil, fmt.Errorf("%w: signed attribute content type %v, want %v", ErrWrongContentType, si.AttrContentType, ct)
	}
	return sd, nil
}

// verifySigned finds the single signer's certificate, has verify accept it,
// and checks the signature with the key verify returned.
func verifySigned(sd *pkcs7.SignedData, detached []byte, verify CertVerifier, oc openConfig) ([]byte, error) {
	if oc.carried != nil {
		oc.carried(&Carried{Content: sd.Content, Certificates: sd.Certificates, CRLs: sd.CRLs})
	}
	var signerCert []byte
	var certErr error
	keyFor := func(si *pkcs7.SignerInfo) (crypto.PublicKey, error) {
		cert, others, ok := findSigner(sd, si, oc.held)
		if !ok {
			certErr = ErrMissingCertificate
			return nil, certErr
		}
		pub, err := verify(cert, others)
		if err != nil {
			certErr = err
			return nil, err
		}
		signerCert = cert
		return pub, nil
	}
	if err := sd.Verify(detached, keyFor); err != nil {
		if certErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrCertificate, certErr)
		}
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if signerCert == nil {
		// Verify must have asked for the signer's key; if not, nothing
		// was verified.
		return nil, fmt.Errorf("%w: no signer checked", ErrSignature)
	}
	return signerCert, nil
}

// DD is DD{t}: a detached DigestedData over t under the suite's hash. It is
// deterministic, so a receiver recomputes it and compares bytes.
func DD(st suite.Suite, ct asn1.ObjectIdentifier, t []byte) ([]byte, error) {
	if err := checkSequence(t); err != nil {
		return nil, err
	}
	return pkcs7.Digest(ct, t, st.Hash(), st.ContentMode(), true)
}

// CheckDD checks that dd is DD{t} for content type ct in this suite.
func CheckDD(st suite.Suite, dd []byte, ct asn1.ObjectIdentifier, t []byte) error {
	if err := checkDDShape(st, dd, ct); err != nil {
		return err
	}
	want, err := DD(st, ct, t)
	if err != nil {
		return err
	}
	if !bytes.Equal(dd, want) {
		return fmt.Errorf("%w: DD{%v}", ErrDigestMismatch, ct)
	}
	return nil
}

// checkDDShape checks what can be checked of a DD{} without its content:
// it decodes, names ct, and holds a digest of the suite's size.
func checkDDShape(st suite.Suite, dd []byte, ct asn1.ObjectIdentifier) error {
	d, err := pkcs7.ParseDigestedData(dd)
	if err != nil {
		return malformed(err)
	}
	if !d.ContentType.Equal(ct) {
		return fmt.Errorf("%w: DD{%v}, want DD{%v}", ErrWrongContentType, d.ContentType, ct)
	}
	if len(d.Digest) != st.Hash().Size() {
		return fmt.Errorf("%w: %d-byte digest in a %s DD{}", ErrWrongSuite, len(d.Digest), st.ID())
	}
	return nil
}

// checkSequence insists that t is the DER of one SEQUENCE. Every SET type
// that is signed or digested is a SEQUENCE (or SEQUENCE OF), and PKCS#7
// v1.5 (set1) digests only the contents octets of the content, leaving its
// tag unprotected: fixing the tag here means a flipped tag (a SET, or the
// other arm of a CHOICE) cannot pass as signed.
func checkSequence(t []byte) error {
	e, err := der.Parse(t)
	if err != nil {
		return fmt.Errorf("%w: signed or digested content: %w", ErrMalformed, err)
	}
	if e.Tag != der.TagSequence {
		return fmt.Errorf("%w: signed or digested content is %s, not SEQUENCE", ErrMalformed, e.Tag)
	}
	return nil
}
