package lab

import (
	"fmt"

	"github.com/setpay/setpay/gateway"
)

// RestartGateway replaces the lab's gateway with a new one on the same
// credential over store and issuer (nil: the built-in rule), as a gateway
// process restarted over its database would be: nothing of the old
// gateway's memory survives. The merchant reaches the new gateway only
// if Options.GatewayRT calls l.Gateway at each request; the default
// wiring stays bound to the old one.
func (l *Lab) RestartGateway(store gateway.Store, issuer gateway.Issuer) error {
	if l.gatewayID.Key == nil {
		return fmt.Errorf("lab: gateway credential unknown (registered labs restart their gateway themselves)")
	}
	l.opts.GatewayStore, l.opts.Issuer = store, issuer
	gw, err := l.buildGateway("SETpay Payment Gateway", l.gatewayID) // the name New gives it
	if err != nil {
		return err
	}
	l.Gateway = gw
	return nil
}
