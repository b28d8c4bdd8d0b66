package gateway_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
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
	"github.com/setpay/setpay/wire"
)

// The fixture: a lab (CAs, gateway, merchant, cardholders) whose merchant
// reaches the gateway through a tap, a settable clock, and credentials of
// our own issued by the lab's CAs so that tests can sign and seal requests
// the honest cores would never build.

func suites() []suite.Suite {
	// set1 with 2048-bit RSA: a PANData does not fit SET's OAEP block
	// under a 1024-bit key.
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

// clock is a settable time source shared by every party of a world.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// issueMerchant, issueGateway and issueCardholder issue credentials of our
// own from the lab's CAs, to sign and seal what the honest cores would not.
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

// issueCardholder makes a card and a cardholder signature certificate for it.
func issueCardholder(t testing.TB, l *lab.Lab, pan string, now time.Time) (lab.Credential, wallet.Card) {
	t.Helper()
	card, c, err := l.IssueCardholder(pan, now)
	if err != nil {
		t.Fatal(err)
	}
	return c, card
}

func fillRand(t testing.TB, bufs ...[]byte) {
	t.Helper()
	for _, b := range bufs {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
	}
}

// world is one lab plus what the tests need around it.
type world struct {
	t     testing.TB
	ctx   context.Context
	st    suite.Suite
	l     *lab.Lab
	gs    *sqlite.DB // the gateway's store
	ms    *sqlite.DB // the merchant's store
	clock *clock
	t0    time.Time // when the certificates were issued

	// mer is a second credential of the lab's merchant (same merchant ID,
	// issued by the same MCA): what a merchant, or an attacker holding a
	// merchant's key, can sign.
	mer lab.Credential

	mu   sync.Mutex
	hold bool     // the tap keeps requests from the gateway
	seen [][]byte // every request the tap saw, as wrapper bytes

	// capTokens are the CapTokens of the authorizations this test's own
	// AuthReqs were answered (noteCapToken), oldest first by purchase, as
	// an honest merchant keeps them.
	capTokens map[msg.XID][]issuedCapToken
}

// issuedCapToken is a CapToken and the RRPID of the AuthReq it answered.
type issuedCapToken struct {
	token []byte
	rrpid msg.RRPID
}

const limit = 10000

// quiet drops the parties' logs: the mangling tests provoke thousands of
// rejections.
var quiet = slog.New(slog.DiscardHandler)

func newWorld(t testing.TB, st suite.Suite, cardholders int) *world {
	t.Helper()
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close(); gs.Close() })
	w := &world{t: t, ctx: context.Background(), st: st, gs: gs, ms: ms}
	w.t0 = time.Now().UTC().Truncate(time.Second)
	w.clock = &clock{t: w.t0}
	tap := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		w.mu.Lock()
		w.seen = append(w.seen, append([]byte(nil), req...))
		hold := w.hold
		w.mu.Unlock()
		if hold {
			return nil, errors.New("tap: request held back from the gateway")
		}
		return w.l.Gateway.Serve(ctx, req)
	})
	w.l, err = lab.New(lab.Options{Suite: st, Cardholders: cardholders, MerchantStore: ms, GatewayStore: gs,
		Limit: limit, GatewayRT: tap, Now: w.clock.Now,
		MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.mer = issueMerchant(t, w.l, w.l.MerchantID, w.t0)
	return w
}

func (w *world) setHold(h bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold = h
}

// lastSeen returns the wrapper bytes of the last request of the given
// message type the tap saw.
func lastSeen[T msg.Message](w *world) []byte {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.seen) - 1; i >= 0; i-- {
		mw, err := msg.UnmarshalMessageWrapper(w.seen[i])
		if err != nil {
			continue
		}
		if _, ok := mw.Message.(T); ok {
			return w.seen[i]
		}
	}
	w.t.Fatal("the tap saw no such request")
	return nil
}

func (w *world) gatewayExchangeCert() []byte { return w.l.Certificates["gateway-exchange"] }

// purchase is a purchase up to the cardholder's PReq, which has not been
// sent to the merchant.
type purchase struct {
	offer *merchant.Offer
	p     *wallet.Purchase
	preq  *msg.PReq
}

func (w *world) startPurchase(cardholder int, desc string, cents int64) *purchase {
	w.t.Helper()
	offer, err := w.l.Merchant.Checkout(w.ctx, desc, lab.USD(cents))
	if err != nil {
		w.t.Fatal(err)
	}
	p, initReq, err := w.l.Wallets[cardholder].Start(lab.OfferFor(offer))
	if err != nil {
		w.t.Fatal(err)
	}
	initRes, err := w.l.Merchant.HandlePInitReq(w.ctx, initReq)
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
	return &purchase{offer: offer, p: p, preq: preq}
}

// pay runs a whole purchase through the lab's merchant (and the tap).
// addressed returns what a modern request sent at now carries to name
// its gateway and bound its life (PGThumb, Expiry); nothing in set1.
func (w *world) addressed(now time.Time) (*msg.CertThumb, time.Time) {
	if w.st.ID() == suite.Set1 {
		return nil, time.Time{}
	}
	thumb := msg.ThumbOf(w.st.Hash(), w.gatewayExchangeCert())
	return &thumb, now.Add(5 * time.Minute)
}

// toGateway seals tbs from the lab's merchant to the gateway (SET's Enc).
func (w *world) toGateway(ctTBS, ctTBE asn1.ObjectIdentifier, tbs []byte) []byte {
	w.t.Helper()
	tbe, err := encap.Enc(w.st, rand.Reader, w.mer.Signer(), w.gatewayExchangeCert(), ctTBS, ctTBE, tbs)
	if err != nil {
		w.t.Fatal(err)
	}
	return tbe
}

// fromGateway opens an answer the gateway sealed to the lab's merchant,
// checking the gateway's signature.
func (w *world) fromGateway(tbe []byte, ctData, ctTBE asn1.ObjectIdentifier) []byte {
	w.t.Helper()
	content, _, _, err := encap.OpenEnc(w.st, w.mer.ExchangeKey, w.mer.ExchangeCert, tbe, ctData, ctTBE, w.verifier(pki.CertTypePgwy))
	if err != nil {
		w.t.Fatalf("opening the gateway's answer: %v", err)
	}
	return content
}

// authorized has the first cardholder buy desc for 20.00 and returns the
// purchase's XID and the CapToken the merchant kept from the AuthRes.
func (w *world) authorized(desc string) (msg.XID, []byte) {
	w.t.Helper()
	p, res, err := w.pay(0, desc, 20_00)
	if err != nil || res.Completion != msg.AuthorizationAccepted {
		w.t.Fatalf("purchase: %v, %v", res, err)
	}
	xid := p.TransIDs().XID
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil || o.CapToken == nil {
		w.t.Fatalf("order %+v, %v: no CapToken", o, err)
	}
	return xid, o.CapToken
}

func (w *world) pay(cardholder int, desc string, cents int64) (*wallet.Purchase, *wallet.Result, error) {
	w.t.Helper()
	offer, err := w.l.Merchant.Checkout(w.ctx, desc, lab.USD(cents))
	if err != nil {
		w.t.Fatal(err)
	}
	return w.l.Wallets[cardholder].Pay(w.ctx, wire.ServeFunc(w.l.Merchant.Serve), lab.OfferFor(offer))
}

func (pu *purchase) pi() msg.PI { return msg.PI{PIDualSigned: &pu.preq.DualSigned.PIDualSigned} }

func (pu *purchase) oi() *msg.OIData { return &pu.preq.DualSigned.OIDualSigned.OIData }

// authData is the AuthReqData an honest merchant builds for the order
// information oi and its order digest, for amount.
func (w *world) authData(transIDs msg.TransIDs, hOIData, hod []byte, amount msg.CurrencyAmount) msg.AuthReqData {
	w.t.Helper()
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	data := msg.AuthReqData{AuthReqItem: msg.AuthReqItem{
		AuthTags: msg.AuthTags{
			AuthRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: w.l.MerchantID}, CurrentDate: now},
			TransIDs:   transIDs,
		},
		CheckDigests:   &msg.CheckDigests{HOIData: hOIData, HOD2: hod},
		AuthReqPayload: msg.AuthReqPayload{AuthReqAmt: amount},
	}}
	data.PGThumb, data.Expiry = w.addressed(now)
	return data
}

// honestData is what the lab's merchant would put in the AuthReq for pu.
func (w *world) honestData(pu *purchase) msg.AuthReqData {
	w.t.Helper()
	oi := pu.oi()
	hOIData, err := encap.DD(w.st, msg.OIDOIData, oi.Raw())
	if err != nil {
		w.t.Fatal(err)
	}
	return w.authData(oi.TransIDs, hOIData, oi.HOD, pu.offer.Amount)
}

// hPI is the merchant's digest of the PI it forwards.
func (w *world) hPI(pi msg.PI) []byte {
	w.t.Helper()
	piDER, err := pi.Alternative()
	if err != nil {
		w.t.Fatal(err)
	}
	h, err := encap.DD(w.st, msg.OIDPI, piDER)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// seal signs data and hPI as merchant credential c and seals them to the
// gateway, with pi beside.
func (w *world) seal(c lab.Credential, data msg.AuthReqData, hPI []byte, pi msg.PI) *msg.AuthReq {
	w.t.Helper()
	tbs, err := (&msg.AuthReqTBS{AuthReqData: data, HPI: hPI}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	tbe, err := encap.Enc(w.st, rand.Reader, c.Signer(), w.gatewayExchangeCert(), msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, tbs)
	if err != nil {
		w.t.Fatal(err)
	}
	// Through the wire encoding, as the gateway would receive it.
	b, err := (&msg.AuthReq{AuthReqTBE: tbe, PI: pi}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	req, err := msg.UnmarshalAuthReq(b)
	if err != nil {
		w.t.Fatal(err)
	}
	return req
}

// authorize sends an AuthReq signed by our merchant credential and returns
// the gateway's decision, or its rejection.
func (w *world) authorize(data msg.AuthReqData, hPI []byte, pi msg.PI) (msg.AuthCode, error) {
	w.t.Helper()
	res, err := w.l.Gateway.HandleAuthReq(w.ctx, w.seal(w.mer, data, hPI, pi))
	if err != nil {
		return 0, err
	}
	content := w.fromGateway(res.AuthResTBE, msg.OIDAuthResTBS, msg.OIDAuthResTBE)
	tbs, err := msg.UnmarshalAuthResTBS(content)
	if err != nil {
		w.t.Fatal(err)
	}
	w.noteCapToken(&data, res)
	return tbs.AuthResData.AuthResPayload.AuthHeader.AuthCode, nil
}

// noteCapToken keeps the CapToken, if any, the gateway answered the
// AuthReq of data with in res.
func (w *world) noteCapToken(data *msg.AuthReqData, res *msg.AuthRes) {
	if res.AuthResBaggage == nil || res.AuthResBaggage.CapToken == nil {
		return
	}
	tags := &data.AuthReqItem.AuthTags
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.capTokens == nil {
		w.capTokens = map[msg.XID][]issuedCapToken{}
	}
	w.capTokens[tags.TransIDs.XID] = append(w.capTokens[tags.TransIDs.XID], issuedCapToken{res.AuthResBaggage.CapToken, tags.AuthRRTags.RRPID})
}

// capTokenFor returns the CapToken the gateway issued for purchase xid's
// authorization named by rrpid (zero: the purchase's own, the first), and
// that authorization's RRPID: the one noteCapToken kept, else the one the
// lab's merchant keeps for the order part. nil: none.
func (w *world) capTokenFor(xid msg.XID, rrpid msg.RRPID) ([]byte, msg.RRPID) {
	w.mu.Lock()
	kept := w.capTokens[xid]
	w.mu.Unlock()
	for _, c := range kept {
		if rrpid == (msg.RRPID{}) || rrpid == c.rrpid {
			return c.token, c.rrpid
		}
	}
	o, err := w.ms.Order(w.ctx, store.XID(xid))
	if err != nil {
		return nil, rrpid
	}
	for _, p := range o.Parts {
		if len(p.AuthRRPID) == len(rrpid) && p.CapToken != nil && (rrpid == msg.RRPID{} || rrpid == msg.RRPID(p.AuthRRPID)) {
			return p.CapToken, msg.RRPID(p.AuthRRPID)
		}
	}
	if o.CapToken != nil && len(o.AuthRRPID) == len(rrpid) && (rrpid == msg.RRPID{} || rrpid == msg.RRPID(o.AuthRRPID)) {
		return o.CapToken, msg.RRPID(o.AuthRRPID)
	}
	return nil, rrpid
}

// withCapTokens gives each item naming purchase xid the CapToken the
// gateway issued for the authorization it names (by the RRPID get
// returns; zero: the latest), as an honest merchant sends it: set names
// the authorization in the item, and the returned CapTokenSeq and digest
// carry the token for it, NULL for the other items. nil, nil: no token.
func (w *world) withCapTokens(xid msg.XID, items int, get func(i int) (msg.XID, msg.RRPID), set func(i int, rrpid msg.RRPID)) (*msg.CapTokenSeq, []byte) {
	w.t.Helper()
	tokens, any := make([][]byte, items), false
	for i := range tokens {
		ix, ir := get(i)
		if ix != xid {
			continue
		}
		if token, rrpid := w.capTokenFor(xid, ir); token != nil {
			tokens[i], any = token, true
			set(i, rrpid)
		}
	}
	if !any {
		return nil, nil
	}
	return tokenSeqOf(w.t, w.st, tokens...)
}

func (w *world) verifier(ct pki.CertType) encap.CertVerifier {
	return pki.CertVerifier(pki.VerifyOptions{Roots: w.l.Roots, Now: w.clock.Now(), CertType: ct, KeyUsage: x509.KeyUsageDigitalSignature})
}

// captureWith sends a CapReq for one authorization, signed by merchant
// credential c and changed by mutate, and returns the gateway's capture code, or its rejection.
// Items naming transIDs carry the CapToken the gateway issued for it.
func (w *world) captureWith(c lab.Credential, merID string, transIDs msg.TransIDs, amount msg.CurrencyAmount, mutate func(*msg.CapReqData)) (msg.CapCode, error) {
	w.t.Helper()
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	data := msg.CapReqData{
		CapRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: merID}, CurrentDate: now},
		CapItemSeq: []msg.CapItem{{TransIDs: transIDs,
			CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: amount}}},
	}
	data.PGThumb, data.Expiry = w.addressed(now)
	if mutate != nil {
		mutate(&data)
	}
	items := data.CapItemSeq
	if data.CapRRTags.MerTermIDs.MerchantID != w.l.MerchantID {
		// Another merchant does not hold our merchant's tokens.
		items = nil
	}
	seq, h := w.withCapTokens(transIDs.XID, len(items), func(i int) (msg.XID, msg.RRPID) { return items[i].TransIDs.XID, items[i].AuthRRPID },
		func(i int, rrpid msg.RRPID) { items[i].AuthRRPID = rrpid })
	tbs, err := (&msg.CapReqTBS{CapReqData: data, HCapTokenSeq: h}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	tbe, err := encap.Enc(w.st, rand.Reader, c.Signer(), w.gatewayExchangeCert(), msg.OIDCapReqTBS, msg.OIDCapReqTBE, tbs)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.l.Gateway.HandleCapReq(w.ctx, &msg.CapReq{CapReqTBE: tbe, CapTokenSeq: seq})
	if err != nil {
		return 0, err
	}
	content, _, _, err := encap.OpenEnc(w.st, c.ExchangeKey, c.ExchangeCert, res.CapResTBE, msg.OIDCapResData, msg.OIDCapResTBE, w.verifier(pki.CertTypePgwy))
	if err != nil {
		w.t.Fatalf("opening CapRes: %v", err)
	}
	rd, err := msg.UnmarshalCapResData(content)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(rd.CapResItemSeq) != 1 || rd.CapResItemSeq[0].TransIDs.XID != transIDs.XID {
		w.t.Fatalf("CapRes answers %d items, not our one", len(rd.CapResItemSeq))
	}
	return rd.CapResItemSeq[0].CapResPayload.CapCode, nil
}

// piSpec says how to build a payment instruction by hand, as a cardholder
// (or an attacker with a cardholder's key) could.
type piSpec struct {
	holder     lab.Credential
	card       wallet.Card
	transIDs   msg.TransIDs
	od         string
	amount     msg.CurrencyAmount
	merchantID string
	pgThumb    *msg.CertThumb // nil: none (set1)
	sealTo     []byte         // the gateway key-exchange certificate
	plan       []byte         // PIHead's installRecurData; nil: none
}

// forgedPI is a hand-built PI with the digests the merchant would forward.
type forgedPI struct {
	pi       msg.PI
	hOIData  []byte
	hod      []byte
	transIDs msg.TransIDs
}

// forgePI builds a dual-signed PI the way the wallet does, from spec.
func (w *world) forgePI(s piSpec) forgedPI {
	w.t.Helper()
	st := w.st
	var odSalt, exNonce msg.Nonce
	var rrpid msg.RRPID
	var challC, challM msg.Challenge
	fillRand(w.t, odSalt[:], exNonce[:], rrpid[:], challC[:], challM[:])
	must := func(b []byte, err error) []byte {
		w.t.Helper()
		if err != nil {
			w.t.Fatal(err)
		}
		return b
	}
	hodInput := must((&msg.HODInput{OD: []byte(s.od), PurchAmt: s.amount, ODSalt: odSalt}).Marshal())
	hod := must(encap.DD(st, msg.OIDHODInput, hodInput))
	oiData := must((&msg.OIData{TransIDs: s.transIDs, RRPID: rrpid, ChallC: challC, HOD: hod, ODSalt: odSalt,
		ChallM: &challM, BrandID: s.card.BrandID, BIN: s.card.PAN[:6]}).Marshal())
	head := msg.PIHead{
		TransIDs:   s.transIDs,
		Inputs:     msg.Inputs{HOD: hod, PurchAmt: s.amount},
		MerchantID: s.merchantID,
		TransStain: encap.HMAC(st, s.card.CardSecret[:], s.transIDs.XID[:]),
		SWIdent:    "forged/0",
		PGThumb:    s.pgThumb,
	}
	head.InstallRecurData = s.plan
	pan := msg.PANData{PAN: s.card.PAN, CardExpiry: s.card.Expiry, PANSecret: s.card.PANSecret, EXNonce: exNonce}
	panData := must(pan.Marshal())
	piData := must((&msg.PIData{PIHead: head, PANData: pan}).Marshal())
	piSig, _, hOIData, err := encap.DualSign(st, rand.Reader, s.holder.Signer(), piData, oiData)
	if err != nil {
		w.t.Fatal(err)
	}
	hPAN := must(encap.DD(st, msg.OIDPANData, panData))
	tbe := must((&msg.PIDualSignedTBE{PIOILink: msg.PIOILink{PIHead: head, HOIData: hOIData}, HPANData: hPAN}).Marshal())
	ex := must(encap.EX(st, rand.Reader, s.sealTo, msg.OIDPIDualSignedTBE, tbe, panData))
	return forgedPI{pi: msg.PI{PIDualSigned: &msg.PIDualSigned{PISignature: piSig, EXPIData: ex}}, hOIData: hOIData, hod: hod, transIDs: s.transIDs}
}

// newTransIDs returns fresh transaction IDs.
func (w *world) newTransIDs() msg.TransIDs {
	w.t.Helper()
	tid := msg.TransIDs{LIDC: make([]byte, 20), PReqDate: w.clock.Now().UTC().Truncate(time.Second), Language: "en"}
	fillRand(w.t, tid.LIDC, tid.XID[:])
	tid.LIDM = append([]byte(nil), tid.XID[:]...)
	return tid
}

// honestSpec is a PI spec the gateway must approve: our own cardholder,
// this merchant, this gateway.
func (w *world) honestSpec(holder lab.Credential, card wallet.Card, cents int64) piSpec {
	s := piSpec{holder: holder, card: card, transIDs: w.newTransIDs(), od: "a forged order", amount: lab.USD(cents),
		merchantID: w.l.MerchantID, sealTo: w.gatewayExchangeCert()}
	if w.st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(w.st.Hash(), w.gatewayExchangeCert())
		s.pgThumb = &thumb
	}
	return s
}

// authorizeForged authorizes f with an honest merchant request.
func (w *world) authorizeForged(f forgedPI, amount msg.CurrencyAmount) (msg.AuthCode, error) {
	w.t.Helper()
	return w.authorize(w.authData(f.transIDs, f.hOIData, f.hod, amount), w.hPI(f.pi), f.pi)
}

// authorization returns the gateway's record for xid, nil if none.
func (w *world) authorization(xid msg.XID) *store.Authorization {
	w.t.Helper()
	a, err := w.gs.Authorization(w.ctx, store.XID(xid))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// errorCode decodes the SET Error a Serve answered with; it fails the test
// if the answer is anything else.
func errorCode(t testing.TB, resp []byte) msg.ErrorCode {
	t.Helper()
	mw, err := msg.UnmarshalMessageWrapper(resp)
	if err != nil {
		t.Fatalf("response does not decode: %v", err)
	}
	em, ok := mw.Message.(*msg.Error)
	if !ok {
		t.Fatalf("answered with %s, want an Error", mw.Message.Name())
	}
	tbs, err := wire.ErrorTBS(em)
	if err != nil {
		t.Fatalf("Error does not decode: %v", err)
	}
	return tbs.ErrorCode
}
