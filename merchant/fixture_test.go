package merchant_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// The fixture: the lab's CAs and cardholders, and a merchant core of our
// own whose gateway is a fake that we control, so that tests can answer
// the merchant with AuthRes messages the real gateway would never send.

func suites() []suite.Suite {
	// set1 with 2048-bit RSA: a PANData does not fit SET's OAEP block
	// under a 1024-bit key.
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

// issueMerchant and issueGateway issue credentials of our own from the
// lab's CAs: the merchant under test, its fake gateway, and rivals.
func issueMerchant(t testing.TB, l *lab.Lab, merID string, now time.Time) lab.Credential {
	t.Helper()
	c, err := l.IssueMerchant(merID, "Test Shop "+merID, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func issueGateway(t testing.TB, l *lab.Lab, name string, now time.Time) lab.Credential {
	t.Helper()
	c, err := l.IssueGateway(name, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var quiet = slog.New(slog.DiscardHandler)

// fakeGateway answers AuthReq as a gateway holding credential gw would,
// after mutate has had its way with the answer.
type fakeGateway struct {
	w      *world
	gw     lab.Credential // the designated gateway: its key-exchange cert is the merchant's GatewayCert
	signer lab.Credential // who signs the answers (normally gw)

	mu     sync.Mutex
	calls  int
	mutate func(*msg.AuthResData)
	// check, when set, may refuse a request before it is answered.
	check func(*msg.AuthReq) error
}

func (g *fakeGateway) Authorize(ctx context.Context, req *msg.AuthReq, ids *msg.MessageIDs) (*msg.AuthRes, error) {
	g.mu.Lock()
	g.calls++
	mutate, check := g.mutate, g.check
	g.mu.Unlock()
	if check != nil {
		if err := check(req); err != nil {
			return nil, err
		}
	}
	st := g.w.st
	tbs, _, signerCert, err := encap.OpenEnc(st, g.gw.ExchangeKey, g.gw.ExchangeCert, req.AuthReqTBE, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE,
		pki.CertVerifier(pki.VerifyOptions{Roots: g.w.l.Roots, Now: time.Now(), CertType: pki.CertTypeMer, KeyUsage: x509.KeyUsageDigitalSignature}))
	if err != nil {
		return nil, err
	}
	t, err := msg.UnmarshalAuthReqTBS(tbs)
	if err != nil {
		return nil, err
	}
	item := t.AuthReqData.AuthReqItem
	d := msg.AuthResData{
		AuthTags: item.AuthTags,
		AuthResPayload: msg.AuthResPayload{AuthHeader: msg.AuthHeader{
			AuthAmt:      item.AuthReqPayload.AuthReqAmt,
			AuthCode:     msg.AuthApproved,
			ResponseData: msg.ResponseData{AuthValCodes: &msg.AuthValCodes{ApprovalCode: "123456"}},
		}},
	}
	if st.ID() != suite.Set1 {
		th := msg.ThumbOf(st.Hash(), signerCert)
		d.MerchantThumb = &th
		h := st.Hash().New()
		h.Write(tbs)
		d.HAuthReq = h.Sum(nil)
	}
	if mutate != nil {
		mutate(&d)
	}
	content, err := (&msg.AuthResTBS{AuthResData: d}).Marshal()
	if err != nil {
		return nil, err
	}
	signer := g.signer.Signer()
	tbe, err := encap.Enc(st, rand.Reader, signer, g.w.mer.ExchangeCert, msg.OIDAuthResTBS, msg.OIDAuthResTBE, content)
	if err != nil {
		return nil, err
	}
	return &msg.AuthRes{AuthResTBE: tbe}, nil
}

func (g *fakeGateway) Capture(ctx context.Context, req *msg.CapReq, ids *msg.MessageIDs) (*msg.CapRes, error) {
	return nil, errors.New("fake gateway: no captures")
}

func (g *fakeGateway) set(mutate func(*msg.AuthResData), check func(*msg.AuthReq) error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mutate, g.check = mutate, check
}

func (g *fakeGateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

type world struct {
	t   testing.TB
	ctx context.Context
	st  suite.Suite
	l   *lab.Lab  // CAs and cardholders
	t0  time.Time // when mer and the fake gateway were issued: the moment to issue more at
	mer lab.Credential
	m   *merchant.Merchant
	ms  *sqlite.DB
	gw  *fakeGateway
}

func newWorld(t testing.TB, st suite.Suite) *world {
	t.Helper()
	open := func() *sqlite.DB {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	w := &world{t: t, ctx: context.Background(), st: st, ms: open()}
	var err error
	w.l, err = lab.New(lab.Options{Suite: st, Cardholders: 2, MerchantStore: open(), GatewayStore: open(), MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// Certificates keep whole seconds: issue at one, so that t0 is exactly
	// when they became valid.
	w.t0 = time.Now().UTC().Truncate(time.Second)
	w.mer = issueMerchant(t, w.l, "MER-0042", w.t0)
	gw := issueGateway(t, w.l, "Fake Payment Gateway", w.t0)
	w.gw = &fakeGateway{w: w, gw: gw, signer: gw}
	w.m, err = merchant.New(merchant.Config{
		Revocation: w.l.Revocations(),
		Suite:      st, MerchantID: "MER-0042", BrandID: "SETpay",
		SigningKey: merchant.NewSigningKey(w.mer.Key), SigningCert: w.mer.Cert,
		ExchangeKey: merchant.NewExchangeKey(w.mer.ExchangeKey), ExchangeCert: w.mer.ExchangeCert,
		Chain: w.mer.Chain, GatewayCert: gw.ExchangeCert, GatewayChain: gw.Chain,
		Roots: w.l.Roots, Store: w.ms, Gateway: w.gw, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) offer(desc string, cents int64) *merchant.Offer {
	w.t.Helper()
	o, err := w.m.Checkout(w.ctx, desc, lab.USD(cents))
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

// prepare runs a purchase up to the PReq, which is not yet sent.
func (w *world) prepare(cardholder int, wo wallet.Offer) (*wallet.Purchase, *msg.PReq) {
	w.t.Helper()
	p, initReq, err := w.l.Wallets[cardholder].Start(wo)
	if err != nil {
		w.t.Fatal(err)
	}
	initRes, err := w.m.HandlePInitReq(w.ctx, initReq)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := p.HandlePInitRes(initRes); err != nil {
		w.t.Fatal(err)
	}
	preq, err := p.PReq()
	if err != nil {
		w.t.Fatal(err)
	}
	return p, preq
}

// roundTrip re-decodes m from its encoding, as the merchant receives it.
func roundTrip(t testing.TB, m *msg.PReq) *msg.PReq {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r, err := msg.UnmarshalPReq(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// withOI returns preq with its order information changed by mutate (and so
// no longer what the cardholder signed).
func withOI(t testing.TB, preq *msg.PReq, mutate func(*msg.OIData)) *msg.PReq {
	t.Helper()
	oi, err := msg.UnmarshalOIData(preq.DualSigned.OIDualSigned.OIData.Raw())
	if err != nil {
		t.Fatal(err)
	}
	mutate(oi)
	b, err := oi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if oi, err = msg.UnmarshalOIData(b); err != nil {
		t.Fatal(err)
	}
	ds := *preq.DualSigned
	ds.OIDualSigned.OIData = *oi
	return roundTrip(t, &msg.PReq{DualSigned: &ds})
}

func (w *world) order(xid msg.XID) *store.Order {
	w.t.Helper()
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

func wantCode(t testing.TB, err error, want msg.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want rejection with %v", want)
	}
	if got := msg.CodeOf(err); got != want {
		t.Fatalf("rejected with %v (%v); want %v", got, err, want)
	}
}
