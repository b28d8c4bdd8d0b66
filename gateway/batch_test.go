package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// restartable is a lab whose gateway store is a file, so that its gateway
// can be replaced by a new one over the same database.
type restartable struct {
	t    *testing.T
	l    *lab.Lab
	path string
	gs   *sqlite.DB
}

func newRestartable(t *testing.T, st suite.Suite, limit int64) *restartable {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	r := &restartable{t: t, path: filepath.Join(t.TempDir(), "gateway.db")}
	var err error
	if r.gs, err = sqlite.Open(r.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.gs.Close() })
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	// The merchant reaches whichever gateway the lab has now.
	rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return r.l.Gateway.Serve(ctx, req) })
	r.l, err = lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: r.gs, Limit: limit,
		GatewayRT: rt, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// restart closes the gateway's database and builds a new gateway, with
// the built-in issuer, over the same file.
func (r *restartable) restart() {
	r.t.Helper()
	if err := r.gs.Close(); err != nil {
		r.t.Fatal(err)
	}
	var err error
	if r.gs, err = sqlite.Open(r.path); err != nil {
		r.t.Fatal(err)
	}
	if err := r.l.RestartGateway(r.gs, nil); err != nil {
		r.t.Fatal(err)
	}
}

func (r *restartable) buy(amount int64) (msg.XID, msg.AuthCode) {
	r.t.Helper()
	ctx := context.Background()
	offer, err := r.l.Merchant.Checkout(ctx, "books", lab.USD(amount))
	if err != nil {
		r.t.Fatal(err)
	}
	p, res, err := r.l.Wallets[0].Pay(ctx, wire.ServeFunc(r.l.Merchant.Serve), lab.OfferFor(offer))
	if err != nil {
		r.t.Fatal(err)
	}
	if res.Completion == msg.AuthorizationAccepted {
		return p.TransIDs().XID, msg.AuthApproved
	}
	return p.TransIDs().XID, msg.AuthDeclined
}

// TestLimitIssuerRestart: the built-in issuer gives spending back after a
// restart between authorization and reversal or credit, because which
// account an approval charged is in the store.
func TestLimitIssuerRestart(t *testing.T) {
	ctx := context.Background()
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			r := newRestartable(t, st, 100_00)
			big, code := r.buy(60_00)
			if code != msg.AuthApproved {
				t.Fatalf("first purchase: %v", code)
			}
			small, code := r.buy(30_00)
			if code != msg.AuthApproved {
				t.Fatalf("second purchase: %v", code)
			}
			r.restart()
			if code, err := r.l.Merchant.ReverseAuthorization(ctx, big, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
				t.Fatalf("reversal after restart: %v, %v", code, err)
			}
			if code, err := r.l.Merchant.Capture(ctx, small); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture after restart: %v, %v", code, err)
			}
			r.restart()
			if code, err := r.l.Merchant.Credit(ctx, small, lab.USD(20_00)); err != nil || code != msg.CapRevOrCredSuccess {
				t.Fatalf("credit after restart: %v, %v", code, err)
			}
			// Spent now 10.00 of 100.00: 90.00 fits, 90.01 more would not.
			if _, code := r.buy(90_00); code != msg.AuthApproved {
				t.Fatalf("purchase within the limit given back: %v", code)
			}
			if _, code := r.buy(1); code != msg.AuthDeclined {
				t.Fatalf("purchase over the limit: %v", code)
			}
		})
	}
}

// TestBatchAfterRestart: captures made while a batch is open are counted
// in it, and the batch, kept in the store, reports them after a restart
// and can be closed then.
func TestBatchAfterRestart(t *testing.T) {
	ctx := context.Background()
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			r := newRestartable(t, st, 0)
			m := r.l.Merchant
			opened, err := m.Batch(ctx, msg.BatchOpOpen, nil)
			if err != nil || opened.Code != msg.BatchAdminSuccess || opened.ID == nil {
				t.Fatalf("open: %+v, %v", opened, err)
			}
			a, _ := r.buy(12_00)
			b, _ := r.buy(8_00)
			for _, x := range []msg.XID{a, b} {
				if code, err := m.Capture(ctx, x); err != nil || code != msg.CapSuccess {
					t.Fatalf("capture: %v, %v", code, err)
				}
			}
			r.restart()
			st, err := m.Batch(ctx, msg.BatchOpStatus, opened.ID)
			if err != nil || st.Code != msg.BatchAdminSuccess || st.Status == nil {
				t.Fatalf("status after restart: %+v, %v", st, err)
			}
			if s := st.Status; s.BatchState != msg.BatchStateOpen || s.CaptureCount != 2 || s.CaptureTotal != lab.USD(20_00) || s.CreditCount != 0 {
				t.Fatalf("batch after restart: %+v", s)
			}
			// Still one open batch per merchant after the restart.
			if again, err := m.Batch(ctx, msg.BatchOpOpen, nil); err != nil || again.Code != msg.BatchAdminOperationRefused || *again.ID != *opened.ID {
				t.Fatalf("second open after restart: %+v, %v", again, err)
			}
			closed, err := m.Batch(ctx, msg.BatchOpClose, opened.ID)
			if err != nil || closed.Code != msg.BatchAdminSuccess || closed.Status.BatchState != msg.BatchStateClosed || closed.Status.CaptureCount != 2 {
				t.Fatalf("close after restart: %+v, %v", closed, err)
			}
			// A capture with no batch open is in none, and changes nothing.
			c, _ := r.buy(5_00)
			if code, err := m.Capture(ctx, c); err != nil || code != msg.CapSuccess {
				t.Fatalf("capture outside a batch: %v, %v", code, err)
			}
			if st, err := m.Batch(ctx, msg.BatchOpStatus, opened.ID); err != nil || st.Status.CaptureCount != 2 {
				t.Fatalf("closed batch changed: %+v, %v", st, err)
			}
		})
	}
}

// TestBatchedCapReq: one CapReq capturing several authorizations records
// each into the open batch, numbered in order, and (modern, deviation 2)
// names the merchant and the request it answers; set1's names neither.
func TestBatchedCapReq(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 2)
			r, err := w.batch(w.mer, w.batchReq(w.mer, w.l.MerchantID, msg.BatchOpOpen, nil, nil))
			if err != nil || r.BatchAdminCode != msg.BatchAdminSuccess || r.BatchID == nil {
				t.Fatalf("open: %+v, %v", r, err)
			}
			now := w.clock.Now().UTC().Truncate(time.Second)
			var (
				items  []msg.CapItem
				tokens [][]byte
			)
			for i, cents := range []int64{7_00, 3_00} {
				p, res, err := w.pay(i, "a kite", cents)
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("purchase %d: %v, %v", i, res, err)
				}
				// Each item with the CapToken of its authorization, as
				// the merchant keeps it.
				token, authRRPID := w.capTokenFor(p.TransIDs().XID, msg.RRPID{})
				if token == nil {
					t.Fatalf("purchase %d: the merchant holds no CapToken", i)
				}
				tokens = append(tokens, token)
				items = append(items, msg.CapItem{TransIDs: p.TransIDs(), AuthRRPID: authRRPID, CapPayload: msg.CapPayload{CapDate: now, CapReqAmt: lab.USD(cents)}})
			}
			seq, hSeq := tokenSeqOf(t, st, tokens...)
			var rrpid msg.RRPID
			fillRand(t, rrpid[:])
			data := msg.CapReqData{
				CapRRTags:  msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: w.l.MerchantID}, CurrentDate: now},
				CapItemSeq: items,
			}
			if st.ID() != suite.Set1 {
				thumb := msg.ThumbOf(st.Hash(), w.gatewayExchangeCert())
				data.PGThumb, data.Expiry = &thumb, now.Add(5*time.Minute)
			}
			tbs, err := (&msg.CapReqTBS{CapReqData: data, HCapTokenSeq: hSeq}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			tbe, err := encap.Enc(st, rand.Reader, w.mer.Signer(), w.gatewayExchangeCert(), msg.OIDCapReqTBS, msg.OIDCapReqTBE, tbs)
			if err != nil {
				t.Fatal(err)
			}
			res, err := w.l.Gateway.HandleCapReq(w.ctx, &msg.CapReq{CapReqTBE: tbe, CapTokenSeq: seq})
			if err != nil {
				t.Fatal(err)
			}
			content, _, _, err := encap.OpenEnc(st, w.mer.ExchangeKey, w.mer.ExchangeCert, res.CapResTBE, msg.OIDCapResData, msg.OIDCapResTBE, w.verifier(pki.CertTypePgwy))
			if err != nil {
				t.Fatal(err)
			}
			rd, err := msg.UnmarshalCapResData(content)
			if err != nil {
				t.Fatal(err)
			}
			if len(rd.CapResItemSeq) != 2 {
				t.Fatalf("%d items answered", len(rd.CapResItemSeq))
			}
			for i, it := range rd.CapResItemSeq {
				p := it.CapResPayload
				if p.CapCode != msg.CapSuccess || p.BatchID == nil || *p.BatchID != *r.BatchID || p.BatchSequenceNum == nil || *p.BatchSequenceNum != int64(i+1) {
					t.Fatalf("item %d: %+v", i, p)
				}
			}
			h := st.Hash().New()
			h.Write(tbs)
			if st.ID() == suite.Set1 {
				if rd.MerchantThumb != nil || rd.HCapReq != nil {
					t.Fatal("set1 CapRes carries deviation 2")
				}
			} else if !rd.MerchantThumb.Matches(w.mer.Cert) || !bytes.Equal(rd.HCapReq, h.Sum(nil)) {
				t.Fatal("CapRes does not name the merchant and the CapReq answered")
			}
			st2, err := w.batch(w.mer, w.batchReq(w.mer, w.l.MerchantID, msg.BatchOpStatus, r.BatchID, nil))
			if err != nil || st2.BatchStatus == nil || st2.BatchStatus.CaptureCount != 2 || st2.BatchStatus.CaptureTotal != lab.USD(10_00) {
				t.Fatalf("status: %+v, %v", st2, err)
			}
		})
	}
}
