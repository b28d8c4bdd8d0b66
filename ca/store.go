package ca

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/setpay/setpay/msg"
)

// ErrNoChallenge is returned by Store.TakeChallenge for a chall-CA the CA
// never issued or already took.
var ErrNoChallenge = errors.New("ca: unknown or already used chall-CA")

// ErrKeyCertified is returned by Store.RecordKey for a public key the CA
// has certified before.
var ErrKeyCertified = errors.New("ca: public key already certified")

// Challenge is what the CA remembers about a chall-CA it sent in a
// RegFormRes, so that the CertReq echoing it can be held to the same card
// and form.
type Challenge struct {
	Issued    time.Time
	PANMAC    []byte // HMAC of the PAN under the CA's private key: never the PAN itself
	RegFormID int64
}

// Store is the CA's registration state: outstanding chall-CA nonces and
// the registry of certified keys. The in-memory implementation is
// MemoryStore; a persistent one comes with the CA database.
type Store interface {
	// PutChallenge records a fresh chall-CA.
	PutChallenge(ctx context.Context, ch msg.Challenge, c Challenge) error
	// TakeChallenge returns and forgets a chall-CA, so each is good for
	// one CertReq only; ErrNoChallenge when it is unknown.
	TakeChallenge(ctx context.Context, ch msg.Challenge) (Challenge, error)
	// RecordKey records the digest of a public key about to be certified;
	// ErrKeyCertified when it is already there. Recording and checking are
	// one step so two concurrent requests cannot both pass.
	RecordKey(ctx context.Context, keyDigest []byte) error
}

// MemoryStore is a Store in memory, for tests and for a CA whose state
// may be lost on restart. Outstanding challenges are bounded: when full,
// the oldest give way, so a flood of RegFormReqs costs memory only up to
// the bound.
type MemoryStore struct {
	mu         sync.Mutex
	challenges map[msg.Challenge]Challenge
	order      []msg.Challenge // insertion order, for eviction
	keys       map[string]bool
	pending    map[msg.Challenge]*PendingRequest
	// MaxChallenges bounds outstanding challenges; 0 means 100000.
	MaxChallenges int
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{challenges: map[msg.Challenge]Challenge{}, keys: map[string]bool{}}
}

// PutChallenge implements Store.
func (s *MemoryStore) PutChallenge(_ context.Context, ch msg.Challenge, c Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.MaxChallenges
	if limit <= 0 {
		limit = 100000
	}
	for len(s.challenges) >= limit && len(s.order) > 0 {
		delete(s.challenges, s.order[0])
		s.order = s.order[1:]
	}
	if _, dup := s.challenges[ch]; dup {
		return errors.New("ca: duplicate chall-CA")
	}
	s.challenges[ch] = c
	s.order = append(s.order, ch)
	return nil
}

// TakeChallenge implements Store.
func (s *MemoryStore) TakeChallenge(_ context.Context, ch msg.Challenge) (Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[ch]
	if !ok {
		return Challenge{}, ErrNoChallenge
	}
	delete(s.challenges, ch)
	// order keeps the stale entry; eviction of an absent key is a no-op,
	// and compacting here would make every take linear.
	if len(s.order) > 2*len(s.challenges)+1024 {
		kept := s.order[:0]
		for _, o := range s.order {
			if _, ok := s.challenges[o]; ok {
				kept = append(kept, o)
			}
		}
		s.order = kept
	}
	return c, nil
}

// RecordKey implements Store.
func (s *MemoryStore) RecordKey(_ context.Context, keyDigest []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[string(keyDigest)] {
		return ErrKeyCertified
	}
	s.keys[string(keyDigest)] = true
	return nil
}

var _ PendingStore = (*MemoryStore)(nil)

// PutPending implements PendingStore.
func (s *MemoryStore) PutPending(_ context.Context, id msg.Challenge, p *PendingRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[msg.Challenge]*PendingRequest{}
	}
	if _, dup := s.pending[id]; dup {
		return errors.New("ca: a pending request with this chall-EE3 exists")
	}
	cp := *p
	s.pending[id] = &cp
	return nil
}

// Pending implements PendingStore. It returns a copy.
func (s *MemoryStore) Pending(_ context.Context, id msg.Challenge) (*PendingRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return nil, ErrNoPending
	}
	cp := *p
	return &cp, nil
}

// DecidePending implements PendingStore.
func (s *MemoryStore) DecidePending(_ context.Context, id msg.Challenge, status msg.CertStatus, thumbs []msg.CertThumb, certs [][]byte, fail msg.ErrorCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return ErrNoPending
	}
	if p.Decided() {
		return ErrDecided
	}
	p.Status, p.Thumbs, p.Certs, p.Fail = status, thumbs, certs, fail
	return nil
}

// TakePending implements PendingStore.
func (s *MemoryStore) TakePending(_ context.Context, id msg.Challenge) (*PendingRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return nil, ErrNoPending
	}
	delete(s.pending, id)
	return p, nil
}

// PendingIDs implements PendingStore.
func (s *MemoryStore) PendingIDs(_ context.Context) ([]msg.Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []msg.Challenge
	for id, p := range s.pending {
		if !p.Decided() {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
