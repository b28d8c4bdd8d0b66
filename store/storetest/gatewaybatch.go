package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/store"
)

// runGatewayBatch runs the conformance tests of store.GatewayBatchStore
// and store.IssuerRefStore; every backend must implement them.
func runGatewayBatch(t *testing.T, open func(t *testing.T) Backend) {
	batchTests := []struct {
		name string
		fn   func(t *testing.T, b store.GatewayBatchStore)
	}{
		{"GatewayBatchOpen", testGatewayBatchOpen},
		{"GatewayBatchUpdate", testGatewayBatchUpdate},
		{"GatewayBatchAdd", testGatewayBatchAdd},
		{"GatewayBatchAddConcurrent", testGatewayBatchAddConcurrent},
	}
	for _, tt := range batchTests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := open(t).(store.GatewayBatchStore)
			if !ok {
				t.Fatal("backend does not implement store.GatewayBatchStore")
			}
			tt.fn(t, b)
		})
	}
	authTests := []struct {
		name string
		fn   func(t *testing.T, b batchedBackend)
	}{
		{"GatewayBatchColumns", testGatewayBatchColumns},
		{"AuthorizationBatchedCreate", testAuthorizationBatchedCreate},
		{"AuthorizationBatchedUpdate", testAuthorizationBatchedUpdate},
		{"AuthorizationBatchedConcurrent", testAuthorizationBatchedConcurrent},
	}
	for _, tt := range authTests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := open(t).(batchedBackend)
			if !ok {
				t.Fatal("backend does not implement store.GatewayBatchStore")
			}
			tt.fn(t, b)
		})
	}
	t.Run("GatewayClaims", func(t *testing.T) {
		b, ok := open(t).(claimBackend)
		if !ok {
			t.Fatal("backend does not implement store.GatewayClaimStore")
		}
		testGatewayClaims(t, b)
	})
	t.Run("IssuerRefs", func(t *testing.T) {
		b, ok := open(t).(store.IssuerRefStore)
		if !ok {
			t.Fatal("backend does not implement store.IssuerRefStore")
		}
		testIssuerRefs(t, b)
	})
}

func openBatch(t *testing.T, s store.GatewayBatchStore, merchant string) *store.GatewayBatch {
	t.Helper()
	b := &store.GatewayBatch{MerchantID: merchant, Opened: at, Currency: 840, AmtExp10: -2}
	if err := s.OpenBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testGatewayBatchOpen(t *testing.T, s store.GatewayBatchStore) {
	ctx := context.Background()
	if _, err := s.CurrentBatch(ctx, "m1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CurrentBatch before any: %v, want ErrNotFound", err)
	}
	b1 := openBatch(t, s, "m1")
	if b1.ID <= 0 || b1.State != store.BatchOpen {
		t.Fatalf("opened batch: %+v", b1)
	}
	if err := s.OpenBatch(ctx, &store.GatewayBatch{MerchantID: "m1", Opened: at}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second open batch of a merchant: %v, want ErrConflict", err)
	}
	b2 := openBatch(t, s, "m2")
	if b2.ID == b1.ID {
		t.Fatalf("two merchants' batches share ID %d", b1.ID)
	}
	got, err := s.Batch(ctx, "m1", b1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *b1 || !got.Opened.Equal(at) || !got.Closed.IsZero() {
		t.Fatalf("Batch = %+v, want %+v", got, b1)
	}
	if cur, err := s.CurrentBatch(ctx, "m2"); err != nil || cur.ID != b2.ID {
		t.Fatalf("CurrentBatch(m2) = %v, %v; want batch %d", cur, err, b2.ID)
	}
	// Another merchant's batch is unknown to the asker.
	if _, err := s.Batch(ctx, "m2", b1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Batch of another merchant: %v, want ErrNotFound", err)
	}
}

func testGatewayBatchUpdate(t *testing.T, s store.GatewayBatchStore) {
	ctx := context.Background()
	b := openBatch(t, s, "m1")
	closed := at.Add(3600e9)
	boom := errors.New("boom")
	if _, err := s.UpdateBatch(ctx, "m1", b.ID, func(b *store.GatewayBatch) error {
		b.State = store.BatchClosed
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("aborted update: %v", err)
	}
	if got, _ := s.Batch(ctx, "m1", b.ID); got.State != store.BatchOpen {
		t.Fatalf("aborted update changed the batch: %+v", got)
	}
	if _, err := s.UpdateBatch(ctx, "m2", b.ID, func(*store.GatewayBatch) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of another merchant's batch: %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateBatch(ctx, "m1", b.ID, func(b *store.GatewayBatch) error { b.MerchantID = "m2"; return nil }); err == nil {
		t.Fatal("update moved the batch to another merchant")
	}
	got, err := s.UpdateBatch(ctx, "m1", b.ID, func(b *store.GatewayBatch) error {
		b.State, b.Closed = store.BatchClosed, closed
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Batch(ctx, "m1", b.ID); *again != *got || !again.Closed.Equal(closed) {
		t.Fatalf("after close: %+v, want %+v", again, got)
	}
	if _, err := s.CurrentBatch(ctx, "m1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CurrentBatch after close: %v", err)
	}
	// Closed, it no longer blocks a new open batch.
	openBatch(t, s, "m1")
}

func testGatewayBatchAdd(t *testing.T, s store.GatewayBatchStore) {
	ctx := context.Background()
	b := openBatch(t, s, "m1")
	e := store.GatewayBatchEntry{XID: xid(1), Kind: store.EntryCapture, Amount: 1500, Currency: 840, AmtExp10: -2}
	got, seq, err := s.AddToBatch(ctx, "m1", b.ID, e)
	if err != nil {
		t.Fatal(err)
	}
	if seq != 1 || got.CaptureCount != 1 || got.CaptureTotal != 1500 || got.CreditCount != 0 {
		t.Fatalf("after one capture: seq %d, %+v", seq, got)
	}
	// Recorded once: the same capture again changes nothing.
	got, seq, err = s.AddToBatch(ctx, "m1", b.ID, e)
	if err != nil || seq != 1 || got.CaptureCount != 1 || got.CaptureTotal != 1500 {
		t.Fatalf("repeated entry: seq %d, %+v, %v", seq, got, err)
	}
	cr := store.GatewayBatchEntry{XID: xid(1), Kind: store.EntryCredit, Amount: 500, Currency: 840, AmtExp10: -2}
	got, seq, err = s.AddToBatch(ctx, "m1", b.ID, cr)
	if err != nil || seq != 2 || got.CreditCount != 1 || got.CreditTotal != 500 || got.CaptureTotal != 1500 {
		t.Fatalf("credit: seq %d, %+v, %v", seq, got, err)
	}
	if stored, _ := s.Batch(ctx, "m1", b.ID); *stored != *got {
		t.Fatalf("stored %+v, returned %+v", stored, got)
	}
	for name, bad := range map[string]store.GatewayBatchEntry{
		"other currency": {XID: xid(2), Kind: store.EntryCapture, Amount: 1, Currency: 978, AmtExp10: -2},
		"zero amount":    {XID: xid(3), Kind: store.EntryCapture, Amount: 0, Currency: 840, AmtExp10: -2},
	} {
		if _, _, err := s.AddToBatch(ctx, "m1", b.ID, bad); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", name, err)
		}
	}
	if _, _, err := s.AddToBatch(ctx, "m2", b.ID, store.GatewayBatchEntry{XID: xid(4), Kind: store.EntryCapture, Amount: 1, Currency: 840, AmtExp10: -2}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("entry into another merchant's batch: %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateBatch(ctx, "m1", b.ID, func(b *store.GatewayBatch) error { b.State = store.BatchClosed; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddToBatch(ctx, "m1", b.ID, store.GatewayBatchEntry{XID: xid(5), Kind: store.EntryCapture, Amount: 1, Currency: 840, AmtExp10: -2}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("entry into a closed batch: %v, want ErrConflict", err)
	}
	if stored, _ := s.Batch(ctx, "m1", b.ID); stored.CaptureCount != 1 || stored.CaptureTotal != 1500 {
		t.Errorf("refused entries changed the batch: %+v", stored)
	}
}

func testGatewayBatchAddConcurrent(t *testing.T, s store.GatewayBatchStore) {
	ctx := context.Background()
	b := openBatch(t, s, "m1")
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for i := range 2 * workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each XID twice: counted once.
			e := store.GatewayBatchEntry{XID: xid(byte(i % workers)), Kind: store.EntryCapture, Amount: 100, Currency: 840, AmtExp10: -2}
			if _, _, err := s.AddToBatch(ctx, "m1", b.ID, e); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Batch(ctx, "m1", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CaptureCount != workers || got.CaptureTotal != 100*workers {
		t.Fatalf("after %d distinct captures: %+v", workers, got)
	}
}

func testIssuerRefs(t *testing.T, s store.IssuerRefStore) {
	ctx := context.Background()
	if _, err := s.IssuerRef(ctx, "link", xid(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown reference: %v, want ErrNotFound", err)
	}
	if err := s.PutIssuerRef(ctx, "link", xid(1), []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIssuerRef(ctx, "link", xid(1), []byte("second")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second reference: %v, want ErrConflict", err)
	}
	// Each issuer keeps its own.
	if err := s.PutIssuerRef(ctx, "limit", xid(1), []byte("other")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IssuerRef(ctx, "link", xid(1)); err != nil || !bytes.Equal(got, []byte("first")) {
		t.Fatalf("IssuerRef = %q, %v; want the first", got, err)
	}
	// Deleting another reference leaves this one.
	if err := s.DeleteIssuerRef(ctx, "link", xid(1), []byte("second")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssuerRef(ctx, "link", xid(1)); err != nil {
		t.Fatalf("reference gone after deleting another: %v", err)
	}
	if err := s.DeleteIssuerRef(ctx, "link", xid(1), []byte("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssuerRef(ctx, "link", xid(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted reference: %v, want ErrNotFound", err)
	}
	if got, err := s.IssuerRef(ctx, "limit", xid(1)); err != nil || string(got) != "other" {
		t.Fatalf("other issuer's reference: %q, %v", got, err)
	}
}

// batchedBackend keeps authorizations and the batches that account for
// them in one database.
type batchedBackend interface {
	store.GatewayStore
	store.GatewayBatchStore
}

func usdEntry(x store.XID, kind store.EntryKind, amount int64) store.GatewayBatchEntry {
	return store.GatewayBatchEntry{XID: x, Kind: kind, Amount: amount, Currency: 840, AmtExp10: -2}
}

func usdAuthorization(n byte) *store.Authorization {
	a := sampleAuthorization(n)
	a.Currency, a.Amount = 840, 1000
	return a
}

// A capture and a credit reversal count among the captures, a credit and
// a capture reversal among the credits: each column only grows.
func testGatewayBatchColumns(t *testing.T, s batchedBackend) {
	ctx := context.Background()
	b := openBatch(t, s, "m1")
	for i, e := range []store.GatewayBatchEntry{
		usdEntry(xid(1), store.EntryCapture, 1000),
		usdEntry(xid(1), store.EntryCaptureReversal, 1000),
		usdEntry(xid(2), store.EntryCapture, 700),
		usdEntry(xid(3), store.EntryCredit, 200),
		usdEntry(xid(4), store.EntryCredit, 100),
		usdEntry(xid(5), store.EntryCreditReversal, 50),
	} {
		if _, seq, err := s.AddToBatch(ctx, "m1", b.ID, e); err != nil || seq != int64(i+1) {
			t.Fatalf("entry %d (%s): seq %d, %v", i, e.Kind, seq, err)
		}
	}
	got, err := s.Batch(ctx, "m1", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CaptureCount != 3 || got.CaptureTotal != 1750 || got.CreditCount != 3 || got.CreditTotal != 1300 {
		t.Fatalf("batch %+v: want captures 3/1750, credits 3/1300", got)
	}
	if _, _, err := s.AddToBatch(ctx, "m1", b.ID, usdEntry(xid(6), store.EntryHold, 1)); err == nil {
		t.Error("a hold went into a gateway batch")
	}
}

func testAuthorizationBatchedCreate(t *testing.T, s batchedBackend) {
	ctx := context.Background()
	// No open batch: the authorization is stored alone.
	a := usdAuthorization(1)
	e := usdEntry(a.XID, store.EntryCapture, 1000)
	if b, seq, err := s.CreateAuthorizationBatched(ctx, a, &e); err != nil || b != nil || seq != 0 {
		t.Fatalf("without an open batch: %+v, %d, %v", b, seq, err)
	}
	if _, err := s.Authorization(ctx, a.XID); err != nil {
		t.Fatal(err)
	}
	open := openBatch(t, s, a.MerchantID)
	a2 := usdAuthorization(2)
	e2 := usdEntry(a2.XID, store.EntryCapture, 1000)
	b, seq, err := s.CreateAuthorizationBatched(ctx, a2, &e2)
	if err != nil || b == nil || b.ID != open.ID || seq != 1 || b.CaptureCount != 1 || b.CaptureTotal != 1000 {
		t.Fatalf("into the open batch: %+v, %d, %v", b, seq, err)
	}
	if a2.Created.IsZero() || a2.Created.Location() != time.UTC {
		t.Errorf("stored authorization not returned: %+v", a2)
	}
	// A repeated XID stores nothing: not the authorization, not the entry.
	dup := usdAuthorization(2)
	e3 := usdEntry(xid(3), store.EntryCapture, 1000)
	if _, _, err := s.CreateAuthorizationBatched(ctx, dup, &e3); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("repeated XID: %v, want ErrConflict", err)
	}
	if got, _ := s.Batch(ctx, a.MerchantID, open.ID); got.CaptureCount != 1 {
		t.Fatalf("refused authorization left its entry: %+v", got)
	}
	// Another currency: stored, not batched. No entry: stored, not batched.
	eur := sampleAuthorization(4)
	ee := store.GatewayBatchEntry{XID: eur.XID, Kind: store.EntryCapture, Amount: 10, Currency: 978, AmtExp10: -2}
	if b, _, err := s.CreateAuthorizationBatched(ctx, eur, &ee); err != nil || b != nil {
		t.Fatalf("another currency: %+v, %v", b, err)
	}
	if b, _, err := s.CreateAuthorizationBatched(ctx, usdAuthorization(5), nil); err != nil || b != nil {
		t.Fatalf("no entry: %+v, %v", b, err)
	}
	for _, x := range []store.XID{xid(4), xid(5)} {
		if _, err := s.Authorization(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	// An invalid entry refuses the authorization too.
	bad := usdEntry(xid(6), store.EntryCapture, 0)
	if _, _, err := s.CreateAuthorizationBatched(ctx, usdAuthorization(6), &bad); err == nil {
		t.Fatal("zero-amount entry accepted")
	}
	if _, err := s.Authorization(ctx, xid(6)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("authorization of a refused entry: %v, want ErrNotFound", err)
	}
}

func testAuthorizationBatchedUpdate(t *testing.T, s batchedBackend) {
	ctx := context.Background()
	a := usdAuthorization(1)
	if err := s.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	open := openBatch(t, s, a.MerchantID)
	capture := func(a *store.Authorization) (*store.GatewayBatchEntry, error) {
		a.State, a.Captured = "captured", a.Amount
		e := usdEntry(a.XID, store.EntryCapture, a.Amount)
		return &e, nil
	}
	// An aborted update writes neither.
	boom := errors.New("boom")
	if _, _, _, err := s.UpdateAuthorizationBatched(ctx, a.XID, func(a *store.Authorization) (*store.GatewayBatchEntry, error) {
		e, _ := capture(a)
		return e, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("aborted update: %v", err)
	}
	if got, _ := s.Authorization(ctx, a.XID); got.State != "authorized" {
		t.Fatalf("aborted update changed the authorization: %+v", got)
	}
	if got, _ := s.Batch(ctx, a.MerchantID, open.ID); got.CaptureCount != 0 {
		t.Fatalf("aborted update left an entry: %+v", got)
	}
	got, b, seq, err := s.UpdateAuthorizationBatched(ctx, a.XID, capture)
	if err != nil || got.State != "captured" || b == nil || b.ID != open.ID || seq != 1 || b.CaptureTotal != 1000 {
		t.Fatalf("capture: %+v, %+v, %d, %v", got, b, seq, err)
	}
	if stored, _ := s.Authorization(ctx, a.XID); stored.State != "captured" || stored.Captured != 1000 {
		t.Fatalf("stored %+v", stored)
	}
	// The same entry again is recorded once and answered as the first time.
	if _, b, seq, err := s.UpdateAuthorizationBatched(ctx, a.XID, capture); err != nil || b == nil || seq != 1 || b.CaptureCount != 1 {
		t.Fatalf("repeated entry: %+v, %d, %v", b, seq, err)
	}
	// A change without an entry is a plain update.
	if got, b, _, err := s.UpdateAuthorizationBatched(ctx, a.XID, func(a *store.Authorization) (*store.GatewayBatchEntry, error) {
		a.Result = "noted"
		return nil, nil
	}); err != nil || b != nil || got.Result != "noted" {
		t.Fatalf("no entry: %+v, %+v, %v", got, b, err)
	}
	if _, _, _, err := s.UpdateAuthorizationBatched(ctx, xid(9), capture); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown authorization: %v, want ErrNotFound", err)
	}
	// The merchant's batch closed: the change stands, outside any batch.
	if _, err := s.UpdateBatch(ctx, a.MerchantID, open.ID, func(b *store.GatewayBatch) error { b.State = store.BatchClosed; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, b, _, err := s.UpdateAuthorizationBatched(ctx, a.XID, func(a *store.Authorization) (*store.GatewayBatchEntry, error) {
		a.State = "capture-reversed"
		e := usdEntry(a.XID, store.EntryCaptureReversal, a.Captured)
		return &e, nil
	}); err != nil || b != nil || got.State != "capture-reversed" {
		t.Fatalf("without an open batch: %+v, %+v, %v", got, b, err)
	}
}

// Racing claims on one authorization: one wins, its entry counted once.
func testAuthorizationBatchedConcurrent(t *testing.T, s batchedBackend) {
	ctx := context.Background()
	a := usdAuthorization(1)
	if err := s.CreateAuthorization(ctx, a); err != nil {
		t.Fatal(err)
	}
	open := openBatch(t, s, a.MerchantID)
	lost := errors.New("lost")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, err := s.UpdateAuthorizationBatched(ctx, a.XID, func(a *store.Authorization) (*store.GatewayBatchEntry, error) {
				if a.State != "authorized" {
					return nil, lost
				}
				a.State, a.Captured = "captured", a.Amount
				e := usdEntry(a.XID, store.EntryCapture, a.Amount)
				return &e, nil
			})
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, lost):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Batch(ctx, a.MerchantID, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wins != 1 || got.CaptureCount != 1 || got.CaptureTotal != 1000 {
		t.Fatalf("%d winners, batch %+v; want one capture of 1000", wins, got)
	}
}
