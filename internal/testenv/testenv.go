// Package testenv tells tests what the machine they run on provides, and
// makes a missing tool fail a CI run instead of skipping quietly.
//
// Outside CI a developer without, say, openssl still gets a green run with
// the interop tests skipped; in CI (the CI environment variable set, as
// GitHub Actions and test.sh's callers do) the same absence is a failure,
// so a check the project relies on can never silently stop running.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run in continuous integration: the CI
// environment variable is set to anything but "", "0" or "false".
func CI() bool {
	switch os.Getenv("CI") {
	case "", "0", "false":
		return false
	}
	return true
}

// Missing ends the test because the machine lacks something it needs:
// a failure in CI, a skip elsewhere.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI machine lacks what this test needs: "+format, args...)
		return
	}
	t.Skipf(format+" (would fail with CI set)", args...)
}

// OpenSSL returns the path of the openssl binary, or ends the test through
// Missing if there is none on PATH. test.sh installs it.
func OpenSSL(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		Missing(t, "openssl not on PATH (%v); test.sh installs it", err)
	}
	return bin
}
