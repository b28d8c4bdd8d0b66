package wallet_test

import (
	"context"
	"crypto/rand"
	"github.com/setpay/setpay/pki"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// The fixture: the lab's CAs and a cardholder wallet, facing a merchant
// and a gateway of our own making, so that tests can answer the wallet with
// messages an honest merchant would never send.

func suites() []suite.Suite {
	// set1 with 2048-bit RSA: a PANData does not fit SET's OAEP block
	// under a 1024-bit key.
	return []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})}
}

// issueMerchant and issueGateway issue credentials of our own from the
// lab's CAs: a merchant or gateway the wallet may be shown.
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

func fillRand(t testing.TB, bufs ...[]byte) {
	t.Helper()
	for _, b := range bufs {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
	}
}

type world struct {
	t   testing.TB
	st  suite.Suite
	l   *lab.Lab
	w   *wallet.Wallet
	t0  time.Time      // when mer and gw were issued: the moment to issue more at
	mer lab.Credential // the merchant the wallet talks to
	gw  lab.Credential // the gateway that merchant names
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
	l, err := lab.New(lab.Options{Suite: st, MerchantStore: open(), GatewayStore: open()})
	if err != nil {
		t.Fatal(err)
	}
	// Certificates keep whole seconds: issue at one, so that t0 is exactly
	// when they became valid.
	t0 := time.Now().UTC().Truncate(time.Second)
	return &world{t: t, st: st, l: l, w: l.Wallets[0], t0: t0,
		mer: issueMerchant(t, l, "MER-0042", t0), gw: issueGateway(t, l, "Test Payment Gateway", t0)}
}

var offer = wallet.Offer{LIDM: []byte("order-0001"), Amount: lab.USD(1500), Description: []byte("a hat"), MerchantID: "MER-0042"}

// merchantSigner signs as the merchant and sends the gateway certificate
// and chain, as the merchant does in PInitRes.
func (w *world) merchantSigner() encap.Signer {
	s := w.mer.Signer()
	s.Chain = append(append(s.Chain, w.gw.ExchangeCert), w.gw.Chain...)
	return s
}

// pinitRes is the merchant's answer to req, changed by mutate, signed by s.
func (w *world) pinitRes(req *msg.PInitReq, mutate func(*msg.PInitResData), s encap.Signer) *msg.PInitRes {
	w.t.Helper()
	d := msg.PInitResData{
		TransIDs: msg.TransIDs{LIDC: req.LocalIDC, LIDM: req.LocalIDM, PReqDate: time.Now().UTC().Truncate(time.Second), Language: req.Language},
		RRPID:    req.RRPID,
		ChallC:   req.ChallC,
		PEThumb:  msg.ThumbOf(w.st.Hash(), w.gw.ExchangeCert),
	}
	// As a merchant does, carry the CRLs and BCI: the wallet starts
	// with none and requires them.
	crls, bci, err := pki.ToCarry(context.Background(), w.l.Revocations(), req.Thumbs, time.Time{})
	if err != nil {
		w.t.Fatal(err)
	}
	d.BrandCRLIdentifier = bci
	if s.CRLs == nil {
		s.CRLs = crls
	}
	fillRand(w.t, d.TransIDs.XID[:], d.ChallM[:])
	if mutate != nil {
		mutate(&d)
	}
	content, err := d.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	signed, err := encap.S(w.st, rand.Reader, s, msg.OIDPInitResData, content)
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := (&msg.PInitRes{SignedData: signed}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := msg.UnmarshalPInitRes(b)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// toPReq runs a purchase through an honest PInitRes to the PReq.
func (w *world) toPReq() (*wallet.Purchase, *msg.PReq) {
	w.t.Helper()
	p, req, err := w.w.Start(offer)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := p.HandlePInitRes(w.pinitRes(req, nil, w.merchantSigner())); err != nil {
		w.t.Fatal(err)
	}
	preq, err := p.PReq()
	if err != nil {
		w.t.Fatal(err)
	}
	return p, preq
}

// proof is the gateway's signed authorization result for preq, changed by
// mutate, signed by s.
func (w *world) proof(preq *msg.PReq, code msg.AuthCode, mutate func(*msg.AuthResData), s lab.Credential) []byte {
	w.t.Helper()
	oi := preq.DualSigned.OIDualSigned.OIData
	th := msg.ThumbOf(w.st.Hash(), w.mer.Cert)
	d := msg.AuthResData{
		AuthTags: msg.AuthTags{
			AuthRRTags: msg.RRTags{MerTermIDs: msg.MerTermIDs{MerchantID: "MER-0042"}, CurrentDate: time.Now().UTC().Truncate(time.Second)},
			TransIDs:   oi.TransIDs,
		},
		AuthResPayload: msg.AuthResPayload{AuthHeader: msg.AuthHeader{AuthAmt: offer.Amount, AuthCode: code}},
		MerchantThumb:  &th,
		HAuthReq:       make([]byte, 32),
	}
	fillRand(w.t, d.AuthTags.AuthRRTags.RRPID[:], d.HAuthReq)
	if mutate != nil {
		mutate(&d)
	}
	content, err := (&msg.AuthResTBS{AuthResData: d}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	signed, err := encap.S(w.st, rand.Reader, encap.Signer{Key: s.Key, Cert: s.Cert, Chain: s.Chain}, msg.OIDAuthResTBS, content)
	if err != nil {
		w.t.Fatal(err)
	}
	return signed
}

// pres is the merchant's purchase response to preq, changed by mutate,
// signed by s.
func (w *world) pres(preq *msg.PReq, completion msg.CompletionCode, proof []byte, mutate func(*msg.PResData), s encap.Signer) *msg.PRes {
	w.t.Helper()
	oi := preq.DualSigned.OIDualSigned.OIData
	d := msg.PResData{TransIDs: oi.TransIDs, RRPID: oi.RRPID, ChallC: oi.ChallC,
		PResPayloadSeq: []msg.PResPayload{{CompletionCode: completion, AuthResSigned: proof}}}
	if mutate != nil {
		mutate(&d)
	}
	content, err := d.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	signed, err := encap.S(w.st, rand.Reader, s, msg.OIDPResData, content)
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := (&msg.PRes{SignedData: signed}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := msg.UnmarshalPRes(b)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
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
