package ca_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// frenchFormID is the Visa issuer's form in French (the fixture's
// default, English, form is regFormID).
const frenchFormID = regFormID + 1

func frenchForm() *msg.RegTemplate {
	return &msg.RegTemplate{RegFormID: frenchFormID, RegFieldSeq: []msg.RegField{
		{FieldName: "Nom sur la carte", FieldRequired: true, FieldLen: 40},
		{FieldName: "Code postal", FieldLen: 10},
		{FieldName: "Branch", FieldInvisible: true, FieldValue: branchValue},
	}}
}

// formOf reads the registration form out of a RegFormRes.
func (f *fixture) formOf(t testing.TB, res *msg.RegFormRes) *msg.RegTemplate {
	t.Helper()
	tbs, _, err := encap.OpenS(f.st, res.SignedData, msg.OIDRegFormResTBS, pki.CertVerifier(pki.VerifyOptions{Roots: f.lab.Roots, Now: f.now}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := msg.UnmarshalRegFormResTBS(tbs)
	if err != nil {
		t.Fatal(err)
	}
	if d.RegFormOrReferral.RegFormData == nil {
		t.Fatal("RegFormRes without a form")
	}
	return d.RegFormOrReferral.RegFormData.RegTemplate
}

// An issuer's form is chosen by the RegFormReq's language, falling back
// to the default; the CertReq must answer the form that was sent.
func TestRegFormPerLanguage(t *testing.T) {
	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := newFixture(t, st)
			for _, tc := range []struct {
				lang string
				want int64
			}{{"fr", frenchFormID}, {"FR", frenchFormID}, {"fr-CA", frenchFormID}, {"en", regFormID}, {"de", regFormID}} {
				cfg := f.regConfig(visaPAN)
				cfg.Language = tc.lang
				_, res := f.toRegFormRes(t, cfg)
				if got := f.formOf(t, res); got == nil || got.RegFormID != tc.want {
					t.Errorf("language %q: form %+v, want regFormID %d", tc.lang, got, tc.want)
				}
			}

			// A French registration answers the French form and is certified.
			cfg := f.regConfig(visaPAN)
			cfg.Language = "fr"
			cfg.Answers = map[string]string{"Nom sur la carte": "A N Autre", "Code postal": "75001"}
			if _, err := wallet.Register(context.Background(), f.rt(), cfg); err != nil {
				t.Fatalf("registering in French: %v", err)
			}

			// The form sent is the one checked: the English answers to a
			// French form, and the French answers to an English one, are
			// refused.
			english := func(d *msg.CertReqData) {}
			french := func(d *msg.CertReqData) {
				d.RegFormID = frenchFormID
				d.RegForm = []msg.RegFormItem{{FieldName: "Nom sur la carte", FieldValue: "A N Autre"}, {FieldName: "Branch", FieldValue: branchValue}}
			}
			for _, c := range []struct {
				name   string
				lang   string
				answer func(*msg.CertReqData)
			}{
				{"French form answered with the English form", "fr", english},
				{"English form answered with the French form", "en", french},
				{"unknown language's default form answered in French", "de", french},
			} {
				t.Run(c.name, func(t *testing.T) {
					cfg := f.regConfig(otherVisa)
					cfg.Language = c.lang
					_, res := f.toRegFormRes(t, cfg)
					k := f.newKey(t)
					m, err := f.call(t, f.certReq(t, f.challCA(t, res), otherVisa, k, k, c.answer))
					if err != nil {
						t.Fatal(err)
					}
					d := certResData(t, f, m)
					if d.CertStatus.CertStatusCode != msg.RejectByIssuer || len(d.CertStatus.FailedItemSeq) == 0 || d.CertThumbs != nil {
						t.Fatalf("CertStatus %v, failed items %v: want rejectByIssuer naming the form", d.CertStatus.CertStatusCode, d.CertStatus.FailedItemSeq)
					}
				})
			}
		})
	}
}

// A form ID shared between languages, or between issuers, is refused.
func TestIssuerFormIDsUnique(t *testing.T) {
	f := newFixture(t, suites()[0])
	exKey, err := f.st.NewExchangeKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ca.Config{Suite: f.st, BrandID: "SETpay", Authority: f.lab.Hierarchy.CCA,
		ExchangeKey: ca.NewExchangeKey(exKey), ExchangeCert: f.exCert, Roots: f.lab.Roots, Store: ca.NewMemoryStore()}
	for _, issuers := range [][]ca.Issuer{
		{{BINLow: "400000", BINHigh: "499999", Policy: policyText, Form: frenchForm(), Forms: map[string]*msg.RegTemplate{"fr": frenchForm()}}},
		{{BINLow: "400000", BINHigh: "449999", Policy: policyText, Form: frenchForm()},
			{BINLow: "450000", BINHigh: "499999", Policy: policyText, Forms: map[string]*msg.RegTemplate{"fr": frenchForm()}}},
		{{BINLow: "400000", BINHigh: "499999", Policy: policyText, Forms: map[string]*msg.RegTemplate{"": frenchForm()}}},
	} {
		cfg.Issuers = issuers
		if _, err := ca.New(cfg); err == nil {
			t.Errorf("issuers %+v accepted", issuers)
		}
	}
	cfg.Issuers = []ca.Issuer{{BINLow: "400000", BINHigh: "499999", Policy: policyText, Forms: map[string]*msg.RegTemplate{"fr": frenchForm()}}}
	if _, err := ca.New(cfg); err != nil {
		t.Errorf("a French form alone: %v", err)
	}
}

// The acquirer's records choose a merchant's or gateway's form by the
// Me-AqCInitReq's language, and at CertReq return the form that was sent
// (by its regFormID), whatever the language; a French merchant
// registration completes.
func TestAcquirerFormsPerLanguage(t *testing.T) {
	fr := &msg.RegTemplate{RegFormID: 2, RegFieldSeq: []msg.RegField{
		{FieldName: ca.FieldLegalName, FieldDesc: "Raison sociale", FieldRequired: true, FieldLen: 60},
	}}
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{{AcquirerBIN: acqBIN, MerID: merID, Name: merName, City: "Springfield"}},
		Forms: map[string]*msg.RegTemplate{"fr": fr}}
	id := msg.IDData{MerchantAcquirerID: &msg.MerchantAcquirerID{MerchantBIN: acqBIN, MerchantID: merID}}
	ctx := context.Background()
	for _, tc := range []struct {
		app  ca.Applicant
		want int64
	}{
		{ca.Applicant{ID: id, Language: "fr"}, 2},
		{ca.Applicant{ID: id, Language: "fr-BE"}, 2},
		{ca.Applicant{ID: id, Language: "de"}, 1},
		{ca.Applicant{ID: id, Language: "en"}, 1},
		{ca.Applicant{ID: id, RegFormID: 2}, 2},
		{ca.Applicant{ID: id, RegFormID: 1, Language: "fr"}, 1},
	} {
		form, _, err := records.RegForm(ctx, &tc.app)
		if err != nil || form == nil || form.RegFormID != tc.want {
			t.Errorf("RegForm(language %q, regFormID %d) = %+v, %v; want regFormID %d", tc.app.Language, tc.app.RegFormID, form, err, tc.want)
		}
	}

	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := newMRFixture(t, st)
			mca, _ := f.newCA(t, f.lab.Hierarchy.MCA, pki.CertTypeMCA, records, ca.NewMemoryStore())
			cfg := f.merchantConfig()
			cfg.Language = "fr"
			if _, err := merchant.Register(ctx, wire.ServeFunc(mca.Serve), cfg); err != nil {
				t.Fatalf("registering in French: %v", err)
			}
		})
	}
}

// An acquirer record with its own form gets it, in place of the records'
// default, and only it: a regFormID of the default form does not select
// the default for that record. A merchant of that record must answer it;
// another merchant still gets the default.
func TestAcquirerFormPerRecord(t *testing.T) {
	const otherMer = "MER-0043"
	own := &msg.RegTemplate{RegFormID: 40, RegFieldSeq: []msg.RegField{
		{FieldName: ca.FieldLegalName, FieldRequired: true, FieldLen: 60},
		{FieldName: "Annual turnover", FieldRequired: true, FieldLen: 20},
	}}
	def := &msg.RegTemplate{RegFormID: 20, RegFieldSeq: []msg.RegField{{FieldName: ca.FieldLegalName, FieldRequired: true, FieldLen: 60}}}
	records := &ca.AcquirerRecords{Records: []ca.AcquirerRecord{
		{AcquirerBIN: acqBIN, MerID: merID, Name: merName, City: "Springfield", Form: own},
		{AcquirerBIN: acqBIN, MerID: otherMer, Name: "Other Shop", City: "Springfield"},
	}, Form: def}
	mer := func(id string) msg.IDData {
		return msg.IDData{MerchantAcquirerID: &msg.MerchantAcquirerID{MerchantBIN: acqBIN, MerchantID: id}}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		app  ca.Applicant
		want int64
	}{
		{ca.Applicant{ID: mer(merID)}, 40},
		{ca.Applicant{ID: mer(merID), Language: "fr"}, 40},
		{ca.Applicant{ID: mer(merID), RegFormID: 20}, 40},
		{ca.Applicant{ID: mer(otherMer)}, 20},
		{ca.Applicant{ID: mer(otherMer), RegFormID: 40}, 20},
	} {
		form, _, err := records.RegForm(ctx, &tc.app)
		if err != nil || form == nil || form.RegFormID != tc.want {
			t.Errorf("RegForm(%s, regFormID %d) = %+v, %v; want regFormID %d", tc.app.ID.MerchantAcquirerID.MerchantID, tc.app.RegFormID, form, err, tc.want)
		}
	}

	for _, st := range suites() {
		t.Run(string(st.ID()), func(t *testing.T) {
			f := newMRFixture(t, st)
			mca, _ := f.newCA(t, f.lab.Hierarchy.MCA, pki.CertTypeMCA, records, ca.NewMemoryStore())
			cfg := f.merchantConfig()
			if _, err := merchant.Register(ctx, wire.ServeFunc(mca.Serve), cfg); err == nil || !strings.Contains(err.Error(), `"Annual turnover" is required`) {
				t.Fatalf("registering without the record's own field = %v, want it required", err)
			}
			cfg.Answers = map[string]string{ca.FieldLegalName: merName, "Annual turnover": "USD 1M"}
			if _, err := merchant.Register(ctx, wire.ServeFunc(mca.Serve), cfg); err != nil {
				t.Fatalf("registering with the record's own form answered: %v", err)
			}
		})
	}
}
