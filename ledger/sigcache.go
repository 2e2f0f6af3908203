package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"sync"
	"sync/atomic"
)

// batchCacheSlots is how many verified batch signatures [Verify] remembers. A batch is
// verified once, then each of its up to MaxBatchSize entries hits the cache; thousands of
// slots cover the batches in flight at tens of thousands of entries a second, for the Log's
// authorization and for an archive's verification alike.
const batchCacheSlots = 4096

// batchCacheShards spreads the slots over locks so that parallel verifiers rarely wait.
const batchCacheShards = 16

// batchSigs is the cache behind [Verify]. Sharing it is safe: a slot holds only the hash of
// a (public key, message, signature) triple that ed25519 verified.
var batchSigs batchCache

// batchCache remembers verified ed25519 (public key, message, signature) triples, keyed by
// SHA-256(pub || msg || sig); pub and sig have fixed lengths, so the key binds all three. It
// is bounded (batchCacheSlots, oldest evicted first within a shard) and safe for concurrent
// use; the zero value is ready. Only verified triples enter it, so a hit is as good as a
// verification.
type batchCache struct {
	shards   [batchCacheShards]cacheShard
	hits     atomic.Int64 // lookups answered from the cache
	verifies atomic.Int64 // ed25519 verifications done on a miss
}

type cacheShard struct {
	mu   sync.Mutex
	set  map[[sha256.Size]byte]struct{}
	ring [batchCacheSlots / batchCacheShards][sha256.Size]byte // insertion order
	n    int                                                   // insertions so far
}

// verify reports whether sig is pub's signature of msg, from the cache when it can.
func (c *batchCache) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	var buf [512]byte // room for the key's input on the stack: msg is about 200 bytes
	key := sha256.Sum256(append(append(append(buf[:0], pub...), msg...), sig...))
	if c.lookup(key) {
		c.hits.Add(1)
		return true
	}
	c.verifies.Add(1)
	if !ed25519.Verify(pub, msg, sig) {
		return false
	}
	c.add(key)
	return true
}

func (c *batchCache) shard(key [sha256.Size]byte) *cacheShard {
	return &c.shards[key[0]%batchCacheShards]
}

func (c *batchCache) lookup(key [sha256.Size]byte) bool {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[key]
	return ok
}

// add remembers key, evicting the shard's oldest key when the shard is full.
func (c *batchCache) add(key [sha256.Size]byte) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[key]; ok {
		return // verified in parallel by another caller
	}
	if s.set == nil {
		s.set = make(map[[sha256.Size]byte]struct{}, len(s.ring))
	}
	slot := &s.ring[s.n%len(s.ring)]
	if s.n >= len(s.ring) {
		delete(s.set, *slot)
	}
	*slot = key
	s.set[key] = struct{}{}
	s.n++
}

// size returns the number of keys held.
func (c *batchCache) size() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.set)
		s.mu.Unlock()
	}
	return n
}
