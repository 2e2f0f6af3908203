// Package ledger is truce's evidence log: an append-only Merkle log (RFC 6962 hashing,
// through golang.org/x/mod/sumdb/tlog) of signed entries, with signed checkpoints (C2SP
// signed note and tlog-checkpoint) and inclusion and consistency proofs.
//
// # Entries
//
// An [Entry] is one input: its [Kind], the submitting identity, the submitter's time, a
// payload in canonical JSON ([Canonicalize]) and the submitter's ed25519 signature over
// [Entry.SignedMessage]. The log adds the time of receipt. The entry's leaf, the bytes that
// are hashed into the tree, is one line of JSON with a fixed field order ([Entry] describes
// it); [ParseLeaf] accepts exactly that encoding, so one entry has one leaf hash.
//
// A submitter may sign many entries with one signature ([SignBatch]): it signs the RFC 6962
// Merkle root of the entries' digests ([BatchSignedMessage]), and each entry carries its
// index and audit path ([BatchProof]), so it stays a leaf of its own that [Verify] checks
// offline without the rest of its batch. Verify remembers the batch signatures it checked,
// so a batch of a thousand entries costs one ed25519 verification, not a thousand.
//
// # The log
//
// [Open] starts a [Log] over a store.Store. [Log.Append] is the commit point: the entry is
// authorized (identity and signature, in the caller's goroutine), queued, sequenced by one
// goroutine that writes every queued entry in one store transaction (group commit), and only
// then is the [Receipt] (index, leaf hash, time of receipt) returned. Idempotency keys
// ([Log.AppendWithKey]) make retries safe. [Log.Checkpoint] signs the tree's size and root
// with the mission's key ([NewNoteSigner]), which parties check with [VerifierKey] and any
// standard note library; [Log.InclusionProof] and [Log.ConsistencyProof] prove entries and
// history against checkpoints.
//
// Package ledger/verify checks an exported archive offline, as the parties do.
//
// # Limits
//
//   - One Log is the only writer of its store; a second writer makes appends fail with
//     store.ErrConflict until the Log reloads.
//   - Authorization checks identity and signature, not whether an identity's role may
//     submit a kind, nor how far the submitter's clock is from the log's.
//   - Verify's memory of batch signatures is shared by the process and bounded (4096
//     batches, oldest forgotten first): the entries of a batch checked far apart, among
//     thousands of other batches, cost another ed25519 verification each time it is
//     forgotten. Nothing stops one batch entry from being appended twice, as nothing stops
//     a singly signed one; idempotency keys do.
//   - An append whose context ends while it waits, or whose store write fails after the
//     database committed it (a lost reply), may still be in the log: resubmit it with the
//     same idempotency key to get its receipt.
//   - Open checks the tree's right edge against the latest checkpoint, not every stored
//     hash; verify.VerifyArchive checks everything.
//   - Proofs are served from the store one at a time; there is no tlog-tiles endpoint and
//     no witness cosigning.
package ledger
