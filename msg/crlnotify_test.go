package msg

import (
	"testing"

	"github.com/setpay/setpay/internal/pkcs7"
)

func crlNotifyCodecs(t testing.TB) []codec {
	min := Thumbs{DigestAlgorithm: pkcs7.AlgorithmIdentifier{Algorithm: pkcs7.OIDSHA256}}
	return []codec{
		{"CRLNotification", "crlnotify.der", &CRLNotification{SignedData: testCI(t, pkcs7.OIDSignedData, 0x50)}, decoder(UnmarshalCRLNotification)},
		{"CRLNotificationTBS/full", "crlnotify_tbs.der", &CRLNotificationTBS{Date: testTime, Thumbs: *testThumbs(), BrandCRLIdentifier: bciDER()}, decoder(UnmarshalCRLNotificationTBS)},
		{"CRLNotificationTBS/minimal", "crlnotify_tbs_min.der", &CRLNotificationTBS{Date: testTime, Thumbs: min}, decoder(UnmarshalCRLNotificationTBS)},
		{"CRLNotificationRes", "crlnotify_res.der", &CRLNotificationRes{SignedData: testCI(t, pkcs7.OIDSignedData, 0x51)}, decoder(UnmarshalCRLNotificationRes)},
		{"CRLNotificationResTBS", "crlnotify_res_tbs.der", &CRLNotificationResTBS{Date: testTime, Thumbs: *testThumbs()}, decoder(UnmarshalCRLNotificationResTBS)},
	}
}

func TestCRLNotificationRoundTrip(t *testing.T) { runRoundTrips(t, crlNotifyCodecs(t)) }
func TestCRLNotificationGolden(t *testing.T)    { runGolden(t, crlNotifyCodecs(t)) }
func TestCRLNotificationMutations(t *testing.T) { runMutations(t, crlNotifyCodecs(t)) }

func TestCRLNotificationRejects(t *testing.T) {
	good := mustMarshal(t, &CRLNotificationTBS{Date: testTime, Thumbs: *testThumbs(), BrandCRLIdentifier: bciDER()})
	for name, b := range map[string][]byte{
		"empty":              nil,
		"non-minimal length": nonMinimalLength(t, good),
		"no thumbs":          mustMarshal(t, &CRLNotificationResTBS{Date: testTime, Thumbs: *testThumbs()})[:0],
		"wrong outer tag":    append([]byte{0x31}, good[1:]...),
	} {
		if _, err := UnmarshalCRLNotificationTBS(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	// Thumbs without a digest algorithm cannot be encoded.
	if _, err := (&CRLNotificationResTBS{Date: testTime}).Marshal(); err == nil {
		t.Error("CRLNotificationResTBS without thumbs encoded")
	}
	// A CRLNotificationTBS with a trailing field after the BCI.
	tbs := &CRLNotificationTBS{Date: testTime, Thumbs: *testThumbs()}
	res := mustMarshal(t, &CRLNotificationResTBS{Date: testTime, Thumbs: *testThumbs()})
	if _, err := UnmarshalCRLNotificationTBS(append(mustMarshal(t, tbs), 0)); err == nil {
		t.Error("trailing byte decoded")
	}
	if _, err := UnmarshalCRLNotificationResTBS(res); err != nil {
		t.Errorf("CRLNotificationResTBS: %v", err)
	}
}

func FuzzUnmarshalCRLNotification(f *testing.F) {
	fuzzCert(f, UnmarshalCRLNotification, &CRLNotification{SignedData: testCI(f, pkcs7.OIDSignedData, 1)}, "crlnotify.der")
}
func FuzzUnmarshalCRLNotificationTBS(f *testing.F) {
	fuzzCert(f, UnmarshalCRLNotificationTBS, &CRLNotificationTBS{Date: testTime, Thumbs: *testThumbs(), BrandCRLIdentifier: bciDER()}, "crlnotify_tbs.der", "crlnotify_tbs_min.der")
}
func FuzzUnmarshalCRLNotificationRes(f *testing.F) {
	fuzzCert(f, UnmarshalCRLNotificationRes, &CRLNotificationRes{SignedData: testCI(f, pkcs7.OIDSignedData, 1)}, "crlnotify_res.der")
}
func FuzzUnmarshalCRLNotificationResTBS(f *testing.F) {
	fuzzCert(f, UnmarshalCRLNotificationResTBS, &CRLNotificationResTBS{Date: testTime, Thumbs: *testThumbs()}, "crlnotify_res_tbs.der")
}
