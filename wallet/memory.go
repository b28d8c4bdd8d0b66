package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"reflect"

	"github.com/setpay/setpay/pki"
)

// A wallet that runs once per purchase (setpay wallet pay) starts with
// empty caches and gains nothing from SET's thumbprints. SaveMemory and
// LoadMemory carry what a wallet learned from one run to the next: the
// certificates that verified (Config.Certificates), the CRLs and
// BrandCRLIdentifiers it learned (Config.Revocation) and which merchant
// sent which of them (certcache.go). The bytes are the caller's to
// keep; the wallet does no I/O.
//
// Nothing loaded is trusted. The memory is a cache, not a credential:
// whoever can write it can only make the wallet list other thumbprints or
// skip a saving. Every certificate is verified again on load, against the
// roots and the revocation state, as if a merchant had sent it (and again
// at each use, as any cached certificate is); every CRL and BCI is checked
// against a CA that chains to the roots, as if it had arrived in a message.
// A file whose structure or checksum is wrong is ignored as a whole; an
// item that no longer verifies (tampered, expired, revoked) is dropped.

// ErrBadMemory: saved wallet memory that is corrupted or not ours; none of
// it was used.
var ErrBadMemory = errors.New("wallet: saved memory is corrupted")

// memoryVersion is the version of the layout below.
const memoryVersion = 1

// Bounds on what a memory may hold: more than a wallet ever saves, so a
// bigger file is not one of ours.
const (
	maxMemoryBytes     = 1 << 20
	maxMemoryCerts     = 4 * pki.DefaultCertCacheSize
	maxMemoryCRLs      = 64
	maxMemoryBCIs      = 8
	maxMemoryMerchants = maxMerchantsRemembered
	maxMemoryThumbs    = maxThumbsPerMerchant
	maxMerIDLen        = 128
	maxOriginLen       = 512
)

// memoryFile is the saved form:
//
//	WalletMemoryFile ::= SEQUENCE {
//	  memory WalletMemory,
//	  digest OCTET STRING   -- SHA-256 of memory's DER: catches corruption
//	}
//	WalletMemory ::= SEQUENCE {
//	  version      INTEGER (1),
//	  certificates SEQUENCE OF Certificate,
//	  crls         SEQUENCE OF CertificateList,
//	  bcis         SEQUENCE OF BrandCRLIdentifier,
//	  merchants    SEQUENCE OF SEQUENCE {
//	    merID  UTF8String,
//	    origin [0] IMPLICIT UTF8String OPTIONAL, -- absent: none (in-process)
//	    thumbs SEQUENCE OF OCTET STRING   -- SHA-256 of a certificate's,
//	                                      -- CRL's or BCI's DER
//	  }
//	}
//
// The digest is no protection against tampering (anyone can recompute
// it); verification is.
type memoryFile struct {
	Memory asn1.RawValue
	Digest []byte
}

type memory struct {
	Version      int
	Certificates []asn1.RawValue
	CRLs         []asn1.RawValue
	BCIs         []asn1.RawValue
	Merchants    []merchantMemory
}

type merchantMemory struct {
	MerID  string `asn1:"utf8"`
	Origin string `asn1:"utf8,optional,tag:0"`
	Thumbs [][]byte
}

// SaveMemory returns what the wallet learned, for LoadMemory in a later
// run.
func (w *Wallet) SaveMemory() ([]byte, error) {
	cfg := &w.cfg
	m := memory{Version: memoryVersion}
	certs := cfg.Certificates.Certificates()
	for _, c := range certs {
		m.Certificates = append(m.Certificates, asn1.RawValue{FullBytes: c})
	}
	crls, bci, err := cfg.Revocation.Revocation(context.Background())
	if err != nil {
		return nil, fmt.Errorf("wallet: revocation state: %w", err)
	}
	// Keep only CRLs whose issuer will be at hand when they are loaded
	// again, so that a good memory loads without complaint.
	issuers := append(append(append([][]byte(nil), certs...), cfg.Chain...), rootDERs(cfg.Roots)...)
	for _, crl := range crls {
		if issuerHeld(crl.RawIssuer, issuers) {
			m.CRLs = append(m.CRLs, asn1.RawValue{FullBytes: crl.Raw})
		}
	}
	bcis := []*pki.BrandCRLIdentifier{bci}
	if rc, ok := cfg.Revocation.(*pki.RevocationCache); ok {
		bcis = append(bcis, rc.BCI(cfg.Card.BrandID))
	}
	for _, b := range bcis {
		if b != nil && (len(m.BCIs) == 0 || !bytes.Equal(m.BCIs[0].FullBytes, b.Raw)) {
			m.BCIs = append(m.BCIs, asn1.RawValue{FullBytes: b.Raw})
		}
	}
	held := map[[sha256.Size]byte]bool{}
	for _, list := range [][]asn1.RawValue{m.Certificates, m.CRLs, m.BCIs} {
		for _, v := range list {
			held[sha256.Sum256(v.FullBytes)] = true
		}
	}
	// A record parseMemory would refuse is left out: it would cost the
	// whole file at the next load.
	for _, mm := range w.seen.saved(held) {
		if len(mm.MerID) <= maxMerIDLen && len(mm.Origin) <= maxOriginLen && len(mm.Thumbs) <= maxMemoryThumbs {
			m.Merchants = append(m.Merchants, mm)
		}
	}
	if len(m.Certificates) > maxMemoryCerts || len(m.CRLs) > maxMemoryCRLs {
		return nil, errors.New("wallet: memory over its bounds")
	}
	return encodeMemory(m)
}

// encodeMemory writes m in its saved form, with its checksum.
func encodeMemory(m memory) ([]byte, error) {
	body, err := asn1.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("wallet: memory: %w", err)
	}
	sum := sha256.Sum256(body)
	return asn1.Marshal(memoryFile{Memory: asn1.RawValue{FullBytes: body}, Digest: sum[:]})
}

// LoadMemory installs what SaveMemory saved, each item only once it has
// verified. A corrupted memory (wrapping ErrBadMemory) installs nothing;
// items that do not verify are dropped and reported, joined, in the error.
// Either way the wallet is as usable as one that starts empty: the error
// is a warning, not a reason to stop.
func (w *Wallet) LoadMemory(b []byte) error {
	m, err := parseMemory(b)
	if err != nil {
		return err
	}
	cfg := &w.cfg
	var warnings []error
	certs := make([][]byte, len(m.Certificates))
	for i, c := range m.Certificates {
		certs[i] = c.FullBytes
	}

	// Revocation first: the certificates are checked against it.
	if _, ok := cfg.Revocation.(pki.RevocationLearner); ok {
		crls := make([][]byte, len(m.CRLs))
		for i, c := range m.CRLs {
			crls[i] = c.FullBytes
		}
		// A scratch cache says which items verify (and why the others do
		// not); what it accepted is then learned as if a message had
		// carried it, so that the wallet's own rules on mixing old and new
		// CRLs and BCIs apply.
		var cas []*pki.Certificate
		for _, der := range append(append([][]byte(nil), certs...), cfg.Chain...) {
			if c, err := pki.ParseCertificate(der); err == nil {
				cas = append(cas, c)
			}
		}
		check := pki.NewRevocationCache(cfg.Roots, cfg.Now)
		if err := check.Add(cas, crls, nil); err != nil {
			warnings = append(warnings, fmt.Errorf("saved CRLs dropped: %w", err))
		}
		good, _, _ := check.Revocation(context.Background())
		var goodCRLs [][]byte
		for _, c := range good {
			goodCRLs = append(goodCRLs, c.Raw)
		}
		var goodBCIs [][]byte
		for i, b := range m.BCIs {
			if err := check.Add(cas, nil, b.FullBytes); err != nil {
				warnings = append(warnings, fmt.Errorf("saved BrandCRLIdentifier %d dropped: %w", i, err))
				continue
			}
			goodBCIs = append(goodBCIs, b.FullBytes)
		}
		pool := append(append([][]byte(nil), certs...), cfg.Chain...)
		pki.LearnCarried(cfg.Revocation, pool, goodCRLs, nil)
		for _, b := range goodBCIs {
			pki.LearnCarried(cfg.Revocation, pool, goodCRLs, b)
		}
	}

	// Each certificate as a leaf, with the others as possible issuers:
	// only what verifies is remembered. A root needs no remembering.
	verify := cfg.Certificates.Remember(pki.RevocationVerifier(cfg.Revocation, pki.VerifyOptions{Roots: cfg.Roots, Now: cfg.Now(), RequireCRLs: !cfg.AllowMissingCRLs}))
	roots := rootDERs(cfg.Roots)
	for i, c := range certs {
		if isOneOf(c, roots) {
			continue
		}
		others := append(append([][]byte(nil), certs[:i]...), certs[i+1:]...)
		if _, err := verify(c, others); err != nil {
			warnings = append(warnings, fmt.Errorf("saved certificate %d dropped: %w", i, err))
		}
	}

	// Which merchant sent what: kept for what is now held.
	w.seen.load(m.Merchants, w.heldDigests())
	return errors.Join(warnings...)
}

// parseMemory decodes a saved memory, refusing anything that is not
// exactly what SaveMemory writes: over-long, truncated, trailing bytes,
// non-DER, a wrong checksum or version, or over the bounds.
func parseMemory(b []byte) (*memory, error) {
	if len(b) > maxMemoryBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadMemory, len(b), maxMemoryBytes)
	}
	var f memoryFile
	if err := strictUnmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMemory, err)
	}
	sum := sha256.Sum256(f.Memory.FullBytes)
	if subtle.ConstantTimeCompare(sum[:], f.Digest) != 1 {
		return nil, fmt.Errorf("%w: checksum does not match", ErrBadMemory)
	}
	var m memory
	if err := strictUnmarshal(f.Memory.FullBytes, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMemory, err)
	}
	switch {
	case m.Version != memoryVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadMemory, m.Version, memoryVersion)
	case len(m.Certificates) > maxMemoryCerts, len(m.CRLs) > maxMemoryCRLs, len(m.BCIs) > maxMemoryBCIs, len(m.Merchants) > maxMemoryMerchants:
		return nil, fmt.Errorf("%w: more items than a wallet saves", ErrBadMemory)
	}
	for _, list := range [][]asn1.RawValue{m.Certificates, m.CRLs, m.BCIs} {
		for _, v := range list {
			if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence || !v.IsCompound {
				return nil, fmt.Errorf("%w: an item is not a SEQUENCE", ErrBadMemory)
			}
		}
	}
	for _, mm := range m.Merchants {
		if mm.MerID == "" || len(mm.MerID) > maxMerIDLen || len(mm.Origin) > maxOriginLen || len(mm.Thumbs) > maxMemoryThumbs {
			return nil, fmt.Errorf("%w: a merchant entry out of bounds", ErrBadMemory)
		}
		for _, t := range mm.Thumbs {
			if len(t) != sha256.Size {
				return nil, fmt.Errorf("%w: a thumbprint of %d bytes", ErrBadMemory, len(t))
			}
		}
	}
	return &m, nil
}

// strictUnmarshal is asn1.Unmarshal that also refuses trailing bytes and
// any encoding other than the DER encoding/asn1 writes (re-encoding must
// give the same bytes).
func strictUnmarshal(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err != nil {
		// encoding/asn1's message names Go types, not the file.
		return errors.New("not the DER layout a wallet saves")
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d trailing bytes", len(rest))
	}
	again, err := asn1.Marshal(reflect.ValueOf(v).Elem().Interface())
	if err != nil {
		return err
	}
	if !bytes.Equal(again, b) {
		return errors.New("not DER")
	}
	return nil
}

func rootDERs(roots []*pki.Certificate) [][]byte {
	out := make([][]byte, 0, len(roots))
	for _, r := range roots {
		out = append(out, r.Raw)
	}
	return out
}

func isOneOf(der []byte, list [][]byte) bool {
	for _, c := range list {
		if bytes.Equal(c, der) {
			return true
		}
	}
	return false
}

// issuerHeld reports whether a certificate named name is among certs.
func issuerHeld(name []byte, certs [][]byte) bool {
	for _, der := range certs {
		if c, err := pki.ParseCertificate(der); err == nil && bytes.Equal(c.RawSubject, name) {
			return true
		}
	}
	return false
}
