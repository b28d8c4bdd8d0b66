package ca_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
)

func TestMemoryStoreChallengeSingleUse(t *testing.T) {
	ctx := context.Background()
	s := ca.NewMemoryStore()
	ch := msg.Challenge{1}
	want := ca.Challenge{Issued: time.Unix(1000, 0), PANMAC: []byte{9}, RegFormID: 3}
	if err := s.PutChallenge(ctx, ch, want); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChallenge(ctx, ch, want); err == nil {
		t.Error("the same chall-CA was stored twice")
	}
	got, err := s.TakeChallenge(ctx, ch)
	if err != nil || got.RegFormID != 3 || !got.Issued.Equal(want.Issued) {
		t.Fatalf("TakeChallenge = %+v, %v", got, err)
	}
	if _, err := s.TakeChallenge(ctx, ch); !errors.Is(err, ca.ErrNoChallenge) {
		t.Fatalf("second TakeChallenge: %v, want ErrNoChallenge", err)
	}
}

func TestMemoryStoreBound(t *testing.T) {
	ctx := context.Background()
	s := ca.NewMemoryStore()
	s.MaxChallenges = 3
	for i := range 5 {
		if err := s.PutChallenge(ctx, msg.Challenge{byte(i)}, ca.Challenge{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		_, err := s.TakeChallenge(ctx, msg.Challenge{byte(i)})
		if evicted := i < 2; evicted != errors.Is(err, ca.ErrNoChallenge) {
			t.Errorf("challenge %d: err %v, evicted %v", i, err, evicted)
		}
	}
}

func TestMemoryStoreKeys(t *testing.T) {
	ctx := context.Background()
	s := ca.NewMemoryStore()
	if err := s.RecordKey(ctx, []byte("k1")); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKey(ctx, []byte("k2")); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKey(ctx, []byte("k1")); !errors.Is(err, ca.ErrKeyCertified) {
		t.Fatalf("second RecordKey: %v, want ErrKeyCertified", err)
	}
}
