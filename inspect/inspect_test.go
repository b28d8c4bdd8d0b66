package inspect

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/der"
)

func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "inspect test"},
		NotBefore:    time.Unix(1e9, 0),
		NotAfter:     time.Unix(2e9, 0),
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestInspectCertificate(t *testing.T) {
	n, err := Inspect(selfSigned(t), "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := n.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Certificate (SEQUENCE)", "tbsCertificate TBSCertificate", "subjectPublicKeyInfo SubjectPublicKeyInfo",
		"1.2.840.10045.4.3.2 (ecdsa-with-SHA256)", `"inspect test"`, "2001-09-09T01:46:40Z"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// A hand-built MessageWrapper holding an Error under the [999] tag: the
// tree must name the wrapper, the header fields and the message type.
func TestInspectMessageWrapper(t *testing.T) {
	header := der.Encode(der.TagSequence, concat(
		der.Encode(der.TagInteger, []byte{1}),
		der.Encode(der.TagGeneralizedTime, []byte("20261125120000Z")),
		der.Encode(der.TagVisibleString, []byte("setpay/test")),
	))
	errTBS := der.Encode(der.TagSequence, concat(
		der.Encode(der.TagEnumerated, []byte{3}),
		der.Encode(der.TagOctetString, make([]byte, 20)),
		der.Encode(der.Explicit(2), der.Encode(der.Implicit(1), []byte("bad"))),
	))
	msg := der.Encode(der.Explicit(999), der.Encode(der.Explicit(1), errTBS))
	wrapper := der.Encode(der.TagSequence, concat(header, der.Encode(der.Explicit(0), msg)))

	n, err := Inspect(wrapper, "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n.WriteText(&out)
	for _, want := range []string{"MessageWrapper (SEQUENCE)", "messageHeader MessageHeader", "version INTEGER", "swIdent SWIdent",
		"Message ([999])", "Error ([1])", "ErrorTBS (SEQUENCE)", "errorCode ErrorCode"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	js, err := json.Marshal(n)
	if err != nil || !bytes.Contains(js, []byte(`"type":"MessageWrapper"`)) {
		t.Errorf("json = %s, %v", js, err)
	}
}

func TestInspectRejectsMalformed(t *testing.T) {
	cert := selfSigned(t)
	for i := range len(cert) {
		if _, err := Inspect(cert[:i], ""); err == nil {
			t.Fatalf("truncation at %d accepted", i)
		}
	}
	if _, err := Inspect(append(cert, 0), ""); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func TestInspectDeepNesting(t *testing.T) {
	b := der.Encode(der.TagNull, nil)
	for range 500 {
		b = der.Encode(der.TagSequence, b)
	}
	n, err := Inspect(b, "")
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for len(n.Children) > 0 {
		n = n.Children[0]
		depth++
	}
	if depth > maxDepth+1 {
		t.Fatalf("expanded %d levels", depth)
	}
}

func FuzzInspect(f *testing.F) {
	f.Add(der.Encode(der.TagSequence, der.Encode(der.TagOID, []byte{0x67, 0x2a, 0x00, 0x0c})))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Inspect(b, "")
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := n.WriteText(&out); err != nil {
			t.Fatal(err)
		}
	})
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
