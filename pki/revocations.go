package pki

import (
	"bytes"
	"context"
	"crypto"
	"sync"

	"github.com/setpay/setpay/msg"
)

// RevocationSource supplies the CRLs and the BrandCRLIdentifier a party
// checks certificates against. Parties ask it at every check, not once at
// start-up, so that a revocation takes effect for the next transaction.
type RevocationSource interface {
	Revocation(ctx context.Context) (crls []*CRL, bci *BrandCRLIdentifier, err error)
}

// Revocations is an in-memory RevocationSource, safe for concurrent use.
// The zero value holds nothing, which revokes nothing.
type Revocations struct {
	mu   sync.RWMutex
	crls []*CRL
	bci  *BrandCRLIdentifier
}

// Set replaces every CRL and the BrandCRLIdentifier (nil for none).
func (r *Revocations) Set(crls []*CRL, bci *BrandCRLIdentifier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.crls = append([]*CRL(nil), crls...)
	r.bci = bci
}

// Update installs crl in place of the CRL held from the same issuing
// certificate (same issuer name and authorityKeyIdentifier) if crl's number
// is higher, and adds it if none is held. An older or equal number is
// ignored, so a replayed CRL cannot undo a revocation. bci, if not nil,
// replaces the BrandCRLIdentifier when its SequenceNum is higher.
func (r *Revocations) Update(crl *CRL, bci *BrandCRLIdentifier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if bci != nil && (r.bci == nil || bci.SequenceNum > r.bci.SequenceNum) {
		r.bci = bci
	}
	if crl == nil || crl.Number == nil {
		return
	}
	for i, old := range r.crls {
		if sameCRLIssuer(old, crl) {
			if crl.Number.Cmp(old.Number) > 0 {
				// Copy on write: Revocation hands out the slice.
				crls := append([]*CRL(nil), r.crls...)
				crls[i] = crl
				r.crls = crls
			}
			return
		}
	}
	r.crls = append(r.crls[:len(r.crls):len(r.crls)], crl)
}

func sameCRLIssuer(a, b *CRL) bool {
	return bytes.Equal(a.RawIssuer, b.RawIssuer) && bytes.Equal(a.AuthorityCertIssuer, b.AuthorityCertIssuer) &&
		a.AuthorityCertSerial != nil && b.AuthorityCertSerial != nil && a.AuthorityCertSerial.Cmp(b.AuthorityCertSerial) == 0
}

// Revocation returns the CRLs and BrandCRLIdentifier held now. The slice
// is never modified afterwards.
func (r *Revocations) Revocation(context.Context) ([]*CRL, *BrandCRLIdentifier, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.crls, r.bci, nil
}

// RevocationVerifier is CertVerifier with the revocation state taken from
// src at the moment of each check: its CRLs are added to opts.CRLs and its
// BrandCRLIdentifier, if any, replaces opts.BrandCRLIdentifier. A nil src
// gives plain CertVerifier(opts). If src fails, the certificate is refused
// (invalidCertificate): a party that cannot learn whether a certificate is
// revoked must not accept it.
//
// The check runs inside encap, which carries no context, so src is asked
// with context.Background().
func RevocationVerifier(src RevocationSource, opts VerifyOptions) func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error) {
	if src == nil {
		return CertVerifier(opts)
	}
	return func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error) {
		crls, bci, err := src.Revocation(context.Background())
		if err != nil {
			return nil, msg.Errorf(msg.InvalidCertificate, "revocation status: %w", err)
		}
		o := opts
		o.CRLs = append(append([]*CRL(nil), opts.CRLs...), crls...)
		if bci != nil {
			o.BrandCRLIdentifier = bci
		}
		return CertVerifier(o)(certDER, intermediates)
	}
}
