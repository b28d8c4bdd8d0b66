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
// --wait runs out; without, it says what happened. The new keys live only
// in this process, so a registration given up on cannot be resumed.
func awaitDecision[R any](cmd *cobra.Command, rf *regFlags, status msg.CertStatus, wait func(ctx context.Context, rt wire.RoundTripper, every time.Duration, max int) (R, error)) (R, error) {
	var zero R
	why := status.CertStatusCode.String()
	if status.EEMessage != "" {
		why += ": " + status.EEMessage
	}
	if rf.wait <= 0 {
		return zero, fmt.Errorf("the CA holds the request for review (%s); run again with --wait DURATION to wait for the decision", why)
	}
	every := rf.poll
	if every <= 0 {
		every = 10 * time.Second
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "the CA holds the request for review (%s); asking again every %v for up to %v\n", why, every, rf.wait)
	ctx, cancel := context.WithTimeout(cmd.Context(), rf.wait)
	defer cancel()
	out, err := wait(ctx, rf.transport(), every, int(rf.wait/every)+1)
	if err != nil && ctx.Err() != nil {
		return zero, fmt.Errorf("the CA did not decide within --wait %v; the request is abandoned (its keys were never stored): %w", rf.wait, err)
	}
	if err != nil {
		return zero, fmt.Errorf("waiting for the CA's decision: %w", err)
	}
	return out, nil
}
