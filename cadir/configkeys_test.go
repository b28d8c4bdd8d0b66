package cadir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpay/setpay/cadir"
)

// TestConfigUnknownKeys: a key config.json has no place for, at any
// depth, stops the CA with an error naming the key and where it is,
// instead of being dropped (a CA that quietly asks nothing). So do
// syntax and type errors, with their line, and a merchant record its
// certificate could not be issued from.
func TestConfigUnknownKeys(t *testing.T) {
	const good = `{
  "suite": "modern",
  "brand": "SETpay",
  "bin_ranges": [{"low": "400000", "high": "599999",
    "form": {"id": 10, "fields": [{"name": "Full name", "len": 60, "required": true}]},
    "forms": {"fr": {"id": 11, "fields": [
      {"name": "Nom complet", "required": true},
      {"name": "Campagne", "type": "hidden", "value": "printemps"}]}}}],
  "acquirers": [
    {"acquirer_bin": "400000", "mer_id": "MER-0001", "name": "Corner Bookshop", "city": "Springfield",
     "form": {"id": 30, "fields": [{"name": "Legal name", "required": true}]}},
    {"acquirer_bin": "400000", "name": "SETpay Payment Gateway", "country": 840}],
  "review": ["merchants"],
  "acquirer_form": {"id": 20, "fields": [{"name": "Legal name", "required": true}]}
}`
	dir := t.TempDir()
	read := func(t *testing.T, s string) error {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, cadir.ConfigFile), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := cadir.ReadConfig(dir)
		return err
	}
	if err := read(t, good); err != nil {
		t.Fatalf("ReadConfig(good) = %v", err)
	}
	for _, tt := range []struct {
		name, old, new, want string
	}{
		{"top level", `"bin_ranges"`, `"bin_range"`, `top level: unknown key "bin_range" (did you mean "bin_ranges"?)`},
		{"trailing space", `"form": {"id": 10`, `"form ": {"id": 10`, `bin_ranges[0]: unknown key "form " (did you mean "form"?)`},
		{"case", `"form": {"id": 10`, `"Form": {"id": 10`, `bin_ranges[0]: unknown key "Form" (did you mean "form"?)`},
		{"in a translated field", `{"name": "Nom complet", "required": true}`, `{"name": "Nom complet", "requried": true}`,
			`bin_ranges[0].forms["fr"].fields[0]: unknown key "requried" (did you mean "required"?)`},
		{"in an acquirer", `"mer_id": "MER-0001"`, `"merid": "MER-0001"`, `acquirers[0]: unknown key "merid" (did you mean "mer_id"?)`},
		{"in an acquirer's form", `"form": {"id": 30, "fields"`, `"form": {"id": 30, "feilds"`, `acquirers[0].form: unknown key "feilds" (did you mean "fields"?)`},
		{"nothing like it", `"review"`, `"colour"`, `top level: unknown key "colour" (known here: "acquirer_form", "acquirer_forms", "acquirers", "bin_ranges", "brand", "review", "suite")`},
		{"syntax", `"brand": "SETpay",`, `"brand": "SETpay"`, `line 4: invalid character`},
		{"type", `"len": 60`, `"len": "60"`, `line 5: bin_ranges.form.fields.len: string where int is wanted`},
		{"merchant without a city", `, "city": "Springfield"`, ``, `acquirers[0]: a merchant (mer_id "MER-0001") needs a city`},
		{"trailing data", "\n}", "\n}\n{}", `invalid character '{' after top-level value`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := strings.Replace(good, tt.old, tt.new, 1)
			if s == good {
				t.Fatalf("%q not in the config", tt.old)
			}
			err := read(t, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), cadir.ConfigFile) {
				t.Errorf("ReadConfig = %v, want an error naming %s and saying %s", err, cadir.ConfigFile, tt.want)
			}
		})
	}
}
