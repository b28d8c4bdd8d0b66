package pkcs7

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// SET's own OAEP (Book 2 Table 4.6.2.15), a Bellare–Rogaway variant that is
// not PKCS#1 v2 OAEP. The public text gives the steps but not the widths;
// the reconstruction below is recorded in docs/spec-gaps.md under
// "internal/pkcs7: SET OAEP". For an RSA modulus of k bytes:
//
//	EM  = 0x00 ‖ I ‖ A ‖ B                       (k bytes)
//	I   = one random byte, not 0x00 and not 0x80
//	A   = DB ⊕ H1(E-Salt)                        (k − 18 bytes)
//	B   = E-Salt ⊕ H2(A)                         (16 bytes)
//	DB  = BT(0x03) ‖ BC ‖ V(7 × 0x00) ‖ ADB ‖ 0x01 ‖ 0x00…
//	ADB = key ‖ [SHA-1(content), EH/EXH] ‖ [extra, EX/EXH]
//
// H1 and H2 are MGF1-SHA-1 truncated to the length needed.

// BlockContents is the BC byte of a SET OAEP block: what ADB carries beside
// the content-encryption key. It is what distinguishes the E, EH, EX and
// EXH operators on the wire.
type BlockContents byte

const (
	BlockE   BlockContents = 0x00 // key only
	BlockEH  BlockContents = 0x01 // key ‖ SHA-1 of the content
	BlockEX  BlockContents = 0x02 // key ‖ extra data
	BlockEXH BlockContents = 0x03 // key ‖ SHA-1 of the content ‖ extra data
)

func (bc BlockContents) hasHash() bool  { return bc&0x01 != 0 }
func (bc BlockContents) hasExtra() bool { return bc&0x02 != 0 }

const (
	setOAEPBlockType = 0x03
	setOAEPSaltLen   = 16
	setOAEPVLen      = 7
	setOAEPHeaderLen = 2 + setOAEPVLen // BT, BC, V
	setOAEPHashLen   = sha1.Size
	// setOAEPOverhead is everything in EM that is not ADB: the leading zero,
	// I, B, the DB header and the 0x01 terminator.
	setOAEPOverhead = 2 + setOAEPSaltLen + setOAEPHeaderLen + 1
)

// ErrDecryption is the one error every decryption failure wraps: bad RSA
// or OAEP block, bad CBC padding, content hash mismatch, failed key unwrap
// or authentication tag. It deliberately says nothing more (no padding
// oracle).
var ErrDecryption = errors.New("pkcs7: decryption failed")

// ErrExtraTooLong is wrapped when the OAEP block cannot hold the key, hash
// and extra data for the recipient's modulus.
var ErrExtraTooLong = errors.New("pkcs7: SET OAEP: data block does not fit the RSA modulus")

// setOAEPBlock is the decoded content of a SET OAEP block.
type setOAEPBlock struct {
	bc    BlockContents
	key   []byte
	hash  []byte // nil unless bc has a hash
	extra []byte // nil unless bc has extra data
}

// setOAEPMaxADB is the largest ADB a k-byte modulus carries.
func setOAEPMaxADB(k int) int { return k - setOAEPOverhead }

// setOAEPEncode builds the k-byte encoded message for blk.
func setOAEPEncode(rand io.Reader, k int, blk setOAEPBlock) ([]byte, error) {
	if blk.bc.hasHash() != (len(blk.hash) == setOAEPHashLen) || !blk.bc.hasHash() && blk.hash != nil {
		return nil, errors.New("pkcs7: SET OAEP: hash does not match block contents")
	}
	if blk.bc.hasExtra() != (len(blk.extra) > 0) || blk.bc > BlockEXH {
		return nil, errors.New("pkcs7: SET OAEP: extra data does not match block contents")
	}
	adbLen := len(blk.key) + len(blk.hash) + len(blk.extra)
	if max := setOAEPMaxADB(k); adbLen > max {
		return nil, fmt.Errorf("%w: key %d + hash %d + extra %d bytes > %d for a %d-bit modulus",
			ErrExtraTooLong, len(blk.key), len(blk.hash), len(blk.extra), max, 8*k)
	}
	em := make([]byte, k)
	a := em[2 : k-setOAEPSaltLen]
	b := em[k-setOAEPSaltLen:]

	// I: random, neither 0x00 nor 0x80.
	for {
		if _, err := io.ReadFull(rand, em[1:2]); err != nil {
			return nil, err
		}
		if em[1] != 0x00 && em[1] != 0x80 {
			break
		}
	}
	a[0] = setOAEPBlockType
	a[1] = byte(blk.bc)
	adb := a[setOAEPHeaderLen:]
	n := copy(adb, blk.key)
	n += copy(adb[n:], blk.hash)
	n += copy(adb[n:], blk.extra)
	adb[n] = 0x01

	salt := make([]byte, setOAEPSaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, err
	}
	setOAEPMaskXOR(a, salt) // A = DB ⊕ H1(E-Salt)
	copy(b, salt)
	setOAEPMaskXOR(b, a) // B = E-Salt ⊕ H2(A)
	return em, nil
}

// setOAEPDecode undoes setOAEPEncode for a content key of keyLen bytes.
// Every check is folded into one flag in constant time, and every failure
// is the same ErrDecryption.
func setOAEPDecode(em []byte, keyLen int) (setOAEPBlock, error) {
	k := len(em)
	if keyLen <= 0 || keyLen > k || k < setOAEPOverhead+keyLen {
		return setOAEPBlock{}, ErrDecryption
	}
	a := make([]byte, k-2-setOAEPSaltLen)
	copy(a, em[2:k-setOAEPSaltLen])
	salt := make([]byte, setOAEPSaltLen)
	copy(salt, em[k-setOAEPSaltLen:])
	setOAEPMaskXOR(salt, a)
	setOAEPMaskXOR(a, salt) // a is now DB

	good := subtle.ConstantTimeByteEq(em[0], 0x00)
	good &^= subtle.ConstantTimeByteEq(em[1], 0x00)
	good &^= subtle.ConstantTimeByteEq(em[1], 0x80)
	good &= subtle.ConstantTimeByteEq(a[0], setOAEPBlockType)
	bc := a[1]
	good &= subtle.ConstantTimeLessOrEq(int(bc), int(BlockEXH))
	for _, v := range a[2:setOAEPHeaderLen] {
		good &= subtle.ConstantTimeByteEq(v, 0)
	}

	// The terminator is the last non-zero byte of the rest and must be 0x01.
	rest := a[setOAEPHeaderLen:]
	adbLen, term := 0, 0
	for i, v := range rest {
		nz := 1 - subtle.ConstantTimeByteEq(v, 0)
		adbLen = subtle.ConstantTimeSelect(nz, i, adbLen)
		term = subtle.ConstantTimeSelect(nz, int(v), term)
	}
	good &= subtle.ConstantTimeEq(int32(term), 0x01)

	hashLen := setOAEPHashLen * int(bc&0x01)
	extraLen := adbLen - keyLen - hashLen
	good &= 1 - int(uint64(int64(extraLen))>>63) // extraLen >= 0
	hasExtra := int(bc>>1) & 1
	// EX/EXH need at least one byte of extra data; E/EH none.
	good &= subtle.ConstantTimeEq(int32(hasExtra), int32(1-subtle.ConstantTimeEq(int32(extraLen), 0)))
	if good != 1 {
		return setOAEPBlock{}, ErrDecryption
	}

	blk := setOAEPBlock{bc: BlockContents(bc)}
	blk.key = rest[:keyLen]
	if hashLen > 0 {
		blk.hash = rest[keyLen : keyLen+hashLen]
	}
	if extraLen > 0 {
		blk.extra = rest[keyLen+hashLen : adbLen]
	}
	return blk, nil
}

// setOAEPMaskXOR XORs dst with MGF1-SHA-1(seed) of len(dst) bytes; SET's
// "leading" and "trailing" SHA-1 bytes, generalised to any length.
func setOAEPMaskXOR(dst, seed []byte) {
	var counter [4]byte
	var digest [sha1.Size]byte
	for done, c := 0, uint32(0); done < len(dst); c++ {
		binary.BigEndian.PutUint32(counter[:], c)
		h := sha1.New()
		h.Write(seed)
		h.Write(counter[:])
		h.Sum(digest[:0])
		done += subtle.XORBytes(dst[done:], dst[done:], digest[:])
	}
}

// setOAEPEncrypt encodes blk and applies the raw RSA public operation.
func setOAEPEncrypt(rand io.Reader, pub *rsa.PublicKey, blk setOAEPBlock) ([]byte, error) {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.E < 3 {
		return nil, errors.New("pkcs7: SET OAEP: invalid RSA public key")
	}
	k := (pub.N.BitLen() + 7) / 8
	em, err := setOAEPEncode(rand, k, blk)
	if err != nil {
		return nil, err
	}
	m := new(big.Int).SetBytes(em)
	c := m.Exp(m, big.NewInt(int64(pub.E)), pub.N)
	return c.FillBytes(make([]byte, k)), nil
}

// setOAEPDecrypt applies the raw RSA private operation and decodes the
// block. crypto/rsa offers no raw private operation, so this uses math/big
// with multiplicative blinding to hide the ciphertext from the exponent
// timing, and checks the result against the public key to catch faults.
// math/big is not constant-time; set1 is a conformance suite, never the
// default, and says so.
func setOAEPDecrypt(rand io.Reader, priv *rsa.PrivateKey, ciphertext []byte, keyLen int) (setOAEPBlock, error) {
	if priv == nil || priv.N == nil || priv.D == nil || priv.N.Sign() <= 0 {
		return setOAEPBlock{}, errors.New("pkcs7: SET OAEP: invalid RSA private key")
	}
	n := priv.N
	k := (n.BitLen() + 7) / 8
	if len(ciphertext) != k {
		return setOAEPBlock{}, ErrDecryption
	}
	c := new(big.Int).SetBytes(ciphertext)
	if c.Cmp(n) >= 0 {
		return setOAEPBlock{}, ErrDecryption
	}
	e := big.NewInt(int64(priv.E))
	var r, rInv *big.Int
	for {
		rb := make([]byte, k)
		if _, err := io.ReadFull(rand, rb); err != nil {
			return setOAEPBlock{}, err
		}
		r = new(big.Int).SetBytes(rb)
		r.Mod(r, n)
		if r.Sign() == 0 {
			continue
		}
		if rInv = new(big.Int).ModInverse(r, n); rInv != nil {
			break
		}
	}
	blinded := new(big.Int).Exp(r, e, n)
	blinded.Mul(blinded, c).Mod(blinded, n)
	m := setOAEPRSAPrivate(priv, blinded)
	m.Mul(m, rInv).Mod(m, n)
	if check := new(big.Int).Exp(m, e, n); check.Cmp(c) != 0 {
		return setOAEPBlock{}, ErrDecryption
	}
	return setOAEPDecode(m.FillBytes(make([]byte, k)), keyLen)
}

// setOAEPRSAPrivate computes c^d mod n, with the CRT when the key carries
// its precomputed values (about three times faster).
func setOAEPRSAPrivate(priv *rsa.PrivateKey, c *big.Int) *big.Int {
	pc := priv.Precomputed
	if len(priv.Primes) != 2 || pc.Dp == nil || pc.Dq == nil || pc.Qinv == nil {
		return new(big.Int).Exp(c, priv.D, priv.N)
	}
	p, q := priv.Primes[0], priv.Primes[1]
	m1 := new(big.Int).Exp(c, pc.Dp, p)
	m2 := new(big.Int).Exp(c, pc.Dq, q)
	m1.Sub(m1, m2).Mul(m1, pc.Qinv).Mod(m1, p) // h = qInv(m1 − m2) mod p
	return m1.Mul(m1, q).Add(m1, m2)
}
