/**
 * What every adapter kind declares. An adapter kind is one file exporting one definition; the
 * registry (./index.ts) lists them all. The engine (src/sync/) knows adapters only through these
 * types, so a new kind — a legacy form-post receiver, a 前置库 writer — is one new file and one
 * registry line, never an engine change.
 */
import type { SchemaNode } from '../config/schema.js';

export interface Doc {
  readonly zh: string;
  readonly en: string;
}

/** The outcome of `check()`: connectivity and credentials, said in both languages. */
export interface CheckResult {
  readonly ok: boolean;
  readonly message: Doc;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface AdapterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

// ── destinations ───────────────────────────────────────────────────────────────────────────────────

/** One record version on its way out, as the delivery engine hands it to a destination. */
export interface OutboundRecord {
  /** The outbox entry (bigint as text). */
  readonly entryId: string;
  readonly deptCode: string;
  readonly recordType: string;
  readonly businessKey: string;
  /** The gateway's version of the record (1, 2, 3 … per key). */
  readonly version: number;
  readonly dataVer: number | null;
  /** `<deptCode>:<recordType>:<version>:<businessKey>` — one per record version, see docs/spec/upstream.md. */
  readonly idempotencyKey: string;
  /** The normalized record in the standard JSON shape (parsed on first use). */
  readonly content: Readonly<Record<string, unknown>>;
  /** The same record as JSON text, for encoders that send JSON as it is. */
  readonly contentJson: string;
  /** When the gateway accepted this version (start of the delivery-latency clock). */
  readonly receivedAt: Date;
}

/**
 * How a delivery attempt ended, in the one classification every destination maps its answers to
 * (src/sync/classify.ts holds the table for transport errors and HTTP statuses):
 * - `delivered`  the receiver has the record (new, or already had it: a duplicate is a success);
 * - `rejected`   the receiver refused this record for a reason of its own → dead letter, no retry;
 * - `transient`  try again later with backoff (5xx, 429, timeouts, connection errors);
 * - `auth`       our credentials were refused → pause the destination and alert, do not burn retries;
 * - `config`     the request itself is wrong (bad URL, 404, 400 for the whole batch, an encoder
 *                that cannot express a record) → pause and alert, like `auth`.
 */
export type DeliveryClass = 'delivered' | 'rejected' | 'transient' | 'auth' | 'config';

/** The receiver's own words, kept with the attempt and the dead letter (truncated; never credentials). */
export interface ReceiverAnswer {
  readonly status?: number;
  readonly body?: string;
  /** Transport error code (ETIMEDOUT, ECONNRESET …) when there was no answer. */
  readonly error?: string;
}

export interface RecordVerdict {
  readonly entryId: string;
  readonly class: 'delivered' | 'rejected' | 'transient';
  /** Why (rejected / transient): the receiver's code and text. */
  readonly reason?: { readonly code: string; readonly message: Doc; readonly findings?: readonly unknown[] };
  /** The receiver's reference for the record, when it gives one. */
  readonly receiverRef?: string;
}

/**
 * One request's outcome. `ok` means the receiver answered for each record (`records`, one verdict
 * per record sent); any other class applies to every record of the request.
 */
export type BatchVerdict =
  | { readonly class: 'ok'; readonly records: readonly RecordVerdict[]; readonly answer: ReceiverAnswer }
  | {
      readonly class: 'transient' | 'auth' | 'config';
      readonly reason: { readonly code: string; readonly message: Doc };
      readonly answer: ReceiverAnswer;
      /** The receiver's Retry-After, when it sent one. */
      readonly retryAfterMs?: number;
    };

export interface Destination {
  readonly name: string;
  readonly kind: string;
  /**
   * Sends records of ONE department in one request (the engine groups them), and classifies the
   * outcome. Never throws for anything the receiver or the network does: every outcome is a
   * verdict. Throwing means a bug, and the engine treats it as `config`.
   */
  send(records: readonly OutboundRecord[], signal: AbortSignal): Promise<BatchVerdict>;
  check(): Promise<CheckResult>;
  close(): Promise<void>;
}

export interface DestinationContext {
  readonly logger: AdapterLogger;
  readonly env: NodeJS.ProcessEnv;
}

export interface DestinationKind<O = Record<string, unknown>> {
  readonly kind: string;
  readonly direction: 'destination';
  readonly doc: Doc & { readonly details?: Doc };
  /** JSON Schema of `options`, annotated like the gateway config (x-doc, x-secret, x-env). */
  readonly optionsSchema: SchemaNode;
  /** Checks beyond the schema (cross-field rules); returns problems, empty when fine. */
  validate?(options: O, env: NodeJS.ProcessEnv): readonly { path: string; zh: string; en: string }[];
  create(name: string, options: O, context: DestinationContext): Destination;
}

// ── pull adapters ──────────────────────────────────────────────────────────────────────────────────
// Kinds that go and get data from a department (rest-poll, soap-poll, db-pull, file-drop). An
// adapter only fetches and hands payloads to its run (`PullRun.emit`); the runner
// (src/adapters/pull/runner.ts) puts every payload through the same intake → mapping → validation
// → ingest path as a push, and commits the adapter's cursor, seen digests and ledger entries in
// the ingest transaction of the payload they cover.

import type { Department } from '../config/departments.js';
import type { IntakeLimits } from '../pipeline/intake.js';
import type { Validator } from '../schemas/validate.js';
import type { Db, Tx } from '../store/db.js';
import type { IngestInput, IngestResult, Receipt } from '../store/queries/ingest.js';
import type { JsonValue, LedgerEntry, RunCounts, RunStatus, RunTrigger, SeenRow } from '../store/queries/pull.js';

export type { JsonValue, LedgerEntry, RunTrigger, SeenRow };

/**
 * The store's ingest as the composition root wires it: `ingest(db, input, { inTransaction,
 * ...ingestOptions })`, so pulled records are routed exactly like pushed ones. `inTransaction`
 * runs inside the ingest transaction, after the payload is written and before COMMIT.
 */
export type PullIngest = (input: IngestInput, inTransaction?: (tx: Tx, result: IngestResult) => Promise<void>) => Promise<IngestResult>;

/** What every pull run gets from the process that runs it (the gateway, or `govgate pull`). */
export interface PullContext {
  readonly ingest: PullIngest;
  /** For the pull tables outside the ingest transaction: cursors, ledger, run history. */
  readonly db: Db;
  readonly validator: Validator;
  readonly departments: readonly Department[];
  readonly limits: IntakeLimits;
  readonly logger: AdapterLogger;
  /** Names this process in the run history (host:pid). */
  readonly instance: string;
}

/** One configured adapter (`pull.adapters[]`), its options already checked against its kind's schema. */
export interface PullAdapterSpec<O = Record<string, unknown>> {
  readonly name: string;
  readonly kind: string;
  readonly dept: string;
  readonly schedule: string;
  readonly enabled: boolean;
  readonly options: O;
}

export interface PullAdapterContext {
  readonly logger: AdapterLogger;
  readonly env: NodeJS.ProcessEnv;
  readonly department: Department;
  readonly limits: IntakeLimits;
}

export interface PullKind<O = Record<string, unknown>> {
  readonly kind: string;
  readonly direction: 'pull';
  readonly doc: Doc & { readonly details?: Doc };
  /** JSON Schema of `options`, annotated like the gateway config (x-doc, x-secret, x-default-doc). */
  readonly optionsSchema: SchemaNode;
  /** Whether `govgate pull --since/--until` can re-read a time range. */
  readonly backfill: boolean;
  /** Checks beyond the schema (cross-field rules, environment variables); empty when fine. */
  validate?(options: O, env: NodeJS.ProcessEnv): readonly { path: string; zh: string; en: string }[];
  create(spec: PullAdapterSpec<O>, context: PullAdapterContext): PullAdapter;
}

export interface PullAdapter {
  readonly name: string;
  readonly kind: string;
  /** Reaches the source with the configured credentials and reads nothing that moves state. */
  check(): Promise<CheckResult>;
  /**
   * One run: read from `run.cursor` (or `run.window` for a backfill) and emit payloads until the
   * source has nothing more or `run.signal` aborts. Throws GovgateError for source failures; what
   * was emitted before stays committed, with its cursor.
   */
  run(run: PullRun): Promise<void>;
  /** A reconciliation pass over a recent window (db-pull); scheduled by `sweepSchedule`. */
  sweep?(run: PullRun): Promise<void>;
  readonly sweepSchedule?: string;
  close(): Promise<void>;
}

export interface PulledBytes {
  readonly body: Uint8Array;
  readonly contentType: string;
  /** The charset the bytes were decoded with, when the adapter read them itself (kept with the raw payload). */
  readonly encoding?: string;
}

export interface PulledPayload {
  /** Stored unaltered in the raw inbox (evidence of what the source gave). */
  readonly raw: PulledBytes;
  /** What intake reads when it is not `raw` (CSV → JSON rows; the document inside a SOAP response). */
  readonly document?: PulledBytes;
  readonly batchId?: string;
}

export interface EmitOptions {
  /** The cursor after this payload, committed in its transaction. Absent: unchanged. */
  readonly cursor?: JsonValue;
  /** Source keys and digests to remember (db-pull overlap and sweep), committed with the payload. */
  readonly seen?: readonly SeenRow[];
  /** Ledger entries (hand-shake items) derived from the receipt, committed with the payload. */
  readonly ledger?: (receipt: Receipt) => readonly LedgerEntry[];
  /** The record count the sender declared (file-drop manifest); a different count rejects the payload. */
  readonly expectRecords?: number;
  /**
   * When the payload is rejected as a whole, resolve with `wholeRejected` instead of throwing
   * GOVGATE_PULL_PAYLOAD_REJECTED (file-drop moves such a batch to failed/ and carries on).
   */
  readonly tolerateRejection?: boolean;
}

export interface EmitResult {
  readonly receipt: Receipt;
  /** The payload as a whole was rejected: its raw bytes are kept; cursor and seen digests did not move. */
  readonly wholeRejected: boolean;
}

export interface PullRun {
  readonly adapter: string;
  readonly kind: string;
  readonly dept: string;
  readonly trigger: RunTrigger;
  readonly startedAt: Date;
  /** The committed cursor: as stored when the run began, then as each emit commits. */
  readonly cursor: JsonValue | undefined;
  /** `govgate pull --since/--until`: re-read this range; the cursor is left where it is. */
  readonly window?: { readonly since?: Date; readonly until?: Date };
  readonly signal: AbortSignal;
  readonly logger: AdapterLogger;
  emit(payload: PulledPayload, options?: EmitOptions): Promise<EmitResult>;
  /** Moves the cursor with no payload (every row of a page was already taken; an empty last page). */
  saveCursor(cursor: JsonValue): Promise<void>;
  /** Items read but not emitted because their digest is already stored: counted as seen and unchanged. */
  skipped(n: number): void;
  /** Stored digests (pull_seen) of these source keys. */
  seenDigests(keys: readonly string[]): Promise<Map<string, string>>;
  readonly ledger: {
    /** Ledger entries of these item keys, by `itemKey + ' ' + digest`. */
    lookup(itemKeys: readonly string[]): Promise<Map<string, LedgerEntry>>;
    unacked(): Promise<LedgerEntry[]>;
    ack(entries: readonly { itemKey: string; digest: string }[]): Promise<void>;
  };
  /** Adds to the run's `detail` (kept in job_runs). */
  note(detail: Readonly<Record<string, JsonValue>>): void;
}

/** How a run ended, as stored in job_runs and printed by `govgate pull`. */
export interface PullRunOutcome extends RunCounts {
  readonly runId: number;
  readonly adapter: string;
  readonly trigger: RunTrigger;
  readonly status: Exclude<RunStatus, 'running'>;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: Doc };
  readonly detail: Readonly<Record<string, JsonValue>>;
}
