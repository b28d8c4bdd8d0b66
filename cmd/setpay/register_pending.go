package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wire"
)

// awaitDecision follows a registration the CA holds for review: with
// --wait it asks again (CertInqReq) every --poll until the CA decides or
// --wait runs out; without, it says what happened. later tells the user
// how to come back to the request (a registration's is saved: resume.go).
func awaitDecision[R any](cmd *cobra.Command, rf *regFlags, status msg.CertStatus, later string, wait func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error)) (R, error) {
	var zero R
	why := statusWhy(status)
	if rf.wait <= 0 {
		return zero, fmt.Errorf("the CA holds the request for review (%s); %s", why, later)
	}
	every := rf.poll
	if every <= 0 {
		every = 10 * time.Second
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "the CA holds the request for review (%s); asking again every %v for up to %v\n", why, every, rf.wait)
	ctx, cancel := context.WithTimeout(cmd.Context(), rf.wait)
	defer cancel()
	out, err := wait(ctx, rf.transport(), every, int(rf.wait/every)+1)
	if _, held := stillHeld(err); err != nil && (held || ctx.Err() != nil) {
		return zero, fmt.Errorf("the CA did not decide within --wait %v; %s: %w", rf.wait, later, err)
	}
	if err != nil {
		return zero, fmt.Errorf("waiting for the CA's decision: %w", err)
	}
	return out, nil
}

// settleEE finishes a merchant's or gateway's registration (R is its
// *Registered): when the CA holds the request, it is saved for resume
// before anything else, so it outlives this process, and then waited on
// as --wait allows. A final refusal drops the saved request.
func settleEE[R any](cmd *cobra.Command, rf *regFlags, pp []byte, who string, reg R, err error) (R, error) {
	if pe := (*enrol.PendingError[R])(nil); errors.As(err, &pe) {
		pe.Registration.SetCAURL(rf.caURL) // so that resume needs no --ca
		if err := savePending(rf.out, func() ([]byte, error) { return pe.Registration.Export(rand.Reader, pp, rf.pf.kdf()) }); err != nil {
			return reg, err
		}
		reg, err = awaitDecision(cmd, rf, pe.Status, resumeLater(who, rf.out), waitEE(pe))
	}
	if err != nil {
		if finalRefusal(err) {
			_ = dropPending(rf.out) // the CA's answer is final: nothing to resume
		}
		return reg, fmt.Errorf("registration: %w", peerOrigin(err))
	}
	return reg, nil
}

// waitEE asks after a held merchant or gateway request with CertInqReq.
func waitEE[R any](pe *enrol.PendingError[R]) func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error) {
	return func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error) {
		return pe.Registration.Wait(ctx, rt, enrol.WaitOptions{Every: every, Max: max})
	}
}

// peerOrigin adds to err, when it is a SET Error the CA answered with,
// what the Error's signature proved: the registration commands check it
// against the trusted roots, and a user deciding what to do about a
// refusal must know whether the CA itself refused.
func peerOrigin(err error) error {
	var pe *wire.PeerError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Origin {
	case wire.ErrorVerified:
		return fmt.Errorf("%w; the CA signed this Error (its certificate is the CA's, under the root)", err)
	case wire.ErrorUnsigned:
		return fmt.Errorf("%w; this Error is unsigned, so nothing shows it comes from the CA (anyone on the path could have sent it)", err)
	case wire.ErrorBadSignature:
		return fmt.Errorf("%w; this Error's signature does not verify as a CA's under the root: nothing shows it comes from the CA", err)
	}
	return fmt.Errorf("%w; nothing vouches for this Error's signer", err)
}
