package encap

import (
	"crypto/rand"
	"testing"

	"github.com/setpay/setpay/suite"
)

// The benchmarks run each operator under each suite with the suite's
// default key sizes (RSA-2048 for set1): the "crypto floor" a full purchase
// is measured against.
var benchSuites = []suite.Suite{suite.NewSet1(suite.Set1Options{}), suite.NewModern()}

func benchEach(b *testing.B, f func(b *testing.B, st suite.Suite, w *world)) {
	for _, st := range benchSuites {
		b.Run(string(st.ID()), func(b *testing.B) {
			w := worldFor(b, st)
			b.ReportAllocs()
			f(b, st, w)
		})
	}
}

func BenchmarkS(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		tbs := derSeq("PInitResData")
		for b.Loop() {
			if _, err := S(st, rand.Reader, w.merchant, ctPInitResData, tbs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyS(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		signed, err := S(st, rand.Reader, w.merchant, ctPInitResData, derSeq("PInitResData"))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, _, err := OpenS(st, signed, ctPInitResData, w.verify); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEX(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		t, p := derSeq("PI-OILink"), derSeq("PANData")
		for b.Loop() {
			if _, err := EX(st, rand.Reader, w.gateway.cert, ctPIDualSignedTBE, t, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOpenEX(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		env, err := EX(st, rand.Reader, w.gateway.cert, ctPIDualSignedTBE, derSeq("PI-OILink"), derSeq("PANData"))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, _, err := OpenEX(st, w.gateway.key, w.gateway.cert, env, ctPIDualSignedTBE); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEnc(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		tbs := derSeq("AuthReqData")
		for b.Loop() {
			if _, err := Enc(st, rand.Reader, w.merchant, w.gateway.cert, ctAuthReqTBS, ctAuthReqTBE, tbs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOpenEnc(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		env, err := Enc(st, rand.Reader, w.merchant, w.gateway.cert, ctAuthReqTBS, ctAuthReqTBE, derSeq("AuthReqData"))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, _, _, err := OpenEnc(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBS, ctAuthReqTBE, w.verify); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDualSign(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		for b.Loop() {
			if _, _, _, err := DualSign(st, rand.Reader, w.alice, w.piData, w.oiData); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyDual is one side's check (the merchant's; the gateway's
// costs the same).
func BenchmarkVerifyDual(b *testing.B) {
	benchEach(b, func(b *testing.B, st suite.Suite, w *world) {
		sig, hPI, _, err := DualSign(st, rand.Reader, w.alice, w.piData, w.oiData)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := VerifyDualFromOI(st, sig, w.oiData, hPI, w.verify); err != nil {
				b.Fatal(err)
			}
		}
	})
}
