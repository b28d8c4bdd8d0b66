package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// ErrStaleCRL: a CRL or BrandCRLIdentifier offered to a RevocationCache
// is older than the one it holds from the same issuer (or brand), or
// claims the same number with different contents, or is a BCI that lists
// an older CRL than one held. It is ignored.
var ErrStaleCRL = errors.New("pki: CRL older than the one held")

// ErrCRLMismatch: a CRL or BrandCRLIdentifier offered to a
// RevocationCache would leave it holding a BCI and CRLs that disagree — a
// BCI listing a CRL neither held nor offered with it, or a CRL other than
// the one the brand's BCI lists. Verify wants exactly the CRL a BCI lists,
// so the cache would refuse every chain through that CA (ErrNoCRL). It is
// ignored; the BCI and the CRLs it lists offered together are taken.
var ErrCRLMismatch = errors.New("pki: CRL and BrandCRLIdentifier disagree")

// RevocationCache is a RevocationSource that learns revocation state from
// outside the process: CRLs and BrandCRLIdentifiers that arrive in
// messages (SET's crls field, CRLNotification) or are fetched from a CA.
// It accepts one only if its signature verifies with the certificate of a
// CA that itself chains to the cache's roots (a BCI: of the brand CA of
// the brand it names), and keeps the newest CRL per issuing CA
// certificate and the newest BCI per brand, so a replayed older list can
// never undo a revocation, and never a BCI and CRLs that disagree (see
// Add).
//
// Use: build one per party with NewRevocationCache, give it to the party
// as its Revocation, feed it with Add whenever CRLs or BCIs arrive, and
// put Thumbs in outgoing requests so the peer can skip what is held.
// Safe for concurrent use. The zero value is not usable.
type RevocationCache struct {
	// Log receives what Learn drops, with the reason (nil: slog.Default()):
	// a forgery or garbage as a warning, an item older than or at odds
	// with what is held as information. Set it before the cache is shared.
	Log *slog.Logger

	roots []*Certificate
	now   func() time.Time

	mu   sync.RWMutex
	crls map[[32]byte]*CRL // by SHA-256 of the issuing CA certificate
	// issuers are the CA certificates the CRLs were verified with, by the
	// same key: they are candidate issuers of what is offered later (a
	// message may carry the CCA's CRL without the CCA's certificate) and
	// name the CAs a BCI lists.
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
// certificates that came with them); the roots and the issuers of the
// CRLs held count too, so a root's own CRL needs nothing in cas.
//
// What is held never goes backwards. A CRL replaces the one held from
// the same CA certificate only if its number is higher and its thisUpdate
// no earlier; a BCI replaces its brand's only if its sequence number is
// higher and its notBefore no earlier. A BCI is taken only if every CRL
// it lists is held or offered with it, and none is older than one held;
// a CRL only if no current BCI held (nor the one offered with it) lists
// another CRL of its CA. So a replayed, genuine but old notification can
// neither bring back an older CRL nor pin one the cache no longer holds.
//
// Every item is judged on its own: the good ones are installed even if
// others fail, and the error joins one error per rejected item, each
// wrapping ErrBadCRL (not from a CA chaining to the roots, a BCI not from
// the brand CA of its brand, bad signature, undecodable), ErrStaleCRL
// (older than what is held) or ErrCRLMismatch (at odds with what is
// held). Offering the very CRL or BCI already held is not an error. The
// decision and the installation are one step under the cache's lock, so
// concurrent calls cannot undo each other's checks.
func (c *RevocationCache) Add(cas []*Certificate, crlDERs [][]byte, bciDER []byte) error {
	return errors.Join(c.offer(cas, crlDERs, bciDER)...)
}

// verifiedCRL is a CRL whose signature and issuer have been checked.
type verifiedCRL struct {
	key    [32]byte // SHA-256 of issuer.Raw
	crl    *CRL
	issuer *Certificate
}

// offer is Add, returning one error per rejected item. Signatures are
// checked without the lock held (they do not depend on the cache's
// state); what to keep is decided under it.
func (c *RevocationCache) offer(cas []*Certificate, crlDERs [][]byte, bciDER []byte) []error {
	now := c.now()
	c.mu.RLock()
	pool := append(slices.Clip(cas), slices.Collect(maps.Values(c.issuers))...)
	// What is held already needs no second check: a responder that was
	// not told what we hold sends it again and again.
	var held [][]byte
	for _, crl := range c.list {
		held = append(held, crl.Raw)
	}
	for _, b := range c.bcis {
		held = append(held, b.Raw)
	}
	c.mu.RUnlock()
	isHeld := func(der []byte) bool {
		return slices.ContainsFunc(held, func(h []byte) bool { return bytes.Equal(h, der) })
	}

	var errs []error
	var good []verifiedCRL
	for i, b := range crlDERs {
		if isHeld(b) {
			continue
		}
		crl, err := ParseCRL(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: CRL %d: %v", ErrBadCRL, i, err))
			continue
		}
		issuer, err := c.findIssuer(pool, now, crl.RawIssuer, func(ca *Certificate) error { return crl.CheckSignatureFrom(ca) })
		if err != nil {
			errs = append(errs, fmt.Errorf("CRL %v of %q: %w", crl.Number, crl.Issuer.CommonName, err))
			continue
		}
		good = append(good, verifiedCRL{sha256.Sum256(issuer.Raw), crl, issuer})
	}
	var bci *BrandCRLIdentifier
	if bciDER != nil && !isHeld(bciDER) {
		b, err := ParseBrandCRLIdentifier(bciDER)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: BrandCRLIdentifier: %v", ErrBadCRL, err))
		} else if _, err := c.findIssuer(pool, now, nil, func(ca *Certificate) error { return b.Verify(ca) }); err != nil {
			errs = append(errs, fmt.Errorf("BrandCRLIdentifier %d of %q: %w", b.SequenceNum, b.BrandID, err))
		} else {
			bci = b
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	return append(errs, c.install(now, append(slices.Clip(c.roots), pool...), good, bci)...)
}

// install keeps of crls and bci what is newer than and agrees with what
// is held (see Add), and returns one error per item it refuses. cas are
// the CA certificates a BCI's entries may name. c.mu is held.
func (c *RevocationCache) install(now time.Time, cas []*Certificate, crls []verifiedCRL, bci *BrandCRLIdentifier) []error {
	var errs []error
	// The CRLs held once the newer ones offered are in.
	next := maps.Clone(c.crls)
	var fresh []verifiedCRL
	for _, v := range crls {
		old := next[v.key]
		switch {
		case old == nil || newerCRL(v.crl, old):
			next[v.key] = v.crl
			fresh = append(fresh, v)
		case bytes.Equal(v.crl.Raw, old.Raw):
			// Already held.
		default:
			errs = append(errs, fmt.Errorf("%w: CRL %v of %q (thisUpdate %v) offered, %v (thisUpdate %v) held", ErrStaleCRL,
				v.crl.Number, v.crl.Issuer.CommonName, v.crl.ThisUpdate.Format(time.RFC3339), old.Number, old.ThisUpdate.Format(time.RFC3339)))
		}
	}
	if bci != nil {
		old := c.bcis[bci.BrandID]
		switch {
		case old != nil && bytes.Equal(bci.Raw, old.Raw):
			bci = nil // already held
		case old != nil && !newerBCI(bci, old):
			errs = append(errs, fmt.Errorf("%w: BrandCRLIdentifier %d of %q (notBefore %v) offered, %d (notBefore %v) held", ErrStaleCRL,
				bci.SequenceNum, bci.BrandID, bci.NotBefore.Format(time.RFC3339), old.SequenceNum, old.NotBefore.Format(time.RFC3339)))
			bci = nil
		default:
			if err := agrees(bci, next, cas); err != nil {
				errs = append(errs, err)
				bci = nil
			}
		}
	}
	// A newer CRL the BCIs in force pin otherwise waits for the BCI that
	// lists it. The BCI taken now lists its CAs' CRLs exactly (agrees),
	// and outranks what other brands' BCIs say of a CA they share (the
	// root).
	for _, v := range fresh {
		if next[v.key] != v.crl {
			continue // a newer one came in the same offer
		}
		if bci != nil && pinned(bci, v.issuer) != nil {
			continue
		}
		for brand, b := range c.bcis {
			if bci != nil && brand == bci.BrandID || !now.Before(b.NotAfter) {
				continue // replaced, or lapsed: Verify refuses it anyway
			}
			if n := pinned(b, v.issuer); n != nil && n.Cmp(v.crl.Number) != 0 {
				errs = append(errs, fmt.Errorf("%w: CRL %v of %q offered, BCI %d of %q lists CRL %v", ErrCRLMismatch,
					v.crl.Number, v.crl.Issuer.CommonName, b.SequenceNum, b.BrandID, n))
				next[v.key] = c.crls[v.key]
				break
			}
		}
	}

	changed := false
	for _, v := range fresh {
		if next[v.key] == v.crl {
			c.crls[v.key], c.issuers[v.key] = v.crl, v.issuer
			changed = true
		}
	}
	if bci != nil {
		c.bcis[bci.BrandID] = bci
		changed = true
	}
	if changed {
		c.rebuild()
	}
	return errs
}

// newerCRL reports whether crl supersedes old, a CRL of the same CA: a
// higher number, issued no earlier.
func newerCRL(crl, old *CRL) bool {
	return crl.Number.Cmp(old.Number) > 0 && !crl.ThisUpdate.Before(old.ThisUpdate)
}

// newerBCI reports whether b supersedes old, a BCI of the same brand: a
// higher sequence number, valid from no earlier.
func newerBCI(b, old *BrandCRLIdentifier) bool {
	return b.SequenceNum > old.SequenceNum && !b.NotBefore.Before(old.NotBefore)
}

// agrees checks that every CRL b lists is the one crls (by SHA-256 of the
// issuing certificate) holds for that CA, whose certificate must be among
// cas. A BCI listing an older CRL than the one held is a replay
// (ErrStaleCRL); one listing a CRL not held waits for it (ErrCRLMismatch).
func agrees(b *BrandCRLIdentifier, crls map[[32]byte]*CRL, cas []*Certificate) error {
	for _, id := range b.CRLIdentifiers {
		ca := byThumb(cas, id.IssuerThumb)
		if ca == nil {
			return fmt.Errorf("%w: BCI %d of %q lists CRL %v of CA %x, whose certificate is not at hand", ErrCRLMismatch, b.SequenceNum, b.BrandID, id.CRLNumber, id.IssuerThumb)
		}
		held := crls[sha256.Sum256(ca.Raw)]
		switch {
		case held != nil && held.Number.Cmp(id.CRLNumber) > 0:
			return fmt.Errorf("%w: BCI %d of %q lists CRL %v of %v, older than CRL %v held", ErrStaleCRL, b.SequenceNum, b.BrandID, id.CRLNumber, ca, held.Number)
		case held == nil || held.Number.Cmp(id.CRLNumber) < 0:
			return fmt.Errorf("%w: BCI %d of %q lists CRL %v of %v, neither held nor offered", ErrCRLMismatch, b.SequenceNum, b.BrandID, id.CRLNumber, ca)
		}
	}
	return nil
}

// pinned returns the number of the CRL of ca that b lists, or nil.
func pinned(b *BrandCRLIdentifier, ca *Certificate) *big.Int {
	for _, id := range b.CRLIdentifiers {
		if h, ok := thumbHash(id.IssuerThumb); ok && bytes.Equal(Thumbprint(ca.Raw, h), id.IssuerThumb) {
			return id.CRLNumber
		}
	}
	return nil
}

// byThumb returns the certificate of cas whose thumbprint is thumb, or nil.
func byThumb(cas []*Certificate, thumb []byte) *Certificate {
	h, ok := thumbHash(thumb)
	if !ok {
		return nil
	}
	for _, ca := range cas {
		if ca != nil && bytes.Equal(Thumbprint(ca.Raw, h), thumb) {
			return ca
		}
	}
	return nil
}

// findIssuer returns the CA certificate among cas and the roots, named
// name (nil: any brand CA), that check accepts and that chains to the
// roots at now. Revocation of that CA is not checked here: a CRL can only add revocations, and the
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
