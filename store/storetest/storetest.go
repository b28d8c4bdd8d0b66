// Package storetest is the conformance suite every store backend must pass:
// a backend's tests call Run with a function that opens a fresh, empty
// instance.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/store"
)

// Backend is everything a store backend implements.
type Backend interface {
	store.MerchantStore
	store.GatewayStore
	store.AccountStore
}

// workers bounds the goroutines of the concurrency tests: enough to contend,
// few enough for a small shared machine.
const workers = 6

// Run runs the conformance suite. open must return a fresh, empty backend and
// arrange (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"OrderCreateGet", testOrderCreateGet},
		{"OrderConflict", testOrderConflict},
		{"OrderNotFound", testOrderNotFound},
		{"OrderUpdate", testOrderUpdate},
		{"OrderUpdateAborts", testOrderUpdateAborts},
		{"OrderUpdateConcurrent", testOrderUpdateConcurrent},
		{"Orders", testOrders},
		{"AuthorizationCreateGet", testAuthorizationCreateGet},
		{"AuthorizationConflictNotFound", testAuthorizationConflictNotFound},
		{"AuthorizationUpdate", testAuthorizationUpdate},
		{"AuthorizationRefusesPAN", testAuthorizationRefusesPAN},
		{"Remember", testRemember},
		{"RememberConcurrent", testRememberConcurrent},
		{"PurgeExpired", testPurgeExpired},
		{"AddSpent", testAddSpent},
		{"AddSpentConcurrent", testAddSpentConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
	runOrderParts(t, open)
	runBank(t, open)
	runGatewayBatch(t, open)
	runCA(t, open)
}

func xid(n byte) store.XID {
	var x store.XID
	for i := range x {
		x[i] = n ^ byte(i)
	}
	return x
}

// at is a fixed instant with sub-microsecond digits, to check that times
// survive with nanosecond precision.
var at = time.Date(2021, 3, 1, 12, 30, 45, 123456789, time.UTC)

func sampleOrder(n byte) *store.Order {
	return &store.Order{
		XID:            xid(n),
		LIDM:           []byte{'m', n},
		LIDC:           []byte{'c', n, 0},
		Brand:          "Visa",
		Description:    fmt.Sprintf("order %d: 1 × teapot", n),
		Amount:         1999 + int64(n),
		Currency:       840,
		AmtExp10:       -2,
		State:          store.StateInitiated,
		GatewayAuthRes: []byte{0x30, 0x03, 0x02, 0x01, n},
		TransIDs:       []byte{0x30, 0x03, 0x04, 0x01, n},
		ChallC:         []byte{'C', n},
		ChallM:         []byte{'M', n},
		CapToken:       []byte{0x30, 0x03, 0x04, 0x01, n},
		Created:        at.Add(time.Duration(n) * time.Second),
	}
}

func sampleAuthorization(n byte) *store.Authorization {
	return &store.Authorization{
		XID:          xid(n),
		MerchantID:   "merchant-1",
		PANMasked:    "411111…1111",
		Amount:       1999,
		Currency:     978,
		AmtExp10:     -2,
		Result:       "approved",
		ApprovalCode: "A1B2C3",
		State:        "authorized",
		Created:      at,
		// Both values round-trip: odd samples were issued a CapToken.
		CapTokenIssued: n%2 == 1,
	}
}

func diffOrder(got, want *store.Order) string {
	switch {
	case got == nil:
		return "nil order"
	case got.XID != want.XID:
		return fmt.Sprintf("XID %s, want %s", got.XID, want.XID)
	case !bytes.Equal(got.LIDM, want.LIDM) || !bytes.Equal(got.LIDC, want.LIDC):
		return fmt.Sprintf("LIDM/LIDC %x/%x, want %x/%x", got.LIDM, got.LIDC, want.LIDM, want.LIDC)
	case got.Brand != want.Brand || got.Description != want.Description:
		return fmt.Sprintf("Brand/Description %q/%q, want %q/%q", got.Brand, got.Description, want.Brand, want.Description)
	case got.Amount != want.Amount || got.Currency != want.Currency || got.AmtExp10 != want.AmtExp10:
		return fmt.Sprintf("amount %d %d %d, want %d %d %d", got.Amount, got.Currency, got.AmtExp10, want.Amount, want.Currency, want.AmtExp10)
	case got.State != want.State || got.AuthCode != want.AuthCode:
		return fmt.Sprintf("State/AuthCode %q/%q, want %q/%q", got.State, got.AuthCode, want.State, want.AuthCode)
	case got.AuthAmount != want.AuthAmount || got.CaptureAmount != want.CaptureAmount:
		return fmt.Sprintf("AuthAmount/CaptureAmount %d/%d, want %d/%d", got.AuthAmount, got.CaptureAmount, want.AuthAmount, want.CaptureAmount)
	case !bytes.Equal(got.GatewayAuthRes, want.GatewayAuthRes):
		return fmt.Sprintf("GatewayAuthRes %x, want %x", got.GatewayAuthRes, want.GatewayAuthRes)
	case !bytes.Equal(got.TransIDs, want.TransIDs) || !bytes.Equal(got.ChallC, want.ChallC) || !bytes.Equal(got.ChallM, want.ChallM):
		return fmt.Sprintf("TransIDs/ChallC/ChallM %x/%x/%x, want %x/%x/%x", got.TransIDs, got.ChallC, got.ChallM, want.TransIDs, want.ChallC, want.ChallM)
	case !bytes.Equal(got.AuthRRPID, want.AuthRRPID):
		return fmt.Sprintf("AuthRRPID %x, want %x", got.AuthRRPID, want.AuthRRPID)
	case !got.Created.Equal(want.Created) || !got.Updated.Equal(want.Updated):
		return fmt.Sprintf("Created/Updated %v/%v, want %v/%v", got.Created, got.Updated, want.Created, want.Updated)
	case got.Created.Location() != time.UTC || got.Updated.Location() != time.UTC:
		return "times not in UTC"
	}
	return ""
}

func diffAuthorization(got, want *store.Authorization) string {
	if got == nil {
		return "nil authorization"
	}
	g, w := *got, *want
	if !g.Created.Equal(w.Created) || !g.Updated.Equal(w.Updated) {
		return fmt.Sprintf("Created/Updated %v/%v, want %v/%v", g.Created, g.Updated, w.Created, w.Updated)
	}
	if g.Created.Location() != time.UTC || g.Updated.Location() != time.UTC {
		return "times not in UTC"
	}
	g.Created, g.Updated, w.Created, w.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		return fmt.Sprintf("got %+v, want %+v", g, w)
	}
	return ""
}

func testOrderCreateGet(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	o.Created = at.In(time.FixedZone("X", 3600)) // stored and returned as UTC
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if !o.Updated.Equal(at) {
		t.Errorf("CreateOrder set Updated = %v, want Created %v", o.Updated, at)
	}
	got, err := b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffOrder(got, o); d != "" {
		t.Errorf("Order: %s", d)
	}

	// Zero timestamps and state are filled in; empty byte fields read back empty.
	before := time.Now()
	o2 := &store.Order{XID: xid(2), Amount: 1, Currency: 840}
	if err := b.CreateOrder(ctx, o2); err != nil {
		t.Fatal(err)
	}
	if o2.State != store.StateInitiated {
		t.Errorf("default State = %q, want %q", o2.State, store.StateInitiated)
	}
	if o2.Created.Before(before.Add(-time.Second)) || o2.Created.After(time.Now().Add(time.Second)) || !o2.Updated.Equal(o2.Created) {
		t.Errorf("filled Created/Updated = %v/%v, want about %v", o2.Created, o2.Updated, before)
	}
	got, err = b.Order(ctx, o2.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffOrder(got, o2); d != "" {
		t.Errorf("Order: %s", d)
	}

	if err := b.CreateOrder(ctx, &store.Order{XID: xid(3), State: "paid"}); err == nil {
		t.Error("CreateOrder with an unknown state succeeded")
	}
}

func testOrderConflict(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	dup := sampleOrder(1)
	dup.Description = "something else"
	if err := b.CreateOrder(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateOrder = %v, want ErrConflict", err)
	}
	got, err := b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffOrder(got, o); d != "" {
		t.Errorf("after conflict: %s", d)
	}
}

func testOrderNotFound(t *testing.T, b Backend) {
	ctx := context.Background()
	if _, err := b.Order(ctx, xid(9)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Order = %v, want ErrNotFound", err)
	}
	called := false
	_, err := b.UpdateOrder(ctx, xid(9), func(*store.Order) error { called = true; return nil })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOrder = %v, want ErrNotFound", err)
	}
	if called {
		t.Error("UpdateOrder called update for a missing order")
	}
}

func testOrderUpdate(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	want := *o
	want.State = store.StateAuthorized
	want.AuthCode = "approved"
	want.AuthAmount = o.Amount
	want.GatewayAuthRes = []byte("signed AuthRes")
	want.AuthRRPID = []byte("auth rrpid")
	got, err := b.UpdateOrder(ctx, o.XID, func(o *store.Order) error {
		o.State, o.AuthCode, o.AuthAmount, o.GatewayAuthRes = want.State, want.AuthCode, want.AuthAmount, want.GatewayAuthRes
		o.AuthRRPID = want.AuthRRPID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Updated.After(o.Updated) {
		t.Errorf("Updated = %v, want after %v", got.Updated, o.Updated)
	}
	want.Updated = got.Updated
	if d := diffOrder(got, &want); d != "" {
		t.Errorf("UpdateOrder result: %s", d)
	}
	stored, err := b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffOrder(stored, &want); d != "" {
		t.Errorf("stored after UpdateOrder: %s", d)
	}

	// An explicit Updated is kept.
	explicit := at.Add(time.Hour)
	got, err = b.UpdateOrder(ctx, o.XID, func(o *store.Order) error { o.Updated = explicit; return nil })
	if err != nil || !got.Updated.Equal(explicit) {
		t.Errorf("UpdateOrder with explicit Updated = %v, %v; want %v", got, err, explicit)
	}
}

func testOrderUpdateAborts(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("business rule says no")
	aborts := []struct {
		name    string
		update  func(*store.Order) error
		wantErr error
	}{
		{"update error", func(o *store.Order) error { o.State = store.StateCaptured; return errStop }, errStop},
		{"XID changed", func(o *store.Order) error { o.XID = xid(2); return nil }, nil},
		{"invalid state", func(o *store.Order) error { o.State = "paid"; return nil }, nil},
	}
	for _, tt := range aborts {
		_, err := b.UpdateOrder(ctx, o.XID, tt.update)
		if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: UpdateOrder = %v, want %v", tt.name, err, tt.wantErr)
		}
		got, err := b.Order(ctx, o.XID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffOrder(got, o); d != "" {
			t.Errorf("%s: aborted update was written: %s", tt.name, d)
		}
	}
	if _, err := b.Order(ctx, xid(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("XID change created an order: %v", err)
	}
}

// testOrderUpdateConcurrent checks that read-modify-write is one
// transaction: no increment may be lost.
func testOrderUpdateConcurrent(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	const each = 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := b.UpdateOrder(ctx, o.XID, func(o *store.Order) error {
					o.CaptureAmount++
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CaptureAmount != workers*each {
		t.Errorf("CaptureAmount = %d after %d concurrent increments", got.CaptureAmount, workers*each)
	}
}

func testOrders(t *testing.T, b Backend) {
	ctx := context.Background()
	if got, err := b.Orders(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("Orders on empty store = %d, %v", len(got), err)
	}
	// Created order: 3, 1, 2; 4 and 5 share a time (tie broken by XID).
	created := map[byte]time.Duration{1: 2, 2: 1, 3: 3, 4: 0, 5: 0}
	for _, n := range []byte{5, 1, 2, 3, 4} {
		o := sampleOrder(n)
		o.Created = at.Add(created[n] * time.Minute)
		if err := b.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	first, second := xid(4), xid(5)
	if bytes.Compare(first[:], second[:]) > 0 {
		first, second = second, first
	}
	want := []store.XID{xid(3), xid(1), xid(2), first, second}
	for _, limit := range []int{0, -1, 1, 3, 5, 10} {
		got, err := b.Orders(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		w := want
		if limit > 0 && limit < len(w) {
			w = w[:limit]
		}
		if len(got) != len(w) {
			t.Errorf("Orders(%d) returned %d, want %d", limit, len(got), len(w))
			continue
		}
		for i := range got {
			if got[i].XID != w[i] {
				t.Errorf("Orders(%d)[%d] = %s, want %s", limit, i, got[i].XID, w[i])
			}
		}
	}
	all, _ := b.Orders(ctx, 0)
	if len(all) > 0 {
		if d := diffOrder(all[1], func() *store.Order {
			o := sampleOrder(1)
			o.Created = at.Add(2 * time.Minute)
			o.Updated = o.Created
			return o
		}()); d != "" {
			t.Errorf("Orders record: %s", d)
		}
	}
}

func testAuthorizationCreateGet(t *testing.T, b Backend) {
	ctx := context.Background()
	a := sampleAuthorization(1)
	if err := b.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	if !a.Updated.Equal(at) {
		t.Errorf("Updated = %v, want %v", a.Updated, at)
	}
	got, err := b.Authorization(ctx, a.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffAuthorization(got, a); d != "" {
		t.Errorf("Authorization: %s", d)
	}
}

func testAuthorizationConflictNotFound(t *testing.T, b Backend) {
	ctx := context.Background()
	a := sampleAuthorization(1)
	if err := b.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	dup := sampleAuthorization(1)
	dup.Amount = 1
	if err := b.CreateAuthorization(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second CreateAuthorization = %v, want ErrConflict", err)
	}
	if got, err := b.Authorization(ctx, a.XID); err != nil || got.Amount != a.Amount {
		t.Errorf("after conflict: %+v, %v", got, err)
	}
	if _, err := b.Authorization(ctx, xid(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Authorization = %v, want ErrNotFound", err)
	}
	if _, err := b.UpdateAuthorization(ctx, xid(2), func(*store.Authorization) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAuthorization = %v, want ErrNotFound", err)
	}
}

func testAuthorizationUpdate(t *testing.T, b Backend) {
	ctx := context.Background()
	a := sampleAuthorization(1)
	if err := b.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := b.UpdateAuthorization(ctx, a.XID, func(a *store.Authorization) error {
		a.Captured, a.State = a.Amount, "captured"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	want.Captured, want.State, want.Updated = a.Amount, "captured", got.Updated
	if !got.Updated.After(a.Updated) {
		t.Errorf("Updated = %v, want after %v", got.Updated, a.Updated)
	}
	if d := diffAuthorization(got, &want); d != "" {
		t.Errorf("UpdateAuthorization result: %s", d)
	}
	stored, err := b.Authorization(ctx, a.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffAuthorization(stored, &want); d != "" {
		t.Errorf("stored: %s", d)
	}

	errStop := errors.New("no")
	for _, update := range []func(*store.Authorization) error{
		func(a *store.Authorization) error { a.Captured = 0; return errStop },
		func(a *store.Authorization) error { a.XID = xid(7); return nil },
		func(a *store.Authorization) error { a.PANMasked = "4111111111111111"; return nil },
	} {
		if _, err := b.UpdateAuthorization(ctx, a.XID, update); err == nil {
			t.Error("aborting UpdateAuthorization succeeded")
		}
		stored, err := b.Authorization(ctx, a.XID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffAuthorization(stored, &want); d != "" {
			t.Errorf("aborted update was written: %s", d)
		}
	}
}

// testAuthorizationRefusesPAN: the gateway's record holds only a masked PAN.
func testAuthorizationRefusesPAN(t *testing.T, b Backend) {
	ctx := context.Background()
	a := sampleAuthorization(1)
	a.PANMasked = "4111111111111111"
	if err := b.CreateAuthorization(ctx, a); err == nil {
		t.Fatal("CreateAuthorization stored a whole PAN")
	}
	if _, err := b.Authorization(ctx, a.XID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused authorization was stored: %v", err)
	}
}

func testRemember(t *testing.T, b Backend) {
	ctx := context.Background()
	future := time.Now().Add(time.Hour)
	k1, k2 := []byte("rrpid|xid|AuthReq"), []byte("rrpid|xid|CapReq")
	if err := b.Remember(ctx, k1, future); err != nil {
		t.Fatal(err)
	}
	if err := b.Remember(ctx, k1, future); !errors.Is(err, store.ErrConflict) {
		t.Errorf("replayed key: Remember = %v, want ErrConflict", err)
	}
	if err := b.Remember(ctx, k1, future.Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("replayed key, later expiry: Remember = %v, want ErrConflict", err)
	}
	if err := b.Remember(ctx, k2, future); err != nil {
		t.Errorf("distinct key: %v", err)
	}
	// A prefix of a key is a different key.
	if err := b.Remember(ctx, k1[:len(k1)-1], future); err != nil {
		t.Errorf("prefix key: %v", err)
	}

	// An expired entry no longer blocks, and is replaced by the new one.
	k3 := []byte{0, 1, 2, 0xff}
	if err := b.Remember(ctx, k3, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := b.Remember(ctx, k3, future); err != nil {
		t.Errorf("expired key: Remember = %v, want nil", err)
	}
	if err := b.Remember(ctx, k3, future); !errors.Is(err, store.ErrConflict) {
		t.Errorf("re-remembered key: Remember = %v, want ErrConflict", err)
	}

	// Real expiry with a short wait.
	k4 := []byte("short-lived")
	if err := b.Remember(ctx, k4, time.Now().Add(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := b.Remember(ctx, k4, future); !errors.Is(err, store.ErrConflict) {
		t.Errorf("unexpired key: Remember = %v, want ErrConflict", err)
	}
	time.Sleep(60 * time.Millisecond)
	if err := b.Remember(ctx, k4, future); err != nil {
		t.Errorf("key after expiry: Remember = %v, want nil", err)
	}

	if err := b.Remember(ctx, nil, future); err == nil {
		t.Error("Remember accepted an empty key")
	}
}

// testRememberConcurrent: exactly one of many simultaneous attempts wins.
func testRememberConcurrent(t *testing.T, b Backend) {
	ctx := context.Background()
	future := time.Now().Add(time.Hour)
	for round := range 3 {
		key := []byte{'k', byte(round)}
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				err := b.Remember(ctx, key, future)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, store.ErrConflict):
					conflicts.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != workers-1 {
			t.Errorf("round %d: %d wins, %d conflicts; want 1 and %d", round, wins.Load(), conflicts.Load(), workers-1)
		}
	}
}

func testPurgeExpired(t *testing.T, b Backend) {
	ctx := context.Background()
	base := time.Now().Add(time.Hour)
	for i := range 5 {
		if err := b.Remember(ctx, []byte{'p', byte(i)}, base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.PurgeExpired(ctx, base.Add(-time.Minute)); err != nil || n != 0 {
		t.Errorf("PurgeExpired(before all) = %d, %v; want 0", n, err)
	}
	// Expiry is inclusive: entries expiring at now are gone.
	if n, err := b.PurgeExpired(ctx, base.Add(2*time.Minute)); err != nil || n != 3 {
		t.Errorf("PurgeExpired = %d, %v; want 3", n, err)
	}
	if n, err := b.PurgeExpired(ctx, base.Add(2*time.Minute)); err != nil || n != 0 {
		t.Errorf("PurgeExpired again = %d, %v; want 0", n, err)
	}
	// Purged keys are forgotten (in a real deployment they would also have
	// expired); unpurged ones are still remembered.
	if err := b.Remember(ctx, []byte{'p', 0}, base); err != nil {
		t.Errorf("purged key: Remember = %v", err)
	}
	if err := b.Remember(ctx, []byte{'p', 4}, base); !errors.Is(err, store.ErrConflict) {
		t.Errorf("unpurged key: Remember = %v, want ErrConflict", err)
	}
}

func testAddSpent(t *testing.T, b Backend) {
	ctx := context.Background()
	acct := bytes.Repeat([]byte{0xa5}, 32) // a PAN digest
	other := bytes.Repeat([]byte{0x5a}, 32)
	if n, err := b.Spent(ctx, acct); err != nil || n != 0 {
		t.Fatalf("Spent(unknown) = %d, %v; want 0", n, err)
	}
	steps := []struct {
		delta, limit, want int64
		conflict           bool
	}{
		{600, 1000, 600, false},
		{400, 1000, 1000, false}, // exactly at the limit
		{1, 1000, 1000, true},
		{-300, 0, 700, false}, // a reversal is not held to the limit
		{301, 1000, 700, true},
		{-701, 1000, 700, true}, // below zero
		{300, 1000, 1000, false},
		{1 << 62, 1 << 63 / 2, 1000, true},
	}
	for i, s := range steps {
		got, err := b.AddSpent(ctx, acct, s.delta, s.limit)
		if s.conflict != errors.Is(err, store.ErrConflict) || (!s.conflict && err != nil) {
			t.Fatalf("step %d: AddSpent(%d, %d) error = %v, want conflict=%v", i, s.delta, s.limit, err, s.conflict)
		}
		if got != s.want {
			t.Errorf("step %d: AddSpent(%d, %d) = %d, want %d", i, s.delta, s.limit, got, s.want)
		}
		if n, err := b.Spent(ctx, acct); err != nil || n != s.want {
			t.Errorf("step %d: Spent = %d, %v; want %d", i, n, err, s.want)
		}
	}
	if n, err := b.Spent(ctx, other); err != nil || n != 0 {
		t.Errorf("other account Spent = %d, %v; want 0", n, err)
	}
	// Overflow is a conflict, not a wrap-around.
	big := int64(1<<63 - 1)
	if _, err := b.AddSpent(ctx, other, big, big); err != nil {
		t.Fatal(err)
	}
	if n, err := b.AddSpent(ctx, other, 1, big); !errors.Is(err, store.ErrConflict) || n != big {
		t.Errorf("overflowing AddSpent = %d, %v; want %d, ErrConflict", n, err, big)
	}
	// A first delta above the limit creates nothing.
	third := []byte("third")
	if _, err := b.AddSpent(ctx, third, 11, 10); !errors.Is(err, store.ErrConflict) {
		t.Errorf("first AddSpent above limit = %v, want ErrConflict", err)
	}
	if n, err := b.Spent(ctx, third); err != nil || n != 0 {
		t.Errorf("Spent after refused first AddSpent = %d, %v", n, err)
	}
}

// testAddSpentConcurrent: the limit holds under contention.
func testAddSpentConcurrent(t *testing.T, b Backend) {
	ctx := context.Background()
	acct := []byte("contended account")
	const each, amount, limit = 4, 10, 95
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := b.AddSpent(ctx, acct, amount, limit)
				switch {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	want := int64(min(workers*each, limit/amount))
	if int64(ok.Load()) != want {
		t.Errorf("%d AddSpent calls succeeded, want %d", ok.Load(), want)
	}
	if n, err := b.Spent(ctx, acct); err != nil || n != want*amount {
		t.Errorf("Spent = %d, %v; want %d", n, err, want*amount)
	}
}
