package merchant

import (
	"context"

	"github.com/setpay/setpay/enrol"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wire"
)

// current is what a renewal of cur signs with.
func current(cur *Registered) enrol.Current {
	return enrol.Current{SigKey: cur.RawSigKey, SigCert: cur.SigCert, Chain: cur.Chain}
}

// NewRenewal starts a renewal of the merchant's certificates cur and returns
// the Me-AqCInitReq. cfg is as for registration; its SigKey and ExKey, when
// set, are the new keys. The CertReq is signed with cur's signature key.
func NewRenewal(cfg RegisterConfig, cur *Registered) (*Registration, *msg.MeAqCInitReq, error) {
	return enrol.NewRenewal(role, cfg.enrol(), current(cur), registered)
}

// Renew runs a whole renewal of cur against a CA reached through rt:
// the registration flow with the renewal request type, new keys, and the
// request signed with cur's signature key (docs/spec-gaps.md, "renewal").
// cur stays valid until it expires; the result replaces it.
func Renew(ctx context.Context, rt wire.RoundTripper, cfg RegisterConfig, cur *Registered) (*Registered, error) {
	return enrol.Renew(ctx, rt, role, cfg.enrol(), current(cur), registered)
}
