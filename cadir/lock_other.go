//go:build !unix

package cadir

// lockDir is a no-op where flock is missing: there, run 'setpay ca revoke'
// and 'setpay ca crl' only while 'setpay ca serve' is stopped, or a party
// may briefly receive a BCI that does not match the CRLs sent with it.
func lockDir(string, bool) (func(), error) { return func() {}, nil }
