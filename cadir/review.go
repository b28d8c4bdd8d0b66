package cadir

import (
	"fmt"
	"strings"

	"github.com/setpay/setpay/ca"
)

// Who a hierarchy can hold for an operator's review (Config.Review).
const (
	ReviewCardholders = "cardholders"
	ReviewMerchants   = "merchants"
	ReviewGateways    = "gateways"
)

// ParseReview reads a comma-separated review list, such as a command
// line's "merchants,gateways"; "" and "none" review no one, "all" everyone.
func ParseReview(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "none":
		return []string{}, nil
	case "all":
		return []string{ReviewCardholders, ReviewMerchants, ReviewGateways}, nil
	}
	var out []string
	for _, w := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(w))
	}
	if _, err := reviewSet(out); err != nil {
		return nil, err
	}
	return out, nil
}

func reviewSet(list []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, w := range list {
		switch w {
		case ReviewCardholders, ReviewMerchants, ReviewGateways:
			set[w] = true
		default:
			return nil, fmt.Errorf("cadir: review %q: want cardholders, merchants or gateways", w)
		}
	}
	return set, nil
}

// applyReview makes the CA called name hold the requests review names for
// an operator's decision.
func applyReview(c *ca.Config, name string, review map[string]bool) {
	switch {
	case name == CCA && review[ReviewCardholders]:
		c.IssuerPolicy = ca.ReviewCardholders{}
	case name == MCA && review[ReviewMerchants], name == PCA && review[ReviewGateways]:
		c.Acquirer = ca.ReviewAcquirer{AcquirerPolicy: c.Acquirer}
	}
}
