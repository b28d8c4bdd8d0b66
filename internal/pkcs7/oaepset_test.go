package pkcs7

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"errors"
	"testing"
)

func envOAEPBlocks() []setOAEPBlock {
	h := sha1.Sum([]byte("content"))
	return []setOAEPBlock{
		{bc: BlockE, key: bytes.Repeat([]byte{0x11}, 8)},
		{bc: BlockEH, key: bytes.Repeat([]byte{0x22}, 24), hash: h[:]},
		{bc: BlockEX, key: bytes.Repeat([]byte{0x33}, 8), extra: []byte{0x04, 0x02, 0xAB, 0x00}},
		// Trailing zero bytes in the extra data survive: the 0x01
		// terminator, not the zeros, ends ADB.
		{bc: BlockEXH, key: bytes.Repeat([]byte{0x00}, 24), hash: h[:], extra: []byte{0x30, 0x01, 0x00}},
	}
}

func TestSETOAEPEncodeDecode(t *testing.T) {
	for _, k := range []int{128, 256} {
		for _, blk := range envOAEPBlocks() {
			em, err := setOAEPEncode(rand.Reader, k, blk)
			if err != nil {
				t.Fatal(err)
			}
			if len(em) != k || em[0] != 0 || em[1] == 0 || em[1] == 0x80 {
				t.Fatalf("bad framing: len %d, %X %X", len(em), em[0], em[1])
			}
			got, err := setOAEPDecode(em, len(blk.key))
			if err != nil {
				t.Fatalf("k=%d bc=%d: %v", k, blk.bc, err)
			}
			if got.bc != blk.bc || !bytes.Equal(got.key, blk.key) || !bytes.Equal(got.hash, blk.hash) || !bytes.Equal(got.extra, blk.extra) {
				t.Fatalf("k=%d bc=%d: round trip mismatch: %+v", k, blk.bc, got)
			}
			// The wrong key length makes the block inconsistent.
			if _, err := setOAEPDecode(em, len(blk.key)+8); err == nil && !blk.bc.hasExtra() {
				t.Fatalf("k=%d bc=%d: decoded with the wrong key length", k, blk.bc)
			}
		}
	}
}

// Every byte of an encoded block matters: a flip anywhere must fail (the
// masks spread a flip in A or B over the whole of DB), and always with the
// same error.
func TestSETOAEPDecodeRejectsFlips(t *testing.T) {
	for _, blk := range envOAEPBlocks() {
		em, err := setOAEPEncode(rand.Reader, 128, blk)
		if err != nil {
			t.Fatal(err)
		}
		for i := range em {
			bad := bytes.Clone(em)
			bad[i] ^= 0x80
			if i == 1 && bad[1] != 0 && bad[1] != 0x80 {
				continue // I is random: any other allowed value is fine
			}
			if _, err := setOAEPDecode(bad, len(blk.key)); !errors.Is(err, ErrDecryption) {
				t.Fatalf("bc=%d flip at %d: err = %v", blk.bc, i, err)
			}
		}
	}
}

func TestSETOAEPDecodeRejectsBadHeader(t *testing.T) {
	// Build DB by hand with one header byte wrong, mask it properly, and
	// check each is refused.
	k, keyLen := 128, 8
	for _, tc := range []struct {
		name string
		edit func(db []byte)
	}{
		{"BT", func(db []byte) { db[0] = 0x02 }},
		{"BC", func(db []byte) { db[1] = 0x04 }},
		{"V", func(db []byte) { db[5] = 0x01 }},
		{"no terminator", func(db []byte) { db[setOAEPHeaderLen+keyLen] = 0 }},
		{"terminator 0x02", func(db []byte) { db[setOAEPHeaderLen+keyLen] = 0x02 }},
		{"E with extra", func(db []byte) { db[setOAEPHeaderLen+keyLen] = 0x55; db[setOAEPHeaderLen+keyLen+1] = 0x01 }},
		{"EX without extra", func(db []byte) { db[1] = byte(BlockEX) }},
		{"EH too short", func(db []byte) { db[1] = byte(BlockEH) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			em := make([]byte, k)
			em[1] = 0x42
			db := em[2 : k-setOAEPSaltLen]
			db[0] = setOAEPBlockType
			copy(db[setOAEPHeaderLen:], bytes.Repeat([]byte{0x77}, keyLen))
			db[setOAEPHeaderLen+keyLen] = 0x01
			// Sanity: unedited it decodes.
			good := envMask(bytes.Clone(em))
			if _, err := setOAEPDecode(good, keyLen); err != nil {
				t.Fatalf("control failed: %v", err)
			}
			tc.edit(db)
			if _, err := setOAEPDecode(envMask(em), keyLen); !errors.Is(err, ErrDecryption) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	em, _ := setOAEPEncode(rand.Reader, k, setOAEPBlock{bc: BlockE, key: make([]byte, keyLen)})
	for _, first := range []byte{0x00, 0x80} {
		bad := bytes.Clone(em)
		bad[1] = first
		if _, err := setOAEPDecode(bad, keyLen); !errors.Is(err, ErrDecryption) {
			t.Errorf("I = %#x accepted", first)
		}
	}
}

// envMask applies the SET OAEP masking to an EM whose A holds a clear DB,
// with a fixed salt.
func envMask(em []byte) []byte {
	k := len(em)
	a, b := em[2:k-setOAEPSaltLen], em[k-setOAEPSaltLen:]
	for i := range b {
		b[i] = byte(i)
	}
	setOAEPMaskXOR(a, b)
	setOAEPMaskXOR(b, a)
	return em
}

func TestSETOAEPCapacity(t *testing.T) {
	h := sha1.Sum(nil)
	// 1024-bit RSA, 3DES, EXH: 128 − 28 − 24 − 20 = 56 bytes of extra data.
	max := 128 - setOAEPOverhead - 24 - 20
	if max != 56 {
		t.Fatalf("capacity = %d, want 56", max)
	}
	ok := setOAEPBlock{bc: BlockEXH, key: make([]byte, 24), hash: h[:], extra: make([]byte, max)}
	if _, err := setOAEPEncode(rand.Reader, 128, ok); err != nil {
		t.Fatalf("%d bytes of extra should fit: %v", max, err)
	}
	ok.extra = make([]byte, max+1)
	if _, err := setOAEPEncode(rand.Reader, 128, ok); !errors.Is(err, ErrExtraTooLong) {
		t.Fatalf("err = %v, want ErrExtraTooLong", err)
	}
}

func TestSETOAEPEncodeRejectsInconsistentBlock(t *testing.T) {
	h := sha1.Sum(nil)
	for _, blk := range []setOAEPBlock{
		{bc: BlockEH, key: make([]byte, 8)},
		{bc: BlockE, key: make([]byte, 8), hash: h[:]},
		{bc: BlockEX, key: make([]byte, 8)},
		{bc: BlockE, key: make([]byte, 8), extra: []byte{1}},
		{bc: 7, key: make([]byte, 8)},
	} {
		if _, err := setOAEPEncode(rand.Reader, 128, blk); err == nil {
			t.Errorf("accepted %+v", blk)
		}
	}
}

func FuzzOAEPSETDecode(f *testing.F) {
	for _, blk := range envOAEPBlocks() {
		em, err := setOAEPEncode(rand.Reader, 128, blk)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(em, len(blk.key))
	}
	f.Add(make([]byte, 128), int(^uint(0)>>1)) // key length near MaxInt must not overflow
	f.Fuzz(func(t *testing.T, em []byte, keyLen int) {
		blk, err := setOAEPDecode(em, keyLen)
		if err != nil {
			if !errors.Is(err, ErrDecryption) {
				t.Fatalf("non-generic error %v", err)
			}
			return
		}
		if len(blk.key) != keyLen || blk.bc > BlockEXH ||
			blk.bc.hasHash() != (len(blk.hash) == setOAEPHashLen) ||
			blk.bc.hasExtra() != (len(blk.extra) > 0) {
			t.Fatalf("inconsistent block %+v", blk)
		}
		// A decoded block re-encodes and decodes to the same thing.
		em2, err := setOAEPEncode(rand.Reader, len(em), blk)
		if err != nil {
			t.Fatal(err)
		}
		blk2, err := setOAEPDecode(em2, keyLen)
		if err != nil || blk2.bc != blk.bc || !bytes.Equal(blk2.extra, blk.extra) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}
