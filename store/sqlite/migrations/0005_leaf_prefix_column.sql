-- entries_leaf_recent indexes a stored column, prefix, instead of the expression
-- substr(leaf_hash, 1, 8).
--
-- SQLite opens a statement journal for every multi-row INSERT into a table with an index on an
-- expression, INSERT OR ROLLBACK notwithstanding, and copies into it each page the statement
-- first changes: with 16 KiB pages and idempotency keys that fall all over entries_key (random
-- observation ids), that copying was half of an append's CPU. An index on a stored column
-- needs no statement journal.
--
-- prefix is filled for the entries not yet wholly merged into leaf_index (from block "blocks"
-- on), the only ones entries_leaf_recent is searched for; older rows keep NULL. On a large
-- store that rewrites the rows of the last one or two blocks (at most 2^21 entries), once.
ALTER TABLE entries ADD COLUMN prefix BLOB; -- substr(leaf_hash, 1, 8), see above
UPDATE entries SET prefix = substr(leaf_hash, 1, 8)
	WHERE idx >= (SELECT blocks << block_bits FROM leaf_index_state);
DROP INDEX entries_leaf_recent;
CREATE INDEX entries_leaf_recent ON entries (epoch, prefix);
