package cadir

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/setpay/setpay/crldist"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/atomicfile"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
)

// CRLValidity is how long a CRL or BrandCRLIdentifier written here stays
// current: parties must fetch a fresh one within a week. 'setpay ca serve'
// re-signs them long before that (RefreshCRLs).
const CRLValidity = 7 * 24 * time.Hour

// RootCRLValidity is how long the root's CRL stays current. The root's key
// stays offline ('setpay ca serve' never opens it), so a server cannot
// re-sign the root's CRL; its CRL lists only revoked brand CAs, which are
// revoked rarely and offline with 'setpay ca revoke' (a new root CRL at
// once). A year between 'setpay ca crl' runs keeps the root offline and
// still bounds how long a party may go without hearing from it.
const RootCRLValidity = 365 * 24 * time.Hour

// crlValidity is how long a fresh CRL of the CA name is current.
func crlValidity(name string) time.Duration {
	if name == Root {
		return RootCRLValidity
	}
	return CRLValidity
}

// Root is the short name of the SET root CA, whose CRL lists revoked brand
// CAs.
const Root = "root"

// BCIFile is the name of the brand's current BrandCRLIdentifier in a CA
// directory (and in the output of WriteCRLs).
const BCIFile = "brand.bci"

// AllCAs lists every CA of the hierarchy, root first: each has a CRL.
var AllCAs = []string{Root, Brand, CCA, MCA, PCA}

// Reasons maps the names RFC 5280 gives CRL reason codes (as openssl
// spells them) to the codes.
var Reasons = map[string]pki.CRLReason{
	"unspecified":          pki.ReasonUnspecified,
	"keyCompromise":        pki.ReasonKeyCompromise,
	"cACompromise":         pki.ReasonCACompromise,
	"affiliationChanged":   pki.ReasonAffiliationChanged,
	"superseded":           pki.ReasonSuperseded,
	"cessationOfOperation": pki.ReasonCessationOfOperation,
	"certificateHold":      pki.ReasonCertificateHold,
	"privilegeWithdrawn":   pki.ReasonPrivilegeWithdrawn,
	"aACompromise":         pki.ReasonAACompromise,
}

// ParseReason returns the reason code named s (case ignored).
func ParseReason(s string) (pki.CRLReason, error) {
	for name, r := range Reasons {
		if strings.EqualFold(name, s) {
			return r, nil
		}
	}
	return 0, fmt.Errorf("cadir: unknown revocation reason %q (want keyCompromise, superseded, affiliationChanged, cessationOfOperation, …)", s)
}

// ErrUnknownSerial means no CA of the hierarchy has a record of issuing
// the serial.
var ErrUnknownSerial = errors.New("cadir: no CA of this hierarchy recorded issuing that serial")

// ErrRootKeyClosed means an operation needs the root's key (signing the
// root's CRL, to revoke a brand CA or publish every CRL) and the hierarchy
// was opened without OpenOptions.RootKey.
var ErrRootKeyClosed = errors.New("cadir: the root CA's key is not open (OpenOptions.RootKey)")

// Revoke revokes the certificate with serial, at whichever CA of the
// hierarchy recorded issuing it (an issuing CA for end entities, the brand
// CA for the issuing CAs, the root for the brand CA), writes that CA's
// fresh CRL to DIR/NAME.crl and a fresh BrandCRLIdentifier to
// DIR/brand.bci, so 'setpay ca serve' hands out the new state at once. It
// returns the CA's short name and the CRL. The revocation is in the CA's
// database before any file is written.
func (h *Hierarchy) Revoke(ctx context.Context, serial *big.Int, reason pki.CRLReason) (string, []byte, error) {
	unlock, err := lockDir(h.Dir, true)
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	for _, name := range AllCAs {
		db := h.dbs[name]
		if db == nil {
			continue
		}
		_, err := db.IssuedCert(ctx, serial)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("cadir: %s database: %w", name, err)
		}
		if a, _ := h.Authority(name); a == nil || a.Key == nil {
			return "", nil, fmt.Errorf("cadir: serial %d was issued by the %s: %w", serial, name, ErrRootKeyClosed)
		}
		if err := db.Revoke(ctx, &store.Revocation{Serial: serial, Time: h.now().UTC(), Reason: int(reason)}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return "", nil, fmt.Errorf("cadir: serial %d is already revoked by the %s", serial, name)
			}
			return "", nil, fmt.Errorf("cadir: revoking at the %s: %w", name, err)
		}
		crl, err := h.issueCRL(ctx, name)
		if err != nil {
			return "", nil, err
		}
		if _, err := h.issueBCI(); err != nil {
			return "", nil, err
		}
		return name, crl, nil
	}
	return "", nil, fmt.Errorf("%w: %d", ErrUnknownSerial, serial)
}

// RevokeCert revokes a certificate given whole: it must chain to this
// hierarchy's root through one of its CAs, which then records it as issued
// (if it had not) and revokes it. This is how a certificate whose issuance
// the CA did not record can still be revoked. An issuing CA's certificate
// is revoked at the brand CA, the brand CA's at the root.
func (h *Hierarchy) RevokeCert(ctx context.Context, der []byte, reason pki.CRLReason) (string, *big.Int, []byte, error) {
	cert, err := pki.ParseCertificate(der)
	if err != nil {
		return "", nil, nil, fmt.Errorf("cadir: certificate to revoke: %w", err)
	}
	// Validity is not checked: an expired certificate may still be revoked.
	chain, err := cert.Verify(pki.VerifyOptions{
		Roots:         []*pki.Certificate{h.PKI.Root.Cert},
		Intermediates: []*pki.Certificate{h.PKI.Brand.Cert, h.PKI.CCA.Cert, h.PKI.MCA.Cert, h.PKI.PCA.Cert},
		Now:           cert.NotBefore,
	})
	if err != nil {
		return "", nil, nil, fmt.Errorf("cadir: the certificate to revoke was not issued by this hierarchy: %w", err)
	}
	if len(chain) < 2 {
		return "", nil, nil, errors.New("cadir: refusing to revoke a root certificate")
	}
	name := ""
	for _, n := range AllCAs {
		a, _ := h.Authority(n)
		if bytes.Equal(chain[1].Raw, a.Cert.Raw) {
			name = n
		}
	}
	if name == "" || h.dbs[name] == nil {
		return "", nil, nil, errors.New("cadir: the certificate to revoke was not issued by a CA of this directory")
	}
	if err := h.record(ctx, name, cert); err != nil {
		return "", nil, nil, err
	}
	n, crl, err := h.Revoke(ctx, cert.SerialNumber, reason)
	return n, cert.SerialNumber, crl, err
}

// record notes cert as issued by the CA name, if not already noted.
func (h *Hierarchy) record(ctx context.Context, name string, cert *pki.Certificate) error {
	if err := recordIn(ctx, h.dbs[name], cert); err != nil {
		return fmt.Errorf("cadir: recording %v at the %s: %w", cert, name, err)
	}
	return nil
}

// recordIn notes cert as issued in db, if not already noted.
func recordIn(ctx context.Context, db *sqlite.DB, cert *pki.Certificate) error {
	err := db.PutIssuedCert(ctx, &store.IssuedCert{
		Serial: cert.SerialNumber, Subject: cert.Subject.CommonName, CertType: int(cert.CertType),
		NotAfter: cert.NotAfter, DER: cert.Raw,
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// DirRevocation is a pki.RevocationSource reading the current CRLs and
// BrandCRLIdentifier of the CA directory dir at every call: what a CA
// served from dir checks its own certificate against, so a revocation
// written by another process takes effect at the next request. Files that
// that do not parse are an error (the CA then refuses to act); missing
// ones are left out.
func DirRevocation(dir string) pki.RevocationSource { return dirSource(dir) }

type dirSource string

func (d dirSource) Revocation(context.Context) ([]*pki.CRL, *pki.BrandCRLIdentifier, error) {
	p, err := ReadPublished(string(d))
	if err != nil {
		return nil, nil, err
	}
	crls := make([]*pki.CRL, len(p.CRLs))
	for i, b := range p.CRLs {
		if crls[i], err = pki.ParseCRL(b); err != nil {
			return nil, nil, fmt.Errorf("cadir: CRL in %s: %w", string(d), err)
		}
	}
	var bci *pki.BrandCRLIdentifier
	if p.BCI != nil {
		if bci, err = pki.ParseBrandCRLIdentifier(p.BCI); err != nil {
			return nil, nil, fmt.Errorf("cadir: %s: %w", BCIFile, err)
		}
	}
	return crls, bci, nil
}

// IssueCRL signs a fresh CRL of the CA name (Root, Brand, CCA, MCA or
// PCA) listing every revocation in its database, valid for CRLValidity
// (the root's for RootCRLValidity), and keeps it as the CA's current CRL
// in DIR/NAME.crl. The root's CRL needs OpenOptions.RootKey. The BCI
// still names the previous CRL until IssueBCI.
func (h *Hierarchy) IssueCRL(ctx context.Context, name string) ([]byte, error) {
	unlock, err := lockDir(h.Dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return h.issueCRL(ctx, name)
}

// issueCRL is IssueCRL with the directory's lock held.
func (h *Hierarchy) issueCRL(ctx context.Context, name string) ([]byte, error) {
	a, err := h.Authority(name)
	if err != nil {
		return nil, err
	}
	if a.Key == nil {
		return nil, fmt.Errorf("cadir: %s CRL: %w", name, ErrRootKeyClosed)
	}
	var revs []*store.Revocation
	if db := h.dbs[name]; db != nil {
		if revs, err = db.Revocations(ctx); err != nil {
			return nil, fmt.Errorf("cadir: %s revocations: %w", name, err)
		}
	}
	list := make([]pki.RevokedCertificate, len(revs))
	for i, r := range revs {
		list[i] = pki.RevokedCertificate{Serial: r.Serial, RevocationTime: r.Time, Reason: pki.CRLReason(r.Reason)}
	}
	return writeCRL(h.Dir, name, a, list, h.now(), h.rand)
}

// writeCRL signs a's CRL listing list and writes it to dir/name.crl.
//
// CRL numbers must increase. They are the time in nanoseconds, or one more
// than the current CRL's number if that is larger (a clock set back), so
// no counter needs to be kept besides the current CRL itself.
func writeCRL(dir, name string, a *pki.Authority, list []pki.RevokedCertificate, clock time.Time, rand io.Reader) ([]byte, error) {
	now := clock.UTC().Truncate(time.Second)
	number := big.NewInt(clock.UnixNano())
	path := filepath.Join(dir, name+".crl")
	if prev, err := os.ReadFile(path); err == nil {
		if c, err := pki.ParseCRL(prev); err == nil && c.Number.Cmp(number) >= 0 {
			number = new(big.Int).Add(c.Number, big.NewInt(1))
		}
	}
	crl, err := a.IssueCRL(rand, list, number, now, now.Add(crlValidity(name)))
	if err != nil {
		return nil, fmt.Errorf("cadir: %s CRL: %w", name, err)
	}
	if err := atomicfile.Write(path, crl, 0o644); err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	return crl, nil
}

// IssueBCI signs a fresh BrandCRLIdentifier naming the current CRL of
// every CA of the hierarchy (DIR/NAME.crl, root included) and writes it to
// DIR/brand.bci.
func (h *Hierarchy) IssueBCI() ([]byte, error) {
	unlock, err := lockDir(h.Dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return h.issueBCI()
}

// issueBCI is IssueBCI with the directory's lock held.
func (h *Hierarchy) issueBCI() ([]byte, error) {
	auths := map[string]*pki.Authority{}
	for _, name := range AllCAs {
		auths[name], _ = h.Authority(name)
	}
	return writeBCI(h.Dir, h.Config.Brand, auths, h.PKI.Brand, h.now(), h.rand)
}

// writeBCI reads the current CRL of each CA in auths from dir and writes
// the BrandCRLIdentifier naming them, signed by brand, to dir/brand.bci.
func writeBCI(dir, brandID string, auths map[string]*pki.Authority, brand *pki.Authority, clock time.Time, rand io.Reader) ([]byte, error) {
	now := clock.UTC().Truncate(time.Second)
	// The sequence number follows the clock, so that a hierarchy restored
	// from an old copy still moves forward, or is one more than the
	// current BCI's. It counts minutes: SET's sequenceNum has 31 bits,
	// which seconds since 1970 fill in 2038 and minutes in thousands of
	// years. (BCIs numbered in seconds before keep counting up by one.)
	bci := &pki.BrandCRLIdentifier{BrandID: brandID, SequenceNum: int(now.Unix() / 60), NotBefore: now, NotAfter: now.Add(CRLValidity)}
	path := filepath.Join(dir, BCIFile)
	if prev, err := os.ReadFile(path); err == nil {
		if b, err := pki.ParseBrandCRLIdentifier(prev); err == nil && b.SequenceNum >= bci.SequenceNum {
			bci.SequenceNum = b.SequenceNum + 1
		}
	}
	for _, name := range AllCAs {
		a := auths[name]
		b, err := os.ReadFile(filepath.Join(dir, name+".crl"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a directory made before every CA had a CRL
		}
		if err != nil {
			return nil, fmt.Errorf("cadir: BrandCRLIdentifier: %w", err)
		}
		crl, err := pki.ParseCRL(b)
		if err != nil {
			return nil, fmt.Errorf("cadir: %s.crl: %w", name, err)
		}
		bci.CRLIdentifiers = append(bci.CRLIdentifiers, pki.NewCRLIdentifier(a.Cert, crl, a.Hash))
	}
	der, err := brand.IssueBCI(rand, bci)
	if err != nil {
		return nil, fmt.Errorf("cadir: BrandCRLIdentifier: %w", err)
	}
	if err := atomicfile.Write(path, der, 0o644); err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	return der, nil
}

// Published is the hierarchy's current revocation state as kept in its
// directory: the CRL of every CA (root first) and the BrandCRLIdentifier.
// A directory made before Init issued them all may lack some: those are
// left out (BCI nil if none).
type Published struct {
	CRLs [][]byte
	BCI  []byte
}

// ReadPublished reads the current CRLs and BrandCRLIdentifier of the CA
// directory dir, as Init, Revoke, WriteCRLs and RefreshCRLs leave them. It
// reads the files at every call, so a server sees what another process
// revoked, and under the directory's lock, so never a CRL newer than the
// BCI read with it (a BCI pins each CRL's number).
func ReadPublished(dir string) (*Published, error) {
	unlock, err := lockDir(dir, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return readPublished(dir)
}

func readPublished(dir string) (*Published, error) {
	p := &Published{}
	for _, name := range AllCAs {
		b, err := os.ReadFile(filepath.Join(dir, name+".crl"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cadir: %w", err)
		}
		p.CRLs = append(p.CRLs, b)
	}
	b, err := os.ReadFile(filepath.Join(dir, BCIFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	p.BCI = b
	return p, nil
}

// WriteCRLs issues a fresh CRL for every CA of the hierarchy (root, brand,
// cca, mca, pca; the root's needs OpenOptions.RootKey) and a
// BrandCRLIdentifier listing them, keeps them as the current ones in the
// directory, and writes copies to outDir: root.crl, brand.crl, cca.crl,
// mca.crl, pca.crl (DER, with .crl.pem copies for openssl) and brand.bci
// (DER). It returns the paths written to outDir.
func (h *Hierarchy) WriteCRLs(ctx context.Context, outDir string) ([]string, error) {
	if h.PKI.Root.Key == nil {
		return nil, ErrRootKeyClosed
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	unlock, err := lockDir(h.Dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var written []string
	for _, name := range AllCAs {
		der, err := h.issueCRL(ctx, name)
		if err != nil {
			return written, err
		}
		p := filepath.Join(outDir, name+".crl")
		if err := os.WriteFile(p, der, 0o644); err != nil {
			return written, fmt.Errorf("cadir: %w", err)
		}
		pp := p + ".pem"
		if err := os.WriteFile(pp, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
			return written, fmt.Errorf("cadir: %w", err)
		}
		written = append(written, p, pp)
	}
	der, err := h.issueBCI()
	if err != nil {
		return written, err
	}
	p := filepath.Join(outDir, BCIFile)
	if err := os.WriteFile(p, der, 0o644); err != nil {
		return written, fmt.Errorf("cadir: %w", err)
	}
	return append(written, p), nil
}

// Notifier serves the directory's current revocation state (ReadPublished,
// read at every request) as CRLNotifications signed by the brand CA: what
// 'setpay ca serve' answers GET /crl with (package crldist).
func (h *Hierarchy) Notifier(log *slog.Logger) *crldist.Notifier {
	return &crldist.Notifier{
		Suite: h.Suite,
		Signer: encap.Signer{Key: h.PKI.Brand.Key, Cert: h.PKI.Brand.Cert.Raw,
			Chain: [][]byte{h.PKI.CCA.Cert.Raw, h.PKI.MCA.Cert.Raw, h.PKI.PCA.Cert.Raw}},
		State: func(context.Context) ([][]byte, []byte, error) {
			p, err := ReadPublished(h.Dir)
			if err != nil {
				return nil, nil, err
			}
			return p.CRLs, p.BCI, nil
		},
		Rand: h.rand, Now: h.now, Log: log,
	}
}
