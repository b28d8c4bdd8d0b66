// Package keyfile stores private keys on disk encrypted under a passphrase.
//
// Every private key setpay keeps on disk (cardholder, merchant, gateway, CA)
// is to go through this package: the PKCS#8 DER of the key is sealed with
// AES-256-GCM under a key derived from the passphrase by Argon2id (default)
// or scrypt, and the file is created with mode 0600. Reading refuses a file
// that group or other may read.
//
// # File format, version 1
//
// A key file is exactly one PEM block, as pem.EncodeToMemory writes it
// (64-column base64, LF line endings, no headers, nothing before or after):
//
//	-----BEGIN SETPAY ENCRYPTED PRIVATE KEY-----
//	...base64 of the DER below...
//	-----END SETPAY ENCRYPTED PRIVATE KEY-----
//
// holding
//
//	EncryptedPrivateKeyFile ::= SEQUENCE {
//	  header     KeyFileHeader,
//	  ciphertext OCTET STRING }  -- AES-256-GCM output, tag appended
//
//	KeyFileHeader ::= SEQUENCE {
//	  version INTEGER { v1(1) },
//	  role    UTF8String (SIZE(1..64)),  -- printable ASCII, e.g. "gateway exchange"
//	  kdf     KDF,
//	  nonce   OCTET STRING (SIZE(12)) }
//
//	KDF ::= CHOICE {
//	  argon2id [0] IMPLICIT SEQUENCE {
//	    salt      OCTET STRING (SIZE(16..64)),
//	    time      INTEGER (1..32),
//	    memoryKiB INTEGER (8*threads..2097152),
//	    threads   INTEGER (1..64) },
//	  scrypt   [1] IMPLICIT SEQUENCE {
//	    salt OCTET STRING (SIZE(16..64)),
//	    logN INTEGER (1..20),
//	    r    INTEGER (1..32),
//	    p    INTEGER (1..16) } }
//
// The AES-256 key is Argon2id(passphrase, salt, time, memoryKiB, threads)
// or scrypt(passphrase, salt, 2^logN, r, p), 32 bytes. The plaintext is the
// key's PKCS#8 DER. The additional data is the header's DER exactly as it
// appears in the file, so the version, the role, the KDF parameters and the
// nonce are all authenticated: a "gateway exchange" key file cannot be
// loaded as a "cardholder signing" key even by editing the role in the
// header, and parameters cannot be swapped. The decoder is strict DER and
// bounds every KDF parameter, so a hostile file cannot make Open allocate
// more than 2 GiB or run for long.
//
// # Errors
//
// A wrong passphrase and a file altered after sealing are the same failure
// to AES-GCM, and Open reports both as ErrWrongPassphrase: telling them apart
// would need an unauthenticated check an attacker could use. A role that does
// not match the header is reported as ErrWrongRole before any key derivation
// (the header's role is then only a hint, but forging it only changes which
// error the caller sees). No error includes the passphrase or key material.
package keyfile

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/scrypt"

	"github.com/setpay/setpay/internal/der"
)

// PEMType is the PEM block type of a key file.
const PEMType = "SETPAY ENCRYPTED PRIVATE KEY"

// Version is the only file format version this package reads and writes.
const Version = 1

const (
	saltSize      = 16 // written; 16..64 accepted
	maxSaltSize   = 64
	nonceSize     = 12 // AES-GCM standard nonce
	keySize       = 32 // AES-256
	maxRoleLen    = 64
	maxPlaintext  = 32 << 10 // an RSA-4096 PKCS#8 is ~2.4 KiB, ML-DSA-87 expanded ~4.9 KiB
	maxCiphertext = maxPlaintext + 16
)

var (
	// ErrWrongPassphrase means the AEAD did not open: the passphrase is
	// wrong, or the file was altered after it was sealed. The two are
	// indistinguishable by design.
	ErrWrongPassphrase = errors.New("keyfile: wrong passphrase (or the key file was altered)")
	// ErrWrongRole means the file holds a key sealed for another role.
	ErrWrongRole = errors.New("keyfile: key file is for another role")
)

// Params chooses the key derivation function and its cost: Argon2id or
// Scrypt. A nil Params means DefaultParams.
type Params interface {
	check() error
	deriveKey(passphrase, salt []byte) ([]byte, error)
}

// Argon2id parameters (RFC 9106). MemoryKiB is in KiB.
type Argon2id struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// Scrypt parameters: N = 2^LogN.
type Scrypt struct {
	LogN uint8
	R, P int
}

// Bounds accepted when sealing and when decoding, so a hostile file cannot
// demand unbounded memory or time.
const (
	maxArgonTime    = 32
	maxArgonMemory  = 2 << 20 // KiB: 2 GiB
	maxArgonThreads = 64
	maxScryptLogN   = 20
	maxScryptR      = 32
	maxScryptP      = 16
)

// DefaultParams is Argon2id with t=3, m=64 MiB, p=4 (RFC 9106's second
// recommended option), about a quarter of a second on a 2026 laptop.
func DefaultParams() Params { return Argon2id{Time: 3, MemoryKiB: 64 << 10, Threads: 4} }

func (a Argon2id) check() error {
	switch {
	case a.Time < 1 || a.Time > maxArgonTime:
		return fmt.Errorf("argon2id time %d outside 1..%d", a.Time, maxArgonTime)
	case a.Threads < 1 || a.Threads > maxArgonThreads:
		return fmt.Errorf("argon2id threads %d outside 1..%d", a.Threads, maxArgonThreads)
	case a.MemoryKiB < 8*uint32(a.Threads) || a.MemoryKiB > maxArgonMemory:
		// argon2.IDKey silently raises memory below 8*threads; refuse
		// instead, so the file says what was really used.
		return fmt.Errorf("argon2id memory %d KiB outside %d..%d", a.MemoryKiB, 8*uint32(a.Threads), maxArgonMemory)
	}
	return nil
}

func (a Argon2id) deriveKey(passphrase, salt []byte) ([]byte, error) {
	return argon2.IDKey(passphrase, salt, a.Time, a.MemoryKiB, a.Threads, keySize), nil
}

// String describes the parameters (they are not secret).
func (a Argon2id) String() string {
	return fmt.Sprintf("argon2id t=%d m=%dKiB p=%d", a.Time, a.MemoryKiB, a.Threads)
}

func (s Scrypt) check() error {
	switch {
	case s.LogN < 1 || s.LogN > maxScryptLogN:
		return fmt.Errorf("scrypt logN %d outside 1..%d", s.LogN, maxScryptLogN)
	case s.R < 1 || s.R > maxScryptR:
		return fmt.Errorf("scrypt r %d outside 1..%d", s.R, maxScryptR)
	case s.P < 1 || s.P > maxScryptP:
		return fmt.Errorf("scrypt p %d outside 1..%d", s.P, maxScryptP)
	}
	return nil
}

func (s Scrypt) deriveKey(passphrase, salt []byte) ([]byte, error) {
	// The bounds in check keep every argument valid for scrypt.Key; its
	// error is passed on all the same rather than trusted away.
	k, err := scrypt.Key(passphrase, salt, 1<<s.LogN, s.R, s.P, keySize)
	if err != nil {
		return nil, fmt.Errorf("keyfile: scrypt: %v", err)
	}
	return k, nil
}

// String describes the parameters (they are not secret).
func (s Scrypt) String() string { return fmt.Sprintf("scrypt N=2^%d r=%d p=%d", s.LogN, s.R, s.P) }

// CheckRole reports whether role is a valid role label: 1 to 64 printable
// ASCII characters. Labels name the party and the key's use, e.g.
// "cardholder signing" or "gateway exchange" (see the Role constants).
func CheckRole(role string) error {
	if len(role) == 0 || len(role) > maxRoleLen {
		return fmt.Errorf("keyfile: role label must be 1..%d characters, not %d", maxRoleLen, len(role))
	}
	for i := 0; i < len(role); i++ {
		if role[i] < 0x20 || role[i] > 0x7e {
			return fmt.Errorf("keyfile: role label must be printable ASCII (byte %d is 0x%02x)", i, role[i])
		}
	}
	return nil
}

// Seal encrypts a PKCS#8 private key for role under passphrase and returns
// the PEM key file. rand supplies the salt and nonce (crypto/rand.Reader in
// production). params nil means DefaultParams.
func Seal(rand io.Reader, pkcs8 []byte, role string, passphrase []byte, params Params) ([]byte, error) {
	if params == nil {
		params = DefaultParams()
	}
	if err := params.check(); err != nil {
		return nil, fmt.Errorf("keyfile: %v", err)
	}
	if err := CheckRole(role); err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	if len(pkcs8) == 0 || len(pkcs8) > maxPlaintext {
		return nil, fmt.Errorf("keyfile: private key of %d bytes; want 1..%d", len(pkcs8), maxPlaintext)
	}
	k := &EncryptedKey{
		Version: Version,
		Role:    role,
		KDF:     params,
		Salt:    make([]byte, saltSize),
		Nonce:   make([]byte, nonceSize),
	}
	if _, err := io.ReadFull(rand, k.Salt); err != nil {
		return nil, fmt.Errorf("keyfile: reading salt: %w", err)
	}
	if _, err := io.ReadFull(rand, k.Nonce); err != nil {
		return nil, fmt.Errorf("keyfile: reading nonce: %w", err)
	}
	header, err := k.marshalHeader()
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(params, passphrase, k.Salt)
	if err != nil {
		return nil, err
	}
	k.Ciphertext = aead.Seal(nil, k.Nonce, pkcs8, header)
	b, err := k.Marshal()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: b}), nil
}

// Open decrypts a key file sealed for role and returns the PKCS#8 DER of
// the key. A wrong passphrase, or any change to the file, is
// ErrWrongPassphrase; a file for another role is ErrWrongRole.
func Open(b []byte, role string, passphrase []byte) ([]byte, error) {
	k, err := Decode(b)
	if err != nil {
		return nil, err
	}
	return k.Open(role, passphrase)
}

// Decode parses a PEM key file without decrypting it, so its role and
// parameters can be shown. The PEM must be exactly as Seal writes it.
func Decode(b []byte) (*EncryptedKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("keyfile: no %q PEM block", PEMType)
	}
	if block.Type != PEMType {
		return nil, fmt.Errorf("keyfile: PEM block is %q, want %q", block.Type, PEMType)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("keyfile: PEM block has headers")
	}
	// Only the canonical encoding is accepted: pem.Decode tolerates text
	// around the block and base64 with stray bits, and a key file has one
	// spelling so that any change to it is an error.
	if !bytes.Equal(pem.EncodeToMemory(block), b) {
		return nil, fmt.Errorf("keyfile: PEM is not in canonical form (text around the block, or altered line breaks or padding)")
	}
	return UnmarshalEncryptedKey(block.Bytes)
}

// EncryptedKey is a decoded EncryptedPrivateKeyFile. Nothing in it is
// secret; the key is only in Ciphertext.
type EncryptedKey struct {
	Version    int
	Role       string
	KDF        Params // Argon2id or Scrypt
	Salt       []byte
	Nonce      []byte
	Ciphertext []byte

	header []byte // the KeyFileHeader DER as decoded: the AEAD's additional data
	raw    []byte
}

// Raw returns the DER k was decoded from.
func (k *EncryptedKey) Raw() []byte { return k.raw }

// Open derives the key from passphrase and decrypts the PKCS#8 DER.
func (k *EncryptedKey) Open(role string, passphrase []byte) ([]byte, error) {
	if k.Role != role {
		return nil, fmt.Errorf("%w: the file holds a %q key, not a %q key", ErrWrongRole, k.Role, role)
	}
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	header := k.header
	if header == nil {
		var err error
		if header, err = k.marshalHeader(); err != nil {
			return nil, err
		}
	}
	if err := k.KDF.check(); err != nil {
		return nil, fmt.Errorf("keyfile: %v", err)
	}
	if len(k.Nonce) != nonceSize {
		return nil, fmt.Errorf("keyfile: nonce of %d bytes, want %d", len(k.Nonce), nonceSize)
	}
	aead, err := newAEAD(k.KDF, passphrase, k.Salt)
	if err != nil {
		return nil, err
	}
	pkcs8, err := aead.Open(nil, k.Nonce, k.Ciphertext, header)
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return pkcs8, nil
}

// newAEAD derives the file key and builds AES-256-GCM with it. The derived
// key is wiped at once: the cipher keeps its own expanded copy, so this one
// need not linger on the heap (best effort; Go gives no guarantee).
func newAEAD(p Params, passphrase, salt []byte) (cipher.AEAD, error) {
	key, err := p.deriveKey(passphrase, salt)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyfile: AES-256: %v", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyfile: GCM: %v", err)
	}
	return aead, nil
}

const (
	typFile   = "EncryptedPrivateKeyFile"
	typHeader = "KeyFileHeader"
	typArgon  = "KDF.argon2id"
	typScrypt = "KDF.scrypt"
)

var (
	tagArgon2id = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagScrypt   = cbasn1.Tag(1).Constructed().ContextSpecific()
)

// Marshal returns the DER of k.
func (k *EncryptedKey) Marshal() ([]byte, error) {
	header, err := k.marshalHeader()
	if err != nil {
		return nil, err
	}
	if len(k.Ciphertext) <= 16 || len(k.Ciphertext) > maxCiphertext {
		return nil, der.Errorf(typFile, "ciphertext", "%d bytes: %w", len(k.Ciphertext), der.ErrInvalid)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(header)
		b.AddASN1OctetString(k.Ciphertext)
	})
	return b.Bytes()
}

func (k *EncryptedKey) marshalHeader() ([]byte, error) {
	if k.Version != Version {
		return nil, der.Errorf(typHeader, "version", "%d: %w", k.Version, der.ErrInvalid)
	}
	if err := CheckRole(k.Role); err != nil {
		return nil, der.Errorf(typHeader, "role", "%v: %w", err, der.ErrInvalid)
	}
	if len(k.Salt) < saltSize || len(k.Salt) > maxSaltSize {
		return nil, der.Errorf(typHeader, "salt", "%d bytes: %w", len(k.Salt), der.ErrInvalid)
	}
	if len(k.Nonce) != nonceSize {
		return nil, der.Errorf(typHeader, "nonce", "%d bytes: %w", len(k.Nonce), der.ErrInvalid)
	}
	if k.KDF == nil {
		return nil, der.Errorf(typHeader, "kdf", "missing: %w", der.ErrInvalid)
	}
	if err := k.KDF.check(); err != nil {
		return nil, der.Errorf(typHeader, "kdf", "%v: %w", err, der.ErrInvalid)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(k.Version))
		b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(k.Role)) })
		switch p := k.KDF.(type) {
		case Argon2id:
			b.AddASN1(tagArgon2id, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(k.Salt)
				b.AddASN1Uint64(uint64(p.Time))
				b.AddASN1Uint64(uint64(p.MemoryKiB))
				b.AddASN1Uint64(uint64(p.Threads))
			})
		case Scrypt:
			b.AddASN1(tagScrypt, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(k.Salt)
				b.AddASN1Uint64(uint64(p.LogN))
				b.AddASN1Uint64(uint64(p.R))
				b.AddASN1Uint64(uint64(p.P))
			})
		default:
			b.SetError(der.Errorf(typHeader, "kdf", "%T: %w", k.KDF, der.ErrInvalid))
		}
		b.AddASN1OctetString(k.Nonce)
	})
	return b.Bytes()
}

// UnmarshalEncryptedKey decodes the DER of a key file, rejecting trailing
// bytes, non-DER encodings, unknown versions and out-of-range parameters.
func UnmarshalEncryptedKey(b []byte) (*EncryptedKey, error) {
	k := &EncryptedKey{raw: b}
	s := cryptobyte.String(b)
	var file cryptobyte.String
	if !s.ReadASN1(&file, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typFile, "", "%w", der.ErrTruncated)
	}
	if !s.Empty() {
		return nil, der.Errorf(typFile, "", "%w", der.ErrTrailingData)
	}
	var header, hc cryptobyte.String
	if !file.ReadASN1Element(&header, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typFile, "header", "%w", der.ErrTruncated)
	}
	k.header = header
	if !header.ReadASN1(&hc, cbasn1.SEQUENCE) {
		return nil, der.Errorf(typFile, "header", "%w", der.ErrTruncated)
	}
	if err := k.readHeader(&hc); err != nil {
		return nil, err
	}
	var ct cryptobyte.String
	if !file.ReadASN1(&ct, cbasn1.OCTET_STRING) {
		return nil, der.Errorf(typFile, "ciphertext", "%w", der.ErrTruncated)
	}
	if len(ct) <= 16 || len(ct) > maxCiphertext {
		return nil, der.Errorf(typFile, "ciphertext", "%d bytes: %w", len(ct), der.ErrInvalid)
	}
	k.Ciphertext = ct
	if !file.Empty() {
		return nil, der.Errorf(typFile, "", "%w", der.ErrTrailingData)
	}
	return k, nil
}

func (k *EncryptedKey) readHeader(s *cryptobyte.String) error {
	var version int64
	if !s.ReadASN1Integer(&version) {
		return der.Errorf(typHeader, "version", "%w", der.ErrTruncated)
	}
	if version != Version {
		return der.Errorf(typHeader, "version", "unknown version %d: %w", version, der.ErrInvalid)
	}
	k.Version = Version
	var role cryptobyte.String
	if !s.ReadASN1(&role, cbasn1.UTF8String) {
		return der.Errorf(typHeader, "role", "%w", der.ErrTruncated)
	}
	// Printable ASCII only, which also makes it valid UTF-8.
	if err := CheckRole(string(role)); err != nil {
		return der.Errorf(typHeader, "role", "%v: %w", err, der.ErrInvalid)
	}
	k.Role = string(role)
	var kdf cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&kdf, &tag) {
		return der.Errorf(typHeader, "kdf", "%w", der.ErrTruncated)
	}
	var salt cryptobyte.String
	if !kdf.ReadASN1(&salt, cbasn1.OCTET_STRING) {
		return der.Errorf(typHeader, "kdf", "salt: %w", der.ErrTruncated)
	}
	if len(salt) < saltSize || len(salt) > maxSaltSize {
		return der.Errorf(typHeader, "kdf", "salt of %d bytes: %w", len(salt), der.ErrInvalid)
	}
	k.Salt = salt
	var p [3]uint64
	for i := range p {
		// Read as uint64 then bound: ReadASN1Integer refuses negative and
		// non-minimal integers and values beyond 64 bits.
		if !kdf.ReadASN1Integer(&p[i]) {
			return der.Errorf(typHeader, "kdf", "parameter %d: %w", i+1, der.ErrTruncated)
		}
		if p[i] > math.MaxUint32 {
			return der.Errorf(typHeader, "kdf", "parameter %d too large: %w", i+1, der.ErrInvalid)
		}
	}
	if !kdf.Empty() {
		return der.Errorf(typHeader, "kdf", "%w", der.ErrTrailingData)
	}
	switch tag {
	case tagArgon2id:
		if p[2] > 255 {
			return der.Errorf(typArgon, "threads", "%d: %w", p[2], der.ErrInvalid)
		}
		k.KDF = Argon2id{Time: uint32(p[0]), MemoryKiB: uint32(p[1]), Threads: uint8(p[2])}
	case tagScrypt:
		if p[0] > 255 {
			return der.Errorf(typScrypt, "logN", "%d: %w", p[0], der.ErrInvalid)
		}
		k.KDF = Scrypt{LogN: uint8(p[0]), R: int(p[1]), P: int(p[2])}
	default:
		return der.Errorf(typHeader, "kdf", "unknown KDF tag %v: %w", tag, der.ErrUnexpected)
	}
	if err := k.KDF.check(); err != nil {
		return der.Errorf(typHeader, "kdf", "%v: %w", err, der.ErrInvalid)
	}
	var nonce cryptobyte.String
	if !s.ReadASN1(&nonce, cbasn1.OCTET_STRING) {
		return der.Errorf(typHeader, "nonce", "%w", der.ErrTruncated)
	}
	if len(nonce) != nonceSize {
		return der.Errorf(typHeader, "nonce", "%d bytes: %w", len(nonce), der.ErrInvalid)
	}
	k.Nonce = nonce
	if !s.Empty() {
		return der.Errorf(typHeader, "", "%w", der.ErrTrailingData)
	}
	return nil
}
