package encap

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/setpay/setpay/suite"
)

func TestEncK(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		k, err := NewBackKey(st, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tbs := derSeq("CertResData nonceCCA")
		env, err := EncK(st, rand.Reader, w.merchant, k, ctAuthReqTBS, ctAuthReqTBE, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(env, tbs) {
			t.Error("t in the clear in EncK")
		}
		got, signed, cert, err := OpenEncK(st, k, env, ctAuthReqTBS, ctAuthReqTBE, w.verify)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tbs) || !bytes.Equal(cert, w.merchant.Cert) {
			t.Errorf("OpenEncK = %x", got)
		}
		if again, _, err := OpenS(st, signed, ctAuthReqTBS, w.verify); err != nil || !bytes.Equal(again, tbs) {
			t.Errorf("inner SignedData: %v", err)
		}
		other, _ := NewBackKey(st, rand.Reader)
		if _, _, _, err := OpenEncK(st, other, env, ctAuthReqTBS, ctAuthReqTBE, w.verify); err == nil {
			t.Error("wrong back key opened EncK")
		}
		if _, _, _, err := OpenEncK(st, k, env, ctAuthReqTBS, ctAuthReqTBE, w.rejectAll); !errors.Is(err, ErrCertificate) {
			t.Errorf("rejected signer: %v", err)
		}
		if _, _, _, err := OpenEncK(st, k, env, ctAuthReqTBS, ctAuthReqTBS, w.verify); !errors.Is(err, ErrWrongContentType) {
			t.Errorf("outer content type: %v", err)
		}
		// EK of an unsigned t is not EncK.
		plain, err := EK(st, rand.Reader, k, ctAuthReqTBE, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := OpenEK(st, k, plain, ctAuthReqTBE); err != nil || !bytes.Equal(got, tbs) {
			t.Errorf("OpenEK = %x, %v", got, err)
		}
		if _, _, _, err := OpenEncK(st, k, plain, ctAuthReqTBS, ctAuthReqTBE, w.verify); err == nil {
			t.Error("unsigned EK accepted as EncK")
		}
		// Every bit flip is refused (set1 by the inner signature, modern
		// already by GCM).
		for i := range env {
			if _, _, _, err := OpenEncK(st, k, flipped(env, i), ctAuthReqTBS, ctAuthReqTBE, w.verify); err == nil {
				t.Fatalf("flip at %d accepted", i)
			}
		}
	})
}

func TestEKSuiteMismatch(t *testing.T) {
	set1, modern := testSuites[0], testSuites[1]
	k1, _ := NewBackKey(set1, rand.Reader)
	km, _ := NewBackKey(modern, rand.Reader)
	if len(k1.Key) != 8 || len(km.Key) != 32 {
		t.Fatalf("back keys of %d and %d bytes", len(k1.Key), len(km.Key))
	}
	if _, err := EK(set1, rand.Reader, km, ctAuthReqTBE, derSeq("x")); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("modern key under set1: %v", err)
	}
	env, err := EK(modern, rand.Reader, km, ctAuthReqTBE, derSeq("x"))
	if err != nil {
		t.Fatal(err)
	}
	k1.Key = km.Key[:8]
	if _, err := OpenEK(set1, k1, env, ctAuthReqTBE); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("modern EK opened under set1: %v", err)
	}
}
