package encap

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// FuzzOpenS: OpenS never panics, and whatever it accepts was signed by the
// merchant over a SEQUENCE.
func FuzzOpenS(f *testing.F) {
	for i, st := range testSuites {
		w := worldFor(f, st)
		signed, err := S(st, rand.Reader, w.merchant, ctPInitResData, derSeq("PInitResData"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), signed)
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		st := testSuites[int(which)%len(testSuites)]
		w := worldFor(t, st)
		_, cert, err := OpenS(st, b, ctPInitResData, w.verify)
		if err == nil && !bytes.Equal(cert, w.merchant.Cert) {
			t.Fatal("accepted a signature by someone else")
		}
	})
}

// FuzzVerifyDual: both sides' checks never panic on arbitrary signatures
// and digests.
func FuzzVerifyDual(f *testing.F) {
	for i, st := range testSuites {
		w := worldFor(f, st)
		sig, hPI, hOI, err := DualSign(st, rand.Reader, w.alice, w.piData, w.oiData)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), sig, hPI, hOI)
	}
	f.Fuzz(func(t *testing.T, which uint8, sig, hPI, hOI []byte) {
		st := testSuites[int(which)%len(testSuites)]
		w := worldFor(t, st)
		_, _ = VerifyDualFromOI(st, sig, w.oiData, hPI, w.verify)
		_, _ = VerifyDualFromPI(st, sig, w.piData, hOI, w.verify)
	})
}

// FuzzOpenEnc: opening arbitrary envelopes never panics.
func FuzzOpenEnc(f *testing.F) {
	for i, st := range testSuites {
		w := worldFor(f, st)
		env, err := Enc(st, rand.Reader, w.merchant, w.gateway.cert, ctAuthReqTBS, ctAuthReqTBE, derSeq("AuthReqData"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), env)
	}
	f.Fuzz(func(t *testing.T, which uint8, env []byte) {
		st := testSuites[int(which)%len(testSuites)]
		w := worldFor(t, st)
		_, _, _, _ = OpenEnc(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBS, ctAuthReqTBE, w.verify)
	})
}
