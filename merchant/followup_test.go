package merchant_test

import (
	"context"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// TestShipmentFollowUps ships an order in two parts through a real issuer
// host and then reverses, credits and takes back each part on its own, by
// the RRPID of its authorization: an authorization reversal of the second
// part leaves the first (captured) alone; a credit and its reversal of the
// first part, and the capture reversal of the second, move the money of
// that part at the bank; and every movement is in the merchant's batch,
// whose totals say what moved. The ledger balances after every step.
func TestShipmentFollowUps(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) { shipmentFollowUps(t, st) })
	}
}

func shipmentFollowUps(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	s, funds := newSplitBankLab(t, st)
	m := s.Merchant
	opened, err := m.Batch(ctx, msg.BatchOpOpen, nil)
	if err != nil || opened.Code != msg.BatchAdminSuccess {
		t.Fatalf("open batch: %+v, %v", opened, err)
	}

	offer, err := m.CheckoutSplit(ctx, "two crates", lab.USD(80_00), 30_00)
	if err != nil {
		t.Fatal(err)
	}
	xid := s.pay(offer, nil)
	first, err := m.LatestShipment(ctx, xid)
	if err != nil {
		t.Fatal(err)
	}
	s.capture(xid)
	s.authorize(xid, 50_00, msg.AuthApproved)
	second, err := m.LatestShipment(ctx, xid)
	if err != nil || second == first {
		t.Fatalf("second shipment named %x (first %x), %v", second, first, err)
	}
	funds(50_00, -30_00)

	// The second part's authorization, reduced: the first is untouched.
	if code, err := m.ReverseAuthorization(ctx, xid, lab.USD(20_00)); err != nil || code != msg.AuthRevSuccess {
		t.Fatalf("reversal of the second part: %v, %v", code, err)
	}
	funds(20_00, -30_00)
	s.wantOrder(xid, store.StateAuthorized, 50_00, 30_00, false) // 30 + 50 is all the purchase
	s.capture(xid)
	funds(0, -50_00)
	s.wantOrder(xid, store.StateCaptured, 50_00, 50_00, false)

	// Credits name their part: more than the first part took is refused.
	if code, err := m.CreditShipment(ctx, xid, first, lab.USD(30_00), lab.USD(30_01)); err != nil || code != msg.CapRevOrCredAmountError {
		t.Fatalf("credit above the first part: %v, %v", code, err)
	}
	if code, err := m.CreditShipment(ctx, xid, first, lab.USD(30_00), lab.USD(10_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit of the first part: %v, %v", code, err)
	}
	funds(0, -40_00)
	if code, err := m.ReverseShipmentCredit(ctx, xid, first, lab.USD(30_00), lab.USD(5_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit reversal of the first part: %v, %v", code, err)
	}
	funds(0, -45_00)
	// The second part's capture reversed in full: its own 20.00.
	if code, err := m.ReverseShipmentCapture(ctx, xid, second, lab.USD(20_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("capture reversal of the second part: %v, %v", code, err)
	}
	funds(0, -25_00)
	s.wantOrder(xid, store.StateCredited, 30_00, 30_00, false)
	// Done once: the second part's capture is reversed already.
	if code, err := m.ReverseShipmentCapture(ctx, xid, second, lab.USD(20_00)); err != nil || code != msg.CapRevOrCredAlreadyReversed {
		t.Fatalf("second capture reversal: %v, %v", code, err)
	}
	funds(0, -25_00)

	// Captures 30 + 20 and the credit reversal 5; credits 10 and the
	// capture reversal 20: 55 − 30 is the 25 the card paid.
	status, err := m.Batch(ctx, msg.BatchOpStatus, opened.ID)
	if err != nil || status.Status == nil {
		t.Fatalf("status: %+v, %v", status, err)
	}
	if b := status.Status; b.CaptureCount != 3 || b.CaptureTotal != lab.USD(55_00) || b.CreditCount != 2 || b.CreditTotal != lab.USD(30_00) {
		t.Fatalf("batch %+v; want captures 3 / 55.00, credits 2 / 30.00", b)
	}
}
