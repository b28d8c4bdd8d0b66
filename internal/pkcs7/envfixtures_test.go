package pkcs7

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// -update (shared with the other test files of this package, registered by
// whichever gets there first) or -update-env (envelopes only) regenerates
// the envelope fixtures: keys, certificates and recorded envelopes in
// testdata/env*.
var envUpdateFlag = flag.Bool("update-env", false, "regenerate testdata/env* fixtures")

var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata golden files")
	}
	return true
}()

func envUpdating() bool {
	if *envUpdateFlag {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// envRSAParty and envECParty are a recipient's certificate and key.
type envRSAParty struct {
	cert []byte
	key  *rsa.PrivateKey
}

type envECParty struct {
	cert    []byte
	certPEM []byte
	keyPEM  []byte
	key     *ecdh.PrivateKey
}

func (p envRSAParty) recipient() KeyTransRecipient {
	return KeyTransRecipient{Cert: p.cert, Key: &p.key.PublicKey}
}

func (p envECParty) recipient() ECDHRecipient {
	return ECDHRecipient{Cert: p.cert, Key: p.key.PublicKey()}
}

func (p envECParty) decrypter() ECDHDecrypter { return ECDHDecrypter{Cert: p.cert, Key: p.key} }

var envFixtureOnce struct {
	sync.Once
	rsa1024, rsa2048, rsaOther envRSAParty
	p256, p256Other            envECParty
	err                        error
}

// envParties loads (or with -update-env regenerates) the test keys once per
// test binary; RSA key generation would otherwise dominate the run time.
func envParties(t testing.TB) (rsa1024, rsa2048, rsaOther envRSAParty, p256, p256Other envECParty) {
	t.Helper()
	f := &envFixtureOnce
	f.Do(func() {
		if f.rsa1024, f.err = envLoadRSA("env-rsa1024", 1024, 1); f.err != nil {
			return
		}
		if f.rsa2048, f.err = envLoadRSA("env-rsa2048", 2048, 2); f.err != nil {
			return
		}
		if f.rsaOther, f.err = envLoadRSA("env-rsa1024-other", 1024, 3); f.err != nil {
			return
		}
		if f.p256, f.err = envLoadEC("env-p256", 4); f.err != nil {
			return
		}
		f.p256Other, f.err = envLoadEC("env-p256-other", 5)
	})
	if f.err != nil {
		t.Fatalf("fixtures: %v (run go test -run Env -update-env once)", f.err)
	}
	return f.rsa1024, f.rsa2048, f.rsaOther, f.p256, f.p256Other
}

func envSelfSigned(pub, priv any, serial int64) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "setpay envelope test", Organization: []string{"setpay"}},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
}

func envLoadRSA(name string, bits int, serial int64) (envRSAParty, error) {
	keyPath := filepath.Join("testdata", name+"-key.pem")
	certPath := filepath.Join("testdata", name+"-cert.der")
	if envUpdating() {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return envRSAParty{}, err
		}
		cert, err := envSelfSigned(&k.PublicKey, k, serial)
		if err != nil {
			return envRSAParty{}, err
		}
		kb := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		if err := os.WriteFile(keyPath, kb, 0o644); err != nil {
			return envRSAParty{}, err
		}
		if err := os.WriteFile(certPath, cert, 0o644); err != nil {
			return envRSAParty{}, err
		}
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return envRSAParty{}, err
	}
	blk, _ := pem.Decode(kb)
	if blk == nil {
		return envRSAParty{}, os.ErrInvalid
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return envRSAParty{}, err
	}
	cert, err := os.ReadFile(certPath)
	if err != nil {
		return envRSAParty{}, err
	}
	return envRSAParty{cert: cert, key: k}, nil
}

func envLoadEC(name string, serial int64) (envECParty, error) {
	keyPath := filepath.Join("testdata", name+"-key.pem")
	certPath := filepath.Join("testdata", name+"-cert.pem")
	if envUpdating() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return envECParty{}, err
		}
		cert, err := envSelfSigned(&k.PublicKey, k, serial)
		if err != nil {
			return envECParty{}, err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return envECParty{}, err
		}
		if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o644); err != nil {
			return envECParty{}, err
		}
		if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o644); err != nil {
			return envECParty{}, err
		}
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return envECParty{}, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return envECParty{}, err
	}
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return envECParty{}, os.ErrInvalid
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return envECParty{}, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return envECParty{}, os.ErrInvalid
	}
	dh, err := ek.ECDH()
	if err != nil {
		return envECParty{}, err
	}
	// The recipient key comes from the certificate, as a sender would get it.
	c, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return envECParty{}, err
	}
	pub, err := c.PublicKey.(*ecdsa.PublicKey).ECDH()
	if err != nil || !pub.Equal(dh.PublicKey()) {
		return envECParty{}, os.ErrInvalid
	}
	return envECParty{cert: cb.Bytes, certPEM: certPEM, keyPEM: keyPEM, key: dh}, nil
}

// envRecorded returns the recorded envelope name, writing fresh (built by
// build) first under -update-env.
func envRecorded(t *testing.T, name string, build func() ([]byte, error)) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if envUpdating() {
		b, err := build()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Env -update-env once)", err)
	}
	return b
}

func envReadTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}
