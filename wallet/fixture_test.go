package wallet_test

import (
	"crypto"
	"crypto/rand"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
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

// cred is a key pair and certificate (and, for merchants and gateways, a
// key-exchange pair) issued by one of the lab's CAs.
type cred struct {
	key    crypto.Signer
	cert   []byte
	exKey  suite.ExchangeKey
	exCert []byte
	chain  [][]byte // the issuing CA and the brand CA
}

// signer sends the key-exchange certificate with the signature, as the
// merchant does, so that the gateway can seal its answer to it.
func (c cred) signer() encap.Signer {
	chain := [][]byte{}
	if c.exCert != nil {
		chain = append(chain, c.exCert)
	}
	return encap.Signer{Key: c.key, Cert: c.cert, Chain: append(chain, c.chain...)}
}

func chainOf(a *pki.Authority) [][]byte {
	var out [][]byte
	for _, c := range a.Chain {
		if c.CertType&pki.CertTypeRCA == 0 {
			out = append(out, c.Raw)
		}
	}
	return out
}

func issuePair(t testing.TB, st suite.Suite, ca *pki.Authority, sig, ex func(crypto.PublicKey) *pki.Template) cred {
	t.Helper()
	key, err := st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(rand.Reader, sig(key.Public()))
	if err != nil {
		t.Fatal(err)
	}
	exKey, err := st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	exCert, err := ca.Issue(rand.Reader, ex(exKey.Public()))
	if err != nil {
		t.Fatal(err)
	}
	return cred{key: key, cert: cert.Raw, exKey: exKey, exCert: exCert.Raw, chain: chainOf(ca)}
}

func issueMerchant(t testing.TB, l *lab.Lab, merID string, now time.Time) cred {
	md := pki.MerchantData{MerID: merID, MerAcquirerBIN: "400000", MerCountry: 840, MerAuthFlag: true,
		MerNames: []pki.MerName{{Language: "en", Name: "Test Shop " + merID, City: "Springfield", CountryName: "US"}}}
	return issuePair(t, l.Suite, l.Hierarchy.MCA,
		func(p crypto.PublicKey) *pki.Template { return pki.MerchantSignatureTemplate(p, md, now) },
		func(p crypto.PublicKey) *pki.Template { return pki.MerchantExchangeTemplate(p, md, now) })
}

func issueGateway(t testing.TB, l *lab.Lab, name string, now time.Time) cred {
	return issuePair(t, l.Suite, l.Hierarchy.PCA,
		func(p crypto.PublicKey) *pki.Template { return pki.GatewaySignatureTemplate(p, name, now) },
		func(p crypto.PublicKey) *pki.Template { return pki.GatewayExchangeTemplate(p, name, now) })
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
	mer cred // the merchant the wallet talks to
	gw  cred // the gateway that merchant names
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
	now := time.Now()
	return &world{t: t, st: st, l: l, w: l.Wallets[0],
		mer: issueMerchant(t, l, "MER-0042", now), gw: issueGateway(t, l, "Test Payment Gateway", now)}
}

var offer = wallet.Offer{LIDM: []byte("order-0001"), Amount: lab.USD(1500), Description: []byte("a hat"), MerchantID: "MER-0042"}

// merchantSigner signs as the merchant and sends the gateway certificate
// and chain, as the merchant does in PInitRes.
func (w *world) merchantSigner() encap.Signer {
	s := w.mer.signer()
	s.Chain = append(append(s.Chain, w.gw.exCert), w.gw.chain...)
	return s
}

// pinitRes is the merchant's answer to req, changed by mutate, signed by s.
func (w *world) pinitRes(req *msg.PInitReq, mutate func(*msg.PInitResData), s encap.Signer) *msg.PInitRes {
	w.t.Helper()
	d := msg.PInitResData{
		TransIDs: msg.TransIDs{LIDC: req.LocalIDC, LIDM: req.LocalIDM, PReqDate: time.Now().UTC().Truncate(time.Second), Language: req.Language},
		RRPID:    req.RRPID,
		ChallC:   req.ChallC,
		PEThumb:  msg.ThumbOf(w.st.Hash(), w.gw.exCert),
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
func (w *world) proof(preq *msg.PReq, code msg.AuthCode, mutate func(*msg.AuthResData), s cred) []byte {
	w.t.Helper()
	oi := preq.DualSigned.OIDualSigned.OIData
	th := msg.ThumbOf(w.st.Hash(), w.mer.cert)
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
	signed, err := encap.S(w.st, rand.Reader, encap.Signer{Key: s.key, Cert: s.cert, Chain: s.chain}, msg.OIDAuthResTBS, content)
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

// certTime is when c's certificate became valid: the moment to issue
// further test certificates at.
func (c cred) certTime(t testing.TB) time.Time {
	t.Helper()
	cert, err := pki.ParseCertificate(c.cert)
	if err != nil {
		t.Fatal(err)
	}
	return cert.NotBefore
}
