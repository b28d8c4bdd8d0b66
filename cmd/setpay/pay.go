package main

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/internal/atomicfile"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// exitDeclined is 'wallet pay”s exit status when the purchase was
// answered, but not approved.
const exitDeclined = 2

// parseAmount reads an amount in major units with at most two decimals
// ("12", "12.3", "12.34") and returns it in hundredths. Zero and negative
// amounts are refused: nothing is bought for them.
func parseAmount(s string) (int64, error) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasPoint && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("amount %q: want digits with up to two decimals, such as 12.34", s)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q: at most two decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	var n int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("amount %q is too large", s)
		}
		n = n*10 + d
	}
	if n == 0 {
		return 0, fmt.Errorf("amount %q: must be more than zero", s)
	}
	return n, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// formatAmount writes hundredths in major units: 1234 → "12.34".
func formatAmount(n int64) string {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// formatCurrencyAmount writes a SET amount with its currency.
func formatCurrencyAmount(a msg.CurrencyAmount) string {
	v := fmt.Sprintf("%d×10^%d", a.Amount, a.AmtExp10)
	if a.AmtExp10 == -2 {
		v = formatAmount(a.Amount)
	}
	return fmt.Sprintf("%s (currency %03d)", v, a.Currency)
}

// checkoutURL is the merchant's checkout beside its SET URL.
func checkoutURL(merchantURL string) (string, error) {
	u, err := url.Parse(merchantURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--merchant-url %q: want http://host:port/", merchantURL)
	}
	return u.ResolveReference(&url.URL{Path: CheckoutPath}).String(), nil
}

// merchantOrigin is the scheme and host (with port) of the merchant's URL,
// lower case: where the wallet reaches it (wallet.Offer.Origin). Empty if
// the URL does not parse (checkoutURL has refused it by then).
func merchantOrigin(merchantURL string) string {
	u, err := url.Parse(merchantURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// checkout places an order at the merchant's checkout and returns SET's
// initiation for it.
func checkout(ctx context.Context, hc *http.Client, merchantURL string, req checkoutRequest) (wallet.Offer, error) {
	u, err := checkoutURL(merchantURL)
	if err != nil {
		return wallet.Offer{}, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return wallet.Offer{}, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return wallet.Offer{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(hreq)
	if err != nil {
		return wallet.Offer{}, fmt.Errorf("checkout: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxCheckoutBody+1))
	if err != nil {
		return wallet.Offer{}, fmt.Errorf("checkout: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return wallet.Offer{}, fmt.Errorf("checkout: HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	return parseOffer(b, req)
}

// parseOffer reads the checkout's answer and checks it is the order the
// cardholder placed: the wallet signs what the merchant says it sells, so
// it must be what the cardholder agreed to.
func parseOffer(b []byte, want checkoutRequest) (wallet.Offer, error) {
	var o checkoutOffer
	if len(b) > maxCheckoutBody {
		return wallet.Offer{}, errors.New("checkout: answer too large")
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return wallet.Offer{}, fmt.Errorf("checkout: answer: %w", err)
	}
	switch {
	case len(o.LIDM) != len(msg.XID{}):
		return wallet.Offer{}, fmt.Errorf("checkout: answer names no order (LID-M of %d bytes)", len(o.LIDM))
	case o.MerchantID == "":
		return wallet.Offer{}, errors.New("checkout: answer names no merchant")
	case o.Description != want.Description || o.Amount != want.Amount || o.Currency != want.Currency || o.AmtExp10 != -2:
		return wallet.Offer{}, errors.New("checkout: the merchant offers another order than the one placed")
	}
	return wallet.Offer{
		LIDM:        o.LIDM,
		Amount:      msg.CurrencyAmount{Currency: o.Currency, Amount: o.Amount, AmtExp10: o.AmtExp10},
		Description: []byte(o.Description),
		MerchantID:  o.MerchantID,
	}, nil
}

// openWallet builds the wallet registered in dir.
// openWalletSuite opens the wallet in dir. revocation is what it checks
// certificates against: a *pki.RevocationCache learns the CRLs that come
// with the merchant's messages.
func openWalletSuite(dir string, roots []*pki.Certificate, pp []byte, revocation pki.RevocationSource) (*wallet.Wallet, wallet.Card, suite.Suite, error) {
	var card wallet.Card
	cert, err := os.ReadFile(filepath.Join(dir, "cardholder.der"))
	if err != nil {
		return nil, card, nil, err
	}
	pc, err := pki.ParseCertificate(cert)
	if err != nil {
		return nil, card, nil, fmt.Errorf("%s: %w", filepath.Join(dir, "cardholder.der"), err)
	}
	st, err := suiteOf(pc)
	if err != nil {
		return nil, card, nil, err
	}
	chain, err := readChain(dir)
	if err != nil {
		return nil, card, nil, err
	}
	b, err := keyfile.ReadFile(filepath.Join(dir, "cardholder.key"))
	if err != nil {
		return nil, card, nil, err
	}
	key, err := keyfile.OpenSigningKey(b, keyfile.RoleCardholderSigning, pp)
	if err != nil {
		return nil, card, nil, fmt.Errorf("%s: %w", filepath.Join(dir, "cardholder.key"), err)
	}
	if card, err = openCard(filepath.Join(dir, "card.sealed"), pp); err != nil {
		return nil, card, nil, err
	}
	w, err := wallet.New(wallet.Config{Suite: st, Key: wallet.NewSigningKey(key), Cert: cert, Chain: chain, Card: card, Roots: roots, Revocation: revocation})
	return w, card, st, err
}

// openCard opens the card's sealed secrets.
func openCard(path string, pp []byte) (wallet.Card, error) {
	var card wallet.Card
	b, err := keyfile.ReadFile(path)
	if err != nil {
		return card, err
	}
	plain, err := keyfile.Open(b, roleCardSecrets, pp)
	if err != nil {
		return card, fmt.Errorf("%s: %w", path, err)
	}
	defer clear(plain)
	var cs cardSecrets
	rest, err := asn1.Unmarshal(plain, &cs)
	if err != nil || len(rest) > 0 || len(cs.PANSecret) != len(msg.Secret{}) || len(cs.CardSecret) != len(msg.Secret{}) {
		return card, fmt.Errorf("%s: not a card's secrets", path)
	}
	card = wallet.Card{PAN: cs.PAN, Expiry: cs.Expiry, BrandID: cs.BrandID}
	copy(card.PANSecret[:], cs.PANSecret)
	copy(card.CardSecret[:], cs.CardSecret)
	return card, nil
}

// outcome says in words how a purchase ended, and whether it was approved.
func outcome(st suite.ID, res *wallet.Result) (string, bool) {
	approved := res.Completion == msg.AuthorizationAccepted || res.Completion == msg.CapturePerformed
	var b strings.Builder
	if approved {
		b.WriteString("approved")
	} else {
		b.WriteString("declined")
	}
	if res.Gateway != nil {
		fmt.Fprintf(&b, ": the gateway signed %s for %s", res.Gateway.AuthCode, formatCurrencyAmount(res.Gateway.Amount))
	} else if !approved {
		b.WriteString(": the merchant gives no gateway-signed reason")
		if st == suite.Set1 {
			b.WriteString(" (set1 carries none)")
		}
	}
	fmt.Fprintf(&b, "; merchant: %s", res.Completion)
	return b.String(), approved
}

func newWalletPayCmd() *cobra.Command {
	var dir, root, merchantURL, amount, description string
	var currency int
	var pf passphraseFlags
	var rf revocationFlags
	var verbose bool
	cmd := &cobra.Command{
		Use:   "pay",
		Short: "Buy from a running merchant with a registered card: checkout, then SET's purchase",
		Long: `pay places an order at the merchant at --merchant-url (its checkout,
POST ` + CheckoutPath + `, standing in for the shop's web site; see 'setpay merchant
serve'), then pays for it with SET: PInitReq → PInitRes, PReq → PRes. The
card number goes only to the gateway, sealed; the merchant learns the
order, the gateway never does.

It reads from --dir (what 'setpay wallet register --out DIR' wrote):

  cardholder.key      the signing key, encrypted
  card.sealed         the card number, expiry and secrets, encrypted
  cardholder.der      the certificate
  chain-1.der, chain-2.der
                      the cardholder CA's and the brand CA's

It prints the outcome: approved, or declined with the reason the gateway
signed (modern suite; in set1 only the merchant's completion code comes
back), and the order's XID. The exit status is 0 when approved,
2 when declined, 1 on any other failure.

The CRLs that check the merchant's and the gateway's certificates come
with the merchant's PInitRes (SET carries them); --ca-url fetches them
from the CA as well. A chain without a current CRL is refused.

What the wallet learns (the certificates and CRLs that verified, and which
merchant, at which origin, sent which of them) is kept in ` + memoryName + ` in
--dir, so that the next purchase lists them (SET's thumbprints) and the
merchant need not send them again. A merchant is listed only the brand's
common ones and what it sent itself. Nothing in that file is trusted: each
item is verified again when it is loaded, and a damaged file is ignored
with a warning. Deleting it is safe: the next purchase sends everything.
--verbose shows what was listed and what the merchant sent all the same.

A SET Error from the merchant is reported with whether it was signed by a
certificate under --root (the merchant's word) or unsigned (anyone on the
path could have sent it).

` + passphraseHelp,
		Example: `  export SETPAY_PASSPHRASE='a long passphrase'
  setpay wallet pay --dir ./alice --root ./myca/root.der \
      --merchant-url http://127.0.0.1:8445/ --amount 12.34 --currency 840 \
      --description "1 × The Art of Computer Programming, vol. 1"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cents, err := parseAmount(amount)
			if err != nil {
				return fmt.Errorf("--amount: %w", err)
			}
			if currency < 1 || currency > 999 {
				return fmt.Errorf("--currency %d: want an ISO 4217 numeric code, such as 840 (USD) or 978 (EUR)", currency)
			}
			if description == "" {
				return errors.New("--description: say what is bought")
			}
			roots, err := readRoot(root)
			if err != nil {
				return err
			}
			pp, err := pf.get(cmd, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cache := pki.NewRevocationCache(roots, nil)
			w, card, st, err := openWalletSuite(dir, roots, pp, cache)
			if err != nil {
				return err
			}
			if err := rf.feed(ctx, st, roots, cache, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))); err != nil {
				return err
			}
			stID := st.ID()
			warn := func(format string, args ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "setpay: warning: "+format+"\n", args...)
			}
			// After the CA's CRLs, so that nothing fresher is displaced.
			loadMemory(w, dir, warn)
			hc := httpClient()
			offer, err := checkout(ctx, hc, merchantURL, checkoutRequest{Description: description, Amount: cents, Currency: currency})
			if err != nil {
				return err
			}
			// The wallet files what the merchant sends under this origin
			// too: another server claiming its merchant ID is told nothing
			// the wallet learned from it.
			offer.Origin = merchantOrigin(merchantURL)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "order %x at merchant %s: %s, %s\n", offer.LIDM, offer.MerchantID, formatCurrencyAmount(offer.Amount), description)
			p, res, err := w.Pay(ctx, &transport.Client{URL: merchantURL, HTTP: hc}, offer)
			// What was learned verified, whatever the outcome: keep it.
			saveMemory(w, dir, warn)
			if verbose && p != nil {
				fmt.Fprintln(out, thumbsLine(p.Thumbs()))
			}
			if err != nil {
				return fmt.Errorf("paying with %s: %w%s", card, err, errorOrigin(err))
			}
			text, approved := outcome(stID, res)
			xid := p.TransIDs().XID
			fmt.Fprintf(out, "%s: %s (XID %x)\n", card, text, xid[:])
			if !approved {
				return exitError{code: exitDeclined}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the wallet's registration `DIR` ('setpay wallet register --out') (required)")
	f.StringVar(&root, "root", "", "the SET root certificate to trust, `FILE` (required)")
	f.StringVar(&merchantURL, "merchant-url", "", "the merchant's `URL`, e.g. http://127.0.0.1:8445/ (required)")
	f.StringVar(&amount, "amount", "", "the price, `AMOUNT` in major units with up to two decimals, e.g. 12.34 (required)")
	f.IntVar(&currency, "currency", 840, "ISO 4217 numeric `CODE` of the currency (840 USD, 978 EUR)")
	f.StringVar(&description, "description", "", "what is bought, `TEXT` (the merchant keeps it; the gateway never sees it) (required)")
	f.BoolVarP(&verbose, "verbose", "v", false, "show what the wallet listed as held and what the merchant's PInitRes carried")
	for _, n := range []string{"dir", "root", "merchant-url", "amount", "description"} {
		_ = cmd.MarkFlagRequired(n)
	}
	rf.register(cmd, false)
	pf.register(cmd)
	return cmd
}

// memoryName is the file in the wallet's directory that keeps what the
// wallet learned between runs (wallet.Wallet.SaveMemory).
const memoryName = "cache.der"

// maxMemoryFile bounds what is read of it; the wallet refuses anything
// larger than it writes.
const maxMemoryFile = 2 << 20

// loadMemory gives the wallet what an earlier run saved in dir. Nothing
// there is trusted (the wallet verifies every item again); a missing file
// is a first run, a bad one a warning, never a reason not to pay.
func loadMemory(w *wallet.Wallet, dir string, warn func(string, ...any)) {
	path := filepath.Join(dir, memoryName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		warn("%v; starting without it", err)
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMemoryFile))
	if err != nil {
		warn("%s: %v; starting without it", path, err)
		return
	}
	if err := w.LoadMemory(b); errors.Is(err, wallet.ErrBadMemory) {
		warn("%s ignored: %v", path, err)
	} else if err != nil {
		warn("%s: some items no longer verify and were dropped: %v", path, err)
	}
}

// saveMemory writes what the wallet learned to dir, atomically (a crash
// leaves the old file or the new one) and readable by the owner only.
func saveMemory(w *wallet.Wallet, dir string, warn func(string, ...any)) {
	b, err := w.SaveMemory()
	if err == nil {
		err = atomicfile.Write(filepath.Join(dir, memoryName), b, 0o600)
	}
	if err != nil {
		warn("not saving what the wallet learned: %v", err)
	}
}

// thumbsLine says what SET's thumbprints saved in a purchase.
func thumbsLine(r wallet.ThumbsReport) string {
	return fmt.Sprintf("thumbs: PInitReq listed %d certificate(s), %d CRL(s), %d BCI(s) as held; PInitRes carried %d certificate(s), %d CRL(s) (%d bytes)",
		r.ListedCerts, r.ListedCRLs, r.ListedBCIs, r.CarriedCerts, r.CarriedCRLs, r.PInitResBytes)
}

// errorOrigin says, for a SET Error a peer answered with, who it provably
// comes from: only a signature under the trusted root makes it the
// peer's word.
func errorOrigin(err error) string {
	pe, ok := errors.AsType[*wire.PeerError](err)
	if !ok {
		return ""
	}
	switch pe.Origin {
	case wire.ErrorVerified:
		signer := "a certificate under --root"
		if c, err := pki.ParseCertificate(pe.SignerCert); err == nil {
			signer = c.String()
		}
		return fmt.Sprintf("\nthe Error is signed by %s: the %s's own word", signer, pe.Remote.From)
	case wire.ErrorUnsigned:
		return fmt.Sprintf("\nthe Error is unsigned: anyone on the path to the %s could have sent it", pe.Remote.From)
	case wire.ErrorBadSignature:
		return fmt.Sprintf("\nthe Error's signature does not verify: it may not come from the %s", pe.Remote.From)
	}
	return fmt.Sprintf("\nthe Error is signed, but its signer is not checked: it may not come from the %s", pe.Remote.From)
}
