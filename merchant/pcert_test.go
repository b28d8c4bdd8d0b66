package merchant_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

func TestRefreshGatewayCertificates(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			l := newLab(t, st, 0)
			got, err := l.Merchant.RefreshGatewayCertificates(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Exchange, l.Certificates["gateway-exchange"]) || !bytes.Equal(got.Signature, l.Certificates["gateway-signature"]) {
				t.Fatal("PCertRes did not deliver the gateway's certificates")
			}
			if len(got.Chain) == 0 {
				t.Fatal("PCertRes delivered no chain")
			}
		})
	}
}

// pcertForger answers PCertReq as a gateway would, with what the test
// makes of the answer.
type pcertForger struct {
	st     suite.Suite
	tbs    func(req *msg.PCertReqData, reqDER []byte) msg.PCertResTBS
	signer encap.Signer
}

func (f *pcertForger) serve(ctx context.Context, b []byte) ([]byte, error) {
	ep := &wire.Endpoint{Suite: f.st}
	return ep.Serve(ctx, b, func(ctx context.Context, w *msg.MessageWrapper) (msg.Message, error) {
		req, ok := w.Message.(*msg.PCertReq)
		if !ok {
			return nil, msg.Errorf(msg.MessageNotSupported, "forger answers only PCertReq")
		}
		content, _, err := encap.OpenS(f.st, req.SignedData, msg.OIDPCertReqData, func(c []byte, _ [][]byte) (crypto.PublicKey, error) {
			// The forger trusts anyone: it only needs the content.
			cert, err := pki.ParseCertificate(c)
			if err != nil {
				return nil, err
			}
			return cert.PublicKey, nil
		})
		if err != nil {
			return nil, err
		}
		d, err := msg.UnmarshalPCertReqData(content)
		if err != nil {
			return nil, err
		}
		tbs := f.tbs(d, content)
		out, err := tbs.Marshal()
		if err != nil {
			return nil, err
		}
		signed, err := encap.S(f.st, rand.Reader, f.signer, msg.OIDPCertResTBS, out)
		if err != nil {
			return nil, err
		}
		return &msg.PCertRes{SignedData: signed}, nil
	})
}

func TestRefreshGatewayCertificatesRefusals(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			l := newLab(t, st, 0)
			t0 := time.Now().UTC().Truncate(time.Second)
			mer := issueMerchant(t, l, "MER-0042", t0)
			gw := issueGateway(t, l, "Designated Gateway", t0)
			rival := issueGateway(t, l, "Rival Gateway", t0)
			db, err := sqlite.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			f := &pcertForger{st: st}
			m, err := merchant.New(merchant.Config{
				Revocation: l.Revocations(),
				Suite:      st, MerchantID: "MER-0042", BrandID: "SETpay",
				SigningKey: merchant.NewSigningKey(mer.Key), SigningCert: mer.Cert,
				ExchangeKey: merchant.NewExchangeKey(mer.ExchangeKey), ExchangeCert: mer.ExchangeCert,
				Chain: mer.Chain, GatewayCert: gw.ExchangeCert, GatewayChain: gw.Chain,
				Roots: l.Roots, Store: db, Log: quiet,
				Gateway: &wire.GatewayClient{Endpoint: &wire.Endpoint{Suite: st}, RT: wire.ServeFunc(f.serve)},
			})
			if err != nil {
				t.Fatal(err)
			}
			h := st.Hash()
			// honest is what the designated gateway answers, listing certs.
			honest := func(certs ...[]byte) func(*msg.PCertReqData, []byte) msg.PCertResTBS {
				return func(d *msg.PCertReqData, der []byte) msg.PCertResTBS {
					var thumbs []msg.CertThumb
					for _, c := range certs {
						thumbs = append(thumbs, msg.ThumbOf(h, c))
					}
					tbs := msg.PCertResTBS{PCertRRTags: d.PCertRRTags,
						PCertResItemSeq: []msg.PCertResItem{{BrandAndBIN: d.BrandAndBINSeq[0], PCertCode: msg.PCertSuccess, CertThumbs: thumbs}}}
					if st.ID() != suite.Set1 {
						mt := msg.ThumbOf(h, mer.Cert)
						tbs.MerchantThumb = &mt
						tbs.HPCertReq = hashOf(h, der)
					}
					return tbs
				}
			}
			signerWith := func(c lab.Credential, extra ...[]byte) encap.Signer {
				return encap.Signer{Key: c.Key, Cert: c.Cert, Chain: append(append([][]byte{}, extra...), c.Chain...)}
			}
			try := func(tbs func(*msg.PCertReqData, []byte) msg.PCertResTBS, s encap.Signer) (*merchant.GatewayCertificates, error) {
				f.tbs, f.signer = tbs, s
				return m.RefreshGatewayCertificates(context.Background())
			}

			got, err := try(honest(gw.Cert, gw.ExchangeCert), signerWith(gw, gw.ExchangeCert))
			if err != nil {
				t.Fatalf("honest PCertRes refused: %v", err)
			}
			if !bytes.Equal(got.Exchange, gw.ExchangeCert) {
				t.Fatal("wrong key-exchange certificate delivered")
			}

			// Signed by a merchant, not a gateway.
			_, err = try(honest(gw.Cert, gw.ExchangeCert), signerWith(mer, gw.ExchangeCert))
			wantCode(t, err, msg.InvalidCertificate)
			// Signed by a gateway, but not the designated one.
			_, err = try(honest(rival.Cert, rival.ExchangeCert), signerWith(rival, rival.ExchangeCert))
			wantCode(t, err, msg.SignatureFailure)
			// Listing a merchant's key-exchange certificate as the gateway's.
			_, err = try(honest(gw.Cert, mer.ExchangeCert), signerWith(gw, mer.ExchangeCert))
			wantCode(t, err, msg.InvalidCertificate)
			// Listing another gateway's certificate as this one's.
			_, err = try(honest(gw.Cert, rival.ExchangeCert), signerWith(gw, rival.ExchangeCert))
			wantCode(t, err, msg.InvalidCertificate)
			// Listing a certificate it does not carry.
			_, err = try(honest(gw.Cert, gw.ExchangeCert), signerWith(gw))
			wantCode(t, err, msg.MissingCertificate)
			// No key-exchange certificate at all.
			_, err = try(honest(gw.Cert), signerWith(gw, gw.ExchangeCert))
			wantCode(t, err, msg.MissingCertificate)
			mutated := func(mutate func(*msg.PCertResTBS)) func(*msg.PCertReqData, []byte) msg.PCertResTBS {
				return func(d *msg.PCertReqData, der []byte) msg.PCertResTBS {
					tbs := honest(gw.Cert, gw.ExchangeCert)(d, der)
					mutate(&tbs)
					return tbs
				}
			}
			_, err = try(mutated(func(r *msg.PCertResTBS) { r.PCertRRTags.RRPID[0] ^= 1 }), signerWith(gw, gw.ExchangeCert))
			wantCode(t, err, msg.UnknownRRPID)
			_, err = try(mutated(func(r *msg.PCertResTBS) { r.PCertResItemSeq[0].PCertCode = msg.PCertBrandNotSupported }), signerWith(gw, gw.ExchangeCert))
			wantCode(t, err, msg.UnspecifiedFailure)
			if st.ID() != suite.Set1 {
				_, err = try(mutated(func(r *msg.PCertResTBS) { r.HPCertReq[0] ^= 1 }), signerWith(gw, gw.ExchangeCert))
				wantCode(t, err, msg.SignatureFailure)
				_, err = try(mutated(func(r *msg.PCertResTBS) { th := msg.ThumbOf(h, rival.Cert); r.MerchantThumb = &th }), signerWith(gw, gw.ExchangeCert))
				wantCode(t, err, msg.ThumbsMismatch)
			}
		})
	}
}

func hashOf(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}
