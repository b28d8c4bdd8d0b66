package wallet

import (
	"crypto"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/setpay/setpay/msg"
)

// accountBIN is the BIN a wallet paying from a bank account sends in
// PInitReq: SET's BIN names a card issuer, and a bank account has none.
// Nothing routes on it; the gateway finds the bank from the account.
const accountBIN = "000000"

// check reports whether c names exactly one of a card and a bank account.
func (c Card) check() error {
	if c.Account != nil {
		if c.PAN != "" || c.Expiry != "" {
			return errors.New("wallet: a card with a bank account has no PAN or expiry")
		}
		if err := c.Account.Check(); err != nil {
			return fmt.Errorf("wallet: bank account: %w", err)
		}
		return nil
	}
	if len(c.PAN) < 12 || len(c.PAN) > 19 {
		return errors.New("wallet: PAN must have 12 to 19 digits")
	}
	return nil
}

// piData returns what the PI's EX carries at the PANData position —
// PANData for a card, AcctPIData for a bank account
// (msg.PIAccount.MarshalEX) — and the PIData the dual signature covers,
// both DER.
func (c Card) piData(head msg.PIHead, exNonce msg.Nonce) (panData, piData []byte, err error) {
	pi := msg.PIData{PIHead: head}
	acct := msg.PIAccount{}
	if c.Account != nil {
		pi.AcctPIData = &msg.AcctPIData{Account: *c.Account, AcctSecret: c.PANSecret, EXNonce: exNonce}
		acct.AcctPIData = pi.AcctPIData
	} else {
		pi.PANData = msg.PANData{PAN: c.PAN, CardExpiry: c.Expiry, PANSecret: c.PANSecret, EXNonce: exNonce}
		acct.PANData = &pi.PANData
	}
	if panData, err = acct.MarshalEX(); err != nil {
		return nil, nil, err
	}
	if piData, err = pi.Marshal(); err != nil {
		return nil, nil, err
	}
	return panData, piData, nil
}

// regFormExtra is RegFormReq's extra data: pan for a card; for a bank
// account, the account's identification as AcctData with pan's nonce
// (msg.RegFormAcct).
func (c Card) regFormExtra(pan *msg.PANOnly) ([]byte, error) {
	if c.Account == nil {
		return pan.Marshal()
	}
	return (&msg.RegFormAcct{AcctData: &msg.AcctData{AcctIdentification: c.Account.Identification(), EXNonce: pan.EXNonce}}).Marshal()
}

// acctInfo is a bank-account holder's CertReq AcctInfo: SET's AcctData,
// whose exNonce is the holder's half of the account secret (the CA adds
// NonceCCA, as to a card's CardSecret; see ca/account.go).
func (c Card) acctInfo(half msg.Secret) *msg.AcctInfo {
	return &msg.AcctInfo{AcctData: &msg.AcctData{AcctIdentification: c.Account.Identification(), EXNonce: msg.Nonce(half)}}
}

// holderID is the subject the certificate of c's holder names:
// hex(HMAC(PANSecret, PAN ‖ expiry)) for a card, the account's
// msg.BankAccount.HolderID for a bank account.
func (c Card) holderID(h crypto.Hash) string {
	if c.Account != nil {
		return c.Account.HolderID(h, c.PANSecret)
	}
	mac := hmac.New(h.New, c.PANSecret[:])
	mac.Write([]byte(c.PAN))
	mac.Write([]byte(c.Expiry))
	return hex.EncodeToString(mac.Sum(nil))
}
