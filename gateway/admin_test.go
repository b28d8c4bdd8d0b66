package gateway_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// pcertReq sends a PCertReq signed by s for merID, changed by mutate.
func (w *world) pcertReq(s encap.Signer, merID string, mutate func(*msg.PCertReqData)) (*msg.PCertResTBS, error) {
	w.t.Helper()
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	d := msg.PCertReqData{
		PCertRRTags:    msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: merID}, CurrentDate: now},
		BrandAndBINSeq: []msg.BrandAndBIN{{BrandID: "SETpay"}},
	}
	if w.st.ID() != suite.Set1 {
		th := msg.ThumbOf(w.st.Hash(), w.gatewayExchangeCert())
		d.PGThumb = &th
		d.Expiry = now.Add(5 * time.Minute)
	}
	if mutate != nil {
		mutate(&d)
	}
	content, err := d.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	signed, err := encap.S(w.st, rand.Reader, s, msg.OIDPCertReqData, content)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.l.Gateway.HandlePCertReq(w.ctx, &msg.PCertReq{SignedData: signed})
	if err != nil {
		return nil, err
	}
	tbs, _, err := encap.OpenS(w.st, res.SignedData, msg.OIDPCertResTBS, w.verifier(pki.CertTypePgwy))
	if err != nil {
		w.t.Fatalf("opening PCertRes: %v", err)
	}
	r, err := msg.UnmarshalPCertResTBS(tbs)
	if err != nil {
		w.t.Fatal(err)
	}
	if r.PCertRRTags.RRPID != rrpid {
		w.t.Fatal("PCertRes answers another request")
	}
	return r, nil
}

func TestPCertReq(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			res, err := w.pcertReq(w.mer.Signer(), w.l.MerchantID, nil)
			if err != nil {
				t.Fatalf("honest PCertReq refused: %v", err)
			}
			if len(res.PCertResItemSeq) != 1 || res.PCertResItemSeq[0].PCertCode != msg.PCertSuccess {
				t.Fatalf("PCertRes items %+v", res.PCertResItemSeq)
			}
			ex := false
			for _, th := range res.PCertResItemSeq[0].CertThumbs {
				ex = ex || th.Matches(w.gatewayExchangeCert())
			}
			if !ex {
				t.Fatal("PCertRes does not list the gateway's key-exchange certificate")
			}
			if st.ID() != suite.Set1 && !res.MerchantThumb.Matches(w.mer.Cert) {
				t.Fatal("PCertRes does not name the merchant answered")
			}

			holder, _ := issueCardholder(t, w.l, "4111111111111111", w.t0)
			_, err = w.pcertReq(holder.Signer(), w.l.MerchantID, nil)
			wantCode(t, err, msg.InvalidCertificate)
			_, err = w.pcertReq(w.mer.Signer(), "MER-9999", nil)
			wantCode(t, err, msg.InvalidCertificate)
			if st.ID() != suite.Set1 {
				// A merchant may not know the current certificate: no
				// pgThumb is fine; a wrong one is not.
				if _, err := w.pcertReq(w.mer.Signer(), w.l.MerchantID, func(d *msg.PCertReqData) { d.PGThumb = nil }); err != nil {
					t.Fatalf("PCertReq without pgThumb refused: %v", err)
				}
				other := issueGateway(t, w.l, "Other Gateway", w.t0)
				_, err = w.pcertReq(w.mer.Signer(), w.l.MerchantID, func(d *msg.PCertReqData) {
					th := msg.ThumbOf(st.Hash(), other.ExchangeCert)
					d.PGThumb = &th
				})
				wantCode(t, err, msg.ThumbsMismatch)
				_, err = w.pcertReq(w.mer.Signer(), w.l.MerchantID, func(d *msg.PCertReqData) { d.Expiry = w.clock.Now().Add(-time.Second) })
				wantCode(t, err, msg.MessageTooOld)
			}
		})
	}
}

// batchReq builds a BatchAdminReq sealed to the gateway, signed by c for
// merID, changed by mutate.
func (w *world) batchReq(c lab.Credential, merID string, op msg.BatchOperation, id *int64, mutate func(*msg.BatchAdminReqData)) *msg.BatchAdminReq {
	w.t.Helper()
	var rrpid msg.RRPID
	fillRand(w.t, rrpid[:])
	now := w.clock.Now().UTC().Truncate(time.Second)
	d := msg.BatchAdminReqData{
		BatchAdminRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: merID}, CurrentDate: now},
		BatchOperation:   op,
		BatchID:          id,
	}
	if w.st.ID() != suite.Set1 {
		th := msg.ThumbOf(w.st.Hash(), w.gatewayExchangeCert())
		d.PGThumb = &th
		d.Expiry = now.Add(5 * time.Minute)
	}
	if mutate != nil {
		mutate(&d)
	}
	tbs, err := d.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	tbe, err := encap.Enc(w.st, rand.Reader, c.Signer(), w.gatewayExchangeCert(), msg.OIDBatchAdminReqData, msg.OIDBatchAdminReqTBE, tbs)
	if err != nil {
		w.t.Fatal(err)
	}
	return &msg.BatchAdminReq{BatchAdminReqTBE: tbe}
}

// batch sends req and opens the answer as c.
func (w *world) batch(c lab.Credential, req *msg.BatchAdminReq) (*msg.BatchAdminResData, error) {
	w.t.Helper()
	res, err := w.l.Gateway.HandleBatchAdminReq(w.ctx, req)
	if err != nil {
		return nil, err
	}
	content, _, _, err := encap.OpenEnc(w.st, c.ExchangeKey, c.ExchangeCert, res.BatchAdminResTBE, msg.OIDBatchAdminResData, msg.OIDBatchAdminResTBE, w.verifier(pki.CertTypePgwy))
	if err != nil {
		w.t.Fatalf("opening BatchAdminRes: %v", err)
	}
	d, err := msg.UnmarshalBatchAdminResData(content)
	if err != nil {
		w.t.Fatal(err)
	}
	return d, nil
}

func TestBatchAdminReq(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st, 1)
			mer := w.l.MerchantID
			open := w.batchReq(w.mer, mer, msg.BatchOpOpen, nil, nil)
			r, err := w.batch(w.mer, open)
			if err != nil || r.BatchAdminCode != msg.BatchAdminSuccess || r.BatchID == nil {
				t.Fatalf("open: %v %+v", err, r)
			}
			id := *r.BatchID
			if st.ID() != suite.Set1 && !r.MerchantThumb.Matches(w.mer.Cert) {
				t.Fatal("BatchAdminRes does not name the merchant answered")
			}

			// The same request again is a replay, refused before it acts.
			_, err = w.batch(w.mer, open)
			wantCode(t, err, msg.MessageTooOld)

			// Another merchant cannot see or close this merchant's batch.
			rival := issueMerchant(t, w.l, "MER-0099", w.t0)
			for _, op := range []msg.BatchOperation{msg.BatchOpStatus, msg.BatchOpClose, msg.BatchOpPurge} {
				r, err := w.batch(rival, w.batchReq(rival, "MER-0099", op, &id, nil))
				if err != nil || r.BatchAdminCode != msg.BatchAdminBatchUnknown || r.BatchStatus != nil {
					t.Fatalf("rival %v of our batch: %v %+v", op, err, r)
				}
			}
			r, err = w.batch(w.mer, w.batchReq(w.mer, mer, msg.BatchOpStatus, &id, nil))
			if err != nil || r.BatchStatus == nil || r.BatchStatus.BatchState != msg.BatchStateOpen {
				t.Fatalf("batch after the rival's attempts: %v %+v", err, r)
			}

			// A merchant ID other than the certificate's.
			_, err = w.batch(w.mer, w.batchReq(w.mer, "MER-0099", msg.BatchOpClose, &id, nil))
			wantCode(t, err, msg.InvalidCertificate)
			// Signed by a gateway, not a merchant.
			gw := issueGateway(t, w.l, "Other Gateway", w.t0)
			_, err = w.l.Gateway.HandleBatchAdminReq(w.ctx, w.batchReq(gw, mer, msg.BatchOpClose, &id, nil))
			if err == nil {
				t.Fatal("BatchAdminReq signed by a gateway accepted")
			}
			if st.ID() != suite.Set1 {
				_, err = w.batch(w.mer, w.batchReq(w.mer, mer, msg.BatchOpClose, &id, func(d *msg.BatchAdminReqData) {
					th := msg.ThumbOf(st.Hash(), gw.ExchangeCert)
					d.PGThumb = &th
				}))
				wantCode(t, err, msg.ThumbsMismatch)
				_, err = w.batch(w.mer, w.batchReq(w.mer, mer, msg.BatchOpClose, &id, func(d *msg.BatchAdminReqData) { d.Expiry = time.Time{} }))
				wantCode(t, err, msg.MessageTooOld)
			}
			r, err = w.batch(w.mer, w.batchReq(w.mer, mer, msg.BatchOpStatus, &id, nil))
			if err != nil || r.BatchStatus == nil || r.BatchStatus.BatchState != msg.BatchStateOpen {
				t.Fatalf("a refused request changed the batch: %v %+v", err, r)
			}
		})
	}
}

// TestAdminServe checks the dispatch: both requests reach their handlers
// through Serve and come back as their answers.
func TestAdminServe(t *testing.T) {
	st := suite.NewModern()
	w := newWorld(t, st, 1)
	ep := &wire.Endpoint{Suite: st}
	rt := wire.ServeFunc(w.l.Gateway.Serve)
	m, err := ep.Call(context.Background(), rt, "gateway", nil, nil, w.batchReq(w.mer, w.l.MerchantID, msg.BatchOpOpen, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*msg.BatchAdminRes); !ok {
		t.Fatalf("BatchAdminReq answered with %s", m.Name())
	}
	signed, err := encap.S(st, rand.Reader, w.mer.Signer(), msg.OIDPCertReqData, []byte{0x30, 0})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ep.Call(context.Background(), rt, "gateway", nil, nil, &msg.PCertReq{SignedData: signed})
	wantCode(t, err, msg.DecodingFailure)
}
