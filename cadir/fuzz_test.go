package cadir_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/setpay/setpay/cadir"
)

// FuzzReadConfig feeds arbitrary config.json contents to ReadConfig: it
// must return a config or an error, never panic.
func FuzzReadConfig(f *testing.F) {
	f.Add([]byte(`{"suite":"modern","brand":"SETpay","bin_ranges":[{"low":"400000","high":"599999"}],"acquirers":[]}`))
	f.Add([]byte(`{"brand":""}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"suite":"modern","brand":"B","bin_range":[],"bin_ranges":[{"low":"400000","high":"599999","form ":{"id":1}}]}`))
	f.Add([]byte(`{"brand":"B","bin_ranges":[{"low":"400000","high":"599999","forms":{"fr":{"id":2,"fields":[{"name":"x","requried":true}]}}}],` +
		`"acquirers":[{"acquirer_bin":"400000","mer_id":"M","name":"N","city":"C","form":{"id":1,"fields":[{"name":"Legal name"}]}}]}`))
	f.Add([]byte(`{"brand":"B","bin_ranges":[{"low":1}],"review":{"x":[null]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, cadir.ConfigFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := cadir.ReadConfig(dir)
		if err == nil && (cfg.Brand == "" || len(cfg.BINRanges) == 0) {
			t.Fatalf("ReadConfig accepted %q without brand or BIN ranges", b)
		}
	})
}
