package inspect

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// pinitResTap keeps the last PInitRes a wallet received.
type pinitResTap struct {
	next wire.RoundTripper
	mu   sync.Mutex
	res  []byte
}

func (r *pinitResTap) RoundTrip(ctx context.Context, b []byte) ([]byte, error) {
	out, err := r.next.RoundTrip(ctx, b)
	if w, werr := msg.UnmarshalMessageWrapper(out); werr == nil {
		if _, ok := w.Message.(*msg.PInitRes); ok {
			r.mu.Lock()
			r.res = out
			r.mu.Unlock()
		}
	}
	return out, err
}

// The BrandCRLIdentifier a merchant carries in PInitRes is the signed one
// pki issues: msg decodes it to the fields pki reads, and inspect names
// them (signature, sequenceNum, each CRL's issuerThumb and number).
func TestInspectCarriedBCI(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			l, err := lab.New(lab.Options{Suite: st, Cardholders: 1, MerchantStore: sqlitetest.Memory(t), GatewayStore: sqlitetest.Memory(t), Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			offer, err := l.Merchant.Checkout(ctx, "tea", lab.USD(350))
			if err != nil {
				t.Fatal(err)
			}
			tap := &pinitResTap{next: wire.ServeFunc(l.Merchant.Serve)}
			if _, _, err := l.Wallets[0].Pay(ctx, tap, lab.OfferFor(offer)); err != nil {
				t.Fatal(err)
			}
			w, err := msg.UnmarshalMessageWrapper(tap.res)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := pkcs7.ParseSignedData(w.Message.(*msg.PInitRes).SignedData)
			if err != nil {
				t.Fatal(err)
			}
			d, err := msg.UnmarshalPInitResData(sd.Content)
			if err != nil {
				t.Fatal(err)
			}
			if d.BrandCRLIdentifier == nil {
				t.Fatal("PInitRes carries no BrandCRLIdentifier")
			}
			want, err := pki.ParseBrandCRLIdentifier(d.BrandCRLIdentifier)
			if err != nil {
				t.Fatal(err)
			}
			got, err := msg.UnmarshalBrandCRLIdentifier(d.BrandCRLIdentifier)
			if err != nil {
				t.Fatalf("msg cannot decode the carried BCI: %v", err)
			}
			if got.SequenceNum != int64(want.SequenceNum) || got.BrandID != want.BrandID || !got.NotAfter.Equal(want.NotAfter) ||
				len(got.CRLIdentifierSeq) != len(want.CRLIdentifiers) || string(got.RawUnsigned()) != string(want.RawTBS) ||
				string(got.Signature) != string(want.Signature) {
				t.Fatalf("msg's BCI %+v differs from pki's %+v", got, want)
			}
			for i, id := range want.CRLIdentifiers {
				if string(got.CRLIdentifierSeq[i].IssuerThumb) != string(id.IssuerThumb) || got.CRLIdentifierSeq[i].CRLNumber.Cmp(id.CRLNumber) != 0 {
					t.Errorf("CRL identifier %d: %+v, want %+v", i, got.CRLIdentifierSeq[i], id)
				}
			}

			out := inspectText(t, sd.Content, "PInitResData")
			wants := []string{
				"brandCRLIdentifier [0]", "BrandCRLIdentifier (SEQUENCE)",
				"unsignedBrandCRLIdentifier UnsignedBrandCRLIdentifier",
				"sequenceNum INTEGER", fmt.Sprint(want.SequenceNum),
				"brandID BrandID", want.BrandID,
				"notAfter GeneralizedTime", want.NotAfter.UTC().Format(time.RFC3339),
				"crlIdentifierSeq CRLIdentifierSeq",
				"issuerThumb OCTET STRING",
				"crlNumber INTEGER",
				"signatureAlgorithm AlgorithmIdentifier",
				"signature BIT STRING",
			}
			for _, w := range wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "crlIssuerThumb") || strings.Contains(out, "bciExtensions") {
				t.Errorf("output names the old unsigned layout:\n%s", out)
			}
		})
	}
}
