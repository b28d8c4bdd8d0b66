package gateway

import "github.com/setpay/setpay/enrol"

// Resume rebuilds a pended registration (or renewal) from the state
// Registration.Export sealed, to Wait on it: see enrol.Resume. cfg needs
// only Roots (and Suite, Rand, Now, Revocation when set); the payment gateway's
// identity is the state's.
func Resume(cfg RegisterConfig, sealed, passphrase []byte) (*Registration, error) {
	return enrol.Resume(role, cfg.enrol(), sealed, passphrase, registered)
}
