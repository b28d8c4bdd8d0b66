package demo_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/internal/der"
	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/internal/testenv"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/suite"
)

// run is one demo run and where it left its files.
type run struct {
	rep        *demo.Report
	transcript string
	data, out  string
}

func runDemo(t *testing.T, id suite.ID, purchases, cardholders int) *run {
	t.Helper()
	dir := t.TempDir()
	r := &run{data: filepath.Join(dir, "data"), out: filepath.Join(dir, "out")}
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := demo.Run(ctx, demo.Options{Suite: id, Purchases: purchases, Cardholders: cardholders, DataDir: r.data, OutDir: r.out}, &buf)
	r.rep, r.transcript = rep, buf.String()
	if err != nil {
		t.Fatalf("demo.Run: %v\n%s", err, r.transcript)
	}
	return r
}

// TestDemo runs the demo in each suite over loopback HTTP and checks what
// it printed, what it recorded, what it exported, what an independent CMS
// implementation makes of the exported bytes, and that neither party kept
// what SET keeps from it.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		id                     suite.ID
		purchases, cardholders int
	}{
		{suite.Modern, 3, 2},
		{suite.Set1, 2, 2},
	} {
		t.Run(string(tc.id), func(t *testing.T) {
			r := runDemo(t, tc.id, tc.purchases, tc.cardholders)
			t.Run("transcript", func(t *testing.T) { checkTranscript(t, r, tc.purchases, tc.cardholders) })
			t.Run("files", func(t *testing.T) { checkFiles(t, r) })
			t.Run("openssl", func(t *testing.T) { checkOpenSSL(t, r) })
			t.Run("confidentiality", func(t *testing.T) { checkConfidentiality(t, r) })
		})
	}
}

var wantPath = []string{
	"wallet merchant PInitReq", "merchant wallet PInitRes", "wallet merchant PReq",
	"merchant gateway AuthReq", "gateway merchant AuthRes", "merchant wallet PRes",
	"merchant gateway CapReq", "gateway merchant CapRes",
}

// wantRegistration is the registration's path: the gateway at the payment
// CA, the merchant at the merchant CA, then each cardholder at the
// cardholder CA.
func wantRegistration(cardholders int) []string {
	want := []string{
		"gateway pca Me-AqCInitReq", "pca gateway Me-AqCInitRes", "gateway pca CertReq", "pca gateway CertRes",
		"merchant mca Me-AqCInitReq", "mca merchant Me-AqCInitRes", "merchant mca CertReq", "mca merchant CertRes",
	}
	for range cardholders {
		want = append(want, "wallet cca CardCInitReq", "cca wallet CardCInitRes", "wallet cca RegFormReq",
			"cca wallet RegFormRes", "wallet cca CertReq", "cca wallet CertRes")
	}
	return want
}

var messageLine = regexp.MustCompile(`(?m)^  #(\d+)\s+(\w+)\s+→\s+(\w+)\s+([\w-]+)\s+(\d+) bytes$`)

func checkTranscript(t *testing.T, r *run, purchases, cardholders int) {
	rep := r.rep
	// The registration comes first, numbered from 1, in its own section.
	reg := wantRegistration(cardholders)
	if rep.Registrations != len(reg) {
		t.Fatalf("%d registration messages reported, want %d", rep.Registrations, len(reg))
	}
	regStart := strings.Index(r.transcript, "\nregistration: ")
	purchaseStart := strings.Index(r.transcript, "\npurchase 1 of ")
	if regStart < 0 || purchaseStart < regStart {
		t.Fatalf("no registration section before the purchases:\n%s", r.transcript)
	}
	var gotReg []string
	for i, m := range messageLine.FindAllStringSubmatch(r.transcript[regStart:purchaseStart], -1) {
		gotReg = append(gotReg, m[2]+" "+m[3]+" "+m[4])
		n, _ := strconv.Atoi(m[1])
		size, _ := strconv.Atoi(m[5])
		if n != i+1 || i >= len(rep.Messages) || len(rep.Messages[i].DER) != size || rep.Messages[i].Type != m[4] {
			t.Errorf("transcript line %q does not match message %d of the report", m[0], i+1)
		}
	}
	if !slices.Equal(gotReg, reg) {
		t.Errorf("registration: transcript lists\n%q\nwant\n%q", gotReg, reg)
	}
	if len(rep.Purchases) != purchases {
		t.Fatalf("%d purchases reported, want %d", len(rep.Purchases), purchases)
	}
	for _, p := range rep.Purchases {
		if p.Err != nil || p.Completion != msg.AuthorizationAccepted || p.CapCode != msg.CapSuccess {
			t.Errorf("purchase %d: completion %v, capture %v, err %v", p.Number, p.Completion, p.CapCode, p.Err)
		}
		if (rep.Suite == suite.Modern) != (p.GatewayProof != nil) {
			t.Errorf("purchase %d: gateway proof %+v in suite %s", p.Number, p.GatewayProof, rep.Suite)
		}
		if p.Order == nil || p.Order.State != store.StateCaptured || p.Authorization == nil || p.Authorization.State != "captured" {
			t.Errorf("purchase %d: records %+v / %+v", p.Number, p.Order, p.Authorization)
		}
	}
	// Each purchase's section of the transcript lists its messages in order.
	sections := regexp.MustCompile(`(?m)^purchase \d+ of \d+:`).Split(r.transcript, -1)[1:]
	if len(sections) != purchases {
		t.Fatalf("transcript has %d purchase sections, want %d:\n%s", len(sections), purchases, r.transcript)
	}
	seq := rep.Registrations
	for i, sec := range sections {
		var got []string
		for _, m := range messageLine.FindAllStringSubmatch(sec, -1) {
			got = append(got, m[2]+" "+m[3]+" "+m[4])
			seq++
			n, _ := strconv.Atoi(m[1])
			size, _ := strconv.Atoi(m[5])
			if n != seq || seq > len(rep.Messages) || len(rep.Messages[seq-1].DER) != size {
				t.Errorf("transcript line %q does not match message %d of the report", m[0], seq)
			}
		}
		if !slices.Equal(got, wantPath) {
			t.Errorf("purchase %d: transcript lists\n%q\nwant\n%q", i+1, got, wantPath)
		}
		if !strings.Contains(sec, "shopping (out of band)") {
			t.Errorf("purchase %d: the out-of-band checkout is not shown", i+1)
		}
	}
	if want := 8*purchases + 8 + 6*cardholders; len(rep.Messages) != want {
		t.Errorf("%d messages reported, want %d", len(rep.Messages), want)
	}
	if !regexp.MustCompile(`(?m)^ok: suite ` + string(rep.Suite) + `, ` + fmt.Sprint(purchases) + ` purchase`).MatchString(r.transcript) {
		t.Errorf("no summary line:\n%s", r.transcript)
	}
}

func checkFiles(t *testing.T, r *run) {
	for _, f := range []string{"merchant/merchant.db", "merchant/log.json", "gateway/gateway.db", "gateway/log.json"} {
		if _, err := os.Stat(filepath.Join(r.data, f)); err != nil {
			t.Error(err)
		}
	}
	for name, raw := range r.rep.Certificates {
		if b, err := os.ReadFile(filepath.Join(r.out, "certs", name+".der")); err != nil || !bytes.Equal(b, raw) {
			t.Errorf("certificate %s: %v", name, err)
		}
	}
	if len(r.rep.Certificates) < 10 {
		t.Errorf("%d certificates exported, want CAs, gateway, merchant and cardholders", len(r.rep.Certificates))
	}
	// Numbers are zero-padded to the width of the largest: a day sends
	// more than 99 messages.
	width := max(2, len(fmt.Sprint(len(r.rep.Messages))))
	for _, m := range r.rep.Messages {
		p := filepath.Join(r.out, "messages", fmt.Sprintf("%0*d-%s-%s-%s.der", width, m.Seq, m.From, m.To, m.Type))
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, m.DER) {
			t.Errorf("message %d: %v", m.Seq, err)
		}
		// The initiation requests travel in the clear (SET signs none of
		// PInitReq, Me-AqCInitReq, CardCInitReq: they ask for the other
		// side's certificates and carry nothing secret); every other
		// message carries signed or sealed PKCS#7.
		cms, _ := filepath.Glob(filepath.Join(r.out, "cms", fmt.Sprintf("%0*d-%s-*.der", width, m.Seq, m.Type)))
		switch clear := m.Type == "PInitReq" || m.Type == "Me-AqCInitReq" || m.Type == "CardCInitReq"; {
		case clear && len(cms) != 0:
			t.Errorf("message %d (%s): %d CMS structures exported, want none", m.Seq, m.Type, len(cms))
		case !clear && len(cms) == 0:
			t.Errorf("message %d (%s): no CMS structure exported", m.Seq, m.Type)
		}
		// A CertRes is the CA's signed answer; to a cardholder it is
		// EncK, encrypted under the back key the wallet sent in its
		// CertReq (set1 EncryptedData, modern AuthEnvelopedData), since it
		// may carry account data back.
		if m.Type == "CertRes" && len(cms) > 0 {
			want := pkcs7.OIDSignedData
			if m.To == demo.Wallet {
				want = pkcs7.OIDAuthEnvelopedData
				if r.rep.Suite == suite.Set1 {
					want = pkcs7.OIDEncryptedData
				}
			}
			slices.Sort(cms)
			b, _ := os.ReadFile(cms[0])
			if oid, _ := asn1OID(want); !bytes.Equal(contentType(b), oid) {
				t.Errorf("message %d (CertRes to %s): outer structure is not %v", m.Seq, m.To, want)
			}
		}
		for _, f := range cms {
			b, _ := os.ReadFile(f)
			if !bytes.Contains(m.DER, b) {
				t.Errorf("%s is not part of message %d", f, m.Seq)
			}
		}
	}
}

// contentType is the content type OID's contents of a ContentInfo, nil if
// b is not one.
func contentType(b []byte) []byte {
	ci, err := der.Parse(b)
	if err != nil {
		return nil
	}
	kids, err := ci.Children()
	if err != nil || len(kids) != 2 || kids[0].Tag != der.TagOID {
		return nil
	}
	return kids[0].Contents
}

// TestContentInfos: the walk finds ContentInfos at any depth, including
// inside OCTET STRINGs and implicitly tagged primitives, in document
// order, and ignores SEQUENCEs led by other OIDs.
func TestContentInfos(t *testing.T) {
	ci := func(oid []byte, inner []byte) []byte {
		return der.Encode(der.TagSequence, append(der.Encode(der.TagOID, oid), der.Encode(der.Explicit(0), inner)...))
	}
	signed, _ := asn1OID(pkcs7.OIDSignedData)
	data, _ := asn1OID(pkcs7.OIDData)
	if hex.EncodeToString(signed) != "2a864886f70d010702" {
		t.Fatalf("test OID encoder gives %x", signed)
	}
	inner := ci(signed, der.Encode(der.TagSequence, nil))
	outer := ci(signed, der.Encode(der.TagSequence, der.Encode(der.TagOctetString, inner)))
	tagged := ci(signed, der.Encode(der.TagSequence, der.Encode(der.TagInteger, []byte{1})))
	implicit := der.Encode(der.Tag{Class: der.ClassContextSpecific, Number: 10}, tagged)
	notCMS := ci(data, der.Encode(der.TagSequence, nil))
	wrapper := der.Encode(der.TagSequence, slices.Concat(outer, notCMS, der.Encode(der.TagSequence, implicit)))
	got := demo.ContentInfos(wrapper)
	if len(got) != 3 || !bytes.Equal(got[0], outer) || !bytes.Equal(got[1], inner) || !bytes.Equal(got[2], tagged) {
		t.Errorf("ContentInfos found %d: %x", len(got), got)
	}
	if got := demo.ContentInfos([]byte{0x30, 0x80, 0x00}); got != nil {
		t.Errorf("ContentInfos of non-DER = %x", got)
	}
}

// FuzzContentInfos: the walk never panics and returns only pieces of its
// input, each a DER SEQUENCE led by an OBJECT IDENTIFIER.
func FuzzContentInfos(f *testing.F) {
	signed, _ := asn1OID(pkcs7.OIDSignedData)
	ci := der.Encode(der.TagSequence, append(der.Encode(der.TagOID, signed), der.Encode(der.Explicit(0), der.Encode(der.TagSequence, nil))...))
	f.Add(ci)
	f.Add(der.Encode(der.TagSequence, der.Encode(der.TagOctetString, ci)))
	f.Add([]byte{0x30, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, got := range demo.ContentInfos(b) {
			e, err := der.Parse(got)
			var kids []der.Element
			if err == nil {
				kids, err = e.Children()
			}
			if !bytes.Contains(b, got) || err != nil || e.Tag != der.TagSequence || len(kids) == 0 || kids[0].Tag != der.TagOID {
				t.Fatalf("ContentInfos(%x) returned %x", b, got)
			}
		}
	})
}

func asn1OID(oid []int) ([]byte, error) {
	// Base-128 encoding of an OID's arcs, independent of encoding/asn1.
	if len(oid) < 2 {
		return nil, fmt.Errorf("short OID")
	}
	arcs := append([]int{oid[0]*40 + oid[1]}, oid[2:]...)
	var out []byte
	for _, a := range arcs {
		var tmp []byte
		for {
			tmp = append([]byte{byte(a & 0x7f)}, tmp...)
			a >>= 7
			if a == 0 {
				break
			}
		}
		for i := range len(tmp) - 1 {
			tmp[i] |= 0x80
		}
		out = append(out, tmp...)
	}
	return out, nil
}

// --- openssl ---------------------------------------------------------------

func openssl(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writePEM(t *testing.T, path string, ders ...[]byte) {
	t.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// issuerOf names the CA that issued each exported end-entity certificate.
func issuerOf(name string) string {
	switch {
	case strings.HasPrefix(name, "cardholder-") && name != "cardholder-ca":
		return "cardholder-ca"
	case name == "merchant-signature", name == "merchant-exchange":
		return "merchant-ca"
	case name == "gateway-signature", name == "gateway-exchange":
		return "payment-ca"
	}
	return ""
}

func checkOpenSSL(t *testing.T, r *run) {
	testenv.OpenSSL(t)
	work := t.TempDir()
	certs := r.rep.Certificates

	// Every certificate parses.
	files, _ := filepath.Glob(filepath.Join(r.out, "certs", "*.der"))
	if len(files) != len(certs) {
		t.Fatalf("%d certificate files, %d certificates", len(files), len(certs))
	}
	for _, f := range files {
		if out, err := openssl(t, work, "x509", "-inform", "DER", "-noout", "-in", f); err != nil {
			t.Errorf("openssl x509 %s: %v\n%s", filepath.Base(f), err, out)
		}
	}

	// Every end-entity chain validates. The SET extensions are private
	// and critical, hence -ignore_critical; set1 signs with SHA-1, which
	// openssl accepts only at security level 0.
	root := filepath.Join(work, "root.pem")
	writePEM(t, root, certs["root-ca"])
	var level []string
	if r.rep.Suite == suite.Set1 {
		level = []string{"-auth_level", "0"}
	}
	leaves := 0
	for name, raw := range certs {
		ca := issuerOf(name)
		if ca == "" {
			continue
		}
		leaves++
		chain, leaf := filepath.Join(work, name+"-chain.pem"), filepath.Join(work, name+".pem")
		writePEM(t, chain, certs["brand-ca"], certs[ca])
		writePEM(t, leaf, raw)
		args := append([]string{"verify", "-ignore_critical", "-CAfile", root, "-untrusted", chain}, level...)
		if out, err := openssl(t, work, append(args, leaf)...); err != nil || !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify %s: %v\n%s", name, err, out)
		}
	}
	if leaves < 6 {
		t.Errorf("only %d end-entity certificates checked", leaves)
	}

	// Every CMS structure parses. One kind cannot be modelled by openssl's
	// CMS parser and is checked with asn1parse instead, recognised by its
	// structure so nothing else may fall back: set1's attached SignedData,
	// where PKCS#7 v1.5 carries non-data content as itself, not inside an
	// OCTET STRING as CMS does. Every modern envelope, the EncK to a
	// cardholder's back key included, is id-data with no authAttrs, which
	// openssl 3.0 would mis-decode (opensslCannotModel says why).
	files, _ = filepath.Glob(filepath.Join(r.out, "cms", "*.der"))
	if len(files) < 10*len(r.rep.Purchases) {
		t.Fatalf("only %d CMS files for %d purchases", len(files), len(r.rep.Purchases))
	}
	// A second purchase's messages leave out the certificates the
	// receiver cached from the first (Thumbs); openssl is given them as
	// the receiver holds them: the leaves to find the signer, and the CAs
	// — each chain checked against the root above — as anchors, since
	// openssl 3.0 builds chains from the message's certificates only.
	held, anchors := filepath.Join(work, "held.pem"), filepath.Join(work, "anchors.pem")
	var all, cas [][]byte
	for name, c := range certs {
		all = append(all, c)
		if strings.HasSuffix(name, "-ca") {
			cas = append(cas, c)
		}
	}
	writePEM(t, held, all...)
	writePEM(t, anchors, cas...)
	fallbacks, verified := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		kind := shape(t, b)
		if kind.authEnveloped && kind.authAttrs {
			// openssl 3.0 decodes authAttrs under [2] for [1] (openssl
			// issue 26101); setpay's envelopes are id-data and need none.
			t.Errorf("%s: AuthEnvelopedData with authAttrs", filepath.Base(f))
		}
		out, err := openssl(t, work, "cms", "-cmsout", "-inform", "DER", "-print", "-in", f)
		if err != nil {
			if !kind.opensslCannotModel(r.rep.Suite) {
				t.Errorf("openssl cms -print %s: %v\n%s", filepath.Base(f), err, out)
				continue
			}
			fallbacks++
			if out, err := openssl(t, work, "asn1parse", "-inform", "DER", "-in", f); err != nil {
				t.Errorf("openssl asn1parse %s: %v\n%s", filepath.Base(f), err, out)
			}
			continue
		}
		// Every modern SignedData with its content verifies. Detached ones
		// (the dual signature, PISignature) sign digests the file does not
		// hold, so they are skipped rather than reconstructed.
		if r.rep.Suite != suite.Modern || !kind.signed || !kind.hasContent {
			continue
		}
		if out, err := openssl(t, work, "cms", "-verify", "-inform", "DER", "-in", f, "-CAfile", anchors, "-certfile", held, "-ignore_critical", "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Errorf("openssl cms -verify %s: %v\n%s", filepath.Base(f), err, out)
			continue
		}
		verified++
		if verified == 1 {
			// The check is real: a changed signature is refused.
			bad := bytes.Clone(b)
			bad[len(bad)-3] ^= 0x01
			p := filepath.Join(work, "tampered.der")
			if err := os.WriteFile(p, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := openssl(t, work, "cms", "-verify", "-inform", "DER", "-in", p, "-CAfile", root, "-ignore_critical", "-purpose", "any", "-out", os.DevNull); err == nil {
				t.Errorf("openssl verified a tampered %s:\n%s", filepath.Base(f), out)
			}
		}
	}
	if r.rep.Suite == suite.Modern && fallbacks != 0 {
		t.Errorf("%d modern CMS files fell back to asn1parse; openssl must read every one", fallbacks)
	}
	if r.rep.Suite == suite.Modern && verified < 3*len(r.rep.Purchases) {
		// PInitRes, PRes and the gateway's result inside PRes, per purchase.
		t.Errorf("openssl verified %d SignedData, want at least %d", verified, 3*len(r.rep.Purchases))
	}
	t.Logf("%d CMS files: %d checked with asn1parse only, %d signatures verified by openssl", len(files), fallbacks, verified)
}

// cmsShape is what the openssl check needs to know of a ContentInfo.
type cmsShape struct {
	signed, authEnveloped bool
	hasContent            bool // SignedData: encapsulated content present
	contentInOctets       bool // SignedData: content inside an OCTET STRING (CMS)
	authAttrs             bool // AuthEnvelopedData: authAttrs present
}

func (s cmsShape) opensslCannotModel(id suite.ID) bool {
	// set1's attached SignedData: PKCS#7 v1.5 content openssl's CMS parser
	// cannot model.
	return id == suite.Set1 && s.signed && s.hasContent && !s.contentInOctets
}

func shape(t *testing.T, b []byte) cmsShape {
	t.Helper()
	var s cmsShape
	ci, err := der.Parse(b)
	if err != nil {
		t.Fatalf("exported CMS is not DER: %v", err)
	}
	kids, err := ci.Children()
	if err != nil || len(kids) != 2 {
		t.Fatalf("ContentInfo: %d elements, %v", len(kids), err)
	}
	oid, _ := asn1OID(pkcs7.OIDSignedData)
	s.signed = bytes.Equal(kids[0].Contents, oid)
	oid, _ = asn1OID(pkcs7.OIDAuthEnvelopedData)
	s.authEnveloped = bytes.Equal(kids[0].Contents, oid)
	wrapped, err := kids[1].Children()
	if err != nil || len(wrapped) != 1 {
		t.Fatalf("ContentInfo content: %v", err)
	}
	body, err := wrapped[0].Children()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case s.signed && len(body) >= 3:
		encap, err := body[2].Children()
		if err != nil {
			t.Fatal(err)
		}
		if len(encap) == 2 {
			s.hasContent = true
			if c, err := encap[1].Children(); err == nil && len(c) == 1 {
				s.contentInOctets = c[0].Tag == der.TagOctetString
			}
		}
	case s.authEnveloped:
		for _, e := range body {
			if e.Tag == (der.Tag{Class: der.ClassContextSpecific, Constructed: true, Number: 1}) {
				s.authAttrs = true
			}
		}
	}
	return s
}

// --- confidentiality -------------------------------------------------------

// blob is bytes with where they came from.
type blob struct {
	where string
	b     []byte
}

// filesUnder reads every file under dir: database, its -wal and -shm
// files if any, journal, log.
func filesUnder(t *testing.T, dir string) []blob {
	t.Helper()
	var out []blob
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out = append(out, blob{p, b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 2 {
		t.Fatalf("%s holds %d files, want the database and the log", dir, len(out))
	}
	return out
}

// database returns the SQLite files among a party's files: the database
// and its write-ahead log, if one is left.
func database(files []blob, party string) []blob {
	var out []blob
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f.where), party+".db") {
			out = append(out, f)
		}
	}
	return out
}

func inbox(rep *demo.Report, party string) []blob {
	var out []blob
	for _, m := range rep.Messages {
		if m.To == party {
			out = append(out, blob{fmt.Sprintf("message %d %s→%s %s", m.Seq, m.From, m.To, m.Type), m.DER})
		}
	}
	return out
}

// form is one encoding of a secret.
type form struct {
	name string
	b    []byte
}

func (f form) foundIn(blobs []blob) string {
	for _, b := range blobs {
		if bytes.Contains(b.b, f.b) {
			return b.where
		}
	}
	return ""
}

// textForms are the ways a string could be stored or sent unencrypted.
func textForms(s string) []form {
	u16 := utf16.Encode([]rune(s))
	be, le := make([]byte, 2*len(u16)), make([]byte, 2*len(u16))
	for i, c := range u16 {
		binary.BigEndian.PutUint16(be[2*i:], c)
		binary.LittleEndian.PutUint16(le[2*i:], c)
	}
	var be32, le32 []byte
	for _, r := range s {
		be32 = binary.BigEndian.AppendUint32(be32, uint32(r))
		le32 = binary.LittleEndian.AppendUint32(le32, uint32(r))
	}
	h := hex.EncodeToString([]byte(s))
	forms := []form{
		{"UTF-8", []byte(s)}, {"UTF-16BE", be}, {"UTF-16LE", le}, {"UTF-32BE", be32}, {"UTF-32LE", le32},
		{"hex", []byte(h)}, {"HEX", []byte(strings.ToUpper(h))},
		{"JSON \\u escapes", []byte(strings.Trim(strconv.QuoteToASCII(s), `"`))},
	}
	if latin1, ok := toLatin1(s); ok {
		forms = append(forms, form{"Latin-1", latin1})
	}
	// Base64 at each of the three alignments the text could start at
	// inside a longer encoded blob: only the characters wholly inside it.
	for k := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			e := enc.EncodeToString(append(make([]byte, k), s...))
			from, to := (8*k+5)/6, 8*(k+len(s))/6
			if to-from >= 12 {
				forms = append(forms, form{fmt.Sprintf("base64 at offset %d", k), []byte(e[from:to])})
			}
		}
	}
	return forms
}

func toLatin1(s string) ([]byte, bool) {
	var out []byte
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}

// panForms adds the encodings card systems use for digits: grouped
// text, packed BCD (padded either end, nibbles either way round), and the
// number as a big-endian binary integer.
func panForms(pan string) []form {
	forms := textForms(pan)
	var groups []string
	for i := 0; i < len(pan); i += 4 {
		groups = append(groups, pan[i:min(i+4, len(pan))])
	}
	forms = append(forms, form{"grouped with spaces", []byte(strings.Join(groups, " "))}, form{"grouped with dashes", []byte(strings.Join(groups, "-"))})
	for _, padded := range []string{pan, pan + "F", "0" + pan, "F" + pan} {
		if len(padded)%2 != 0 {
			continue
		}
		bcd, _ := hex.DecodeString(padded)
		swapped := make([]byte, len(bcd))
		for i, b := range bcd {
			swapped[i] = b<<4 | b>>4
		}
		forms = append(forms, form{"packed BCD " + padded[:1] + "…" + padded[len(padded)-1:], bcd}, form{"swapped BCD", swapped})
	}
	if n, ok := new(big.Int).SetString(pan, 10); ok {
		forms = append(forms, form{"binary integer", n.Bytes()})
	}
	return forms
}

// checkConfidentiality is the acceptance point: on a real run,
// the PAN of every card is nowhere in the merchant's database files, its
// log, or any byte it received; no order description is anywhere in the
// gateway's files or in any byte it received. Positive controls show the
// scans read the right bytes.
func checkConfidentiality(t *testing.T, r *run) {
	rep := r.rep
	if rep.MerchantDir != filepath.Join(r.data, "merchant") || rep.GatewayDir != filepath.Join(r.data, "gateway") {
		t.Fatalf("party folders %s, %s not under %s", rep.MerchantDir, rep.GatewayDir, r.data)
	}
	merchantFiles, gatewayFiles := filesUnder(t, rep.MerchantDir), filesUnder(t, rep.GatewayDir)
	merchantInbox, gatewayInbox := inbox(rep, demo.Merchant), inbox(rep, demo.Gateway)
	// At registration the merchant receives Me-AqCInitRes and CertRes from
	// its CA, and so does the gateway from its CA. Then per purchase the
	// merchant receives PInitReq and PReq from the wallet, AuthRes and
	// CapRes from the gateway; the gateway AuthReq and CapReq.
	if len(merchantInbox) != 2+4*len(rep.Purchases) || len(gatewayInbox) != 2+2*len(rep.Purchases) {
		t.Fatalf("inboxes: merchant %d, gateway %d messages", len(merchantInbox), len(gatewayInbox))
	}
	if len(rep.PANs) < 2 {
		t.Fatalf("%d cards; the test wants more than one", len(rep.PANs))
	}
	merchantAll := slices.Concat(merchantFiles, merchantInbox)
	gatewayAll := slices.Concat(gatewayFiles, gatewayInbox)

	// (a) No PAN at the merchant.
	for _, pan := range rep.PANs {
		for _, f := range panForms(pan) {
			if len(f.b) < 6 {
				t.Fatalf("form %s of a PAN is only %d bytes: a meaningless search", f.name, len(f.b))
			}
			if where := f.foundIn(merchantAll); where != "" {
				t.Errorf("card %s…%s found at the merchant as %s in %s", pan[:6], pan[len(pan)-4:], f.name, where)
			}
		}
	}
	// (b) No order description at the gateway, whole or its item text.
	for _, p := range rep.Purchases {
		item := p.Description[strings.Index(p.Description, ": ")+2:]
		for _, s := range []string{p.Description, item} {
			for _, f := range textForms(s) {
				if where := f.foundIn(gatewayAll); where != "" {
					t.Errorf("description of order %d found at the gateway as %s in %s", p.Number, f.name, where)
				}
			}
		}
	}

	// (b2) No PAN in any certificate authority's files, nor anywhere on
	// the wire in the clear: the cardholder CA reads the PAN inside the
	// CertReq's envelope but keeps none of it.
	if rep.CCADir != filepath.Join(r.data, demo.CCA) || rep.MCADir != filepath.Join(r.data, demo.MCA) || rep.PCADir != filepath.Join(r.data, demo.PCA) {
		t.Fatalf("CA folders %s, %s, %s not under %s", rep.CCADir, rep.MCADir, rep.PCADir, r.data)
	}
	ccaFiles := filesUnder(t, rep.CCADir)
	caFiles := slices.Concat(ccaFiles, filesUnder(t, rep.MCADir), filesUnder(t, rep.PCADir))
	var wire []blob
	for _, m := range rep.Messages {
		wire = append(wire, blob{fmt.Sprintf("message %d %s→%s %s", m.Seq, m.From, m.To, m.Type), m.DER})
	}
	for _, pan := range rep.PANs {
		for _, f := range panForms(pan) {
			if where := f.foundIn(caFiles); where != "" {
				t.Errorf("card %s…%s found at a CA as %s in %s", pan[:6], pan[len(pan)-4:], f.name, where)
			}
			if where := f.foundIn(wire); where != "" {
				t.Errorf("card %s…%s sent in the clear as %s in %s", pan[:6], pan[len(pan)-4:], f.name, where)
			}
		}
	}
	// Control: the cardholder CA's log records each certificate it
	// issued, by serial, so the scan read the CA's files.
	for i := range rep.PANs {
		cert, err := x509.ParseCertificate(rep.Certificates[fmt.Sprintf("cardholder-%d", i+1)])
		if err != nil {
			t.Fatalf("cardholder %d's certificate: %v", i+1, err)
		}
		if (form{"serial", []byte(`"serial":` + cert.SerialNumber.String())}).foundIn(ccaFiles) == "" {
			t.Errorf("control: cardholder %d's certificate serial not found in the cardholder CA's files", i+1)
		}
	}

	// (c) No order description at the bank (the issuer host): its files
	// and every ISO 8583 message it received.
	if rep.BankDir != filepath.Join(r.data, "bank") {
		t.Fatalf("bank folder %s not under %s", rep.BankDir, r.data)
	}
	bankFiles := filesUnder(t, rep.BankDir)
	var bankInbox []blob
	for _, m := range rep.BankMessages {
		if m.To == demo.Bank {
			bankInbox = append(bankInbox, blob{fmt.Sprintf("ISO 8583 message %d %s", m.Seq, m.MTI), m.Frame})
		}
	}
	// An authorization (0100) and a completion advice (0220) per purchase.
	if len(bankInbox) < 2*len(rep.Purchases) {
		t.Fatalf("bank inbox: %d messages for %d purchases", len(bankInbox), len(rep.Purchases))
	}
	bankAll := slices.Concat(bankFiles, bankInbox)
	for _, p := range rep.Purchases {
		item := p.Description[strings.Index(p.Description, ": ")+2:]
		for _, s := range []string{p.Description, item} {
			for _, f := range textForms(s) {
				if where := f.foundIn(bankAll); where != "" {
					t.Errorf("description of order %d found at the bank as %s in %s", p.Number, f.name, where)
				}
			}
		}
	}
	// Control: the issuer holds the card numbers, in its books and in the
	// 0100s it received, so the bank scans read the right bytes.
	for _, pan := range rep.PANs {
		if f := textForms(pan)[0]; f.foundIn(database(bankFiles, "bank")) == "" || f.foundIn(bankInbox) == "" {
			t.Errorf("control: card %s…%s not found in both the bank's database and its inbox", pan[:6], pan[len(pan)-4:])
		}
	}

	// Positive controls: the same scans find what each party must hold.
	for _, p := range rep.Purchases {
		if f := textForms(p.Description)[0]; f.foundIn(database(merchantFiles, "merchant")) == "" {
			t.Errorf("control: order %d's description not found in the merchant's database", p.Number)
		}
		masked, _ := store.MaskPAN(rep.PANs[p.Cardholder-1])
		if f := textForms(masked)[0]; f.foundIn(database(gatewayFiles, "gateway")) == "" {
			t.Errorf("control: masked card %s not found in the gateway's database", masked)
		}
	}
	for i := range rep.PANs {
		cert := rep.Certificates[fmt.Sprintf("cardholder-%d", i+1)]
		// The cardholder's certificate travels in clear in the PReq and,
		// passed on unopened, in the AuthReq: the inbox scans see it.
		if (form{"DER", cert}).foundIn(merchantInbox) == "" || (form{"DER", cert}).foundIn(gatewayInbox) == "" {
			t.Errorf("control: cardholder %d's certificate not found in both inboxes", i+1)
		}
		// The BIN (first six digits) is in the PInitReq in clear, so the
		// merchant's inbox scan would see digits of the PAN if they were there.
		if (form{"BIN", []byte(rep.PANs[i][:6])}).foundIn(merchantInbox) == "" {
			t.Errorf("control: cardholder %d's BIN not found in the merchant's inbox", i+1)
		}
	}
}
