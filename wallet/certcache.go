package wallet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"

	"github.com/setpay/setpay/encap"
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
// acquirer: listing one the merchant does not use would tell it that the
// cardholder bought from a merchant of that acquirer. So the wallet lists
// to a merchant only
//
//   - the brand's hierarchy common to every cardholder of the brand: root,
//     brand and geo-political CA certificates, and
//   - the certificates this same merchant sent before (its own, its CA's,
//     its gateway's and that gateway's CA's), which tell it nothing new.
//
// A repeat purchase from the same merchant saves as much as before; a first
// purchase from a merchant saves only the brand's certificates.
// (docs/spec-gaps.md, "certificate thumbs".)

// Bounds on the record of who sent what: past them the merchant seen
// longest ago is forgotten (its certificates are then sent again).
const (
	maxMerchantsRemembered = 64
	maxThumbsPerMerchant   = 64
)

// commonCATypes are the certificate types every cardholder of a brand
// holds a chain through, whoever they bought from.
const commonCATypes = pki.CertTypeRCA | pki.CertTypeBCA | pki.CertTypeGCA

// merchantsSeen records, per merchant ID, the SHA-256 of the certificates
// that merchant sent in messages that verified. Safe for concurrent use.
type merchantsSeen struct {
	mu    sync.Mutex
	ids   []string // least recently seen first
	certs map[string]map[[sha256.Size]byte]bool
}

// note records that merchantID sent certs.
func (s *merchantsSeen) note(merchantID string, certs [][]byte) {
	if merchantID == "" || len(certs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certs == nil {
		s.certs = map[string]map[[sha256.Size]byte]bool{}
	}
	set := s.touch(merchantID)
	for _, c := range certs {
		if len(set) >= maxThumbsPerMerchant {
			break
		}
		set[sha256.Sum256(c)] = true
	}
}

// touch returns merchantID's set, making it the most recently seen and
// forgetting the least recently seen past the bound. s.mu is held.
func (s *merchantsSeen) touch(merchantID string) map[[sha256.Size]byte]bool {
	if i := slices.Index(s.ids, merchantID); i >= 0 {
		s.ids = append(slices.Delete(s.ids, i, i+1), merchantID)
		return s.certs[merchantID]
	}
	for len(s.ids) >= maxMerchantsRemembered {
		delete(s.certs, s.ids[0])
		s.ids = s.ids[1:]
	}
	s.ids = append(s.ids, merchantID)
	set := map[[sha256.Size]byte]bool{}
	s.certs[merchantID] = set
	return set
}

// sent reports whether merchantID sent cert before.
func (s *merchantsSeen) sent(merchantID string, cert []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs[merchantID][sha256.Sum256(cert)]
}

// saved is the record for SaveMemory, least recently seen first, of the
// certificates in held (only those are ever listed).
func (s *merchantsSeen) saved(held map[[sha256.Size]byte]bool) []merchantMemory {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []merchantMemory
	for _, id := range s.ids {
		mm := merchantMemory{MerID: id}
		for k := range s.certs[id] {
			if held[k] {
				mm.Thumbs = append(mm.Thumbs, bytes.Clone(k[:]))
			}
		}
		// A stable order, so that the same record saves the same bytes.
		slices.SortFunc(mm.Thumbs, func(a, b []byte) int { return slices.Compare(a, b) })
		out = append(out, mm)
	}
	return out
}

// load adds a saved record, keeping only the certificates in held.
func (s *merchantsSeen) load(saved []merchantMemory, held map[[sha256.Size]byte]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certs == nil {
		s.certs = map[string]map[[sha256.Size]byte]bool{}
	}
	for _, mm := range saved {
		set := s.touch(mm.MerID)
		for _, t := range mm.Thumbs {
			if k := [sha256.Size]byte(t); held[k] && len(set) < maxThumbsPerMerchant {
				set[k] = true
			}
		}
	}
}

// forMerchant keeps, of the cached certificates, what may be listed to
// merchant merchantID: the brand's common hierarchy and what that merchant
// sent before.
func (w *Wallet) forMerchant(merchantID string) func(*pki.Certificate) bool {
	return func(c *pki.Certificate) bool {
		if c.CertType&commonCATypes != 0 && c.CertType&^commonCATypes == 0 && c.MerchantData == nil {
			return true
		}
		return w.seen.sent(merchantID, c.Raw)
	}
}

// noteSent records the certificates a verified message of the purchase's
// merchant carried, and the merchant's and gateway's certificates it
// relied on, as sent by that merchant — once the signer is known to be the
// merchant the offer names, so that a merchant cannot file certificates
// under another's name (and have them listed to that one).
func (p *Purchase) noteSent(certs ...[]byte) {
	c, err := pki.ParseCertificate(p.merchantCert)
	if err != nil || c.MerchantData == nil || c.MerchantData.MerID != p.offer.MerchantID {
		return
	}
	p.w.seen.note(p.offer.MerchantID, certs)
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
