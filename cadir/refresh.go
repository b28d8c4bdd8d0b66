package cadir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/setpay/setpay/pki"
)

// DefaultRefreshAt is the fraction of a CRL's (or the BCI's) validity
// after which RefreshCRLs re-signs it: half, so a party polling daily has
// days to pick up the new one before the old one lapses.
const DefaultRefreshAt = 0.5

// Refreshed is what RefreshCRLs did.
type Refreshed struct {
	// CRLs names the CAs whose CRL was re-signed.
	CRLs []string
	// BCI is true when a new BrandCRLIdentifier was signed.
	BCI bool
	// Stale names the CAs whose CRL is due but whose key is closed: the
	// root, in a server. Its NextUpdate says how long the CRL stays
	// current; run 'setpay ca crl' (which opens the root key) before then.
	Stale []string
	// RootNextUpdate is when the root's current CRL stops being current.
	RootNextUpdate time.Time
}

// RefreshCRLs re-signs every CA's CRL that has passed the fraction at
// (0 < at < 1; DefaultRefreshAt if 0) of its validity, or is missing, and
// then signs a new BrandCRLIdentifier if any CRL changed, if the BCI has
// itself passed that fraction, or if it does not name exactly the CRLs in
// the directory (a process that stopped between writing a CRL and the
// BCI). A CA whose key is closed (the root, unless OpenOptions.RootKey) is
// reported in Stale rather than re-signed. It holds the directory's lock,
// so a concurrent 'setpay ca revoke' is ordered before or after it, and
// readers (ReadPublished, hence GET /crl) never see new CRLs with an old
// BCI. Each file is replaced by atomic rename.
func (h *Hierarchy) RefreshCRLs(ctx context.Context, at float64) (*Refreshed, error) {
	if at == 0 {
		at = DefaultRefreshAt
	}
	if !(at > 0 && at < 1) {
		return nil, fmt.Errorf("cadir: refresh point %v: want a fraction of the validity between 0 and 1", at)
	}
	unlock, err := lockDir(h.Dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	now := h.now()
	r := &Refreshed{}
	for _, name := range AllCAs {
		crl, err := readCRL(h.Dir, name)
		if err != nil {
			return r, err
		}
		if crl != nil && name == Root {
			r.RootNextUpdate = crl.NextUpdate
		}
		if crl != nil && !due(crl.ThisUpdate, crl.NextUpdate, now, at) {
			continue
		}
		if a, _ := h.Authority(name); a.Key == nil {
			r.Stale = append(r.Stale, name)
			continue
		}
		der, err := h.issueCRL(ctx, name)
		if err != nil {
			return r, err
		}
		r.CRLs = append(r.CRLs, name)
		if name == Root {
			if c, err := pki.ParseCRL(der); err == nil {
				r.RootNextUpdate = c.NextUpdate
			}
		}
	}
	ok, err := h.bciCurrent(now, at)
	if err != nil {
		return r, err
	}
	if len(r.CRLs) > 0 || !ok {
		if _, err := h.issueBCI(); err != nil {
			return r, err
		}
		r.BCI = true
	}
	return r, nil
}

// due reports whether a document valid from thisUpdate to nextUpdate has
// passed the fraction at of its validity by now.
func due(thisUpdate, nextUpdate, now time.Time, at float64) bool {
	life := nextUpdate.Sub(thisUpdate)
	return !now.Before(thisUpdate.Add(time.Duration(float64(life) * at)))
}

// readCRL reads and parses dir/name.crl; nil if there is none.
func readCRL(dir, name string) (*pki.CRL, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+".crl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	crl, err := pki.ParseCRL(b)
	if err != nil {
		// A damaged CRL is replaced, as if missing.
		return nil, nil
	}
	return crl, nil
}

// bciCurrent reports whether the directory's BCI is not yet due and names
// exactly the CRLs in the directory, by issuer and number. The lock is
// held.
func (h *Hierarchy) bciCurrent(now time.Time, at float64) (bool, error) {
	p, err := readPublished(h.Dir)
	if err != nil {
		return false, err
	}
	if p.BCI == nil {
		return false, nil
	}
	bci, err := pki.ParseBrandCRLIdentifier(p.BCI)
	if err != nil || bci.BrandID != h.Config.Brand || due(bci.NotBefore, bci.NotAfter, now, at) {
		return false, nil
	}
	var want []pki.CRLIdentifier
	for _, name := range AllCAs {
		crl, err := readCRL(h.Dir, name)
		if err != nil {
			return false, err
		}
		if crl == nil {
			continue
		}
		a, _ := h.Authority(name)
		want = append(want, pki.NewCRLIdentifier(a.Cert, crl, a.Hash))
	}
	if len(want) != len(bci.CRLIdentifiers) {
		return false, nil
	}
	for _, w := range want {
		found := false
		for _, id := range bci.CRLIdentifiers {
			if bytes.Equal(id.IssuerThumb, w.IssuerThumb) && id.CRLNumber.Cmp(w.CRLNumber) == 0 {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// KeepCRLsFresh runs RefreshCRLs at once and then every interval until ctx
// is done, which is the only way it returns (with ctx's error). Each
// run's outcome goes to report (nil: ignored); a failed run is retried at
// the next tick, and the files keep their previous, still current,
// content. This is what 'setpay ca serve' runs beside its handlers.
func (h *Hierarchy) KeepCRLsFresh(ctx context.Context, interval time.Duration, at float64, report func(*Refreshed, error)) error {
	if interval <= 0 {
		return errors.New("cadir: CRL check interval must be positive")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r, err := h.RefreshCRLs(ctx, at)
		if report != nil && ctx.Err() == nil {
			report(r, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
