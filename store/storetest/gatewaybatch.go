package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

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
