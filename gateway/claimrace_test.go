package gateway_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// claimGate is the gateway's store with a door before PutClaim: a claim
// of kind reports on at and waits for proceed, so a test can let another
// request run between a request's look at the open claims and its claim.
type claimGate struct {
	*sqlite.DB
	kind    store.EntryKind // "" lets every claim through
	at      chan struct{}
	proceed chan struct{}
}

func (g *claimGate) PutClaim(ctx context.Context, c *store.GatewayClaim, update func(a *store.Authorization) error) error {
	if g.kind != "" && c.Kind == g.kind {
		g.at <- struct{}{}
		<-g.proceed
	}
	return g.DB.PutClaim(ctx, c, update)
}

// creditGate holds the issuer's credits or credit reversals (kind): each
// reports on at, waits for release and is turned down (amountError),
// moving nothing at the bank.
type creditGate struct {
	gateway.Issuer
	kind    store.EntryKind
	at      chan struct{}
	release chan struct{}
}

func (g *creditGate) hold(k store.EntryKind) bool {
	if g.kind != k {
		return false
	}
	g.at <- struct{}{}
	<-g.release
	return true
}

func (g *creditGate) Credit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	if g.hold(store.EntryCredit) {
		return msg.CapRevOrCredAmountError, nil
	}
	return g.Issuer.Credit(ctx, req)
}

func (g *creditGate) ReverseCredit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	if g.hold(store.EntryCreditReversal) {
		return msg.CapRevOrCredAmountError, nil
	}
	return g.Issuer.ReverseCredit(ctx, req)
}

// newGatedWorld is a bank world whose gateway store and issuer have the
// doors above, with a purchase of 25.00 captured and 10.00 of it
// credited. The doors are armed by setting kind while no request runs.
func newGatedWorld(t *testing.T, st suite.Suite) (*bankWorld, *claimGate, *creditGate, msg.TransIDs) {
	t.Helper()
	gate := &claimGate{at: make(chan struct{}), proceed: make(chan struct{})}
	iss := &creditGate{at: make(chan struct{}), release: make(chan struct{})}
	b := newBankWorld(t, func(issuer gateway.Issuer) *world {
		iss.Issuer = issuer
		ms, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		gs, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ms.Close(); gs.Close() })
		gate.DB = gs
		w := &world{t: t, ctx: context.Background(), st: st, gs: gs, ms: ms}
		w.t0 = time.Now().UTC().Truncate(time.Second)
		w.clock = &clock{t: w.t0}
		rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return w.l.Gateway.Serve(ctx, req) })
		w.l, err = lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gate,
			Issuer: iss, GatewayRT: rt, Now: w.clock.Now, MerchantLog: quiet, GatewayLog: quiet})
		if err != nil {
			t.Fatal(err)
		}
		w.mer = issueMerchant(t, w.l, w.l.MerchantID, w.t0)
		return w
	})
	pu, res, err := b.pay(0, "a clock", 25_00)
	if err != nil || res.Completion != msg.AuthorizationAccepted {
		t.Fatalf("purchase: %v, %v", res, err)
	}
	if code, err := b.l.Merchant.Capture(context.Background(), pu.TransIDs().XID); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture: %v, %v", code, err)
	}
	if code, err := b.credReqWith(pu.TransIDs(), lab.USD(10_00), nil); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit: %v, %v", code, err)
	}
	b.funds(0, -15_00)
	return b, gate, iss, pu.TransIDs()
}

type itemResult struct {
	code msg.CapRevOrCredCode
	err  error
}

func (r itemResult) want(t *testing.T, what string, code msg.CapRevOrCredCode) {
	t.Helper()
	if r.err != nil || r.code != code {
		t.Fatalf("%s: %v, %v; want %v", what, r.code, r.err, code)
	}
}

// waitAt waits for a request to reach a door, failing if it is answered
// instead.
func waitAt(t *testing.T, at <-chan struct{}, answered <-chan itemResult, what string) {
	t.Helper()
	select {
	case <-at:
	case r := <-answered:
		t.Fatalf("%s answered %v, %v before it reached the door", what, r.code, r.err)
	}
}

// TestCreditReversalRacesCredit: a credit reversal has looked at the
// claims of its authorization (none open) when a credit of the same
// authorization claims and goes to the issuer. The reversal's own claim
// must then be refused ("ask again", unspecifiedFailure) — by the store,
// in the transaction of the claim — for the issuer may turn the credit
// down and give back an amount the reversal took. Nothing moves; once the
// credit is refused, what was credited before is all there is to reverse.
func TestCreditReversalRacesCredit(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			b, gate, iss, tid := newGatedWorld(t, st)
			gate.kind, iss.kind = store.EntryCreditReversal, store.EntryCredit
			reversal, credit := make(chan itemResult, 1), make(chan itemResult, 1)
			go func() {
				code, err := b.credRevReqWith(tid, lab.USD(10_00))
				reversal <- itemResult{code, err}
			}()
			// The reversal found no open claim and is about to claim.
			waitAt(t, gate.at, reversal, "credit reversal")
			go func() {
				code, err := b.credReqWith(tid, lab.USD(10_00), nil)
				credit <- itemResult{code, err}
			}()
			// The credit is claimed and with the issuer.
			waitAt(t, iss.at, credit, "credit")
			close(gate.proceed)
			(<-reversal).want(t, "credit reversal while a credit is with the issuer", msg.CapRevOrCredUnspecifiedFailure)
			close(iss.release)
			(<-credit).want(t, "credit the issuer turns down", msg.CapRevOrCredAmountError)
			gate.kind, iss.kind = "", ""
			b.funds(0, -15_00)
			nothingLeft(t, b)

			r, err := b.credRevReqWith(tid, lab.USD(10_01))
			itemResult{r, err}.want(t, "reversal of more than was credited", msg.CapRevOrCredOriginalNotFound)
			r, err = b.credRevReqWith(tid, lab.USD(10_00))
			itemResult{r, err}.want(t, "reversal of what was credited", msg.CapRevOrCredSuccess)
			b.funds(0, -25_00)
			nothingLeft(t, b)
		})
	}
}

// TestCreditRacesCreditReversal: the other way round. A credit has looked
// at the claims (none open) when a credit reversal claims and goes to the
// issuer; the credit's claim must be refused, for a reversal the issuer
// turns down puts back on the credit counter what the credit would have
// counted on. Once the reversal is refused, the capture's remaining 15.00
// can be credited, and not a cent more.
func TestCreditRacesCreditReversal(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			b, gate, iss, tid := newGatedWorld(t, st)
			gate.kind, iss.kind = store.EntryCredit, store.EntryCreditReversal
			credit, reversal := make(chan itemResult, 1), make(chan itemResult, 1)
			go func() {
				code, err := b.credReqWith(tid, lab.USD(15_00), nil)
				credit <- itemResult{code, err}
			}()
			waitAt(t, gate.at, credit, "credit")
			go func() {
				code, err := b.credRevReqWith(tid, lab.USD(10_00))
				reversal <- itemResult{code, err}
			}()
			waitAt(t, iss.at, reversal, "credit reversal")
			close(gate.proceed)
			(<-credit).want(t, "credit while a credit reversal is with the issuer", msg.CapRevOrCredUnspecifiedFailure)
			close(iss.release)
			(<-reversal).want(t, "credit reversal the issuer turns down", msg.CapRevOrCredAmountError)
			gate.kind, iss.kind = "", ""
			b.funds(0, -15_00)
			nothingLeft(t, b)

			r, err := b.credReqWith(tid, lab.USD(15_01), nil)
			itemResult{r, err}.want(t, "credit of more than is left", msg.CapRevOrCredAmountError)
			r, err = b.credReqWith(tid, lab.USD(15_00), nil)
			itemResult{r, err}.want(t, "credit of what is left", msg.CapRevOrCredSuccess)
			b.funds(0, 0)
			nothingLeft(t, b)
		})
	}
}

// credRevReqWith sends a CredRevReq for transIDs signed by the lab's
// second merchant credential and returns the item's code. The item
// carries the CapToken the gateway issued for transIDs.
func (w *world) credRevReqWith(transIDs msg.TransIDs, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	w.t.Helper()
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	data := msg.CapRevOrCredReqData{
		CapRevOrCredRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: w.l.MerchantID}, CurrentDate: now},
		CapRevOrCredReqItemSeq: []msg.CapRevOrCredReqItem{{TransIDs: transIDs,
			CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: amount}, CapRevOrCredReqDate: now, CapRevOrCredReqAmt: &amount}},
	}
	data.PGThumb, data.Expiry = w.addressed(now)
	seq, h := w.itemCapTokens(transIDs.XID, data.CapRevOrCredReqItemSeq)
	tbs, err := (&msg.CapRevOrCredReqTBS{CapRevOrCredReqData: data, HCapTokenSeq: h}).Marshal()
	if err != nil {
		return 0, err
	}
	tbe, err := encap.Enc(w.st, rand.Reader, w.mer.Signer(), w.gatewayExchangeCert(), msg.OIDCredRevReqTBS, msg.OIDCredRevReqTBE, tbs)
	if err != nil {
		return 0, err
	}
	res, err := w.l.Gateway.HandleCredRevReq(w.ctx, &msg.CredRevReq{CredRevReqTBE: tbe, CapTokenSeq: seq})
	if err != nil {
		return 0, err
	}
	content, _, _, err := encap.OpenEnc(w.st, w.mer.ExchangeKey, w.mer.ExchangeCert, res.CredRevResTBE, msg.OIDCredRevResData, msg.OIDCredRevResTBE, w.verifier(pki.CertTypePgwy))
	if err != nil {
		return 0, err
	}
	rd, err := msg.UnmarshalCapRevOrCredResData(content)
	if err != nil {
		return 0, err
	}
	return rd.CapRevOrCredResItemSeq[0].CapRevOrCredCode, nil
}
