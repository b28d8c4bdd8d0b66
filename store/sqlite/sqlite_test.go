package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/store/storetest"
)

func openT(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return openT(t, ":memory:") })
}

// The file backend is what deployments use: WAL, several connections.
func TestConformanceFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		return openT(t, filepath.Join(t.TempDir(), "setpay.db"))
	})
}

func TestOpenPragmas(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "p.db"))
	ctx := context.Background()
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"busy_timeout": "10000",
	} {
		var got string
		if err := db.db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpenInvalidPath(t *testing.T) {
	for _, p := range []string{"", "a?b", "a#b"} {
		if _, err := Open(p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestReopen: data and schema version survive close; migrations are not
// re-applied.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	o := &store.Order{XID: store.XID{1}, Description: "kept"}
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openT(t, path)
	got, err := db.Order(ctx, o.XID)
	if err != nil || got.Description != "kept" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	var v int
	if err := db.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("schema version = %d, %v; want %d", v, err, len(migrations))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`UPDATE schema_version SET version = ?`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(path); err == nil {
		db.Close()
		t.Fatal("Open accepted a schema newer than the program")
	}
}

// TestTwoHandles stands in for two processes sharing one file: separate
// connection pools, contending on the replay cache and on one order.
func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openT(t, path), openT(t, path)
	ctx := context.Background()
	xid := store.XID{7}
	if err := a.CreateOrder(ctx, &store.Order{XID: xid}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateOrder(ctx, &store.Order{XID: xid}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateOrder via second handle = %v, want ErrConflict", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			if err := db.Remember(ctx, []byte("same request"), time.Now().Add(time.Minute)); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, store.ErrConflict) {
				t.Error(err)
			}
			for range 5 {
				if _, err := db.UpdateOrder(ctx, xid, func(o *store.Order) error { o.CaptureAmount++; return nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d handles won the replay race, want 1", wins.Load())
	}
	if o, err := a.Order(ctx, xid); err != nil || o.CaptureAmount != 30 {
		t.Errorf("CaptureAmount = %v, %v; want 30", o, err)
	}
}

// TestRememberUsesClock: expiry is judged against the store's clock.
func TestRememberUsesClock(t *testing.T) {
	db := openT(t, ":memory:")
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	db.now = func() time.Time { return now }
	key := []byte("k")
	if err := db.Remember(ctx, key, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute - time.Nanosecond)
	if err := db.Remember(ctx, key, now.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("1ns before expiry: %v, want ErrConflict", err)
	}
	now = now.Add(time.Nanosecond)
	if err := db.Remember(ctx, key, now.Add(time.Minute)); err != nil {
		t.Errorf("at expiry: %v, want nil", err)
	}
}

func TestCanceledContext(t *testing.T) {
	db := openT(t, ":memory:")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.CreateOrder(ctx, &store.Order{XID: store.XID{1}}); err == nil {
		t.Error("CreateOrder with a canceled context succeeded")
	}
	if _, err := db.Order(context.Background(), store.XID{1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("canceled CreateOrder wrote: %v", err)
	}
}
