package wallet

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// Certificates travel like revocation state (issue 4, FLOWS.md §2.12
// thumbprints): PInitReq lists in its certThumbs certificates the wallet
// holds from earlier purchases (Config.Certificates, fed only by
// certificates that verified), and the merchant leaves those out of
// PInitRes and PRes. The wallet then finds a signer's certificate and
// chain in the message first and in its cache second; either way the
// certificate is verified again, against the roots and the current CRLs,
// before it counts.
//
// What the wallet lists is also what it tells the merchant about itself.
// A gateway's certificate, or a merchant or payment gateway CA's, names an
// acquirer, and so does a CRL of such a CA: listing one the merchant does
// not use would tell it that the cardholder bought from a merchant of
// that acquirer. So the wallet lists to a merchant, of the certificates,
// CRLs and BrandCRLIdentifiers it holds, only
//
//   - the brand's hierarchy every cardholder of the brand holds: the root
//     and brand CA certificates and their CRLs, the BCI of the card's
//     brand, and the CAs of the wallet's own chain (its cardholder CA and
//     geo-political CA, which the merchant sees in PReq anyway) with their
//     CRLs; and
//   - what this same merchant's messages carried before (its certificate,
//     its CA's, its gateway's and that gateway's CA's, and the CRLs and
//     BCIs they carried), which tells it nothing new.
//
// A geo-political CA other than the wallet's own is not common: it names
// the merchant's region. A repeat purchase from the same merchant saves as
// much as before; a first purchase from a merchant saves only the brand's.
//
// "The same merchant" is the merchant ID the checkout claimed together
// with the origin the wallet reached it at (Offer.Origin). The ID alone is
// the merchant's word, unchecked until its signed PInitRes arrives, after
// PInitReq is sent: a server claiming another's ID would learn from the
// thumbprints whether the cardholder bought there. A record is only ever
// written once a merchant's signature under that ID has verified.
// (docs/spec-gaps.md, "certificate thumbs" and "CRL thumbs".)

// Bounds on the record of who sent what: past them the merchant seen
// longest ago is forgotten (its certificates are then sent again), and a
// merchant's record keeps only what the wallet still holds.
const (
	maxMerchantsRemembered = 64
	maxThumbsPerMerchant   = 64
)

// merchantKey names a merchant as the wallet knows it before any
// signature: where it was reached, and the merchant ID it claimed.
type merchantKey struct{ origin, merID string }

// merchantsSeen records, per merchant, the SHA-256 of the certificates,
// CRLs and BCIs that merchant sent in messages that verified. Safe for
// concurrent use.
type merchantsSeen struct {
	mu    sync.Mutex
	keys  []merchantKey // least recently seen first
	items map[merchantKey]map[[sha256.Size]byte]bool
}

// note records that merchant k sent items (DER). held, asked only when
// k's record is full, says what the wallet still holds: the rest is
// forgotten to make room.
func (s *merchantsSeen) note(k merchantKey, items [][]byte, held func() map[[sha256.Size]byte]bool) {
	if k.merID == "" || len(items) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.touch(k)
	pruned := false
	for _, it := range items {
		if len(set) >= maxThumbsPerMerchant && !pruned {
			keep := held()
			maps.DeleteFunc(set, func(d [sha256.Size]byte, _ bool) bool { return !keep[d] })
			pruned = true
		}
		if len(set) >= maxThumbsPerMerchant {
			break
		}
		set[sha256.Sum256(it)] = true
	}
}

// touch returns k's set, making it the most recently seen and forgetting
// the least recently seen past the bound. s.mu is held.
func (s *merchantsSeen) touch(k merchantKey) map[[sha256.Size]byte]bool {
	if s.items == nil {
		s.items = map[merchantKey]map[[sha256.Size]byte]bool{}
	}
	if i := slices.Index(s.keys, k); i >= 0 {
		s.keys = append(slices.Delete(s.keys, i, i+1), k)
		return s.items[k]
	}
	for len(s.keys) >= maxMerchantsRemembered {
		delete(s.items, s.keys[0])
		s.keys = s.keys[1:]
	}
	s.keys = append(s.keys, k)
	set := map[[sha256.Size]byte]bool{}
	s.items[k] = set
	return set
}

// sent reports whether merchant k sent item (DER) before.
func (s *merchantsSeen) sent(k merchantKey, item []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[k][sha256.Sum256(item)]
}

// saved is the record for SaveMemory, least recently seen first, of the
// items in held (only those are ever listed).
func (s *merchantsSeen) saved(held map[[sha256.Size]byte]bool) []merchantMemory {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []merchantMemory
	for _, k := range s.keys {
		mm := merchantMemory{MerID: k.merID, Origin: k.origin}
		for d := range s.items[k] {
			if held[d] {
				mm.Thumbs = append(mm.Thumbs, bytes.Clone(d[:]))
			}
		}
		// A stable order, so that the same record saves the same bytes.
		slices.SortFunc(mm.Thumbs, func(a, b []byte) int { return slices.Compare(a, b) })
		out = append(out, mm)
	}
	return out
}

// load adds a saved record, keeping only the items in held.
func (s *merchantsSeen) load(saved []merchantMemory, held map[[sha256.Size]byte]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mm := range saved {
		set := s.touch(merchantKey{origin: mm.Origin, merID: mm.MerID})
		for _, t := range mm.Thumbs {
			if d := [sha256.Size]byte(t); held[d] && len(set) < maxThumbsPerMerchant {
				set[d] = true
			}
		}
	}
}

// common reports whether every merchant may be told that the wallet holds
// CA certificate c (or its CRL): a root or brand CA, or a CA of the
// wallet's own chain.
func (cfg *Config) common(c *pki.Certificate) bool {
	if c.MerchantData == nil && c.CertType != 0 && c.CertType&^(pki.CertTypeRCA|pki.CertTypeBCA) == 0 {
		return true
	}
	return isOneOf(c.Raw, cfg.Chain) || isOneOf(c.Raw, rootDERs(cfg.Roots))
}

// forMerchant keeps, of the cached certificates, what may be listed to
// merchant k: the brand's common hierarchy and what k sent before.
func (w *Wallet) forMerchant(k merchantKey) func(*pki.Certificate) bool {
	return func(c *pki.Certificate) bool {
		return w.cfg.common(c) || w.seen.sent(k, c.Raw)
	}
}

// commonCRL reports whether crl was issued by a CA every merchant may be
// told of (common), among the CAs the wallet knows: its roots, its own
// chain and the cached certificates. A CRL whose issuer is none of them
// is not common.
func (cfg *Config) commonCRL(crl *pki.CRL, cas []*pki.Certificate) bool {
	for _, ca := range cas {
		if issuedCRL(crl, ca) {
			return cfg.common(ca)
		}
	}
	return false
}

// issuedCRL reports whether crl names ca as its issuer: its issuer name
// and its authority key identifier's issuer and serial. Names suffice:
// what a record of who sent what needs to know is which CA's state a CRL
// reveals, and that is what the names say, whoever signed it.
func issuedCRL(crl *pki.CRL, ca *pki.Certificate) bool {
	return bytes.Equal(crl.RawIssuer, ca.RawSubject) && bytes.Equal(crl.AuthorityCertIssuer, ca.RawIssuer) &&
		crl.AuthorityCertSerial != nil && crl.AuthorityCertSerial.Cmp(ca.SerialNumber) == 0
}

// issuedBCI reports whether ca is the brand CA that issues bci: a brand
// CA names its brand as its subject's one organizationName (as
// pki.BrandCRLIdentifier.Verify requires).
func issuedBCI(bci *pki.BrandCRLIdentifier, ca *pki.Certificate) bool {
	o := ca.Subject.Organization
	return ca.CertType&pki.CertTypeBCA != 0 && len(o) == 1 && o[0] == bci.BrandID
}

// knownCAs are the CA certificates the wallet holds: roots, its own chain
// and the cached ones.
func (cfg *Config) knownCAs() []*pki.Certificate {
	cas := append([]*pki.Certificate(nil), cfg.Roots...)
	for _, der := range append(append([][]byte(nil), cfg.Chain...), cfg.Certificates.Certificates()...) {
		if c, err := pki.ParseCertificate(der); err == nil && c.IsCA {
			cas = append(cas, c)
		}
	}
	return cas
}

// heldDigests are the SHA-256 of what the wallet holds and may list: the
// cached certificates, the CRLs and the BCIs of its revocation source.
func (w *Wallet) heldDigests() map[[sha256.Size]byte]bool {
	cfg := &w.cfg
	held := map[[sha256.Size]byte]bool{}
	for _, c := range cfg.Certificates.Certificates() {
		held[sha256.Sum256(c)] = true
	}
	crls, bci := cfg.revocationHeld()
	for _, c := range crls {
		held[sha256.Sum256(c.Raw)] = true
	}
	if bci != nil {
		held[sha256.Sum256(bci.Raw)] = true
	}
	return held
}

// revocationHeld returns the CRLs the wallet's revocation source holds
// and the BCI of the card's brand (nil if none or unknown).
func (cfg *Config) revocationHeld() ([]*pki.CRL, *pki.BrandCRLIdentifier) {
	crls, bci, err := cfg.Revocation.Revocation(context.Background())
	if err != nil {
		return nil, nil
	}
	if rc, ok := cfg.Revocation.(*pki.RevocationCache); ok {
		bci = rc.BCI(cfg.Card.BrandID)
	}
	return crls, bci
}

// noteSent records items (DER: certificates, CRLs, BCIs) a verified
// message of the purchase's merchant carried, or that the wallet relied
// on in it, as sent by that merchant — once the signer is known to be the
// merchant the offer names, so that a merchant cannot file items under
// another's name (and have them listed to that one).
func (p *Purchase) noteSent(items ...[]byte) {
	c, err := pki.ParseCertificate(p.merchantCert)
	if err != nil || c.MerchantData == nil || c.MerchantData.MerID != p.offer.MerchantID {
		return
	}
	p.w.seen.note(p.merchant(), items, p.w.heldDigests)
}

// merchant is the key under which p's merchant is recorded.
func (p *Purchase) merchant() merchantKey {
	return merchantKey{origin: p.offer.Origin, merID: p.offer.MerchantID}
}

// noteSigned records what verified SignedData messages of the merchant
// carried (certificates and CRLs) and extra items (nil ones skipped: a
// BCI the content did not carry; the others are the certificates the
// wallet verified as the merchant's and its gateway's).
//
// Of what was carried, only what the merchant's own chains account for
// counts: the certificates in the verified chains of the merchant's and
// its gateway's certificates, the CRLs and BCIs issued by a CA of those
// chains or by one every merchant may be told of (common), and the CRLs
// the brand's BCI the wallet holds lists (pinned). A
// merchant could carry any certificate or CRL it collected (another
// acquirer's gateway's, or its CA's CRL), and having it filed as its own
// would have it listed back exactly when the wallet holds it from
// elsewhere.
func (p *Purchase) noteSigned(signed [][]byte, extra ...[]byte) {
	var carried, crls [][]byte
	for _, s := range signed {
		if sd, err := pkcs7.ParseSignedData(s); err == nil {
			carried = append(carried, sd.Certificates...)
			crls = append(crls, sd.CRLs...)
		}
	}
	chains := p.chainsOf(carried)
	ours := map[[sha256.Size]byte]bool{}
	for _, c := range chains {
		ours[sha256.Sum256(c.Raw)] = true
	}
	var items [][]byte
	for _, c := range carried {
		if ours[sha256.Sum256(c)] {
			items = append(items, c)
		}
	}
	cfg := &p.w.cfg
	known := cfg.knownCAs()
	issuers := chains
	for _, ca := range known {
		if cfg.common(ca) {
			issuers = append(issuers, ca)
		}
	}
	_, held := cfg.revocationHeld()
	for _, der := range crls {
		crl, err := pki.ParseCRL(der)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(issuers, func(ca *pki.Certificate) bool { return issuedCRL(crl, ca) }) ||
			pinned(crl, held, append(parsedCAs(carried), known...)) {
			items = append(items, der)
		}
	}
	for _, e := range extra {
		if e == nil {
			continue
		}
		if bci, err := pki.ParseBrandCRLIdentifier(e); err == nil {
			if !slices.ContainsFunc(issuers, func(ca *pki.Certificate) bool { return issuedBCI(bci, ca) }) {
				continue
			}
		}
		items = append(items, e)
	}
	p.noteSent(items...)
}

// pinned reports whether bci, the brand's BCI the wallet holds, lists crl
// (by its issuer among cas and its number). The wallet holds a BCI only
// with every CRL it lists, so holding such a CRL tells a merchant nothing
// the BCI, listed to every merchant, does not: a merchant must carry it
// whoever its acquirer (a wallet that starts with nothing cannot accept
// the BCI without it), and may have it filed as its own.
func pinned(crl *pki.CRL, bci *pki.BrandCRLIdentifier, cas []*pki.Certificate) bool {
	if bci == nil || crl.Number == nil {
		return false
	}
	for _, id := range bci.CRLIdentifiers {
		if id.CRLNumber == nil || id.CRLNumber.Cmp(crl.Number) != 0 {
			continue
		}
		for _, ca := range cas {
			if issuedCRL(crl, ca) && isThumbOf(id.IssuerThumb, ca.Raw) {
				return true
			}
		}
	}
	return false
}

// isThumbOf reports whether thumb is der's thumbprint as a BCI names CAs:
// SHA-1 in set1, SHA-256 otherwise.
func isThumbOf(thumb, der []byte) bool {
	switch len(thumb) {
	case sha1.Size:
		d := sha1.Sum(der)
		return bytes.Equal(thumb, d[:])
	case sha256.Size:
		d := sha256.Sum256(der)
		return bytes.Equal(thumb, d[:])
	}
	return false
}

// parsedCAs returns the CA certificates among ders.
func parsedCAs(ders [][]byte) []*pki.Certificate {
	var out []*pki.Certificate
	for _, der := range ders {
		if c, err := pki.ParseCertificate(der); err == nil && c.IsCA {
			out = append(out, c)
		}
	}
	return out
}

// chainsOf returns the certificates in the chains, to the roots, of the
// purchase's merchant and gateway: their certificates, the certificates
// of the same subjects among carried (the gateway's signature
// certificate), and the CAs above them, found among carried, the cache
// and the wallet's own chain.
func (p *Purchase) chainsOf(carried [][]byte) []*pki.Certificate {
	cfg := &p.w.cfg
	leaves := [][]byte{p.merchantCert, p.gatewayCert}
	for _, c := range carried {
		if pki.SameSubject(c, p.merchantCert) || pki.SameSubject(c, p.gatewayCert) {
			leaves = append(leaves, c)
		}
	}
	var pool []*pki.Certificate
	for _, der := range append(append(append([][]byte(nil), carried...), cfg.Certificates.Certificates()...), cfg.Chain...) {
		if c, err := pki.ParseCertificate(der); err == nil {
			pool = append(pool, c)
		}
	}
	var out []*pki.Certificate
	for _, der := range leaves {
		leaf, err := pki.ParseCertificate(der)
		if err != nil {
			continue
		}
		chain, err := leaf.Verify(pki.VerifyOptions{Roots: cfg.Roots, Intermediates: pool, Now: cfg.Now()})
		if err != nil {
			continue
		}
		out = append(out, chain...)
	}
	return out
}

// held returns the option that offers the cached certificates to the
// signature checks of a merchant's message.
func (cfg *Config) held() encap.OpenOption {
	return encap.WithHeld(cfg.Certificates.Certificates())
}

// withHeld returns certs followed by the cached certificates, for finding
// a certificate a message names by thumbprint (PEThumb).
func (cfg *Config) withHeld(certs [][]byte) [][]byte {
	return append(certs[:len(certs):len(certs)], cfg.Certificates.Certificates()...)
}

// signedErr classifies a failed signature check on a merchant's or
// gateway's message: a signer certificate neither carried nor held is
// missingCertificate; the rest as msg.Classify does.
func signedErr(err error, what string) error {
	if errors.Is(err, encap.ErrMissingCertificate) {
		return msg.Errorf(msg.MissingCertificate, "%s: %w", what, err)
	}
	return msg.Classify(err, msg.SignatureFailure, what)
}
