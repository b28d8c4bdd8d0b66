package demo

// The day's certificate steps: a registration the issuer holds for review
// and its operator approves, the wallet fetching its certificate with
// CertInqReq; a cardholder's and a merchant's renewal; a registration the
// operator refuses. Each runs over loopback HTTP against the running CAs.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
)

// review is the issuer's policy at the cardholder CA during the day: it
// issues at once, except while the day holds the next requests for its
// operator's review.
type review struct{ hold atomic.Bool }

// Approve implements ca.IssuerPolicy.
func (r *review) Approve(context.Context, *ca.Cardholder) error {
	if r.hold.Load() {
		return &ca.Deferral{Message: "held for the issuer's review; ask again with CertInqReq"}
	}
	return nil
}

// dayApplicantAnswers fill either lab issuer's registration form for the
// cardholders who apply during the day.
var dayApplicantAnswers = map[string]string{"Cardholder name": "Sam Example", "Postal code": "54321"}

// dayRefusal is the reason the issuer's operator gives the refused
// applicant.
const dayRefusal = "card reported stolen; please call your bank"

var (
	cardRegPath = []Message{
		{From: Wallet, To: CCA, Type: "CardCInitReq"}, {From: CCA, To: Wallet, Type: "CardCInitRes"},
		{From: Wallet, To: CCA, Type: "RegFormReq"}, {From: CCA, To: Wallet, Type: "RegFormRes"},
		{From: Wallet, To: CCA, Type: "CertReq"}, {From: CCA, To: Wallet, Type: "CertRes"},
	}
	certInqPath  = []Message{{From: Wallet, To: CCA, Type: "CertInqReq"}, {From: CCA, To: Wallet, Type: "CertInqRes"}}
	merRenewPath = []Message{
		{From: Merchant2, To: MCA, Type: "Me-AqCInitReq"}, {From: MCA, To: Merchant2, Type: "Me-AqCInitRes"},
		{From: Merchant2, To: MCA, Type: "CertReq"}, {From: MCA, To: Merchant2, Type: "CertRes"},
	}
)

// ccaClient is a wallet's link to the cardholder CA.
func (d *day) ccaClient() *transport.Client {
	return d.net.client(d.net.caURLs[CCA], Wallet, CCA)
}

// apply has an applicant register card at the cardholder CA while the
// issuer holds requests: the CertRes says requestPended, and exactly one
// request waits for the operator. It returns the held registration and
// the request's name.
func (d *day) apply(ctx context.Context, st *Step, card wallet.Card, rt *transport.Client) (*wallet.PendingError, msg.Challenge, error) {
	d.review.hold.Store(true)
	_, err := wallet.Register(ctx, rt, wallet.RegisterConfig{Suite: d.st, Card: card, Roots: d.l.Roots, Answers: dayApplicantAnswers})
	d.review.hold.Store(false)
	if xerr := d.exchange(st, cardRegPath); xerr != nil {
		return nil, msg.Challenge{}, xerr
	}
	var pe *wallet.PendingError
	if !errors.As(err, &pe) {
		return nil, msg.Challenge{}, d.fail(st, "registration not held: %v", err)
	}
	st.Held = pe.Status
	if pe.Status.CertStatusCode != msg.RequestPended {
		return nil, msg.Challenge{}, d.fail(st, "the CertRes says %s, want %s", pe.Status.CertStatusCode, msg.RequestPended)
	}
	d.t.printf("  wallet: CertRes says %s (%s); no certificate yet\n", pe.Status.CertStatusCode, pe.Status.EEMessage)
	ids, err := d.cas.CCA.PendingIDs(ctx)
	if err != nil {
		return nil, msg.Challenge{}, d.fail(st, "the operator's list: %w", err)
	}
	if len(ids) != 1 {
		return nil, msg.Challenge{}, d.fail(st, "%d requests wait for the operator, want 1", len(ids))
	}
	info, err := d.cas.CCA.PendingInfo(ctx, ids[0])
	if err != nil {
		return nil, msg.Challenge{}, d.fail(st, "the operator's view: %w", err)
	}
	d.t.printf("  cca: request %x… (%s, %s) waits for the issuer's operator\n", ids[0][:4], info.RequestType, info.Subject)
	return pe, ids[0], nil
}

// inquire has the wallet ask after its held request once with CertInqReq.
func (d *day) inquire(ctx context.Context, st *Step, pe *wallet.PendingError, rt *transport.Client) (*wallet.Registered, error) {
	// One inquiry, so no pause: Wait sleeps only between inquiries.
	r, err := pe.Registration.Wait(ctx, rt, wallet.WaitOptions{Max: 1, Every: time.Millisecond})
	if xerr := d.exchange(st, certInqPath); xerr != nil {
		return nil, xerr
	}
	return r, err
}

// heldRegistration: a new cardholder applies, the issuer holds the request
// for review; the wallet's first CertInqReq learns it is still pending,
// the operator approves, the next CertInqRes carries the certificate. The
// card's account, open at the bank since it was seeded (the issuer issues
// the card before its holder enrols), is read and the wallet joins the day.
func (d *day) heldRegistration(ctx context.Context) error {
	i := len(d.cards)
	c := wallet.Card{PAN: lab.CardPAN(i), Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: dayBrand}
	st := d.step(StepHeld, "", i+1, "cardholder %d (card %s) applies for a certificate at the cardholder CA; the issuer reviews new applications",
		i+1, wallet.MaskPAN(c.PAN))
	rt := d.ccaClient()
	pe, id, err := d.apply(ctx, st, c, rt)
	if err != nil {
		return err
	}
	_, err = d.inquire(ctx, st, pe, rt)
	var still *wallet.PendingError
	if !errors.As(err, &still) {
		return d.fail(st, "the inquiry before the decision: %v, want still pending", err)
	}
	d.t.printf("  wallet: CertInqRes says %s: not decided yet\n", still.Status.CertStatusCode)
	if err := d.cas.CCA.Decide(ctx, id, true); err != nil {
		return d.fail(st, "the operator's approval: %w", err)
	}
	d.t.printf("  issuer's operator approves request %x…; the cardholder CA issues the certificate and keeps it for the wallet\n", id[:4])
	reg, err := d.inquire(ctx, st, pe, rt)
	if err != nil {
		return d.fail(st, "the inquiry after approval: %w", err)
	}
	st.CertStatus = msg.CertStatus{CertStatusCode: msg.RequestComplete}
	if st.NewSerial, err = serialOf(reg.Cert); err != nil {
		return d.fail(st, "%w", err)
	}
	w, err := wallet.New(wallet.Config{Suite: d.st, Key: reg.Key, Cert: reg.Cert, Chain: reg.Chain, Card: reg.Card, Roots: d.l.Roots})
	if err != nil {
		return d.fail(st, "the new wallet: %w", err)
	}
	cd, err := d.cardAt(ctx, i, c.PAN)
	if err != nil {
		return d.fail(st, "the card at the bank: %w", err)
	}
	d.cards = append(d.cards, cd)
	d.l.Wallets = append(d.l.Wallets, w)
	d.l.Cards = append(d.l.Cards, reg.Card)
	d.rep.PANs = append(d.rep.PANs, c.PAN)
	d.rep.Certificates[fmt.Sprintf("cardholder-%d", i+1)] = reg.Cert
	d.held, d.heldReg = i, reg
	d.t.printf("  wallet: CertInqRes says %s: certificate serial %s received; cardholder %d pays from here on (opening balance %s, credit limit %s)\n",
		msg.RequestComplete, shortSerial(st.NewSerial), i+1, usd(cd.open.Balance), usd(cd.open.Limit))
	return nil
}

// renewCardholder: the cardholder registered during the day renews its
// certificate: CertReq signed with the current key, a new key proved.
func (d *day) renewCardholder(ctx context.Context) error {
	i, cur := d.held, d.heldReg
	st := d.step(StepRenewal, "", i+1, "cardholder %d renews its certificate at the cardholder CA: the request signed with the current key, a new key proved", i+1)
	reg, err := wallet.Renew(ctx, d.ccaClient(), wallet.RegisterConfig{Suite: d.st, Roots: d.l.Roots, Answers: dayApplicantAnswers}, cur)
	if xerr := d.exchange(st, cardRegPath); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(st, "renewal: %w", err)
	}
	if err := d.renewed(st, cur.Cert, reg.Cert); err != nil {
		return err
	}
	w, err := wallet.New(wallet.Config{Suite: d.st, Key: reg.Key, Cert: reg.Cert, Chain: reg.Chain, Card: reg.Card, Roots: d.l.Roots})
	if err != nil {
		return d.fail(st, "the renewed wallet: %w", err)
	}
	d.l.Wallets[i], d.l.Cards[i], d.heldReg = w, reg.Card, reg
	d.rep.Certificates[fmt.Sprintf("cardholder-%d-renewed", i+1)] = reg.Cert
	d.t.printf("  wallet: certificate serial %s replaces serial %s; the wallet pays with the new key\n", shortSerial(st.NewSerial), shortSerial(st.OldSerial))
	return nil
}

// renewMerchant: the second merchant renews its signature and
// key-exchange certificates; its server goes on with a core built on the
// new ones.
func (d *day) renewMerchant(ctx context.Context) error {
	s := d.shops[1]
	st := d.step(StepRenewal, s.ID, 0, "%s renews its signature and key-exchange certificates at the merchant CA", s.Name)
	cur := d.m2reg
	reg, err := merchant.Renew(ctx, d.net.client(d.net.caURLs[MCA], Merchant2, MCA), merchant.RegisterConfig{
		Suite: d.st, BrandID: dayBrand, MerchantID: lab.SecondMerchantID, AcquirerBIN: lab.AcquirerBIN,
		Roots: d.l.Roots, Answers: map[string]string{ca.FieldLegalName: lab.SecondMerchantName},
	}, cur)
	if xerr := d.exchange(st, merRenewPath); xerr != nil {
		return xerr
	}
	if err != nil {
		return d.fail(st, "renewal: %w", err)
	}
	if err := d.renewed(st, cur.SigCert, reg.SigCert); err != nil {
		return err
	}
	oldEx, err := serialOf(cur.ExCert)
	if err != nil {
		return d.fail(st, "%w", err)
	}
	newEx, err := serialOf(reg.ExCert)
	if err != nil {
		return d.fail(st, "%w", err)
	}
	if oldEx.Cmp(newEx) == 0 {
		return d.fail(st, "the renewed key-exchange certificate has the old serial %d", oldEx)
	}
	m, err := secondMerchant(d.st, d.l, reg, d.m2p, d.m2gw)
	if err != nil {
		return d.fail(st, "%w", err)
	}
	s.m = m
	s.serving.Store(m)
	d.m2reg = reg
	d.rep.Certificates[Merchant2+"-signature-renewed"] = reg.SigCert
	d.rep.Certificates[Merchant2+"-exchange-renewed"] = reg.ExCert
	d.t.printf("  %s: signature certificate serial %s replaces %s, key-exchange %s replaces %s; it sells with the new ones\n",
		s.Party, shortSerial(st.NewSerial), shortSerial(st.OldSerial), shortSerial(newEx), shortSerial(oldEx))
	return nil
}

// renewed records a renewal's serials and checks the certificate is new.
func (d *day) renewed(st *Step, cur, next []byte) error {
	var err error
	if st.OldSerial, err = serialOf(cur); err != nil {
		return d.fail(st, "%w", err)
	}
	if st.NewSerial, err = serialOf(next); err != nil {
		return d.fail(st, "%w", err)
	}
	st.CertStatus = msg.CertStatus{CertStatusCode: msg.RequestComplete}
	if st.OldSerial.Cmp(st.NewSerial) == 0 {
		return d.fail(st, "the renewed certificate has the old serial %d", st.OldSerial)
	}
	return nil
}

// refusedRegistration: an applicant's request is held for review and the
// operator refuses it; the wallet's CertInqRes carries the issuer's
// reason, and nothing is issued.
func (d *day) refusedRegistration(ctx context.Context) error {
	card := wallet.Card{PAN: lab.CardPAN(len(d.cards)), Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: dayBrand}
	st := d.step(StepRefused, "", 0, "an applicant (card %s) asks for a certificate at the cardholder CA; the issuer's operator refuses it",
		wallet.MaskPAN(card.PAN))
	rt := d.ccaClient()
	pe, id, err := d.apply(ctx, st, card, rt)
	if err != nil {
		return err
	}
	if err := d.cas.CCA.Refuse(ctx, id, dayRefusal); err != nil {
		return d.fail(st, "the operator's refusal: %w", err)
	}
	d.t.printf("  issuer's operator refuses request %x…: %q\n", id[:4], dayRefusal)
	reg, err := d.inquire(ctx, st, pe, rt)
	var ref *wallet.RefusedError
	if !errors.As(err, &ref) || reg != nil {
		return d.fail(st, "the inquiry after the refusal: %v, want a refusal", err)
	}
	st.CertStatus = ref.Status
	d.t.printf("  wallet: CertInqRes says %s: %q; no certificate issued\n", ref.Status.CertStatusCode, ref.Status.EEMessage)
	if ref.Status.CertStatusCode != msg.RejectByIssuer || ref.Status.EEMessage != dayRefusal {
		return d.fail(st, "the wallet learned %s %q, want %s %q", ref.Status.CertStatusCode, ref.Status.EEMessage, msg.RejectByIssuer, dayRefusal)
	}
	if ids, err := d.cas.CCA.PendingIDs(ctx); err != nil || len(ids) != 0 {
		return d.fail(st, "after the answer, %d requests still wait (%v)", len(ids), err)
	}
	return nil
}

// shortSerial prints a serial number's first hex digits, as shortXID does
// a transaction's.
func shortSerial(n *big.Int) string {
	h := n.Text(16)
	if len(h) > 8 {
		h = h[:8] + "…"
	}
	return h
}

func serialOf(der []byte) (*big.Int, error) {
	c, err := pki.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return c.SerialNumber, nil
}
