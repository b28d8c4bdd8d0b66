package cadir_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

func TestParseReview(t *testing.T) {
	for in, want := range map[string][]string{
		"":                    {},
		"none":                {},
		"all":                 {"cardholders", "merchants", "gateways"},
		"merchants, gateways": {"merchants", "gateways"},
	} {
		got, err := cadir.ParseReview(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseReview(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"merchant", "merchants,,gateways", "ALL"} {
		if _, err := cadir.ParseReview(bad); err == nil {
			t.Errorf("ParseReview(%q) accepted", bad)
		}
	}
}

// TestReviewConfig: config.json's "review" makes the merchant CA hold a
// merchant's registration; OpenOptions.Review overrides it; an unknown
// word in it is an error at Open.
func TestReviewConfig(t *testing.T) {
	st := suite.NewModern()
	dir := initDir(t, st)
	cfg, err := cadir.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(review []string) {
		cfg.Review = review
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, cadir.ConfigFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	register := func(h *cadir.Hierarchy) error {
		root, err := cadir.ReadCert(dir, "root")
		if err != nil {
			t.Fatal(err)
		}
		_, err = merchant.Register(context.Background(), wire.ServeFunc(h.CAs[cadir.MCA].Serve), merchant.RegisterConfig{
			Suite: st, BrandID: "TestBrand", MerchantID: "MER-0001", AcquirerBIN: "400000",
			Roots: []*pki.Certificate{root}, Answers: map[string]string{"Legal name": "Corner Bookshop"},
		})
		return err
	}

	write([]string{"merchants"})
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pe *merchant.PendingError
	if err := register(h); !errors.As(err, &pe) {
		t.Errorf("with review merchants: %v, want a *PendingError", err)
	}
	h.Close()

	h, err = cadir.Open(dir, pass, cadir.OpenOptions{Review: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := register(h); err != nil {
		t.Errorf("with review overridden to none: %v", err)
	}
	h.Close()

	write([]string{"dogs"})
	if _, err := cadir.Open(dir, pass, cadir.OpenOptions{}); err == nil {
		t.Error("Open accepted review \"dogs\"")
	}
}
