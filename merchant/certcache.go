package merchant

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"sync"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/msg"
)

// Certificates travel like revocation state (issue 4, FLOWS.md §2.12
// thumbprints). Toward the cardholder the merchant is the responder:
// PInitRes leaves out each certificate PInitReq's certThumbs lists, and
// PRes leaves out what the wallet holds once PInitRes arrived (what it
// listed and what PInitRes carried) but adds the gateway's certificates
// that the gateway's signed result, forwarded in PRes, no longer carries.
// Toward the gateway it is the requester: MThumbs lists the gateway
// certificates in Config.Certificates, which holds only certificates that
// verified, and the gateway's answers are checked against the message's
// certificates first and the cache second — verified again each time.

// held returns the option that offers the cached and configured gateway
// certificates to the signature check of a gateway's answer.
func (cfg *Config) held() encap.OpenOption {
	certs := append(cfg.Certificates.Certificates(), cfg.GatewayCert)
	return encap.WithHeld(append(certs, cfg.GatewayChain...))
}

// signedErr classifies a failed signature check on a gateway's answer: a
// signer certificate neither carried nor held is missingCertificate; the
// rest as msg.Classify does.
func signedErr(err error, what string) error {
	if errors.Is(err, encap.ErrMissingCertificate) {
		return msg.Errorf(msg.MissingCertificate, "%s: %w", what, err)
	}
	return msg.Classify(err, msg.SignatureFailure, what)
}

// proofCerts returns the certificates a cardholder needs to check the
// gateway's signed result proof: its signer's certificate — carried in
// proof, else held — and the gateway's chain.
func (m *Merchant) proofCerts(cfg *Config, proof []byte) [][]byte {
	sd, err := pkcs7.ParseSignedData(proof)
	if err != nil || len(sd.SignerInfos) != 1 {
		return nil
	}
	pool := append(append([][]byte(nil), sd.Certificates...), cfg.Certificates.Certificates()...)
	if g := m.gateway.Load(); g != nil && g.Signature != nil {
		pool = append(pool, g.Signature)
	}
	cert, ok := (&pkcs7.SignedData{Certificates: pool}).FindCertificate(&sd.SignerInfos[0])
	if !ok {
		return nil
	}
	return append([][]byte{cert}, cfg.GatewayChain...)
}

// maxWalletHeld bounds the transactions whose wallet-held certificates
// the merchant remembers between PInitRes and PRes. A transaction
// forgotten (or a merchant restarted) only costs PRes its savings.
const maxWalletHeld = 4096

// walletHeld remembers, per transaction, the certificates the wallet
// holds once PInitRes is sent. Memory only: losing it is always safe.
type walletHeld struct {
	mu    sync.Mutex
	byXID map[msg.XID]func([]byte) bool
	order []msg.XID
}

// remember records for xid that the wallet holds what listed (nil: none
// listed) reports and the certificates PInitRes carried or left out as
// listed.
func (w *walletHeld) remember(xid msg.XID, listed func([]byte) bool, sent [][]byte) {
	keys := make(map[[sha256.Size]byte]bool, len(sent))
	for _, c := range sent {
		keys[sha256.Sum256(c)] = true
	}
	holds := func(c []byte) bool {
		return keys[sha256.Sum256(c)] || listed != nil && listed(c)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byXID == nil {
		w.byXID = make(map[msg.XID]func([]byte) bool)
	}
	if _, ok := w.byXID[xid]; !ok {
		for len(w.order) >= maxWalletHeld {
			delete(w.byXID, w.order[0])
			w.order = w.order[1:]
		}
		w.order = append(w.order, xid)
	}
	w.byXID[xid] = holds
}

// holds returns what the wallet of xid holds, nil if unknown.
func (w *walletHeld) holds(xid msg.XID) func([]byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byXID[xid]
}

// appendNew appends to certs each of more not already in it.
func appendNew(certs [][]byte, more ...[]byte) [][]byte {
	for _, c := range more {
		dup := false
		for _, d := range certs {
			if bytes.Equal(c, d) {
				dup = true
				break
			}
		}
		if !dup {
			certs = append(certs, c)
		}
	}
	return certs
}
