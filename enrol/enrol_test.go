package enrol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// The full flow runs against a real CA in ca/, merchant/ and gateway/;
// these check what the role alone decides.

var testRole = enrol.Role{Who: "tester", RequestType: msg.MerInitialBoth, CAType: pki.CertTypeMCA, EEType: pki.CertTypeMer}

func TestNewNeedsSuiteAndRoots(t *testing.T) {
	_, _, err := enrol.New(testRole, enrol.Config{}, func(c *enrol.Credentials) *enrol.Credentials { return c })
	if err == nil || !strings.HasPrefix(err.Error(), "tester: ") {
		t.Fatalf("New without suite or roots: %v, want a tester: error", err)
	}
}

func TestRefusedErrorNamesRole(t *testing.T) {
	st := msg.CertStatus{CertStatusCode: msg.RequestComplete, EEMessage: "why"}
	got := (&enrol.RefusedError{Who: "tester", Status: st}).Error()
	if !strings.HasPrefix(got, "tester: CA refused the certificate request: ") || !strings.HasSuffix(got, " (why)") {
		t.Errorf("RefusedError = %q", got)
	}
	if got := (&enrol.RefusedError{Status: st}).Error(); !strings.HasPrefix(got, "enrol: ") {
		t.Errorf("RefusedError without role = %q", got)
	}
	// A PendingError made by hand, without its Registration, still reads.
	if got := (&enrol.PendingError[int]{Status: st}).Error(); !strings.HasPrefix(got, "enrol: CA pended ") {
		t.Errorf("PendingError without registration = %q", got)
	}
	var re *enrol.RefusedError
	if !errors.As(error(&enrol.RefusedError{Status: st}), &re) {
		t.Error("errors.As does not find a RefusedError")
	}
}
