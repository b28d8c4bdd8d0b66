package wire

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

var quiet = slog.New(slog.DiscardHandler)

func testSigner(t *testing.T) *encap.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wire test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &encap.Signer{Key: key, Cert: cert}
}

// request wraps a PInitReq as a wallet would send it.
func request(t *testing.T, ep *Endpoint) ([]byte, *msg.MessageHeader) {
	t.Helper()
	var rrpid msg.RRPID
	rrpid[0] = 7
	req := &msg.PInitReq{RRPID: rrpid, Language: "en", LocalIDC: []byte("c"), LocalIDM: []byte("m"), BrandID: "SETpay", BIN: "411111"}
	hdr := ep.Header(&msg.MessageIDs{LIDC: []byte("c"), LIDM: []byte("m")}, &rrpid)
	b, err := msg.Wrap(hdr, req)
	if err != nil {
		t.Fatal(err)
	}
	return b, hdr
}

// errorOf decodes a response that must be an Error and returns its TBS.
func errorOf(t *testing.T, resp []byte) *msg.ErrorTBS {
	t.Helper()
	w, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		t.Fatalf("response does not decode: %v", err)
	}
	em, ok := w.Message.(*msg.Error)
	if !ok {
		t.Fatalf("response is %s, want Error", w.Message.Name())
	}
	tbs, err := ErrorTBS(em)
	if err != nil {
		t.Fatal(err)
	}
	return tbs
}

func TestServeRejections(t *testing.T) {
	ctx := context.Background()
	for _, signed := range []bool{false, true} {
		ep := &Endpoint{Log: quiet, Suite: suite.NewModern(), SWIdent: "wire-test"}
		if signed {
			ep.Signer = testSigner(t)
		}
		good, hdr := request(t, ep)
		tests := []struct {
			name    string
			req     []byte
			handler Handler
			code    msg.ErrorCode
			header  bool // the Error quotes the request's header
		}{
			{"garbage", []byte("not DER at all"), nil, msg.DecodingFailure, false},
			{"truncated", good[:len(good)-1], nil, msg.DecodingFailure, false},
			{"coded rejection", good, func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
				return nil, msg.Errorf(msg.UnknownXID, "no such transaction")
			}, msg.UnknownXID, true},
			{"internal failure", good, func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
				return nil, errors.New("disk on fire")
			}, msg.UnspecifiedFailure, true},
			{"message outside the CHOICE", outsideChoice(t, hdr), nil, msg.DecodingFailure, false},
		}
		for _, tt := range tests {
			h := tt.handler
			if h == nil {
				h = func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
					t.Fatalf("%s: handler called", tt.name)
					return nil, nil
				}
			}
			resp, err := ep.Serve(ctx, tt.req, h)
			if err != nil {
				t.Fatalf("%s: Serve: %v", tt.name, err)
			}
			w, _ := msg.UnmarshalMessageWrapper(resp)
			if em := w.Message.(*msg.Error); (em.SignedError != nil) != signed {
				t.Errorf("%s: signed error = %v, want %v", tt.name, em.SignedError != nil, signed)
			}
			tbs := errorOf(t, resp)
			if tbs.ErrorCode != tt.code {
				t.Errorf("%s: code %v, want %v", tt.name, tbs.ErrorCode, tt.code)
			}
			if tt.header {
				if tbs.ErrorMsg.MessageHeader == nil || *tbs.ErrorMsg.MessageHeader.RRPID != *hdr.RRPID {
					t.Errorf("%s: Error does not quote the request header", tt.name)
				}
			} else if !bytes.HasPrefix(tt.req, tbs.ErrorMsg.BadWrapper) || len(tbs.ErrorMsg.BadWrapper) == 0 {
				t.Errorf("%s: BadWrapper %q does not quote the request", tt.name, tbs.ErrorMsg.BadWrapper)
			}
		}
	}
}

// outsideChoice wraps a tag the Message CHOICE does not have ([40]).
func outsideChoice(t *testing.T, hdr *msg.MessageHeader) []byte {
	t.Helper()
	h, err := hdr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	inner := der.Encode(der.Explicit(40), der.Encode(der.TagSequence, der.Encode(der.TagNull, nil)))
	return der.Encode(der.TagSequence, append(h, der.Encode(der.Explicit(0), inner)...))
}

func TestServeQuotesAtMost20000Bytes(t *testing.T) {
	ep := &Endpoint{Log: quiet, Suite: suite.NewModern()}
	big := bytes.Repeat([]byte{0xff}, 50000)
	resp, err := ep.Serve(context.Background(), big, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(errorOf(t, resp).ErrorMsg.BadWrapper); got != 20000 {
		t.Fatalf("BadWrapper holds %d bytes, want 20000", got)
	}
}

func TestServeAnswersAndEchoes(t *testing.T) {
	ep := &Endpoint{Log: quiet, Suite: suite.NewModern(), SWIdent: "wire-test"}
	req, hdr := request(t, ep)
	resp, err := ep.Serve(context.Background(), req, func(_ context.Context, w *msg.MessageWrapper) (msg.Message, error) {
		if _, ok := w.Message.(*msg.PInitReq); !ok {
			t.Fatalf("handler got %s", w.Message.Name())
		}
		return &msg.Error{UnsignedError: &msg.ErrorTBS{ErrorCode: msg.UnspecifiedFailure, ErrorMsg: msg.ErrorMsg{BadWrapper: []byte{1}}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		t.Fatal(err)
	}
	if *w.Header.RRPID != *hdr.RRPID || !bytes.Equal(w.Header.MessageIDs.LIDC, hdr.MessageIDs.LIDC) || w.Header.SWIdent != "wire-test" {
		t.Fatalf("response header %+v does not echo the request's", w.Header)
	}
}

func TestServeNeverAnswersAnError(t *testing.T) {
	ep := &Endpoint{Log: quiet, Suite: suite.NewModern()}
	_, hdr := request(t, ep)
	errMsg, err := msg.Wrap(hdr, &msg.Error{UnsignedError: &msg.ErrorTBS{ErrorCode: msg.DecodingFailure, ErrorMsg: msg.ErrorMsg{MessageHeader: hdr}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ep.Serve(context.Background(), errMsg, nil); err == nil {
		t.Fatalf("an Error was answered with %x", resp)
	}
}

func TestCall(t *testing.T) {
	ctx := context.Background()
	client := &Endpoint{Log: quiet, Suite: suite.NewModern(), SWIdent: "client"}
	server := &Endpoint{Log: quiet, Suite: suite.NewModern(), SWIdent: "server", Signer: testSigner(t)}
	var rrpid msg.RRPID
	rrpid[3] = 9
	req := &msg.PInitReq{RRPID: rrpid, Language: "en", LocalIDC: []byte("c"), BrandID: "SETpay", BIN: "411111"}

	// A rejection arrives as a ProtocolError carrying the peer's code.
	rejecting := ServeFunc(func(ctx context.Context, b []byte) ([]byte, error) {
		return server.Serve(ctx, b, func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
			return nil, msg.Errorf(msg.ChallengeMismatch, "no")
		})
	})
	_, err := client.Call(ctx, rejecting, "merchant", nil, &rrpid, req)
	var remote *msg.RemoteError
	if msg.CodeOf(err) != msg.ChallengeMismatch || !errors.As(err, &remote) || remote.From != "merchant" {
		t.Fatalf("Call error = %v", err)
	}

	// An answer for another request is refused.
	var other msg.RRPID
	other[3] = 10
	misrouted := ServeFunc(func(ctx context.Context, b []byte) ([]byte, error) {
		return msg.Wrap(server.Header(nil, &other), req)
	})
	if _, err := client.Call(ctx, misrouted, "merchant", nil, &rrpid, req); msg.CodeOf(err) != msg.UnknownRRPID {
		t.Fatalf("misrouted answer: %v", err)
	}

	// Undecodable answers are decodingFailure; transport errors pass through.
	garbled := ServeFunc(func(context.Context, []byte) ([]byte, error) { return []byte{0x30, 0x01}, nil })
	if _, err := client.Call(ctx, garbled, "merchant", nil, &rrpid, req); msg.CodeOf(err) != msg.DecodingFailure {
		t.Fatalf("garbled answer: %v", err)
	}
	down := errors.New("connection refused")
	failing := ServeFunc(func(context.Context, []byte) ([]byte, error) { return nil, down })
	if _, err := client.Call(ctx, failing, "merchant", nil, &rrpid, req); !errors.Is(err, down) {
		t.Fatalf("transport failure: %v", err)
	}
}

// testSignerFor makes a self-signed signer whose key fits st: RSA for
// set1, ECDSA P-256 for modern.
func testSignerFor(t *testing.T, st suite.Suite) *encap.Signer {
	t.Helper()
	if st.ID() != suite.Set1 {
		return testSigner(t)
	}
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "wire test set1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: x509.SHA1WithRSA}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		// crypto/x509 may refuse SHA-1; the certificate's own signature
		// does not matter here, only the key it carries.
		tmpl.SignatureAlgorithm = x509.SHA256WithRSA
		if cert, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key); err != nil {
			t.Fatal(err)
		}
	}
	return &encap.Signer{Key: key, Cert: cert}
}

// trusting is a CertVerifier that accepts exactly the certificate trusted,
// standing in for pki.CertVerifier over the caller's roots.
func trusting(trusted []byte) encap.CertVerifier {
	return func(cert []byte, _ [][]byte) (crypto.PublicKey, error) {
		if !bytes.Equal(cert, trusted) {
			return nil, msg.Errorf(msg.MissingCertificate, "signer not issued under our roots")
		}
		c, err := x509.ParseCertificate(cert)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
}

// TestCallReportsErrorSignature checks what Call says about the origin of
// an Error: verified only when the signature holds under a certificate the
// caller's verifier accepts, bad when anything was changed, unsigned or
// unchecked otherwise; and never a verified report for a changed Error.
func TestCallReportsErrorSignature(t *testing.T) {
	ctx := context.Background()
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{RSABits: 1024})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			signer := testSignerFor(t, st)
			stranger := testSignerFor(t, st)
			var rrpid msg.RRPID
			rrpid[5] = 1
			req := &msg.PInitReq{RRPID: rrpid, Language: "en", LocalIDC: []byte("c"), BrandID: "SETpay", BIN: "411111"}

			// serve answers every request with a ChallengeMismatch Error,
			// signed by s (nil: unsigned), then lets tamper change the bytes.
			serve := func(s *encap.Signer, tamper func(t *testing.T, resp []byte) []byte) RoundTripper {
				server := &Endpoint{Log: quiet, Suite: st, Signer: s}
				return ServeFunc(func(ctx context.Context, b []byte) ([]byte, error) {
					resp, err := server.Serve(ctx, b, func(context.Context, *msg.MessageWrapper) (msg.Message, error) {
						return nil, msg.Errorf(msg.ChallengeMismatch, "no")
					})
					if err != nil || tamper == nil {
						return resp, err
					}
					return tamper(t, bytes.Clone(resp)), nil
				})
			}
			flipSignature := func(t *testing.T, resp []byte) []byte {
				sd := signedErrorOf(t, resp)
				sig := sd.SignerInfos[0].Signature
				i := bytes.Index(resp, sig)
				resp[i+len(sig)/2] ^= 0x01
				return resp
			}
			changeCode := func(t *testing.T, resp []byte) []byte {
				sd := signedErrorOf(t, resp)
				i := bytes.Index(resp, sd.Content)
				// ErrorTBS starts 30 LL 0a 01 <code>: claim another code.
				code := i + 4
				if sd.Content[1] >= 0x80 {
					code += int(sd.Content[1] & 0x7f)
				}
				if resp[code-2] != 0x0a || resp[code] != byte(msg.ChallengeMismatch) {
					t.Fatalf("ErrorTBS layout: % x", sd.Content[:8])
				}
				resp[code] = byte(msg.UnknownXID)
				return resp
			}

			tests := []struct {
				name     string
				signer   *encap.Signer
				tamper   func(*testing.T, []byte) []byte
				verifier encap.CertVerifier
				origin   ErrorOrigin
				code     msg.ErrorCode
			}{
				{"unsigned", nil, nil, trusting(signer.Cert), ErrorUnsigned, msg.ChallengeMismatch},
				{"unsigned, no verifier", nil, nil, nil, ErrorUnsigned, msg.ChallengeMismatch},
				{"signed and valid", signer, nil, trusting(signer.Cert), ErrorVerified, msg.ChallengeMismatch},
				{"signed, no verifier", signer, nil, nil, ErrorUnchecked, msg.ChallengeMismatch},
				{"signed by a stranger", stranger, nil, trusting(signer.Cert), ErrorBadSignature, msg.ChallengeMismatch},
				{"signature changed", signer, flipSignature, trusting(signer.Cert), ErrorBadSignature, msg.ChallengeMismatch},
				{"signature changed, no verifier", signer, flipSignature, nil, ErrorBadSignature, msg.ChallengeMismatch},
				{"code changed", signer, changeCode, trusting(signer.Cert), ErrorBadSignature, msg.UnknownXID},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					client := &Endpoint{Log: quiet, Suite: st, ErrorVerifier: tt.verifier}
					_, err := client.Call(ctx, serve(tt.signer, tt.tamper), "gateway", nil, &rrpid, req)
					pe, ok := errors.AsType[*PeerError](err)
					if !ok {
						t.Fatalf("Call error %v is not a PeerError", err)
					}
					if pe.Origin != tt.origin {
						t.Errorf("origin %v, want %v (%v)", pe.Origin, tt.origin, pe.SignatureErr)
					}
					if got := msg.CodeOf(err); got != tt.code {
						t.Errorf("code %v, want %v", got, tt.code)
					}
					if remote, ok := errors.AsType[*msg.RemoteError](err); !ok || remote.From != "gateway" {
						t.Errorf("RemoteError not found in %v", err)
					}
					switch pe.Origin {
					case ErrorVerified, ErrorUnchecked:
						if !bytes.Equal(pe.SignerCert, tt.signer.Cert) || pe.SignatureErr != nil {
							t.Errorf("signer %x, err %v", pe.SignerCert, pe.SignatureErr)
						}
					case ErrorBadSignature:
						if pe.SignatureErr == nil || pe.SignerCert != nil {
							t.Errorf("bad signature reported without a cause, or with a signer")
						}
					case ErrorUnsigned:
						if pe.SignerCert != nil || pe.SignatureErr != nil {
							t.Errorf("unsigned Error reported with signature details")
						}
					}
					if !strings.Contains(err.Error(), pe.Origin.String()) {
						t.Errorf("message %q does not say %q", err, pe.Origin)
					}
				})
			}
		})
	}
}

// signedErrorOf decodes a response that must be a signed Error and returns
// its SignedData.
func signedErrorOf(t *testing.T, resp []byte) *pkcs7.SignedData {
	t.Helper()
	w, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		t.Fatal(err)
	}
	em, ok := w.Message.(*msg.Error)
	if !ok || em.SignedError == nil {
		t.Fatalf("response is not a signed Error")
	}
	sd, err := pkcs7.ParseSignedData(em.SignedError)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}
