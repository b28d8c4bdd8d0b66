// Package banklink puts a bank's issuer host behind the payment gateway:
// it implements gateway.Issuer over an ISO 8583 link (bank/iso8583), so
// that SET authorizations become 0100 requests, sales (authorizations
// with captureNow) 0200 financial requests with processing code 000000,
// and captures 0220 completion advices; authorization reversals become 0400 (DE 4 the amount
// released), capture reversals 0420 and credits 0200, both with processing
// code 200000 (a refund) and DE 4 the amount returned. Every follow-up
// names the authorization in DE 90; so does a credit reversal, a 0400
// with processing code 200000. A payment from a bank account instead of a
// card names the account in DE 102 (account.go).
//
// The link remembers, per SET transaction (XID), what identifies the
// authorization to the issuer — its STAN and transmission time, which DE
// 90 of every follow-up names — from the approval on. It writes that to
// Config.Store before the approval reaches the gateway, so a gateway
// restarted between authorization and capture, reversal or credit (a new
// Link over the same store) still names the authorization. Each follow-up
// the gateway names (its movement ID) also gets its own DE 11 and DE 7
// on record before it is first sent: the gateway reconciling a movement
// whose answer it lost sends the same message again — same MTI, same
// identity — and the issuer answers it as a retransmission, moving
// nothing twice. (Within one Send the client already repeats it as
// 0221/0421 and so on; across Sends the original MTI goes out again, which
// the issuer, keying on the identity alone, treats the same.)
package banklink

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// Config says how the gateway presents itself on the link.
type Config struct {
	// AcquirerID is DE 32, 1 to 11 digits. Default "1".
	AcquirerID string
	// TerminalID is DE 41, up to 8 printable characters. Default "SETPAYGW".
	TerminalID string
	// Now is the clock for DE 7, 12 and 13. Default time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Store keeps what the link must remember of each approval: usually
	// the gateway's store. Nil keeps it in the process's memory, lost on a
	// restart: for tests only.
	Store store.IssuerRefStore
}

// Link is a gateway.Issuer speaking ISO 8583 to an issuer host.
type Link struct {
	c   *iso8583.Client
	cfg Config

	refs store.IssuerRefStore
}

var _ gateway.Issuer = (*Link)(nil)

// authRef is what a completion or reversal needs of the authorization.
// It is stored as JSON; it holds no PAN.
type authRef struct {
	STAN        string `json:"stan"`        // DE 11 of the 0100
	Transmitted string `json:"transmitted"` // DE 7 of the 0100
	RRN         string `json:"rrn"`         // DE 37
	Currency    int    `json:"currency"`
	MerchantID  string `json:"merchant"`
}

// refsName names the link's references in a store.IssuerRefStore.
const refsName = "banklink"

// New returns a link sending over c, which the caller keeps and closes.
func New(c *iso8583.Client, cfg Config) *Link {
	if cfg.AcquirerID == "" {
		cfg.AcquirerID = "1"
	}
	if cfg.TerminalID == "" {
		cfg.TerminalID = "SETPAYGW"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	refs := cfg.Store
	if refs == nil {
		refs = &memoryRefs{refs: make(map[store.XID][]byte)}
	}
	return &Link{c: c, cfg: cfg, refs: refs}
}

// remember records ref as XID's authorization unless one is recorded:
// the first approval of an XID is the one the gateway records, a second
// is reversed by the gateway (Reverse) and must not replace it.
func (l *Link) remember(ctx context.Context, xid msg.XID, ref authRef) error {
	b, err := json.Marshal(ref)
	if err != nil {
		return err
	}
	if err := l.refs.PutIssuerRef(ctx, refsName, store.XID(xid), b); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// lookup returns XID's recorded authorization.
func (l *Link) lookup(ctx context.Context, xid msg.XID) (authRef, []byte, error) {
	b, err := l.refs.IssuerRef(ctx, refsName, store.XID(xid))
	if err != nil {
		return authRef{}, nil, fmt.Errorf("no authorization of this transaction on record: %w", err)
	}
	var ref authRef
	if err := json.Unmarshal(b, &ref); err != nil {
		return authRef{}, nil, fmt.Errorf("stored authorization reference: %w", err)
	}
	return ref, b, nil
}

// memoryRefs is a store.IssuerRefStore in memory, for a link without a
// Store.
type memoryRefs struct {
	mu   sync.Mutex
	refs map[store.XID][]byte
}

func (m *memoryRefs) PutIssuerRef(_ context.Context, _ string, xid store.XID, ref []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.refs[xid]; ok {
		return store.ErrConflict
	}
	m.refs[xid] = ref
	return nil
}

func (m *memoryRefs) IssuerRef(_ context.Context, _ string, xid store.XID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.refs[xid]
	if !ok {
		return nil, fmt.Errorf("gateway restarted? %w", store.ErrNotFound)
	}
	return r, nil
}

func (m *memoryRefs) DeleteIssuerRef(_ context.Context, _ string, xid store.XID, ref []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if string(m.refs[xid]) == string(ref) {
		delete(m.refs, xid)
	}
	return nil
}

// AuthCode maps an issuer's response code (DE 39) to SET's AuthCode. SET
// has no code for an unknown card number: 14 is a decline, like 05, 51
// and 57, so the merchant learns no more than "no".
func AuthCode(rc iso8583.ResponseCode) msg.AuthCode {
	switch rc {
	case iso8583.Approved:
		return msg.AuthApproved
	case iso8583.DoNotHonour, iso8583.InvalidCardNumber, iso8583.InsufficientFunds, iso8583.TransactionNotPermitted:
		return msg.AuthDeclined
	case iso8583.ExpiredCard:
		return msg.AuthExpiredCard
	case iso8583.IssuerUnavailable:
		return msg.AuthNoReply
	default:
		return msg.AuthUnspecifiedFailure
	}
}

// CapCode maps the issuer's answer to a completion advice to SET's
// CapCode.
func CapCode(rc iso8583.ResponseCode) msg.CapCode {
	switch rc {
	case iso8583.Approved:
		return msg.CapSuccess
	case iso8583.InvalidTransaction: // nothing left to capture
		return msg.CapDuplicateRequest
	case "13": // more than the remaining hold
		return msg.CapInvalidAuthData
	case "25": // the issuer knows no such authorization
		return msg.CapUnknownXID
	case iso8583.ExpiredCard:
		return msg.CapAuthExpired
	default:
		return msg.CapUnspecifiedFailure
	}
}

// minorUnits returns an amount in hundredths, DE 4's unit on this link
// (every currency is taken to have two decimals), or false when it has
// none or does not fit DE 4's twelve digits.
func minorUnits(a msg.CurrencyAmount) (int64, bool) {
	n := a.Amount
	for e := a.AmtExp10; e > -2; e-- {
		if n > 999_999_999_999/10 {
			return 0, false
		}
		n *= 10
	}
	for e := a.AmtExp10; e < -2; e++ {
		if n%10 != 0 {
			return 0, false
		}
		n /= 10
	}
	return n, n > 0 && n <= 999_999_999_999
}

// request starts a request with the elements every message of the link
// carries: the acquirer, the terminal and merchant, local and
// transmission time, the retrieval reference and the currency.
func (l *Link) request(mti string, xid msg.XID, merchantID string, currency, amount int64) (*iso8583.Message, error) {
	if len(merchantID) == 0 || len(merchantID) > 15 {
		return nil, fmt.Errorf("banklink: merchant ID %q does not fit DE 42", merchantID)
	}
	now := l.cfg.Now()
	m := iso8583.NewMessage(mti)
	m.Set(iso8583.FieldProcessingCode, "000000") // purchase of goods and services
	m.Set(iso8583.FieldAmount, fmt.Sprintf("%012d", amount))
	m.Set(iso8583.FieldTransmissionTime, now.UTC().Format("0102150405"))
	m.Set(iso8583.FieldLocalTime, now.Format("150405"))
	m.Set(iso8583.FieldLocalDate, now.Format("0102"))
	m.Set(iso8583.FieldPOSEntryMode, "010") // PAN entered by the cardholder, no PIN
	m.Set(iso8583.FieldPOSCondition, "59")  // electronic commerce
	m.Set(iso8583.FieldAcquirerID, l.cfg.AcquirerID)
	// The retrieval reference ties the ISO messages to the SET
	// transaction: the first six bytes of its XID in hex.
	m.Set(iso8583.FieldRetrievalRef, strings.ToUpper(fmt.Sprintf("%x", xid[:6])))
	m.Set(iso8583.FieldTerminalID, fmt.Sprintf("%-8.8s", l.cfg.TerminalID))
	m.Set(iso8583.FieldMerchantID, fmt.Sprintf("%-15s", merchantID))
	m.Set(iso8583.FieldCurrency, fmt.Sprintf("%03d", currency))
	return m, nil
}

// Authorize sends a 0100, or for a sale (req.Capture) a 0200 that the
// issuer approves by posting the debit at once. No answer after every
// attempt is noReply (the client has already reversed the request, so no
// hold or debit is left behind).
func (l *Link) Authorize(ctx context.Context, req gateway.IssuerRequest) (gateway.IssuerDecision, error) {
	amount, ok := minorUnits(req.Amount)
	if !ok || req.Amount.Currency <= 0 || req.Amount.Currency > 999 {
		return gateway.IssuerDecision{Code: msg.AuthAmountError}, nil
	}
	mti := iso8583.MTIAuthorizationRequest
	if req.Capture {
		mti = iso8583.MTIFinancialRequest // DE 3 stays 000000: a purchase, not a refund
	}
	m, err := l.request(mti, req.XID, req.MerchantID, int64(req.Amount.Currency), amount)
	if err != nil {
		return gateway.IssuerDecision{}, err
	}
	if req.Account != nil {
		if !setAccount(m, req.Account) { // account.go
			return gateway.IssuerDecision{Code: msg.AuthUnspecifiedFailure}, nil
		}
	} else {
		m.Set(iso8583.FieldPAN, req.PAN)
	}
	if len(req.Expiry) == 6 {
		m.Set(iso8583.FieldExpiry, req.Expiry[2:]) // YYYYMM → YYMM
	}
	resp, err := l.c.Send(ctx, m)
	if errors.Is(err, iso8583.ErrTimeout) || (err != nil && ctx.Err() != nil) {
		l.cfg.Log.Warn("banklink: issuer did not answer", "err", err)
		if te, ok := errors.AsType[*iso8583.TimeoutError](err); ok && req.Capture {
			l.refundLostSale(ctx, req, te.STAN, m.Fields[iso8583.FieldTransmissionTime], amount)
		}
		return gateway.IssuerDecision{Code: msg.AuthNoReply, ResponseCode: string(iso8583.IssuerUnavailable)}, nil
	}
	if err != nil {
		return gateway.IssuerDecision{}, fmt.Errorf("banklink: authorization: %w", err)
	}
	rc := resp.ResponseCode()
	d := gateway.IssuerDecision{Code: AuthCode(rc), ResponseCode: string(rc)}
	if d.Code != msg.AuthApproved {
		return d, nil
	}
	d.ApprovalCode, _ = resp.Get(iso8583.FieldApprovalCode)
	// The client filled DE 11 into its copy; the response carries it.
	ref := authRef{STAN: resp.STAN(), Transmitted: m.Fields[iso8583.FieldTransmissionTime],
		RRN: m.Fields[iso8583.FieldRetrievalRef], Currency: req.Amount.Currency, MerchantID: req.MerchantID}
	d.Ref = ref.STAN + "/" + ref.Transmitted
	// On record before the gateway hears of the approval: an approval
	// the link could not follow up is reversed now, not left as a hold.
	if err := l.remember(ctx, req.XID, ref); err != nil {
		if rerr := l.Reverse(context.WithoutCancel(ctx), req, d); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return gateway.IssuerDecision{}, fmt.Errorf("banklink: recording the approval: %w", err)
	}
	return d, nil
}

// refundLostSale returns the debit a sale that went unanswered may have
// posted. The client's 0400 after the timeout releases holds only, and a
// sale leaves none: what it captured needs a refund (0420, DE 3 200000)
// naming it. An issuer that never saw the sale answers 25, and nothing
// moves.
func (l *Link) refundLostSale(ctx context.Context, req gateway.IssuerRequest, stan, transmitted string, amount int64) {
	m, err := l.request(iso8583.MTIReversalAdvice, req.XID, req.MerchantID, int64(req.Amount.Currency), amount)
	if err != nil {
		l.cfg.Log.Error("banklink: refund of an unanswered sale", "err", err)
		return
	}
	m.Set(iso8583.FieldProcessingCode, "200000")
	od, err := l.original(authRef{STAN: stan, Transmitted: transmitted})
	if err != nil {
		l.cfg.Log.Error("banklink: refund of an unanswered sale", "err", err)
		return
	}
	m.Set(iso8583.FieldOriginalData, od)
	resp, err := l.c.Send(context.WithoutCancel(ctx), m)
	if err != nil {
		l.cfg.Log.Error("banklink: refund of an unanswered sale", "err", err)
		return
	}
	l.cfg.Log.Warn("banklink: refunded an unanswered sale", "stan", stan, "code", string(resp.ResponseCode()))
}

// original encodes DE 90 naming the authorization ref.
func (l *Link) original(ref authRef) (string, error) {
	return iso8583.OriginalData{MTI: iso8583.MTIAuthorizationRequest, STAN: ref.STAN,
		TransmissionTime: ref.Transmitted, AcquirerID: l.cfg.AcquirerID}.Encode()
}

// msgIdentity is a follow-up's own message identity, DE 11 and DE 7,
// kept under the gateway's movement ID (CaptureRequest.ID,
// AdjustRequest.ID). It is stored before the message is first sent, so
// that the movement asked again — after no answer, or by a restarted
// gateway reconciling it — goes out under the same identity, and the
// issuer, which applies a message identity once, answers as the first
// time instead of moving the money twice.
type msgIdentity struct {
	STAN        string `json:"stan"`
	Transmitted string `json:"transmitted"`
}

// followUpRefs names the follow-ups' identities in a store.IssuerRefStore.
const followUpRefs = "banklink-followup"

// identify gives m the identity recorded for movement id, recording a
// fresh one first if there is none. A zero id leaves m to the client,
// which numbers it afresh.
func (l *Link) identify(ctx context.Context, id msg.XID, m *iso8583.Message) error {
	if id == (msg.XID{}) {
		return nil
	}
	var n [4]byte
	rand.Read(n[:])
	fresh := msgIdentity{
		// Drawn at random, not from the client's sequence: it must be
		// known, and on record, before the client sends it.
		STAN:        fmt.Sprintf("%06d", binary.BigEndian.Uint32(n[:])%999999+1),
		Transmitted: l.cfg.Now().UTC().Format("0102150405"),
	}
	b, err := json.Marshal(fresh)
	if err != nil {
		return err
	}
	err = l.refs.PutIssuerRef(ctx, followUpRefs, store.XID(id), b)
	if errors.Is(err, store.ErrConflict) {
		if b, err = l.refs.IssuerRef(ctx, followUpRefs, store.XID(id)); err == nil {
			err = json.Unmarshal(b, &fresh)
		}
	}
	if err != nil {
		return fmt.Errorf("banklink: message identity: %w", err)
	}
	m.Set(iso8583.FieldSTAN, fresh.STAN)
	m.Set(iso8583.FieldTransmissionTime, fresh.Transmitted)
	return nil
}

// Capture sends a 0220 completion advice for the authorization of XID. It
// carries neither PAN nor expiry: DE 90 names the authorization, and the
// issuer has the card. Sent again for the same req.ID, it is the same
// message (identify).
func (l *Link) Capture(ctx context.Context, req gateway.CaptureRequest) (msg.CapCode, error) {
	ref, _, err := l.lookup(ctx, req.XID)
	if err != nil {
		return 0, fmt.Errorf("banklink: capture: %w", err)
	}
	amount, ok := minorUnits(req.Amount)
	if !ok || req.Amount.Currency != ref.Currency {
		return msg.CapInvalidAuthData, nil
	}
	m, err := l.request(iso8583.MTICompletionAdvice, req.XID, req.MerchantID, int64(ref.Currency), amount)
	if err != nil {
		return 0, err
	}
	od, err := l.original(ref)
	if err != nil {
		return 0, err
	}
	m.Set(iso8583.FieldOriginalData, od)
	if err := l.identify(ctx, req.ID, m); err != nil {
		return 0, err
	}
	resp, err := l.c.Send(ctx, m)
	if err != nil {
		return 0, fmt.Errorf("banklink: capture: %w", err)
	}
	// The reference stays after the capture: a capture reversal or a
	// credit names the same authorization.
	return CapCode(resp.ResponseCode()), nil
}

// Reverse sends a 0400 for the approval d, releasing its hold; the
// approval of a sale has no hold left but a debit, which a 0420 refund
// advice (DE 3 200000) returns.
func (l *Link) Reverse(ctx context.Context, req gateway.IssuerRequest, d gateway.IssuerDecision) error {
	stan, transmitted, ok := strings.Cut(d.Ref, "/")
	if !ok {
		return fmt.Errorf("banklink: reverse: %q is not this link's reference", d.Ref)
	}
	amount, _ := minorUnits(req.Amount)
	mti := iso8583.MTIReversalRequest
	if req.Capture {
		mti = iso8583.MTIReversalAdvice
	}
	m, err := l.request(mti, req.XID, req.MerchantID, int64(req.Amount.Currency), amount)
	if err != nil {
		return err
	}
	if req.Capture {
		m.Set(iso8583.FieldProcessingCode, "200000")
	}
	od, err := l.original(authRef{STAN: stan, Transmitted: transmitted})
	if err != nil {
		return err
	}
	m.Set(iso8583.FieldOriginalData, od)
	resp, err := l.c.Send(ctx, m)
	if err != nil {
		return fmt.Errorf("banklink: reverse: %w", err)
	}
	if r, raw, err := l.lookup(ctx, req.XID); err == nil && r.STAN == stan && r.Transmitted == transmitted {
		if err := l.refs.DeleteIssuerRef(ctx, refsName, store.XID(req.XID), raw); err != nil {
			l.cfg.Log.Warn("banklink: reverse: forgetting the authorization", "err", err)
		}
	}
	if rc := resp.ResponseCode(); rc != iso8583.Approved {
		return fmt.Errorf("banklink: reverse: issuer answered %s", rc)
	}
	return nil
}

// CapRevOrCredCode maps the issuer's answer to a reversal or credit to
// SET's CapRevOrCredCode.
func CapRevOrCredCode(rc iso8583.ResponseCode) msg.CapRevOrCredCode {
	switch rc {
	case iso8583.Approved:
		return msg.CapRevOrCredSuccess
	case "13": // more than was captured, or than remains to credit
		return msg.CapRevOrCredAmountError
	case iso8583.InvalidTransaction:
		return msg.CapRevOrCredOriginalNotFound
	case "25":
		return msg.CapRevOrCredUnknownXID
	default:
		return msg.CapRevOrCredUnspecifiedFailure
	}
}

// followUp sends mti with processing code pc and DE 4 amt, naming the
// authorization of req.XID in DE 90, and returns the issuer's DE 39.
func (l *Link) followUp(ctx context.Context, what, mti, pc string, req gateway.AdjustRequest) (iso8583.ResponseCode, error) {
	ref, _, err := l.lookup(ctx, req.XID)
	if err != nil {
		return "", fmt.Errorf("banklink: %s: %w", what, err)
	}
	amount, ok := minorUnits(req.Amount)
	if !ok || req.Amount.Currency != ref.Currency {
		return "13", nil
	}
	m, err := l.request(mti, req.XID, req.MerchantID, int64(ref.Currency), amount)
	if err != nil {
		return "", err
	}
	m.Set(iso8583.FieldProcessingCode, pc)
	od, err := l.original(ref)
	if err != nil {
		return "", err
	}
	m.Set(iso8583.FieldOriginalData, od)
	if err := l.identify(ctx, req.ID, m); err != nil {
		return "", err
	}
	resp, err := l.c.Send(ctx, m)
	if err != nil {
		return "", fmt.Errorf("banklink: %s: %w", what, err)
	}
	return resp.ResponseCode(), nil
}

// ReverseAuthorization sends a 0400 releasing req.Amount of the hold.
func (l *Link) ReverseAuthorization(ctx context.Context, req gateway.AdjustRequest) (msg.AuthRevCode, error) {
	rc, err := l.followUp(ctx, "authorization reversal", iso8583.MTIReversalRequest, "000000", req)
	if err != nil {
		return 0, err
	}
	switch rc {
	case iso8583.Approved:
		return msg.AuthRevSuccess, nil
	case "13":
		return msg.AuthRevAmountError, nil
	case "25":
		return msg.AuthRevUnknownXID, nil
	default:
		return msg.AuthRevUnspecifiedFailure, nil
	}
}

// ReverseCapture sends a 0420 refund advice returning the capture.
func (l *Link) ReverseCapture(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	rc, err := l.followUp(ctx, "capture reversal", iso8583.MTIReversalAdvice, "200000", req)
	if err != nil {
		return 0, err
	}
	return CapRevOrCredCode(rc), nil
}

// Credit sends a 0200 refund returning req.Amount of the capture.
func (l *Link) Credit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	rc, err := l.followUp(ctx, "credit", iso8583.MTIFinancialRequest, "200000", req)
	if err != nil {
		return 0, err
	}
	return CapRevOrCredCode(rc), nil
}

// ReverseCredit sends a 0400 with processing code 200000 taking back
// req.Amount of what credits of the authorization returned.
func (l *Link) ReverseCredit(ctx context.Context, req gateway.AdjustRequest) (msg.CapRevOrCredCode, error) {
	rc, err := l.followUp(ctx, "credit reversal", iso8583.MTIReversalRequest, "200000", req)
	if err != nil {
		return 0, err
	}
	return CapRevOrCredCode(rc), nil
}
