package enrol

// Resuming a pended registration in another process. While the CA holds a
// request, what answers its CertInqRes lives only in the Registration: the
// new private keys and the identifiers naming the request. Export seals
// that state with keyfile under a passphrase; Resume rebuilds a
// Registration that can Wait (docs/spec-gaps.md, "resuming a held
// registration").
//
// The state, sealed as a keyfile's plaintext, is (version 2; version 1,
// which lacks caURL and roots, is still read):
//
//	PendingRegistration ::= SEQUENCE {
//	  version     INTEGER { v1(1) },
//	  suite       UTF8String,            -- "modern", "set1"
//	  requestType INTEGER,               -- merInitialBoth, pgwyRenewalBoth, …
//	  rrpid       OCTET STRING (SIZE(20)),
//	  lidEE       OCTET STRING (SIZE(1..20)),
//	  challEE3    OCTET STRING (SIZE(20)),
//	  caSigner    OCTET STRING,          -- the CA's signature certificate
//	  caExchange  OCTET STRING,          -- its key-exchange certificate
//	  sigKey      OCTET STRING,          -- PKCS#8 of the new signature key
//	  exKey       OCTET STRING,          -- PKCS#8 of the new key-exchange key
//	  caURL       UTF8String,            -- where the request was sent, "" if unknown
//	  roots       SEQUENCE SIZE(1..8) OF OCTET STRING }
//	                                     -- the roots trusted, each a certificate's DER

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// StateVersion is the version of the state Export writes.
const StateVersion = 2

// maxLID bounds lid-EE in a state: New draws 20 bytes.
const maxLID = 20

// ErrState is wrapped by every error about a state that cannot be
// resumed: malformed, truncated, of another version or another role.
var ErrState = errors.New("enrol: pending registration state")

// StateRole is the keyfile role label a role's state is sealed under, so a
// merchant's state cannot be opened as a gateway's.
func (role Role) StateRole() string { return "pending " + role.Who + " registration" }

type state struct {
	suite                suite.ID
	requestType          msg.RequestType
	rrpid                msg.RRPID
	lidEE                []byte
	challEE3             msg.Challenge
	caSigner, caExchange []byte
	sigKeyDER, exKeyDER  []byte
	origin               Origin // empty in a version 1 state
}

// MarshalState encodes what Wait needs to go on with a pended
// registration: the request's identifiers, the CA's certificates and the
// new private keys, in the clear. Export seals it; use MarshalState only
// to seal it another way.
func (r *Registration[R]) MarshalState() ([]byte, error) {
	if r.sigKey == nil || r.exKey == nil || r.caSigner == nil || r.exchangeCert == nil {
		return nil, fmt.Errorf("%w: the registration has sent no CertReq yet", ErrState)
	}
	sk, err := suite.MarshalSigningKey(r.sigKey)
	if err != nil {
		return nil, fmt.Errorf("%s: signature key: %w", r.role.Who, err)
	}
	xk, err := suite.MarshalExchangeKey(r.exKey)
	if err != nil {
		return nil, fmt.Errorf("%s: key-exchange key: %w", r.role.Who, err)
	}
	s := state{
		suite: r.cfg.Suite.ID(), requestType: r.role.RequestType, rrpid: r.rrpid, lidEE: r.lidEE,
		challEE3: r.challEE3, caSigner: r.caSigner, caExchange: r.exchangeCert, sigKeyDER: sk, exKeyDER: xk,
		origin: r.Origin(),
	}
	return s.marshal()
}

func (s *state) marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(StateVersion)
		b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s.suite)) })
		b.AddASN1Int64(int64(s.requestType))
		for _, o := range [][]byte{s.rrpid[:], s.lidEE, s.challEE3[:], s.caSigner, s.caExchange, s.sigKeyDER, s.exKeyDER} {
			b.AddASN1OctetString(o)
		}
		AddStateOrigin(b, s.origin)
	})
	return b.Bytes()
}

// parseState decodes a state strictly: DER, version 1 or 2, every field
// of its size, nothing after. It checks the form, not the content.
func parseState(b []byte) (*state, error) {
	v, id, seq, err := ReadStateVersion(b, 1, StateVersion, ErrState)
	if err != nil {
		return nil, err
	}
	s := &state{suite: id}
	var rt int64
	if !seq.ReadASN1Int64WithTag(&rt, cbasn1.INTEGER) || rt < 0 || rt > 1<<16 {
		return nil, malformedState(ErrState, "requestType")
	}
	s.requestType = msg.RequestType(rt)
	var rrpid, challEE3 []byte
	if err := ReadStateOctets(&seq, ErrState,
		StateField{"rrpid", &rrpid, len(s.rrpid), len(s.rrpid)},
		StateField{"lidEE", &s.lidEE, 1, maxLID},
		StateField{"challEE3", &challEE3, len(s.challEE3), len(s.challEE3)},
		StateField{"caSigner", &s.caSigner, 1, 1 << 16},
		StateField{"caExchange", &s.caExchange, 1, 1 << 16},
		StateField{"sigKey", &s.sigKeyDER, 1, 1 << 16},
		StateField{"exKey", &s.exKeyDER, 1, 1 << 16},
	); err != nil {
		return nil, err
	}
	if v >= 2 {
		if s.origin, err = ReadStateOrigin(&seq, ErrState); err != nil {
			return nil, err
		}
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("%w: unexpected fields at the end", ErrState)
	}
	copy(s.rrpid[:], rrpid)
	copy(s.challEE3[:], challEE3)
	return s, nil
}

// Export seals the state of a pended registration (MarshalState) under
// passphrase with keyfile, the role's StateRole as label: the file to keep
// (mode 0600, keyfile.WriteFile) until the CA decides.
func (r *Registration[R]) Export(rand io.Reader, passphrase []byte, params keyfile.Params) ([]byte, error) {
	st, err := r.MarshalState()
	if err != nil {
		return nil, err
	}
	return keyfile.Seal(rand, st, r.role.StateRole(), passphrase, params)
}

// Resume opens a state Export sealed and returns the Registration to Wait
// on. role is the first registration's (a renewal's state resumes under
// it too); cfg needs nothing: its Roots, when set, must be among those the
// state recorded (ErrOtherRoot), and are needed only for a version 1
// state; its Suite when set must be the state's; its identity and keys
// are ignored. A wrong passphrase or an altered
// file is keyfile.ErrWrongPassphrase, another role's state
// keyfile.ErrWrongRole, a malformed state ErrState.
func Resume[R any](role Role, cfg Config, sealed, passphrase []byte, result func(*Credentials) R) (*Registration[R], error) {
	st, err := keyfile.Open(sealed, role.StateRole(), passphrase)
	if err != nil {
		return nil, err
	}
	return ResumeState(role, cfg, st, result)
}

// ResumeState is Resume for a state MarshalState made, already opened.
func ResumeState[R any](role Role, cfg Config, b []byte, result func(*Credentials) R) (*Registration[R], error) {
	s, err := parseState(b)
	if err != nil {
		return nil, err
	}
	if cfg.Roots, err = StateRoots(cfg.Roots, s.origin.Roots, ErrState); err != nil {
		return nil, err
	}
	if cfg.Suite, err = StateSuite(cfg.Suite, s.suite, ErrState); err != nil {
		return nil, err
	}
	if s.requestType != role.RequestType {
		renewal, err := role.Renewal()
		if err != nil || s.requestType != renewal.RequestType {
			return nil, fmt.Errorf("%w: request type %v is not a %s's", ErrState, s.requestType, role.Who)
		}
		role = renewal
	}
	if err := CheckStateCAs(s.caSigner, s.caExchange, ErrState); err != nil {
		return nil, err
	}
	r, _, err := New(role, cfg, result)
	if err != nil {
		return nil, err
	}
	if r.sigKey, err = suite.ParseSigningKey(s.sigKeyDER); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	if r.exKey, err = suite.ParseExchangeKey(s.exKeyDER); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	r.rrpid, r.lidEE, r.challEE3 = s.rrpid, s.lidEE, s.challEE3
	r.caSigner, r.exchangeCert = s.caSigner, s.caExchange
	r.caURL = s.origin.CAURL
	return r, nil
}

// SetCAURL records the URL the request is sent to, for the state Export
// seals: resuming then needs no URL.
func (r *Registration[R]) SetCAURL(url string) { r.caURL = url }

// Origin is the CA URL (SetCAURL, or a resumed state's) and the roots the
// registration trusts.
func (r *Registration[R]) Origin() Origin {
	return Origin{CAURL: r.caURL, Roots: rawRoots(r.cfg.Roots)}
}

// Renewal reports whether this is a renewal (of a resumed state too).
func (r *Registration[R]) Renewal() bool {
	return r.role.RequestType == msg.MerRenewalBoth || r.role.RequestType == msg.PgwyRenewalBoth
}
