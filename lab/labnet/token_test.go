package labnet_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/lab/labnet"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// The tests here drive the flows that authorize a purchase more than once
// under the gateway's AuthToken — split shipments, recurring payments and
// instalments — over the wire, and attack the later AuthReqs: tampered in
// transit, replayed, a spent token sent in a fresh request, more than is
// left, too soon, a plan the merchant makes up. Each refusal must carry
// its SET code and move no money; the books are checked after every
// subtest as in flows_test.go, and the card's hold against what is
// authorized and not yet captured.

// clock is a settable clock for every party of a world.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// tokenWorld is a world whose parties share a settable clock, and what it
// expects to be held on card 0.
type tokenWorld struct {
	*world
	clock *clock
	held  int64
}

func newTokenWorld(t *testing.T, id suite.ID) *tokenWorld {
	t.Helper()
	st, err := suite.ByID(id)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	w := &world{ctx: t.Context(), st: st, paid: msg.AuthorizationAccepted}
	if w.n, err = labnet.Start(w.ctx, labnet.Options{Suite: st, Limit: cardLimit, Now: c.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.n.Close)
	w.spent = make([]int64, len(w.n.Cards))
	return &tokenWorld{world: w, clock: c}
}

// run runs f as subtest name and checks the books, and the hold, after it.
func (w *tokenWorld) run(t *testing.T, name string, f func(t *testing.T)) {
	w.world.run(t, name, func(t *testing.T) {
		defer func() {
			if t.Failed() {
				if f, err := w.n.Ledger.Funds(w.ctx, w.n.Cards[0]); err == nil {
					w.held = f.Held
				}
			}
		}()
		f(t)
		w.checkHeld(t)
	})
}

func (w *tokenWorld) checkHeld(t *testing.T) {
	t.Helper()
	f, err := w.n.Ledger.Funds(w.ctx, w.n.Cards[0])
	if err != nil {
		t.Fatal(err)
	}
	if f.Held != w.held {
		t.Errorf("card 1 holds %d, want %d authorized and not captured", f.Held, w.held)
		w.held = f.Held
	}
}

// payOffer pays offer with cardholder 0 under plan (nil for none) and
// wants it authorized.
func (w *tokenWorld) payOffer(t *testing.T, offer *merchant.Offer, plan *msg.InstallRecurData, first int64) msg.XID {
	t.Helper()
	wo := lab.OfferFor(offer)
	wo.Plan = plan
	p, res, err := w.n.Lab.Wallets[0].Pay(w.ctx, w.n.Link(labnet.Merchant), wo)
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	if res.Completion != msg.AuthorizationAccepted {
		t.Fatalf("Pay completed %v", res.Completion)
	}
	w.held += first
	return p.TransIDs().XID
}

// split checks out an order of total cents shipped in parts, the first of
// first cents, and pays it.
func (w *tokenWorld) split(t *testing.T, total, first int64) msg.XID {
	t.Helper()
	offer, err := w.n.Lab.Merchant.CheckoutSplit(w.ctx, "three volumes", lab.USD(total), first)
	if err != nil {
		t.Fatal(err)
	}
	return w.payOffer(t, offer, nil, first)
}

// planned checks out an order of cents a payment and pays it under plan.
func (w *tokenWorld) planned(t *testing.T, cents int64, plan *msg.InstallRecurData) msg.XID {
	t.Helper()
	offer, err := w.n.Lab.Merchant.Checkout(w.ctx, "a subscription", lab.USD(cents))
	if err != nil {
		t.Fatal(err)
	}
	return w.payOffer(t, offer, plan, cents)
}

// authorize asks for cents more of xid under its token and wants code.
func (w *tokenWorld) authorize(t *testing.T, xid msg.XID, cents int64, want msg.AuthCode) {
	t.Helper()
	code, err := w.n.Lab.Merchant.AuthorizeShipment(w.ctx, xid, cents)
	if err != nil || code != want {
		t.Fatalf("AuthorizeShipment(%d) = %v, %v; want %v", cents, code, err, want)
	}
	if code == msg.AuthApproved {
		w.held += cents
	}
}

// captureShipment captures the latest authorization of xid, cents.
func (w *tokenWorld) captureShipment(t *testing.T, xid msg.XID, cents int64) {
	t.Helper()
	code, err := w.n.Lab.Merchant.CaptureShipment(w.ctx, xid)
	if err != nil || code != msg.CapSuccess {
		t.Fatalf("CaptureShipment: %v, %v", code, err)
	}
	w.spent[0] += cents
	w.held -= cents
	w.checkHeld(t)
}

func (w *tokenWorld) order(t *testing.T, xid msg.XID) *store.Order {
	t.Helper()
	o, err := w.n.MerchantStore.Order(w.ctx, store.XID(xid))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// wantOrder checks the merchant's record of xid.
func (w *tokenWorld) wantOrder(t *testing.T, xid msg.XID, auth, captured int64, token bool) {
	t.Helper()
	o := w.order(t, xid)
	if o.AuthAmount != auth || o.CaptureAmount != captured || (o.AuthToken != nil) != token {
		t.Errorf("order: %d authorized, %d captured, token %v; want %d, %d, token %v",
			o.AuthAmount, o.CaptureAmount, o.AuthToken != nil, auth, captured, token)
	}
}

// setToken puts token in the merchant's record of xid, as a merchant that
// kept an old one, or a broken one, would hold.
func (w *tokenWorld) setToken(t *testing.T, xid msg.XID, token []byte) {
	t.Helper()
	if _, err := w.n.MerchantStore.UpdateOrder(w.ctx, store.XID(xid), func(o *store.Order) error {
		o.AuthToken = token
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// refused makes the merchant send a subsequent AuthReq that must be
// answered with want and move nothing.
func (w *tokenWorld) refused(t *testing.T, xid msg.XID, cents int64, want msg.AuthCode) {
	t.Helper()
	before := w.snapshot(t)
	w.authorize(t, xid, cents, want)
	w.unchanged(t, before)
}

// rejected fails unless err is a SET error of code want and the last
// AuthReq to the gateway was answered with an Error message of that code.
func (w *tokenWorld) rejected(t *testing.T, err error, want msg.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatal("the gateway accepted it")
	}
	ex := w.sent(t, labnet.Gateway, "AuthReq")
	if code, ok := labnet.ErrorCode(ex.Response); !ok || code != want {
		t.Errorf("answered %s (error code %v), want Error %v (merchant saw %v)", typeOf(ex.Response), code, want, err)
	}
}

// TestTokenFlows runs a split shipment, a recurring plan and an
// instalment plan over the wire: each later part authorized under the
// token the one before brought, each captured on its own, and the card's
// hold released as each part is captured.
func TestTokenFlows(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := newTokenWorld(t, id)
			w.run(t, "split shipment", func(t *testing.T) {
				w.n.Link(labnet.Gateway).Take()
				xid := w.split(t, 100_00, 40_00)
				w.wantOrder(t, xid, 40_00, 0, true)
				w.captureShipment(t, xid, 40_00)
				w.authorize(t, xid, 35_00, msg.AuthApproved)
				w.checkHeld(t)
				w.captureShipment(t, xid, 35_00)
				w.authorize(t, xid, 25_00, msg.AuthApproved)
				w.captureShipment(t, xid, 25_00)
				w.wantOrder(t, xid, 100_00, 100_00, false)
				// Three authorizations and three captures crossed to the
				// gateway; nothing is left to authorize.
				kinds := map[string]int{}
				for _, ex := range w.n.Link(labnet.Gateway).Take() {
					kinds[typeOf(ex.Request)]++
				}
				if kinds["AuthReq"] != 3 || kinds["CapReq"] != 3 {
					t.Errorf("crossed to the gateway: %v; want 3 AuthReq and 3 CapReq", kinds)
				}
				if _, err := w.n.Lab.Merchant.AuthorizeShipment(w.ctx, xid, 1); err == nil {
					t.Error("authorized beyond a complete purchase")
				}
			})
			w.run(t, "recurring", func(t *testing.T) {
				xid := w.planned(t, 1_50, wallet.RecurringPlan(1, w.clock.Now().Add(50*time.Hour)))
				w.captureShipment(t, xid, 1_50)
				w.clock.Add(25 * time.Hour)
				w.authorize(t, xid, 1_50, msg.AuthApproved)
				w.captureShipment(t, xid, 1_50)
				w.wantOrder(t, xid, 3_00, 3_00, true)
			})
			w.run(t, "instalments", func(t *testing.T) {
				xid := w.planned(t, 200_00, wallet.InstalmentPlan(2))
				w.captureShipment(t, xid, 200_00)
				w.authorize(t, xid, 200_00, msg.AuthApproved)
				w.captureShipment(t, xid, 200_00)
				w.wantOrder(t, xid, 400_00, 400_00, false)
			})
		})
	}
}

// TestTokenAttacks attacks the AuthReqs that spend a token.
func TestTokenAttacks(t *testing.T) {
	for _, id := range suites {
		t.Run(string(id), func(t *testing.T) {
			w := newTokenWorld(t, id)
			gw := labnet.Gateway
			// shipped is a split order of 100.00 whose first 40.00 is
			// captured.
			shipped := func(t *testing.T) msg.XID {
				xid := w.split(t, 100_00, 40_00)
				w.captureShipment(t, xid, 40_00)
				return xid
			}
			// tampered sends the next AuthReq of xid through rewrite and
			// wants it refused with want, the token unspent.
			tampered := func(t *testing.T, xid msg.XID, rewrite func(done *bool) func([]byte) []byte, want msg.ErrorCode) {
				t.Helper()
				w.n.Link(gw).Take()
				before := w.snapshot(t)
				var done bool
				w.n.Link(gw).Rewrite(rewrite(&done))
				_, err := w.n.Lab.Merchant.AuthorizeShipment(w.ctx, xid, 10_00)
				w.n.Link(gw).Rewrite(nil)
				if !done {
					t.Fatal("no AuthReq to tamper with crossed to the gateway")
				}
				w.rejected(t, err, want)
				w.unchanged(t, before)
				// The token was not spent: the untouched request passes.
				w.authorize(t, xid, 10_00, msg.AuthApproved)
				w.captureShipment(t, xid, 10_00)
			}
			w.run(t, "envelope tampered", func(t *testing.T) {
				tampered(t, shipped(t), func(done *bool) func([]byte) []byte {
					return flipEnvelope(id, "AuthReq", done)
				}, msg.SignatureFailure)
			})
			w.run(t, "token tampered in transit", func(t *testing.T) {
				xid := shipped(t)
				token := w.order(t, xid).AuthToken
				// The token lies beside the merchant's signed data, which
				// holds its digest: a changed token no longer matches it.
				tampered(t, xid, func(done *bool) func([]byte) []byte {
					return func(b []byte) []byte {
						if i := bytes.Index(b, token); !*done && i >= 0 && typeOf(b) == "AuthReq" {
							b[i+len(token)/2] ^= 0x01
							*done = true
						}
						return b
					}
				}, msg.SignatureFailure)
			})
			w.run(t, "token tampered, then signed", func(t *testing.T) {
				// A merchant whose copy of the token is damaged signs its
				// digest honestly: the token itself does not open.
				xid := shipped(t)
				token := w.order(t, xid).AuthToken
				bad := bytes.Clone(token)
				bad[len(bad)-1] ^= 0x01
				w.setToken(t, xid, bad)
				w.n.Link(gw).Take()
				before := w.snapshot(t)
				_, err := w.n.Lab.Merchant.AuthorizeShipment(w.ctx, xid, 10_00)
				w.rejected(t, err, msg.SignatureFailure)
				w.unchanged(t, before)
				w.setToken(t, xid, token)
				w.authorize(t, xid, 10_00, msg.AuthApproved)
				w.captureShipment(t, xid, 10_00)
			})
			w.run(t, "AuthReq replayed", func(t *testing.T) {
				xid := shipped(t)
				w.n.Link(gw).Take()
				w.authorize(t, xid, 10_00, msg.AuthApproved)
				w.replay(t, w.sent(t, gw, "AuthReq"))
				w.captureShipment(t, xid, 10_00)
			})
			w.run(t, "spent token in a fresh AuthReq", func(t *testing.T) {
				xid := shipped(t)
				spent := w.order(t, xid).AuthToken
				w.authorize(t, xid, 10_00, msg.AuthApproved)
				w.captureShipment(t, xid, 10_00)
				fresh := w.order(t, xid).AuthToken
				w.setToken(t, xid, spent)
				w.refused(t, xid, 10_00, msg.AuthPIPreviouslyUsed)
				w.setToken(t, xid, fresh)
				w.authorize(t, xid, 50_00, msg.AuthApproved)
				w.captureShipment(t, xid, 50_00)
				w.wantOrder(t, xid, 100_00, 100_00, false)
			})
			w.run(t, "shipment above the remaining amount", func(t *testing.T) {
				xid := shipped(t)
				w.n.Link(gw).Take()
				w.refused(t, xid, 60_01, msg.AuthAmountError)
				// The refused request, replayed, is refused as a replay.
				w.replay(t, w.sent(t, gw, "AuthReq"))
				w.authorize(t, xid, 60_00, msg.AuthApproved) // the token still serves
				w.captureShipment(t, xid, 60_00)
			})
			w.run(t, "recurring payment too soon", func(t *testing.T) {
				// (Days pass within the week the lab's CRLs are good for.)
				xid := w.planned(t, 9_99, wallet.RecurringPlan(2, w.clock.Now().Add(30*24*time.Hour)))
				w.captureShipment(t, xid, 9_99)
				w.clock.Add(47 * time.Hour)
				w.refused(t, xid, 9_99, msg.AuthRecurringTooSoon)
				w.refused(t, xid, 10_00, msg.AuthAmountError)
				w.clock.Add(time.Hour)
				w.authorize(t, xid, 9_99, msg.AuthApproved)
				w.captureShipment(t, xid, 9_99)
			})
			w.run(t, "instalment beyond the plan", func(t *testing.T) {
				xid := w.planned(t, 5_00, wallet.InstalmentPlan(2))
				w.captureShipment(t, xid, 5_00)
				spent := w.order(t, xid).AuthToken
				w.authorize(t, xid, 5_00, msg.AuthApproved)
				w.captureShipment(t, xid, 5_00)
				w.wantOrder(t, xid, 10_00, 10_00, false) // the last answer brought no token
				// A merchant that kept the token of the second instalment
				// asks for a third with it.
				w.setToken(t, xid, spent)
				w.refused(t, xid, 5_00, msg.AuthPIPreviouslyUsed)
			})
			invented := &msg.InstallRecurData{InstallTotalTrans: 12}
			w.run(t, "plan the merchant invents for a split shipment", func(t *testing.T) {
				xid := shipped(t)
				before := w.snapshot(t)
				if code := w.forgeSubsequent(t, xid, 10_00, invented); code != msg.AuthInstallRecurMismatch {
					t.Errorf("answered %v, want %v", code, msg.AuthInstallRecurMismatch)
				}
				w.unchanged(t, before)
				w.authorize(t, xid, 60_00, msg.AuthApproved)
				w.captureShipment(t, xid, 60_00)
			})
			w.run(t, "plan the merchant changes", func(t *testing.T) {
				xid := w.planned(t, 5_00, wallet.InstalmentPlan(2))
				w.captureShipment(t, xid, 5_00)
				before := w.snapshot(t)
				if code := w.forgeSubsequent(t, xid, 5_00, invented); code != msg.AuthInstallRecurMismatch {
					t.Errorf("answered %v, want %v", code, msg.AuthInstallRecurMismatch)
				}
				w.unchanged(t, before)
			})
		})
	}
}

// forgeSubsequent sends the gateway, over the wire, a subsequent AuthReq
// for cents more of order xid under the token the merchant holds, whose
// payload carries plan: genuinely signed by a certificate of the lab's
// merchant ID, as a merchant would that made up its own terms. It returns
// the AuthCode of the gateway's answer.
func (w *tokenWorld) forgeSubsequent(t *testing.T, xid msg.XID, cents int64, plan *msg.InstallRecurData) msg.AuthCode {
	t.Helper()
	l := w.n.Lab
	st := w.st
	now := w.clock.Now().UTC().Truncate(time.Second)
	cred, err := l.IssueMerchant(l.MerchantID, "Corner Bookshop", now)
	if err != nil {
		t.Fatal(err)
	}
	o := w.order(t, xid)
	transIDs, err := msg.UnmarshalTransIDs(o.TransIDs)
	if err != nil {
		t.Fatal(err)
	}
	planDER, err := plan.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var rrpid msg.RRPID
	rand.Read(rrpid[:])
	gwCert := l.Certificates["gateway-exchange"]
	data := msg.AuthReqData{AuthReqItem: msg.AuthReqItem{
		AuthTags: msg.AuthTags{
			AuthRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: l.MerchantID}, CurrentDate: now},
			TransIDs:   *transIDs,
		},
		AuthReqPayload: msg.AuthReqPayload{SubsequentAuthInd: true, AuthReqAmt: lab.USD(cents), InstallRecurData: planDER},
	}}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), gwCert)
		data.PGThumb = &thumb
		data.Expiry = now.Add(5 * time.Minute)
	}
	pi := msg.PI{AuthToken: o.AuthToken}
	piDER, err := pi.Alternative()
	if err != nil {
		t.Fatal(err)
	}
	hPI, err := encap.DD(st, msg.OIDPI, piDER)
	if err != nil {
		t.Fatal(err)
	}
	tbs, err := (&msg.AuthReqTBS{AuthReqData: data, HPI: hPI}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tbe, err := encap.Enc(st, rand.Reader, cred.Signer(), gwCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, tbs)
	if err != nil {
		t.Fatal(err)
	}
	gc := &wire.GatewayClient{Endpoint: &wire.Endpoint{Suite: st, Now: w.clock.Now}, RT: w.n.Link(labnet.Gateway)}
	res, err := gc.Authorize(w.ctx, &msg.AuthReq{AuthReqTBE: tbe, PI: pi}, &msg.MessageIDs{LIDM: transIDs.LIDM, XID: &transIDs.XID})
	if err != nil {
		t.Fatalf("the gateway rejected the AuthReq: %v", err)
	}
	// Whoever signed the answer, what it says is what is checked here;
	// the merchant's own checks of the gateway's signature are tested
	// elsewhere.
	anyone := func(cert []byte, _ [][]byte) (crypto.PublicKey, error) {
		c, err := pki.ParseCertificate(cert)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
	content, _, _, err := encap.OpenEnc(st, cred.ExchangeKey, cred.ExchangeCert, res.AuthResTBE, msg.OIDAuthResTBS, msg.OIDAuthResTBE, anyone)
	if err != nil {
		t.Fatalf("opening the AuthRes: %v", err)
	}
	rtbs, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		t.Fatal(err)
	}
	return rtbs.AuthResData.AuthResPayload.AuthHeader.AuthCode
}
