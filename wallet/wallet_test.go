package wallet_test

import (
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
)

// TestPInitResChecks: the wallet refuses a PInitRes that does not answer
// its PInitReq, is not a merchant's, or names no valid gateway — and then
// refuses to build a PReq.
func TestPInitResChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			gwSigner := w.gw.Signer()
			for _, c := range []struct {
				name   string
				mutate func(*msg.PInitResData)
				signer encap.Signer
				want   msg.ErrorCode // 0: any rejection
			}{
				{"honest", nil, w.merchantSigner(), 0},
				{"chall-C not echoed", func(d *msg.PInitResData) { d.ChallC[0] ^= 1 }, w.merchantSigner(), msg.ChallengeMismatch},
				{"RRPID not echoed", func(d *msg.PInitResData) { d.RRPID[0] ^= 1 }, w.merchantSigner(), msg.UnknownRRPID},
				{"LID-C not echoed", func(d *msg.PInitResData) { d.TransIDs.LIDC = []byte("someone else") }, w.merchantSigner(), msg.UnknownLID},
				{"LID-M not echoed", func(d *msg.PInitResData) { d.TransIDs.LIDM = []byte("order-0002") }, w.merchantSigner(), msg.UnknownLID},
				{"signed by a gateway, not a merchant", nil, gwSigner, msg.InvalidCertificate},
				{"gateway certificate not sent", func(d *msg.PInitResData) {
					d.PEThumb = msg.ThumbOf(st.Hash(), issueGateway(t, w.l, "Elsewhere", w.t0).ExchangeCert)
				}, w.merchantSigner(), msg.MissingCertificate},
				{"named certificate is the gateway's signature certificate", func(d *msg.PInitResData) {
					d.PEThumb = msg.ThumbOf(st.Hash(), w.gw.Cert)
				}, withGatewaySignatureCert(w), msg.InvalidCertificate},
				{"named certificate is not a gateway's", func(d *msg.PInitResData) {
					d.PEThumb = msg.ThumbOf(st.Hash(), w.mer.ExchangeCert) // sent along, but the merchant's own
				}, w.merchantSigner(), msg.InvalidCertificate},
			} {
				t.Run(c.name, func(t *testing.T) {
					w.t = t
					p, req, err := w.w.Start(offer)
					if err != nil {
						t.Fatal(err)
					}
					err = p.HandlePInitRes(w.pinitRes(req, c.mutate, c.signer))
					if c.name == "honest" {
						if err != nil {
							t.Fatalf("honest PInitRes refused: %v", err)
						}
						return
					}
					wantCode(t, err, c.want)
					if _, err := p.PReq(); err == nil {
						t.Fatal("PReq built after a refused PInitRes")
					}
				})
			}
		})
	}
}

// TestPResChecks: the wallet refuses a PRes that does not answer its PReq
// or whose gateway proof (modern suites, deviation 4) is missing, forged or
// contradicts the merchant.
func TestPResChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			modern := st.ID() != suite.Set1
			other := issueGateway(t, w.l, "Other Payment Gateway", w.t0)
			rival := issueMerchant(t, w.l, "MER-0043", w.t0)
			type proofSpec struct {
				code   msg.AuthCode
				mutate func(*msg.AuthResData)
				signer *lab.Credential
			}
			approved := &proofSpec{code: msg.AuthApproved}
			for _, c := range []struct {
				name       string
				modernOnly bool
				completion msg.CompletionCode
				proof      *proofSpec // nil: none
				mutate     func(*msg.PResData)
				signer     *lab.Credential // nil: the merchant of PInitRes
				want       msg.ErrorCode
			}{
				{name: "honest approval", completion: msg.AuthorizationAccepted, proof: approved},
				{name: "honest decline", completion: msg.OrderRejected, proof: &proofSpec{code: msg.AuthDeclined}},
				{name: "RRPID not echoed", completion: msg.AuthorizationAccepted, proof: approved,
					mutate: func(d *msg.PResData) { d.RRPID[0] ^= 1 }, want: msg.UnknownRRPID},
				{name: "chall-C not echoed", completion: msg.AuthorizationAccepted, proof: approved,
					mutate: func(d *msg.PResData) { d.ChallC[0] ^= 1 }, want: msg.ChallengeMismatch},
				{name: "another transaction", completion: msg.AuthorizationAccepted, proof: approved,
					mutate: func(d *msg.PResData) { d.TransIDs.XID[0] ^= 1 }, want: msg.UnknownXID},
				{name: "two payloads", completion: msg.AuthorizationAccepted, proof: approved,
					mutate: func(d *msg.PResData) { d.PResPayloadSeq = append(d.PResPayloadSeq, d.PResPayloadSeq[0]) }, want: msg.DecodingFailure},
				{name: "signed by another merchant", completion: msg.AuthorizationAccepted, proof: approved, signer: &rival, want: msg.SignatureFailure},
				{name: "authorization claimed without gateway proof", modernOnly: true, completion: msg.AuthorizationAccepted, want: msg.SignatureRequired},
				{name: "merchant says yes, gateway said no", modernOnly: true, completion: msg.AuthorizationAccepted,
					proof: &proofSpec{code: msg.AuthDeclined}, want: msg.SignatureFailure},
				{name: "merchant says no, gateway said yes", modernOnly: true, completion: msg.OrderRejected,
					proof: approved, want: msg.SignatureFailure},
				{name: "proof from another gateway", modernOnly: true, completion: msg.AuthorizationAccepted,
					proof: &proofSpec{code: msg.AuthApproved, signer: &other}, want: msg.SignatureFailure},
				{name: "proof signed by a merchant", modernOnly: true, completion: msg.AuthorizationAccepted,
					proof: &proofSpec{code: msg.AuthApproved, signer: &rival}, want: msg.InvalidCertificate},
				{name: "proof answers another merchant", modernOnly: true, completion: msg.AuthorizationAccepted,
					proof: &proofSpec{code: msg.AuthApproved, mutate: func(d *msg.AuthResData) {
						th := msg.ThumbOf(st.Hash(), rival.Cert)
						d.MerchantThumb = &th
					}}, want: msg.ThumbsMismatch},
				{name: "proof for another transaction", modernOnly: true, completion: msg.AuthorizationAccepted,
					proof: &proofSpec{code: msg.AuthApproved, mutate: func(d *msg.AuthResData) { d.AuthTags.TransIDs.XID[0] ^= 1 }}, want: msg.UnknownXID},
				{name: "proof approves another amount", modernOnly: true, completion: msg.AuthorizationAccepted,
					proof: &proofSpec{code: msg.AuthApproved, mutate: func(d *msg.AuthResData) { d.AuthResPayload.AuthHeader.AuthAmt.Amount++ }}, want: msg.SignatureFailure},
			} {
				// set1 (1997) has no gateway proof (deviation 4): the wallet
				// takes the merchant's word and ignores any proof sent along,
				// so each modern-only rejection is an acceptance there.
				set1Accepts := c.modernOnly && !modern
				name := c.name
				if set1Accepts {
					name += " (set1: merchant's word taken)"
				}
				t.Run(name, func(t *testing.T) {
					w.t = t
					p, preq := w.toPReq()
					var proof []byte
					if c.proof != nil && (modern || set1Accepts) {
						s := w.gw
						if c.proof.signer != nil {
							s = *c.proof.signer
						}
						proof = w.proof(preq, c.proof.code, c.proof.mutate, s)
					}
					signer := w.mer.Signer()
					if c.signer != nil {
						signer = c.signer.Signer()
					}
					res, err := p.HandlePRes(w.pres(preq, c.completion, proof, c.mutate, signer))
					if set1Accepts {
						if err != nil || res.Completion != c.completion || res.Gateway != nil {
							t.Fatalf("set1 PRes: %+v, %v; want %v on the merchant's word, no gateway proof", res, err, c.completion)
						}
						return
					}
					if c.want == 0 {
						if err != nil || res.Completion != c.completion {
							t.Fatalf("honest PRes: %+v, %v", res, err)
						}
						if modern && (res.Gateway == nil || res.Gateway.AuthCode != c.proof.code || string(res.Gateway.Signed) != string(proof)) {
							t.Fatalf("gateway proof = %+v", res.Gateway)
						}
						return
					}
					wantCode(t, err, c.want)
				})
			}
		})
	}
}

// withGatewaySignatureCert is the merchant's signer carrying, besides the
// gateway's key-exchange certificate, its signature certificate.
func withGatewaySignatureCert(w *world) encap.Signer {
	s := w.merchantSigner()
	s.Chain = append(s.Chain, w.gw.Cert)
	return s
}
