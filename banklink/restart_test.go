package banklink_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/bank/banktest"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestGatewayRestart authorizes three purchases through the issuer host,
// then replaces the gateway and its link by new ones over the same
// database file — nothing of the old processes' memory left — and
// captures, reverses and credits them: every follow-up names the right
// authorization to the issuer, and the bank's ledger balances.
func TestGatewayRestart(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { gatewayRestart(t, st) })
	}
}

func gatewayRestart(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	r := newRestartLab(t, st, nil, nil)
	l, want := r.Lab, r.want
	buy := func(amount int64) msg.XID {
		t.Helper()
		offer, err := l.Merchant.Checkout(ctx, "books", lab.USD(amount))
		if err != nil {
			t.Fatal(err)
		}
		p, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), lab.OfferFor(offer))
		if err != nil || res.Completion != msg.AuthorizationAccepted {
			t.Fatalf("Pay: %v, %v", res, err)
		}
		return p.TransIDs().XID
	}
	toCapture, toReverse, toCredit := buy(30_00), buy(20_00), buy(10_00)
	want("authorized", 60_00, 0)

	// The restart: the old link's connection and the database handle
	// close; a new gateway and link open the same file.
	r.restart()

	if code, err := l.Merchant.Capture(ctx, toCapture); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture after restart: %v, %v", code, err)
	}
	want("captured", 30_00, -30_00)
	if code, err := l.Merchant.ReverseAuthorization(ctx, toReverse, lab.USD(0)); err != nil || code != msg.AuthRevSuccess {
		t.Fatalf("reversal after restart: %v, %v", code, err)
	}
	want("reversed", 10_00, -30_00)
	if code, err := l.Merchant.Capture(ctx, toCredit); err != nil || code != msg.CapSuccess {
		t.Fatalf("second capture after restart: %v, %v", code, err)
	}
	if code, err := l.Merchant.Credit(ctx, toCredit, lab.USD(4_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit after restart: %v, %v", code, err)
	}
	want("credited", 0, -36_00)
}

// restartLab is a lab whose gateway keeps its records in a database file
// and reaches a bank host through a banklink, so that a test can stop the
// gateway and its link and start new ones over the same file (restart).
type restartLab struct {
	*lab.Lab
	t      *testing.T
	bank   *banktest.Bank
	acct   string         // the card's account at the bank
	path   string         // the gateway's database file
	gs     *sqlite.DB     // the gateway's database, as the current gateway has it
	link   *banklink.Link // the current gateway's, before any wrap
	client *iso8583.Client
	now    func() time.Time
}

var quiet = slog.New(slog.DiscardHandler)

// newRestartLab builds the lab, with now (nil: time.Now) as every
// party's and the link's clock. wrap, when not nil, stands between the
// first gateway and its link; a restarted gateway has the link alone.
func newRestartLab(t *testing.T, st suite.Suite, now func() time.Time, wrap func(gateway.Issuer) gateway.Issuer) *restartLab {
	t.Helper()
	r := &restartLab{t: t, bank: banktest.Start(t), path: filepath.Join(t.TempDir(), "gateway.db"), now: now}
	var err error
	if r.gs, err = sqlite.Open(r.path); err != nil {
		t.Fatal(err)
	}
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	r.link, r.client = r.dial(r.gs)
	var issuer gateway.Issuer = r.link
	if wrap != nil {
		issuer = wrap(issuer)
	}
	// The merchant reaches whichever gateway the lab has now.
	rt := wire.ServeFunc(func(ctx context.Context, req []byte) ([]byte, error) { return r.Gateway.Serve(ctx, req) })
	r.Lab, err = lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: r.gs, Issuer: issuer,
		GatewayRT: rt, Now: now, MerchantLog: quiet, GatewayLog: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cards[0]
	r.acct = r.bank.OpenAccounts(t, r.MerchantID, c.PAN, c.Expiry, 100_00)
	return r
}

// dial makes a new banklink to the bank host, keeping its records in db.
func (r *restartLab) dial(db *sqlite.DB) (*banklink.Link, *iso8583.Client) {
	c := iso8583.NewClient(r.bank.Addr, iso8583.ClientConfig{Timeout: 5 * time.Second, Attempts: 1, Log: quiet})
	return banklink.New(c, banklink.Config{AcquirerID: "4711", Log: quiet, Store: db, Now: r.now}), c
}

// restart closes the gateway's link connection and database handle —
// nothing of its memory is left — and gives the lab a new gateway and
// link over the same file.
func (r *restartLab) restart() {
	t := r.t
	t.Helper()
	r.client.Close()
	if err := r.gs.Close(); err != nil {
		t.Fatal(err)
	}
	gs, err := sqlite.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs.Close() })
	link, client := r.dial(gs)
	t.Cleanup(func() { client.Close() })
	if err := r.RestartGateway(gs, link); err != nil {
		t.Fatal(err)
	}
	r.gs, r.link, r.client = gs, link, client
}

// want checks the card's account at the bank and audits the ledger.
func (r *restartLab) want(step string, held, balance int64) {
	r.t.Helper()
	if err := r.bank.Check(r.acct, held, balance); err != nil {
		r.t.Fatalf("%s: %v", step, err)
	}
}
