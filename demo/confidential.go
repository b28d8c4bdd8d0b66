package demo

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wallet"
)

// checkConfidentiality checks SET's split of knowledge on what the run
// left behind: no card number or bank account in the clear in anything the merchant
// stored, logged or received, and no order description in anything the
// gateway stored, logged or received. The demo's test checks the same
// with more encodings and positive controls; this check runs on every
// demo so that a user sees it hold on their machine.
func checkConfidentiality(rep *Report) error {
	merchant, err := partyBytes(rep, rep.MerchantDir, Merchant)
	if err != nil {
		return err
	}
	for _, pan := range rep.PANs {
		for _, f := range clearForms(pan, true) {
			if where := find(merchant, f.b); where != "" {
				return fmt.Errorf("demo: the merchant's %s holds card %s in the clear (%s)", where, wallet.MaskPAN(pan), f.name)
			}
		}
	}
	for _, iban := range rep.Accounts {
		for _, f := range accountForms(iban) {
			if where := find(merchant, f.b); where != "" {
				return fmt.Errorf("demo: the merchant's %s holds bank account %s in the clear (%s)", where, msg.MaskAccount(iban), f.name)
			}
		}
	}
	// The cardholder CA opens the PAN inside the registration envelope but
	// keeps only a MAC of it; no CA's files may hold the PAN in any form.
	for _, ca := range []struct{ dir, name string }{{rep.CCADir, CCA}, {rep.MCADir, MCA}, {rep.PCADir, PCA}} {
		files, err := partyBytes(rep, ca.dir, ca.name)
		if err != nil {
			return err
		}
		for _, pan := range rep.PANs {
			for _, f := range clearForms(pan, true) {
				if where := find(files, f.b); where != "" {
					return fmt.Errorf("demo: the %s's %s holds card %s in the clear (%s)", ca.name, where, wallet.MaskPAN(pan), f.name)
				}
			}
		}
		for _, iban := range rep.Accounts {
			for _, f := range accountForms(iban) {
				if where := find(files, f.b); where != "" {
					return fmt.Errorf("demo: the %s's %s holds bank account %s in the clear (%s)", ca.name, where, msg.MaskAccount(iban), f.name)
				}
			}
		}
	}
	gateway, err := partyBytes(rep, rep.GatewayDir, Gateway)
	if err != nil {
		return err
	}
	// The bank is the issuer: it holds card numbers, but what was bought
	// never reaches it.
	var bank []named
	if rep.BankDir != "" {
		if bank, err = partyBytes(rep, rep.BankDir, Bank); err != nil {
			return err
		}
	}
	for _, m := range rep.BankMessages {
		if m.To == Bank {
			bank = append(bank, named{fmt.Sprintf("received ISO 8583 message #%d (%s)", m.Seq, m.MTI), m.Frame})
		}
	}
	for _, p := range rep.Purchases {
		for _, f := range clearForms(p.Description, false) {
			if where := find(gateway, f.b); where != "" {
				return fmt.Errorf("demo: the gateway's %s holds the description of order %d (%s)", where, p.Number, f.name)
			}
			if where := find(bank, f.b); where != "" {
				return fmt.Errorf("demo: the bank's %s holds the description of order %d (%s)", where, p.Number, f.name)
			}
		}
	}
	return nil
}

// named is a blob with a name saying where it came from.
type named struct {
	name string
	b    []byte
}

// partyBytes returns every file under dir (database, write-ahead log,
// log) and every message the party received.
func partyBytes(rep *Report, dir, party string) ([]named, error) {
	var out []named
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, named{"file " + rel, b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo: reading the %s's files: %w", party, err)
	}
	for _, m := range rep.Messages {
		if m.To == party {
			out = append(out, named{fmt.Sprintf("received message #%d (%s)", m.Seq, m.Type), m.DER})
		}
	}
	return out, nil
}

func find(blobs []named, needle []byte) string {
	for _, b := range blobs {
		if bytes.Contains(b.b, needle) {
			return b.name
		}
	}
	return ""
}

// clearForms returns the encodings in which s could sit unencrypted in a
// database, a log or a DER message: UTF-8, UTF-16 both ways, hex text of
// the UTF-8; for a card number also packed BCD.
func clearForms(s string, digits bool) []named {
	u16 := utf16.Encode([]rune(s))
	be, le := make([]byte, 2*len(u16)), make([]byte, 2*len(u16))
	for i, c := range u16 {
		binary.BigEndian.PutUint16(be[2*i:], c)
		binary.LittleEndian.PutUint16(le[2*i:], c)
	}
	h := hex.EncodeToString([]byte(s))
	forms := []named{
		{"UTF-8", []byte(s)},
		{"UTF-16BE", be},
		{"UTF-16LE", le},
		{"hex", []byte(h)},
		{"HEX", []byte(strings.ToUpper(h))},
	}
	if digits {
		if bcd, ok := packedBCD(s); ok {
			forms = append(forms, named{"packed BCD", bcd})
		}
	}
	return forms
}

// packedBCD packs decimal digits two to a byte; an odd count is padded
// with a trailing F nibble, as ISO 8583 and EMV do.
func packedBCD(s string) ([]byte, bool) {
	if len(s)%2 == 1 {
		s += "F"
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}
