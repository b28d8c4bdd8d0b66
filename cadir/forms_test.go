package cadir_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// writeConfig replaces dir's config.json with cfg.
func writeConfig(t *testing.T, dir string, cfg *cadir.Config) {
	t.Helper()
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, cadir.ConfigFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestConfigForms: an issuer's form in English and in French, from
// config.json, reach the cardholder who asks in that language: a wallet
// registering in French answers the French form (and cannot with the
// English answers), one in English the English form. The acquirer's form
// reaches a merchant the same way.
func TestConfigForms(t *testing.T) {
	st := suite.NewModern()
	dir := initDir(t, st)
	cfg, err := cadir.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BINRanges[0].Form = &cadir.Form{ID: 10, Fields: []cadir.FormField{{Name: "Full name", Len: 60, Required: true}}}
	cfg.BINRanges[0].Forms = map[string]*cadir.Form{"fr": {ID: 11, Fields: []cadir.FormField{
		{Name: "Nom complet", Desc: "tel qu'il figure sur la carte", Len: 60, Required: true},
		{Name: "Campagne", Type: "hidden", Value: "printemps"},
	}}}
	cfg.AcquirerForm = &cadir.Form{ID: 20, Fields: []cadir.FormField{{Name: "Legal name", Required: true}, {Name: "Phone", Required: true}}}
	writeConfig(t, dir, cfg)

	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	ctx := context.Background()
	cca := wire.ServeFunc(h.CAs[cadir.CCA].Serve)
	card := wallet.Card{PAN: "4111111111111111", Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"}
	french := map[string]string{"Nom complet": "Alice Martin"}
	english := map[string]string{"Full name": "Alice Martin"}

	if _, err := wallet.Register(ctx, cca, wallet.RegisterConfig{Suite: st, Card: card, Roots: roots, Language: "fr", Answers: french}); err != nil {
		t.Fatalf("registering in French with the French form's answers: %v", err)
	}
	if _, err := wallet.Register(ctx, cca, wallet.RegisterConfig{Suite: st, Card: card, Roots: roots, Language: "fr-CA", Answers: english}); err == nil || !strings.Contains(err.Error(), `"Nom complet" is required`) {
		t.Errorf("registering in fr-CA with the English answers = %v, want the French form's field required", err)
	}
	if _, err := wallet.Register(ctx, cca, wallet.RegisterConfig{Suite: st, Card: card, Roots: roots, Language: "en", Answers: english}); err != nil {
		t.Fatalf("registering in English with the English form's answers: %v", err)
	}
	if _, err := wallet.Register(ctx, cca, wallet.RegisterConfig{Suite: st, Card: card, Roots: roots, Language: "de", Answers: french}); err == nil || !strings.Contains(err.Error(), `"Full name" is required`) {
		t.Errorf("registering in German = %v, want the default (English) form", err)
	}

	mcfg := merchant.RegisterConfig{Suite: st, BrandID: "TestBrand", MerchantID: "MER-0001", AcquirerBIN: "400000", Roots: roots,
		Answers: map[string]string{"Legal name": "Corner Bookshop"}}
	if _, err := merchant.Register(ctx, wire.ServeFunc(h.CAs[cadir.MCA].Serve), mcfg); err == nil || !strings.Contains(err.Error(), `"Phone" is required`) {
		t.Errorf("merchant without the acquirer form's Phone = %v, want it required", err)
	}
	mcfg.Answers["Phone"] = "+1 555 0100"
	if _, err := merchant.Register(ctx, wire.ServeFunc(h.CAs[cadir.MCA].Serve), mcfg); err != nil {
		t.Errorf("merchant answering the acquirer form: %v", err)
	}
}

// TestConfigFormErrors: a form config.json cannot define is refused when
// the directory is read, saying where and why.
func TestConfigFormErrors(t *testing.T) {
	st := suite.NewModern()
	dir := initDir(t, st)
	base, err := cadir.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) cadir.FormField { return cadir.FormField{Name: name} }
	form := func(id int64, fields ...cadir.FormField) *cadir.Form { return &cadir.Form{ID: id, Fields: fields} }
	for _, tt := range []struct {
		name string
		edit func(c *cadir.Config)
		want string
	}{
		{"unknown type", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(1, cadir.FormField{Name: "x", Type: "checkbox"})
		}, `bin_ranges[0] form: field 1 ("x"): unknown field type "checkbox"`},
		{"duplicate field", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(1, field("x"), field("y"), field("x"))
		}, `bin_ranges[0] form: field 3 ("x"): duplicate field name`},
		{"no name", func(c *cadir.Config) { c.BINRanges[0].Form = form(1, field("")) }, `field 1: no name`},
		{"no fields", func(c *cadir.Config) { c.BINRanges[0].Form = form(1) }, `bin_ranges[0] form: no fields`},
		{"zero id", func(c *cadir.Config) { c.BINRanges[0].Form = form(0, field("x")) }, `id 0: want a positive form ID`},
		{"shared id", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(5, field("x"))
			c.BINRanges[0].Forms = map[string]*cadir.Form{"fr": form(5, field("y"))}
		}, `bin_ranges[0] forms["fr"]: id 5 is also bin_ranges[0] form's`},
		{"bad tag", func(c *cadir.Config) {
			c.BINRanges[0].Forms = map[string]*cadir.Form{"french!": form(5, field("y"))}
		}, `"french!" is not a language tag`},
		{"same language twice", func(c *cadir.Config) {
			c.BINRanges[0].Forms = map[string]*cadir.Form{"FR": form(5, field("y")), "fr": form(6, field("y"))}
		}, `are the same language`},
		{"too long", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(1, cadir.FormField{Name: "x", Len: 500})
		}, `len 500 outside 1..128`},
		{"text with value", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(1, cadir.FormField{Name: "x", Value: "v"})
		}, `a text field has no value`},
		{"bad oid", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(1, cadir.FormField{Name: "x", OID: "1.x"})
		}, `oid "1.x"`},
		{"merchant form without legal name", func(c *cadir.Config) {
			c.AcquirerForms = map[string]*cadir.Form{"fr": form(7, field("Raison sociale"))}
		}, `acquirer forms["fr"]: no "Legal name" field`},
		{"not ASCII", func(c *cadir.Config) {
			c.BINRanges[0].Form = form(1, cadir.FormField{Name: "x", Desc: "Téléphone"})
		}, `desc has 'é': SET's registration forms are printable ASCII only`},
		{"null form", func(c *cadir.Config) {
			c.AcquirerForms = map[string]*cadir.Form{"fr": nil}
		}, `acquirer forms["fr"]: null form`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := *base
			c.BINRanges = append([]cadir.BINRange(nil), base.BINRanges...)
			tt.edit(&c)
			writeConfig(t, dir, &c)
			_, err := cadir.ReadConfig(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), cadir.ConfigFile) {
				t.Errorf("ReadConfig = %v, want an error naming %s and saying %s", err, cadir.ConfigFile, tt.want)
			}
			if _, err := cadir.Open(dir, pass, cadir.OpenOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %v, want it to refuse with %s", err, tt.want)
			}
		})
	}
}

// TestInitDefaultForms: a directory fresh from Init has a cardholder form
// and an acquirer form, sent to whoever registers, and still registers a
// wallet that answers nothing and a merchant that gives only its legal
// name (what the CLI sends without --answer).
func TestInitDefaultForms(t *testing.T) {
	st := suite.NewModern()
	dir := initDir(t, st)
	cfg, err := cadir.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BINRanges[0].Form == nil || len(cfg.BINRanges[0].Form.Fields) == 0 || cfg.AcquirerForm == nil {
		t.Fatalf("Init wrote no default forms: %+v", cfg)
	}
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	ctx := context.Background()
	cca := wire.ServeFunc(h.CAs[cadir.CCA].Serve)
	ep := &wire.Endpoint{Suite: st}
	card := wallet.Card{PAN: "4111111111111111", Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"}

	reg, init, err := wallet.NewRegistration(wallet.RegisterConfig{Suite: st, Card: card, Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ep.Call(ctx, cca, "CA", nil, nil, init)
	if err != nil {
		t.Fatal(err)
	}
	formReq, err := reg.HandleCardCInitRes(m.(*msg.CardCInitRes))
	if err != nil {
		t.Fatal(err)
	}
	m, err = ep.Call(ctx, cca, "CA", nil, nil, formReq)
	if err != nil {
		t.Fatal(err)
	}
	tbs, _, err := encap.OpenS(st, m.(*msg.RegFormRes).SignedData, msg.OIDRegFormResTBS, pki.CertVerifier(pki.VerifyOptions{Roots: roots, Now: time.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := msg.UnmarshalRegFormResTBS(tbs)
	if err != nil {
		t.Fatal(err)
	}
	form := res.RegFormOrReferral.RegFormData
	if form == nil || form.RegTemplate == nil || len(form.RegTemplate.RegFieldSeq) != len(cfg.BINRanges[0].Form.Fields) {
		t.Fatalf("RegFormRes carries %+v, want the default form", form)
	}
	certReq, err := reg.HandleRegFormRes(m.(*msg.RegFormRes))
	if err != nil {
		t.Fatal(err)
	}
	m, err = ep.Call(ctx, cca, "CA", nil, nil, certReq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.HandleCertRes(m.(*msg.CertRes)); err != nil {
		t.Fatalf("a wallet answering nothing: %v", err)
	}

	mcfg := merchant.RegisterConfig{Suite: st, BrandID: "TestBrand", MerchantID: "MER-0001", AcquirerBIN: "400000", Roots: roots,
		Answers: map[string]string{"Legal name": "Corner Bookshop"}}
	if _, err := merchant.Register(ctx, wire.ServeFunc(h.CAs[cadir.MCA].Serve), mcfg); err != nil {
		t.Errorf("a merchant giving its legal name only: %v", err)
	}
}

// TestConfigAcquirerFormPerRecord: an acquirers entry's own form replaces
// acquirer_form for that merchant only, and is checked on load like any.
func TestConfigAcquirerFormPerRecord(t *testing.T) {
	st := suite.NewModern()
	dir := initDir(t, st)
	cfg, err := cadir.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Acquirers = append(cfg.Acquirers, cadir.Acquirer{AcquirerBIN: "400000", MerID: "MER-0002", Name: "Harbour Books", City: "Springfield"})
	cfg.Acquirers[0].Form = &cadir.Form{ID: 1, Fields: []cadir.FormField{{Name: "Legal name", Required: true}, {Name: "Annual turnover", Required: true}}}
	writeConfig(t, dir, cfg)

	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	ctx := context.Background()
	mca := wire.ServeFunc(h.CAs[cadir.MCA].Serve)
	mcfg := merchant.RegisterConfig{Suite: st, BrandID: "TestBrand", MerchantID: "MER-0001", AcquirerBIN: "400000", Roots: roots,
		Answers: map[string]string{"Legal name": "Corner Bookshop"}}
	if _, err := merchant.Register(ctx, mca, mcfg); err == nil || !strings.Contains(err.Error(), `"Annual turnover" is required`) {
		t.Errorf("MER-0001 without its own form's field = %v, want it required", err)
	}
	mcfg.Answers["Annual turnover"] = "USD 2M"
	if _, err := merchant.Register(ctx, mca, mcfg); err != nil {
		t.Errorf("MER-0001 answering its own form: %v", err)
	}
	mcfg.MerchantID, mcfg.Answers = "MER-0002", map[string]string{"Legal name": "Harbour Books"}
	if _, err := merchant.Register(ctx, mca, mcfg); err != nil {
		t.Errorf("MER-0002, on the acquirer's form: %v", err)
	}
	h.Close()

	cfg.Acquirers[0].Form = &cadir.Form{ID: 1, Fields: []cadir.FormField{{Name: "Annual turnover"}}}
	writeConfig(t, dir, cfg)
	if _, err := cadir.ReadConfig(dir); err == nil || !strings.Contains(err.Error(), `acquirers[0] form: no "Legal name" field`) {
		t.Errorf("ReadConfig = %v, want the record's form refused for lacking the legal name", err)
	}
	cfg.Acquirers[0].Form = nil
	cfg.Acquirers[0].Forms = map[string]*cadir.Form{"fr": {ID: 1, Fields: []cadir.FormField{{Name: "Legal name", Required: true}}}}
	writeConfig(t, dir, cfg)
	if _, err := cadir.ReadConfig(dir); err == nil || !strings.Contains(err.Error(), `acquirers[0] forms["fr"]: id 1 is also the built-in default form's`) {
		t.Errorf("ReadConfig = %v, want a translation refused for taking the built-in form's ID", err)
	}
}
