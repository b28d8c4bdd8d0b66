package wallet

// Resuming a pended cardholder registration (or renewal) in another
// process. The CA's answer is encrypted under the CABackKey and completes
// the PANSecret with the CardSecret sent, so both must survive with the
// new key and the identifiers naming the request. Export seals them with
// keyfile under a passphrase; Resume rebuilds a Registration that can
// Wait (docs/spec-gaps.md, "resuming a held registration").
//
// The state, sealed as a keyfile's plaintext, is (version 2; version 1,
// which lacks caURL and roots, is still read):
//
//	PendingCardRegistration ::= SEQUENCE {
//	  version    INTEGER { v1(1) },
//	  suite      UTF8String,              -- "modern", "set1"
//	  rrpid      OCTET STRING (SIZE(20)),
//	  lidEE      OCTET STRING (SIZE(1..20)),
//	  challEE3   OCTET STRING (SIZE(20)),
//	  caSigner   OCTET STRING,            -- the CA's signature certificate
//	  caExchange OCTET STRING,            -- its key-exchange certificate
//	  key        OCTET STRING,            -- PKCS#8 of the new signature key
//	  cardSecret OCTET STRING (SIZE(20)), -- a renewal's: the current PANSecret
//	  backKey    SEQUENCE { backAlgID AlgorithmIdentifier, backKey OCTET STRING },
//	  card       SEQUENCE {
//	    pan UTF8String, expiry UTF8String, brandID UTF8String,
//	    iban UTF8String, accountNumber UTF8String, routingCode UTF8String },
//	                                      -- "" for what the card has not
//	  caURL      UTF8String,              -- where the request was sent, "" if unknown
//	  roots      SEQUENCE SIZE(1..8) OF OCTET STRING }
//	                                      -- the roots trusted, each a certificate's DER

import (
	"crypto"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// StateVersion is the version of the state Export writes.
const StateVersion = 2

// StateRole is the keyfile role label a pending registration's state is
// sealed under.
const StateRole = "pending cardholder registration"

// ErrState is wrapped by every error about a state that cannot be
// resumed: malformed, truncated or of another version.
var ErrState = errors.New("wallet: pending registration state")

const maxLID = 20

type state struct {
	suite                suite.ID
	rrpid                msg.RRPID
	lidEE                []byte
	challEE3             msg.Challenge
	caSigner, caExchange []byte
	keyDER               []byte
	cardSecret           msg.Secret
	backKey              encap.BackKey
	card                 Card
	origin               enrol.Origin // empty in a version 1 state
}

// MarshalState encodes what Wait needs to go on with a pended
// registration: the request's identifiers, the CA's certificates, the new
// private key, the CardSecret, the CABackKey and the card, in the clear.
// Export seals it; use MarshalState only to seal it another way.
func (r *Registration) MarshalState() ([]byte, error) {
	if r.key == nil || r.backKey.Key == nil || r.caSigner == nil || r.exchangeCert == nil {
		return nil, fmt.Errorf("%w: the registration has sent no CertReq yet", ErrState)
	}
	k, err := suite.MarshalSigningKey(r.key)
	if err != nil {
		return nil, fmt.Errorf("wallet: signing key: %w", err)
	}
	s := state{
		suite: r.cfg.Suite.ID(), rrpid: r.rrpid, lidEE: r.lidEE, challEE3: r.challEE3,
		caSigner: r.caSigner, caExchange: r.exchangeCert, keyDER: k, cardSecret: r.cardSecret,
		backKey: r.backKey, card: r.cfg.Card, origin: r.Origin(),
	}
	return s.marshal()
}

func (s *state) marshal() ([]byte, error) {
	str := func(b *cryptobyte.Builder, v string) {
		b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
	}
	c := s.card
	var acct msg.BankAccount
	if c.Account != nil {
		acct = *c.Account
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(StateVersion)
		str(b, string(s.suite))
		for _, o := range [][]byte{s.rrpid[:], s.lidEE, s.challEE3[:], s.caSigner, s.caExchange, s.keyDER, s.cardSecret[:]} {
			b.AddASN1OctetString(o)
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			s.backKey.Alg.Marshal(b)
			b.AddASN1OctetString(s.backKey.Key)
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, v := range []string{c.PAN, c.Expiry, c.BrandID, acct.IBAN, acct.AccountNumber, acct.RoutingCode} {
				str(b, v)
			}
		})
		enrol.AddStateOrigin(b, s.origin)
	})
	return b.Bytes()
}

// parseState decodes a state strictly: DER, version 1 or 2, every field
// of its size, nothing after. It checks the form; ResumeState the content.
func parseState(b []byte) (*state, error) {
	version, id, seq, err := enrol.ReadStateVersion(b, 1, StateVersion, ErrState)
	if err != nil {
		return nil, err
	}
	bad := func(field string) error { return fmt.Errorf("%w: malformed %s", ErrState, field) }
	s := &state{suite: id}
	var rrpid, challEE3, cardSecret []byte
	if err := enrol.ReadStateOctets(&seq, ErrState,
		enrol.StateField{Name: "rrpid", Dst: &rrpid, Min: len(s.rrpid), Max: len(s.rrpid)},
		enrol.StateField{Name: "lidEE", Dst: &s.lidEE, Min: 1, Max: maxLID},
		enrol.StateField{Name: "challEE3", Dst: &challEE3, Min: len(s.challEE3), Max: len(s.challEE3)},
		enrol.StateField{Name: "caSigner", Dst: &s.caSigner, Min: 1, Max: 1 << 16},
		enrol.StateField{Name: "caExchange", Dst: &s.caExchange, Min: 1, Max: 1 << 16},
		enrol.StateField{Name: "key", Dst: &s.keyDER, Min: 1, Max: 1 << 16},
		enrol.StateField{Name: "cardSecret", Dst: &cardSecret, Min: len(s.cardSecret), Max: len(s.cardSecret)},
	); err != nil {
		return nil, err
	}
	copy(s.rrpid[:], rrpid)
	copy(s.challEE3[:], challEE3)
	copy(s.cardSecret[:], cardSecret)

	var bk cryptobyte.String
	if !seq.ReadASN1(&bk, cbasn1.SEQUENCE) {
		return nil, bad("backKey")
	}
	alg, err := pkcs7.ReadAlgorithmIdentifier(&bk)
	if err != nil {
		return nil, fmt.Errorf("%w: backKey: %w", ErrState, err)
	}
	var key cryptobyte.String
	if !bk.ReadASN1(&key, cbasn1.OCTET_STRING) || len(key) == 0 || !bk.Empty() {
		return nil, bad("backKey")
	}
	s.backKey = encap.BackKey{Alg: alg, Key: append([]byte(nil), key...)}

	var card cryptobyte.String
	if !seq.ReadASN1(&card, cbasn1.SEQUENCE) {
		return nil, bad("card")
	}
	var v [6]string
	for i, name := range []string{"pan", "expiry", "brandID", "iban", "accountNumber", "routingCode"} {
		var o cryptobyte.String
		if !card.ReadASN1(&o, cbasn1.UTF8String) || len(o) > 256 {
			return nil, bad("card " + name)
		}
		v[i] = string(o)
	}
	if !card.Empty() {
		return nil, bad("card")
	}
	s.card = Card{PAN: v[0], Expiry: v[1], BrandID: v[2]}
	if v[3] != "" || v[4] != "" || v[5] != "" {
		s.card.Account = &msg.BankAccount{IBAN: v[3], AccountNumber: v[4], RoutingCode: v[5]}
	}
	if version >= 2 {
		if s.origin, err = enrol.ReadStateOrigin(&seq, ErrState); err != nil {
			return nil, err
		}
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("%w: unexpected fields at the end", ErrState)
	}
	return s, nil
}

// Export seals the state of a pended registration (MarshalState) under
// passphrase with keyfile, labelled StateRole: the file to keep (mode
// 0600, keyfile.WriteFile) until the CA decides. It holds the card number.
func (r *Registration) Export(rand io.Reader, passphrase []byte, params keyfile.Params) ([]byte, error) {
	st, err := r.MarshalState()
	if err != nil {
		return nil, err
	}
	return keyfile.Seal(rand, st, StateRole, passphrase, params)
}

// Resume opens a state Export sealed and returns the Registration to Wait
// on, a renewal's included. cfg needs nothing: its Roots, when set, must
// be among those the state recorded (enrol.ErrOtherRoot), and are needed
// only for a version 1 state; its Suite when set must be the state's, and its card and key are ignored (the state's are
// used). A wrong passphrase or an altered file is
// keyfile.ErrWrongPassphrase, another party's state keyfile.ErrWrongRole,
// a malformed state ErrState.
func Resume(cfg RegisterConfig, sealed, passphrase []byte) (*Registration, error) {
	st, err := keyfile.Open(sealed, StateRole, passphrase)
	if err != nil {
		return nil, err
	}
	return ResumeState(cfg, st)
}

// ResumeState is Resume for a state MarshalState made, already opened.
func ResumeState(cfg RegisterConfig, b []byte) (*Registration, error) {
	s, err := parseState(b)
	if err != nil {
		return nil, err
	}
	if cfg.Roots, err = enrol.StateRoots(cfg.Roots, s.origin.Roots, ErrState); err != nil {
		return nil, err
	}
	if cfg.Suite, err = enrol.StateSuite(cfg.Suite, s.suite, ErrState); err != nil {
		return nil, err
	}
	if err := suite.CheckBackKey(cfg.Suite, s.backKey.Alg, s.backKey.Key); err != nil {
		return nil, fmt.Errorf("%w: backKey: %w", ErrState, err)
	}
	if err := enrol.CheckStateCAs(s.caSigner, s.caExchange, ErrState); err != nil {
		return nil, err
	}
	key, err := suite.ParseSigningKey(s.keyDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	cfg.Card, cfg.Key = s.card, key
	r, _, err := NewRegistration(cfg) // checks the card
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	r.key, r.rrpid, r.lidEE, r.challEE3 = key, s.rrpid, s.lidEE, s.challEE3
	r.caSigner, r.exchangeCert = s.caSigner, s.caExchange
	r.cardSecret, r.backKey = s.cardSecret, s.backKey
	r.caURL = s.origin.CAURL
	return r, nil
}

// SetCAURL records the URL the request is sent to, for the state Export
// seals: resuming then needs no URL.
func (r *Registration) SetCAURL(url string) { r.caURL = url }

// Origin is the CA URL (SetCAURL, or a resumed state's) and the roots the
// registration trusts.
func (r *Registration) Origin() enrol.Origin {
	o := enrol.Origin{CAURL: r.caURL}
	for _, c := range r.cfg.Roots {
		o.Roots = append(o.Roots, c.Raw)
	}
	return o
}

// Key is the signing key the request asks to have certified, for storing
// it beside the certificate a resumed registration gets; nil before the
// CertReq.
func (r *Registration) Key() crypto.Signer { return r.key }
