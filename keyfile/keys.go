package keyfile

import (
	"crypto"
	"io"

	"github.com/setpay/setpay/suite"
)

// Role labels for the keys the parties keep. A label is bound to the
// sealed key, so loading a file under another label fails. Callers may use
// other labels (one per CA of the hierarchy, say) as long as the program
// that writes a key and the one that reads it agree.
const (
	RoleCardholderSigning = "cardholder signing"
	RoleMerchantSigning   = "merchant signing"
	RoleMerchantExchange  = "merchant exchange"
	RoleGatewaySigning    = "gateway signing"
	RoleGatewayExchange   = "gateway exchange"
	RoleCASigning         = "ca signing"
)

// SealSigningKey seals a signing key of any suite (suite.MarshalSigningKey)
// as a key file for role.
func SealSigningKey(rand io.Reader, k crypto.Signer, role string, passphrase []byte, params Params) ([]byte, error) {
	pkcs8, err := suite.MarshalSigningKey(k)
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	return Seal(rand, pkcs8, role, passphrase, params)
}

// OpenSigningKey opens a key file sealed for role and parses the signing
// key in it.
func OpenSigningKey(b []byte, role string, passphrase []byte) (crypto.Signer, error) {
	pkcs8, err := Open(b, role, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	return suite.ParseSigningKey(pkcs8)
}

// SealExchangeKey seals a key-exchange key (suite.MarshalExchangeKey) as a
// key file for role.
func SealExchangeKey(rand io.Reader, k suite.ExchangeKey, role string, passphrase []byte, params Params) ([]byte, error) {
	pkcs8, err := suite.MarshalExchangeKey(k)
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	return Seal(rand, pkcs8, role, passphrase, params)
}

// OpenExchangeKey opens a key file sealed for role and parses the
// key-exchange key in it.
func OpenExchangeKey(b []byte, role string, passphrase []byte) (suite.ExchangeKey, error) {
	pkcs8, err := Open(b, role, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	return suite.ParseExchangeKey(pkcs8)
}
