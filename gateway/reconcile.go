package gateway

// Claims and their reconciliation. Every money movement that follows an
// authorization — capture, authorization reversal, capture reversal,
// credit, credit reversal — is claimed in the store before the issuer is
// asked (store.GatewayClaim: the authorization's claimed state and the
// credit counter move in the same transaction), and settled with its
// outcome and batch entry in one transaction after. The claim's ID is the
// movement's identity at the issuer (CaptureRequest.ID, AdjustRequest.ID):
// asked again under it, an issuer answers as the first time and moves
// nothing twice (banklink resends the same ISO 8583 message identity).
// So a claim left behind — the issuer did not answer, or the gateway
// stopped between the answer and the settling transaction — is finished
// by asking again: Reconcile.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// maxReconcile bounds the claims one Reconcile looks at; the next call
// takes the rest.
const maxReconcile = 256

// claimResult is what became of one claim.
type claimResult struct {
	claim    *store.GatewayClaim
	answered bool // the issuer answered
	ok       bool // and moved the money
	settled  bool // the outcome is recorded and the claim gone
	err      error

	capCode  msg.CapCode
	revCode  msg.AuthRevCode
	credCode msg.CapRevOrCredCode

	batch *store.GatewayBatch // where the movement's entry went, if settled
	seq   int64
}

// newClaim returns a claim of kind on authorization xid for amt, under a
// fresh identity. The identity comes from crypto/rand, never from
// Config.Rand: a reproducible source could give a restarted gateway an
// identity already used, and the issuer would answer the old movement.
func (g *Gateway) newClaim(kind store.EntryKind, xid store.XID, merchantID string, amt msg.CurrencyAmount) *store.GatewayClaim {
	c := &store.GatewayClaim{Kind: kind, AuthXID: xid, MerchantID: merchantID, Batch: xid,
		Amount: amt.Amount, Currency: amt.Currency, AmtExp10: amt.AmtExp10, Created: g.cfg.Now()}
	rand.Read(c.ID[:])
	return c
}

func claimAmount(c *store.GatewayClaim) msg.CurrencyAmount {
	return msg.CurrencyAmount{Currency: c.Currency, Amount: c.Amount, AmtExp10: c.AmtExp10}
}

// runClaim asks the issuer for c's movement and, if it answered, settles
// the claim with the answer.
func (g *Gateway) runClaim(ctx context.Context, c *store.GatewayClaim) claimResult {
	r := g.askIssuer(ctx, c)
	if !r.answered {
		return r
	}
	_, r.batch, r.seq, r.err = g.claims.SettleClaim(ctx, c.ID, !r.ok, func(a *store.Authorization, c *store.GatewayClaim) (*store.GatewayBatchEntry, error) {
		return settleUpdate(a, c, r.ok)
	})
	switch {
	case errors.Is(r.err, store.ErrNotFound):
		// Settled meanwhile by reconciliation, with the same answer.
	case r.err != nil:
		g.cfg.Log.Error("claim not settled; reconciliation must look", "kind", string(c.Kind), "xid", c.AuthXID.String(), "err", r.err)
	default:
		r.settled = true
	}
	return r
}

// askIssuer sends c's movement to the issuer under c's identity.
func (g *Gateway) askIssuer(ctx context.Context, c *store.GatewayClaim) claimResult {
	r := claimResult{claim: c}
	if _, busy := g.inflight.LoadOrStore(c.ID, true); busy {
		r.err = errors.New("gateway: the issuer is being asked about this claim")
		return r
	}
	defer g.inflight.Delete(c.ID)
	adj := AdjustRequest{XID: msg.XID(c.AuthXID), MerchantID: c.MerchantID, Amount: claimAmount(c), ID: msg.XID(c.ID)}
	iss := g.cfg.Issuer
	switch c.Kind {
	case store.EntryCapture:
		r.capCode, r.err = iss.Capture(ctx, CaptureRequest(adj))
		r.ok = r.capCode == msg.CapSuccess
	case store.EntryRelease:
		r.revCode, r.err = iss.ReverseAuthorization(ctx, adj)
		r.ok = r.revCode == msg.AuthRevSuccess
	case store.EntryCaptureReversal:
		r.credCode, r.err = iss.ReverseCapture(ctx, adj)
	case store.EntryCredit:
		r.credCode, r.err = iss.Credit(ctx, adj)
	case store.EntryCreditReversal:
		r.credCode, r.err = iss.ReverseCredit(ctx, adj)
	default:
		r.err = fmt.Errorf("gateway: claim of unknown kind %q", c.Kind)
		return r
	}
	switch c.Kind {
	case store.EntryCaptureReversal, store.EntryCredit, store.EntryCreditReversal:
		r.ok = r.credCode == msg.CapRevOrCredSuccess
	}
	r.answered = r.err == nil
	return r
}

// errClaimState: the authorization is not in the state its claim put it
// in; someone changed it outside the claim. The claim stays for a person
// to look at.
var errClaimState = errors.New("gateway: authorization is not in its claimed state")

// settleUpdate applies claim c's outcome to authorization a and returns
// the batch entry a success makes.
func settleUpdate(a *store.Authorization, c *store.GatewayClaim, ok bool) (*store.GatewayBatchEntry, error) {
	amt := claimAmount(c)
	switch c.Kind {
	case store.EntryCapture:
		if a.State != stateCapturing {
			return nil, errClaimState
		}
		if !ok {
			a.State = stateAuthorized
			return nil, nil
		}
		a.State, a.Captured = stateCaptured, c.Amount
		return batchEntry(a.XID, store.EntryCapture, amt), nil
	case store.EntryRelease:
		if a.State != stateReversing {
			return nil, errClaimState
		}
		a.State = stateAuthorized
		if ok {
			a.Amount = c.NewAmount
			if a.Amount == 0 {
				a.State = stateReversed
			}
		}
		return nil, nil
	case store.EntryCaptureReversal:
		if !ok {
			return nil, nil // the store gives the credit counter back
		}
		a.State = stateCaptureReversed
		return batchEntry(a.XID, store.EntryCaptureReversal, amt), nil
	case store.EntryCredit, store.EntryCreditReversal:
		if !ok {
			return nil, nil
		}
		return batchEntry(c.Batch, c.Kind, amt), nil
	}
	return nil, fmt.Errorf("gateway: claim of unknown kind %q", c.Kind)
}

// reconcileAuthorization finishes the claims left on authorization xid.
func (g *Gateway) reconcileAuthorization(ctx context.Context, xid store.XID) []claimResult {
	cs, err := g.claims.Claims(ctx, &xid, maxReconcile)
	if err != nil {
		g.cfg.Log.Error("reconcile: claims", "xid", xid.String(), "err", err)
		return nil
	}
	out := make([]claimResult, 0, len(cs))
	for _, c := range cs {
		if g.ripe(c) {
			out = append(out, g.reconcileClaim(ctx, c))
		}
	}
	return out
}

// ripe reports whether c is old enough to be asked about again: a younger
// claim's own request may still be waiting for the issuer.
func (g *Gateway) ripe(c *store.GatewayClaim) bool {
	if _, busy := g.inflight.Load(c.ID); busy {
		return false
	}
	return !g.cfg.Now().Before(c.Created.Add(g.cfg.ReconcileAfter))
}

func (g *Gateway) reconcileClaim(ctx context.Context, c *store.GatewayClaim) claimResult {
	r := g.runClaim(ctx, c)
	g.cfg.Log.Info("reconcile", "kind", string(c.Kind), "xid", c.AuthXID.String(), "age", g.cfg.Now().Sub(c.Created).Round(time.Second).String(),
		"answered", r.answered, "moved", r.ok, "settled", r.settled)
	return r
}

// ReconcileResult counts what a Reconcile did.
type ReconcileResult struct {
	Settled int // claims finished: completed or rolled back
	Pending int // claims still open: the issuer did not answer, or the outcome could not be recorded
}

// Reconcile finishes money movements left unfinished (claims): for each
// older than Config.ReconcileAfter, oldest first and at most a few hundred per call, it asks the issuer
// again under the movement's identity — which the issuer answers as the
// first time, moving nothing twice — and records the outcome with its
// batch entry, or rolls the claim back. Run it when the gateway starts
// and now and then after; it is safe to run beside live requests and from
// several gateway processes over one database (a claim is settled once).
// The error is for a store that cannot list claims.
func (g *Gateway) Reconcile(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	cs, err := g.claims.Claims(ctx, nil, maxReconcile)
	if err != nil {
		return res, fmt.Errorf("gateway: reconcile: %w", err)
	}
	for _, c := range cs {
		if ctx.Err() != nil {
			res.Pending += len(cs) - res.Settled - res.Pending
			break
		}
		if !g.ripe(c) {
			res.Pending++
			continue
		}
		if r := g.reconcileClaim(ctx, c); r.settled || errors.Is(r.err, store.ErrNotFound) {
			res.Settled++
		} else {
			res.Pending++
		}
	}
	if len(cs) > 0 {
		g.cfg.Log.Info("reconciled unfinished money movements", "settled", res.Settled, "pending", res.Pending)
	}
	return res, nil
}
