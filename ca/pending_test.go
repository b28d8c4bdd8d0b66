package ca_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/gateway"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wire"
)

// deferring is an acquirer that defers every decision it would approve to
// the operator.
type deferring struct{ ca.AcquirerRecords }

func (d *deferring) Approve(ctx context.Context, a *ca.Applicant) (*ca.Approval, error) {
	appr, err := d.AcquirerRecords.Approve(ctx, a)
	if err != nil {
		return nil, err
	}
	return nil, &ca.Deferral{Approval: appr, Message: "awaiting the acquirer's review"}
}

func (f *mrFixture) deferringCAs(t *testing.T) {
	t.Helper()
	p := &deferring{ca.AcquirerRecords{Records: []ca.AcquirerRecord{
		{AcquirerBIN: acqBIN, MerID: merID, Name: merName, City: "Springfield"},
		{AcquirerBIN: acqBIN, BusinessID: gwBusiness, Name: gwName},
	}}}
	store := ca.NewMemoryStore()
	f.mca, f.mcaEx = f.newCA(t, f.lab.Hierarchy.MCA, pki.CertTypeMCA, p, store)
	f.pca, _ = f.newCA(t, f.lab.Hierarchy.PCA, pki.CertTypePCA, p, store)
}

// pendingID is the one request c holds undecided.
func pendingID(t *testing.T, c *ca.CA) msg.Challenge {
	t.Helper()
	ids, err := c.PendingIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("%d pending requests, want 1", len(ids))
	}
	return ids[0]
}

var quick = merchant.WaitOptions{Every: time.Millisecond, Max: 2}

// TestPendingApproved: a pended merchant and gateway registration issues
// nothing until the operator approves, inquiries meanwhile say pending,
// the inquiry after approval delivers the certificates, and a replay of it
// names no request any more.
func TestPendingApproved(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newMRFixture(t, st)
			f.deferringCAs(t)

			_, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), f.merchantConfig())
			var pe *merchant.PendingError
			if !errors.As(err, &pe) || pe.Status.CertStatusCode != msg.RequestPended {
				t.Fatalf("merchant.Register = %v, want a requestPended PendingError", err)
			}
			reg := pe.Registration
			_, err = reg.Wait(ctx, wire.ServeFunc(f.mca.Serve), quick)
			if !errors.As(err, &pe) {
				t.Fatalf("Wait before the decision = %v, want still pending", err)
			}
			if n := f.issued.Load(); n != 0 {
				t.Fatalf("%d issuance records while pending", n)
			}
			id := pendingID(t, f.mca)
			if err := f.mca.Decide(ctx, id, true); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if err := f.mca.Decide(ctx, id, false); !errors.Is(err, ca.ErrDecided) {
				t.Errorf("second Decide = %v, want ErrDecided", err)
			}
			m, err := reg.Wait(ctx, wire.ServeFunc(f.mca.Serve), quick)
			if err != nil {
				t.Fatalf("Wait after approval: %v", err)
			}
			sig, err := pki.ParseCertificate(m.SigCert)
			if err != nil {
				t.Fatal(err)
			}
			if md := sig.MerchantData; sig.CertType != pki.CertTypeMer || md == nil || md.MerID != merID || md.MerNames[0].Name != merName {
				t.Errorf("merchant certificate %v %+v", sig.CertType, sig.MerchantData)
			}
			if _, err := reg.Wait(ctx, wire.ServeFunc(f.mca.Serve), quick); err == nil {
				t.Fatal("a replayed inquiry after delivery got an answer")
			} else {
				wantCode(t, err, msg.UnknownLID)
			}

			_, err = gateway.Register(ctx, wire.ServeFunc(f.pca.Serve), f.gatewayConfig())
			var gpe *gateway.PendingError
			if !errors.As(err, &gpe) {
				t.Fatalf("gateway.Register = %v, want a PendingError", err)
			}
			if err := f.pca.Decide(ctx, pendingID(t, f.pca), true); err != nil {
				t.Fatal(err)
			}
			g, err := gpe.Registration.Wait(ctx, wire.ServeFunc(f.pca.Serve), gateway.WaitOptions{Every: time.Millisecond, Max: 1})
			if err != nil {
				t.Fatalf("gateway Wait: %v", err)
			}
			if gs, err := pki.ParseCertificate(g.SigCert); err != nil || gs.CertType != pki.CertTypePgwy || gs.Subject.CommonName != gwName {
				t.Errorf("gateway certificate: %v", err)
			}
			if n := f.issued.Load(); n != 2 {
				t.Errorf("%d issuance records, want 2", n)
			}
		})
	}
}

// TestPendingRefusals: a refused request answers rejectByAgent and issues
// nothing; inquiries signed by another key, or naming no request, are SET
// Errors.
func TestPendingRefusals(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			f := newMRFixture(t, st)
			f.deferringCAs(t)
			_, err := merchant.Register(ctx, wire.ServeFunc(f.mca.Serve), f.merchantConfig())
			var pe *merchant.PendingError
			if !errors.As(err, &pe) {
				t.Fatalf("merchant.Register = %v, want a PendingError", err)
			}
			id := pendingID(t, f.mca)

			// Signed by a key that is not the request's: signatureFailure,
			// and the request stays pending.
			other, err := st.NewSigningKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			forged := f.inquiry(t, other, id)
			_, err = f.call(t, f.mca, forged)
			wantCode(t, err, msg.SignatureFailure)
			pendingID(t, f.mca)

			// Naming no request.
			_, err = f.call(t, f.mca, f.inquiry(t, other, msg.Challenge{1, 2, 3}))
			wantCode(t, err, msg.UnknownLID)

			// The payment CA shares the store but not the request.
			if err := f.pca.Decide(ctx, id, true); !errors.Is(err, ca.ErrNoPending) {
				t.Errorf("payment CA deciding a merchant request = %v, want ErrNoPending", err)
			}
			if err := f.mca.Decide(ctx, id, false); err != nil {
				t.Fatal(err)
			}
			_, err = pe.Registration.Wait(ctx, wire.ServeFunc(f.mca.Serve), quick)
			wantMerStatus(t, err, msg.RejectByAgent)
			if err := f.mca.Decide(ctx, id, true); !errors.Is(err, ca.ErrNoPending) {
				t.Errorf("Decide after delivery = %v, want ErrNoPending", err)
			}
			if n := f.issued.Load(); n != 0 {
				t.Errorf("%d issuance records after a refusal", n)
			}
		})
	}
}

// inquiry is a CertInqReq for request id signed by key, as no honest
// registration would make it.
func (f *mrFixture) inquiry(t *testing.T, key crypto.Signer, id msg.Challenge) msg.Message {
	t.Helper()
	carrier, err := pki.CreateCertificate(rand.Reader, &pki.Template{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "forger"},
		NotBefore: f.now.Add(-time.Minute), NotAfter: f.now.Add(time.Hour),
		PublicKey: key.Public(), KeyUsage: x509.KeyUsageDigitalSignature, CertType: pki.CertTypeMer,
	}, nil, key, f.st.Hash())
	if err != nil {
		t.Fatal(err)
	}
	tbs, err := (&msg.CertInqReqTBS{LIDEE: []byte("lid"), ChallEE3: id}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := encap.S(f.st, rand.Reader, encap.Signer{Key: key, Cert: carrier}, msg.OIDCertInqReqTBS, tbs)
	if err != nil {
		t.Fatal(err)
	}
	return &msg.CertInqReq{SignedData: signed}
}
