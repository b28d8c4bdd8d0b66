package pkcs7

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// RFC 3394 AES key wrap with the default initial value. It is the key
// encryption step of every modern recipient (RFC 5753 key agreement and,
// later, RFC 9629 KEM recipients), so it lives beside them rather than in a
// package of its own.

var aesWrapDefaultIV = [8]byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}

// errKeyWrap is the single unwrap failure: an integrity failure and a
// malformed input look the same to the caller.
var errKeyWrap = errors.New("pkcs7: AES key unwrap failed")

// aesWrapKey wraps key (a multiple of 8 bytes, at least 16) under kek.
func aesWrapKey(kek, key []byte) ([]byte, error) {
	if len(key) < 16 || len(key)%8 != 0 {
		return nil, errors.New("pkcs7: AES key wrap: key length must be a multiple of 8, at least 16")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	a := aesWrapDefaultIV
	copy(out[8:], key)
	var buf [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(buf[:8], a[:])
			copy(buf[8:], out[8*i:8*i+8])
			block.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[8*i:8*i+8], buf[8:])
		}
	}
	copy(out[:8], a[:])
	return out, nil
}

// aesUnwrapKey reverses aesWrapKey and checks the integrity value.
func aesUnwrapKey(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, errKeyWrap
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, errKeyWrap
	}
	n := len(wrapped)/8 - 1
	r := make([]byte, 8*n)
	copy(r, wrapped[8:])
	var a [8]byte
	copy(a[:], wrapped[:8])
	var buf [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(buf[8:], r[8*(i-1):8*i])
			block.Decrypt(buf[:], buf[:])
			copy(a[:], buf[:8])
			copy(r[8*(i-1):8*i], buf[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], aesWrapDefaultIV[:]) != 1 {
		return nil, errKeyWrap
	}
	return r, nil
}
