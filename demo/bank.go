package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wallet"
)

// Bank is the issuer host's name in the transcript, in BankMessage.From and
// BankMessage.To and as its folder of the data directory.
const Bank = "bank"

// MerchantID is the merchant ID lab gives its merchant: the merchant the
// bank's acquirer side must know (ISO 8583 DE 42) before it approves.
const MerchantID = "MER-0001"

// CardPAN returns the card number lab gives its cardholder i (from 0).
func CardPAN(i int) string { return lab.CardPAN(i) }

// BankMessage is one ISO 8583 message between the gateway and the issuer
// host, as it crossed the link. It keeps the bytes for the confidentiality
// check, but nothing printed from it shows more of a PAN than its mask.
type BankMessage struct {
	Seq      int // from 1, over the whole run, counting ISO 8583 messages only
	Purchase int // the purchase it belongs to, from 1
	From, To string
	MTI      string
	// ResponseCode is DE 39 of a response, empty in a request.
	ResponseCode string
	// Card is DE 2 masked, when the message carries one.
	Card  string
	Frame []byte // the message without its length prefix
}

// LedgerCard is one card account's position after the run.
type LedgerCard struct {
	Card     string // masked PAN
	Account  string // ledger ID
	Opening  int64
	Held     int64
	Captured int64 // opening − balance: the demo issues no credits
	Balance  int64
}

// LedgerCheck is the bank's books after the run.
type LedgerCheck struct {
	Cards []LedgerCard
	// Audit is bank.Ledger.Audit's verdict: nil means every entry balanced
	// (debits = credits), every balance matched its postings and every hold
	// was accounted for.
	Audit error
}

// issuer is the bank behind the gateway: a host in process, or a client of
// an external one.
type issuer struct {
	addr     string
	external bool
	party    *party // the in-process host's files
	ledger   *bank.Ledger
	srv      *iso8583.Server
	done     chan error
	client   *iso8583.Client
	office   *backOffice // the acquirer's back office, on a link of its own
	link     *banklink.Link
	rec      isoRecorder
	cards    []LedgerCard
	closed   bool
}

// startIssuer starts the in-process issuer host on a loopback port (unless
// addr names an external one) and the gateway's client for it.
func startIssuer(dir, addr string, gp *party) (*issuer, error) {
	is := &issuer{addr: addr, external: addr != ""}
	if !is.external {
		p, err := openParty(dir, Bank)
		if err != nil {
			return nil, err
		}
		is.party = p
		is.ledger = bank.NewLedger(p.db, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			p.close()
			return nil, fmt.Errorf("demo: bank socket: %w", err)
		}
		is.addr = ln.Addr().String()
		host, err := NewBankHost(p.db, is.ledger, p.log)
		if err != nil {
			ln.Close()
			p.close()
			return nil, err
		}
		is.srv = &iso8583.Server{Handler: host.Handle, Log: p.log, GracePeriod: 2 * time.Second}
		is.done = make(chan error, 1)
		go func() { is.done <- is.srv.Serve(ln) }()
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	is.client = iso8583.NewClient(is.addr, iso8583.ClientConfig{
		Timeout: 5 * time.Second, Attempts: 3, Log: gp.log,
		Dial: func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return &tapConn{Conn: c, rec: &is.rec}, nil
		},
	})
	is.office = newBackOffice(is.addr, gp.log)
	is.link = banklink.New(is.client, banklink.Config{AcquirerID: "4711", Log: gp.log, Store: gp.db})
	return is, nil
}

// open opens the accounts of the lab's merchant and cards in the
// in-process bank, each card with limit.
func (is *issuer) open(ctx context.Context, l *lab.Lab, limit int64) error {
	if is.external {
		return nil
	}
	if _, err := is.ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
		return fmt.Errorf("demo: opening the merchant's bank account: %w", err)
	}
	for i, c := range l.Cards {
		if c.Account != nil {
			if err := is.openAccount(ctx, i, c, limit); err != nil { // account.go
				return err
			}
			continue
		}
		// lab's expiry is YYYYMM, the bank's (ISO 8583 DE 14) YYMM.
		id, err := is.ledger.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: fmt.Sprintf("cardholder %d", i+1), Currency: 840, Limit: limit})
		if err != nil {
			return fmt.Errorf("demo: opening card %d at the bank: %w", i+1, err)
		}
		is.cards = append(is.cards, LedgerCard{Card: wallet.MaskPAN(c.PAN), Account: id})
	}
	return nil
}

// issuerWait bounds how long the demo waits for an issuer host to answer
// its echo: long enough for 'setpay bank --seed', started a moment before,
// to open its accounts (well under a second) and listen; short enough
// that a bank that is not there is reported promptly.
const issuerWait = 3 * time.Second

// waitHealthy sends network management echoes (0800) until one is
// answered 00: an external host may still be starting. Bounded in count
// and time; the echoes are not part of the transcript.
func (is *issuer) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, issuerWait)
	defer cancel()
	var err error
	for range 40 {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var res *iso8583.Message
		res, err = is.client.Send(ectx, iso8583.NewMessage("0800"))
		cancel()
		if err == nil && res.ResponseCode() != "00" {
			err = fmt.Errorf("echo answered %s", res.ResponseCode())
		}
		if err == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	is.rec.take()
	if err != nil {
		if is.external {
			return fmt.Errorf("demo: issuer host %s does not answer (is 'setpay bank --seed' running there?): %w", is.addr, err)
		}
		return fmt.Errorf("demo: issuer host %s does not answer: %w", is.addr, err)
	}
	return nil
}

// check audits the in-process bank's books and reads each card's
// position; an external bank is asked for its own audit's verdict.
func (is *issuer) check(ctx context.Context) (*LedgerCheck, error) {
	if is.external {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		verdict, err := is.office.audit(ctx)
		if err != nil {
			return nil, err
		}
		return &LedgerCheck{Audit: verdict}, nil
	}
	lc := &LedgerCheck{Audit: is.ledger.Audit(ctx)}
	for _, c := range is.cards {
		f, err := is.ledger.Funds(ctx, c.Account)
		if err != nil {
			return lc, fmt.Errorf("demo: reading card %s at the bank: %w", c.Card, err)
		}
		c.Held, c.Balance, c.Captured = f.Held, f.Balance, c.Opening-f.Balance
		lc.Cards = append(lc.Cards, c)
	}
	return lc, nil
}

// close stops the client and the in-process host (its files stay open
// until closeFiles, for the ledger check).
func (is *issuer) close() error {
	if is.closed {
		return nil
	}
	is.closed = true
	err := errors.Join(is.client.Close(), is.office.close())
	if is.srv != nil {
		is.srv.Close()
		if serr := <-is.done; !errors.Is(serr, iso8583.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		is.srv = nil
	}
	return err
}

func (is *issuer) closeFiles() error {
	if is.party == nil {
		return nil
	}
	return is.party.close()
}

// take returns the ISO 8583 messages seen since the last call, numbered on
// from rep.BankMessages and appended there.
func (is *issuer) take(rep *Report, purchase int) []BankMessage {
	var out []BankMessage
	for _, f := range is.rec.take() {
		m := BankMessage{Seq: len(rep.BankMessages) + 1, Purchase: purchase, From: f.from, To: f.to, Frame: f.b, MTI: "????"}
		if im, err := iso8583.Unmarshal(f.b); err == nil {
			m.MTI = im.MTI
			if iso8583.IsResponse(im.MTI) {
				m.ResponseCode = string(im.ResponseCode())
			}
			if pan, ok := im.Get(2); ok {
				m.Card = wallet.MaskPAN(pan)
			}
			if acct, ok := im.Get(iso8583.FieldAccountID1); ok {
				m.Card = msg.MaskAccount(acct)
			}
		}
		rep.BankMessages = append(rep.BankMessages, m)
		out = append(out, m)
	}
	return out
}

// checkBankPath checks that a step's ISO 8583 messages include the
// approving response of the kind it needs (0110 for an authorization,
// 0230 for a capture). Retransmissions may add repeats; they are shown,
// not refused.
func checkBankPath(msgs []BankMessage, respMTI string) error {
	for _, m := range msgs {
		if iso8583.BaseMTI(m.MTI) == respMTI {
			if m.ResponseCode != "00" {
				return fmt.Errorf("the issuer host answered %s with %s", m.MTI, m.ResponseCode)
			}
			return nil
		}
	}
	return fmt.Errorf("no %s from the issuer host among %d ISO 8583 messages", respMTI, len(msgs))
}

// isoFrame is one frame the tap saw.
type isoFrame struct {
	from, to string
	b        []byte
}

// isoRecorder keeps the frames the taps see, in the order they crossed.
type isoRecorder struct {
	mu     sync.Mutex
	frames []isoFrame
}

func (r *isoRecorder) add(f isoFrame) {
	r.mu.Lock()
	r.frames = append(r.frames, f)
	r.mu.Unlock()
}

func (r *isoRecorder) take() []isoFrame {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.frames
	r.frames = nil
	return f
}

// tapConn is the gateway's connection to the issuer host, seen from the
// gateway: what it writes goes to the bank, what it reads comes from it.
// Each direction is cut into frames (2-byte big-endian length, then the
// message) as the bytes pass.
type tapConn struct {
	net.Conn
	rec     *isoRecorder
	out, in frameCutter
	outMu   sync.Mutex
	inMu    sync.Mutex
}

func (c *tapConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.outMu.Lock()
	for _, f := range c.out.feed(b[:n]) {
		c.rec.add(isoFrame{from: Gateway, to: Bank, b: f})
	}
	c.outMu.Unlock()
	return n, err
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.inMu.Lock()
	for _, f := range c.in.feed(b[:n]) {
		c.rec.add(isoFrame{from: Bank, to: Gateway, b: f})
	}
	c.inMu.Unlock()
	return n, err
}

// frameCutter reassembles length-prefixed frames from a byte stream. It
// holds at most one frame (64 KiB) plus its prefix.
type frameCutter struct{ buf []byte }

func (fc *frameCutter) feed(b []byte) [][]byte {
	fc.buf = append(fc.buf, b...)
	var out [][]byte
	for len(fc.buf) >= 2 {
		n := int(fc.buf[0])<<8 | int(fc.buf[1])
		if len(fc.buf) < 2+n {
			break
		}
		out = append(out, append([]byte(nil), fc.buf[2:2+n]...))
		fc.buf = fc.buf[2+n:]
	}
	return out
}

// bankDescription names an MTI for the transcript.
func bankDescription(mti string) string {
	d := map[string]string{
		"0100": "authorization request", "0110": "authorization response",
		"0200": "financial request", "0210": "financial response",
		"0220": "completion advice (capture)", "0230": "completion response",
		"0400": "reversal request", "0410": "reversal response",
		"0420": "reversal advice", "0430": "reversal advice response",
		"0800": "echo", "0810": "echo response",
	}[iso8583.BaseMTI(mti)]
	if d == "" {
		return "undecodable"
	}
	if iso8583.IsRepeat(mti) {
		d += ", repeat"
	}
	return d
}
