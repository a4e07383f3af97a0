-- 0001_init: raw inbox with a hash chain per department, normalized record versions, rejections,
-- receipts and replay nonces. docs/storage.md explains the guarantees and their limits.
--
-- Runs with search_path set to the target schema, so every name here is unqualified.
-- Partitioned tables get their monthly partitions from govgate_ensure_partitions(), called by
-- migrate() and then daily; there is deliberately no DEFAULT partition (see docs/storage.md).

-- ── append-only enforcement ──────────────────────────────────────────────────────────────────────

-- SQLSTATE GG001 is govgate's own "append-only" code, so callers and tests can tell it from every
-- error PostgreSQL raises by itself.
CREATE FUNCTION govgate_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING
    ERRCODE = 'GG001',
    MESSAGE = format('%s on %s is refused: the table is append-only', TG_OP, TG_TABLE_NAME),
    HINT = 'stored data is never altered in place; a change is a new version row';
END
$$;

-- ── raw_inbox: every payload exactly as received ─────────────────────────────────────────────────

CREATE TABLE raw_inbox (
  id                bigserial   NOT NULL,
  receipt_id        text        NOT NULL,
  dept_code         text        NOT NULL CHECK (length(dept_code) BETWEEN 1 AND 64),
  source            text        NOT NULL,
  -- the sender's own batch id from the envelope, when it had one (trace and reconciliation)
  batch_id          text,
  received_at       timestamptz NOT NULL,
  content_type      text        NOT NULL,
  declared_encoding text,
  size_bytes        integer     NOT NULL,
  sha256            bytea       NOT NULL CHECK (octet_length(sha256) = 32),
  sm3               bytea       NOT NULL CHECK (octet_length(sm3) = 32),
  -- bytea, not jsonb or text: jsonb keeps only the last duplicate key, reorders keys and refuses
  -- \u0000, and GBK payloads are not text to PostgreSQL at all.
  body              bytea       NOT NULL,
  chain_seq         bigint      NOT NULL CHECK (chain_seq >= 1),
  prev_hash         bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
  chain_hash        bytea       NOT NULL CHECK (octet_length(chain_hash) = 32),
  CHECK (size_bytes = octet_length(body)),
  -- A unique key of a partitioned table must contain the partition key. receipt_id encodes
  -- received_at to the millisecond (src/store/ids.ts), so (receipt_id, received_at) is unique
  -- exactly when receipt_id is.
  PRIMARY KEY (id, received_at),
  UNIQUE (receipt_id, received_at)
) PARTITION BY RANGE (received_at);

-- The verifier walks each department's chain in order.
CREATE INDEX raw_inbox_dept_seq ON raw_inbox (dept_code, chain_seq);

-- The head of each department's chain, locked FOR UPDATE by every ingest of that department: it
-- serializes one department's writers (the chain needs the previous hash) while different
-- departments never wait for each other. Mutable on purpose; the verifier trusts only raw_inbox.
CREATE TABLE dept_chain_head (
  dept_code  text        PRIMARY KEY,
  seq        bigint      NOT NULL,
  hash       bytea       NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- ── records: normalized record versions ──────────────────────────────────────────────────────────

CREATE TABLE records (
  id            bigserial   NOT NULL,
  dept_code     text        NOT NULL,
  record_type   text        NOT NULL CHECK (record_type IN ('case', 'powerItem', 'supervision')),
  business_key  text        NOT NULL,
  -- the sender's data version (dataVer); null when the record type has none
  data_ver      integer,
  -- the gateway's own version of this key: 1, 2, 3 … with no gaps, assigned under the department lock
  version       integer     NOT NULL CHECK (version >= 1),
  -- sha256 of the record's canonical JSON (RFC 8785)
  digest        bytea       NOT NULL CHECK (octet_length(digest) = 32),
  content       jsonb       NOT NULL,
  warnings      jsonb,
  raw_id        bigint      NOT NULL,
  record_index  integer     NOT NULL,
  -- always the received_at of the raw payload, so (raw_id, received_at) is the raw row's primary
  -- key and a month's records and raw payloads fall into the same month and leave together
  received_at   timestamptz NOT NULL,
  -- No FOREIGN KEY (raw_id, received_at) → raw_inbox: measured, its per-row check was more than
  -- half the cost of the ingest write (≈23 µs a record; 15k → 11k records/s), and between
  -- partitioned tables it also orders and slows retention. raw_id comes from the same statement
  -- that inserts the raw row, and raw_inbox rows cannot be deleted; see docs/storage.md.
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);

-- Not UNIQUE: it could not be without received_at in it. record_heads is what makes
-- (dept, type, key, version) unique; see docs/storage.md.
CREATE INDEX records_key ON records (dept_code, record_type, business_key, version);

-- Latest version per key, for the "unchanged?" test at ingest. Mutable; records is not.
CREATE TABLE record_heads (
  dept_code    text        NOT NULL,
  record_type  text        NOT NULL,
  business_key text        NOT NULL,
  version      integer     NOT NULL,
  data_ver     integer,
  digest       bytea       NOT NULL,
  -- (record_id, received_at) is the head version's primary key in records
  record_id    bigint      NOT NULL,
  received_at  timestamptz NOT NULL,
  PRIMARY KEY (dept_code, record_type, business_key)
);

-- ── rejections ───────────────────────────────────────────────────────────────────────────────────

CREATE TABLE rejections (
  id            bigserial   NOT NULL,
  raw_id        bigint      NOT NULL,
  dept_code     text        NOT NULL,
  -- null when the payload as a whole was rejected before records could be read
  record_index  integer,
  record_type   text,
  business_key  text,
  data_ver      integer,
  findings      jsonb       NOT NULL,
  received_at   timestamptz NOT NULL,
  -- no foreign key to raw_inbox, for the same reasons as records
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);

CREATE INDEX rejections_dept_time ON rejections (dept_code, received_at);

-- ── receipts: the answer given for a submission, fetchable again ─────────────────────────────────

CREATE TABLE receipts (
  receipt_id  text        NOT NULL,
  raw_id      bigint      NOT NULL,
  dept_code   text        NOT NULL,
  created_at  timestamptz NOT NULL,
  body        jsonb       NOT NULL,
  -- created_at is derived from receipt_id, so this is a unique receipt_id (see raw_inbox);
  -- no foreign key to raw_inbox, as for records
  PRIMARY KEY (receipt_id, created_at)
) PARTITION BY RANGE (created_at);

-- ── nonces: signed-request replay protection ─────────────────────────────────────────────────────

CREATE TABLE nonces (
  key_id  text        NOT NULL,
  nonce   text        NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key_id, nonce)
);

CREATE INDEX nonces_seen_at ON nonces (seen_at);

-- ── triggers ─────────────────────────────────────────────────────────────────────────────────────
-- ENABLE ALWAYS: an ordinary trigger does not fire under session_replication_role = replica, which
-- any session with the right privilege can set. Row triggers on a partitioned table are cloned to
-- every partition, present and future; statement (TRUNCATE) triggers are not, so
-- govgate_ensure_partitions() adds one to each partition it creates.

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['raw_inbox', 'records', 'rejections', 'receipts'] LOOP
    EXECUTE format('CREATE TRIGGER govgate_append_only BEFORE UPDATE OR DELETE ON %I
                    FOR EACH ROW EXECUTE FUNCTION govgate_refuse_change()', t);
    EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER govgate_append_only', t);
    EXECUTE format('CREATE TRIGGER govgate_no_truncate BEFORE TRUNCATE ON %I
                    FOR EACH STATEMENT EXECUTE FUNCTION govgate_refuse_change()', t);
    EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER govgate_no_truncate', t);
  END LOOP;
END
$$;

-- ── monthly partitions ───────────────────────────────────────────────────────────────────────────

-- Creates the partitions of p_months months starting with the month of p_from, for every
-- partitioned table, where missing; returns how many it created. Months are China Standard Time
-- months (UTC+8, no daylight saving since 1991), the calendar the retention rules and monthly
-- reports speak in.
--
-- SECURITY DEFINER so a DML-only application role can keep partitions coming without owning the
-- tables (an owner could also disable the append-only triggers). EXECUTE is revoked from PUBLIC;
-- grant it to the application role.
CREATE FUNCTION govgate_ensure_partitions(p_from date, p_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  parent  text;
  i       integer;
  m       date;
  part    text;
  created integer := 0;
BEGIN
  IF p_months IS NULL OR p_months < 1 OR p_months > 120 THEN
    RAISE EXCEPTION 'p_months must be between 1 and 120, got %', p_months;
  END IF;
  -- CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator; two instances starting
  -- together take turns here instead.
  PERFORM pg_advisory_xact_lock(6778743, hashtext(current_schema()));
  -- Creating a partition takes an ACCESS EXCLUSIVE lock on the parent. Behind a long query it
  -- would queue every ingest behind itself; better to give up and let the daily run retry.
  PERFORM set_config('lock_timeout', '5s', true);
  FOR i IN 0 .. p_months - 1 LOOP
    m := (date_trunc('month', p_from) + make_interval(months => i))::date;
    FOREACH parent IN ARRAY ARRAY['raw_inbox', 'records', 'rejections', 'receipts'] LOOP
      part := format('%s_y%sm%s', parent, to_char(m, 'YYYY'), to_char(m, 'MM'));
      CONTINUE WHEN to_regclass(part) IS NOT NULL;
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                     part, parent, m::text || ' 00:00:00+08', (m + interval '1 month')::date::text || ' 00:00:00+08');
      EXECUTE format('CREATE TRIGGER govgate_no_truncate BEFORE TRUNCATE ON %I
                      FOR EACH STATEMENT EXECUTE FUNCTION govgate_refuse_change()', part);
      EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER govgate_no_truncate', part);
      created := created + 1;
    END LOOP;
  END LOOP;
  RETURN created;
END
$$;

-- A SECURITY DEFINER function must not resolve names through the caller's search_path; pin it to
-- this schema (pg_temp last, so a caller's temporary table cannot stand in for ours).
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION govgate_ensure_partitions(date, integer) SET search_path = %I, pg_temp', current_schema());
END
$$;

REVOKE ALL ON FUNCTION govgate_ensure_partitions(date, integer) FROM PUBLIC;
