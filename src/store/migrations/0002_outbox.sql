-- 0002_outbox: forwarding. The outbox (one entry per record key and destination, written in the
-- ingest transaction), the delivery log, dead letters with their re-drives, and the state of each
-- destination. docs/forwarding.md explains the design; src/sync/ is the engine.

-- ── outbox ───────────────────────────────────────────────────────────────────────────────────────
-- One row per (destination, record key), not per version. A new version moves `wanted_version`
-- forward in the same transaction that stores the version, so:
-- - versions superseded while queued are coalesced by construction (only the newest is sent);
-- - there is never more than one entry per key in flight, so an older version can never overtake
--   a newer one on the wire;
-- - the claim index holds only what is due, however many keys were ever delivered.
-- Mutable on purpose: it is delivery state, not a case record. What was sent and answered is
-- appended to `deliveries`.
CREATE TABLE outbox (
  id               bigserial   PRIMARY KEY,
  destination      text        NOT NULL,
  dept_code        text        NOT NULL,
  record_type      text        NOT NULL,
  business_key     text        NOT NULL,
  -- the newest version to deliver, and its row in records (id, received_at)
  wanted_version   integer     NOT NULL,
  record_id        bigint      NOT NULL,
  record_at        timestamptz NOT NULL,
  -- pending: due at next_attempt_at; leased: a worker is sending it; done: the receiver has
  -- wanted_version (or refused it: see dead_letters)
  state            text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'done')),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  -- attempts at the current version; reset when a version is settled
  attempts         integer     NOT NULL DEFAULT 0,
  -- when the current run of failures began, for maxRetryHours
  first_failed_at  timestamptz,
  lease_version    integer,
  lease_until      timestamptz,
  leased_by        text,
  -- the last version the receiver acknowledged or refused
  settled_version  integer,
  last_error       jsonb,
  enqueued_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (destination, dept_code, record_type, business_key)
);

-- The claim: due entries of one destination, oldest first.
CREATE INDEX outbox_due ON outbox (destination, next_attempt_at) WHERE state = 'pending';
-- The reaper: leases that ran out (a killed worker).
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE state = 'leased';

-- ── deliveries: what each receiver acknowledged, append-only ─────────────────────────────────────
-- One row per acknowledged version: the "acknowledged" side of reconciliation (received =
-- acknowledged per department and day) and the delivery latency.
CREATE TABLE deliveries (
  id               bigserial   NOT NULL,
  destination      text        NOT NULL,
  dept_code        text        NOT NULL,
  record_type      text        NOT NULL,
  business_key     text        NOT NULL,
  version          integer     NOT NULL,
  idempotency_key  text        NOT NULL,
  -- new: the receiver stored it now; duplicate: it already had it (a resend after a lost answer)
  outcome          text        NOT NULL CHECK (outcome IN ('new', 'duplicate')),
  receiver_ref     text,
  record_at        timestamptz NOT NULL,
  acked_at         timestamptz NOT NULL,
  attempts         integer     NOT NULL,
  PRIMARY KEY (id, acked_at)
) PARTITION BY RANGE (acked_at);

CREATE INDEX deliveries_dept_day ON deliveries (destination, dept_code, acked_at);

-- ── dead letters ─────────────────────────────────────────────────────────────────────────────────
-- A version the receiver refused (or that exhausted its retries). It stays until re-driven or
-- superseded; the re-drives themselves are appended to redrives.
CREATE TABLE dead_letters (
  id               bigserial   PRIMARY KEY,
  outbox_id        bigint      NOT NULL REFERENCES outbox (id),
  destination      text        NOT NULL,
  dept_code        text        NOT NULL,
  record_type      text        NOT NULL,
  business_key     text        NOT NULL,
  version          integer     NOT NULL,
  record_id        bigint      NOT NULL,
  record_at        timestamptz NOT NULL,
  -- rejected: the receiver refused it; exhausted: transient failures for longer than maxRetryHours
  cause            text        NOT NULL CHECK (cause IN ('rejected', 'exhausted')),
  reason           jsonb       NOT NULL,
  answer           jsonb,
  attempts         integer     NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- open → redriven (sent again on request) or superseded (a newer version was delivered)
  state            text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'redriven', 'superseded')),
  resolved_at      timestamptz,
  resolved_by      text
);

CREATE INDEX dead_letters_open ON dead_letters (destination, dept_code, created_at) WHERE state = 'open';
CREATE INDEX dead_letters_outbox ON dead_letters (outbox_id) WHERE state = 'open';

-- Who re-drove what, and when: append-only, like the other audit tables.
CREATE TABLE redrives (
  id               bigserial   PRIMARY KEY,
  job_id           bigint,
  dead_letter_id   bigint      NOT NULL REFERENCES dead_letters (id),
  actor            text        NOT NULL,
  at               timestamptz NOT NULL DEFAULT now(),
  -- requeued: sent again; superseded: a newer version had already been delivered, nothing to send
  result           text        NOT NULL CHECK (result IN ('requeued', 'superseded'))
);

-- A re-drive of everything matching a filter runs in batches and can be paused and resumed.
CREATE TABLE redrive_jobs (
  id               bigserial   PRIMARY KEY,
  filter           jsonb       NOT NULL,
  actor            text        NOT NULL,
  state            text        NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'done')),
  batch_size       integer     NOT NULL CHECK (batch_size BETWEEN 1 AND 10000),
  -- the filter matches dead letters with id > after_id that were open when the job started
  after_id         bigint      NOT NULL DEFAULT 0,
  up_to_id         bigint      NOT NULL,
  requeued         integer     NOT NULL DEFAULT 0,
  superseded       integer     NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- ── destination state: paused by an auth/config failure or by an operator ───────────────────────
CREATE TABLE destination_state (
  destination      text        PRIMARY KEY,
  paused           boolean     NOT NULL DEFAULT false,
  paused_reason    jsonb,
  paused_at        timestamptz,
  paused_by        text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- ── append-only: the delivery log and the re-drive log ───────────────────────────────────────────

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['deliveries', 'redrives'] LOOP
    EXECUTE format('CREATE TRIGGER govgate_append_only BEFORE UPDATE OR DELETE ON %I
                    FOR EACH ROW EXECUTE FUNCTION govgate_refuse_change()', t);
    EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER govgate_append_only', t);
    EXECUTE format('CREATE TRIGGER govgate_no_truncate BEFORE TRUNCATE ON %I
                    FOR EACH STATEMENT EXECUTE FUNCTION govgate_refuse_change()', t);
    EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER govgate_no_truncate', t);
  END LOOP;
END
$$;

-- ── monthly partitions now include deliveries ────────────────────────────────────────────────────
-- Same function as 0001 with deliveries added to the list (migrations are forward-only).

CREATE OR REPLACE FUNCTION govgate_ensure_partitions(p_from date, p_months integer) RETURNS integer
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
    FOREACH parent IN ARRAY ARRAY['raw_inbox', 'records', 'rejections', 'receipts', 'deliveries'] LOOP
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
