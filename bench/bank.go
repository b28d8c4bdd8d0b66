package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/store/sqlite"
)

// bankLimit is every benchmark card's credit limit: the most the issuer
// host accepts (bank's maxAmount), so that holds left by authorizations
// that are never captured do not run a card out of funds within any
// bounded run (2·10⁸ authorizations of 49.99).
const bankLimit = 999_999_999_999

// bankHost is an issuer host serving ISO 8583 on 127.0.0.1, its ledger
// in in-memory SQLite, and the gateway's link to it.
type bankHost struct {
	ledger *bank.Ledger
	srv    *iso8583.Server
	served chan error
	client *iso8583.Client
	link   *banklink.Link
	cards  []string // ledger IDs of the lab's cards, in the lab's order
}

// startBank opens the ledger and serves it on a loopback port. Close
// releases everything, including db.
func startBank(db *sqlite.DB) (*bankHost, error) {
	quiet := slog.New(slog.DiscardHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: bank listener: %w", err)
	}
	b := &bankHost{ledger: bank.NewLedger(db, nil), served: make(chan error, 1)}
	b.srv = &iso8583.Server{Handler: bank.NewHost(bank.NewIssuer(b.ledger), quiet).Handle, Log: quiet, GracePeriod: time.Second}
	go func() { b.served <- b.srv.Serve(ln) }()
	// One attempt per request with a generous timeout: a retransmission
	// would be measured as a slow authorization, and on a loaded machine
	// a short timeout would turn slowness into reversals.
	b.client = iso8583.NewClient(ln.Addr().String(), iso8583.ClientConfig{Timeout: 30 * time.Second, Attempts: 1, Log: quiet})
	b.link = banklink.New(b.client, banklink.Config{AcquirerID: "4711", Log: quiet})
	return b, nil
}

func (b *bankHost) close() error {
	errs := []error{b.client.Close(), b.srv.Close()}
	if err := <-b.served; !errors.Is(err, iso8583.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("bench: bank host: %w", err))
	}
	return errors.Join(errs...)
}
