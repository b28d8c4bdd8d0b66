package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/internal/testenv"
	"github.com/setpay/setpay/msg"
)

// The CRL period of the tests: testNow to a week later; fixture opts()
// verify at testNow + 1 day, inside it.
var (
	crlThis = testNow
	crlNext = testNow.Add(7 * 24 * time.Hour)
)

func issueCRL(t testing.TB, a *Authority, revoked []RevokedCertificate, number int64, this, next time.Time) *CRL {
	t.Helper()
	der, err := a.IssueCRL(rand.Reader, revoked, big.NewInt(number), this, next)
	if err != nil {
		t.Fatalf("IssueCRL by %v: %v", a.Cert, err)
	}
	c, err := ParseCRL(der)
	if err != nil {
		t.Fatalf("ParseCRL of IssueCRL output: %v", err)
	}
	return c
}

func revoke(c *Certificate, reason CRLReason) []RevokedCertificate {
	return []RevokedCertificate{{Serial: c.SerialNumber, RevocationTime: testNow.Add(time.Hour), Reason: reason}}
}

// cleanCRLs are current CRLs, revoking nothing, from every CA of f.
func cleanCRLs(t testing.TB, f *suiteFixture) []*CRL {
	var out []*CRL
	for _, a := range []*Authority{f.h.Root, f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
		out = append(out, issueCRL(t, a, nil, 1, crlThis, crlNext))
	}
	return out
}

func TestCRLRoundTrip(t *testing.T) {
	for _, suite := range []string{"set1", "modern", "pq"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			other := big.NewInt(0x1234567)
			revoked := []RevokedCertificate{
				{Serial: f.card.SerialNumber, RevocationTime: testNow.Add(time.Hour), Reason: ReasonKeyCompromise},
				{Serial: other, RevocationTime: testNow.Add(2 * time.Hour)},
			}
			c := issueCRL(t, f.h.CCA, revoked, 42, crlThis, crlNext)
			if c.Number.Int64() != 42 {
				t.Errorf("Number = %v, want 42", c.Number)
			}
			if !c.ThisUpdate.Equal(crlThis) || !c.NextUpdate.Equal(crlNext) {
				t.Errorf("period %v..%v, want %v..%v", c.ThisUpdate, c.NextUpdate, crlThis, crlNext)
			}
			if !bytes.Equal(c.RawIssuer, f.h.CCA.Cert.RawSubject) {
				t.Error("issuer is not the CCA's subject")
			}
			if !bytes.Equal(c.AuthorityCertIssuer, f.h.CCA.Cert.RawIssuer) || c.AuthorityCertSerial.Cmp(f.h.CCA.Cert.SerialNumber) != 0 {
				t.Error("authorityKeyIdentifier does not name the CCA certificate by issuer and serial")
			}
			if len(c.Revoked) != 2 {
				t.Fatalf("%d entries, want 2", len(c.Revoked))
			}
			for i, r := range c.Revoked {
				if r.Serial.Cmp(revoked[i].Serial) != 0 || !r.RevocationTime.Equal(revoked[i].RevocationTime) || r.Reason != revoked[i].Reason {
					t.Errorf("entry %d = %+v, want %+v", i, r, revoked[i])
				}
			}
			if r := c.Lookup(f.card.SerialNumber); r == nil || r.Reason != ReasonKeyCompromise {
				t.Errorf("Lookup(card) = %+v", r)
			}
			if c.Lookup(f.merSig.SerialNumber) != nil {
				t.Error("Lookup finds a serial that is not listed")
			}
			if err := c.CheckSignatureFrom(f.h.CCA.Cert); err != nil {
				t.Errorf("CheckSignatureFrom(CCA): %v", err)
			}
			for _, wrong := range []*Certificate{f.h.MCA.Cert, f.h.Brand.Cert, f.card} {
				if err := c.CheckSignatureFrom(wrong); !errors.Is(err, ErrBadCRL) {
					t.Errorf("CheckSignatureFrom(%v) = %v, want ErrBadCRL", wrong, err)
				}
			}
			// Re-parsing the raw bytes gives the same bytes back: Raw is the input.
			again, err := ParseCRL(c.Raw)
			if err != nil || !bytes.Equal(again.Raw, c.Raw) || !bytes.Equal(again.RawTBSCertList, c.RawTBSCertList) {
				t.Errorf("re-parse: %v", err)
			}
			if !bytes.Contains(c.Raw, c.RawTBSCertList) {
				t.Error("RawTBSCertList is not a slice of Raw")
			}

			// A CRL revoking nothing has no revokedCertificates at all.
			empty := issueCRL(t, f.h.Root, nil, 0, crlThis, crlNext)
			if empty.Revoked != nil || empty.Number.Sign() != 0 {
				t.Errorf("empty CRL: %d entries, number %v", len(empty.Revoked), empty.Number)
			}
			if err := empty.CheckSignatureFrom(f.h.Root.Cert); err != nil {
				t.Errorf("root CRL: %v", err)
			}
			if !empty.CurrentAt(crlThis) || empty.CurrentAt(crlNext) || empty.CurrentAt(crlThis.Add(-time.Second)) {
				t.Error("CurrentAt is not [thisUpdate, nextUpdate)")
			}
		})
	}
}

func TestIssueCRLRefuses(t *testing.T) {
	f := fixture(t, "modern")
	leafAuthority := &Authority{Cert: f.card, Key: f.cardKey, Hash: crypto.SHA256}
	cases := []struct {
		name string
		a    *Authority
		rev  []RevokedCertificate
		num  *big.Int
		next time.Time
	}{
		{"end entity", leafAuthority, nil, big.NewInt(1), crlNext},
		{"wrong key", &Authority{Cert: f.h.MCA.Cert, Key: f.h.CCA.Key, Hash: crypto.SHA256}, nil, big.NewInt(1), crlNext},
		{"nil number", f.h.CCA, nil, nil, crlNext},
		{"negative number", f.h.CCA, nil, big.NewInt(-1), crlNext},
		{"next before this", f.h.CCA, nil, big.NewInt(1), crlThis},
		{"zero serial", f.h.CCA, []RevokedCertificate{{Serial: big.NewInt(0), RevocationTime: testNow}}, big.NewInt(1), crlNext},
		{"duplicate", f.h.CCA, append(revoke(f.card, 0), revoke(f.card, 1)...), big.NewInt(1), crlNext},
		{"reason 7", f.h.CCA, revoke(f.card, 7), big.NewInt(1), crlNext},
		{"no time", f.h.CCA, []RevokedCertificate{{Serial: big.NewInt(5)}}, big.NewInt(1), crlNext},
	}
	for _, tc := range cases {
		if _, err := tc.a.IssueCRL(rand.Reader, tc.rev, tc.num, crlThis, tc.next); err == nil {
			t.Errorf("%s: IssueCRL succeeded", tc.name)
		}
	}
}

func TestVerifyRevocation(t *testing.T) {
	for _, suite := range []string{"set1", "modern"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			clean := cleanCRLs(t, f)
			// clean[2] is the CCA's; replace it (or the Brand's, clean[1]) per case.
			with := func(i int, c *CRL) []*CRL {
				out := append([]*CRL(nil), clean...)
				out[i] = c
				return out
			}
			revokedCard := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)
			revokedCCA := issueCRL(t, f.h.Brand, revoke(f.h.CCA.Cert, ReasonCACompromise), 2, crlThis, crlNext)
			expiredCCA := issueCRL(t, f.h.CCA, nil, 1, testNow.Add(-30*24*time.Hour), testNow.Add(-time.Hour))
			futureCCA := issueCRL(t, f.h.CCA, nil, 1, testNow.Add(10*24*time.Hour), testNow.Add(20*24*time.Hour))
			// The MCA "revokes" the card's serial: not its certificate, so it counts for nothing.
			mcaListsCard := issueCRL(t, f.h.MCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)

			tampered := func(c *CRL, flip int) *CRL {
				b := bytes.Clone(c.Raw)
				b[flip] ^= 0x01
				tc, err := ParseCRL(b)
				if err != nil {
					t.Fatalf("tampered CRL no longer parses (choose another byte): %v", err)
				}
				return tc
			}
			// Flip a bit of the signature, and separately a bit of the
			// revoked serial inside the TBS (so the CRL no longer lists the card).
			badSig := tampered(revokedCard, len(revokedCard.Raw)-1)
			serialAt := bytes.Index(revokedCard.RawTBSCertList, f.card.SerialNumber.Bytes())
			if serialAt < 0 {
				t.Fatal("card serial not found in the CRL")
			}
			badTBS := tampered(revokedCard, bytes.Index(revokedCard.Raw, revokedCard.RawTBSCertList)+serialAt+3)
			if badTBS.Lookup(f.card.SerialNumber) != nil {
				t.Fatal("tampering did not change the serial")
			}
			for _, c := range []*CRL{badSig, badTBS} {
				if err := c.CheckSignatureFrom(f.h.CCA.Cert); !errors.Is(err, ErrBadCRL) {
					t.Errorf("tampered CRL: CheckSignatureFrom = %v, want ErrBadCRL", err)
				}
			}

			cases := []struct {
				name    string
				leaf    *Certificate
				crls    []*CRL
				require bool
				want    error
			}{
				{"no CRLs, not required", f.card, nil, false, nil},
				{"no CRLs, required", f.card, nil, true, ErrNoCRL},
				{"clean, required", f.card, clean, true, nil},
				{"revoked leaf", f.card, with(2, revokedCard), false, ErrRevoked},
				{"revoked leaf, required", f.card, with(2, revokedCard), true, ErrRevoked},
				{"revoked leaf, CRL alone", f.card, []*CRL{revokedCard}, false, ErrRevoked},
				{"other leaf of the same CA", f.merSig, with(2, revokedCard), true, nil},
				{"revoked intermediate", f.card, with(1, revokedCCA), false, ErrRevoked},
				{"revoked intermediate, leaf CRL missing", f.card, []*CRL{revokedCCA}, true, ErrRevoked},
				{"revoked intermediate, CA's own chain", f.h.CCA.Cert, with(1, revokedCCA), false, ErrRevoked},
				{"revoked intermediate, sibling CA unaffected", f.merSig, with(1, revokedCCA), true, nil},
				{"expired CRL, required", f.card, with(2, expiredCCA), true, ErrNoCRL},
				{"expired CRL, not required", f.card, with(2, expiredCCA), false, nil},
				{"future CRL, required", f.card, with(2, futureCCA), true, ErrNoCRL},
				{"brand CRL missing", f.card, append(clean[:1:1], clean[2:]...), true, ErrNoCRL},
				{"root CRL missing", f.card, clean[1:], true, ErrNoCRL},
				{"wrong CA lists the serial", f.card, append(clean[:2:2], mcaListsCard), false, nil},
				{"wrong CA lists the serial, required", f.card, append(clean[:2:2], mcaListsCard), true, ErrNoCRL},
				{"tampered signature ignored", f.card, append(clean[:2:2], badSig), false, nil},
				{"tampered signature, required", f.card, append(clean[:2:2], badSig), true, ErrNoCRL},
				{"tampered serial, required", f.card, append(clean[:2:2], badTBS), true, ErrNoCRL},
			}
			for _, tc := range cases {
				opts := f.opts()
				opts.CRLs, opts.RequireCRLs = tc.crls, tc.require
				_, err := tc.leaf.Verify(opts)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
				}
				if errors.Is(err, ErrRevoked) && !strings.Contains(err.Error(), "revoked at") {
					t.Errorf("%s: error does not say when: %v", tc.name, err)
				}
			}
		})
	}
}

func TestCertVerifierRevoked(t *testing.T) {
	f := fixture(t, "modern")
	opts := f.opts()
	opts.CRLs = []*CRL{issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)}
	_, err := CertVerifier(opts)(f.card.Raw, [][]byte{f.h.CCA.Cert.Raw})
	var pe *msg.ProtocolError
	if !errors.As(err, &pe) || pe.Code != msg.RevokedCertificate {
		t.Fatalf("CertVerifier on a revoked card = %v, want code revokedCertificate", err)
	}
	if ErrorCode(fmt.Errorf("wrapped: %w", ErrRevoked)) != msg.RevokedCertificate {
		t.Error("ErrorCode does not map ErrRevoked")
	}
}

// TestCRLSameNameOtherCA: a CA of another hierarchy with the same names
// cannot speak for ours, even though its CRL names our CCA's subject.
func TestCRLSameNameOtherCA(t *testing.T) {
	f := fixture(t, "modern")
	h2, err := NewHierarchy(rand.Reader, "SETpay", ecdsaGen, crypto.SHA256, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h2.CCA.Cert.RawSubject, f.h.CCA.Cert.RawSubject) {
		t.Fatal("test premise: both CCAs carry the same name")
	}
	forged := issueCRL(t, h2.CCA, revoke(f.card, ReasonKeyCompromise), 99, crlThis, crlNext)
	if err := forged.CheckSignatureFrom(f.h.CCA.Cert); !errors.Is(err, ErrBadCRL) {
		t.Errorf("CheckSignatureFrom = %v, want ErrBadCRL", err)
	}
	opts := f.opts()
	opts.CRLs = []*CRL{forged}
	if _, err := f.card.Verify(opts); err != nil {
		t.Errorf("a foreign CRL revoked our card: %v", err)
	}
	opts.RequireCRLs = true
	if _, err := f.card.Verify(opts); !errors.Is(err, ErrNoCRL) {
		t.Errorf("foreign CRL counted as current: %v", err)
	}
}

func TestParseCRLRejects(t *testing.T) {
	f := fixture(t, "modern")
	good := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 7, crlThis, crlNext).Raw
	for i := range len(good) {
		if _, err := ParseCRL(good[:i]); err == nil {
			t.Fatalf("ParseCRL accepted %d of %d bytes", i, len(good))
		}
	}
	if _, err := ParseCRL(append(bytes.Clone(good), 0)); err == nil {
		t.Error("ParseCRL accepted a trailing byte")
	}
	// A certificate is not a CRL.
	if _, err := ParseCRL(f.card.Raw); err == nil {
		t.Error("ParseCRL accepted a certificate")
	}
}

func TestCRLExtensions(t *testing.T) {
	var c CRL
	unknown := []int{1, 2, 3, 4}
	if err := c.applyExtension(Extension{ID: unknown, Critical: true}); !errors.Is(err, ErrUnhandledCritical) {
		t.Errorf("unknown critical CRL extension: %v", err)
	}
	if err := c.applyExtension(Extension{ID: unknown}); err != nil {
		t.Errorf("unknown non-critical CRL extension: %v", err)
	}
	// RFC 5280's keyIdentifier form is not SET's.
	keyID := []byte{0x30, 0x04, 0x80, 0x02, 0xab, 0xcd}
	if err := c.applyExtension(Extension{ID: OIDExtAuthorityKeyID, Value: keyID}); err == nil {
		t.Error("AKI with keyIdentifier accepted")
	}
	for _, v := range [][]byte{{0x02, 0x01, 0xff}, {0x02, 0x02, 0x00, 0x01}, {0x04, 0x01, 0x01}, {0x02, 0x01, 0x01, 0x00}} {
		if err := c.applyExtension(Extension{ID: OIDExtCRLNumber, Value: v}); err == nil {
			t.Errorf("cRLNumber %x accepted", v)
		}
	}
}

func TestBrandCRLIdentifier(t *testing.T) {
	for _, suite := range []string{"set1", "modern"} {
		t.Run(suite, func(t *testing.T) {
			f := fixture(t, suite)
			cas := []*Certificate{f.h.Brand.Cert, f.h.CCA.Cert, f.h.MCA.Cert, f.h.PCA.Cert}
			var crls []*CRL
			var ids []CRLIdentifier
			for i, a := range []*Authority{f.h.Brand, f.h.CCA, f.h.MCA, f.h.PCA} {
				c := issueCRL(t, a, nil, int64(10+i), crlThis, crlNext)
				crls = append(crls, c)
				ids = append(ids, NewCRLIdentifier(a.Cert, c, f.hash))
			}
			tmpl := &BrandCRLIdentifier{
				SequenceNum: 3, BrandID: "SETpay", NotBefore: crlThis, NotAfter: crlNext, CRLIdentifiers: ids,
			}
			raw, err := f.h.Brand.IssueBCI(rand.Reader, tmpl)
			if err != nil {
				t.Fatal(err)
			}
			bci, err := ParseBrandCRLIdentifier(raw)
			if err != nil {
				t.Fatal(err)
			}
			if bci.Version != 0 || bci.SequenceNum != 3 || bci.BrandID != "SETpay" ||
				!bci.NotBefore.Equal(crlThis) || !bci.NotAfter.Equal(crlNext) || len(bci.CRLIdentifiers) != 4 {
				t.Fatalf("round trip: %+v", bci)
			}
			for i, id := range bci.CRLIdentifiers {
				if !bytes.Equal(id.IssuerThumb, ids[i].IssuerThumb) || id.CRLNumber.Cmp(ids[i].CRLNumber) != 0 {
					t.Errorf("identifier %d = %x/%v, want %x/%v", i, id.IssuerThumb, id.CRLNumber, ids[i].IssuerThumb, ids[i].CRLNumber)
				}
				if len(id.IssuerThumb) != f.hash.Size() {
					t.Errorf("identifier %d: thumbprint of %d bytes under %v", i, len(id.IssuerThumb), f.hash)
				}
			}
			if !bytes.Equal(bci.Raw, raw) {
				t.Error("Raw is not the input")
			}
			if err := bci.Verify(f.h.Brand.Cert); err != nil {
				t.Errorf("Verify(brand): %v", err)
			}
			for _, wrong := range []*Certificate{f.h.CCA.Cert, f.h.Root.Cert, f.card} {
				if err := bci.Verify(wrong); !errors.Is(err, ErrBadCRL) {
					t.Errorf("Verify(%v) = %v, want ErrBadCRL", wrong, err)
				}
			}
			if !bci.CurrentAt(testNow.Add(24*time.Hour)) || bci.CurrentAt(crlNext) {
				t.Error("CurrentAt is not [notBefore, notAfter)")
			}

			// Tampering with the signed part (the sequence number) or the
			// signature breaks Verify.
			seqAt := bytes.Index(raw, bci.RawTBS) + 2 + 3 + 2 // SEQ hdr, version, INTEGER hdr
			if bci.RawTBS[1] > 0x7f {
				seqAt += int(bci.RawTBS[1] & 0x7f)
			}
			for _, at := range []int{seqAt, len(raw) - 1} {
				b := bytes.Clone(raw)
				b[at] ^= 0x01
				tb, err := ParseBrandCRLIdentifier(b)
				if err != nil {
					t.Fatalf("tampered BCI at %d does not parse: %v", at, err)
				}
				if err := tb.Verify(f.h.Brand.Cert); !errors.Is(err, ErrBadCRL) {
					t.Errorf("tampered BCI at %d: Verify = %v", at, err)
				}
			}

			// Covers.
			if err := bci.Covers(crls, cas); err != nil {
				t.Errorf("Covers(all): %v", err)
			}
			if err := bci.Covers(crls[1:], cas); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Covers without the brand CRL = %v, want ErrNoCRL", err)
			}
			if err := bci.Covers(crls, cas[:3]); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Covers without the PCA certificate = %v, want ErrNoCRL", err)
			}
			older := issueCRL(t, f.h.CCA, nil, 9, crlThis, crlNext)
			if err := bci.Covers([]*CRL{crls[0], older, crls[2], crls[3]}, cas); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Covers with the wrong CCA CRL number = %v, want ErrNoCRL", err)
			}
			// A CRL numbered right but from another CA does not count.
			mcaAs11 := issueCRL(t, f.h.MCA, nil, 11, crlThis, crlNext)
			if err := bci.Covers([]*CRL{crls[0], mcaAs11, crls[2], crls[3]}, cas); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Covers with the CCA's number from the MCA = %v, want ErrNoCRL", err)
			}

			// In Verify: the CRLs the BCI lists for the chain's CAs must be there.
			bciOpts := func(bci *BrandCRLIdentifier, crls []*CRL) VerifyOptions {
				o := f.opts()
				o.BrandCRLIdentifier, o.CRLs = bci, crls
				return o
			}
			if _, err := f.card.Verify(bciOpts(bci, crls)); err != nil {
				t.Errorf("Verify with BCI and its CRLs: %v", err)
			}
			// The card's chain does not need the MCA's or PCA's CRL.
			if _, err := f.card.Verify(bciOpts(bci, crls[:2])); err != nil {
				t.Errorf("Verify card with BCI, brand and CCA CRLs: %v", err)
			}
			if _, err := f.card.Verify(bciOpts(bci, []*CRL{crls[0], older})); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Verify with a CCA CRL older than the BCI lists = %v, want ErrNoCRL", err)
			}
			if _, err := f.merSig.Verify(bciOpts(bci, crls[:2])); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Verify merchant without the MCA CRL the BCI lists = %v, want ErrNoCRL", err)
			}
			revokedCard := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 11, crlThis, crlNext)
			if _, err := f.card.Verify(bciOpts(bci, []*CRL{crls[0], revokedCard})); !errors.Is(err, ErrRevoked) {
				t.Errorf("Verify with BCI, revoked card = %v, want ErrRevoked", err)
			}
			stale := bciOpts(bci, crls)
			stale.Now = crlNext
			if _, err := f.card.Verify(stale); !errors.Is(err, ErrNoCRL) {
				t.Errorf("Verify with a stale BCI = %v, want ErrNoCRL", err)
			}
			tb := bytes.Clone(raw)
			tb[len(tb)-1] ^= 1
			tampered, err := ParseBrandCRLIdentifier(tb)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.card.Verify(bciOpts(tampered, crls)); !errors.Is(err, ErrBadCRL) {
				t.Errorf("Verify with a tampered BCI = %v, want ErrBadCRL", err)
			}

			// Only a brand CA issues BCIs; bad templates are refused.
			if _, err := f.h.CCA.IssueBCI(rand.Reader, tmpl); !errors.Is(err, ErrWrongType) {
				t.Errorf("CCA IssueBCI = %v, want ErrWrongType", err)
			}
			for name, mut := range map[string]func(*BrandCRLIdentifier){
				"version": func(b *BrandCRLIdentifier) { b.Version = 1 },
				"brand":   func(b *BrandCRLIdentifier) { b.BrandID = "" },
				"period":  func(b *BrandCRLIdentifier) { b.NotAfter = b.NotBefore },
				"thumb": func(b *BrandCRLIdentifier) {
					b.CRLIdentifiers = []CRLIdentifier{{IssuerThumb: []byte{1}, CRLNumber: big.NewInt(1)}}
				},
				"no number": func(b *BrandCRLIdentifier) { b.CRLIdentifiers = []CRLIdentifier{{IssuerThumb: ids[0].IssuerThumb}} },
			} {
				bad := *tmpl
				mut(&bad)
				if _, err := f.h.Brand.IssueBCI(rand.Reader, &bad); err == nil {
					t.Errorf("IssueBCI with bad %s succeeded", name)
				}
			}

			// Truncation at every byte, and a trailing byte, fail cleanly.
			for i := range len(raw) {
				if _, err := ParseBrandCRLIdentifier(raw[:i]); err == nil {
					t.Fatalf("ParseBrandCRLIdentifier accepted %d of %d bytes", i, len(raw))
				}
			}
			if _, err := ParseBrandCRLIdentifier(append(bytes.Clone(raw), 0)); err == nil {
				t.Error("ParseBrandCRLIdentifier accepted a trailing byte")
			}
		})
	}
}

// TestOpenSSLCRL has openssl read our modern CRLs and use them in chain
// validation: a clean set passes -crl_check_all, a revoked card fails.
func TestOpenSSLCRL(t *testing.T) {
	bin := testenv.OpenSSL(t)
	f := fixture(t, "modern")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pemOf := func(typ string, ders ...[]byte) []byte {
		var buf bytes.Buffer
		for _, d := range ders {
			pem.Encode(&buf, &pem.Block{Type: typ, Bytes: d})
		}
		return buf.Bytes()
	}
	clean := cleanCRLs(t, f)
	revokedCard := issueCRL(t, f.h.CCA, revoke(f.card, ReasonKeyCompromise), 2, crlThis, crlNext)

	text, err := exec.Command(bin, "crl", "-inform", "DER", "-noout", "-text", "-in", write("cca.crl", revokedCard.Raw)).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, text)
	}
	serial := strings.ToUpper(fmt.Sprintf("%X", f.card.SerialNumber))
	for _, want := range []string{"Version 2", "CRL Number", "2", serial, "Key Compromise", "serial:"} {
		if !strings.Contains(strings.ToUpper(string(text)), strings.ToUpper(want)) {
			t.Errorf("openssl crl output lacks %q:\n%s", want, text)
		}
	}

	root := write("root.pem", pemOf("CERTIFICATE", f.h.Root.Cert.Raw))
	untrusted := write("chain.pem", pemOf("CERTIFICATE", f.h.Brand.Cert.Raw, f.h.CCA.Cert.Raw))
	leaf := write("card.pem", pemOf("CERTIFICATE", f.card.Raw))
	attime := fmt.Sprint(testNow.Add(24 * time.Hour).Unix())
	verify := func(crls []*CRL) (string, error) {
		var ders [][]byte
		for _, c := range crls {
			ders = append(ders, c.Raw)
		}
		crlFile := write("crls.pem", pemOf("X509 CRL", ders...))
		out, err := exec.Command(bin, "verify", "-crl_check_all", "-ignore_critical", "-attime", attime,
			"-CAfile", root, "-untrusted", untrusted, "-CRLfile", crlFile, leaf).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(clean); err != nil || !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify with clean CRLs: %v\n%s", err, out)
	}
	revokedSet := append([]*CRL(nil), clean...)
	revokedSet[2] = revokedCard
	if out, err := verify(revokedSet); err == nil || !strings.Contains(out, "revoked") {
		t.Errorf("openssl verify accepted a revoked card: %v\n%s", err, out)
	}
	// And without the CCA's CRL it cannot decide: -crl_check_all fails.
	if out, err := verify(clean[:2]); err == nil {
		t.Errorf("openssl verify passed without the CCA's CRL:\n%s", out)
	}
}

func FuzzParseCRL(f *testing.F) {
	fx := fixture(f, "modern")
	f.Add(issueCRL(f, fx.h.CCA, revoke(fx.card, ReasonKeyCompromise), 2, crlThis, crlNext).Raw)
	f.Add(issueCRL(f, fx.h.Root, nil, 0, crlThis, crlNext).Raw)
	f.Add(issueCRL(f, fixture(f, "set1").h.Brand, nil, 1, crlThis, crlNext).Raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCRL(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Raw, b) || c.Number == nil || c.AuthorityCertSerial == nil {
			t.Fatalf("accepted CRL breaks invariants: %+v", c)
		}
		c.CheckSignatureFrom(fx.h.CCA.Cert)
		c.Lookup(big.NewInt(1))
		opts := fx.opts()
		opts.CRLs, opts.RequireCRLs = []*CRL{c}, true
		fx.card.Verify(opts)
	})
}

func FuzzParseBrandCRLIdentifier(f *testing.F) {
	fx := fixture(f, "modern")
	crl := issueCRL(f, fx.h.CCA, nil, 2, crlThis, crlNext)
	raw, err := fx.h.Brand.IssueBCI(rand.Reader, &BrandCRLIdentifier{
		BrandID: "SETpay", NotBefore: crlThis, NotAfter: crlNext,
		CRLIdentifiers: []CRLIdentifier{NewCRLIdentifier(fx.h.CCA.Cert, crl, crypto.SHA256)},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	goldens, _ := filepath.Glob(filepath.Join("testdata", "bci", "*-*.der"))
	for _, name := range goldens {
		if b, err := os.ReadFile(name); err == nil && !strings.HasPrefix(filepath.Base(name), "brand-") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		bci, err := ParseBrandCRLIdentifier(b)
		if err != nil {
			return
		}
		if !bytes.Equal(bci.Raw, b) || bci.Version != 0 || !bci.NotBefore.Before(bci.NotAfter) {
			t.Fatalf("accepted BCI breaks invariants: %+v", bci)
		}
		// One codec: what pki accepts, msg writes back byte for byte.
		if m, err := msg.UnmarshalBrandCRLIdentifier(b); err != nil {
			t.Fatalf("msg rejects what pki accepts: %v", err)
		} else if again, err := m.Marshal(); err != nil || !bytes.Equal(again, b) {
			t.Fatalf("msg re-encodes an accepted BCI as %x (%v)", again, err)
		}
		bci.Verify(fx.h.Brand.Cert)
		bci.Covers([]*CRL{crl}, []*Certificate{fx.h.CCA.Cert})
	})
}
