package merchant_test

import (
	"bytes"
	"testing"

	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestMerchantChecks runs each of the merchant's purchase checks against a
// message that violates it and nothing else.
func TestMerchantChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			modern := st.ID() != suite.Set1

			t.Run("honest purchase", func(t *testing.T) {
				w.t = t
				calls := w.gw.count()
				_, res, err := w.l.Wallets[0].Pay(w.ctx, wire.ServeFunc(w.m.Serve), lab.OfferFor(w.offer("a map", 700)))
				if err != nil || res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("Pay: %+v, %v", res, err)
				}
				if modern && res.Gateway == nil {
					t.Fatal("no gateway proof")
				}
				if w.gw.count() != calls+1 {
					t.Fatal("gateway not asked exactly once")
				}
			})

			t.Run("PInitReq for an unknown LID-M", func(t *testing.T) {
				w.t = t
				o := lab.OfferFor(w.offer("a map", 700))
				for _, lidm := range [][]byte{bytes.Repeat([]byte{7}, 20), {1, 2, 3}} {
					o.LIDM = lidm
					_, _, err := w.l.Wallets[0].Pay(w.ctx, wire.ServeFunc(w.m.Serve), o)
					wantCode(t, err, msg.UnknownLID) // through Serve: a SET Error reached the wallet
				}
			})

			t.Run("PInitReq twice for one order", func(t *testing.T) {
				w.t = t
				o := lab.OfferFor(w.offer("a map", 700))
				if _, _, err := w.l.Wallets[0].Pay(w.ctx, wire.ServeFunc(w.m.Serve), o); err != nil {
					t.Fatal(err)
				}
				_, _, err := w.l.Wallets[0].Pay(w.ctx, wire.ServeFunc(w.m.Serve), o)
				wantCode(t, err, msg.UnknownLID)
			})

			reject := func(t *testing.T, mutate func(*msg.PReq) *msg.PReq, want msg.ErrorCode) {
				t.Helper()
				w.t = t
				o := w.offer("a lamp", 900)
				_, preq := w.prepare(0, lab.OfferFor(o))
				calls := w.gw.count()
				_, err := w.m.HandlePReq(w.ctx, mutate(preq))
				wantCode(t, err, want)
				if w.gw.count() != calls {
					t.Fatal("a rejected PReq reached the gateway")
				}
				if got := w.order(msg.XID(o.LIDM)).State; got != store.StateInitiated {
					t.Fatalf("order is %s after a rejected PReq", got)
				}
				// Control: the untouched PReq still goes through.
				res, err := w.m.HandlePReq(w.ctx, preq)
				if err != nil || res == nil {
					t.Fatalf("control PReq: %v", err)
				}
			}
			t.Run("unknown XID", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					return withOI(t, p, func(oi *msg.OIData) { oi.TransIDs.XID[0] ^= 1 })
				}, msg.UnknownXID)
			})
			t.Run("TransIDs differ from PInitRes", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					return withOI(t, p, func(oi *msg.OIData) { oi.TransIDs.Language = "fr" })
				}, msg.UnknownXID)
			})
			t.Run("chall-C does not echo", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					return withOI(t, p, func(oi *msg.OIData) { oi.ChallC[0] ^= 1 })
				}, msg.ChallengeMismatch)
			})
			t.Run("chall-M does not echo", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					return withOI(t, p, func(oi *msg.OIData) { oi.ChallM[0] ^= 1 })
				}, msg.ChallengeMismatch)
			})
			t.Run("chall-M absent", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					return withOI(t, p, func(oi *msg.OIData) { oi.ChallM = nil })
				}, msg.ChallengeMismatch)
			})
			t.Run("order information changed", func(t *testing.T) {
				// Everything echoes, but the cardholder signed other OIData.
				reject(t, func(p *msg.PReq) *msg.PReq {
					return withOI(t, p, func(oi *msg.OIData) { oi.BIN = "999999" })
				}, msg.SignatureFailure)
			})
			t.Run("dual signature broken", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					ds := *p.DualSigned
					sig := append([]byte(nil), ds.PIDualSigned.PISignature...)
					sig[len(sig)-1] ^= 1 // inside the signature value
					ds.PIDualSigned.PISignature = sig
					return roundTrip(t, &msg.PReq{DualSigned: &ds})
				}, msg.SignatureFailure)
			})
			t.Run("PI digest changed", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					ds := *p.DualSigned
					h := append([]byte(nil), ds.OIDualSigned.HPIData...)
					h[len(h)-1] ^= 1
					ds.OIDualSigned.HPIData = h
					return roundTrip(t, &msg.PReq{DualSigned: &ds})
				}, msg.SignatureFailure)
			})
			t.Run("unsigned PReq", func(t *testing.T) {
				reject(t, func(p *msg.PReq) *msg.PReq {
					ds := p.DualSigned
					return roundTrip(t, &msg.PReq{Unsigned: &msg.PReqUnsigned{
						PIUnsigned: ds.PIDualSigned.EXPIData,
						OIUnsigned: msg.OIUnsigned{OIData: ds.OIDualSigned.OIData, HPIDataUnsigned: ds.OIDualSigned.HPIData},
					}})
				}, msg.SignatureRequired)
			})

			for _, c := range []struct {
				name   string
				change func(o *offerChange)
			}{
				{"cardholder signed another description", func(o *offerChange) { o.desc = "a cheaper lamp" }},
				{"cardholder signed another amount", func(o *offerChange) { o.cents = 1 }},
			} {
				t.Run(c.name, func(t *testing.T) {
					w.t = t
					o := w.offer("a lamp", 900)
					ch := offerChange{desc: o.Description, cents: o.Amount.Amount}
					c.change(&ch)
					wo := lab.OfferFor(o)
					wo.Description, wo.Amount = []byte(ch.desc), lab.USD(ch.cents)
					calls := w.gw.count()
					_, res, err := w.l.Wallets[0].Pay(w.ctx, wire.ServeFunc(w.m.Serve), wo)
					if err != nil || res.Completion != msg.OrderRejected {
						t.Fatalf("Pay: %+v, %v; want orderRejected", res, err)
					}
					if w.gw.count() != calls {
						t.Fatal("a rejected order reached the gateway")
					}
				})
			}

			t.Run("second PReq for one order", func(t *testing.T) {
				w.t = t
				o := w.offer("a vase", 300)
				p, preq := w.prepare(0, lab.OfferFor(o))
				if _, err := w.m.HandlePReq(w.ctx, preq); err != nil {
					t.Fatal(err)
				}
				calls := w.gw.count()
				_, err := w.m.HandlePReq(w.ctx, preq)
				wantCode(t, err, msg.UnknownXID)
				// A freshly signed second PReq for the same purchase, too.
				again, err := p.PReq()
				if err != nil {
					t.Fatal(err)
				}
				_, err = w.m.HandlePReq(w.ctx, again)
				wantCode(t, err, msg.UnknownXID)
				if w.gw.count() != calls {
					t.Fatal("a second PReq reached the gateway")
				}
				if got := w.order(msg.XID(o.LIDM)).State; got != store.StateAuthorized {
					t.Fatalf("order is %s", got)
				}
			})

			other := issueGateway(t, w.l, "Another Payment Gateway", w.t0)
			rival := issueMerchant(t, w.l, "MER-0043", w.t0)
			for _, c := range []struct {
				name       string
				modernOnly bool
				mutate     func(*msg.AuthResData)
				signer     *lab.Credential
				want       msg.ErrorCode
			}{
				{"AuthRes for another request", false, func(d *msg.AuthResData) { d.AuthTags.AuthRRTags.RRPID[0] ^= 1 }, nil, msg.UnknownRRPID},
				{"AuthRes for another transaction", false, func(d *msg.AuthResData) { d.AuthTags.TransIDs.XID[0] ^= 1 }, nil, msg.UnknownXID},
				{"AuthRes signed by another gateway", false, nil, &other, msg.SignatureFailure},
				{"AuthRes signed by a merchant", false, nil, &rival, msg.InvalidCertificate},
				{"AuthRes answering another merchant", true, func(d *msg.AuthResData) {
					th := msg.ThumbOf(st.Hash(), rival.Cert)
					d.MerchantThumb = &th
				}, nil, msg.ThumbsMismatch},
				{"AuthRes naming no merchant", true, func(d *msg.AuthResData) { d.MerchantThumb = nil }, nil, msg.ThumbsMismatch},
				{"AuthRes answering another AuthReq", true, func(d *msg.AuthResData) {
					if d.HAuthReq == nil { // set1 answers carry none: add a wrong one
						d.HAuthReq = make([]byte, st.Hash().Size())
					}
					d.HAuthReq[0] ^= 1
				}, nil, msg.SignatureFailure},
			} {
				// set1 (1997) AuthRes names neither merchant nor request
				// (deviation 2): the merchant does not check them, so each
				// modern-only rejection is an authorized order there.
				set1Accepts := c.modernOnly && !modern
				name := c.name
				if set1Accepts {
					name += " (set1: not checked)"
				}
				t.Run(name, func(t *testing.T) {
					w.t = t
					signer := w.gw.gw
					if c.signer != nil {
						signer = *c.signer
					}
					w.gw.signer = signer
					w.gw.set(c.mutate, nil)
					defer func() { w.gw.signer = w.gw.gw; w.gw.set(nil, nil) }()
					o := w.offer("a clock", 400)
					_, preq := w.prepare(0, lab.OfferFor(o))
					_, err := w.m.HandlePReq(w.ctx, preq)
					if set1Accepts {
						if err != nil {
							t.Fatalf("set1 merchant refused the AuthRes: %v", err)
						}
						if got := w.order(msg.XID(o.LIDM)); got.State != store.StateAuthorized || got.AuthAmount != 400 {
							t.Fatalf("order after a set1 AuthRes: %s, %d", got.State, got.AuthAmount)
						}
						return
					}
					wantCode(t, err, c.want)
					if got := w.order(msg.XID(o.LIDM)); got.State != store.StateFailed || got.AuthAmount != 0 {
						t.Fatalf("order after a bad AuthRes: %s, %d", got.State, got.AuthAmount)
					}
				})
			}
		})
	}
}

type offerChange struct {
	desc  string
	cents int64
}
