package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

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
