package ca_test

import (
	"context"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// FuzzServe feeds arbitrary bytes to the CA: it must answer (an Error
// message) or fail cleanly, never panic, and never issue.
func FuzzServe(f *testing.F) {
	fx := newFixture(f, suite.NewModern())
	_, res := fx.toRegFormRes(f, fx.regConfig(visaPAN))
	k := fx.newKey(f)
	req := fx.certReq(f, fx.challCA(f, res), visaPAN, k, k, nil)
	// The valid request is sent once first: its chall-CA is then used, so
	// no mutation of it may be issued either.
	if _, err := fx.call(f, req); err != nil {
		f.Fatal(err)
	}
	hdr := &msg.MessageHeader{Date: fx.now, SWIdent: "fuzz"}
	for _, m := range []msg.Message{req, res, &msg.CardCInitReq{LIDEE: []byte("x"), BrandID: "SETpay"}} {
		b, err := msg.Wrap(hdr, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		before := fx.issued.Load()
		out, err := fx.ca.Serve(context.Background(), b)
		if err == nil && len(out) == 0 {
			t.Fatal("no answer and no error")
		}
		if fx.issued.Load() != before {
			t.Fatal("a fuzzed request was issued a certificate")
		}
	})
}
