package gateway

import "github.com/setpay/setpay/enrol"

// PendingError is Register's answer when the CA pended the request (its
// CertRes said requestPended or requestInProgress): nothing is issued yet,
// and Registration.Wait asks after it with CertInqReq.
type PendingError = enrol.PendingError[*Registered]

// WaitOptions bound Registration.Wait.
type WaitOptions = enrol.WaitOptions
