package ledger

// BatchVerifications returns how many ed25519 verifications Verify has done for batch
// signatures (its cache misses), for the tests of package ledger_test.
func BatchVerifications() int64 { return batchSigs.verifies.Load() }
