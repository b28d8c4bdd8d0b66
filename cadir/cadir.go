// Package cadir keeps a brand's certificate-authority hierarchy on disk:
// the keys (sealed with keyfile), the certificates, the CA databases and a
// configuration file, under one directory. Init creates it, Open loads it
// into running ca.CA instances, Revoke, IssueCRL and WriteCRLs
// manage revocation.
//
// The layout of a directory:
//
//	config.json              suite, brand, BIN ranges, acquirer records
//	root.der   root.pem      the SET root certificate (the trust anchor)
//	brand.der  brand.pem     the brand CA
//	cca.der    mca.der    pca.der        (and .pem) the issuing CAs
//	cca-exchange.der  mca-exchange.der  pca-exchange.der  (and .pem)
//	*.key                    every private key, sealed, mode 0600
//	cca.db  mca.db  pca.db   each issuing CA's database (SQLite)
//	root.db  brand.db        the certificates the root and the brand CA
//	                         issued (the CAs below them) and revoked
//	root.crl brand.crl cca.crl mca.crl pca.crl   the current CRL of each CA
//	brand.bci                the current BrandCRLIdentifier naming them
//	crl.lock                 orders the writers and readers of the CRLs
//
// Init issues a first CRL of every CA and a BrandCRLIdentifier, so that
// parties can require CRLs from the start; Revoke replaces the revoking
// CA's CRL and the BCI, WriteCRLs all of them, and RefreshCRLs (what
// 'setpay ca serve' runs) those past half their validity.
//
// PEM copies exist only so openssl can read the certificates; setpay reads
// the DER.
package cadir

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
)

// ConfigFile is the name of the configuration file in a CA directory.
const ConfigFile = "config.json"

// BINRange is one issuer's BIN range (first six PAN digits), inclusive.
type BINRange struct {
	Low  string `json:"low"`
	High string `json:"high"`
	// Form and Forms are the issuer's registration form, in the default
	// language and by language tag (forms.go); absent, it asks for nothing.
	Form  *Form            `json:"form,omitempty"`
	Forms map[string]*Form `json:"forms,omitempty"`
}

// Acquirer is one merchant or gateway in the acquirer's records (see
// ca.AcquirerRecord).
type Acquirer struct {
	AcquirerBIN string `json:"acquirer_bin"`
	MerID       string `json:"mer_id,omitempty"`      // "" for a gateway
	BusinessID  string `json:"business_id,omitempty"` // a gateway's acquirerBusinessID
	Name        string `json:"name"`
	City        string `json:"city,omitempty"`
	Country     int    `json:"country,omitempty"`
	// Form and Forms, when either is set, are this merchant's or
	// gateway's registration form in place of acquirer_form and
	// acquirer_forms (forms.go).
	Form  *Form            `json:"form,omitempty"`
	Forms map[string]*Form `json:"forms,omitempty"`
}

// Config is the content of config.json.
type Config struct {
	Suite     suite.ID   `json:"suite"`
	Brand     string     `json:"brand"`
	BINRanges []BINRange `json:"bin_ranges"`
	Acquirers []Acquirer `json:"acquirers"`
	// Review lists who registers only after an operator's decision
	// ('setpay ca pending'): any of "cardholders", "merchants",
	// "gateways" (review.go). Absent, everyone passing the checks is
	// certified at once.
	Review []string `json:"review,omitempty"`
	// AcquirerForm and AcquirerForms are the merchant and payment CAs'
	// registration form, in the default language and by language tag
	// (forms.go); each must have the "Legal name" field. Absent, the form
	// is that one field.
	AcquirerForm  *Form            `json:"acquirer_form,omitempty"`
	AcquirerForms map[string]*Form `json:"acquirer_forms,omitempty"`
}

// Defaults for a new directory: the lab's test BINs with a small form,
// the demo's merchant and gateway, and the acquirer's form. The forms
// ask, and require only what the CLI always answers ('register --name'
// fills "Legal name"), so a CA fresh from Init registers anyone who
// could register before; an operator makes fields required in
// config.json.
var (
	DefaultBINRanges = []BINRange{{Low: "400000", High: "599999", Form: &Form{ID: 1, Fields: []FormField{
		{Name: "Full name", Desc: "your name as it appears on the card", Len: 60},
		{Name: "Billing postal code", Desc: "the postal code of the card's billing address", Len: 10},
	}}}}
	DefaultAcquirerForm = &Form{ID: 1, Fields: []FormField{
		{Name: ca.FieldLegalName, Desc: "your business's legal name, as your acquirer knows it", Len: 60, Required: true},
		{Name: "Contact phone", Desc: "a phone number the acquirer can reach you at", Len: 20},
	}}
	DefaultAcquirers = []Acquirer{
		{AcquirerBIN: "400000", MerID: "MER-0001", Name: "Corner Bookshop", City: "Springfield", Country: 840},
		{AcquirerBIN: "400000", Name: "SETpay Payment Gateway", Country: 840},
	}
)

// InitOptions says what hierarchy Init creates.
type InitOptions struct {
	Suite      suite.Suite // required
	Brand      string      // default "SETpay"
	Passphrase []byte      // required: seals every key
	// BINRanges, Acquirers and AcquirerForm default to
	// DefaultBINRanges, DefaultAcquirers and DefaultAcquirerForm.
	BINRanges    []BINRange
	Acquirers    []Acquirer
	AcquirerForm *Form
	// KDF is the key files' key derivation; nil means keyfile's default.
	// Tests pass a cheap one.
	KDF  keyfile.Params
	Now  time.Time // default time.Now()
	Rand io.Reader // default crypto/rand
}

// The CAs, by the short names used in file names and URLs.
const (
	Brand = "brand"
	CCA   = "cca"
	MCA   = "mca"
	PCA   = "pca"
)

// IssuingCAs lists the issuing CAs in a fixed order.
var IssuingCAs = []string{CCA, MCA, PCA}

// Key file roles. Each CA key has its own label, so one CA's key file cannot
// be loaded as another's.
func signingRole(name string) string  { return "ca " + name + " signing" }
func exchangeRole(name string) string { return "ca " + name + " exchange" }

// Init creates a new hierarchy in dir, which must not exist or be empty.
func Init(dir string, opts InitOptions) error {
	if opts.Suite == nil {
		return errors.New("cadir: Init needs a suite")
	}
	if len(opts.Passphrase) == 0 {
		return keyfile.ErrEmptyPassphrase
	}
	if opts.Brand == "" {
		opts.Brand = "SETpay"
	}
	if opts.BINRanges == nil {
		opts.BINRanges = DefaultBINRanges
	}
	if opts.Acquirers == nil {
		opts.Acquirers = DefaultAcquirers
	}
	if opts.AcquirerForm == nil {
		opts.AcquirerForm = DefaultAcquirerForm
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	// A configuration Open would refuse is refused before anything is
	// written.
	cfg := Config{Suite: opts.Suite.ID(), Brand: opts.Brand, BINRanges: opts.BINRanges, Acquirers: opts.Acquirers, AcquirerForm: opts.AcquirerForm}
	if _, _, err := cfg.forms(); err != nil {
		return fmt.Errorf("cadir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cadir: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return fmt.Errorf("cadir: %w", err)
	} else if len(ents) > 0 {
		return fmt.Errorf("cadir: %s is not empty; refusing to overwrite a CA", dir)
	}
	st := opts.Suite
	h, err := pki.NewHierarchy(opts.Rand, opts.Brand, st.NewSigningKey, st.Hash(), opts.Now)
	if err != nil {
		return fmt.Errorf("cadir: creating the hierarchy: %w", err)
	}
	for name, a := range map[string]*pki.Authority{"root": h.Root, Brand: h.Brand, CCA: h.CCA, MCA: h.MCA, PCA: h.PCA} {
		if err := writeCert(dir, name, a.Cert.Raw); err != nil {
			return err
		}
		if err := writeSigningKey(dir, name, a.Key, opts); err != nil {
			return err
		}
	}
	for _, name := range IssuingCAs {
		k, err := st.NewExchangeKey(opts.Rand)
		if err != nil {
			return fmt.Errorf("cadir: %s exchange key: %w", name, err)
		}
		cert, err := issueExchangeCert(opts.Rand, h, name, k.Public(), opts.Now)
		if err != nil {
			return fmt.Errorf("cadir: %s exchange certificate: %w", name, err)
		}
		if err := writeCert(dir, name+"-exchange", cert); err != nil {
			return err
		}
		sealed, err := keyfile.SealExchangeKey(opts.Rand, k, exchangeRole(name), opts.Passphrase, opts.KDF)
		if err != nil {
			return fmt.Errorf("cadir: sealing the %s exchange key: %w", name, err)
		}
		if err := keyfile.WriteFile(filepath.Join(dir, name+"-exchange.key"), sealed); err != nil {
			return fmt.Errorf("cadir: %w", err)
		}
		db, err := sqlite.Open(filepath.Join(dir, name+".db"))
		if err != nil {
			return fmt.Errorf("cadir: %s database: %w", name, err)
		}
		if err := db.Close(); err != nil {
			return fmt.Errorf("cadir: %s database: %w", name, err)
		}
	}
	if err := initRevocation(dir, h, opts); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("cadir: %w", err)
	}
	return nil
}

// initRevocation records the CA certificates the root and the brand CA
// issued in root.db and brand.db, so that they can be revoked by serial,
// and issues the first CRL of every CA and the first BrandCRLIdentifier.
func initRevocation(dir string, h *pki.Hierarchy, opts InitOptions) error {
	ctx := context.Background()
	for name, issued := range map[string][]*pki.Certificate{Root: {h.Brand.Cert}, Brand: {h.CCA.Cert, h.MCA.Cert, h.PCA.Cert}} {
		db, err := sqlite.Open(filepath.Join(dir, name+".db"))
		if err != nil {
			return fmt.Errorf("cadir: %s database: %w", name, err)
		}
		for _, c := range issued {
			if err := recordIn(ctx, db, c); err != nil {
				db.Close()
				return fmt.Errorf("cadir: recording %v at the %s: %w", c, name, err)
			}
		}
		if err := db.Close(); err != nil {
			return fmt.Errorf("cadir: %s database: %w", name, err)
		}
	}
	auths := map[string]*pki.Authority{Root: h.Root, Brand: h.Brand, CCA: h.CCA, MCA: h.MCA, PCA: h.PCA}
	for _, name := range AllCAs {
		if _, err := writeCRL(dir, name, auths[name], nil, opts.Now, opts.Rand); err != nil {
			return err
		}
	}
	_, err := writeBCI(dir, opts.Brand, auths, h.Brand, opts.Now, opts.Rand)
	return err
}

// issueExchangeCert has the brand CA certify name's key-exchange key, with
// the certificate type of the CA it belongs to.
func issueExchangeCert(r io.Reader, h *pki.Hierarchy, name string, pub crypto.PublicKey, now time.Time) ([]byte, error) {
	switch name {
	case CCA:
		return ca.IssueExchangeCert(r, h.Brand, pub, h.CCA.Cert.Subject.CommonName, now)
	case MCA:
		return ca.IssueCAExchangeCert(r, h.Brand, pub, h.MCA.Cert.Subject.CommonName, pki.CertTypeMCA, now)
	default:
		return ca.IssueCAExchangeCert(r, h.Brand, pub, h.PCA.Cert.Subject.CommonName, pki.CertTypePCA, now)
	}
}

func writeSigningKey(dir, name string, k crypto.Signer, opts InitOptions) error {
	sealed, err := keyfile.SealSigningKey(opts.Rand, k, signingRole(name), opts.Passphrase, opts.KDF)
	if err != nil {
		return fmt.Errorf("cadir: sealing the %s key: %w", name, err)
	}
	if err := keyfile.WriteFile(filepath.Join(dir, name+".key"), sealed); err != nil {
		return fmt.Errorf("cadir: %w", err)
	}
	return nil
}

// writeCert writes name.der and its PEM copy name.pem. Certificates are
// public: mode 0644.
func writeCert(dir, name string, der []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name+".der"), der, 0o644); err != nil {
		return fmt.Errorf("cadir: %w", err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), p, 0o644); err != nil {
		return fmt.Errorf("cadir: %w", err)
	}
	return nil
}

// ReadConfig reads dir's config.json.
func ReadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cadir: %s is not a CA directory (no %s; run 'setpay ca init' first)", dir, ConfigFile)
		}
		return nil, fmt.Errorf("cadir: %w", err)
	}
	var cfg Config
	if err := decodeConfig(b, &cfg); err != nil {
		return nil, fmt.Errorf("cadir: %s: %w", ConfigFile, err)
	}
	if cfg.Brand == "" || len(cfg.BINRanges) == 0 {
		return nil, fmt.Errorf("cadir: %s: brand and bin_ranges are required", ConfigFile)
	}
	if _, _, err := cfg.forms(); err != nil {
		return nil, fmt.Errorf("cadir: %s: %w", ConfigFile, err)
	}
	return &cfg, nil
}

// ReadCert reads and parses dir/name.der.
func ReadCert(dir, name string) (*pki.Certificate, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+".der"))
	if err != nil {
		return nil, fmt.Errorf("cadir: %w", err)
	}
	c, err := pki.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("cadir: %s.der: %w", name, err)
	}
	return c, nil
}

// Hierarchy is an opened CA directory: the three issuing CAs, ready to
// serve, and what revocation needs. Each issuing CA checks its own
// certificate against the directory's current CRLs before every request,
// so a CA revoked by 'setpay ca revoke' in another process refuses to
// register anyone (revokedCertificate) from then on.
type Hierarchy struct {
	Dir    string
	Config Config
	Suite  suite.Suite
	// PKI holds the authorities. The root's key is loaded only with
	// OpenOptions.RootKey: the root signs nothing but its CRL, and an
	// offline root is the point of it.
	PKI *pki.Hierarchy
	// CAs are the running issuing CAs, by short name (CCA, MCA, PCA).
	CAs map[string]*ca.CA

	dbs  map[string]*sqlite.DB
	now  func() time.Time
	rand io.Reader
}

// OpenOptions are Open's optional settings.
type OpenOptions struct {
	Now  func() time.Time // default time.Now
	Rand io.Reader        // default crypto/rand
	Log  *slog.Logger     // default slog.Default()
	// RootKey also opens the root's key, which signing the root's CRL
	// needs (revoking the brand CA, WriteCRLs). A server leaves it closed.
	RootKey bool
	// Review replaces config.json's review list when not nil (an empty
	// list reviews no one).
	Review []string
}

// Open loads the hierarchy in dir, opening every key it needs with
// passphrase. A wrong passphrase is keyfile.ErrWrongPassphrase (wrapped).
func Open(dir string, passphrase []byte, opts OpenOptions) (_ *Hierarchy, err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	st, err := suite.ByID(cfg.Suite)
	if err != nil {
		return nil, fmt.Errorf("cadir: %s: %w", ConfigFile, err)
	}
	h := &Hierarchy{Dir: dir, Config: *cfg, Suite: st, PKI: &pki.Hierarchy{}, CAs: map[string]*ca.CA{}, dbs: map[string]*sqlite.DB{}, now: opts.Now, rand: opts.Rand}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	root, err := ReadCert(dir, "root")
	if err != nil {
		return nil, err
	}
	h.PKI.Root = &pki.Authority{Cert: root, Hash: st.Hash(), Chain: []*pki.Certificate{root}}
	openKey := func(name string) (crypto.Signer, error) {
		kb, err := keyfile.ReadFile(filepath.Join(dir, name+".key"))
		if err != nil {
			return nil, fmt.Errorf("cadir: %w", err)
		}
		k, err := keyfile.OpenSigningKey(kb, signingRole(name), passphrase)
		if err != nil {
			return nil, fmt.Errorf("cadir: opening %s.key: %w", name, err)
		}
		return k, nil
	}
	if opts.RootKey {
		if h.PKI.Root.Key, err = openKey(Root); err != nil {
			return nil, err
		}
	}
	load := func(name string, parent *pki.Authority) (*pki.Authority, error) {
		cert, err := ReadCert(dir, name)
		if err != nil {
			return nil, err
		}
		k, err := openKey(name)
		if err != nil {
			return nil, err
		}
		return &pki.Authority{Cert: cert, Key: k, Hash: st.Hash(), Chain: append([]*pki.Certificate{cert}, parent.Chain...)}, nil
	}
	if h.PKI.Brand, err = load(Brand, h.PKI.Root); err != nil {
		return nil, err
	}
	// The root's and the brand's databases, and what they issued: a
	// directory made before they existed gains them here.
	for _, name := range []string{Root, Brand} {
		db, err := sqlite.Open(filepath.Join(dir, name+".db"))
		if err != nil {
			return nil, fmt.Errorf("cadir: %s database: %w", name, err)
		}
		h.dbs[name] = db
	}
	if err := recordIn(context.Background(), h.dbs[Root], h.PKI.Brand.Cert); err != nil {
		return nil, fmt.Errorf("cadir: root database: %w", err)
	}
	issuers, records, err := cfg.forms()
	if err != nil {
		return nil, fmt.Errorf("cadir: %s: %w", ConfigFile, err)
	}
	if opts.Review == nil {
		opts.Review = cfg.Review
	}
	review, err := reviewSet(opts.Review)
	if err != nil {
		return nil, err
	}
	for _, name := range IssuingCAs {
		a, err := load(name, h.PKI.Brand)
		if err != nil {
			return nil, err
		}
		switch name {
		case CCA:
			h.PKI.CCA = a
		case MCA:
			h.PKI.MCA = a
		case PCA:
			h.PKI.PCA = a
		}
		if err := recordIn(context.Background(), h.dbs[Brand], a.Cert); err != nil {
			return nil, fmt.Errorf("cadir: brand database: %w", err)
		}
		exCert, err := os.ReadFile(filepath.Join(dir, name+"-exchange.der"))
		if err != nil {
			return nil, fmt.Errorf("cadir: %w", err)
		}
		kb, err := keyfile.ReadFile(filepath.Join(dir, name+"-exchange.key"))
		if err != nil {
			return nil, fmt.Errorf("cadir: %w", err)
		}
		exKey, err := keyfile.OpenExchangeKey(kb, exchangeRole(name), passphrase)
		if err != nil {
			return nil, fmt.Errorf("cadir: opening %s-exchange.key: %w", name, err)
		}
		db, err := sqlite.Open(filepath.Join(dir, name+".db"))
		if err != nil {
			return nil, fmt.Errorf("cadir: %s database: %w", name, err)
		}
		h.dbs[name] = db
		c := ca.Config{
			Suite: st, BrandID: cfg.Brand, Authority: a,
			ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: exCert,
			Roots: []*pki.Certificate{root}, Store: ca.NewSQLStore(db, 0),
			Revocation: DirRevocation(dir),
			Rand:       opts.Rand, Now: opts.Now, Log: opts.Log,
		}
		if name == CCA {
			c.Issuers = issuers
		} else {
			c.Acquirer = records
		}
		applyReview(&c, name, review)
		if h.CAs[name], err = ca.New(c); err != nil {
			return nil, fmt.Errorf("cadir: %s: %w", name, err)
		}
	}
	return h, nil
}

// Authority returns the CA called name (Root, Brand, CCA, MCA or PCA).
// The root's Key is nil unless opened with OpenOptions.RootKey.
func (h *Hierarchy) Authority(name string) (*pki.Authority, error) {
	switch name {
	case Root:
		return h.PKI.Root, nil
	case Brand:
		return h.PKI.Brand, nil
	case CCA:
		return h.PKI.CCA, nil
	case MCA:
		return h.PKI.MCA, nil
	case PCA:
		return h.PKI.PCA, nil
	}
	return nil, fmt.Errorf("cadir: no CA %q (want root, brand, cca, mca or pca)", name)
}

// Close closes the CA databases.
func (h *Hierarchy) Close() error {
	var errs []error
	for _, db := range h.dbs {
		errs = append(errs, db.Close())
	}
	h.dbs = nil
	return errors.Join(errs...)
}
