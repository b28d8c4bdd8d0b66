package merchant_test

import (
	"context"
	"testing"

	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
)

func TestBatch(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			l := newLab(t, st, 0)
			m := l.Merchant
			do := func(op msg.BatchOperation, id *int64, want msg.BatchAdminCode) *merchant.BatchResult {
				t.Helper()
				r, err := m.Batch(ctx, op, id)
				if err != nil {
					t.Fatalf("%v: %v", op, err)
				}
				if r.Code != want {
					t.Fatalf("%v answered %v, want %v", op, r.Code, want)
				}
				return r
			}
			wantState := func(r *merchant.BatchResult, id int64, state msg.BatchState) {
				t.Helper()
				if r.ID == nil || *r.ID != id || r.Status == nil || r.Status.BatchID != id || r.Status.BatchState != state {
					t.Fatalf("batch reported as %+v, want batch %d %v", r.Status, id, state)
				}
			}

			opened := do(msg.BatchOpOpen, nil, msg.BatchAdminSuccess)
			if opened.ID == nil {
				t.Fatal("open returned no batch ID")
			}
			id := *opened.ID
			wantState(opened, id, msg.BatchStateOpen)
			if !opened.Status.CloseDateTime.IsZero() {
				t.Fatal("an open batch has a close time")
			}
			// One open batch at a time: a second open is refused and names
			// the open one.
			wantState(do(msg.BatchOpOpen, nil, msg.BatchAdminOperationRefused), id, msg.BatchStateOpen)
			wantState(do(msg.BatchOpStatus, &id, msg.BatchAdminSuccess), id, msg.BatchStateOpen)

			do(msg.BatchOpStatus, nil, msg.BatchAdminBatchIDMissing)
			do(msg.BatchOpClose, nil, msg.BatchAdminBatchIDMissing)
			unknown := id + 1000
			do(msg.BatchOpStatus, &unknown, msg.BatchAdminBatchUnknown)
			do(msg.BatchOpClose, &unknown, msg.BatchAdminBatchUnknown)

			closed := do(msg.BatchOpClose, &id, msg.BatchAdminSuccess)
			wantState(closed, id, msg.BatchStateClosed)
			if closed.Status.CloseDateTime.IsZero() {
				t.Fatal("a closed batch has no close time")
			}
			wantState(do(msg.BatchOpClose, &id, msg.BatchAdminBatchClosed), id, msg.BatchStateClosed)
			wantState(do(msg.BatchOpPurge, &id, msg.BatchAdminBatchClosed), id, msg.BatchStateClosed)
			wantState(do(msg.BatchOpStatus, &id, msg.BatchAdminSuccess), id, msg.BatchStateClosed)

			// With the old batch closed, a new one opens; purging it ends it.
			next := do(msg.BatchOpOpen, nil, msg.BatchAdminSuccess)
			if next.ID == nil || *next.ID == id {
				t.Fatalf("new batch reuses ID %d", id)
			}
			nid := *next.ID
			wantState(do(msg.BatchOpPurge, &nid, msg.BatchAdminSuccess), nid, msg.BatchStatePurged)
			wantState(do(msg.BatchOpClose, &nid, msg.BatchAdminBatchClosed), nid, msg.BatchStatePurged)
			wantState(do(msg.BatchOpStatus, &id, msg.BatchAdminSuccess), id, msg.BatchStateClosed)
		})
	}
}
