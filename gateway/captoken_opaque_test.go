package gateway

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/setpay/setpay/msg"
)

func TestCapTokenOpaque(t *testing.T) {
	var xid msg.XID
	if _, err := rand.Read(xid[:]); err != nil {
		t.Fatal(err)
	}
	gotXID, gotMer, err := parseCapTokenOpaque(capTokenOpaque(xid, "MER-0001"))
	if err != nil || gotXID != xid || gotMer != "MER-0001" {
		t.Fatalf("round trip = %x, %q, %v", gotXID, gotMer, err)
	}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"XID only":       xid[:],
		"short":          xid[:10],
		"over-long":      append(xid[:], strings.Repeat("m", maxMerchantIDLen+1)...),
		"control char":   append(xid[:], "MER\n1"...),
		"non-ASCII char": append(xid[:], "MÉR"...),
	} {
		if _, _, err := parseCapTokenOpaque(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzCapTokenOpaque(f *testing.F) {
	var xid msg.XID
	f.Add(capTokenOpaque(xid, "MER-0001"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, mer, err := parseCapTokenOpaque(b)
		if err != nil {
			return
		}
		if !bytes.Equal(capTokenOpaque(x, mer), b) {
			t.Fatalf("%x does not re-encode to itself", b)
		}
	})
}
