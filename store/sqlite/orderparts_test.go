package sqlite

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/setpay/setpay/store"
)

// TestOrderPartsBackfill: the migration that brings in order parts gives
// every order authorized before it its latest authorization as its one
// part, and none to an order never authorized.
func TestOrderPartsBackfill(t *testing.T) {
	ctx := context.Background()
	db := openT(t, filepath.Join(t.TempDir(), "p.db"))
	old := &store.Order{XID: store.XID{1}, State: store.StateCaptured, AuthCode: "approved", AuthAmount: 20_00, CaptureAmount: 20_00,
		AuthRRPID: bytes.Repeat([]byte{7}, 20), CapToken: []byte{0x30, 0x00}, GatewayAuthRes: []byte{0x30, 0x01, 0x00}}
	fresh := &store.Order{XID: store.XID{2}, State: store.StateInitiated}
	for _, o := range []*store.Order{old, fresh} {
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// As the schema stood before: no parts table; then the migration.
	if _, err := db.db.ExecContext(ctx, `DROP TABLE order_parts`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, orderPartsSchema); err != nil {
		t.Fatal(err)
	}
	got, err := db.Order(ctx, old.XID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.OrderPart{AuthRRPID: old.AuthRRPID, State: store.StateCaptured, AuthCode: "approved", AuthAmount: 20_00, CaptureAmount: 20_00,
		CapToken: old.CapToken, GatewayAuthRes: old.GatewayAuthRes}
	if len(got.Parts) != 1 {
		t.Fatalf("authorized order has %d parts after the migration, want 1", len(got.Parts))
	}
	p := got.Parts[0]
	if !bytes.Equal(p.AuthRRPID, want.AuthRRPID) || p.State != want.State || p.AuthCode != want.AuthCode || p.AuthAmount != want.AuthAmount ||
		p.CaptureAmount != want.CaptureAmount || p.CreditAmount != 0 || !bytes.Equal(p.CapToken, want.CapToken) ||
		!bytes.Equal(p.GatewayAuthRes, want.GatewayAuthRes) || p.PI != nil {
		t.Errorf("backfilled part %+v, want %+v", p, want)
	}
	if got, err = db.Order(ctx, fresh.XID); err != nil {
		t.Fatal(err)
	}
	if len(got.Parts) != 0 {
		t.Errorf("order never authorized has %d parts, want none", len(got.Parts))
	}
}
