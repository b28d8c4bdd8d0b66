package pki

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/setpay/setpay/internal/pkcs7"
)

// Every chain validation checks the same few CA signatures again — on the
// certificates of the hierarchy, on each CA's CRL and on the brand's CRL
// identifier — and with CRLs required that is most of a purchase's public-
// key work. Whether a signature verifies is a pure function of the
// signer's key, the algorithm, the signed bytes and the signature,
// so a verified result is remembered under a digest of all four (the
// signer named by its SubjectPublicKeyInfo). Only
// successes are kept: a failure is checked afresh each time. Everything
// else (names, validity, key usage, revocation) is still checked at each
// use; the memo saves signature arithmetic, not checks.

// sigMemoSize bounds the memo; when full it starts over, which costs only
// recomputation.
const sigMemoSize = 4096

var sigMemo = struct {
	sync.Mutex
	ok map[[sha256.Size]byte]struct{}
}{ok: make(map[[sha256.Size]byte]struct{})}

// verifySignature is pkcs7.VerifySignature by signer's key, remembering
// successes.
func verifySignature(signer *Certificate, alg pkcs7.AlgorithmIdentifier, signed, sig []byte) error {
	if len(signer.RawSubjectPublicKeyInfo) == 0 {
		// A certificate not decoded from DER: nothing names its key.
		return pkcs7.VerifySignature(signer.PublicKey, alg, signed, sig)
	}
	key := sigMemoKey(signer.RawSubjectPublicKeyInfo, alg, signed, sig)
	sigMemo.Lock()
	_, ok := sigMemo.ok[key]
	sigMemo.Unlock()
	if ok {
		return nil
	}
	if err := pkcs7.VerifySignature(signer.PublicKey, alg, signed, sig); err != nil {
		return err
	}
	sigMemo.Lock()
	if len(sigMemo.ok) >= sigMemoSize {
		clear(sigMemo.ok)
	}
	sigMemo.ok[key] = struct{}{}
	sigMemo.Unlock()
	return nil
}

// sigMemoKey digests its parts, each length-prefixed so that no two
// different inputs share an encoding.
func sigMemoKey(signer []byte, alg pkcs7.AlgorithmIdentifier, signed, sig []byte) [sha256.Size]byte {
	h := sha256.New()
	for _, p := range [][]byte{signer, []byte(alg.Algorithm.String()), alg.Parameters, signed, sig} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// ForgetVerifiedSignatures empties the memo, so that the next checks do
// all their arithmetic again: for measuring the bare cost of validation.
func ForgetVerifiedSignatures() {
	sigMemo.Lock()
	clear(sigMemo.ok)
	sigMemo.Unlock()
}
