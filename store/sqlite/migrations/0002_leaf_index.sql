-- Lookups by leaf hash and by idempotency key without a random index write per entry.
--
-- Version 1 indexed entries(leaf_hash): hashes are random, so once that index outgrew a batch
-- every appended entry dirtied an index page of its own, which SQLite writes to the WAL at
-- commit and again at checkpoint; appends slowed from about 50,000 to 28,000 entries/s between
-- an empty store and one of a million entries. Version 2 keeps two structures instead (see
-- leafindex.go):
--
--   entries_leaf_recent  an index on (epoch, first 8 bytes of leaf_hash), where an entry's
--                        epoch is idx >> epoch_bits: one small subtree per epoch of 65,536
--                        entries, so an append only touches the pages of the newest epoch,
--                        however large the log;
--   leaf_index           every complete block of 2^block_bits entries, merged from that index
--                        a little at each append while the next block fills, sorted by prefix,
--                        so that a lookup of an old entry is one search whatever the log's size.
--
-- A lookup searches leaf_index, then each epoch not yet merged, and compares the whole
-- leaf_hash of every candidate.
--
-- The UNIQUE constraint on key becomes a partial index: the constraint's index held a row
-- for every entry, NULL keys included. Dropping a column constraint means rebuilding the table.

-- The layout (epoch_bits, block_bits) is fixed when the store is created, and how far the
-- merge into leaf_index has gone: blocks of 2^block_bits entries are wholly in it, and block
-- number "blocks", if complete, is in it for prefixes below "cursor" (8 bytes, big-endian).
CREATE TABLE leaf_index_state (
	one        INTEGER PRIMARY KEY CHECK (one = 1),
	epoch_bits INTEGER NOT NULL CHECK (epoch_bits BETWEEN 0 AND 40),
	block_bits INTEGER NOT NULL CHECK (block_bits BETWEEN epoch_bits AND 40),
	blocks     INTEGER NOT NULL,
	cursor     BLOB NOT NULL
);
INSERT INTO leaf_index_state (one, epoch_bits, block_bits, blocks, cursor)
	VALUES (1, 16, 20, (SELECT coalesce(max(idx) + 1, 0) FROM entries) >> 20, zeroblob(8));

CREATE TABLE entries_v2 (
	idx       INTEGER PRIMARY KEY,  -- the entry's index in the log, the rowid
	leaf      BLOB NOT NULL,        -- the exact leaf bytes
	leaf_hash BLOB NOT NULL,        -- tlog.RecordHash(leaf)
	key       TEXT,                 -- idempotency key, NULL for none; unique (entries_key)
	epoch     INTEGER NOT NULL      -- idx >> leaf_index_state.epoch_bits
);
INSERT INTO entries_v2 (idx, leaf, leaf_hash, key, epoch)
	SELECT idx, leaf, leaf_hash, key, idx >> 16 FROM entries ORDER BY idx;
DROP TABLE entries;
ALTER TABLE entries_v2 RENAME TO entries;

CREATE UNIQUE INDEX entries_key ON entries (key) WHERE key IS NOT NULL;

CREATE INDEX entries_leaf_recent ON entries (epoch, substr(leaf_hash, 1, 8));

CREATE TABLE leaf_index (
	prefix BLOB NOT NULL,           -- substr(leaf_hash, 1, 8) of entry idx
	idx    INTEGER NOT NULL,
	PRIMARY KEY (prefix, idx)
) WITHOUT ROWID;

-- A store written by version 1 gets its complete blocks merged here, in one sort.
INSERT INTO leaf_index (prefix, idx)
	SELECT substr(leaf_hash, 1, 8), idx FROM entries WHERE idx < (SELECT blocks << 20 FROM leaf_index_state)
	ORDER BY 1, 2;
