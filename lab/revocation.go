package lab

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// crlLifetime is how long a CRL and BrandCRLIdentifier the lab issues stay
// current. The lab issues a new one at every revocation.
const crlLifetime = 7 * 24 * time.Hour

// crlState is the lab's revocation bookkeeping: what each CA has revoked,
// the last CRL number each used, the BCI sequence, and the published
// lists every party holds. A registered lab shares it with its
// Authorities.
type crlState struct {
	mu        sync.Mutex
	revoked   map[*pki.Authority][]pki.RevokedCertificate
	number    map[*pki.Authority]int64
	current   map[*pki.Authority]*pki.CRL
	bciSeq    int
	published pki.Revocations

	brand string
	hash  crypto.Hash
	h     *pki.Hierarchy
	rand  io.Reader
}

// newCRLState issues the first CRL of every CA of h, revoking nothing,
// and a BrandCRLIdentifier naming them, and publishes them: from creation
// on, parties can run with VerifyOptions.RequireCRLs.
func newCRLState(h *pki.Hierarchy, brand string, st suite.Suite, now time.Time, rand io.Reader) (*crlState, error) {
	s := &crlState{
		revoked: map[*pki.Authority][]pki.RevokedCertificate{},
		number:  map[*pki.Authority]int64{},
		current: map[*pki.Authority]*pki.CRL{},
		brand:   brand, hash: st.Hash(), h: h, rand: rand,
	}
	now = now.UTC().Truncate(time.Second)
	var crls []*pki.CRL
	for _, a := range []*pki.Authority{h.Root, h.Brand, h.CCA, h.MCA, h.PCA} {
		crl, err := s.issue(a, nil, 1, now)
		if err != nil {
			return nil, err
		}
		s.number[a], s.current[a] = 1, crl
		crls = append(crls, crl)
	}
	bci, err := s.issueBCI(1, now)
	if err != nil {
		return nil, err
	}
	s.bciSeq = 1
	s.published.Set(crls, bci)
	return s, nil
}

// issue signs and parses a's CRL.
func (s *crlState) issue(a *pki.Authority, revoked []pki.RevokedCertificate, number int64, now time.Time) (*pki.CRL, error) {
	der, err := a.IssueCRL(s.rand, revoked, big.NewInt(number), now, now.Add(crlLifetime))
	if err != nil {
		return nil, fmt.Errorf("lab: CRL of %v: %w", a.Cert, err)
	}
	crl, err := pki.ParseCRL(der)
	if err != nil {
		return nil, fmt.Errorf("lab: own CRL: %w", err)
	}
	return crl, nil
}

// issueBCI signs the BCI naming every CA's current CRL, the root's too
// (a chain's root CRL is one a party requiring CRLs needs).
func (s *crlState) issueBCI(seq int, now time.Time) (*pki.BrandCRLIdentifier, error) {
	t := &pki.BrandCRLIdentifier{SequenceNum: seq, BrandID: s.brand, NotBefore: now, NotAfter: now.Add(crlLifetime)}
	for _, a := range []*pki.Authority{s.h.Root, s.h.Brand, s.h.CCA, s.h.MCA, s.h.PCA} {
		if c := s.current[a]; c != nil {
			t.CRLIdentifiers = append(t.CRLIdentifiers, pki.NewCRLIdentifier(a.Cert, c, s.hash))
		}
	}
	der, err := s.h.Brand.IssueBCI(s.rand, t)
	if err != nil {
		return nil, fmt.Errorf("lab: BCI: %w", err)
	}
	bci, err := pki.ParseBrandCRLIdentifier(der)
	if err != nil {
		return nil, fmt.Errorf("lab: own BCI: %w", err)
	}
	return bci, nil
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
	s := l.crls
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.revoked[ca] {
		if r.Serial.Cmp(cert.SerialNumber) == 0 {
			return nil // already revoked
		}
	}
	now := l.opts.Now().UTC().Truncate(time.Second)
	revoked := append(s.revoked[ca][:len(s.revoked[ca]):len(s.revoked[ca])],
		pki.RevokedCertificate{Serial: cert.SerialNumber, RevocationTime: now, Reason: reason})
	number := s.number[ca] + 1
	crl, err := s.issue(ca, revoked, number, now)
	if err != nil {
		return fmt.Errorf("lab: revoke: %w", err)
	}
	prev := s.current[ca]
	s.current[ca] = crl
	bci, err := s.issueBCI(s.bciSeq+1, now)
	if err != nil {
		s.current[ca] = prev
		return fmt.Errorf("lab: revoke: %w", err)
	}
	s.revoked[ca], s.number[ca], s.bciSeq = revoked, number, bci.SequenceNum
	s.published.Update(crl, bci)
	return nil
}
