package ca

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// SQLStore keeps pending requests in the CA database, so that a pended
// request survives a restart and an operator's decision made by another
// process sharing the database (setpay ca pending) reaches the CA serving
// the inquiries.
var _ PendingStore = (*SQLStore)(nil)

// pendingRecord is store.CAPending.Request: the CA's record of a pended
// request.
type pendingRecord struct {
	Data     []byte       `json:"data"` // CertReqData DER
	Approval *Approval    `json:"approval,omitempty"`
	Card     *CardPending `json:"card,omitempty"`
	// Renews is absent in records written before renewals were held.
	Renews []byte `json:"renews,omitempty"`
}

// pendingAnswer is store.CAPending.Answer: the operator's decision. The
// status and thumbprints ride in a CertResData, whose DER decoder is
// strict; its other fields are placeholders.
type pendingAnswer struct {
	Result []byte   `json:"result"`
	Certs  [][]byte `json:"certs,omitempty"`
	// Fail is PendingRequest.Fail; absent (zero) in older records.
	Fail msg.ErrorCode `json:"fail,omitempty"`
}

// PutPending implements PendingStore.
func (s *SQLStore) PutPending(ctx context.Context, id msg.Challenge, p *PendingRequest) error {
	rec, err := json.Marshal(&pendingRecord{Data: p.Data, Approval: p.Approval, Card: p.Card, Renews: p.Renews})
	if err != nil {
		return fmt.Errorf("ca: encoding a pending request: %w", err)
	}
	err = s.db.PutCAPending(ctx, &store.CAPending{ID: id[:], Created: p.Created, Request: rec})
	if errors.Is(err, store.ErrConflict) {
		return errors.New("ca: a pending request with this chall-EE3 exists")
	}
	return err
}

// Pending implements PendingStore.
func (s *SQLStore) Pending(ctx context.Context, id msg.Challenge) (*PendingRequest, error) {
	p, err := s.db.CAPending(ctx, id[:])
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPending
	}
	if err != nil {
		return nil, err
	}
	return decodePending(p)
}

// DecidePending implements PendingStore.
func (s *SQLStore) DecidePending(ctx context.Context, id msg.Challenge, status msg.CertStatus, thumbs []msg.CertThumb, certs [][]byte, fail msg.ErrorCode) error {
	result, err := (&msg.CertResData{LIDEE: []byte{0}, ChallEE3: id, CertStatus: status, CertThumbs: thumbs}).Marshal()
	if err != nil {
		return fmt.Errorf("ca: encoding a decision: %w", err)
	}
	ans, err := json.Marshal(&pendingAnswer{Result: result, Certs: certs, Fail: fail})
	if err != nil {
		return fmt.Errorf("ca: encoding a decision: %w", err)
	}
	err = s.db.DecideCAPending(ctx, id[:], ans)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNoPending
	case errors.Is(err, store.ErrConflict):
		return ErrDecided
	}
	return err
}

// TakePending implements PendingStore.
func (s *SQLStore) TakePending(ctx context.Context, id msg.Challenge) (*PendingRequest, error) {
	p, err := s.db.TakeCAPending(ctx, id[:])
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPending
	}
	if err != nil {
		return nil, err
	}
	return decodePending(p)
}

// PendingIDs implements PendingStore, oldest first.
func (s *SQLStore) PendingIDs(ctx context.Context) ([]msg.Challenge, error) {
	ps, err := s.db.UndecidedCAPending(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]msg.Challenge, 0, len(ps))
	for _, p := range ps {
		var id msg.Challenge
		if len(p.ID) != len(id) {
			return nil, fmt.Errorf("ca: pending request ID of %d bytes in the database", len(p.ID))
		}
		copy(id[:], p.ID)
		ids = append(ids, id)
	}
	return ids, nil
}

// decodePending reads the records PutPending and DecidePending wrote.
func decodePending(p *store.CAPending) (*PendingRequest, error) {
	var rec pendingRecord
	if err := json.Unmarshal(p.Request, &rec); err != nil {
		return nil, fmt.Errorf("ca: pending request %x in the database: %w", p.ID, err)
	}
	if len(rec.Data) == 0 || (rec.Approval == nil) == (rec.Card == nil) {
		return nil, fmt.Errorf("ca: pending request %x in the database is incomplete", p.ID)
	}
	out := &PendingRequest{Created: p.Created, Data: rec.Data, Approval: rec.Approval, Card: rec.Card, Renews: rec.Renews}
	if p.Answer == nil {
		return out, nil
	}
	var ans pendingAnswer
	if err := json.Unmarshal(p.Answer, &ans); err != nil {
		return nil, fmt.Errorf("ca: decision on pending request %x in the database: %w", p.ID, err)
	}
	res, err := msg.UnmarshalCertResData(ans.Result)
	if err != nil {
		return nil, fmt.Errorf("ca: decision on pending request %x in the database: %w", p.ID, err)
	}
	if ans.Fail != 0 && (ans.Fail < 0 || res.CertStatus.CertStatusCode == msg.RequestComplete) {
		return nil, fmt.Errorf("ca: decision on pending request %x in the database: bad error code %d", p.ID, ans.Fail)
	}
	out.Status, out.Thumbs, out.Certs, out.Fail = res.CertStatus, res.CertThumbs, ans.Certs, ans.Fail
	return out, nil
}
