package merchant

import (
	"context"
	"crypto/x509"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// BatchResult is the gateway's signed answer to a batch operation.
type BatchResult struct {
	Code   msg.BatchAdminCode
	ID     *int64           // the batch acted on or opened; nil when none
	Status *msg.BatchStatus // the batch as it now stands; nil when none
}

// Batch asks the gateway to open, close, purge or report a settlement
// batch (BatchAdminReq). id names the batch; open ignores it and the
// gateway assigns one. A refusal by the batch's state (closing a closed
// batch, say) is a result with its code, not an error; errors are for
// requests or answers that fail.
func (m *Merchant) Batch(ctx context.Context, op msg.BatchOperation, id *int64) (*BatchResult, error) {
	cfg := m.config()
	st := cfg.Suite
	var rrpid msg.RRPID
	if _, err := io.ReadFull(cfg.Rand, rrpid[:]); err != nil {
		return nil, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	data := msg.BatchAdminReqData{
		BatchAdminRRTags: msg.RRTags{RRPID: rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: now},
		BatchOperation:   op,
	}
	if op != msg.BatchOpOpen {
		data.BatchID = id
	}
	if st.ID() != suite.Set1 {
		thumb := msg.ThumbOf(st.Hash(), cfg.GatewayCert)
		data.PGThumb = &thumb
		data.Expiry = now.Add(cfg.RequestLifetime)
	}
	tbs, err := data.Marshal()
	if err != nil {
		return nil, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, msg.OIDBatchAdminReqData, msg.OIDBatchAdminReqTBE, tbs)
	if err != nil {
		return nil, err
	}
	res, err := call[*msg.BatchAdminRes](ctx, m, &msg.BatchAdminReq{BatchAdminReqTBE: tbe}, nil)
	if err != nil {
		return nil, err
	}
	content, _, signerCert, err := encap.OpenEnc(st, cfg.ExchangeKey.key, cfg.ExchangeCert, res.BatchAdminResTBE, msg.OIDBatchAdminResData, msg.OIDBatchAdminResTBE,
		cfg.verifier(cfg.Now(), pki.CertTypePgwy, x509.KeyUsageDigitalSignature))
	if err != nil {
		return nil, msg.Classify(err, msg.SignatureFailure, "BatchAdminRes")
	}
	if !pki.SameSubject(signerCert, cfg.GatewayCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "BatchAdminRes signed by a gateway other than the designated one")
	}
	rd, err := msg.UnmarshalBatchAdminResData(content)
	if err != nil {
		return nil, msg.Errorf(msg.DecodingFailure, "BatchAdminResData: %w", err)
	}
	if rd.BatchAdminRRTags.RRPID != rrpid {
		return nil, msg.Errorf(msg.UnknownRRPID, "BatchAdminRes answers another request")
	}
	if st.ID() != suite.Set1 {
		if !rd.MerchantThumb.Matches(cfg.SigningCert) {
			return nil, msg.Errorf(msg.ThumbsMismatch, "BatchAdminRes answers another merchant")
		}
		if string(rd.HBatchAdminReq) != string(digest(st.Hash(), tbs)) {
			return nil, msg.Errorf(msg.SignatureFailure, "BatchAdminRes answers another BatchAdminReq")
		}
	}
	if rd.BatchStatus != nil && (rd.BatchID == nil || rd.BatchStatus.BatchID != *rd.BatchID) {
		return nil, msg.Errorf(msg.DecodingFailure, "BatchAdminRes reports a batch other than the one it names")
	}
	return &BatchResult{Code: rd.BatchAdminCode, ID: rd.BatchID, Status: rd.BatchStatus}, nil
}
