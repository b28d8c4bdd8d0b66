// Package crldist carries a brand's revocation state from its CAs to the
// parties that check certificates, across processes: a CA serves the CRL
// of every CA of the hierarchy and the BrandCRLIdentifier in one signed
// CRLNotification; a party fetches it with a plain HTTP GET, verifies it
// and feeds a pki.RevocationCache, once or on an interval.
//
// The binding (docs/spec-gaps.md, "CRLNotification"): GET on Path at the
// CA's HTTP address answers 200 with the DER of a CRLNotification, content
// type ContentType. The message is S{Brand CA, CRLNotificationTBS}: the
// CRLs in the SignedData's crls field, the BCI inside the signed content,
// and the content's thumbs naming each, so nothing can be added or left
// out unnoticed. A GET needs no request body and no state at the CA, so
// caches and plain file servers can carry it too.
package crldist

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// Path is where a CA serves its CRLNotification.
const Path = "/crl"

// ContentType is the media type of a CRLNotification in a response.
const ContentType = "application/set-crl-notification"

// maxNotification bounds what a client reads: CRLs grow with every
// revocation, but a brand's fit easily.
const maxNotification = 8 << 20

// State returns the current CRLs (DER) and BrandCRLIdentifier (DER) to
// announce.
type State func(ctx context.Context) (crls [][]byte, bci []byte, err error)

// Notifier builds and serves CRLNotifications signed by a brand CA.
type Notifier struct {
	Suite suite.Suite
	// Signer is the brand CA: its key and certificate, and as Chain the
	// certificates of the CAs whose CRLs it announces (the root is the
	// receiver's anchor), so a receiver can check every CRL.
	Signer encap.Signer
	State  State
	Rand   io.Reader        // default crypto/rand
	Now    func() time.Time // default time.Now
	Log    *slog.Logger     // default slog.Default()
}

// Notification returns a fresh CRLNotification (DER) of the current state.
func (n *Notifier) Notification(ctx context.Context) ([]byte, error) {
	if n.Suite == nil || n.State == nil || n.Signer.Key == nil {
		return nil, errors.New("crldist: notifier needs a suite, a signer and a state")
	}
	crls, bci, err := n.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("crldist: current revocation state: %w", err)
	}
	now, r := time.Now, n.Rand
	if n.Now != nil {
		now = n.Now
	}
	if r == nil {
		r = rand.Reader
	}
	h := n.Suite.Hash()
	tbs := &msg.CRLNotificationTBS{Date: now().UTC().Truncate(time.Second), Thumbs: msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h)}, BrandCRLIdentifier: bci}
	tbs.Thumbs.CRLThumbs = [][]byte{}
	for _, c := range crls {
		tbs.Thumbs.CRLThumbs = append(tbs.Thumbs.CRLThumbs, msg.ThumbOf(h, c).Thumbprint)
	}
	if bci != nil {
		tbs.Thumbs.BrandCRLIdThumbs = [][]byte{msg.ThumbOf(h, bci).Thumbprint}
	}
	t, err := tbs.Marshal()
	if err != nil {
		return nil, fmt.Errorf("crldist: %w", err)
	}
	// encap.S carries no CRLs, so the SignedData is built here the way
	// encap builds it, with the crls field filled.
	certs := append([][]byte{n.Signer.Cert}, n.Signer.Chain...)
	signed, err := pkcs7.Sign(r, msg.OIDCRLNotificationTBS, t, []pkcs7.Signer{{Key: n.Signer.Key, Cert: n.Signer.Cert, Hash: h}},
		pkcs7.SignOptions{Mode: n.Suite.ContentMode(), Certificates: certs, CRLs: crls})
	if err != nil {
		return nil, fmt.Errorf("crldist: signing: %w", err)
	}
	return (&msg.CRLNotification{SignedData: signed}).Marshal()
}

// ServeHTTP answers GET (and HEAD) with a fresh CRLNotification.
func (n *Notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "GET the CRL notification", http.StatusMethodNotAllowed)
		return
	}
	b, err := n.Notification(r.Context())
	if err != nil {
		log := n.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("CRL notification", "err", err)
		http.Error(w, "revocation state unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// Open verifies a CRLNotification and returns the CRLs and BCI it
// carries, with the certificates that came with it: signed by a brand CA
// chaining to roots at now and not revoked by what src knows (src may be
// nil), its thumbs naming exactly the CRLs of the crls field and the BCI.
// Failures are *msg.ProtocolError.
func Open(st suite.Suite, b []byte, roots []*pki.Certificate, src pki.RevocationSource, now time.Time) (crls [][]byte, bci []byte, cas []*pki.Certificate, err error) {
	n, err := msg.UnmarshalCRLNotification(b)
	if err != nil {
		return nil, nil, nil, msg.Errorf(msg.DecodingFailure, "CRLNotification: %w", err)
	}
	if src != nil {
		src = untilLapsed{src, now}
	}
	v := pki.RevocationVerifier(src, pki.VerifyOptions{Roots: roots, Now: now, CertType: pki.CertTypeBCA})
	t, _, err := encap.OpenS(st, n.SignedData, msg.OIDCRLNotificationTBS, v)
	if errors.Is(err, encap.ErrMalformed) {
		return nil, nil, nil, msg.Classify(err, msg.DecodingFailure, "CRLNotification")
	}
	if err != nil {
		return nil, nil, nil, msg.Classify(err, msg.SignatureFailure, "CRLNotification")
	}
	tbs, err := msg.UnmarshalCRLNotificationTBS(t)
	if err != nil {
		return nil, nil, nil, msg.Errorf(msg.DecodingFailure, "CRLNotificationTBS: %w", err)
	}
	sd, err := pkcs7.ParseSignedData(n.SignedData)
	if err != nil { // OpenS parsed it already
		return nil, nil, nil, msg.Errorf(msg.DecodingFailure, "CRLNotification: %w", err)
	}
	h, err := pkcs7.HashForAlgorithm(tbs.Thumbs.DigestAlgorithm)
	if err != nil {
		return nil, nil, nil, msg.Errorf(msg.DecodingFailure, "CRLNotification thumbs: %w", err)
	}
	if !sameThumbs(h, sd.CRLs, tbs.Thumbs.CRLThumbs) {
		return nil, nil, nil, msg.Errorf(msg.ThumbsMismatch, "CRLNotification: the CRLs carried are not the ones signed for")
	}
	var bciList [][]byte
	if tbs.BrandCRLIdentifier != nil {
		bciList = [][]byte{tbs.BrandCRLIdentifier}
	}
	if !sameThumbs(h, bciList, tbs.Thumbs.BrandCRLIdThumbs) {
		return nil, nil, nil, msg.Errorf(msg.ThumbsMismatch, "CRLNotification: brandCRLIdThumbs do not name the BCI carried")
	}
	for _, c := range sd.Certificates {
		cert, err := pki.ParseCertificate(c)
		if err != nil {
			return nil, nil, nil, msg.Errorf(msg.InvalidCertificate, "CRLNotification certificate: %w", err)
		}
		if cert.IsCA {
			cas = append(cas, cert)
		}
	}
	return sd.CRLs, tbs.BrandCRLIdentifier, cas, nil
}

// untilLapsed hands out src's CRLs, and its BCI only while current at
// now. A party whose BCI lapsed (it could not fetch for a week) must
// still be able to fetch the brand CA's next notification: the brand CA
// stays refused if a CRL held lists it, but a lapsed BCI does not refuse
// the very message that replaces it.
type untilLapsed struct {
	src pki.RevocationSource
	now time.Time
}

func (u untilLapsed) Revocation(ctx context.Context) ([]*pki.CRL, *pki.BrandCRLIdentifier, error) {
	crls, bci, err := u.src.Revocation(ctx)
	if bci != nil && !bci.CurrentAt(u.now) {
		bci = nil
	}
	return crls, bci, err
}

// sameThumbs reports whether thumbs lists the digest under h of each item
// and nothing else, in any order.
func sameThumbs(h crypto.Hash, items, thumbs [][]byte) bool {
	if len(items) != len(thumbs) {
		return false
	}
	used := make([]bool, len(thumbs))
	for _, it := range items {
		d := msg.ThumbOf(h, it).Thumbprint
		found := false
		for j, t := range thumbs {
			if !used[j] && bytes.Equal(t, d) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Fetcher keeps a pki.RevocationCache up to date from a CA's Path.
type Fetcher struct {
	// URL is the CRLNotification's address, e.g. http://127.0.0.1:8443/crl.
	URL    string
	Client *http.Client // default: one with a 30-second timeout
	Suite  suite.Suite
	Roots  []*pki.Certificate
	// Cache receives what is fetched. It is also what the notification's
	// signer is checked against: a brand CA the cache knows to be revoked
	// cannot announce anything.
	Cache *pki.RevocationCache
	Now   func() time.Time // default time.Now
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Fetch gets the CRLNotification once, verifies it and adds its CRLs and
// BCI to the cache. It fails if the notification does not verify; items
// the cache refuses (stale, foreign) are reported in the error but do not
// keep the others out (see pki.RevocationCache.Add).
func (f *Fetcher) Fetch(ctx context.Context) error {
	if f.Suite == nil || f.Cache == nil || len(f.Roots) == 0 {
		return errors.New("crldist: fetcher needs a suite, roots and a cache")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return fmt.Errorf("crldist: %w", err)
	}
	req.Header.Set("Accept", ContentType)
	c := f.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("crldist: fetching %s: %w", f.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("crldist: fetching %s: %s", f.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxNotification+1))
	if err != nil {
		return fmt.Errorf("crldist: reading %s: %w", f.URL, err)
	}
	if len(body) > maxNotification {
		return fmt.Errorf("crldist: %s: notification larger than %d bytes", f.URL, maxNotification)
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	crls, bci, cas, err := Open(f.Suite, body, f.Roots, f.Cache, now())
	if err != nil {
		return fmt.Errorf("crldist: %s: %w", f.URL, err)
	}
	if err := f.Cache.Add(cas, crls, bci); err != nil {
		return fmt.Errorf("crldist: %s: %w", f.URL, err)
	}
	return nil
}

// Poll fetches at once and then every interval until ctx is done, which
// is the only way it returns (with ctx's error). A failed fetch is
// passed to onError (nil: ignored) and retried at the next tick; the
// cache keeps what it had.
func (f *Fetcher) Poll(ctx context.Context, interval time.Duration, onError func(error)) error {
	if interval <= 0 {
		return errors.New("crldist: poll interval must be positive")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := f.Fetch(ctx); err != nil && onError != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
