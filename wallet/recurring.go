package wallet

import (
	"fmt"
	"time"

	"github.com/setpay/setpay/msg"
)

// RecurringPlan is a recurring-payment plan for Offer.Plan: a payment of
// at most the offer's amount every days days or more, none after until.
func RecurringPlan(days int, until time.Time) *msg.InstallRecurData {
	return &msg.InstallRecurData{Recurring: &msg.Recurring{RecurringFrequency: int64(days), RecurringExpiry: until.UTC().Truncate(time.Second)}}
}

// InstalmentPlan is an instalment plan for Offer.Plan: n payments of at
// most the offer's amount each, the first with the purchase.
func InstalmentPlan(n int) *msg.InstallRecurData {
	return &msg.InstallRecurData{InstallTotalTrans: int64(n)}
}

// planField encodes the plan for PIHead's installRecurData; nil for none.
func planField(plan *msg.InstallRecurData) ([]byte, error) {
	if plan == nil {
		return nil, nil
	}
	b, err := plan.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wallet: payment plan: %w", err)
	}
	return b, nil
}
