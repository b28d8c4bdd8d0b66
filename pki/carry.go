package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/subtle"
	"errors"
	"log/slog"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// RevocationLearner is a RevocationSource that learns from what arrives
// in messages: *RevocationCache is one. A party whose Revocation is a
// learner has it Learn the CRLs and BrandCRLIdentifier a message carries
// before it checks that message's certificates, and lists what it holds
// in the Thumbs of its requests.
type RevocationLearner interface {
	RevocationSource
	Learn(certDERs, crlDERs [][]byte, bciDER []byte)
	Thumbs(h crypto.Hash) *msg.Thumbs
}

// HeldThumbs lists as SET's Thumbs (digests under h) the CRLs and BCI src
// holds, so that a peer can omit them from its response. A learner lists
// its own; any other source is asked for its current state. Nil when src
// is nil or holds nothing.
func HeldThumbs(ctx context.Context, src RevocationSource, h crypto.Hash) *msg.Thumbs {
	if src == nil {
		return nil
	}
	var t *msg.Thumbs
	if l, ok := src.(RevocationLearner); ok {
		t = l.Thumbs(h)
	} else {
		crls, bci, err := src.Revocation(ctx)
		if err != nil {
			return nil
		}
		t = &msg.Thumbs{DigestAlgorithm: pkcs7.DigestAlgorithmFor(h)}
		for _, crl := range crls {
			t.CRLThumbs = append(t.CRLThumbs, msg.ThumbOf(h, crl.Raw).Thumbprint)
		}
		if bci != nil {
			t.BrandCRLIdThumbs = [][]byte{msg.ThumbOf(h, bci.Raw).Thumbprint}
		}
	}
	if len(t.CRLThumbs) == 0 && len(t.BrandCRLIdThumbs) == 0 {
		return nil
	}
	return t
}

// ToCarry returns what a responder whose revocation state is src puts in
// its response to a requester that listed held (nil: nothing held): the
// CRLs src holds (DER, for the SignedData crls field) and its
// BrandCRLIdentifier (DER, for the brandCRLIdentifier field), leaving out
// each one whose thumbprint held lists, and, when since is not zero,
// each one issued at or before since, which the requester was sent
// already (times in SET's messages have whole seconds: an item issued in
// the same second as since counts as sent). Thumbs under a
// digest algorithm this package does not know count as listing nothing.
func ToCarry(ctx context.Context, src RevocationSource, held *msg.Thumbs, since time.Time) (crlDERs [][]byte, bciDER []byte, err error) {
	if src == nil {
		return nil, nil, nil
	}
	crls, bci, err := src.Revocation(ctx)
	if err != nil {
		return nil, nil, err
	}
	var h crypto.Hash
	if held != nil {
		if hh, err := pkcs7.HashForAlgorithm(held.DigestAlgorithm); err == nil {
			h = hh
		}
	}
	listed := func(der []byte, thumbs [][]byte) bool {
		if h == 0 {
			return false
		}
		want := msg.ThumbOf(h, der).Thumbprint
		for _, t := range thumbs {
			if len(t) == len(want) && subtle.ConstantTimeCompare(t, want) == 1 {
				return true
			}
		}
		return false
	}
	for _, crl := range crls {
		if !since.IsZero() && !crl.ThisUpdate.After(since) || held != nil && listed(crl.Raw, held.CRLThumbs) {
			continue
		}
		crlDERs = append(crlDERs, bytes.Clone(crl.Raw))
	}
	if bci != nil && (since.IsZero() || bci.NotBefore.After(since)) && (held == nil || !listed(bci.Raw, held.BrandCRLIdThumbs)) {
		bciDER = bytes.Clone(bci.Raw)
	}
	return crlDERs, bciDER, nil
}

// LearnCarried has src, if it is a RevocationLearner, Learn what a
// message carried.
func LearnCarried(src RevocationSource, certDERs, crlDERs [][]byte, bciDER []byte) {
	if l, ok := src.(RevocationLearner); ok {
		l.Learn(certDERs, crlDERs, bciDER)
	}
}

// Learn adds the CRLs and BrandCRLIdentifier a message carried, with the
// certificates that came along (and the issuers of the CRLs held) as
// possible issuers, by the rules of Add: nothing older than what is held,
// and never a BCI and CRLs that disagree (a newer BCI only with every CRL
// it lists, carried now or held; a newer CRL only if no BCI held pins
// another), so a replayed BCI cannot lock a CA's chains out. What is
// refused is dropped — the certificate checks that follow decide, and a
// CRL that cannot be trusted can neither revoke nor vouch — and reported
// to c.Log with the reason: a party must not fail a transaction because
// someone attached garbage, but an operator should see it.
func (c *RevocationCache) Learn(certDERs, crlDERs [][]byte, bciDER []byte) {
	if len(crlDERs) == 0 && bciDER == nil {
		return
	}
	var cas []*Certificate
	for _, b := range certDERs {
		if cert, err := ParseCertificate(b); err == nil {
			cas = append(cas, cert)
		}
	}
	for _, err := range c.offer(cas, crlDERs, bciDER) {
		level := slog.LevelInfo // a peer's state older than or ahead of ours
		if errors.Is(err, ErrBadCRL) {
			level = slog.LevelWarn // forged, foreign or malformed
		}
		c.log().Log(context.Background(), level, "pki: carried revocation information dropped", "err", err)
	}
}

func (c *RevocationCache) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}
