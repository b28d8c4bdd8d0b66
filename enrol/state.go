package enrol

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// The pieces of a pending registration's state that enrol's and the
// wallet's share: the frame, the run of bounded OCTET STRINGs, and the
// checks on resuming. Each takes the caller's ErrState, so that every
// error wraps the sentinel of the package the state belongs to.

// StateField is one OCTET STRING of a state, copied into Dst when its
// length is within Min..Max.
type StateField struct {
	Name     string
	Dst      *[]byte
	Min, Max int
}

// ReadStateHeader reads the frame every state has, SEQUENCE { version
// INTEGER, suite UTF8String, … } with nothing after it, and checks the
// version. It returns the suite named and the rest of the SEQUENCE.
func ReadStateHeader(b []byte, version int64, errState error) (suite.ID, cryptobyte.String, error) {
	_, id, seq, err := ReadStateVersion(b, version, version, errState)
	return id, seq, err
}

// ReadStateVersion is ReadStateHeader accepting every version from min
// to max; it returns the version read too.
func ReadStateVersion(b []byte, min, max int64, errState error) (int64, suite.ID, cryptobyte.String, error) {
	in := cryptobyte.String(b)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return 0, "", nil, malformedState(errState, "SEQUENCE (truncated or not DER)")
	}
	if !in.Empty() {
		return 0, "", nil, fmt.Errorf("%w: trailing data", errState)
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
		return 0, "", nil, malformedState(errState, "version")
	}
	if v < min || v > max {
		if min == max {
			return 0, "", nil, fmt.Errorf("%w: version %d, want %d", errState, v, max)
		}
		return 0, "", nil, fmt.Errorf("%w: version %d, want %d to %d", errState, v, min, max)
	}
	var id cryptobyte.String
	if !seq.ReadASN1(&id, cbasn1.UTF8String) {
		return 0, "", nil, malformedState(errState, "suite")
	}
	return v, suite.ID(id), seq, nil
}

// ReadStateOctets reads fields from seq in order, each an OCTET STRING.
func ReadStateOctets(seq *cryptobyte.String, errState error, fields ...StateField) error {
	for _, f := range fields {
		var o cryptobyte.String
		if !seq.ReadASN1(&o, cbasn1.OCTET_STRING) || len(o) < f.Min || len(o) > f.Max {
			return malformedState(errState, f.Name)
		}
		*f.Dst = append([]byte(nil), o...)
	}
	return nil
}

func malformedState(errState error, field string) error {
	return fmt.Errorf("%w: malformed %s", errState, field)
}

// StateSuite is the suite to resume a state made under id with: the one
// id names when configured is nil, else configured, which must be it.
func StateSuite(configured suite.Suite, id suite.ID, errState error) (suite.Suite, error) {
	if configured == nil {
		s, err := suite.ByID(id)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errState, err)
		}
		return s, nil
	}
	if configured.ID() != id {
		return nil, fmt.Errorf("%w: made under suite %q, not %q", errState, id, configured.ID())
	}
	return configured, nil
}

// CheckStateCAs reports whether a state's two CA certificates parse.
func CheckStateCAs(caSigner, caExchange []byte, errState error) error {
	for _, c := range []struct {
		what string
		der  []byte
	}{{"CA signature certificate", caSigner}, {"CA key-exchange certificate", caExchange}} {
		if _, err := pki.ParseCertificate(c.der); err != nil {
			return fmt.Errorf("%w: %s: %w", errState, c.what, err)
		}
	}
	return nil
}

// Origin is where a held request was sent and what its registration
// trusted: recorded in the state (from version 2 on) so that resuming
// needs neither the CA's URL nor the roots again.
type Origin struct {
	CAURL string   // the CA's registration URL; "" when not recorded
	Roots [][]byte // the DER of the trusted roots; none in a version 1 state
}

// maxRoots bounds the roots a state records.
const maxRoots = 8

// AddStateOrigin appends o to a state being built: caURL UTF8String,
// roots SEQUENCE SIZE(1..8) OF OCTET STRING (each a root certificate's
// DER).
func AddStateOrigin(b *cryptobyte.Builder, o Origin) {
	b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(o.CAURL)) })
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, r := range o.Roots {
			b.AddASN1OctetString(r)
		}
	})
}

// ReadStateOrigin reads what AddStateOrigin wrote, each root a
// certificate that parses.
func ReadStateOrigin(seq *cryptobyte.String, errState error) (Origin, error) {
	var o Origin
	var url, roots cryptobyte.String
	if !seq.ReadASN1(&url, cbasn1.UTF8String) || len(url) > 2048 {
		return o, malformedState(errState, "caURL")
	}
	o.CAURL = string(url)
	if !seq.ReadASN1(&roots, cbasn1.SEQUENCE) {
		return o, malformedState(errState, "roots")
	}
	for !roots.Empty() {
		var r []byte
		if len(o.Roots) == maxRoots {
			return o, fmt.Errorf("%w: more than %d roots", errState, maxRoots)
		}
		if err := ReadStateOctets(&roots, errState, StateField{"root", &r, 1, 1 << 16}); err != nil {
			return o, err
		}
		if _, err := pki.ParseCertificate(r); err != nil {
			return o, fmt.Errorf("%w: root: %w", errState, err)
		}
		o.Roots = append(o.Roots, r)
	}
	if len(o.Roots) == 0 {
		return o, malformedState(errState, "roots (none)")
	}
	return o, nil
}

// ErrOtherRoot is wrapped by the error of resuming a state with roots
// other than those it recorded: the answer would be checked against
// anchors the request was never sent under, so it is refused rather than
// overridden.
var ErrOtherRoot = errors.New("the roots given are not the ones the held request was made under")

// StateRoots returns the roots to resume a state with: the recorded ones
// when none are given; the given ones, each of which must be recorded,
// otherwise. A version 1 state records none: then roots must be given.
func StateRoots(given []*pki.Certificate, recorded [][]byte, errState error) ([]*pki.Certificate, error) {
	if len(given) == 0 {
		if len(recorded) == 0 {
			return nil, fmt.Errorf("%w: it records no roots (an older version); give them", errState)
		}
		var out []*pki.Certificate
		for _, r := range recorded {
			c, err := pki.ParseCertificate(r)
			if err != nil {
				return nil, fmt.Errorf("%w: root: %w", errState, err)
			}
			out = append(out, c)
		}
		return out, nil
	}
	if len(recorded) == 0 {
		return given, nil
	}
	for _, g := range given {
		if !slices.ContainsFunc(recorded, func(r []byte) bool { return bytes.Equal(r, g.Raw) }) {
			return nil, fmt.Errorf("%w: %w (root %q)", errState, ErrOtherRoot, g.Subject.CommonName)
		}
	}
	return given, nil
}

// rawRoots is the DER of roots.
func rawRoots(roots []*pki.Certificate) [][]byte {
	out := make([][]byte, len(roots))
	for i, r := range roots {
		out[i] = r.Raw
	}
	return out
}
