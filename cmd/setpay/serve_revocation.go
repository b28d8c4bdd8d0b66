package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/crldist"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

const revocationHelp = `Every certificate chain is checked against a current CRL of each of its
CAs, and a chain without one is refused (invalidCertificate). CRLs and the
brand's BrandCRLIdentifier travel in SET's messages; --ca-url also fetches
them from the CA ('setpay ca serve' answers GET /crl with a signed
CRLNotification) at start and every --crl-interval, so that a
'setpay ca revoke' takes effect for the next transaction.`

// revocationFlags are how a party learns revocation state from its CA.
type revocationFlags struct {
	caURL    string
	interval time.Duration
}

func (rf *revocationFlags) register(cmd *cobra.Command, required bool) {
	f := cmd.Flags()
	use := "fetch CRLs from the CA at `URL` ('setpay ca serve', e.g. http://127.0.0.1:8443)"
	if required {
		use += " (required)"
	}
	f.StringVar(&rf.caURL, "ca-url", "", use)
	f.DurationVar(&rf.interval, "crl-interval", time.Minute, "with --ca-url: fetch the CRLs again every `DURATION`")
	if required {
		_ = cmd.MarkFlagRequired("ca-url")
	}
}

// start returns the party's revocation cache, fed as feed says.
func (rf *revocationFlags) start(ctx context.Context, st suite.Suite, roots []*pki.Certificate, log *slog.Logger) (*pki.RevocationCache, error) {
	cache := pki.NewRevocationCache(roots, nil)
	cache.Log = log
	if err := rf.feed(ctx, st, roots, cache, log); err != nil {
		return nil, err
	}
	return cache, nil
}

// feed does nothing without --ca-url. With it, it fetches the CA's
// CRLNotification into cache once — failing if that fails, so that a
// party never runs on revocation state it could not get — and then polls
// it every --crl-interval until ctx is done, logging failed polls (the
// cache keeps what it had).
func (rf *revocationFlags) feed(ctx context.Context, st suite.Suite, roots []*pki.Certificate, cache *pki.RevocationCache, log *slog.Logger) error {
	if rf.caURL == "" {
		return nil
	}
	if rf.interval <= 0 {
		return fmt.Errorf("--crl-interval %v: must be positive", rf.interval)
	}
	u, err := url.Parse(rf.caURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--ca-url %q: want the CA's http:// or https:// address", rf.caURL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = crldist.Path
	}
	f := &crldist.Fetcher{URL: u.String(), Client: httpClient(), Suite: st, Roots: roots, Cache: cache}
	if err := f.Fetch(ctx); err != nil {
		return fmt.Errorf("--ca-url: cannot get the CA's CRLs, refusing to run without them: %w", err)
	}
	go f.Poll(ctx, rf.interval, func(err error) { log.Warn("CRL fetch", "url", f.URL, "err", err) })
	return nil
}
