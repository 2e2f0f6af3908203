-- Idempotency keys are looked up like leaf hashes (migration 0002), by the first 8 bytes of
-- their SHA-256, instead of through a unique index on the key itself.
--
-- Keys are whatever the submitters choose: UUIDs, "ais-<mmsi>-<time>" across a fleet. Once
-- the unique index entries_key outgrew a batch, each key of a commit fell on an index page of
-- its own, written to the WAL at commit and again at checkpoint: with random keys `truce
-- bench ingest` ran at 49,600 observations/s against 88,800 with ordered ones. Now:
--
--   entries.key_prefix   substr(sha256(key), 1, 8), NULL for no key; filled for the entries
--                        not yet wholly merged (idx >= blocks << block_bits), as prefix is;
--   entries_key_recent   on (epoch, key_prefix): appends write to the newest epoch only;
--   key_index            (prefix, idx) of every merged entry with a key, merged with
--                        leaf_index: the same blocks, the same cursor (both prefixes are
--                        uniform hashes, so one prefix range is the same share of each).
--
-- Keys stay unique, but the store checks it, not an index: a filter in memory of every key's
-- prefix answers "new" for almost every key, and the others are looked up (keyindex.go).
-- truce_key_prefix is registered by the store (keyindex.go); no index or view depends on it.
ALTER TABLE entries ADD COLUMN key_prefix BLOB; -- see above
UPDATE entries SET key_prefix = truce_key_prefix(key)
	WHERE key IS NOT NULL AND idx >= (SELECT blocks << block_bits FROM leaf_index_state);
CREATE INDEX entries_key_recent ON entries (epoch, key_prefix) WHERE key_prefix IS NOT NULL;

CREATE TABLE key_index (
	prefix BLOB NOT NULL,           -- key_prefix of entry idx
	idx    INTEGER NOT NULL,
	PRIMARY KEY (prefix, idx)
) WITHOUT ROWID;
-- Every merged block, and of a block being merged the prefixes below the cursor (it is 0 for a
-- block not complete, and nothing is below it).
INSERT INTO key_index (prefix, idx)
	SELECT truce_key_prefix(e.key), e.idx FROM entries AS e, leaf_index_state AS m
	WHERE e.key IS NOT NULL AND (e.idx < m.blocks << m.block_bits
		OR e.idx >> m.block_bits = m.blocks AND truce_key_prefix(e.key) < m.cursor)
	ORDER BY 1, 2;

DROP INDEX entries_key;
