package encap

import (
	"encoding/asn1"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/setpay/setpay/suite"
)

// The three content types the dual signature fixes (2.23.42.0.x, SET's
// content-type arc). The msg package exports the full set; these are
// repeated here so encap does not depend on msg.
var (
	ctOIData = asn1.ObjectIdentifier{2, 23, 42, 0, 3}  // setct-OIData
	ctPIData = asn1.ObjectIdentifier{2, 23, 42, 0, 5}  // setct-PIData
	ctPITBS  = asn1.ObjectIdentifier{2, 23, 42, 0, 13} // setct-PI-TBS
)

// DualSign makes the cardholder's dual signature over a purchase:
//
//	PI-TBS ::= SEQUENCE { hPIData DD{PIData}, hOIData DD{OIData} }
//	PISignature = SO{C, PI-TBS}
//
// piData and oiData are the DER of PIData and OIData. It also returns the
// two digests: hPIData goes to the merchant (with OIData), hOIData to the
// gateway (inside PI-OILink), so that each can check the one signature
// without seeing the other half.
func DualSign(st suite.Suite, rand io.Reader, s Signer, piData, oiData []byte) (piSignature, hPIData, hOIData []byte, err error) {
	if hPIData, err = DD(st, ctPIData, piData); err != nil {
		return nil, nil, nil, err
	}
	if hOIData, err = DD(st, ctOIData, oiData); err != nil {
		return nil, nil, nil, err
	}
	tbs, err := marshalPITBS(hPIData, hOIData)
	if err != nil {
		return nil, nil, nil, err
	}
	if piSignature, err = SO(st, rand, s, ctPITBS, tbs); err != nil {
		return nil, nil, nil, err
	}
	return piSignature, hPIData, hOIData, nil
}

// VerifyDualFromOI is the merchant's check: it holds OIData and received
// hPIData, never PIData. It recomputes DD{OIData}, rebuilds PI-TBS and
// verifies the cardholder's signature, returning the cardholder's
// certificate.
func VerifyDualFromOI(st suite.Suite, piSignature, oiData, hPIData []byte, verify CertVerifier) (signerCert []byte, err error) {
	if err := checkDDShape(st, hPIData, ctPIData); err != nil {
		return nil, err
	}
	hOIData, err := DD(st, ctOIData, oiData)
	if err != nil {
		return nil, err
	}
	return verifyDual(st, piSignature, hPIData, hOIData, verify)
}

// VerifyDualFromPI is the gateway's check: it holds PIData (decrypted from
// the PI envelope) and received hOIData in PI-OILink, never OIData.
func VerifyDualFromPI(st suite.Suite, piSignature, piData, hOIData []byte, verify CertVerifier) (signerCert []byte, err error) {
	if err := checkDDShape(st, hOIData, ctOIData); err != nil {
		return nil, err
	}
	hPIData, err := DD(st, ctPIData, piData)
	if err != nil {
		return nil, err
	}
	return verifyDual(st, piSignature, hPIData, hOIData, verify)
}

func verifyDual(st suite.Suite, piSignature, hPIData, hOIData []byte, verify CertVerifier) ([]byte, error) {
	tbs, err := marshalPITBS(hPIData, hOIData)
	if err != nil {
		return nil, err
	}
	return VerifySO(st, piSignature, ctPITBS, tbs, verify)
}

// marshalPITBS encodes PI-TBS from the two DD{} encodings, byte for byte.
func marshalPITBS(hPIData, hOIData []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(hPIData)
		b.AddBytes(hOIData)
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encap: PI-TBS: %w", err)
	}
	return tbs, nil
}
