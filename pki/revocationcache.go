package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// ErrStaleCRL: a CRL or BrandCRLIdentifier offered to a RevocationCache is
// older than the one it holds from the same issuer (or brand), or claims
// the same number with different contents. It is ignored.
var ErrStaleCRL = errors.New("pki: CRL older than the one held")

// RevocationCache is a RevocationSource that learns revocation state from
// outside the process: CRLs and BrandCRLIdentifiers that arrive in
// messages (SET's crls field, CRLNotification) or are fetched from a CA.
// It accepts one only if its signature verifies with the certificate of a
// CA that itself chains to the cache's roots, and keeps the newest CRL per
// issuing CA certificate (by cRLNumber) and the newest BCI per brand (by
// sequenceNum), so a replayed older list can never undo a revocation.
//
// Use: build one per party with NewRevocationCache, give it to the party
// as its Revocation, feed it with Add whenever CRLs or BCIs arrive, and
// put Thumbs in outgoing requests so the peer can skip what is held.
// Safe for concurrent use. The zero value is not usable.
type RevocationCache struct {
	roots []*Certificate
	now   func() time.Time

	mu   sync.RWMutex
	crls map[[32]byte]*CRL // by SHA-256 of the issuing CA certificate
	// issuers are the CA certificates the CRLs were verified with, by the
	// same key: LearnCarried needs them to match BCI entries (carry.go).
	issuers map[[32]byte]*Certificate
	bcis    map[string]*BrandCRLIdentifier // by BrandID
	// list and bci are what Revocation hands out, rebuilt on change and
	// never modified afterwards.
	list []*CRL
	bci  *BrandCRLIdentifier
}

// NewRevocationCache returns an empty cache that accepts CRLs and BCIs of
// CAs chaining to roots, validated at now() (nil: time.Now).
func NewRevocationCache(roots []*Certificate, now func() time.Time) *RevocationCache {
	if now == nil {
		now = time.Now
	}
	return &RevocationCache{
		roots:   append([]*Certificate(nil), roots...),
		now:     now,
		crls:    map[[32]byte]*CRL{},
		issuers: map[[32]byte]*Certificate{},
		bcis:    map[string]*BrandCRLIdentifier{},
	}
}

// Add verifies and installs CRLs (DER) and a BrandCRLIdentifier (DER, nil
// for none). cas are CA certificates that may have issued them (the
// certificates that came with them); the roots count too, so a root's own
// CRL needs nothing in cas. Every item is judged on its own: the good
// ones are installed even if others fail, and the error joins one error
// per rejected item, each wrapping ErrBadCRL (not from a CA chaining to
// the roots, bad signature, undecodable) or ErrStaleCRL (older than the
// one held). Offering the very CRL or BCI already held is not an error.
func (c *RevocationCache) Add(cas []*Certificate, crlDERs [][]byte, bciDER []byte) error {
	now := c.now()
	var errs []error
	type accepted struct {
		key    [32]byte
		crl    *CRL
		issuer *Certificate
	}
	var good []accepted
	for i, b := range crlDERs {
		crl, err := ParseCRL(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: CRL %d: %v", ErrBadCRL, i, err))
			continue
		}
		issuer, err := c.findIssuer(cas, now, crl.RawIssuer, func(ca *Certificate) error { return crl.CheckSignatureFrom(ca) })
		if err != nil {
			errs = append(errs, fmt.Errorf("CRL %v of %q: %w", crl.Number, crl.Issuer.CommonName, err))
			continue
		}
		good = append(good, accepted{sha256.Sum256(issuer.Raw), crl, issuer})
	}
	var bci *BrandCRLIdentifier
	if bciDER != nil {
		b, err := ParseBrandCRLIdentifier(bciDER)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: BrandCRLIdentifier: %v", ErrBadCRL, err))
		} else if _, err := c.findIssuer(cas, now, nil, func(ca *Certificate) error { return b.Verify(ca) }); err != nil {
			errs = append(errs, fmt.Errorf("BrandCRLIdentifier %d of %q: %w", b.SequenceNum, b.BrandID, err))
		} else {
			bci = b
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	for _, a := range good {
		old := c.crls[a.key]
		switch {
		case old == nil || a.crl.Number.Cmp(old.Number) > 0:
			c.crls[a.key] = a.crl
			c.issuers[a.key] = a.issuer
			changed = true
		case a.crl.Number.Cmp(old.Number) == 0 && bytes.Equal(a.crl.Raw, old.Raw):
			// Already held.
		default:
			errs = append(errs, fmt.Errorf("%w: CRL %v of %q offered, %v held", ErrStaleCRL, a.crl.Number, a.crl.Issuer.CommonName, old.Number))
		}
	}
	if bci != nil {
		old := c.bcis[bci.BrandID]
		switch {
		case old == nil || bci.SequenceNum > old.SequenceNum:
			c.bcis[bci.BrandID] = bci
			changed = true
		case bci.SequenceNum == old.SequenceNum && bytes.Equal(bci.Raw, old.Raw):
		default:
			errs = append(errs, fmt.Errorf("%w: BrandCRLIdentifier %d of %q offered, %d held", ErrStaleCRL, bci.SequenceNum, bci.BrandID, old.SequenceNum))
		}
	}
	if changed {
		c.rebuild()
	}
	return errors.Join(errs...)
}

// findIssuer returns the CA certificate among cas and the roots, named
// name (nil: any brand CA), that check accepts and that chains to the roots at now. Revocation of that
// CA is not checked here: a CRL can only add revocations, and the
// certificates it lists are refused either way.
func (c *RevocationCache) findIssuer(cas []*Certificate, now time.Time, name []byte, check func(*Certificate) error) (*Certificate, error) {
	var firstErr error
	for _, pool := range [][]*Certificate{c.roots, cas} {
		for _, ca := range pool {
			if ca == nil || (name != nil && !bytes.Equal(ca.RawSubject, name)) || (name == nil && ca.CertType&CertTypeBCA == 0) {
				continue
			}
			if err := check(ca); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if _, err := ca.Verify(VerifyOptions{Roots: c.roots, Intermediates: cas, Now: now}); err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("%w: its issuer %v does not chain to a trusted root: %v", ErrBadCRL, ca, err)
				}
				continue
			}
			return ca, nil
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%w: issuing CA certificate not at hand", ErrBadCRL)
	}
	return nil, firstErr
}

// rebuild refreshes what Revocation hands out. c.mu is held.
func (c *RevocationCache) rebuild() {
	list := make([]*CRL, 0, len(c.crls))
	for _, crl := range c.crls {
		list = append(list, crl)
	}
	// A stable order, so Thumbs lists the same bytes for the same state.
	slices.SortFunc(list, func(a, b *CRL) int { return bytes.Compare(a.Raw, b.Raw) })
	c.list = list
	c.bci = nil
	if len(c.bcis) == 1 {
		for _, b := range c.bcis {
			c.bci = b
		}
	}
}

// Revocation returns every CRL held and, when the cache holds the BCI of
// exactly one brand, that BCI (Verify checks a BCI against the brand CA of
// the chain, so with several brands none is handed out; use BCI to pick).
// The slice is never modified afterwards.
func (c *RevocationCache) Revocation(context.Context) ([]*CRL, *BrandCRLIdentifier, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.list, c.bci, nil
}

// BCI returns the newest BrandCRLIdentifier held for brand, or nil.
func (c *RevocationCache) BCI(brand string) *BrandCRLIdentifier {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bcis[brand]
}

// Thumbs lists what the cache holds as SET's Thumbs: the digest under h
// of each CRL's DER (crlThumbs) and of each BCI's DER
// (brandCRLIdThumbs), as msg.ThumbOf computes them for certificates.
// Certificate thumbprints are the caller's to add. Nil lists mean none
// held.
func (c *RevocationCache) Thumbs(h crypto.Hash) *msg.Thumbs {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t := &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h)}
	for _, crl := range c.list {
		t.CRLThumbs = append(t.CRLThumbs, msg.ThumbOf(h, crl.Raw).Thumbprint)
	}
	for _, brand := range slices.Sorted(maps.Keys(c.bcis)) {
		b := c.bcis[brand]
		t.BrandCRLIdThumbs = append(t.BrandCRLIdThumbs, msg.ThumbOf(h, b.Raw).Thumbprint)
	}
	return t
}
