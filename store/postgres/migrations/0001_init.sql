-- The ledger's entries, its Merkle tree's stored hashes (tlog numbering) and signed checkpoints.
-- Table and column names are part of the store's contract: tests elsewhere read them directly.

CREATE TABLE entries (
	idx       bigint PRIMARY KEY,   -- the entry's index in the log
	leaf      bytea NOT NULL,       -- the exact leaf bytes
	leaf_hash bytea NOT NULL,       -- tlog.RecordHash(leaf)
	key       text UNIQUE           -- idempotency key, NULL for none
);

CREATE INDEX entries_leaf_hash ON entries (leaf_hash);

CREATE TABLE hashes (
	idx  bigint PRIMARY KEY,        -- tlog stored-hash index
	hash bytea NOT NULL
);

CREATE TABLE checkpoints (
	size bigint PRIMARY KEY,        -- tree size
	note bytea NOT NULL             -- the whole signed note
);

-- The log's size, one row: Append locks it (SELECT ... FOR UPDATE) to check and move the size,
-- so that appends from several API nodes cannot interleave, and Size reads it in O(1).
CREATE TABLE log_size (
	one     boolean PRIMARY KEY DEFAULT true CHECK (one),
	entries bigint NOT NULL,
	hashes  bigint NOT NULL
);

INSERT INTO log_size (entries, hashes) VALUES (0, 0);
