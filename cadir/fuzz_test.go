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
