package demo

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"os"
	"path/filepath"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
)

// export writes the run's certificates, messages and the PKCS#7 / CMS
// structures inside the messages under dir, for inspection with `setpay
// inspect` or openssl.
func export(dir string, rep *Report) error {
	certs, msgs, cms := filepath.Join(dir, "certs"), filepath.Join(dir, "messages"), filepath.Join(dir, "cms")
	for _, d := range []string{certs, msgs, cms} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for name, raw := range rep.Certificates {
		if err := writeFile(filepath.Join(certs, name+".der"), raw); err != nil {
			return err
		}
	}
	width := max(2, len(fmt.Sprint(len(rep.Messages))))
	for _, m := range rep.Messages {
		nn := fmt.Sprintf("%0*d", width, m.Seq)
		if err := writeFile(filepath.Join(msgs, fmt.Sprintf("%s-%s-%s-%s.der", nn, m.From, m.To, m.Type)), m.DER); err != nil {
			return err
		}
		for k, ci := range ContentInfos(m.DER) {
			if err := writeFile(filepath.Join(cms, fmt.Sprintf("%s-%s-%d.der", nn, m.Type, k+1)), ci); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFile(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// cmsTypes are the content types whose ContentInfo ContentInfos finds,
// each as its DER-encoded OBJECT IDENTIFIER.
var cmsTypes = func() [][]byte {
	var out [][]byte
	for _, oid := range []asn1.ObjectIdentifier{pkcs7.OIDSignedData, pkcs7.OIDEnvelopedData, pkcs7.OIDDigestedData, pkcs7.OIDEncryptedData, pkcs7.OIDAuthEnvelopedData} {
		b, _ := asn1.Marshal(oid) // cannot fail: well-formed constants
		out = append(out, b)
	}
	return out
}()

// maxDepth bounds the walk; SET messages nest a dozen levels at most.
const maxDepth = 64

// ContentInfos returns every PKCS#7 ContentInfo inside the DER element b:
// each SEQUENCE whose first element is the OID of SignedData,
// EnvelopedData, DigestedData, EncryptedData (set1's EncK, the CA's answer
// to a cardholder) or AuthEnvelopedData, in document order,
// an enclosing one before those inside it. The walk also enters OCTET
// STRINGs and implicitly tagged primitives that hold exactly one
// constructed DER element: SignedData carries its content in an OCTET
// STRING, and SET carries signed structures as [n] IMPLICIT OCTET STRING
// (so the gateway's signed result inside a PRes is found). Encrypted
// content stays opaque. Malformed input yields what was found.
func ContentInfos(b []byte) [][]byte {
	e, err := der.Parse(b)
	if err != nil {
		return nil
	}
	var out [][]byte
	visit(e, 0, &out)
	return out
}

func visit(e der.Element, depth int, out *[][]byte) {
	if depth > maxDepth {
		return
	}
	if !e.Tag.Constructed {
		if e.Tag == der.TagOctetString || e.Tag.Class != der.ClassUniversal {
			if inner, err := der.Parse(e.Contents); err == nil && inner.Tag.Constructed {
				visit(inner, depth+1, out)
			}
		}
		return
	}
	kids, err := e.Children()
	if err != nil {
		return
	}
	if e.Tag == der.TagSequence && len(kids) > 0 && isCMSType(kids[0].Raw) {
		*out = append(*out, e.Raw)
	}
	for _, k := range kids {
		visit(k, depth+1, out)
	}
}

func isCMSType(raw []byte) bool {
	for _, t := range cmsTypes {
		if bytes.Equal(raw, t) {
			return true
		}
	}
	return false
}
