package enrol_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// The renewal flow runs against a real CA in ca/renew_test.go; these check
// what the role and the current credential alone decide.

func TestRenewalRequestTypes(t *testing.T) {
	for initial, renewal := range map[msg.RequestType]msg.RequestType{
		msg.MerInitialBoth: msg.MerRenewalBoth, msg.PgwyInitialBoth: msg.PgwyRenewalBoth,
	} {
		r := testRole
		r.RequestType = initial
		got, err := r.Renewal()
		if err != nil || got.RequestType != renewal {
			t.Errorf("Renewal of %v = %v, %v; want %v", initial, got.RequestType, err, renewal)
		}
	}
	r := testRole
	r.RequestType = msg.MerInitialSig
	if _, err := r.Renewal(); err == nil || !strings.HasPrefix(err.Error(), "tester: ") {
		t.Errorf("Renewal of merInitialSig: %v, want a tester: error", err)
	}
}

func TestNewRenewalNeedsCurrentCredential(t *testing.T) {
	st := suite.NewModern()
	key, err := st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := func(c *enrol.Credentials) *enrol.Credentials { return c }
	for name, cur := range map[string]enrol.Current{
		"nothing":    {},
		"no cert":    {SigKey: key},
		"not a cert": {SigKey: key, SigCert: []byte{0x30, 0x00}},
	} {
		if _, _, err := enrol.NewRenewal(testRole, enrol.Config{Suite: st}, cur, id); err == nil || !strings.HasPrefix(err.Error(), "tester: ") {
			t.Errorf("%s: NewRenewal = %v, want a tester: error", name, err)
		}
	}
}
