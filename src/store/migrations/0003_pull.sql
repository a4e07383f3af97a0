-- 0003_pull: state of the pull adapters and of scheduled jobs. docs/pulling.md explains the
-- semantics; src/adapters/pull/runner.ts is the only writer.
--
-- All four tables are mutable bookkeeping, not evidence: the evidence of what a department sent is
-- raw_inbox, written by the same transactions.

-- ── pull_cursors: where each adapter has got to ──────────────────────────────────────────────────
-- One row per adapter. `cursor` is the kind's own JSON (db-pull: the last (update time, key) taken;
-- rest-poll/soap-poll: the updated-since instant of the next run). It is written ONLY inside the
-- ingest transaction of the payload it covers, so the stored cursor never runs ahead of the stored
-- data: a crash at any point resumes from a cursor whose data is committed.
-- `generation` moves on every write; a writer states the generation it read and fails when another
-- run moved it in between (a second instance, a manual run), instead of moving it backwards.
CREATE TABLE pull_cursors (
  adapter     text        PRIMARY KEY,
  kind        text        NOT NULL,
  cursor      jsonb,
  generation  bigint      NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- ── pull_seen: the last content digest taken per source key ──────────────────────────────────────
-- db-pull reads an overlap behind its cursor on every run (late commits, rows sharing a
-- timestamp); a row whose digest equals the one stored here is dropped before ingest, so the
-- overlap costs a comparison, not a raw payload. The sweep compares source keys and digests over a
-- window against this table. One row per key: it grows with the source table, like record_heads.
CREATE TABLE pull_seen (
  adapter     text        NOT NULL,
  source_key  text        NOT NULL,
  digest      bytea       NOT NULL CHECK (octet_length(digest) = 32),
  -- the source row's update time as the source printed it (text: its type is the source's)
  source_time text,
  seen_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (adapter, source_key)
);

-- ── pull_ledger: items taken, for hand-shakes with a second step ─────────────────────────────────
-- 前置库 (front-end database) flag mode and file-drop both have a step after the commit that can
-- be lost in a crash: flagging the source rows as taken, moving a batch to done/. The ledger row
-- commits with the data; the second step is then repeated until it succeeds, and the item is never
-- ingested twice (a row still flagged 0, a file still in the landing directory is found here).
-- item_key: db-pull the row key and DATAVER; file-drop `<manifest>/<file>`.
CREATE TABLE pull_ledger (
  adapter     text        NOT NULL,
  item_key    text        NOT NULL,
  digest      bytea       NOT NULL CHECK (octet_length(digest) = 32),
  -- 'accepted' | 'rejected': the outcome the second step reports back to the source
  outcome     text        NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
  reason      text,
  receipt_id  text        NOT NULL,
  taken_at    timestamptz NOT NULL DEFAULT now(),
  -- set once the second step succeeded (the source flagged, the files moved)
  acked_at    timestamptz,
  PRIMARY KEY (adapter, item_key, digest)
);

CREATE INDEX pull_ledger_unacked ON pull_ledger (adapter) WHERE acked_at IS NULL;

-- ── job_runs: every scheduled or manual run, for the dashboard ───────────────────────────────────
CREATE TABLE job_runs (
  id           bigserial   PRIMARY KEY,
  job          text        NOT NULL,
  -- the pull adapter, for pull jobs
  adapter      text,
  -- schedule | catch-up | manual | backfill | sweep
  trigger      text        NOT NULL,
  instance     text        NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  duration_ms  integer,
  -- running | ok | failed | aborted
  status       text        NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'aborted')),
  seen         integer     NOT NULL DEFAULT 0,
  accepted     integer     NOT NULL DEFAULT 0,
  rejected     integer     NOT NULL DEFAULT 0,
  unchanged    integer     NOT NULL DEFAULT 0,
  payloads     integer     NOT NULL DEFAULT 0,
  error        jsonb,
  detail       jsonb
);

CREATE INDEX job_runs_job_time ON job_runs (job, started_at DESC);
