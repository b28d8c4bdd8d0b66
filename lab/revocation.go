package lab

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/setpay/setpay/pki"
)

// crlLifetime is how long a CRL and BrandCRLIdentifier the lab issues stay
// current. The lab issues a new one at every revocation.
const crlLifetime = 7 * 24 * time.Hour

// crlState is the lab's revocation bookkeeping: what each CA has revoked,
// the last CRL number each used, the BCI sequence, and the published
// lists every party holds.
type crlState struct {
	mu        sync.Mutex
	revoked   map[*pki.Authority][]pki.RevokedCertificate
	number    map[*pki.Authority]int64
	current   map[*pki.Authority]*pki.CRL
	bciSeq    int
	published pki.Revocations
}

// Revocations returns the revocation lists the lab's parties check, as a
// source other parties (a second wallet, a CLI) can share.
func (l *Lab) Revocations() pki.RevocationSource { return l.opts.Revocation }

// Revoke has the CA that issued certDER (the brand's CCA, MCA or PCA, the
// brand CA for those, or the root for the brand CA) revoke it: the CA
// issues a new CRL listing it with everything it revoked before, the brand
// CA a new BrandCRLIdentifier naming the CAs' current CRLs, and both are
// published to every party of the lab at once. The next check of the
// certificate by any party fails with pki.ErrRevoked
// (revokedCertificate). It fails if the lab was built with an outside
// Options.Revocation, which the lab cannot update.
func (l *Lab) Revoke(certDER []byte, reason pki.CRLReason) error {
	if l.opts.Revocation != &l.crls.published {
		return errors.New("lab: revoke: the parties check an outside revocation source")
	}
	cert, err := pki.ParseCertificate(certDER)
	if err != nil {
		return fmt.Errorf("lab: revoke: %w", err)
	}
	h := l.Hierarchy
	var ca *pki.Authority
	for _, a := range []*pki.Authority{h.Root, h.Brand, h.CCA, h.MCA, h.PCA} {
		if bytes.Equal(a.Cert.RawSubject, cert.RawIssuer) {
			ca = a
			break
		}
	}
	if ca == nil {
		return fmt.Errorf("lab: revoke: %v was not issued by a CA of the lab", cert)
	}
	s := &l.crls
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil {
		s.revoked = map[*pki.Authority][]pki.RevokedCertificate{}
		s.number = map[*pki.Authority]int64{}
		s.current = map[*pki.Authority]*pki.CRL{}
	}
	for _, r := range s.revoked[ca] {
		if r.Serial.Cmp(cert.SerialNumber) == 0 {
			return nil // already revoked
		}
	}
	now := l.opts.Now().UTC().Truncate(time.Second)
	revoked := append(s.revoked[ca][:len(s.revoked[ca]):len(s.revoked[ca])],
		pki.RevokedCertificate{Serial: cert.SerialNumber, RevocationTime: now, Reason: reason})
	number := s.number[ca] + 1
	der, err := ca.IssueCRL(l.opts.Rand, revoked, big.NewInt(number), now, now.Add(crlLifetime))
	if err != nil {
		return fmt.Errorf("lab: revoke: %w", err)
	}
	crl, err := pki.ParseCRL(der)
	if err != nil {
		return fmt.Errorf("lab: revoke: own CRL: %w", err)
	}

	// The BCI names the current CRL of every CA of the brand that has one
	// (the root's CRL is not the brand's and stays out).
	t := &pki.BrandCRLIdentifier{SequenceNum: s.bciSeq + 1, BrandID: l.opts.Brand, NotBefore: now, NotAfter: now.Add(crlLifetime)}
	for _, a := range []*pki.Authority{h.Brand, h.CCA, h.MCA, h.PCA} {
		c := s.current[a]
		if a == ca {
			c = crl
		}
		if c != nil {
			t.CRLIdentifiers = append(t.CRLIdentifiers, pki.NewCRLIdentifier(a.Cert, c, l.Suite.Hash()))
		}
	}
	bciDER, err := h.Brand.IssueBCI(l.opts.Rand, t)
	if err != nil {
		return fmt.Errorf("lab: revoke: %w", err)
	}
	bci, err := pki.ParseBrandCRLIdentifier(bciDER)
	if err != nil {
		return fmt.Errorf("lab: revoke: own BCI: %w", err)
	}

	s.revoked[ca], s.number[ca], s.current[ca], s.bciSeq = revoked, number, crl, t.SequenceNum
	s.published.Update(crl, bci)
	return nil
}
