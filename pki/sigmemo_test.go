package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/setpay/setpay/internal/pkcs7"
)

// The memo must never turn a bad signature into a good one: not for a
// changed byte, another key, or another algorithm, before or after the
// genuine signature was remembered.
func TestSignatureMemoRemembersOnlyWhatVerified(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c1 := &Certificate{PublicKey: &k1.PublicKey, RawSubjectPublicKeyInfo: []byte("spki-1")}
	c2 := &Certificate{PublicKey: &k2.PublicKey, RawSubjectPublicKeyInfo: []byte("spki-2")}
	alg := pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDECDSAWithSHA256}
	msg := []byte("tbs bytes of a CRL")
	sig, err := pkcs7.SignMessage(rand.Reader, k1, alg, msg)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(msg)
	bad[0] ^= 1
	wrongs := []struct {
		name     string
		signer   *Certificate
		alg      pkcs7.AlgorithmIdentifier
		msg, sig []byte
	}{
		{"changed content", c1, alg, bad, sig},
		{"another key", c2, alg, msg, sig},
		{"another algorithm", c1, pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256WithRSA}, msg, sig},
		{"truncated signature", c1, alg, msg, sig[:len(sig)-1]},
	}
	for round := range 2 {
		for _, w := range wrongs {
			if err := verifySignature(w.signer, w.alg, w.msg, w.sig); err == nil {
				t.Errorf("round %d, %s: verified", round, w.name)
			}
		}
		if err := verifySignature(c1, alg, msg, sig); err != nil {
			t.Fatalf("round %d: genuine signature: %v", round, err)
		}
	}
	// A key the memo cannot name is checked every time.
	bare := &Certificate{PublicKey: &k2.PublicKey}
	if err := verifySignature(bare, alg, msg, sig); err == nil {
		t.Errorf("unnamed key verified another key's signature")
	}
}
