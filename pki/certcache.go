package pki

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"sync"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// CertCache remembers the certificates of a party's peers that passed
// verification, so that its requests can list their thumbprints and the
// responder can leave them out (SET's Thumbs, issue 4). It saves bytes,
// not checks: a certificate taken from the cache is offered to the
// verifier like one carried in the message and is checked again, against
// the roots and the revocation state of the moment, each time it is used.
//
// The cache is bounded: past its size the certificate added first is
// dropped. A peer that lists a dropped certificate no longer simply gets it
// again. The zero value is not usable; use NewCertCache.
type CertCache struct {
	mu    sync.Mutex
	max   int
	certs map[[sha256.Size]byte][]byte
	order [][sha256.Size]byte // insertion order, oldest first
}

// DefaultCertCacheSize is enough for a few merchants' and gateways'
// certificates with their chains.
const DefaultCertCacheSize = 64

// NewCertCache returns an empty cache holding at most max certificates
// (DefaultCertCacheSize if max <= 0).
func NewCertCache(max int) *CertCache {
	if max <= 0 {
		max = DefaultCertCacheSize
	}
	return &CertCache{max: max, certs: make(map[[sha256.Size]byte][]byte)}
}

// add keeps certDER; callers add only certificates that verified.
func (c *CertCache) add(certDER []byte) {
	k := sha256.Sum256(certDER)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.certs[k]; ok {
		return
	}
	for len(c.order) >= c.max {
		delete(c.certs, c.order[0])
		c.order = c.order[1:]
	}
	c.certs[k] = bytes.Clone(certDER)
	c.order = append(c.order, k)
}

// Certificates returns the certificates held, oldest first.
func (c *CertCache) Certificates() [][]byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, c.certs[k])
	}
	return out
}

// Len reports how many certificates are held.
func (c *CertCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

// CertThumbs lists the thumbprints under h of the certificates held that
// keep accepts (all when keep is nil), for the certThumbs of a Thumbs; nil
// when there are none.
func (c *CertCache) CertThumbs(h crypto.Hash, keep func(*Certificate) bool) [][]byte {
	var out [][]byte
	for _, der := range c.Certificates() {
		if keep != nil {
			cert, err := ParseCertificate(der)
			if err != nil || !keep(cert) {
				continue
			}
		}
		out = append(out, Thumbprint(der, h))
	}
	return out
}

// AddThumbs returns t (a fresh Thumbs under h when t is nil) with the
// certificates held that keep accepts (all when keep is nil) listed in its
// certThumbs. t's digest algorithm is kept; t itself is not modified.
func (c *CertCache) AddThumbs(t *msg.Thumbs, h crypto.Hash, keep func(*Certificate) bool) *msg.Thumbs {
	if t != nil {
		if hh, err := pkcs7.HashForAlgorithm(t.DigestAlgorithm); err == nil {
			h = hh
		}
	}
	certs := c.CertThumbs(h, keep)
	if len(certs) == 0 {
		return t
	}
	out := &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h)}
	if t != nil {
		*out = *t
	}
	out.CertThumbs = append(append([][]byte(nil), out.CertThumbs...), certs...)
	return out
}

// Remember wraps verify so that a certificate it accepts is cached
// together with the certificates, among intermediates, that chain it up
// (each one's signature checked). What verify refuses is not cached.
func (c *CertCache) Remember(verify func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error)) func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error) {
	if c == nil {
		return verify
	}
	return func(certDER []byte, intermediates [][]byte) (crypto.PublicKey, error) {
		pub, err := verify(certDER, intermediates)
		if err != nil {
			return nil, err
		}
		for _, b := range issuers(certDER, intermediates) {
			c.add(b)
		}
		c.add(certDER)
		return pub, nil
	}
}

// issuers walks up from certDER through pool, by name and signature, and
// returns the issuers found, nearest first. verify accepted the leaf, so
// these are the links of a chain it accepted (or equivalent ones: same
// name and key).
func issuers(certDER []byte, pool [][]byte) [][]byte {
	cur, err := ParseCertificate(certDER)
	if err != nil {
		return nil
	}
	var cands []*Certificate
	for _, b := range pool {
		if c, err := ParseCertificate(b); err == nil {
			cands = append(cands, c)
		}
	}
	var out [][]byte
	chain := []*Certificate{cur}
	for len(chain) < maxChainLength {
		var next *Certificate
		for _, cand := range cands {
			if issuedBy(cur, cand) && !inChain(chain, cand) &&
				verifySignature(cand, cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature) == nil {
				next = cand
				break
			}
		}
		if next == nil {
			break
		}
		out = append(out, next.Raw)
		chain = append(chain, next)
		cur = next
	}
	return out
}

// HeldCertThumbs reports, for a responder, whether a requester's Thumbs
// list a certificate: the function it returns is what encap.Signer.Omit
// expects. Nil when held lists no certificates or uses a digest algorithm
// this package does not know, so that everything is sent.
func HeldCertThumbs(held *msg.Thumbs) func(certDER []byte) bool {
	if held == nil || len(held.CertThumbs) == 0 {
		return nil
	}
	h, err := pkcs7.HashForAlgorithm(held.DigestAlgorithm)
	if err != nil {
		return nil
	}
	thumbs := held.CertThumbs
	return func(certDER []byte) bool {
		want := Thumbprint(certDER, h)
		for _, t := range thumbs {
			if len(t) == len(want) && subtle.ConstantTimeCompare(t, want) == 1 {
				return true
			}
		}
		return false
	}
}
