package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/setpay/setpay/store"
)

type claimBackend interface {
	batchedBackend
	store.GatewayClaimStore
	store.AccountStore
}

// testGatewayClaims: a claim is stored with its authorization change and
// counter move or not at all; settled, it goes with its outcome and batch
// entry; abandoned, its counter move is undone; settled once.
func testGatewayClaims(t *testing.T, s claimBackend) {
	ctx := context.Background()
	a := usdAuthorization(7)
	if err := s.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	open := openBatch(t, s, a.MerchantID)
	counter := []byte("credited counter")
	claim := func(id byte, delta int64) *store.GatewayClaim {
		return &store.GatewayClaim{ID: store.XID{id}, Kind: store.EntryCredit, AuthXID: a.XID, MerchantID: a.MerchantID,
			Amount: delta, Currency: 840, AmtExp10: -2, Batch: store.XID{id, 1},
			Counter: counter, CounterDelta: delta, CounterLimit: 1000}
	}
	touch := func(a *store.Authorization) error { a.State = "claimed"; return nil }
	if err := s.PutClaim(ctx, claim(1, 600), touch); err != nil {
		t.Fatal(err)
	}
	if err := s.PutClaim(ctx, claim(1, 100), touch); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second claim with one ID: %v", err)
	}
	if err := s.PutClaim(ctx, claim(2, 500), touch); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claim beyond the counter's limit: %v", err)
	}
	boom := errors.New("boom")
	if err := s.PutClaim(ctx, claim(3, 100), func(*store.Authorization) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("aborted claim: %v", err)
	}
	if err := s.PutClaim(ctx, claim(4, 300), touch); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Spent(ctx, counter); n != 900 {
		t.Fatalf("counter %d after claims of 600 and 300", n)
	}
	other := store.XID{0xEE}
	if cs, err := s.Claims(ctx, &other, 10); err != nil || len(cs) != 0 {
		t.Fatalf("claims of another authorization: %v, %v", cs, err)
	}
	cs, err := s.Claims(ctx, &a.XID, 10)
	if err != nil || len(cs) != 2 || cs[0].ID != (store.XID{1}) || cs[1].ID != (store.XID{4}) || cs[0].Amount != 600 || string(cs[0].Counter) != string(counter) {
		t.Fatalf("claims: %+v, %v", cs, err)
	}
	if cs, err := s.Claims(ctx, nil, 1); err != nil || len(cs) != 1 {
		t.Fatalf("claims, at most one: %+v, %v", cs, err)
	}

	settle := func(a *store.Authorization, c *store.GatewayClaim) (*store.GatewayBatchEntry, error) {
		a.State = "captured"
		e := usdEntry(c.Batch, c.Kind, c.Amount)
		return &e, nil
	}
	got, b, seq, err := s.SettleClaim(ctx, store.XID{1}, false, settle)
	if err != nil || got.State != "captured" || b == nil || b.ID != open.ID || seq != 1 || b.CreditTotal != 600 {
		t.Fatalf("settle: %+v, %+v, %d, %v", got, b, seq, err)
	}
	if _, _, _, err := s.SettleClaim(ctx, store.XID{1}, false, settle); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("settled twice: %v", err)
	}
	if _, _, _, err := s.SettleClaim(ctx, store.XID{4}, true, func(*store.Authorization, *store.GatewayClaim) (*store.GatewayBatchEntry, error) {
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("aborted settle: %v", err)
	}
	if _, b, _, err := s.SettleClaim(ctx, store.XID{4}, true, func(*store.Authorization, *store.GatewayClaim) (*store.GatewayBatchEntry, error) {
		return nil, nil
	}); err != nil || b != nil {
		t.Fatalf("abandon: %+v, %v", b, err)
	}
	if n, _ := s.Spent(ctx, counter); n != 600 {
		t.Fatalf("counter %d after abandoning the claim of 300", n)
	}
	if cs, err := s.Claims(ctx, nil, 10); err != nil || len(cs) != 0 {
		t.Fatalf("claims left: %+v, %v", cs, err)
	}
}
