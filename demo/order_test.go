package demo

import (
	"testing"
	"time"

	"github.com/setpay/setpay/transport"
)

// TestOrderMessages: nested exchanges, reported innermost first as the
// taps do, come out in wire order, ties included; an exchange with no SET
// response contributes only its request.
func TestOrderMessages(t *testing.T) {
	t0 := time.Now()
	ex := []transport.Exchange{
		// PInitReq/PInitRes ends exactly when PReq starts.
		{From: "w", To: "m1", Start: t0.Add(-3), Duration: 3, Status: 200, Response: []byte{1}},
		// AuthReq starts at the same instant as the PReq that causes it
		// and is observed before it.
		{From: "m", To: "g", Start: t0, Duration: 5, Status: 200, Response: []byte{1}},
		{From: "w", To: "m2", Start: t0, Duration: 10, Status: 200, Response: []byte{1}},
		// A refused request: no response message.
		{From: "w", To: "m3", Start: t0.Add(11), Duration: 1, Status: 415, Response: []byte("Unsupported Media Type")},
	}
	var got []string
	for _, m := range orderMessages(ex) {
		got = append(got, m.From+">"+m.To)
	}
	want := []string{"w>m1", "m1>w", "w>m2", "m>g", "g>m", "m2>w", "w>m3"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
