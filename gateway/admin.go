package gateway

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// HandlePCertReq answers a merchant asking for the gateway's current
// certificates. The request is signed, not sealed: nothing in it is
// secret. The answer is signed by the gateway and carries its signature
// and key-exchange certificates, with their chain, in the SignedData;
// PCertResTBS lists the two by thumbprint for every brand asked about.
func (g *Gateway) HandlePCertReq(ctx context.Context, req *msg.PCertReq) (*msg.PCertRes, error) {
	cfg := g.cfg
	st := cfg.Suite
	content, signerCert, err := encap.OpenS(st, req.SignedData, msg.OIDPCertReqData,
		cfg.verifier(cfg.Now(), pki.CertTypeMer, x509.KeyUsageDigitalSignature))
	if err != nil {
		return nil, msg.Classify(err, msg.SignatureFailure, "PCertReq")
	}
	mer, err := pki.ParseCertificate(signerCert)
	if err != nil || mer.MerchantData == nil {
		return nil, msg.Errorf(msg.InvalidCertificate, "merchant certificate lacks merchantData")
	}
	data, err := msg.UnmarshalPCertReqData(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "PCertReqData: %w", err)
	}
	if data.PCertRRTags.MerTermIDs.MerchantID != mer.MerchantData.MerID {
		return nil, msg.Errorf(msg.InvalidCertificate, "PCertReq merchant ID differs from the certificate's")
	}
	// A merchant asks because it may not hold our current certificate, so
	// pgThumb may be absent; if present it must name us (deviation 1).
	pgThumb := data.PGThumb
	if pgThumb == nil {
		own := msg.ThumbOf(st.Hash(), cfg.ExchangeCert)
		pgThumb = &own
	}
	if err := g.checkAddressed("PCertReq", pgThumb, data.Expiry); err != nil {
		return nil, err
	}
	// No replay cache: answering a PCertReq twice changes nothing.
	thumbs := []msg.CertThumb{msg.ThumbOf(st.Hash(), cfg.SigningCert), msg.ThumbOf(st.Hash(), cfg.ExchangeCert)}
	tbs := msg.PCertResTBS{PCertRRTags: data.PCertRRTags}
	tbs.PCertRRTags.CurrentDate = cfg.Now().UTC().Truncate(time.Second)
	for _, bb := range data.BrandAndBINSeq {
		// The gateway serves the brand of the hierarchy its certificates
		// come from; it has no brand list of its own to refuse against.
		tbs.PCertResItemSeq = append(tbs.PCertResItemSeq, msg.PCertResItem{BrandAndBIN: bb, PCertCode: msg.PCertSuccess, CertThumbs: thumbs})
	}
	if st.ID() != suite.Set1 {
		// Deviation 2: name the merchant and the request answered.
		thumb := msg.ThumbOf(st.Hash(), signerCert)
		tbs.MerchantThumb = &thumb
		tbs.HPCertReq = digest(st.Hash(), content)
	}
	signer := g.carrying(ctx, data.MThumbs, &tbs.BrandCRLIdentifier)
	signer.Omit = nil // the certificates are what PCertRes is for
	out, err := tbs.Marshal()
	if err != nil {
		return nil, err
	}
	signer.Chain = append([][]byte{cfg.ExchangeCert}, signer.Chain...)
	signed, err := encap.S(st, cfg.Rand, signer, msg.OIDPCertResTBS, out)
	if err != nil {
		return nil, err
	}
	return &msg.PCertRes{SignedData: signed}, nil
}

// HandleBatchAdminReq opens, closes, purges or reports a merchant's
// settlement batch. Protocol failures (signature, addressing, replay) are
// SET Errors; a request the batch's state refuses is answered with its
// BatchAdminCode, as capture answers with a CapCode.
func (g *Gateway) HandleBatchAdminReq(ctx context.Context, req *msg.BatchAdminReq) (*msg.BatchAdminRes, error) {
	cfg := g.cfg
	st := cfg.Suite
	mr, err := g.openMerchantRequest(req.BatchAdminReqTBE, msg.OIDBatchAdminReqData, msg.OIDBatchAdminReqTBE)
	if err != nil {
		return nil, err
	}
	data, err := msg.UnmarshalBatchAdminReqData(mr.tbs)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "BatchAdminReqData: %w", err)
	}
	if data.BatchAdminRRTags.MerTermIDs.MerchantID != mr.merchantID {
		return nil, msg.Errorf(msg.InvalidCertificate, "BatchAdminReq merchant ID differs from the certificate's")
	}
	if err := g.checkAddressed("BatchAdminReq", data.PGThumb, data.Expiry); err != nil {
		return nil, err
	}
	if err := g.remember(ctx, "BatchAdminReq", data.Expiry, data.BatchAdminRRTags.RRPID, msg.XID{}); err != nil {
		return nil, err
	}
	code, b, err := g.batchOp(ctx, mr.merchantID, data.BatchOperation, data.BatchID)
	if err != nil {
		return nil, err
	}
	res := msg.BatchAdminResData{BatchAdminRRTags: data.BatchAdminRRTags, BatchAdminCode: code, BatchID: data.BatchID}
	res.BatchAdminRRTags.CurrentDate = cfg.Now().UTC().Truncate(time.Second)
	if b != nil {
		id := b.ID
		res.BatchID = &id
		res.BatchStatus = b.Status()
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), mr.signerCert)
		res.MerchantThumb = &thumb
		res.HBatchAdminReq = digest(st.Hash(), mr.tbs)
	}
	content, err := res.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *g.signer(), mr.exchangeCert, msg.OIDBatchAdminResData, msg.OIDBatchAdminResTBE, content)
	if err != nil {
		return nil, err
	}
	cfg.Log.Info("batch administration", "merchant", mr.merchantID, "op", data.BatchOperation.String(), "result", code.String())
	return &msg.BatchAdminRes{BatchAdminResTBE: tbe}, nil
}

// errBatchRefused carries a BatchAdminCode out of an UpdateBatch callback.
type errBatchRefused msg.BatchAdminCode

func (e errBatchRefused) Error() string { return "batch: " + msg.BatchAdminCode(e).String() }

// batchOp applies one operation. It returns the batch as it now stands
// (nil when there is none to report) and the code to answer with; err is
// for store failures only.
func (g *Gateway) batchOp(ctx context.Context, merchantID string, op msg.BatchOperation, id *int64) (msg.BatchAdminCode, *Batch, error) {
	bs := g.cfg.Batches
	now := g.cfg.Now().UTC().Truncate(time.Second)
	if op == msg.BatchOpOpen {
		// One open batch per merchant (the store enforces it): "the open
		// batch" is where captures go, so a second would make that
		// ambiguous.
		b, err := g.openBatch(ctx, merchantID, now)
		if errors.Is(err, store.ErrConflict) {
			open, err := storedBatch(bs.CurrentBatch(ctx, merchantID))
			if err != nil {
				return msg.BatchAdminOperationRefused, nil, nil
			}
			return msg.BatchAdminOperationRefused, open, nil
		}
		if err != nil {
			return 0, nil, err
		}
		return msg.BatchAdminSuccess, b, nil
	}
	if id == nil {
		return msg.BatchAdminBatchIDMissing, nil, nil
	}
	var b *Batch
	var err error
	switch op {
	case msg.BatchOpStatus:
		b, err = storedBatch(bs.Batch(ctx, merchantID, *id))
	case msg.BatchOpClose, msg.BatchOpPurge:
		b, err = storedBatch(bs.UpdateBatch(ctx, merchantID, *id, func(b *store.GatewayBatch) error {
			if b.State != store.BatchOpen {
				return errBatchRefused(msg.BatchAdminBatchClosed)
			}
			b.Closed = now
			if op == msg.BatchOpClose {
				b.State = store.BatchClosed
				return nil
			}
			b.State = store.BatchPurged
			b.CaptureCount, b.CreditCount = 0, 0
			b.CaptureTotal, b.CreditTotal = 0, 0
			return nil
		}))
	default:
		return msg.BatchAdminOperationRefused, nil, nil
	}
	if refused, ok := errors.AsType[errBatchRefused](err); ok {
		cur, cerr := storedBatch(bs.Batch(ctx, merchantID, *id))
		if cerr != nil {
			return msg.BatchAdminCode(refused), nil, nil
		}
		return msg.BatchAdminCode(refused), cur, nil
	}
	switch {
	case errors.Is(err, ErrBatchUnknown):
		return msg.BatchAdminBatchUnknown, nil, nil
	case err != nil:
		return 0, nil, err
	}
	return msg.BatchAdminSuccess, b, nil
}
