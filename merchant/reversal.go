package merchant

// Reversals and credits: the merchant undoes an authorization (wholly or
// down to a new amount), a capture, or returns money on a captured sale
// and takes such a credit back. Like Capture, each builds its request,
// seals it to the gateway, opens the gateway's signed answer, checks that
// it answers this request, and only then records the outcome.

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// Caller is a GatewayClient that carries any request: what reversals
// and credits need. *wire.GatewayClient serves as one without it (its
// endpoint and transport are used directly).
type Caller interface {
	Call(ctx context.Context, req msg.Message, ids *msg.MessageIDs) (msg.Message, error)
}

// call sends req to the gateway and returns its answer, which must be a T.
func call[T msg.Message](ctx context.Context, m *Merchant, req msg.Message, ids *msg.MessageIDs) (T, error) {
	var zero T
	var (
		res msg.Message
		err error
	)
	switch c := m.cfg.Gateway.(type) {
	case Caller:
		res, err = c.Call(ctx, req, ids)
	case *wire.GatewayClient:
		res, err = c.Endpoint.Call(ctx, c.RT, "gateway", ids, nil, req)
	default:
		return zero, fmt.Errorf("%T cannot carry %s", m.cfg.Gateway, req.Name())
	}
	if err != nil {
		return zero, err
	}
	t, ok := res.(T)
	if !ok {
		return zero, msg.Errorf(msg.WrapperMsgMismatch, "gateway answered %s with %s", req.Name(), res.Name())
	}
	return t, nil
}

// request is what every reversal and credit starts from: the order, its
// TransIDs, a fresh RRPID and the time.
type request struct {
	order    *store.Order
	transIDs *msg.TransIDs
	rrpid    msg.RRPID
	now      time.Time
}

func (m *Merchant) start(ctx context.Context, xid msg.XID, states ...store.OrderState) (*request, error) {
	order, err := m.cfg.Store.Order(ctx, store.XID(xid))
	if err != nil {
		return nil, err
	}
	ok := false
	for _, s := range states {
		ok = ok || order.State == s
	}
	if !ok {
		return nil, fmt.Errorf("order is %s", order.State)
	}
	transIDs, err := msg.UnmarshalTransIDs(order.TransIDs)
	if err != nil {
		return nil, fmt.Errorf("stored TransIDs: %w", err)
	}
	r := &request{order: order, transIDs: transIDs, now: m.cfg.Now().UTC().Truncate(time.Second)}
	if _, err := io.ReadFull(m.cfg.Rand, r.rrpid[:]); err != nil {
		return nil, err
	}
	return r, nil
}

// addressed returns deviation 1 and 3's fields: the gateway's thumbprint
// and the request's expiry (none in set1).
func (m *Merchant) addressed(now time.Time) (*msg.CertThumb, time.Time) {
	st := m.cfg.Suite
	if st.ID() == suite.Set1 {
		return nil, time.Time{}
	}
	thumb := msg.ThumbOf(st.Hash(), m.config().GatewayCert)
	return &thumb, now.Add(m.cfg.RequestLifetime)
}

// openResponse opens the gateway's Enc{P, M, t} and checks who signed it.
func (m *Merchant) openResponse(kind string, env []byte, ctData, ctEnvelope asn1.ObjectIdentifier) ([]byte, error) {
	cfg := m.config()
	content, _, signerCert, err := encap.OpenEnc(cfg.Suite, cfg.ExchangeKey.key, cfg.ExchangeCert, env, ctData, ctEnvelope,
		cfg.verifier(cfg.Now(), pki.CertTypePgwy, x509.KeyUsageDigitalSignature), cfg.learn(ctData))
	if err != nil {
		return nil, signedErr(err, kind)
	}
	if !pki.SameSubject(signerCert, cfg.GatewayCert) {
		return nil, msg.Errorf(msg.SignatureFailure, "%s signed by a gateway other than the designated one", kind)
	}
	return content, nil
}

// checkAnswers applies deviation 2: the answer names this merchant and
// the request's signed content.
func (m *Merchant) checkAnswers(kind string, thumb *msg.CertThumb, hReq, tbs []byte) error {
	st := m.cfg.Suite
	if st.ID() == suite.Set1 {
		return nil
	}
	if !thumb.Matches(m.cfg.SigningCert) {
		return msg.Errorf(msg.ThumbsMismatch, "%s answers another merchant", kind)
	}
	if string(hReq) != string(digest(st.Hash(), tbs)) {
		return msg.Errorf(msg.SignatureFailure, "%s answers another request", kind)
	}
	return nil
}

// ReverseAuthorization asks the gateway to reduce an authorized, not yet
// captured order's authorization to newAmount: zero reverses it, less than
// authorized reverses it in part. The order records the new amount (and,
// at zero, StateReversed) only when the gateway's signed answer says so.
func (m *Merchant) ReverseAuthorization(ctx context.Context, xid msg.XID, newAmount msg.CurrencyAmount) (msg.AuthRevCode, error) {
	cfg := m.config()
	st := cfg.Suite
	r, err := m.start(ctx, xid, store.StateAuthorized)
	if err != nil {
		return 0, fmt.Errorf("merchant: authorization reversal: %w", err)
	}
	o := r.order
	original := msg.CurrencyAmount{Currency: o.Currency, Amount: o.Amount, AmtExp10: o.AmtExp10}
	// The authorization reversed is the order's latest (o.AuthRRPID): for
	// an order shipped in parts, the part authorized and not yet captured
	// (merchant/split.go); the earlier parts are captured.
	authorized := msg.CurrencyAmount{Currency: o.Currency, Amount: o.AuthAmount - o.CaptureAmount, AmtExp10: o.AmtExp10}
	if o.CaptureAmount > 0 {
		original = authorized // a later shipment's AuthReq asked for its part
	}
	data := msg.AuthRevReqData{
		MThumbs: cfg.mThumbs(ctx),
		AuthRevTags: msg.AuthRevTags{
			AuthRevRRTags: msg.RRTags{RRPID: r.rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: r.now},
			TransIDs:      *r.transIDs,
		},
		// The original request and answer, as far as the order keeps them:
		// this gateway acts on its own record of the authorization.
		AuthReqData: msg.AuthReqData{AuthReqItem: msg.AuthReqItem{
			AuthTags: msg.AuthTags{
				AuthRRTags: msg.RRTags{RRPID: msg.RRPID(o.AuthRRPID), MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: r.transIDs.PReqDate},
				TransIDs:   *r.transIDs,
			},
			AuthReqPayload: msg.AuthReqPayload{AuthReqAmt: original},
		}},
		AuthResPayload: msg.AuthResPayload{AuthHeader: msg.AuthHeader{AuthAmt: authorized, AuthCode: msg.AuthApproved}},
		AuthNewAmt:     newAmount,
	}
	data.PGThumb, data.Expiry = m.addressed(r.now)
	baggage, hBaggage, err := authRevBaggage(st, orderParts(o), msg.RRPID(o.AuthRRPID))
	if err != nil {
		return 0, err
	}
	tbs, err := (&msg.AuthRevReqTBS{AuthRevReqData: data, HAuthRevReqBaggage: hBaggage}).Marshal()
	if err != nil {
		return 0, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, msg.OIDAuthRevReqTBS, msg.OIDAuthRevReqTBE, tbs)
	if err != nil {
		return 0, err
	}
	req := &msg.AuthRevReq{AuthRevReqTBE: tbe, AuthRevReqBaggage: baggage}
	res, err := call[*msg.AuthRevRes](ctx, m, req, &msg.MessageIDs{LIDM: r.transIDs.LIDM, XID: &r.transIDs.XID})
	if err != nil {
		return 0, fmt.Errorf("merchant: authorization reversal: %w", err)
	}
	content, err := m.openResponse("AuthRevRes", res.AuthRevResTBE, msg.OIDAuthRevResData, msg.OIDAuthRevResTBE)
	if err != nil {
		return 0, err
	}
	d, err := msg.UnmarshalAuthRevResData(content)
	if err != nil {
		return 0, msg.Errorf(msg.DecodingFailure, "AuthRevResData: %w", err)
	}
	if d.AuthRevTags.AuthRevRRTags.RRPID != r.rrpid {
		return 0, msg.Errorf(msg.UnknownRRPID, "AuthRevRes answers another request")
	}
	if d.AuthRevTags.TransIDs.XID != xid {
		return 0, msg.Errorf(msg.UnknownXID, "AuthRevRes is for another transaction")
	}
	if err := m.checkAnswers("AuthRevRes", d.MerchantThumb, d.HAuthRevReq, tbs); err != nil {
		return 0, err
	}
	if d.AuthRevCode != msg.AuthRevSuccess {
		return d.AuthRevCode, nil
	}
	if d.AuthNewAmt != newAmount {
		return 0, msg.Errorf(msg.SignatureFailure, "AuthRevRes leaves %v authorized, asked for %v", d.AuthNewAmt, newAmount)
	}
	if err := m.updatePart(ctx, xid, msg.RRPID(o.AuthRRPID), func(p *store.OrderPart) error {
		p.AuthAmount = p.CaptureAmount + newAmount.Amount
		if newAmount.Amount == 0 {
			p.State = store.StateReversed
		}
		return nil
	}, func(o *store.Order) error {
		o.AuthAmount = o.CaptureAmount + newAmount.Amount
		switch {
		case newAmount.Amount > 0:
		case o.CaptureAmount > 0:
			o.State = store.StateCaptured // the earlier shipments stand
		default:
			o.State = store.StateReversed
		}
		return nil
	}); err != nil {
		return 0, err
	}
	return msg.AuthRevSuccess, nil
}

// ReverseCapture asks the gateway to reverse a captured order's capture
// in full; on success the order is StateCaptureReversed.
func (m *Merchant) ReverseCapture(ctx context.Context, xid msg.XID) (msg.CapRevOrCredCode, error) {
	// A credited order is sent too: the gateway knows whether its credits
	// were reversed since.
	return m.capRevOrCred(ctx, capRevKind, xid, nil, nil, []store.OrderState{store.StateCaptured, store.StateCredited}, func(o *store.Order) {
		o.State = store.StateCaptureReversed
	})
}

// Credit asks the gateway to return amount of a captured order's capture
// to the cardholder; on success the order is StateCredited. The gateway
// refuses credits adding up to more than was captured.
func (m *Merchant) Credit(ctx context.Context, xid msg.XID, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	return m.capRevOrCred(ctx, credKind, xid, &amount, nil, []store.OrderState{store.StateCaptured, store.StateCredited}, func(o *store.Order) {
		o.State = store.StateCredited
	})
}

// ReverseCredit asks the gateway to take back amount of what was credited
// on an order. The order keeps StateCredited: the merchant does not count
// credits, the gateway refuses to reverse more than it credited.
func (m *Merchant) ReverseCredit(ctx context.Context, xid msg.XID, amount msg.CurrencyAmount) (msg.CapRevOrCredCode, error) {
	return m.capRevOrCred(ctx, credRevKind, xid, &amount, nil, []store.OrderState{store.StateCaptured, store.StateCredited}, func(*store.Order) {})
}

// capRevOrCredKind is what tells capture reversal, credit and credit
// reversal apart on the wire.
type capRevOrCredKind struct {
	name, resName       string
	ctTBS, ctTBE        asn1.ObjectIdentifier
	ctResData, ctResTBE asn1.ObjectIdentifier
	wrap                func(tbe []byte, tokens *msg.CapTokenSeq) msg.Message
	send                func(ctx context.Context, m *Merchant, req msg.Message, ids *msg.MessageIDs) ([]byte, error)
	// part records a success of amt (nil: the capture in full) on the
	// order's part (parts.go).
	part func(p *store.OrderPart, amt *msg.CurrencyAmount)
}

var (
	capRevKind = &capRevOrCredKind{"CapRevReq", "CapRevRes", msg.OIDCapRevReqTBS, msg.OIDCapRevReqTBE, msg.OIDCapRevResData, msg.OIDCapRevResTBE,
		func(tbe []byte, tokens *msg.CapTokenSeq) msg.Message {
			return &msg.CapRevReq{CapRevReqTBE: tbe, CapTokenSeq: tokens}
		},
		func(ctx context.Context, m *Merchant, req msg.Message, ids *msg.MessageIDs) ([]byte, error) {
			res, err := call[*msg.CapRevRes](ctx, m, req, ids)
			if err != nil {
				return nil, err
			}
			return res.CapRevResTBE, nil
		},
		func(p *store.OrderPart, _ *msg.CurrencyAmount) { p.State = store.StateCaptureReversed }}
	credKind = &capRevOrCredKind{"CredReq", "CredRes", msg.OIDCredReqTBS, msg.OIDCredReqTBE, msg.OIDCredResData, msg.OIDCredResTBE,
		func(tbe []byte, tokens *msg.CapTokenSeq) msg.Message {
			return &msg.CredReq{CredReqTBE: tbe, CapTokenSeq: tokens}
		},
		func(ctx context.Context, m *Merchant, req msg.Message, ids *msg.MessageIDs) ([]byte, error) {
			res, err := call[*msg.CredRes](ctx, m, req, ids)
			if err != nil {
				return nil, err
			}
			return res.CredResTBE, nil
		},
		func(p *store.OrderPart, amt *msg.CurrencyAmount) {
			p.CreditAmount += amt.Amount
			p.State = store.StateCredited
		}}
	credRevKind = &capRevOrCredKind{"CredRevReq", "CredRevRes", msg.OIDCredRevReqTBS, msg.OIDCredRevReqTBE, msg.OIDCredRevResData, msg.OIDCredRevResTBE,
		func(tbe []byte, tokens *msg.CapTokenSeq) msg.Message {
			return &msg.CredRevReq{CredRevReqTBE: tbe, CapTokenSeq: tokens}
		},
		func(ctx context.Context, m *Merchant, req msg.Message, ids *msg.MessageIDs) ([]byte, error) {
			res, err := call[*msg.CredRevRes](ctx, m, req, ids)
			if err != nil {
				return nil, err
			}
			return res.CredRevResTBE, nil
		},
		func(p *store.OrderPart, amt *msg.CurrencyAmount) {
			// The gateway refuses to reverse more than it credited.
			if p.CreditAmount -= amt.Amount; p.CreditAmount <= 0 && p.State == store.StateCredited {
				p.State = store.StateCaptured
			}
		}}
)

// capRevOrCred runs one capture reversal, credit or credit reversal of
// order xid, applying done to the order, and k.part to the part it names
// if the order keeps it, on success. ship names one shipment's
// authorization and capture (merchant/split.go); nil means the order's
// latest authorization and what it captured. The item carries the
// authorization's CapToken when the merchant holds one (captoken.go).
func (m *Merchant) capRevOrCred(ctx context.Context, k *capRevOrCredKind, xid msg.XID, amount *msg.CurrencyAmount, ship *shipment,
	states []store.OrderState, done func(*store.Order)) (msg.CapRevOrCredCode, error) {
	cfg := m.config()
	st := cfg.Suite
	r, err := m.start(ctx, xid, states...)
	if err != nil {
		return 0, fmt.Errorf("merchant: %s: %w", k.name, err)
	}
	if amount != nil && amount.Amount <= 0 {
		return 0, errors.New("merchant: " + k.name + ": amount must be positive")
	}
	captured := msg.CurrencyAmount{Currency: r.order.Currency, Amount: r.order.CaptureAmount, AmtExp10: r.order.AmtExp10}
	authRRPID := msg.RRPID(r.order.AuthRRPID)
	parts := orderParts(r.order)
	if ship != nil {
		captured, authRRPID = ship.captured, ship.authRRPID
	} else if n := len(parts); n > 1 {
		// The latest part's capture; the earlier parts are named.
		captured.Amount = parts[n-1].CaptureAmount
	}
	var capToken []byte
	if i, err := PartRRPID(authRRPID).find(parts); err == nil {
		capToken = parts[i].CapToken
	}
	tokens, hTokens, err := capTokenSeq(st, [][]byte{capToken})
	if err != nil {
		return 0, err
	}
	data := msg.CapRevOrCredReqData{
		MThumbs:            cfg.mThumbs(ctx),
		CapRevOrCredRRTags: msg.RRTags{RRPID: r.rrpid, MerTermIDs: msg.MerTermIDs{MerchantID: cfg.MerchantID}, CurrentDate: r.now},
		CapRevOrCredReqItemSeq: []msg.CapRevOrCredReqItem{{
			TransIDs:            *r.transIDs,
			AuthRRPID:           authRRPID,
			CapPayload:          msg.CapPayload{CapDate: r.now, CapReqAmt: captured},
			CapRevOrCredReqDate: r.now,
			CapRevOrCredReqAmt:  amount,
		}},
	}
	data.PGThumb, data.Expiry = m.addressed(r.now)
	tbs, err := (&msg.CapRevOrCredReqTBS{CapRevOrCredReqData: data, HCapTokenSeq: hTokens}).Marshal()
	if err != nil {
		return 0, err
	}
	tbe, err := encap.Enc(st, cfg.Rand, *m.signer(), cfg.GatewayCert, k.ctTBS, k.ctTBE, tbs)
	if err != nil {
		return 0, err
	}
	env, err := k.send(ctx, m, k.wrap(tbe, tokens), &msg.MessageIDs{LIDM: r.transIDs.LIDM, XID: &r.transIDs.XID})
	if err != nil {
		return 0, fmt.Errorf("merchant: %s: %w", k.name, err)
	}
	content, err := m.openResponse(k.resName, env, k.ctResData, k.ctResTBE)
	if err != nil {
		return 0, err
	}
	d, err := msg.UnmarshalCapRevOrCredResData(content)
	if err != nil {
		return 0, msg.Errorf(msg.DecodingFailure, "%s data: %w", k.resName, err)
	}
	if d.CapRevOrCredRRTags.RRPID != r.rrpid || len(d.CapRevOrCredResItemSeq) != 1 {
		return 0, msg.Errorf(msg.UnknownRRPID, "%s answers another request", k.resName)
	}
	item := d.CapRevOrCredResItemSeq[0]
	if item.TransIDs.XID != xid || item.AuthRRPID != authRRPID {
		return 0, msg.Errorf(msg.UnknownXID, "%s is for another transaction", k.resName)
	}
	if err := m.checkAnswers(k.resName, d.MerchantThumb, d.HCapRevOrCredReq, tbs); err != nil {
		return 0, err
	}
	if item.CapRevOrCredCode != msg.CapRevOrCredSuccess {
		return item.CapRevOrCredCode, nil
	}
	if err := m.updatePart(ctx, xid, authRRPID, func(p *store.OrderPart) error {
		k.part(p, amount)
		return nil
	}, func(o *store.Order) error {
		done(o)
		return nil
	}); err != nil {
		return 0, err
	}
	return msg.CapRevOrCredSuccess, nil
}
