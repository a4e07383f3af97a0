-- 0004_json_as_sent: record contents and receipts are kept as `json` (the text as written), not
-- `jsonb` (a parsed tree).
--
-- Why: they are written once, read whole and never queried inside by the gateway. Parsing them into
-- jsonb was the largest single cost of the ingest write — PostgreSQL spent ≈ 40 µs of a record's
-- ≈ 80 µs on it, all while the department's chain-head lock was held (docs/performance.md). `json`
-- only checks the syntax. It also keeps the exact text: a record's stored content is its canonical
-- JSON (RFC 8785), so sha256(content::text) = digest, which an auditor can check in SQL alone.
-- The -> and ->> operators still work on json; indexing inside a record would need jsonb, and an
-- expression index can cast.
--
-- Rewrites both tables. ALTER … TYPE on the partitioned parent recurses into every partition, and
-- partitions created later take the parent's type.

ALTER TABLE records ALTER COLUMN content TYPE json USING content::json;
ALTER TABLE receipts ALTER COLUMN body TYPE json USING body::json;
