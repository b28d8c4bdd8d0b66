package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/subtle"
	"maps"
	"slices"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// RevocationLearner is a RevocationSource that learns from what arrives
// in messages: *RevocationCache is one. A party whose Revocation is a
// learner has it Learn the CRLs and BrandCRLIdentifier a message carries
// before it checks that message's certificates, and lists what it holds
// in the Thumbs of its requests.
type RevocationLearner interface {
	RevocationSource
	Learn(certDERs, crlDERs [][]byte, bciDER []byte)
	Thumbs(h crypto.Hash) *msg.Thumbs
}

// HeldThumbs lists as SET's Thumbs (digests under h) the CRLs and BCI src
// holds, so that a peer can omit them from its response. A learner lists
// its own; any other source is asked for its current state. Nil when src
// is nil or holds nothing.
func HeldThumbs(ctx context.Context, src RevocationSource, h crypto.Hash) *msg.Thumbs {
	if src == nil {
		return nil
	}
	var t *msg.Thumbs
	if l, ok := src.(RevocationLearner); ok {
		t = l.Thumbs(h)
	} else {
		crls, bci, err := src.Revocation(ctx)
		if err != nil {
			return nil
		}
		t = &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h)}
		for _, crl := range crls {
			t.CRLThumbs = append(t.CRLThumbs, msg.ThumbOf(h, crl.Raw).Thumbprint)
		}
		if bci != nil {
			t.BrandCRLIdThumbs = [][]byte{msg.ThumbOf(h, bci.Raw).Thumbprint}
		}
	}
	if len(t.CRLThumbs) == 0 && len(t.BrandCRLIdThumbs) == 0 {
		return nil
	}
	return t
}

// ToCarry returns what a responder whose revocation state is src puts in
// its response to a requester that listed held (nil: nothing held): the
// CRLs src holds (DER, for the SignedData crls field) and its
// BrandCRLIdentifier (DER, for the brandCRLIdentifier field), leaving out
// each one whose thumbprint held lists, and, when since is not zero,
// each one issued at or before since, which the requester was sent
// already (times in SET's messages have whole seconds: an item issued in
// the same second as since counts as sent). Thumbs under a
// digest algorithm this package does not know count as listing nothing.
func ToCarry(ctx context.Context, src RevocationSource, held *msg.Thumbs, since time.Time) (crlDERs [][]byte, bciDER []byte, err error) {
	if src == nil {
		return nil, nil, nil
	}
	crls, bci, err := src.Revocation(ctx)
	if err != nil {
		return nil, nil, err
	}
	var h crypto.Hash
	if held != nil {
		if hh, err := pkcs7.HashForAlgorithm(held.DigestAlgorithm); err == nil {
			h = hh
		}
	}
	listed := func(der []byte, thumbs [][]byte) bool {
		if h == 0 {
			return false
		}
		want := msg.ThumbOf(h, der).Thumbprint
		for _, t := range thumbs {
			if len(t) == len(want) && subtle.ConstantTimeCompare(t, want) == 1 {
				return true
			}
		}
		return false
	}
	for _, crl := range crls {
		if !since.IsZero() && !crl.ThisUpdate.After(since) || held != nil && listed(crl.Raw, held.CRLThumbs) {
			continue
		}
		crlDERs = append(crlDERs, bytes.Clone(crl.Raw))
	}
	if bci != nil && (since.IsZero() || bci.NotBefore.After(since)) && (held == nil || !listed(bci.Raw, held.BrandCRLIdThumbs)) {
		bciDER = bytes.Clone(bci.Raw)
	}
	return crlDERs, bciDER, nil
}

// LearnCarried has src, if it is a RevocationLearner, Learn what a
// message carried.
func LearnCarried(src RevocationSource, certDERs, crlDERs [][]byte, bciDER []byte) {
	if l, ok := src.(RevocationLearner); ok {
		l.Learn(certDERs, crlDERs, bciDER)
	}
}

// Learn adds the CRLs and BrandCRLIdentifier a message carried, with the
// certificates that came along (and the issuers of the CRLs held) as
// possible issuers. Items that do not verify or are older than
// what is held are dropped: the certificate checks that follow decide, and
// a CRL that cannot be trusted can neither revoke nor vouch.
//
// A BCI pins the number of each CA's CRL, so the cache must never hold a
// BCI and CRLs that disagree (every chain through that CA would fail with
// ErrNoCRL). Learn therefore takes a newer BCI only together with
// every CRL it lists (carried now or held) and only if it lists no CRL
// older than one held, and a newer CRL alone only if
// no BCI held lists another number for its CA; otherwise it leaves both
// for a message or a fetch that brings the complete set.
func (c *RevocationCache) Learn(certDERs, crlDERs [][]byte, bciDER []byte) {
	if len(crlDERs) == 0 && bciDER == nil {
		return
	}
	var cas []*Certificate
	for _, b := range certDERs {
		if cert, err := ParseCertificate(b); err == nil {
			cas = append(cas, cert)
		}
	}
	c.mu.RLock()
	pool := append(append(append([]*Certificate(nil), cas...), c.roots...), slices.Collect(maps.Values(c.issuers))...)
	held := slices.Collect(maps.Values(c.crls))
	var heldBCIs []*BrandCRLIdentifier
	for _, b := range c.bcis {
		heldBCIs = append(heldBCIs, b)
	}
	c.mu.RUnlock()

	var carried []*CRL
	for _, b := range crlDERs {
		if crl, err := ParseCRL(b); err == nil {
			carried = append(carried, crl)
		}
	}
	// Add is given the whole pool: a carried CRL's issuer may be known
	// only from an earlier CRL (the CCA's, to a merchant).
	if bciDER != nil {
		if b, err := ParseBrandCRLIdentifier(bciDER); err == nil {
			if old := c.BCI(b.BrandID); old == nil || b.SequenceNum > old.SequenceNum {
				if listedHeld(b, pool, append(carried, held...)) && !behind(b, held, pool) {
					_ = c.Add(pool, crlDERs, bciDER)
					return
				}
			}
		}
	}
	// No usable BCI: keep only the CRLs that no held BCI contradicts.
	var keep [][]byte
	for _, crl := range carried {
		if !contradicted(crl, heldBCIs, pool) {
			keep = append(keep, crl.Raw)
		}
	}
	if len(keep) > 0 {
		_ = c.Add(pool, keep, nil)
	}
}

// listedHeld reports whether every CRL b lists is among crls, matched by
// number and by a signature of the listed CA, whose certificate must be in
// pool.
func listedHeld(b *BrandCRLIdentifier, pool []*Certificate, crls []*CRL) bool {
	return b.Covers(crls, pool) == nil
}

// behind reports whether b lists, for the CA that signed a CRL of held,
// an older CRL than that one: a replayed BCI. The cache keeps only the
// newest CRL per CA, so it could never hold what b pins, and taking b
// would fail every chain through that CA with ErrNoCRL.
func behind(b *BrandCRLIdentifier, held []*CRL, pool []*Certificate) bool {
	for _, crl := range held {
		for _, ca := range pool {
			if !bytes.Equal(ca.RawSubject, crl.RawIssuer) || crl.CheckSignatureFrom(ca) != nil {
				continue
			}
			for _, id := range b.CRLIdentifiers {
				h, ok := thumbHash(id.IssuerThumb)
				if ok && bytes.Equal(Thumbprint(ca.Raw, h), id.IssuerThumb) && id.CRLNumber.Cmp(crl.Number) < 0 {
					return true
				}
			}
		}
	}
	return false
}

// contradicted reports whether a BCI of bcis lists, for the CA that signed
// crl, a CRL of another number.
func contradicted(crl *CRL, bcis []*BrandCRLIdentifier, pool []*Certificate) bool {
	for _, ca := range pool {
		if !bytes.Equal(ca.RawSubject, crl.RawIssuer) || crl.CheckSignatureFrom(ca) != nil {
			continue
		}
		for _, b := range bcis {
			for _, id := range b.CRLIdentifiers {
				h, ok := thumbHash(id.IssuerThumb)
				if ok && bytes.Equal(Thumbprint(ca.Raw, h), id.IssuerThumb) && id.CRLNumber.Cmp(crl.Number) != 0 {
					return true
				}
			}
		}
	}
	return false
}
