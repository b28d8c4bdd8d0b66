// Package wire is where a party core meets SET's outer envelope: it turns a
// request's bytes into a decoded MessageWrapper, the core's answer into a
// response MessageWrapper, and every rejection into a SET Error message
// with the right ErrorCode. It does no I/O; transport moves the bytes.
package wire

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// Handler answers one decoded request with a response message.
type Handler func(ctx context.Context, req *msg.MessageWrapper) (msg.Message, error)

// Endpoint holds what a party needs to speak at the edge: it signs the
// Error messages it sends when it has a signature key.
type Endpoint struct {
	Suite   suite.Suite
	Signer  *encap.Signer // nil: errors go unsigned
	SWIdent string
	Rand    io.Reader        // default crypto/rand
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default slog.Default()

	// ErrorVerifier validates the certificate of a signed Error a peer
	// answers Call with; it may insist on the certificate type of the
	// party called, or on current CRLs. ErrorRoots is the simple case:
	// when ErrorVerifier is nil, the signer's certificate must chain to
	// one of ErrorRoots at Now (revocation is not checked: an Error
	// changes no state). With neither, a signed Error's signature is still
	// checked against the certificate it carries, but nothing vouches for
	// that certificate, so the Error is reported as ErrorUnchecked.
	ErrorVerifier encap.CertVerifier
	ErrorRoots    []*pki.Certificate
}

func (e *Endpoint) rand() io.Reader {
	if e.Rand == nil {
		return rand.Reader
	}
	return e.Rand
}

func (e *Endpoint) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Endpoint) log() *slog.Logger {
	if e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

// Header returns a MessageHeader for a message this endpoint sends.
func (e *Endpoint) Header(ids *msg.MessageIDs, rrpid *msg.RRPID) *msg.MessageHeader {
	sw := e.SWIdent
	if sw == "" {
		sw = "setpay/0.1" // SWIdent is mandatory in every header
	}
	return &msg.MessageHeader{Date: e.now().UTC().Truncate(time.Second), MessageIDs: ids, RRPID: rrpid, SWIdent: sw}
}

// Serve decodes req, runs h and encodes its answer. It always returns a
// response to send: the answer, or an Error message for a rejection. The
// error result is only for failures to build even that (then the caller
// answers at the transport level).
func (e *Endpoint) Serve(ctx context.Context, req []byte, h Handler) ([]byte, error) {
	w, err := msg.UnmarshalMessageWrapper(req)
	if err != nil {
		code := msg.DecodingFailure
		if errors.Is(err, msg.ErrUnsupportedMessage) {
			code = msg.MessageNotSupported
		} else if errors.Is(err, msg.ErrUnsupportedVersion) {
			code = msg.VersionTooNew
		}
		e.log().Info("rejected undecodable request", "code", code.String(), "err", err)
		if w != nil && errors.Is(err, msg.ErrUnsupportedMessage) {
			return e.errorResponse(&msg.ProtocolError{Code: code, Err: err}, &w.Header, nil)
		}
		return e.errorResponse(&msg.ProtocolError{Code: code, Err: err}, nil, req)
	}
	if _, isErr := w.Message.(*msg.Error); isErr {
		// An Error is never answered with an Error (no loops).
		return nil, fmt.Errorf("wire: peer sent an Error as a request")
	}
	res, err := h(ctx, w)
	if err != nil {
		e.log().Info("rejected request", "message", w.Message.Name(), "code", msg.CodeOf(err).String(), "err", err)
		return e.errorResponse(err, &w.Header, nil)
	}
	return msg.Wrap(e.Header(w.Header.MessageIDs, w.Header.RRPID), res)
}

// errorResponse builds the Error message for err, naming the offending
// header when there is one, else quoting (the start of) the bad bytes.
func (e *Endpoint) errorResponse(err error, hdr *msg.MessageHeader, bad []byte) ([]byte, error) {
	tbs := &msg.ErrorTBS{ErrorCode: msg.CodeOf(err)}
	if _, rerr := io.ReadFull(e.rand(), tbs.ErrorNonce[:]); rerr != nil {
		return nil, rerr
	}
	if hdr != nil {
		tbs.ErrorMsg.MessageHeader = hdr
	} else {
		const maxBad = 20000
		if len(bad) > maxBad {
			bad = bad[:maxBad]
		}
		if len(bad) == 0 {
			bad = []byte{0}
		}
		tbs.ErrorMsg.BadWrapper = bad
	}
	em := &msg.Error{UnsignedError: tbs}
	if e.Signer != nil {
		content, merr := tbs.Marshal()
		if merr != nil {
			return nil, merr
		}
		signed, serr := encap.S(e.Suite, e.rand(), *e.Signer, msg.OIDErrorTBS, content)
		if serr != nil {
			return nil, serr
		}
		em = &msg.Error{SignedError: signed}
	}
	var ids *msg.MessageIDs
	var rrpid *msg.RRPID
	if hdr != nil {
		ids, rrpid = hdr.MessageIDs, hdr.RRPID
	}
	return msg.Wrap(e.Header(ids, rrpid), em)
}

// RoundTripper moves one request's bytes to a party and its response back.
type RoundTripper interface {
	RoundTrip(ctx context.Context, req []byte) ([]byte, error)
}

// Call sends m to a peer and returns its answer. A SET Error from the peer
// comes back as a *PeerError (inside a *msg.ProtocolError carrying its
// code, so a party can pass the code on); the PeerError unwraps to the
// *msg.RemoteError and says what the Error's signature proved.
func (e *Endpoint) Call(ctx context.Context, rt RoundTripper, peer string, ids *msg.MessageIDs, rrpid *msg.RRPID, m msg.Message) (msg.Message, error) {
	req, err := msg.Wrap(e.Header(ids, rrpid), m)
	if err != nil {
		return nil, err
	}
	resp, err := rt.RoundTrip(ctx, req)
	if err != nil {
		return nil, err
	}
	w, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "%s's response: %w", peer, err)
	}
	if em, ok := w.Message.(*msg.Error); ok {
		pe, err := e.peerError(peer, em)
		if err != nil {
			return nil, msg.Errorf(msg.DecodingFailure, "%s's Error: %w", peer, err)
		}
		return nil, &msg.ProtocolError{Code: pe.Remote.TBS.ErrorCode, Err: pe}
	}
	if w.Header.RRPID != nil && rrpid != nil && *w.Header.RRPID != *rrpid {
		return nil, msg.Errorf(msg.UnknownRRPID, "%s answered another request", peer)
	}
	return w.Message, nil
}

// ErrorOrigin is what a received Error's signature proves about who sent
// it. Only ErrorVerified is proof; an Error changes no state whatever its
// origin, it only ends a flow.
type ErrorOrigin int

const (
	// ErrorUnsigned: the Error carried no signature; anyone on the path
	// could have sent it.
	ErrorUnsigned ErrorOrigin = iota + 1
	// ErrorUnchecked: the signature holds under the certificate the Error
	// carries, but the Endpoint has no ErrorVerifier to vouch for that
	// certificate, so anyone with some key could have made it.
	ErrorUnchecked
	// ErrorBadSignature: the Error is signed, but the signature, its
	// structure or the signer's certificate did not verify.
	ErrorBadSignature
	// ErrorVerified: the signature verified under a certificate the
	// Endpoint's ErrorVerifier accepted.
	ErrorVerified
)

func (o ErrorOrigin) String() string {
	switch o {
	case ErrorUnsigned:
		return "unsigned"
	case ErrorUnchecked:
		return "signed, signer not checked"
	case ErrorBadSignature:
		return "signature does not verify"
	case ErrorVerified:
		return "signature verified"
	}
	return fmt.Sprintf("ErrorOrigin(%d)", int(o))
}

// PeerError is a SET Error a peer answered with, and what its signature
// proved.
type PeerError struct {
	Remote *msg.RemoteError
	Origin ErrorOrigin
	// SignerCert is the DER of the certificate a signed Error names as its
	// signer, set for ErrorUnchecked and ErrorVerified only.
	SignerCert []byte
	// SignatureErr says why a signed Error did not verify (ErrorBadSignature).
	SignatureErr error
}

func (e *PeerError) Error() string {
	if e.SignatureErr != nil {
		return fmt.Sprintf("%v (%v: %v)", e.Remote, e.Origin, e.SignatureErr)
	}
	return fmt.Sprintf("%v (%v)", e.Remote, e.Origin)
}

// Unwrap returns the RemoteError, so errors.As finds it as before.
func (e *PeerError) Unwrap() error { return e.Remote }

// peerError decodes em and checks its signature. Only an Error whose
// ErrorTBS cannot be decoded at all is an error; a bad signature is
// reported in the PeerError.
func (e *Endpoint) peerError(peer string, em *msg.Error) (*PeerError, error) {
	tbs, err := ErrorTBS(em)
	if err != nil {
		return nil, err
	}
	pe := &PeerError{Remote: &msg.RemoteError{From: peer, TBS: tbs}, Origin: ErrorUnsigned}
	if em.SignedError == nil {
		return pe, nil
	}
	verify, origin := e.ErrorVerifier, ErrorVerified
	switch {
	case verify == nil && len(e.ErrorRoots) > 0:
		verify = pki.CertVerifier(pki.VerifyOptions{Roots: e.ErrorRoots, Now: e.now()})
	case verify == nil:
		verify, origin = carriedKey, ErrorUnchecked
	}
	content, signer, err := encap.OpenS(e.Suite, em.SignedError, msg.OIDErrorTBS, verify)
	switch {
	case err != nil:
		pe.Origin, pe.SignatureErr = ErrorBadSignature, err
	case !bytes.Equal(content, tbs.Raw()):
		// Cannot happen (both come from the same SignedData), but the
		// report must describe the bytes that were verified.
		pe.Origin, pe.SignatureErr = ErrorBadSignature, errors.New("verified content differs from the decoded ErrorTBS")
	default:
		pe.Origin, pe.SignerCert = origin, signer
	}
	e.log().Debug("peer answered with an Error", "peer", peer, "code", tbs.ErrorCode.String(), "origin", pe.Origin.String())
	return pe, nil
}

// carriedKey is the CertVerifier used when the Endpoint has none: it takes
// the key from the signer's certificate as carried and vouches for nothing.
func carriedKey(cert []byte, _ [][]byte) (crypto.PublicKey, error) {
	c, err := pki.ParseCertificate(cert)
	if err != nil {
		return nil, err
	}
	return c.PublicKey, nil
}

// ErrorTBS extracts the ErrorTBS of an Error without checking a signed
// Error's signature (Call does, and reports the result in a PeerError).
func ErrorTBS(em *msg.Error) (*msg.ErrorTBS, error) {
	if em.UnsignedError != nil {
		return em.UnsignedError, nil
	}
	sd, err := parseSignedContent(em.SignedError)
	if err != nil {
		return nil, err
	}
	return msg.UnmarshalErrorTBS(sd)
}

func parseSignedContent(signed []byte) ([]byte, error) {
	sd, err := pkcs7.ParseSignedData(signed)
	if err != nil {
		return nil, err
	}
	if sd.Content == nil {
		return nil, der.Errorf("SignedError", "", "no content")
	}
	return sd.Content, nil
}

// GatewayClient calls a payment gateway through rt: the merchant's
// merchant.GatewayClient over any transport.
type GatewayClient struct {
	Endpoint *Endpoint
	RT       RoundTripper
}

// Authorize sends an AuthReq and returns the AuthRes.
func (c *GatewayClient) Authorize(ctx context.Context, req *msg.AuthReq, ids *msg.MessageIDs) (*msg.AuthRes, error) {
	m, err := c.Endpoint.Call(ctx, c.RT, "gateway", ids, nil, req)
	if err != nil {
		return nil, err
	}
	res, ok := m.(*msg.AuthRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "gateway answered AuthReq with %s", m.Name())
	}
	return res, nil
}

// Capture sends a CapReq and returns the CapRes.
func (c *GatewayClient) Capture(ctx context.Context, req *msg.CapReq, ids *msg.MessageIDs) (*msg.CapRes, error) {
	m, err := c.Endpoint.Call(ctx, c.RT, "gateway", ids, nil, req)
	if err != nil {
		return nil, err
	}
	res, ok := m.(*msg.CapRes)
	if !ok {
		return nil, msg.Errorf(msg.WrapperMsgMismatch, "gateway answered CapReq with %s", m.Name())
	}
	return res, nil
}

// ServeFunc adapts a party's Serve method into a RoundTripper, for wiring
// parties together in one process without a network.
type ServeFunc func(ctx context.Context, req []byte) ([]byte, error)

// RoundTrip implements RoundTripper.
func (f ServeFunc) RoundTrip(ctx context.Context, req []byte) ([]byte, error) { return f(ctx, req) }
