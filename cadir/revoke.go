package cadir

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
)

// CRLValidity is how long a CRL or BrandCRLIdentifier written here stays
// current: parties must fetch a fresh one within a week.
const CRLValidity = 7 * 24 * time.Hour

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

// ErrUnknownSerial means no issuing CA of the hierarchy has a record of
// issuing the serial.
var ErrUnknownSerial = errors.New("cadir: no CA of this hierarchy recorded issuing that serial")

// Revoke revokes the certificate with serial, at whichever issuing CA
// recorded issuing it, and writes that CA's fresh CRL to DIR/NAME.crl. It
// returns the CA's short name and the CRL.
func (h *Hierarchy) Revoke(ctx context.Context, serial *big.Int, reason pki.CRLReason) (string, []byte, error) {
	for _, name := range IssuingCAs {
		_, err := h.dbs[name].IssuedCert(ctx, serial)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("cadir: %s database: %w", name, err)
		}
		if err := h.dbs[name].Revoke(ctx, &store.Revocation{Serial: serial, Time: h.now().UTC(), Reason: int(reason)}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return "", nil, fmt.Errorf("cadir: serial %d is already revoked by the %s", serial, name)
			}
			return "", nil, fmt.Errorf("cadir: revoking at the %s: %w", name, err)
		}
		crl, err := h.IssueCRL(ctx, name)
		if err != nil {
			return "", nil, err
		}
		return name, crl, nil
	}
	return "", nil, fmt.Errorf("%w: %d", ErrUnknownSerial, serial)
}

// RevokeCert revokes a certificate given whole: it must chain to this
// hierarchy's root through one of its issuing CAs, which then records it
// as issued (if it had not) and revokes it. This is how a certificate
// whose issuance the CA did not record can still be revoked.
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
	for _, n := range IssuingCAs {
		a, _ := h.Authority(n)
		if bytes.Equal(chain[1].Raw, a.Cert.Raw) {
			name = n
		}
	}
	if name == "" {
		return "", nil, nil, errors.New("cadir: the certificate to revoke was not issued by the cardholder, merchant or payment CA")
	}
	err = h.dbs[name].PutIssuedCert(ctx, &store.IssuedCert{
		Serial: cert.SerialNumber, Subject: cert.Subject.CommonName, CertType: int(cert.CertType),
		NotAfter: cert.NotAfter, DER: cert.Raw,
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return "", nil, nil, fmt.Errorf("cadir: recording the certificate at the %s: %w", name, err)
	}
	n, crl, err := h.Revoke(ctx, cert.SerialNumber, reason)
	return n, cert.SerialNumber, crl, err
}

// IssueCRL signs a fresh CRL of the issuing CA name (or of Brand, whose
// CRL is always empty: revoking an issuing CA is not supported here)
// listing every revocation in its database, valid for CRLValidity, and keeps it as the
// CA's current CRL in DIR/NAME.crl.
//
// CRL numbers must increase. They are the time in nanoseconds, or one more
// than the current CRL's number if that is larger (a clock set back), so
// no counter needs to be kept besides the current CRL itself.
func (h *Hierarchy) IssueCRL(ctx context.Context, name string) ([]byte, error) {
	a, err := h.Authority(name)
	if err != nil {
		return nil, err
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
	now := h.now().UTC().Truncate(time.Second)
	number := big.NewInt(h.now().UnixNano())
	path := filepath.Join(h.Dir, name+".crl")
	if prev, err := os.ReadFile(path); err == nil {
		if c, err := pki.ParseCRL(prev); err == nil && c.Number.Cmp(number) >= 0 {
			number = new(big.Int).Add(c.Number, big.NewInt(1))
		}
	}
	crl, err := a.IssueCRL(h.rand, list, number, now, now.Add(CRLValidity))
	if err != nil {
		return nil, fmt.Errorf("cadir: %s CRL: %w", name, err)
	}
	if err := os.WriteFile(path, crl, 0o644); err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	return crl, nil
}

// WriteCRLs issues a fresh CRL for every issuing CA and a
// BrandCRLIdentifier listing them with the brand CA's own, and writes them
// to outDir: brand.crl, cca.crl, mca.crl, pca.crl (DER, with .crl.pem copies for openssl) and
// brand.bci (DER). It returns the paths written.
func (h *Hierarchy) WriteCRLs(ctx context.Context, outDir string) ([]string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	var written []string
	bci := &pki.BrandCRLIdentifier{BrandID: h.Config.Brand}
	now := h.now().UTC().Truncate(time.Second)
	for _, name := range append([]string{Brand}, IssuingCAs...) {
		der, err := h.IssueCRL(ctx, name)
		if err != nil {
			return written, err
		}
		crl, err := pki.ParseCRL(der)
		if err != nil {
			return written, fmt.Errorf("cadir: %s CRL: %w", name, err)
		}
		a, _ := h.Authority(name)
		bci.CRLIdentifiers = append(bci.CRLIdentifiers, pki.NewCRLIdentifier(a.Cert, crl, h.Suite.Hash()))
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
	// The sequence number, like the CRL numbers, follows the clock: a BCI
	// written later supersedes an earlier one.
	bci.SequenceNum = int(now.Unix())
	bci.NotBefore, bci.NotAfter = now, now.Add(CRLValidity)
	der, err := h.PKI.Brand.IssueBCI(h.rand, bci)
	if err != nil {
		return written, fmt.Errorf("cadir: BrandCRLIdentifier: %w", err)
	}
	p := filepath.Join(outDir, "brand.bci")
	if err := os.WriteFile(p, der, 0o644); err != nil {
		return written, fmt.Errorf("cadir: %w", err)
	}
	return append(written, p), nil
}
