package merchant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// deferAll is an acquirer that defers every approval to the operator.
type deferAll struct{ *ca.AcquirerRecords }

func (d deferAll) Approve(ctx context.Context, a *ca.Applicant) (*ca.Approval, error) {
	appr, err := d.AcquirerRecords.Approve(ctx, a)
	if err != nil {
		return nil, err
	}
	return nil, &ca.Deferral{Approval: appr}
}

// TestPendingThenPurchase: both registrations are pended, inquiries say
// so, the operator approves, Wait fetches the certificates, and a purchase
// through capture works with them.
func TestPendingThenPurchase(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			r := newRegCAsWith(t, st, func(rec *ca.AcquirerRecords) ca.AcquirerPolicy { return deferAll{rec} })
			clock := func() time.Time { return r.now }
			_, err := gateway.Register(ctx, wire.ServeFunc(r.pca.Serve), gateway.RegisterConfig{
				Suite: st, BrandID: "SETpay", AcquirerBIN: "400000", BusinessID: "17", Roots: r.lab.Roots,
				Answers: map[string]string{ca.FieldLegalName: "SETpay Acquirer Gateway"}, Now: clock,
			})
			var gpe *gateway.PendingError
			if !errors.As(err, &gpe) {
				t.Fatalf("gateway.Register = %v, want pending", err)
			}
			_, err = merchant.Register(ctx, wire.ServeFunc(r.mca.Serve), merchant.RegisterConfig{
				Suite: st, BrandID: "SETpay", MerchantID: "MER-0042", AcquirerBIN: "400000", Roots: r.lab.Roots,
				Answers: map[string]string{ca.FieldLegalName: "Harbour Books"}, Now: clock,
			})
			var mpe *merchant.PendingError
			if !errors.As(err, &mpe) || !mpe.Status.CertStatusCode.Pending() {
				t.Fatalf("merchant.Register = %v, want pending", err)
			}
			if _, err := mpe.Registration.Wait(ctx, wire.ServeFunc(r.mca.Serve), merchant.WaitOptions{Every: time.Millisecond, Max: 3}); !errors.As(err, &mpe) {
				t.Fatalf("Wait before the decision = %v, want still pending", err)
			}
			// The wait is bounded by the context too.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := mpe.Registration.Wait(cctx, wire.ServeFunc(r.mca.Serve), merchant.WaitOptions{Every: time.Hour, Max: 3}); err == nil {
				t.Fatal("Wait on a cancelled context succeeded")
			}
			for _, c := range []*ca.CA{r.pca, r.mca} {
				ids, err := c.PendingIDs(ctx)
				if err != nil || len(ids) != 1 {
					t.Fatalf("PendingIDs = %v, %v", ids, err)
				}
				if err := c.Decide(ctx, ids[0], true); err != nil {
					t.Fatalf("Decide: %v", err)
				}
			}
			g, err := gpe.Registration.Wait(ctx, wire.ServeFunc(r.pca.Serve), gateway.WaitOptions{Every: time.Millisecond, Max: 1})
			if err != nil {
				t.Fatalf("gateway Wait: %v", err)
			}
			m, err := mpe.Registration.Wait(ctx, wire.ServeFunc(r.mca.Serve), merchant.WaitOptions{Every: time.Millisecond, Max: 1})
			if err != nil {
				t.Fatalf("merchant Wait: %v", err)
			}
			purchaseWith(t, r, g, m)
		})
	}
}

// TestPendingRefused: a refusal reaches the merchant as a RefusedError.
func TestPendingRefused(t *testing.T) {
	st := suite.NewModern()
	ctx := context.Background()
	r := newRegCAsWith(t, st, func(rec *ca.AcquirerRecords) ca.AcquirerPolicy { return deferAll{rec} })
	_, err := merchant.Register(ctx, wire.ServeFunc(r.mca.Serve), merchant.RegisterConfig{
		Suite: st, BrandID: "SETpay", MerchantID: "MER-0042", AcquirerBIN: "400000", Roots: r.lab.Roots,
		Answers: map[string]string{ca.FieldLegalName: "Harbour Books"}, Now: func() time.Time { return r.now },
	})
	var mpe *merchant.PendingError
	if !errors.As(err, &mpe) {
		t.Fatalf("merchant.Register = %v, want pending", err)
	}
	ids, err := r.mca.PendingIDs(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("PendingIDs = %v, %v", ids, err)
	}
	if err := r.mca.Decide(ctx, ids[0], false); err != nil {
		t.Fatal(err)
	}
	_, err = mpe.Registration.Wait(ctx, wire.ServeFunc(r.mca.Serve), merchant.WaitOptions{Every: time.Millisecond, Max: 1})
	var re *merchant.RefusedError
	if !errors.As(err, &re) || re.Status.CertStatusCode != msg.RejectByAgent {
		t.Fatalf("Wait after refusal = %v, want RejectByAgent", err)
	}
}
