package pki

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpay/setpay/internal/testenv"
)

// TestOpenSSL has an independent implementation read every certificate
// and validate the modern chains, so our encodings are not only
// self-consistent. The SET extensions are private and critical, hence
// -ignore_critical.
func TestOpenSSL(t *testing.T) {
	bin := testenv.OpenSSL(t)
	dir := t.TempDir()
	writePEM := func(name string, certs ...*Certificate) string {
		var buf bytes.Buffer
		for _, c := range certs {
			pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// openssl 3.0 cannot read ML-DSA keys; the pq suite is checked by Go only.
	for _, suite := range []string{"set1", "modern"} {
		f := fixture(t, suite)
		for _, nc := range f.all() {
			p := filepath.Join(dir, suite+"-"+nc.name+".der")
			if err := os.WriteFile(p, nc.cert.Raw, 0o600); err != nil {
				t.Fatal(err)
			}
			text := run("x509", "-inform", "DER", "-in", p, "-noout", "-text")
			if !strings.Contains(text, "Version: 3") {
				t.Errorf("%s/%s: openssl does not see v3:\n%s", suite, nc.name, text)
			}
			// Our thumbprint is openssl's fingerprint.
			fp := run("x509", "-inform", "DER", "-in", p, "-noout", "-fingerprint", "-sha256")
			want := strings.ToUpper(hex.EncodeToString(Thumbprint(nc.cert.Raw, crypto.SHA256)))
			if got := strings.ReplaceAll(fp[strings.Index(fp, "=")+1:], ":", ""); strings.TrimSpace(got) != want {
				t.Errorf("%s/%s: fingerprint %s, Thumbprint %s", suite, nc.name, got, want)
			}
		}
		root := writePEM(suite+"-root.pem", f.h.Root.Cert)
		attime := fmt.Sprint(testNow.Add(24 * 60 * 60e9).Unix())
		extra := []string{}
		if suite == "set1" {
			extra = []string{"-auth_level", "0"} // SHA-1 signatures, as SET 1.0 specified
		}
		for _, leaf := range []struct {
			name string
			cert *Certificate
			ca   *Authority
		}{
			{"card", f.card, f.h.CCA}, {"mer-sig", f.merSig, f.h.MCA}, {"mer-exch", f.merExch, f.h.MCA},
			{"pgwy-sig", f.pgwySig, f.h.PCA}, {"pgwy-exch", f.pgwyExch, f.h.PCA},
		} {
			untrusted := writePEM(suite+"-"+leaf.name+"-chain.pem", f.h.Brand.Cert, leaf.ca.Cert)
			lp := writePEM(suite+"-"+leaf.name+".pem", leaf.cert)
			args := append([]string{"verify", "-ignore_critical", "-attime", attime, "-CAfile", root, "-untrusted", untrusted}, extra...)
			out := run(append(args, lp)...)
			if !strings.Contains(out, ": OK") {
				t.Errorf("%s/%s: openssl verify: %s", suite, leaf.name, out)
			}
		}
		// And openssl rejects a chain with the wrong intermediate.
		if suite == "modern" {
			untrusted := writePEM("wrong-chain.pem", f.h.Brand.Cert, f.h.MCA.Cert)
			out, err := exec.Command(bin, "verify", "-ignore_critical", "-attime", attime, "-CAfile", root, "-untrusted", untrusted, writePEM("card2.pem", f.card)).CombinedOutput()
			if err == nil {
				t.Errorf("openssl verified a card certificate without its CCA:\n%s", out)
			}
		}
	}
}
