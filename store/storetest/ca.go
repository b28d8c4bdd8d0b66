package storetest

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpay/setpay/store"
)

// runCA runs the conformance tests of store.CAStore; every backend must
// implement it.
func runCA(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.CAStore)
	}{
		{"CAChallenge", testCAChallenge},
		{"CAChallengeConcurrent", testCAChallengeConcurrent},
		{"CAChallengePurge", testCAChallengePurge},
		{"CAKeys", testCAKeys},
		{"CAKeysConcurrent", testCAKeysConcurrent},
		{"CAIssuedCerts", testCAIssuedCerts},
		{"CARevocations", testCARevocations},
		{"CAPending", testCAPending},
		{"CAPendingConcurrent", testCAPendingConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := open(t).(store.CAStore)
			if !ok {
				t.Fatal("backend does not implement store.CAStore")
			}
			tt.fn(t, b)
		})
	}
}

func sampleChallenge(n byte) *store.CAChallenge {
	return &store.CAChallenge{
		ID:        bytes.Repeat([]byte{n}, 20),
		Issued:    at,
		Expires:   at.Add(30*time.Minute + time.Duration(n)*time.Second),
		PANMAC:    []byte{'m', 'a', 'c', n},
		RegFormID: 7 + int64(n),
	}
}

func testCAChallenge(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	want := sampleChallenge(1)
	if err := b.PutCAChallenge(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := b.PutCAChallenge(ctx, sampleChallenge(2)); err != nil {
		t.Fatal(err)
	}
	dup := sampleChallenge(1)
	dup.RegFormID = 99
	if err := b.PutCAChallenge(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second PutCAChallenge with the same ID: %v, want ErrConflict", err)
	}
	got, err := b.TakeCAChallenge(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.ID, want.ID) || !bytes.Equal(got.PANMAC, want.PANMAC) || got.RegFormID != want.RegFormID ||
		!got.Issued.Equal(want.Issued) || !got.Expires.Equal(want.Expires) ||
		got.Issued.Location() != time.UTC || got.Issued.Nanosecond() != want.Issued.Nanosecond() {
		t.Errorf("TakeCAChallenge = %+v, want %+v (the refused duplicate must not overwrite)", got, want)
	}
	if _, err := b.TakeCAChallenge(ctx, want.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second TakeCAChallenge: %v, want ErrNotFound", err)
	}
	if _, err := b.TakeCAChallenge(ctx, []byte("never issued")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeCAChallenge of an unknown ID: %v, want ErrNotFound", err)
	}
	// Taking one challenge leaves the other.
	if got, err := b.TakeCAChallenge(ctx, sampleChallenge(2).ID); err != nil || got.RegFormID != 9 {
		t.Errorf("TakeCAChallenge(2) = %+v, %v", got, err)
	}
}

// testCAChallengeConcurrent: of several concurrent takers of one challenge
// exactly one has it.
func testCAChallengeConcurrent(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	const rounds = 5
	for r := range rounds {
		c := sampleChallenge(byte(10 + r))
		if err := b.PutCAChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
		var won, lost atomic.Int32
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.TakeCAChallenge(ctx, c.ID)
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, store.ErrNotFound):
					lost.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 || lost.Load() != workers-1 {
			t.Fatalf("round %d: %d takers had the challenge, %d did not; want 1 and %d", r, won.Load(), lost.Load(), workers-1)
		}
	}
}

func testCAChallengePurge(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	for n := byte(1); n <= 3; n++ {
		if err := b.PutCAChallenge(ctx, sampleChallenge(n)); err != nil {
			t.Fatal(err)
		}
	}
	// Challenge 2 expires at exactly this instant: at or before now goes.
	n, err := b.PurgeCAChallenges(ctx, sampleChallenge(2).Expires)
	if err != nil || n != 2 {
		t.Fatalf("PurgeCAChallenges = %d, %v; want 2", n, err)
	}
	for i := byte(1); i <= 3; i++ {
		_, err := b.TakeCAChallenge(ctx, sampleChallenge(i).ID)
		if purged := i <= 2; purged != errors.Is(err, store.ErrNotFound) {
			t.Errorf("challenge %d after purge: err %v, purged %v", i, err, purged)
		}
	}
}

func testCAKeys(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	k := &store.CertifiedKey{Digest: []byte("digest-1"), Holder: "Card 1", Recorded: at}
	if err := b.RecordCertifiedKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := b.RecordCertifiedKey(ctx, &store.CertifiedKey{Digest: []byte("digest-2")}); err != nil {
		t.Fatal(err)
	}
	err := b.RecordCertifiedKey(ctx, &store.CertifiedKey{Digest: []byte("digest-1"), Holder: "someone else"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second RecordCertifiedKey: %v, want ErrConflict", err)
	}
	got, err := b.CertifiedKey(ctx, []byte("digest-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Holder != "Card 1" || !got.Recorded.Equal(at) || !bytes.Equal(got.Digest, k.Digest) {
		t.Errorf("CertifiedKey = %+v, want %+v (the refused record must not overwrite)", got, k)
	}
	got, err = b.CertifiedKey(ctx, []byte("digest-2"))
	if err != nil || got.Recorded.IsZero() {
		t.Errorf("CertifiedKey(digest-2) = %+v, %v; want a filled-in Recorded", got, err)
	}
	if _, err := b.CertifiedKey(ctx, []byte("digest-3")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CertifiedKey of an unknown digest: %v, want ErrNotFound", err)
	}
	if err := b.RecordCertifiedKey(ctx, &store.CertifiedKey{}); err == nil {
		t.Error("RecordCertifiedKey accepted an empty digest")
	}
}

// testCAKeysConcurrent: of several concurrent requests to certify one key
// exactly one is recorded, the property that keeps a key from being
// certified twice.
func testCAKeysConcurrent(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := b.RecordCertifiedKey(ctx, &store.CertifiedKey{Digest: []byte("contended")})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, store.ErrConflict):
				lost.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != workers-1 {
		t.Fatalf("%d recorded the key, %d were refused; want 1 and %d", won.Load(), lost.Load(), workers-1)
	}
}

func sampleCert(serial int64) *store.IssuedCert {
	return &store.IssuedCert{
		Serial:   big.NewInt(serial),
		Subject:  "Cardholder " + big.NewInt(serial).String(),
		CertType: 1,
		NotAfter: at.AddDate(1, 0, 0),
		DER:      []byte{0x30, 0x03, 0x02, 0x01, byte(serial)},
		Issued:   at,
	}
}

func testCAIssuedCerts(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	// A 160-bit serial, the largest RFC 5280 allows, with a high bit set.
	big160 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1))
	certs := []*store.IssuedCert{sampleCert(1), sampleCert(256), sampleCert(1)}
	certs[2].Serial = big160
	for _, c := range certs {
		if err := b.PutIssuedCert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	dup := sampleCert(256)
	dup.Subject = "impostor"
	if err := b.PutIssuedCert(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutIssuedCert of a used serial: %v, want ErrConflict", err)
	}
	for _, want := range certs {
		got, err := b.IssuedCert(ctx, want.Serial)
		if err != nil {
			t.Fatalf("IssuedCert(%v): %v", want.Serial, err)
		}
		if got.Serial.Cmp(want.Serial) != 0 || got.Subject != want.Subject || got.CertType != want.CertType ||
			!got.NotAfter.Equal(want.NotAfter) || !got.Issued.Equal(want.Issued) || !bytes.Equal(got.DER, want.DER) {
			t.Errorf("IssuedCert(%v) = %+v, want %+v", want.Serial, got, want)
		}
	}
	if _, err := b.IssuedCert(ctx, big.NewInt(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IssuedCert of an unknown serial: %v, want ErrNotFound", err)
	}
	for _, bad := range []*big.Int{nil, big.NewInt(0), big.NewInt(-1), new(big.Int).Lsh(big.NewInt(1), 160)} {
		c := sampleCert(3)
		c.Serial = bad
		if err := b.PutIssuedCert(ctx, c); err == nil {
			t.Errorf("PutIssuedCert accepted serial %v", bad)
		}
	}
	c := sampleCert(4)
	c.Issued = time.Time{}
	if err := b.PutIssuedCert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := b.IssuedCert(ctx, c.Serial); err != nil || got.Issued.IsZero() {
		t.Errorf("IssuedCert(4) = %+v, %v; want a filled-in Issued", got, err)
	}
}

func testCARevocations(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	for _, s := range []int64{1, 2, 3} {
		if err := b.PutIssuedCert(ctx, sampleCert(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := b.Revocations(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Revocations of a fresh store = %v, %v", got, err)
	}
	// Revoked out of serial order and time order, to check the ordering.
	revs := []*store.Revocation{
		{Serial: big.NewInt(3), Time: at.Add(2 * time.Hour), Reason: 1},
		{Serial: big.NewInt(2), Time: at.Add(time.Hour), Reason: 4},
	}
	for _, r := range revs {
		if err := b.Revoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Revoke(ctx, &store.Revocation{Serial: big.NewInt(3), Time: at, Reason: 5}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("revoking twice: %v, want ErrConflict", err)
	}
	if err := b.Revoke(ctx, &store.Revocation{Serial: big.NewInt(9), Time: at}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking a serial never issued: %v, want ErrNotFound", err)
	}
	got, err := b.Revocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Revocations returned %d, want 2", len(got))
	}
	for i, want := range []*store.Revocation{revs[1], revs[0]} {
		if got[i].Serial.Cmp(want.Serial) != 0 || !got[i].Time.Equal(want.Time) || got[i].Reason != want.Reason {
			t.Errorf("Revocations[%d] = %+v, want %+v", i, got[i], want)
		}
	}
}

func samplePending(n byte, created time.Time) *store.CAPending {
	return &store.CAPending{ID: bytes.Repeat([]byte{n}, 20), Created: created, Request: []byte{'r', n}}
}

// testCAPending: a pending request is stored once, listed while undecided
// (oldest first), decided once, and taken once.
func testCAPending(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	if got, err := b.UndecidedCAPending(ctx); err != nil || len(got) != 0 {
		t.Fatalf("UndecidedCAPending of a fresh store = %v, %v", got, err)
	}
	// Stored out of time order, with a tie broken by ID.
	reqs := []*store.CAPending{samplePending(3, at.Add(time.Hour)), samplePending(2, at), samplePending(1, at)}
	for _, p := range reqs {
		if err := b.PutCAPending(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PutCAPending(ctx, samplePending(2, at)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutCAPending of a used ID: %v, want ErrConflict", err)
	}
	if err := b.PutCAPending(ctx, &store.CAPending{ID: []byte{9}, Created: at}); err == nil {
		t.Error("PutCAPending accepted an empty request")
	}
	got, err := b.CAPending(ctx, reqs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.ID, reqs[0].ID) || !got.Created.Equal(reqs[0].Created) || !bytes.Equal(got.Request, reqs[0].Request) || got.Answer != nil {
		t.Errorf("CAPending = %+v, want %+v", got, reqs[0])
	}
	if _, err := b.CAPending(ctx, []byte("nothing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CAPending of an unknown ID: %v, want ErrNotFound", err)
	}
	list, err := b.UndecidedCAPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []byte
	for _, p := range list {
		ids = append(ids, p.ID[0])
	}
	if !bytes.Equal(ids, []byte{1, 2, 3}) {
		t.Errorf("UndecidedCAPending order %v, want [1 2 3]", ids)
	}

	if err := b.DecideCAPending(ctx, reqs[1].ID, []byte("yes")); err != nil {
		t.Fatal(err)
	}
	if err := b.DecideCAPending(ctx, reqs[1].ID, []byte("no")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("deciding twice: %v, want ErrConflict", err)
	}
	if err := b.DecideCAPending(ctx, []byte("nothing"), []byte("no")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deciding an unknown request: %v, want ErrNotFound", err)
	}
	if got, err := b.CAPending(ctx, reqs[1].ID); err != nil || string(got.Answer) != "yes" {
		t.Errorf("decided CAPending = %+v, %v; want answer yes", got, err)
	}
	if list, err := b.UndecidedCAPending(ctx); err != nil || len(list) != 2 {
		t.Errorf("UndecidedCAPending after a decision = %d requests, %v; want 2", len(list), err)
	}

	took, err := b.TakeCAPending(ctx, reqs[1].ID)
	if err != nil || string(took.Answer) != "yes" || !bytes.Equal(took.Request, reqs[1].Request) {
		t.Fatalf("TakeCAPending = %+v, %v", took, err)
	}
	if _, err := b.TakeCAPending(ctx, reqs[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second TakeCAPending: %v, want ErrNotFound", err)
	}
	if err := b.DecideCAPending(ctx, reqs[1].ID, []byte("no")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deciding a taken request: %v, want ErrNotFound", err)
	}
}

// testCAPendingConcurrent: of concurrent deciders exactly one decides, and
// of concurrent takers exactly one takes.
func testCAPendingConcurrent(t *testing.T, b store.CAStore) {
	ctx := context.Background()
	p := samplePending(7, at)
	if err := b.PutCAPending(ctx, p); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var decided, took atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := b.DecideCAPending(ctx, p.ID, []byte{byte(i) + 1})
			switch {
			case err == nil:
				decided.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("DecideCAPending: %v", err)
			}
		})
	}
	wg.Wait()
	for range n {
		wg.Go(func() {
			_, err := b.TakeCAPending(ctx, p.ID)
			switch {
			case err == nil:
				took.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("TakeCAPending: %v", err)
			}
		})
	}
	wg.Wait()
	if decided.Load() != 1 || took.Load() != 1 {
		t.Errorf("%d deciders and %d takers succeeded, want 1 and 1", decided.Load(), took.Load())
	}
}
