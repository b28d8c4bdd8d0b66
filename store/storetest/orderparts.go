package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/setpay/setpay/store"
)

// runOrderParts checks that an order's parts (store.OrderPart) are kept
// with it, in order, by CreateOrder, UpdateOrder and Orders, and that an
// aborted update leaves them as they were.
func runOrderParts(t *testing.T, open func(t *testing.T) Backend) {
	t.Run("OrderParts", func(t *testing.T) { testOrderParts(t, open(t)) })
	t.Run("OrderPartsAbort", func(t *testing.T) { testOrderPartsAbort(t, open(t)) })
}

func samplePart(n byte, state store.OrderState) store.OrderPart {
	return store.OrderPart{
		AuthRRPID:      bytes.Repeat([]byte{n}, 20),
		State:          state,
		AuthCode:       "approved",
		AuthAmount:     1000 + int64(n),
		CaptureAmount:  500 + int64(n),
		CreditAmount:   int64(n),
		CapToken:       []byte{0x30, 0x03, 0x04, 0x01, n},
		GatewayAuthRes: []byte{0x30, 0x03, 0x02, 0x01, n},
		PI:             []byte{0xa2, 0x03, 0x04, 0x01, n},
	}
}

func diffParts(got, want []store.OrderPart) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d parts, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.AuthRRPID, w.AuthRRPID) || g.State != w.State || g.AuthCode != w.AuthCode ||
			g.AuthAmount != w.AuthAmount || g.CaptureAmount != w.CaptureAmount || g.CreditAmount != w.CreditAmount ||
			!bytes.Equal(g.CapToken, w.CapToken) || !bytes.Equal(g.GatewayAuthRes, w.GatewayAuthRes) || !bytes.Equal(g.PI, w.PI) {
			return fmt.Sprintf("part %d = %+v, want %+v", i, g, w)
		}
	}
	return ""
}

func testOrderParts(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	o.Parts = []store.OrderPart{samplePart(1, store.StateCaptured)}
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffParts(got.Parts, o.Parts); d != "" {
		t.Errorf("after CreateOrder: %s", d)
	}

	// Parts are appended and changed in place; absent tokens stay nil.
	want := []store.OrderPart{samplePart(1, store.StateCredited), samplePart(2, store.StateAuthorized)}
	want[1].CapToken, want[1].GatewayAuthRes, want[1].PI, want[1].CaptureAmount = nil, nil, nil, 0
	updated, err := b.UpdateOrder(ctx, o.XID, func(o *store.Order) error {
		if len(o.Parts) != 1 {
			return fmt.Errorf("update sees %d parts, want 1", len(o.Parts))
		}
		o.Parts[0].State = store.StateCredited
		o.Parts = append(o.Parts, want[1])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := diffParts(updated.Parts, want); d != "" {
		t.Errorf("UpdateOrder result: %s", d)
	}
	got, err = b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffParts(got.Parts, want); d != "" {
		t.Errorf("after UpdateOrder: %s", d)
	}

	// An order without parts reads back with none, and Orders carries
	// each order's own.
	if err := b.CreateOrder(ctx, sampleOrder(2)); err != nil {
		t.Fatal(err)
	}
	all, err := b.Orders(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("Orders returned %d orders, want 2", len(all))
	}
	for _, g := range all {
		w := want
		if g.XID != o.XID {
			w = nil
		}
		if d := diffParts(g.Parts, w); d != "" {
			t.Errorf("Orders: order %s: %s", g.XID, d)
		}
	}

	// Dropping parts is stored too.
	if _, err := b.UpdateOrder(ctx, o.XID, func(o *store.Order) error { o.Parts = o.Parts[:1]; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err = b.Order(ctx, o.XID); err != nil {
		t.Fatal(err)
	}
	if d := diffParts(got.Parts, want[:1]); d != "" {
		t.Errorf("after dropping a part: %s", d)
	}
}

func testOrderPartsAbort(t *testing.T, b Backend) {
	ctx := context.Background()
	o := sampleOrder(1)
	o.Parts = []store.OrderPart{samplePart(1, store.StateAuthorized)}
	if err := b.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("business rule says no")
	if _, err := b.UpdateOrder(ctx, o.XID, func(o *store.Order) error {
		o.Parts = append(o.Parts, samplePart(2, store.StateAuthorized))
		return errStop
	}); !errors.Is(err, errStop) {
		t.Errorf("UpdateOrder = %v, want %v", err, errStop)
	}
	if _, err := b.UpdateOrder(ctx, o.XID, func(o *store.Order) error {
		o.Parts[0].State = "paid"
		return nil
	}); err == nil {
		t.Error("UpdateOrder stored a part with an unknown state")
	}
	bad := sampleOrder(3)
	bad.Parts = []store.OrderPart{samplePart(3, "paid")}
	if err := b.CreateOrder(ctx, bad); err == nil {
		t.Error("CreateOrder stored a part with an unknown state")
	}
	if _, err := b.Order(ctx, bad.XID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused CreateOrder left an order: %v", err)
	}
	got, err := b.Order(ctx, o.XID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffParts(got.Parts, o.Parts); d != "" {
		t.Errorf("aborted updates were written: %s", d)
	}
}
