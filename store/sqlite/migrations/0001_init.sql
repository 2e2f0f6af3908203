-- The ledger's entries, its Merkle tree's stored hashes (tlog numbering) and signed checkpoints.
-- Table and column names are part of the store's contract: tests elsewhere read them directly.

CREATE TABLE entries (
	idx       INTEGER PRIMARY KEY,  -- the entry's index in the log, the rowid
	leaf      BLOB NOT NULL,        -- the exact leaf bytes
	leaf_hash BLOB NOT NULL,        -- tlog.RecordHash(leaf)
	key       TEXT UNIQUE           -- idempotency key, NULL for none
);

CREATE INDEX entries_leaf_hash ON entries (leaf_hash);

CREATE TABLE hashes (
	idx  INTEGER PRIMARY KEY,       -- tlog stored-hash index
	hash BLOB NOT NULL
);

CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,       -- tree size
	note BLOB NOT NULL              -- the whole signed note
);
