package suite

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// FuzzIdentify: Identify never panics, and whatever it names is one of the
// suites.
func FuzzIdentify(f *testing.F) {
	for _, st := range suites() {
		fx := fixtureFor(f, st)
		for _, tc := range sealCases {
			env, err := st.Seal(rand.Reader, fx.alice.cert, ctTest, testContent, tc.extra, tc.withHash)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(env)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := Identify(b)
		if err == nil && id != Set1 && id != Modern && id != PQ {
			t.Fatalf("Identify = %q", id)
		}
	})
}

// FuzzOpen: opening arbitrary bytes never panics.
func FuzzOpen(f *testing.F) {
	st := NewModern()
	fx := fixtureFor(f, st)
	for _, tc := range sealCases {
		env, err := st.Seal(rand.Reader, fx.alice.cert, ctTest, testContent, tc.extra, tc.withHash)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(env)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _ = st.Open(fx.alice.key, fx.alice.cert, b)
	})
}

// FuzzSealedContent: parse then marshal gives back the input.
func FuzzSealedContent(f *testing.F) {
	f.Add([]byte{0x30, 0x05, 0x06, 0x01, 0x2a, 0x05, 0x00})
	f.Add([]byte{0x30, 0x08, 0x06, 0x01, 0x2a, 0x05, 0x00, 0x04, 0x01, 0x07})
	f.Fuzz(func(t *testing.T, b []byte) {
		ct, c, e, err := parseSealedContent(b)
		if err != nil {
			return
		}
		again, err := marshalSealedContent(ct, c, e)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%x re-encodes as %x (%v)", b, again, err)
		}
	})
}

// FuzzCertificatePublicKey: never panics on any input.
func FuzzCertificatePublicKey(f *testing.F) {
	f.Add(fixtureFor(f, NewModern()).alice.cert)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = certificatePublicKey(b)
	})
}
