package msg

import (
	"testing"

	"github.com/setpay/setpay/internal/der"
)

func installRecurCodecs(t testing.TB) []codec {
	inst := InstallRecurData{InstallTotalTrans: 3}
	rec := InstallRecurData{Recurring: &Recurring{RecurringFrequency: 30, RecurringExpiry: testTime}}
	ext := InstallRecurData{InstallTotalTrans: 12, IRExtensions: MsgExtensions{{ID: []int{1, 2, 3}, Value: []byte{0x05, 0x00}}}}
	return []codec{
		{"InstallRecurData/instalments", "install_recur_instalments.der", &inst, decoder(UnmarshalInstallRecurData)},
		{"InstallRecurData/recurring", "install_recur_recurring.der", &rec, decoder(UnmarshalInstallRecurData)},
		{"InstallRecurData/extensions", "", &ext, decoder(UnmarshalInstallRecurData)},
	}
}

func TestInstallRecurRoundTrip(t *testing.T) { runRoundTrips(t, installRecurCodecs(t)) }
func TestInstallRecurGolden(t *testing.T)    { runGolden(t, installRecurCodecs(t)) }
func TestInstallRecurMutations(t *testing.T) { runMutations(t, installRecurCodecs(t)) }

func TestInstallRecurMarshalRejects(t *testing.T) {
	runMarshalRejects(t, []marshalReject{
		{"neither", &InstallRecurData{}, "installRecurInd"},
		{"both", &InstallRecurData{InstallTotalTrans: 2, Recurring: &Recurring{RecurringFrequency: 1, RecurringExpiry: testTime}}, "installRecurInd"},
		{"one instalment", &InstallRecurData{InstallTotalTrans: 1}, "installTotalTrans"},
		{"too many instalments", &InstallRecurData{InstallTotalTrans: MaxInstallTotalTrans + 1}, "installTotalTrans"},
		{"frequency zero", &InstallRecurData{Recurring: &Recurring{RecurringExpiry: testTime}}, "recurringFrequency"},
		{"frequency too long", &InstallRecurData{Recurring: &Recurring{RecurringFrequency: MaxRecurringFrequency + 1, RecurringExpiry: testTime}}, "recurringFrequency"},
		{"no expiry", &InstallRecurData{Recurring: &Recurring{RecurringFrequency: 7}}, "recurringExpiry"},
	})
}

func TestInstallRecurUnmarshalRejects(t *testing.T) {
	dec := func(b []byte) error { _, err := UnmarshalInstallRecurData(b); return err }
	date := der.Encode(der.TagGeneralizedTime, []byte("20261125131415Z"))
	seq := func(parts ...[]byte) []byte {
		var c []byte
		for _, p := range parts {
			c = append(c, p...)
		}
		return der.Encode(der.TagSequence, c)
	}
	recurring := func(freq byte, rest ...[]byte) []byte {
		c := append(der.Encode(der.TagInteger, []byte{freq}), date...)
		for _, p := range rest {
			c = append(c, p...)
		}
		return der.Encode(der.Explicit(1), c)
	}
	tests := nonDERRejects(t, installRecurCodecs(t))
	tests = append(tests,
		unmarshalReject{"empty", seq(), dec},
		unmarshalReject{"instalments 1", seq(der.Encode(der.Implicit(0), []byte{1})), dec},
		unmarshalReject{"instalments negative", seq(der.Encode(der.Implicit(0), []byte{0xfe})), dec},
		unmarshalReject{"instalments non-minimal", seq(der.Encode(der.Implicit(0), []byte{0x00, 0x03})), dec},
		unmarshalReject{"instalments constructed", seq(der.Encode(der.Explicit(0), der.Encode(der.TagInteger, []byte{3}))), dec},
		unmarshalReject{"both alternatives", seq(der.Encode(der.Implicit(0), []byte{3}), recurring(30)), dec},
		unmarshalReject{"frequency 0", seq(recurring(0)), dec},
		unmarshalReject{"recurring trailing", seq(recurring(30, []byte{0x05, 0x00})), dec},
		unmarshalReject{"recurring without expiry", seq(der.Encode(der.Explicit(1), der.Encode(der.TagInteger, []byte{30}))), dec},
		unmarshalReject{"recurring primitive", seq(der.Encode(der.Implicit(1), []byte{30})), dec},
		unmarshalReject{"trailing component", seq(der.Encode(der.Implicit(0), []byte{3}), der.Encode(der.TagNull, nil)), dec},
		unmarshalReject{"empty extensions", seq(der.Encode(der.Implicit(0), []byte{3}), der.Encode(der.Explicit(2), nil)), dec},
		unmarshalReject{"truncated", mustMarshal(t, &InstallRecurData{InstallTotalTrans: 3})[:4], dec},
	)
	runUnmarshalRejects(t, tests)
}

func TestParseInstallRecurData(t *testing.T) {
	if v, err := ParseInstallRecurData(nil); v != nil || err != nil {
		t.Errorf("absent field: got %v, %v", v, err)
	}
	if _, err := ParseInstallRecurData([]byte("recur")); err == nil {
		t.Error("opaque garbage accepted")
	}
	enc := mustMarshal(t, &InstallRecurData{Recurring: &Recurring{RecurringFrequency: 30, RecurringExpiry: testTime}})
	v, err := ParseInstallRecurData(enc)
	if err != nil || v.Recurring == nil || v.Frequency().Hours() != 30*24 || !v.Recurring.RecurringExpiry.Equal(testTime) {
		t.Errorf("got %+v, %v", v, err)
	}
}

func FuzzUnmarshalInstallRecurData(f *testing.F) {
	fuzzFamily(f, installRecurCodecs(f), "InstallRecurData/")
	fuzzSeeds(f, "install_recur_instalments.der", "install_recur_recurring.der")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrict(t, b, UnmarshalInstallRecurData) })
}
