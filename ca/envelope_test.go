package ca_test

import (
	"crypto/rand"
	"testing"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// TestUnopenedEnvelopeCode: a request whose envelope the CA cannot open —
// sealed to another CA's key, or altered on the way — is answered
// signatureFailure in both suites, as the gateway answers
// (docs/spec-gaps.md, "An envelope that does not open"); content that
// opens but does not decode is still decodingFailure. Nothing is issued.
func TestUnopenedEnvelopeCode(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := newFixture(t, st)
			other := otherExchangeCert(t, st, f.lab.Hierarchy.Brand, f)

			t.Run("RegFormReq sealed to another CA", func(t *testing.T) {
				env, err := encap.EXH(st, rand.Reader, other, msg.OIDRegFormReqTBE, []byte{0x30, 0}, []byte{0x30, 0})
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.call(t, &msg.RegFormReq{Envelope: env})
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("RegFormReq altered", func(t *testing.T) {
				req := f.regFormReq(t)
				req.Envelope = flipLast(req.Envelope)
				_, err := f.call(t, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("RegFormReq opens to what is not RegFormReqData", func(t *testing.T) {
				notData := []byte{0x04, 0x02, 'h', 'i'} // an OCTET STRING
				env, err := encap.EXH(st, rand.Reader, f.exCert, msg.OIDRegFormReqTBE, notData, []byte{0x30, 0})
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.call(t, &msg.RegFormReq{Envelope: env})
				wantCode(t, err, msg.DecodingFailure)
			})
			t.Run("CertReq sealed to another CA", func(t *testing.T) {
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				k := f.newKey(t)
				data := &msg.CertReqData{LIDEE: []byte("lid-ee"), ChallCA: f.challCA(t, res), RequestType: msg.CardInitialSig, RequestDate: f.now}
				spki, err := pki.MarshalPublicKey(k.Public())
				if err != nil {
					t.Fatal(err)
				}
				data.PublicKeySorE.PublicKeyS = spki
				acct := &msg.AcctInfo{PANData0: &msg.PANData0{PAN: visaPAN, CardExpiry: f.now.AddDate(2, 0, 0).Format("200601")}}
				req, err := wallet.SealCertReq(st, rand.Reader, k, other, data, acct, f.now)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.call(t, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("CertReq altered", func(t *testing.T) {
				// Under modern the last byte is the GCM tag's; under set1
				// the DES-CBC block it garbles fails the padding, the DER
				// or the signature: one code whichever.
				_, res := f.toRegFormRes(t, f.regConfig(visaPAN))
				k := f.newKey(t)
				req := f.certReq(t, f.challCA(t, res), visaPAN, k, k, nil)
				req.EncX = flipLast(req.EncX)
				_, err := f.call(t, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			if n := f.issued.Load(); n != 0 {
				t.Errorf("%d certificates issued", n)
			}
		})
	}
}

// TestUnopenedEnvelopeCodeMerchant is TestUnopenedEnvelopeCode at the
// merchant CA, whose CertReq is an Enc envelope.
func TestUnopenedEnvelopeCodeMerchant(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := newMRFixture(t, st)
			exKey, err := st.NewExchangeKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			other, err := ca.IssueCAExchangeCert(rand.Reader, f.lab.Hierarchy.Brand, exKey.Public(), "Other Merchant CA", pki.CertTypeMCA, f.now)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("sealed to another CA", func(t *testing.T) {
				_, data := f.merchantData(t, f.merchantConfig())
				k, err := st.NewSigningKey(rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				req, err := merchant.SealCertReq(st, rand.Reader, k, other, data, f.now)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.call(t, f.mca, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			t.Run("altered", func(t *testing.T) {
				reg, data := f.merchantData(t, f.merchantConfig())
				req, err := reg.Seal(data)
				if err != nil {
					t.Fatal(err)
				}
				req.Enc = flipLast(req.Enc)
				_, err = f.call(t, f.mca, req)
				wantCode(t, err, msg.SignatureFailure)
			})
			if n := f.issued.Load(); n != 0 {
				t.Errorf("%d certificates issued", n)
			}
		})
	}
}

// otherExchangeCert is a cardholder CA key-exchange certificate of the
// same brand whose key the fixture's CA does not hold.
func otherExchangeCert(t testing.TB, st suite.Suite, brand *pki.Authority, f *fixture) []byte {
	t.Helper()
	k, err := st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueExchangeCert(rand.Reader, brand, k.Public(), "Other Cardholder CA", f.now)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// regFormReq runs a registration up to the RegFormReq the wallet sends.
func (f *fixture) regFormReq(t testing.TB) *msg.RegFormReq {
	t.Helper()
	reg, init, err := wallet.NewRegistration(f.regConfig(visaPAN))
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.call(t, init)
	if err != nil {
		t.Fatalf("CardCInitReq: %v", err)
	}
	req, err := reg.HandleCardCInitRes(m.(*msg.CardCInitRes))
	if err != nil {
		t.Fatalf("CardCInitRes: %v", err)
	}
	return req
}

func flipLast(b []byte) []byte {
	b = append([]byte(nil), b...)
	b[len(b)-1] ^= 0x01
	return b
}
