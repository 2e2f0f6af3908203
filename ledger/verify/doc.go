// Package verify checks a truce ledger offline, as the parties do: an [Archive] of the
// log's entries and checkpoints is re-hashed and re-verified by [VerifyArchive] against the
// log's verifier key and the agreement's identities, and checkpoints the user kept from
// earlier show whether the history was rewritten since. [CheckInclusion] and
// [CheckConsistency] check the proofs a log server answers with.
//
// The package holds no store or server code: it depends on package ledger for the entry
// format and signatures (single and batched) and on golang.org/x/mod/sumdb for hashing and
// signed notes (ledger adds github.com/transparency-dev/merkle for batch proofs), so a
// party can build its own checker from it.
//
// # Limits
//
// An archive is read whole into memory (about the size of the file). VerifyArchive proves
// what the log signed; it does not judge whether an entry's content is true, nor whether
// the submitter's role allows its kind. Without the trusted verifier key it proves only
// that the archive is self-consistent.
package verify
