package sqlitetest

import (
	"context"
	"errors"
	"testing"

	"github.com/setpay/setpay/store"
)

// Two databases from Memory are separate and usable: what one records the
// other does not hold.
func TestMemory(t *testing.T) {
	ctx := context.Background()
	a, b := Memory(t), Memory(t)
	key := func() *store.CertifiedKey { return &store.CertifiedKey{Digest: []byte("key digest")} }
	if err := a.RecordCertifiedKey(ctx, key()); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordCertifiedKey(ctx, key()); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same key recorded twice in one database: %v", err)
	}
	if err := b.RecordCertifiedKey(ctx, key()); err != nil {
		t.Fatalf("second database shares the first's records: %v", err)
	}
}
