package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
)

// TestPendingStores holds MemoryStore and SQLStore to the same contract:
// a request is kept once, read back whole (merchant approval or
// cardholder record), listed while undecided, decided once and taken
// once.
func TestPendingStores(t *testing.T) {
	for name, s := range map[string]ca.PendingStore{
		"memory": ca.NewMemoryStore(),
		"sqlite": ca.NewSQLStore(openSQLite(t, ":memory:"), 0),
	} {
		t.Run(name, func(t *testing.T) { testPendingStore(t, s) })
	}
}

func testPendingStore(t *testing.T, s ca.PendingStore) {
	ctx := context.Background()
	created := time.Unix(1e9, 7).UTC()
	mer := &ca.PendingRequest{Created: created, Data: []byte{0x30, 0}, Renews: []byte("current"), Approval: &ca.Approval{Merchant: &pki.MerchantData{
		MerID: "MER-1", MerAcquirerBIN: "400000", MerCountry: 840, MerNames: []pki.MerName{{Language: "en", Name: "Shop"}}}}}
	card := &ca.PendingRequest{Created: created.Add(time.Second), Data: []byte{0x30, 1, 2}, Card: &ca.CardPending{
		NonceCCA: msg.Nonce{9, 8, 7}, Subject: "abcd", NotAfter: created.AddDate(1, 0, 0), BINRange: "400000-499999"}}
	idM, idC := msg.Challenge{1}, msg.Challenge{2}
	if err := s.PutPending(ctx, idM, mer); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, idC, card); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, idC, card); err == nil {
		t.Error("the same request was pended twice")
	}
	got, err := s.Pending(ctx, idC)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(card.Created) || !bytes.Equal(got.Data, card.Data) || got.Decided() || got.Card == nil ||
		got.Card.NonceCCA != card.Card.NonceCCA || got.Card.Subject != "abcd" || !got.Card.NotAfter.Equal(card.Card.NotAfter) {
		t.Errorf("Pending = %+v, want %+v", got, card)
	}
	if got, err := s.Pending(ctx, idM); err != nil || got.Approval.Merchant.MerNames[0].Name != "Shop" || string(got.Renews) != "current" {
		t.Errorf("Pending(merchant) = %+v, %v", got, err)
	}
	if _, err := s.Pending(ctx, msg.Challenge{3}); !errors.Is(err, ca.ErrNoPending) {
		t.Errorf("Pending of an unknown request: %v, want ErrNoPending", err)
	}
	if ids, err := s.PendingIDs(ctx); err != nil || len(ids) != 2 {
		t.Errorf("PendingIDs = %v, %v; want 2", ids, err)
	}

	nonce := msg.Nonce{5}
	status := msg.CertStatus{CertStatusCode: msg.RequestComplete, NonceCCA: &nonce}
	thumbs := []msg.CertThumb{msg.ThumbOf(crypto.SHA256, []byte("cert"))}
	if err := s.DecidePending(ctx, idC, status, thumbs, [][]byte{[]byte("cert")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DecidePending(ctx, idC, msg.CertStatus{CertStatusCode: msg.RejectByAgent}, nil, nil, 0); !errors.Is(err, ca.ErrDecided) {
		t.Errorf("deciding twice: %v, want ErrDecided", err)
	}
	if err := s.DecidePending(ctx, msg.Challenge{3}, status, nil, nil, 0); !errors.Is(err, ca.ErrNoPending) {
		t.Errorf("deciding an unknown request: %v, want ErrNoPending", err)
	}
	if ids, err := s.PendingIDs(ctx); err != nil || len(ids) != 1 || ids[0] != idM {
		t.Errorf("PendingIDs after a decision = %v, %v; want the merchant's", ids, err)
	}
	took, err := s.TakePending(ctx, idC)
	if err != nil {
		t.Fatal(err)
	}
	if took.Status.CertStatusCode != msg.RequestComplete || *took.Status.NonceCCA != nonce || len(took.Thumbs) != 1 ||
		!bytes.Equal(took.Thumbs[0].Thumbprint, thumbs[0].Thumbprint) || len(took.Certs) != 1 || string(took.Certs[0]) != "cert" {
		t.Errorf("TakePending = %+v", took)
	}
	if _, err := s.TakePending(ctx, idC); !errors.Is(err, ca.ErrNoPending) {
		t.Errorf("second TakePending: %v, want ErrNoPending", err)
	}
	// A refusal answered with a SET Error keeps its code.
	refused := msg.CertStatus{CertStatusCode: msg.RejectByAgent, EEMessage: "revoked"}
	if err := s.DecidePending(ctx, idM, refused, nil, nil, msg.RevokedCertificate); err != nil {
		t.Fatal(err)
	}
	if took, err := s.TakePending(ctx, idM); err != nil || took.Fail != msg.RevokedCertificate || took.Status.CertStatusCode != msg.RejectByAgent {
		t.Errorf("TakePending of a failed request = %+v, %v", took, err)
	}
}
