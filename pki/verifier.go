package pki

import (
	"crypto"
	"errors"

	"github.com/setpay/setpay/msg"
)

// CertVerifier returns a function that validates a signer or recipient
// certificate against opts (roots, time, required type and usage), using
// the certificates that travelled with the message as intermediates. It has
// the shape of encap.CertVerifier. Failures are *msg.ProtocolError with the
// SET ErrorCode a party answers with.
func CertVerifier(opts VerifyOptions) func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error) {
	return func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error) {
		leaf, err := ParseCertificate(certDER)
		if err != nil {
			return nil, msg.Errorf(msg.InvalidCertificate, "certificate: %w", err)
		}
		o := opts
		o.Intermediates = append([]*Certificate(nil), opts.Intermediates...)
		for _, b := range intermediates {
			c, err := ParseCertificate(b)
			if err != nil {
				return nil, msg.Errorf(msg.InvalidCertificate, "accompanying certificate: %w", err)
			}
			o.Intermediates = append(o.Intermediates, c)
		}
		if _, err := leaf.Verify(o); err != nil {
			return nil, &msg.ProtocolError{Code: ErrorCode(err), Err: err}
		}
		return leaf.PublicKey, nil
	}
}

// ErrorCode maps a verification failure to the SET ErrorCode for it.
func ErrorCode(err error) msg.ErrorCode {
	switch {
	case errors.Is(err, ErrExpired):
		return msg.ExpiredCertificate
	case errors.Is(err, ErrRevoked):
		return msg.RevokedCertificate
	case errors.Is(err, ErrUnknownIssuer):
		return msg.MissingCertificate
	case errors.Is(err, ErrUnhandledCritical):
		return msg.UnrecognizedExtension
	default:
		return msg.InvalidCertificate
	}
}

// SameSubject reports whether two certificates name the same subject: a
// party's signature and key-exchange certificates do.
func SameSubject(a, b []byte) bool {
	ca, err1 := ParseCertificate(a)
	cb, err2 := ParseCertificate(b)
	return err1 == nil && err2 == nil && string(ca.RawSubject) == string(cb.RawSubject)
}
