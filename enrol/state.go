package enrol

import (
	"fmt"

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
	in := cryptobyte.String(b)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return "", nil, malformedState(errState, "SEQUENCE (truncated or not DER)")
	}
	if !in.Empty() {
		return "", nil, fmt.Errorf("%w: trailing data", errState)
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
		return "", nil, malformedState(errState, "version")
	}
	if v != version {
		return "", nil, fmt.Errorf("%w: version %d, want %d", errState, v, version)
	}
	var id cryptobyte.String
	if !seq.ReadASN1(&id, cbasn1.UTF8String) {
		return "", nil, malformedState(errState, "suite")
	}
	return suite.ID(id), seq, nil
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
