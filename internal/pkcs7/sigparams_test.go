package pkcs7

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/testenv"
)

// sigParamsEdit changes the algorithm identifiers of a signed message:
// digest applies to the SignerInfo's digestAlgorithm and to every entry of
// digestAlgorithms (unless setOnly/signerOnly narrows it), signature to the
// SignerInfo's signatureAlgorithm. A nil function leaves the field alone.
type sigParamsEdit struct {
	digest     func(AlgorithmIdentifier) AlgorithmIdentifier
	digestIn   string // "", "set" (digestAlgorithms only) or "signer" (SignerInfo only)
	signature  func(AlgorithmIdentifier) AlgorithmIdentifier
	rawSigAlgo []byte // replaces the signatureAlgorithm element verbatim
}

// withParams returns an edit that keeps the algorithm and sets the
// parameters to p (nil: absent).
func withParams(p []byte) func(AlgorithmIdentifier) AlgorithmIdentifier {
	return func(a AlgorithmIdentifier) AlgorithmIdentifier {
		return AlgorithmIdentifier{Algorithm: a.Algorithm, Parameters: p}
	}
}

// withAlg returns an edit that names oid with parameters p.
func withAlg(oid asn1.ObjectIdentifier, p []byte) func(AlgorithmIdentifier) AlgorithmIdentifier {
	return func(AlgorithmIdentifier) AlgorithmIdentifier {
		return AlgorithmIdentifier{Algorithm: oid, Parameters: p}
	}
}

func sigParamsAlgDER(t *testing.T, raw []byte, f func(AlgorithmIdentifier) AlgorithmIdentifier) []byte {
	t.Helper()
	if f == nil {
		return raw
	}
	s := cryptobyte.String(raw)
	a, err := ReadAlgorithmIdentifier(&s)
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	f(a).Marshal(&b)
	return b.BytesOrPanic()
}

// sigParamsApply rewrites the one-signer SignedData b with edit. The
// parameters lie outside the signature, so only the parameter checks can
// tell the result from the original.
func sigParamsApply(t *testing.T, b []byte, edit sigParamsEdit) []byte {
	t.Helper()
	return signedTestRewrite(t, b, func(kids []der.Element) [][]byte {
		out := make([][]byte, len(kids))
		for i, k := range kids {
			out[i] = k.Raw
		}
		// digestAlgorithms: SET OF with our single entry.
		if edit.digest != nil && edit.digestIn != "signer" {
			algs, err := der.ParseSequence(kids[1].Contents)
			if err != nil || len(algs) != 1 {
				t.Fatalf("digestAlgorithms: %d, %v", len(algs), err)
			}
			out[1] = der.Encode(der.TagSet, sigParamsAlgDER(t, algs[0].Raw, edit.digest))
		}
		last := len(kids) - 1
		infos, err := der.ParseSequence(kids[last].Contents)
		if err != nil || len(infos) != 1 {
			t.Fatalf("signerInfos: %d, %v", len(infos), err)
		}
		f, err := infos[0].Children()
		if err != nil {
			t.Fatal(err)
		}
		parts := make([][]byte, len(f))
		for i, k := range f {
			parts[i] = k.Raw
		}
		// version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signature
		if edit.digestIn != "set" {
			parts[2] = sigParamsAlgDER(t, f[2].Raw, edit.digest)
		}
		parts[4] = sigParamsAlgDER(t, f[4].Raw, edit.signature)
		if edit.rawSigAlgo != nil {
			parts[4] = edit.rawSigAlgo
		}
		out[last] = der.Encode(der.TagSet, der.Encode(der.TagSequence, bytes.Join(parts, nil)))
		return out
	})
}

// TestSignatureParameters takes real SignedData of every algorithm Sign
// produces, changes only the parameters of its algorithm identifiers, and
// checks that exactly the encodings the RFCs allow verify (see
// signatureHash and HashForAlgorithm for which and why).
func TestSignatureParameters(t *testing.T) {
	var (
		absent    []byte
		null      = asn1.NullBytes
		octets    = []byte{0x04, 0x00}
		emptySeq  = []byte{0x30, 0x00}
		curveOID  = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
		zeroInt   = []byte{0x02, 0x01, 0x00}
		falseBool = []byte{0x01, 0x01, 0x00}
	)
	type verdict int
	const (
		ok        verdict = iota // parses and verifies
		badParams                // Verify fails with ErrAlgorithmParameters
		malformed                // ParseSignedData refuses it
	)
	type tc struct {
		name string
		edit sigParamsEdit
		want verdict
	}
	sigCases := func(allowed, refused map[string][]byte) []tc {
		var out []tc
		for n, p := range allowed {
			out = append(out, tc{"signature params " + n, sigParamsEdit{signature: withParams(p)}, ok})
		}
		for n, p := range refused {
			out = append(out, tc{"signature params " + n, sigParamsEdit{signature: withParams(p)}, badParams})
		}
		return out
	}
	digestCases := []tc{
		{"digest params absent", sigParamsEdit{digest: withParams(absent)}, ok},
		{"digest params NULL", sigParamsEdit{digest: withParams(null)}, ok},
		{"digest params NULL in digestAlgorithms only", sigParamsEdit{digest: withParams(null), digestIn: "set"}, ok},
		{"digest params NULL in SignerInfo only", sigParamsEdit{digest: withParams(null), digestIn: "signer"}, ok},
		{"digest params OCTET STRING", sigParamsEdit{digest: withParams(octets)}, badParams},
		{"digest params empty SEQUENCE", sigParamsEdit{digest: withParams(emptySeq)}, badParams},
		{"digest params INTEGER in digestAlgorithms only", sigParamsEdit{digest: withParams(zeroInt), digestIn: "set"}, badParams},
		{"digest params BOOLEAN in SignerInfo only", sigParamsEdit{digest: withParams(falseBool), digestIn: "signer"}, badParams},
		{"unchanged", sigParamsEdit{}, ok},
	}
	// Structural damage the decoder must refuse before any check runs.
	structural := func(oid asn1.ObjectIdentifier) []tc {
		two := der.Encode(der.TagSequence, append(append(der.Encode(der.TagOID, signedTestOIDBytes(oid)), 0x05, 0x00), 0x05, 0x00))
		nonDERNull := der.Encode(der.TagSequence, append(der.Encode(der.TagOID, signedTestOIDBytes(oid)), 0x05, 0x81, 0x00))
		nullContent := der.Encode(der.TagSequence, append(der.Encode(der.TagOID, signedTestOIDBytes(oid)), 0x05, 0x01, 0x00))
		return []tc{
			{"signature params NULL with content", sigParamsEdit{rawSigAlgo: nullContent}, malformed},
			{"signature params NULL twice", sigParamsEdit{rawSigAlgo: two}, malformed},
			{"signature params non-DER NULL length", sigParamsEdit{rawSigAlgo: nonDERNull}, malformed},
		}
	}

	suites := []struct {
		name  string
		party string
		hash  crypto.Hash
		mode  ContentMode
		cases []tc
	}{
		{"sha1WithRSAEncryption", "rsa1024", crypto.SHA1, ModePKCS7, append(append(sigCases(
			map[string][]byte{"NULL": null},
			map[string][]byte{"absent": absent, "OCTET STRING": octets, "empty SEQUENCE": emptySeq}),
			tc{"rsaEncryption NULL", sigParamsEdit{signature: withAlg(OIDRSAEncryption, null)}, ok},
			tc{"rsaEncryption absent", sigParamsEdit{signature: withAlg(OIDRSAEncryption, absent)}, badParams},
			tc{"rsaEncryption OCTET STRING", sigParamsEdit{signature: withAlg(OIDRSAEncryption, octets)}, badParams},
		), structural(OIDSHA1WithRSA)...)},
		{"sha256WithRSAEncryption", "rsa2048", crypto.SHA256, ModeCMS, append(append(sigCases(
			map[string][]byte{"NULL": null, "absent": absent},
			map[string][]byte{"OCTET STRING": octets, "empty SEQUENCE": emptySeq, "INTEGER": zeroInt}),
			tc{"rsaEncryption NULL", sigParamsEdit{signature: withAlg(OIDRSAEncryption, null)}, ok},
			tc{"rsaEncryption absent", sigParamsEdit{signature: withAlg(OIDRSAEncryption, absent)}, badParams},
		), structural(OIDSHA256WithRSA)...)},
		{"ecdsa-with-SHA256", "ecdsa", crypto.SHA256, ModeCMS, append(append(sigCases(
			map[string][]byte{"absent": absent},
			map[string][]byte{"NULL": null, "curve OID": curveOID, "empty SEQUENCE": emptySeq}),
			digestCases...), structural(OIDECDSAWithSHA256)...)},
		{"id-ml-dsa-65", "mldsa", crypto.SHA256, ModeCMS, append(sigCases(
			map[string][]byte{"absent": absent},
			map[string][]byte{"NULL": null, "OCTET STRING": octets}),
			structural(OIDMLDSA65)...)},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			p := signedTestPartyFor(t, s.party)
			b, err := Sign(rand.Reader, signedTestContentType, signedTestContent,
				[]Signer{{Key: p.key, Cert: p.cert, Hash: s.hash}},
				SignOptions{Mode: s.mode, SigningTime: signedTestTime})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range s.cases {
				t.Run(c.name, func(t *testing.T) {
					m := sigParamsApply(t, b, c.edit)
					sd, err := ParseSignedData(m)
					if c.want == malformed {
						if err == nil {
							t.Fatal("parsed")
						}
						return
					}
					if err != nil {
						t.Fatalf("parse: %v", err)
					}
					err = sd.Verify(nil, signedTestKeyFor(sd, p))
					switch c.want {
					case ok:
						if err != nil {
							t.Errorf("rejected: %v", err)
						}
					case badParams:
						if !errors.Is(err, ErrAlgorithmParameters) || !errors.Is(err, ErrSignature) {
							t.Errorf("got %v, want an ErrAlgorithmParameters signature failure", err)
						}
					}
				})
			}
		})
	}
}

// TestVerifySignatureParameters checks the rules on VerifySignature and
// SignMessage directly, the path certificates and CRLs take.
func TestVerifySignatureParameters(t *testing.T) {
	p := signedTestPartyFor(t, "ecdsa")
	message := []byte("tbsCertificate stand-in")
	good := AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}
	sig, err := SignMessage(rand.Reader, p.key, good, message)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(p.key.Public(), good, message, sig); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	bad := AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256, Parameters: asn1.NullBytes}
	if err := VerifySignature(p.key.Public(), bad, message, sig); !errors.Is(err, ErrAlgorithmParameters) {
		t.Errorf("VerifySignature with NULL parameters: %v", err)
	}
	if _, err := SignMessage(rand.Reader, p.key, bad, message); !errors.Is(err, ErrAlgorithmParameters) {
		t.Errorf("SignMessage with NULL parameters: %v", err)
	}
	// What SignatureAlgorithmFor produces passes the checks it is held to.
	for _, kind := range []string{"rsa1024", "ecdsa", "mldsa"} {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			q := signedTestPartyFor(t, kind)
			alg, err := SignatureAlgorithmFor(q.key.Public(), h)
			if err != nil {
				continue // not every key does every hash
			}
			if _, err := signatureHash(alg); err != nil {
				t.Errorf("%s/%v: our own identifier %v %x refused: %v", kind, h, alg.Algorithm, alg.Parameters, err)
			}
		}
	}
}

// TestSignedDataOpenSSLSignsRSA checks that what openssl's CMS signer
// writes for an RSA key (signatureAlgorithm rsaEncryption with NULL, the
// digest algorithm without parameters) passes the strict checks.
func TestSignedDataOpenSSLSignsRSA(t *testing.T) {
	testenv.OpenSSL(t)
	rs := signedTestPartyFor(t, "rsa2048")
	dir := t.TempDir()
	pk, err := x509.MarshalPKCS8PrivateKey(rs.key)
	if err != nil {
		t.Fatal(err)
	}
	signedTestWritePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", pk)
	signedTestWritePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", rs.cert)
	if err := os.WriteFile(filepath.Join(dir, "content.bin"), signedTestContent, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, md := range []string{"sha256", "sha1"} {
		t.Run(md, func(t *testing.T) {
			signedTestOpenSSL(t, dir, "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-md", md,
				"-econtent_type", signedTestContentType.String(), "-signer", "cert.pem", "-inkey", "key.pem",
				"-in", "content.bin", "-out", md+".der")
			b, err := os.ReadFile(filepath.Join(dir, md+".der"))
			if err != nil {
				t.Fatal(err)
			}
			sd, err := ParseSignedData(b)
			if err != nil {
				t.Fatal(err)
			}
			si := sd.SignerInfos[0]
			t.Logf("openssl wrote signatureAlgorithm %v %x, digestAlgorithm %v %x",
				si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters, si.DigestAlgorithm.Algorithm, si.DigestAlgorithm.Parameters)
			if err := sd.Verify(nil, signedTestCertKey(sd)); err != nil {
				t.Fatal(err)
			}
			// And the check is real: the same message with the NULL
			// removed from rsaEncryption is refused.
			if si.SignatureAlgorithm.Algorithm.Equal(OIDRSAEncryption) {
				m := sigParamsApply(t, b, sigParamsEdit{signature: withParams(nil)})
				sd, err := ParseSignedData(m)
				if err != nil {
					t.Fatal(err)
				}
				if err := sd.Verify(nil, signedTestCertKey(sd)); !errors.Is(err, ErrAlgorithmParameters) {
					t.Errorf("rsaEncryption without NULL: %v", err)
				}
			}
		})
	}
}
