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
	t.Run("Opposite", func(t *testing.T) { testOppositeClaims(t, s) })
	t.Run("OppositeConcurrent", func(t *testing.T) { testOppositeClaimsConcurrent(t, s) })
}

// testOppositeClaims: a claim moving a counter one way is refused with
// ErrClaimOpen, changing nothing, while a claim on the same authorization
// moves that counter the other way; same-way claims and claims without a
// counter pass.
func testOppositeClaims(t *testing.T, s claimBackend) {
	ctx := context.Background()
	a := usdAuthorization(8)
	if err := s.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	counter := []byte("opposite counter")
	claim := func(id byte, kind store.EntryKind, delta int64) *store.GatewayClaim {
		amt := max(delta, -delta)
		return &store.GatewayClaim{ID: store.XID{0x80, id}, Kind: kind, AuthXID: a.XID, MerchantID: a.MerchantID,
			Amount: amt, Currency: 840, AmtExp10: -2, Batch: store.XID{0x80, id, 1},
			Counter: counter, CounterDelta: delta, CounterLimit: 1000}
	}
	mark := func(state string) func(*store.Authorization) error {
		return func(a *store.Authorization) error { a.State = state; return nil }
	}
	wantState := func(what, state string) {
		t.Helper()
		if got, err := s.Authorization(ctx, a.XID); err != nil || got.State != state {
			t.Fatalf("%s: authorization %+v, %v; want state %q", what, got, err, state)
		}
	}
	wantSpent := func(what string, n int64) {
		t.Helper()
		if got, err := s.Spent(ctx, counter); err != nil || got != n {
			t.Fatalf("%s: counter %d, %v; want %d", what, got, err, n)
		}
	}
	if err := s.PutClaim(ctx, claim(1, store.EntryCredit, 300), mark("credit 1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutClaim(ctx, claim(2, store.EntryCreditReversal, -100), mark("reversal 2")); !errors.Is(err, store.ErrClaimOpen) {
		t.Fatalf("credit reversal while a credit is open: %v, want ErrClaimOpen", err)
	}
	wantState("after the refused reversal", "credit 1")
	wantSpent("after the refused reversal", 300)
	if cs, err := s.Claims(ctx, &a.XID, 10); err != nil || len(cs) != 1 {
		t.Fatalf("claims after the refused reversal: %+v, %v", cs, err)
	}
	if err := s.PutClaim(ctx, claim(3, store.EntryCredit, 200), mark("credit 3")); err != nil {
		t.Fatalf("second credit beside the first: %v", err)
	}
	noCounter := claim(4, store.EntryRelease, 0)
	noCounter.Counter = nil
	if err := s.PutClaim(ctx, noCounter, mark("release 4")); err != nil {
		t.Fatalf("claim without a counter: %v", err)
	}
	settle := func(a *store.Authorization, c *store.GatewayClaim) (*store.GatewayBatchEntry, error) { return nil, nil }
	if _, _, _, err := s.SettleClaim(ctx, store.XID{0x80, 1}, false, settle); err != nil {
		t.Fatal(err)
	}
	if err := s.PutClaim(ctx, claim(5, store.EntryCreditReversal, -100), mark("reversal 5")); !errors.Is(err, store.ErrClaimOpen) {
		t.Fatalf("credit reversal while the second credit is open: %v, want ErrClaimOpen", err)
	}
	if _, _, _, err := s.SettleClaim(ctx, store.XID{0x80, 3}, true, settle); err != nil {
		t.Fatal(err)
	}
	wantSpent("credit of 300 settled, of 200 abandoned", 300)
	if err := s.PutClaim(ctx, claim(6, store.EntryCreditReversal, -100), mark("reversal 6")); err != nil {
		t.Fatalf("credit reversal once no credit is open: %v", err)
	}
	wantSpent("reversal claimed", 200)
	for _, k := range []store.EntryKind{store.EntryCredit, store.EntryCaptureReversal} {
		if err := s.PutClaim(ctx, claim(7, k, 100), mark("raise 7")); !errors.Is(err, store.ErrClaimOpen) {
			t.Fatalf("%s while a credit reversal is open: %v, want ErrClaimOpen", k, err)
		}
	}
	if err := s.PutClaim(ctx, claim(8, store.EntryCreditReversal, -50), mark("reversal 8")); err != nil {
		t.Fatalf("second credit reversal beside the first: %v", err)
	}
	wantState("after the refused raise", "reversal 8")
	wantSpent("two reversals claimed", 150)
	for _, id := range []byte{6, 8} {
		if _, _, _, err := s.SettleClaim(ctx, store.XID{0x80, id}, true, settle); err != nil {
			t.Fatal(err)
		}
	}
	wantSpent("reversals abandoned", 300)
	if err := s.PutClaim(ctx, claim(9, store.EntryCredit, 700), mark("credit 9")); err != nil {
		t.Fatalf("credit once no reversal is open: %v", err)
	}
	wantSpent("credit claimed", 1000)
}

// testOppositeClaimsConcurrent races claims both ways on one counter: however
// they interleave, the open claims never move it both ways at once, and
// every refusal is ErrClaimOpen or a bound (ErrConflict).
func testOppositeClaimsConcurrent(t *testing.T, s claimBackend) {
	ctx := context.Background()
	a := usdAuthorization(9)
	if err := s.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	counter := []byte("racing counter")
	if _, err := s.AddSpent(ctx, counter, 500, 1000); err != nil {
		t.Fatal(err)
	}
	const racers = 16
	errs := make(chan error, racers)
	for i := range racers {
		go func() {
			delta := int64(10)
			if i%2 == 1 {
				delta = -10
			}
			c := &store.GatewayClaim{ID: store.XID{0x90, byte(i)}, Kind: store.EntryCredit, AuthXID: a.XID, MerchantID: a.MerchantID,
				Amount: 10, Currency: 840, AmtExp10: -2, Counter: counter, CounterDelta: delta, CounterLimit: 1000}
			if delta < 0 {
				c.Kind = store.EntryCreditReversal
			}
			errs <- s.PutClaim(ctx, c, func(*store.Authorization) error { return nil })
		}()
	}
	placed := 0
	for range racers {
		switch err := <-errs; {
		case err == nil:
			placed++
		case !errors.Is(err, store.ErrClaimOpen) && !errors.Is(err, store.ErrConflict):
			t.Errorf("racing claim: %v", err)
		}
	}
	cs, err := s.Claims(ctx, &a.XID, racers+1)
	if err != nil || len(cs) != placed || placed == 0 {
		t.Fatalf("claims: %d of %d placed, %v", len(cs), placed, err)
	}
	var sum int64
	for _, c := range cs {
		if (c.CounterDelta > 0) != (cs[0].CounterDelta > 0) {
			t.Fatalf("open claims move the counter both ways: %+v and %+v", cs[0], c)
		}
		sum += c.CounterDelta
	}
	if n, err := s.Spent(ctx, counter); err != nil || n != 500+sum {
		t.Fatalf("counter %d, %v; want %d", n, err, 500+sum)
	}
}
