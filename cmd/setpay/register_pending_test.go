package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wire"
)

// TestPeerOrigin: a refusal by SET Error tells the user what the Error's
// signature proved; any other error is left as it is.
func TestPeerOrigin(t *testing.T) {
	remote := &msg.RemoteError{From: "CA", TBS: &msg.ErrorTBS{ErrorCode: msg.UnspecifiedFailure}}
	for origin, want := range map[wire.ErrorOrigin]string{
		wire.ErrorVerified:     "the CA signed this Error",
		wire.ErrorUnsigned:     "this Error is unsigned",
		wire.ErrorBadSignature: "does not verify",
		wire.ErrorUnchecked:    "nothing vouches",
	} {
		err := &msg.ProtocolError{Code: msg.UnspecifiedFailure, Err: &wire.PeerError{Remote: remote, Origin: origin}}
		got := peerOrigin(err)
		if !strings.Contains(got.Error(), want) || !errors.Is(got, err) {
			t.Errorf("peerOrigin(%v) = %q, want it to say %q and wrap the error", origin, got, want)
		}
	}
	plain := errors.New("connection refused")
	if got := peerOrigin(plain); got != plain {
		t.Errorf("peerOrigin of a non-Error = %v, want it unchanged", got)
	}
}
