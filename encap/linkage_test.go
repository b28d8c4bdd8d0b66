package encap

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/setpay/setpay/suite"
)

var (
	ctCertReqTBS  = asn1.ObjectIdentifier{2, 23, 42, 0, 46}
	ctCertReqTBEX = asn1.ObjectIdentifier{2, 23, 42, 0, 78}
	ctPANOnly     = asn1.ObjectIdentifier{2, 23, 42, 0, 2}
	ctPI          = asn1.ObjectIdentifier{2, 23, 42, 0, 4}
)

func TestL(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		head := derSeq("PIHead")
		l, err := L(st, head, ctOIData, w.oiData)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(l, w.oiData) {
			t.Error("L carries the linked value")
		}
		got, err := OpenL(st, l, ctOIData, w.oiData)
		if err != nil || !bytes.Equal(got, head) {
			t.Fatalf("OpenL = %x, %v", got, err)
		}
		if _, err := OpenL(st, l, ctOIData, w.oiData2); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("other linked value: %v", err)
		}
		if _, err := OpenL(st, l, ctPIData, w.oiData); !errors.Is(err, ErrWrongContentType) {
			t.Errorf("other content type: %v", err)
		}
		for _, bad := range [][]byte{head, append(bytes.Clone(l), 0), l[:len(l)-1]} {
			if _, err := OpenL(st, bad, ctOIData, w.oiData); !errors.Is(err, ErrMalformed) {
				t.Errorf("OpenL(%x): %v", bad, err)
			}
		}
	})
}

func TestEncX(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbs, acct := derSeq("CertReqData"), derSeq("AcctInfo")
		env, err := EncX(st, rand.Reader, w.alice, w.gateway.cert, ctCertReqTBS, ctCertReqTBEX, tbs, acct)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(env, tbs) || bytes.Contains(env, acct) {
			t.Fatal("plaintext visible")
		}
		gt, gp, cert, err := OpenEncX(st, w.gateway.key, w.gateway.cert, env, ctCertReqTBS, ctCertReqTBEX, w.verify)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gt, tbs) || !bytes.Equal(gp, acct) || !bytes.Equal(cert, w.alice.Cert) {
			t.Errorf("OpenEncX = %x %x", gt, gp)
		}
		if _, _, _, err := OpenEncX(st, w.other.key, w.other.cert, env, ctCertReqTBS, ctCertReqTBEX, w.verify); err == nil {
			t.Error("another party opened EncX")
		}
		if _, _, _, err := OpenEncX(st, w.gateway.key, w.gateway.cert, env, ctCertReqTBS, ctCertReqTBEX, w.rejectAll); !errors.Is(err, ErrCertificate) {
			t.Errorf("rejected signer: %v", err)
		}
		// p is covered by the signature: the same t and signature with
		// another p in the key block does not verify.
		inner, _, err := OpenEX(st, w.gateway.key, w.gateway.cert, env, ctCertReqTBEX)
		if err != nil {
			t.Fatal(err)
		}
		swapped, err := EX(st, rand.Reader, w.gateway.cert, ctCertReqTBEX, inner, derSeq("AcctInfo of Bob"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := OpenEncX(st, w.gateway.key, w.gateway.cert, swapped, ctCertReqTBS, ctCertReqTBEX, w.verify); !errors.Is(err, ErrSignature) {
			t.Errorf("swapped extra data: %v", err)
		}
		for i := range env {
			gt, gp, _, err := OpenEncX(st, w.gateway.key, w.gateway.cert, flipped(env, i), ctCertReqTBS, ctCertReqTBEX, w.verify)
			if err == nil && bytes.Equal(gt, tbs) && bytes.Equal(gp, acct) {
				t.Fatalf("flip at byte %d went unnoticed", i)
			}
		}
	})
}

func TestEncB(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbs, baggage := derSeq("AuthReqData"), derSeq("PI (opaque to the merchant)")
		env, err := EncB(st, rand.Reader, w.merchant, w.gateway.cert, ctAuthReqTBS, ctAuthReqTBE, ctPI, tbs, baggage)
		if err != nil {
			t.Fatal(err)
		}
		gt, signed, cert, err := OpenEncB(st, w.gateway.key, w.gateway.cert, env, baggage, ctAuthReqTBS, ctAuthReqTBE, ctPI, w.verify)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gt, tbs) || !bytes.Equal(cert, w.merchant.Cert) || signed == nil {
			t.Errorf("OpenEncB = %x", gt)
		}
		if _, _, _, err := OpenEncB(st, w.gateway.key, w.gateway.cert, env, derSeq("another PI"), ctAuthReqTBS, ctAuthReqTBE, ctPI, w.verify); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("swapped baggage: %v", err)
		}
		if _, _, _, err := OpenEncB(st, w.gateway.key, w.gateway.cert, env, baggage, ctAuthReqTBS, ctAuthReqTBE, ctPANOnly, w.verify); !errors.Is(err, ErrWrongContentType) {
			t.Errorf("baggage of another type: %v", err)
		}
	})
}
