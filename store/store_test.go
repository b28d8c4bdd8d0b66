package store

import (
	"strings"
	"testing"
)

func TestMaskPAN(t *testing.T) {
	tests := []struct {
		pan, want string
		ok        bool
	}{
		{"4111111111111111", "411111…1111", true},
		{"411111111111", "411111…1111", true},        // 12 digits
		{"4111111111111111234", "411111…1234", true}, // 19 digits
		{"41111111111", "", false},                   // 11
		{"41111111111111112345", "", false},          // 20
		{"4111 1111 1111 1111", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := MaskPAN(tt.pan)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("MaskPAN(%q) = %q, %v; want %q, ok=%v", tt.pan, got, err, tt.want, tt.ok)
		}
		if err == nil {
			if err := CheckMasked(got); err != nil {
				t.Errorf("CheckMasked(MaskPAN(%q)) = %v", tt.pan, err)
			}
		}
	}
}

func TestCheckMasked(t *testing.T) {
	for _, s := range []string{"", "411111…1111", "****1111", "0123456789"} {
		if err := CheckMasked(s); err != nil {
			t.Errorf("CheckMasked(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"4111111111111111", "411111 1111 1", strings.Repeat("9", 11)} {
		if err := CheckMasked(s); err == nil {
			t.Errorf("CheckMasked(%q) = nil, want error", s)
		}
	}
}

func TestOrderStateValid(t *testing.T) {
	for _, s := range []OrderState{StateInitiated, StatePurchaseRequested, StateAuthorized, StateDeclined, StateCaptured, StateFailed} {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
	}
	for _, s := range []OrderState{"", "Authorized", "paid"} {
		if s.Valid() {
			t.Errorf("%q valid", s)
		}
	}
}

func TestXIDString(t *testing.T) {
	var x XID
	x[0], x[19] = 0xab, 0x01
	if got, want := x.String(), "ab"+strings.Repeat("00", 18)+"01"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
