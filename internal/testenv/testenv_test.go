package testenv

import "testing"

func TestCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "true": true, "1": true, "yes": true} {
		t.Setenv("CI", v)
		if got := CI(); got != want {
			t.Errorf("CI=%q: CI() = %v, want %v", v, got, want)
		}
	}
}

// fakeTB records how a test ended instead of ending it.
type fakeTB struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }

func TestMissing(t *testing.T) {
	for _, c := range []struct {
		ci            string
		fail, skipped bool
	}{{"true", true, false}, {"", false, true}} {
		t.Setenv("CI", c.ci)
		f := &fakeTB{}
		Missing(f, "no %s", "thing")
		if f.failed != c.fail || f.skipped != c.skipped {
			t.Errorf("CI=%q: failed %v skipped %v; want %v, %v", c.ci, f.failed, f.skipped, c.fail, c.skipped)
		}
	}
}
