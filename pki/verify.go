package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Verification failures. Verify wraps one of these with the details, so
// callers test with errors.Is and map to a SET ErrorCode.
var (
	ErrExpired           = errors.New("pki: certificate expired or not yet valid")
	ErrUnknownIssuer     = errors.New("pki: certificate signed by unknown authority")
	ErrBadSignature      = errors.New("pki: bad certificate signature")
	ErrWrongUsage        = errors.New("pki: certificate not valid for this usage")
	ErrWrongType         = errors.New("pki: wrong SET certificate type")
	ErrUnhandledCritical = errors.New("pki: unhandled critical extension")
	ErrHashedRootKey     = errors.New("pki: hashedRootKey does not match the root key")
)

// VerifyOptions says what a chain must satisfy.
type VerifyOptions struct {
	Roots         []*Certificate // trust anchors
	Intermediates []*Certificate
	Now           time.Time // zero: time.Now()
	// CertType lists the type bits the leaf must carry; 0 accepts any.
	CertType CertType
	// KeyUsage lists the key usages the leaf must allow; 0 accepts any.
	KeyUsage x509.KeyUsage

	// CRLs are checked against every certificate of the chain: a serial
	// listed in an authentic CRL of its issuer fails with ErrRevoked. CRLs
	// from other issuers or with bad signatures are ignored.
	CRLs []*CRL
	// RequireCRLs makes every CA of the chain need a current CRL
	// (ThisUpdate ≤ Now < NextUpdate) among CRLs, else ErrNoCRL.
	RequireCRLs bool
	// BrandCRLIdentifier, when set, must be current, signed by the brand
	// CA of the chain, and every CRL it lists for a CA of the chain must
	// be among CRLs (else ErrNoCRL or ErrBadCRL).
	BrandCRLIdentifier *BrandCRLIdentifier
}

// maxChainLength bounds path building: Root, Brand, Geo, CA, leaf and
// some room for cross-certification.
const maxChainLength = 8

// Verify builds a chain from c to one of opts.Roots and checks it:
// signatures (over the raw TBS bytes), validity at opts.Now, unknown
// critical extensions, basicConstraints and pathLenConstraint, keyCertSign,
// SET's certificate-type rules (a CA issues only the types its own type
// allows), hashedRootKey against the root reached and, when CRLs are given
// or required, revocation of every certificate. It returns the chain from c
// to the root.
func (c *Certificate) Verify(opts VerifyOptions) ([]*Certificate, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.CertType != 0 && c.CertType&opts.CertType != opts.CertType {
		return nil, fmt.Errorf("%w: %v has type %v, want %v", ErrWrongType, c, c.CertType, opts.CertType)
	}
	if opts.KeyUsage != 0 && c.KeyUsage&opts.KeyUsage != opts.KeyUsage {
		return nil, fmt.Errorf("%w: %v allows key usage %#x, want %#x", ErrWrongUsage, c, c.KeyUsage, opts.KeyUsage)
	}
	chain, err := opts.build([]*Certificate{c})
	if err != nil {
		return nil, err
	}
	root := chain[len(chain)-1]
	for _, cert := range chain {
		if cert.HashedRootKey == nil {
			continue
		}
		want := RootKeyThumbprint(root.RawSubjectPublicKeyInfo, cert.HashedRootKeyAlg)
		if !bytes.Equal(want, cert.HashedRootKey) {
			return nil, fmt.Errorf("%w: in %v", ErrHashedRootKey, cert)
		}
	}
	if len(opts.CRLs) > 0 || opts.RequireCRLs || opts.BrandCRLIdentifier != nil {
		if err := opts.checkRevocation(chain); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

func (opts *VerifyOptions) checkOne(c *Certificate) error {
	if opts.Now.Before(c.NotBefore) || opts.Now.After(c.NotAfter) {
		return fmt.Errorf("%w: %v valid %v to %v, now %v", ErrExpired, c,
			c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), opts.Now.UTC().Format(time.RFC3339))
	}
	if len(c.UnknownCritical) > 0 {
		return fmt.Errorf("%w: %v in %v", ErrUnhandledCritical, c.UnknownCritical[0], c)
	}
	return nil
}

// build extends chain (leaf first) until it ends at a root. The error
// returned is the one from the most promising candidate, so a tampered
// signature reports ErrBadSignature rather than ErrUnknownIssuer.
func (opts *VerifyOptions) build(chain []*Certificate) ([]*Certificate, error) {
	cur := chain[len(chain)-1]
	if err := opts.checkOne(cur); err != nil {
		return nil, err
	}
	for _, r := range opts.Roots {
		if bytes.Equal(r.Raw, cur.Raw) {
			return chain, nil
		}
	}
	if len(chain) >= maxChainLength {
		return nil, fmt.Errorf("%w: chain longer than %d", ErrUnknownIssuer, maxChainLength)
	}
	var firstErr error
	found := false
	for _, pool := range [][]*Certificate{opts.Roots, opts.Intermediates} {
		for _, cand := range pool {
			if !issuedBy(cur, cand) || inChain(chain, cand) {
				continue
			}
			found = true
			err := checkIssuance(cand, cur, len(chain)-1)
			if err == nil {
				err = verifySignature(cand, cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature)
				if err != nil {
					err = fmt.Errorf("%w: %v issued by %v: %v", ErrBadSignature, cur, cand, err)
				}
			}
			if err == nil {
				var full []*Certificate
				if full, err = opts.build(append(chain[:len(chain):len(chain)], cand)); err == nil {
					return full, nil
				}
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no issuer for %v", ErrUnknownIssuer, cur)
	}
	return nil, firstErr
}

// issuedBy matches a candidate issuer by name and, where present, by the
// authority key identifier's key ID or issuer name and serial number.
func issuedBy(child, cand *Certificate) bool {
	if !bytes.Equal(child.RawIssuer, cand.RawSubject) {
		return false
	}
	if child.AuthorityKeyID != nil && cand.SubjectKeyID != nil && !bytes.Equal(child.AuthorityKeyID, cand.SubjectKeyID) {
		return false
	}
	if child.AuthorityCertSerial != nil {
		if child.AuthorityCertSerial.Cmp(cand.SerialNumber) != 0 || !bytes.Equal(child.AuthorityCertIssuer, cand.RawIssuer) {
			return false
		}
	}
	return true
}

func inChain(chain []*Certificate, c *Certificate) bool {
	for _, x := range chain {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// checkIssuance checks that issuer may have issued child, which sits above
// intermediatesBelow CA certificates on the way to the leaf.
func checkIssuance(issuer, child *Certificate, intermediatesBelow int) error {
	if !issuer.IsCA {
		return fmt.Errorf("%w: %v is not a CA", ErrWrongUsage, issuer)
	}
	if issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("%w: %v lacks keyCertSign", ErrWrongUsage, issuer)
	}
	if issuer.MaxPathLen >= 0 && intermediatesBelow > issuer.MaxPathLen {
		return fmt.Errorf("%w: %v pathLenConstraint %d exceeded", ErrWrongUsage, issuer, issuer.MaxPathLen)
	}
	if !MayIssue(issuer.CertType, child.CertType) {
		return fmt.Errorf("%w: %v may not issue %v", ErrWrongType, issuer, child)
	}
	return nil
}
