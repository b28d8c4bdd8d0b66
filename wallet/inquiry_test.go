package wallet_test

import (
	"crypto/rand"
	"testing"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// inqRes is the merchant's answer to req, changed by mutate, signed by s.
func (w *world) inqRes(req *msg.InqReq, completion msg.CompletionCode, proof []byte, mutate func(*msg.PResData), s encap.Signer) *msg.InqRes {
	w.t.Helper()
	q := req.InqReqUnsigned
	d := msg.PResData{TransIDs: q.TransIDs, RRPID: q.RRPID, ChallC: q.ChallC2,
		PResPayloadSeq: []msg.PResPayload{{CompletionCode: completion, AuthResSigned: proof}}}
	if mutate != nil {
		mutate(&d)
	}
	content, err := d.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	signed, err := encap.S(w.st, rand.Reader, s, msg.OIDPResData, content)
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := (&msg.InqRes{SignedData: signed}).Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := msg.UnmarshalInqRes(b)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func startInquiry(t *testing.T, p *wallet.Purchase) (*wallet.Inquiry, *msg.InqReq) {
	t.Helper()
	in, req, err := p.StartInquiry()
	if err != nil {
		t.Fatal(err)
	}
	if req.InqReqUnsigned == nil || req.InqReqUnsigned.TransIDs.XID != p.TransIDs().XID {
		t.Fatal("InqReq does not name the purchase's transaction")
	}
	return in, req
}

func TestInquiryChecks(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			w := newWorld(t, st)
			modern := st.ID() != suite.Set1
			p, preq := w.toPReq()
			var approved, declined []byte
			if modern {
				approved = w.proof(preq, msg.AuthApproved, nil, w.gw)
				declined = w.proof(preq, msg.AuthDeclined, nil, w.gw)
			}

			in, req := startInquiry(t, p)
			res, err := in.HandleInqRes(w.inqRes(req, msg.CapturePerformed, approved, nil, w.mer.Signer()))
			if err != nil {
				t.Fatalf("honest InqRes refused: %v", err)
			}
			if res.Completion != msg.CapturePerformed {
				t.Fatalf("completion %v, want capturePerformed", res.Completion)
			}
			if modern && (res.Gateway == nil || res.Gateway.AuthCode != msg.AuthApproved) {
				t.Fatalf("gateway proof not reported: %+v", res.Gateway)
			}

			type inqCase struct {
				name   string
				code   msg.CompletionCode
				proof  []byte
				mutate func(*msg.PResData)
				signer encap.Signer
				want   msg.ErrorCode
			}
			cases := []inqCase{
				{"wrong chall-C2", msg.OrderReceived, nil, func(d *msg.PResData) { d.ChallC[0] ^= 1 }, w.mer.Signer(), msg.ChallengeMismatch},
				{"another request", msg.OrderReceived, nil, func(d *msg.PResData) { d.RRPID[0] ^= 1 }, w.mer.Signer(), msg.UnknownRRPID},
				{"another transaction", msg.OrderReceived, nil, func(d *msg.PResData) { d.TransIDs.XID[0] ^= 1 }, w.mer.Signer(), msg.UnknownXID},
				{"two payloads", msg.OrderReceived, nil, func(d *msg.PResData) { d.PResPayloadSeq = append(d.PResPayloadSeq, d.PResPayloadSeq[0]) }, w.mer.Signer(), msg.DecodingFailure},
				{"another merchant", msg.OrderReceived, nil, nil, issueMerchant(t, w.l, "MER-0043", w.t0).Signer(), msg.SignatureFailure},
			}
			if modern {
				cases = append(cases,
					inqCase{"accepted without proof", msg.AuthorizationAccepted, nil, nil, w.mer.Signer(), msg.SignatureRequired},
					inqCase{"captured but gateway declined", msg.CapturePerformed, declined, nil, w.mer.Signer(), msg.SignatureFailure},
				)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					in, req := startInquiry(t, p)
					_, err := in.HandleInqRes(w.inqRes(req, c.code, c.proof, c.mutate, c.signer))
					wantCode(t, err, c.want)
				})
			}

			// An answer to one inquiry does not answer another: chall-C2
			// is fresh each time.
			in1, req1 := startInquiry(t, p)
			_, req2 := startInquiry(t, p)
			if req1.InqReqUnsigned.ChallC2 == req2.InqReqUnsigned.ChallC2 {
				t.Fatal("two inquiries share chall-C2")
			}
			other := *req2.InqReqUnsigned
			other.RRPID = req1.InqReqUnsigned.RRPID
			_, err = in1.HandleInqRes(w.inqRes(&msg.InqReq{InqReqUnsigned: &other}, msg.OrderReceived, nil, nil, w.mer.Signer()))
			wantCode(t, err, msg.ChallengeMismatch)
		})
	}
}

func TestInquiryBeforePInitRes(t *testing.T) {
	w := newWorld(t, suite.NewModern())
	p, _, err := w.w.Start(offer)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.StartInquiry(); err == nil {
		t.Fatal("inquiry allowed before the merchant named the transaction")
	}
}
