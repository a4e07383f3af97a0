/**
 * Runs one pull adapter once: reads its stored cursor, gives the adapter a `PullRun`, puts every
 * payload it emits through the same path as a push (intake → mapping → validation → ingest), and
 * records the outcome in job_runs.
 *
 * The rule that makes a crash harmless: whatever an adapter must remember about a payload — its
 * cursor, the digests of the rows in it, ledger entries — is written by the ingest transaction's
 * `inTransaction` hook, so it commits with the payload or not at all. A run killed at any point
 * resumes from a cursor whose data is stored; at worst it reads again what was being read, and
 * digests make that a no-op.
 */
import { GovgateError, isGovgateError } from '../../errors.js';
import { readPayload, type ReadRecord } from '../../pipeline/read-payload.js';
import { payloadRejected, toIngestInput } from '../../pipeline/to-ingest.js';
import { finding, forRecord, type Finding } from '../../schemas/findings.js';
import type { Receipt } from '../../store/queries/ingest.js';
import {
  finishRun, ledgerAck, ledgerInsert, ledgerLookup, ledgerUnacked, readCursor, recordSeen, seenDigests, startRun, writeCursor,
  type JsonValue, type RunTrigger,
} from '../../store/queries/pull.js';
import type { EmitOptions, EmitResult, PullAdapter, PullAdapterSpec, PullContext, PulledPayload, PullRun, PullRunOutcome } from '../types.js';
import { aborted } from './common.js';

export interface RunOptions {
  readonly trigger: RunTrigger;
  /** Backfill range (`govgate pull --since/--until`). */
  readonly window?: { readonly since?: Date; readonly until?: Date };
  /** Aborts between payloads (SIGTERM). */
  readonly signal?: AbortSignal;
  /** `sweep` runs the adapter's reconciliation pass instead of a normal run. */
  readonly mode?: 'run' | 'sweep';
  /** Name in job_runs. @defaultValue `pull:<adapter>` (`pull:<adapter>:sweep` for sweeps) */
  readonly job?: string;
}

export function pullJobName(adapter: string, mode: 'run' | 'sweep' = 'run'): string {
  return mode === 'sweep' ? `pull:${adapter}:sweep` : `pull:${adapter}`;
}

/**
 * One run, start to finish. Never throws for anything the source or the data does — that is the
 * outcome's `status` and `error`; it throws only when the run history itself cannot be written.
 */
export async function runPull(adapter: PullAdapter, spec: PullAdapterSpec<unknown>, ctx: PullContext, options: RunOptions): Promise<PullRunOutcome> {
  const mode = options.mode ?? 'run';
  const job = options.job ?? pullJobName(spec.name, mode);
  const department = ctx.departments.find((d) => d.code === spec.dept);
  if (department === undefined) throw new TypeError(`pull adapter ${spec.name}: department ${spec.dept} is not loaded`);
  const signal = options.signal ?? new AbortController().signal;
  const startedAt = new Date();
  const runId = await startRun(ctx.db, { job, adapter: spec.name, trigger: options.trigger, instance: ctx.instance, startedAt });
  const logger = ctx.logger;

  const counts = { seen: 0, accepted: 0, rejected: 0, unchanged: 0, payloads: 0 };
  const detail: Record<string, JsonValue> = {};
  let payloadsRejected = 0;
  const stored = await readCursor(ctx.db, spec.name).catch((err: unknown) => ({ error: err }));
  let status: PullRunOutcome['status'] = 'ok';
  let error: PullRunOutcome['error'];

  if ('error' in stored) {
    status = 'failed';
    error = describe(stored.error, spec.name);
  } else {
    let cursor = stored.cursor;
    let generation = stored.generation;
    const cursorBefore = cursor;
    const source = `pull:${spec.name}`;

    // The last payload's commit: the next one is chained behind it (see emit).
    let commits: Promise<unknown> = Promise.resolve();

    const tally = (receipt: Receipt) => {
      counts.payloads++;
      counts.seen += receipt.counts.records;
      counts.accepted += receipt.counts.new + receipt.counts.changed;
      counts.unchanged += receipt.counts.unchanged;
      counts.rejected += receipt.counts.rejected + receipt.counts.stale;
    };

    const run: PullRun = {
      adapter: spec.name,
      kind: spec.kind,
      dept: spec.dept,
      trigger: options.trigger,
      startedAt,
      get cursor() { return cursor; },
      ...(options.window === undefined ? {} : { window: options.window }),
      signal,
      logger,
      async emit(payload: PulledPayload, opts: EmitOptions = {}): Promise<EmitResult> {
        if (signal.aborted) throw aborted(spec.name);
        const doc = payload.document ?? payload.raw;
        const read = readPayload(doc.body, {
          contentType: doc.contentType, validator: ctx.validator, limits: ctx.limits,
          ...(department.mapping === undefined ? {} : { mapping: department.mapping }),
        });
        const records = ownRecordsOnly(read.records, spec.dept);
        const payloadFindings: Finding[] = [...read.payloadFindings];
        if (read.envelope !== undefined && read.envelope.senderDept !== spec.dept) {
          payloadFindings.push(finding('error', 'GOVGATE_FORBIDDEN_DEPARTMENT', { expected: spec.dept, found: read.envelope.senderDept, path: '/senderDept' }));
        }
        if (opts.expectRecords !== undefined && !payloadRejected(payloadFindings) && records.length !== opts.expectRecords) {
          payloadFindings.push(finding('error', 'GOVGATE_FILE_DROP_COUNT_MISMATCH', { file: payload.batchId ?? '-', expected: opts.expectRecords, found: records.length }));
        }
        const rejectedWhole = payloadRejected(payloadFindings);
        const batchId = payload.batchId ?? read.envelope?.batchId;
        const input = toIngestInput({
          deptCode: spec.dept, source, raw: payload.raw,
          // The charset recorded is the raw payload's: the adapter's when intake read a derived document.
          ...(payload.document === undefined
            ? (read.encoding === undefined ? {} : { encoding: read.encoding })
            : (payload.raw.encoding === undefined ? {} : { encoding: payload.raw.encoding })),
          ...(batchId === undefined ? {} : { batchId }),
          payloadFindings, records, contents: read.contents,
        });
        // Intake ran above, at once; the commit waits for the previous payload's commit. So an
        // adapter may hand over the next payload while the previous one is still being stored:
        // its CPU work overlaps the database's, and commits (cursor moves) stay in order.
        const previous = commits;
        const committed = (async () => {
        await previous;
        let nextGeneration = generation;
        const result = await ctx.ingest(input, async (tx, res) => {
          // A payload rejected whole leaves the cursor and digests where they were: its rows
          // must be read again once the source is fixed. Ledger entries are written either way:
          // the item was handled, and its second step (flag, move) reports the failure.
          if (opts.ledger !== undefined) await ledgerInsert(tx, spec.name, opts.ledger(res.receipt));
          if (rejectedWhole) return;
          if (opts.seen !== undefined) await recordSeen(tx, spec.name, opts.seen);
          if (opts.cursor !== undefined && options.window === undefined) {
            nextGeneration = await writeCursor(tx, spec.name, spec.kind, opts.cursor, generation);
          }
        });
        // Committed: only now does the run's view of the cursor move.
        generation = nextGeneration;
        if (!rejectedWhole && opts.cursor !== undefined && options.window === undefined) cursor = opts.cursor;
        tally(result.receipt);
        if (rejectedWhole) {
          payloadsRejected++;
          const first = payloadFindings.find((f) => f.severity === 'error');
          const err = new GovgateError('GOVGATE_PULL_PAYLOAD_REJECTED', {
            adapter: spec.name, receiptId: result.receipt.receiptId,
            detail: first === undefined ? '-' : `${first.code}: ${first.message.zh}`,
            detailEn: first === undefined ? '-' : `${first.code}: ${first.message.en}`,
          });
          logger.warn({ adapter: spec.name, receiptId: result.receipt.receiptId, code: first?.code }, 'pulled payload rejected as a whole');
          if (opts.tolerateRejection !== true) throw err;
        }
        return { receipt: result.receipt, wholeRejected: rejectedWhole };
        })();
        commits = committed;
        // Whoever emitted awaits it; this only keeps a failure from also surfacing as unhandled.
        committed.catch(() => undefined);
        return committed;
      },
      async saveCursor(next: JsonValue): Promise<void> {
        if (options.window !== undefined) return;
        if (signal.aborted) throw aborted(spec.name);
        await commits;
        generation = await ctx.db.transaction((tx) => writeCursor(tx, spec.name, spec.kind, next, generation));
        cursor = next;
      },
      skipped(n: number): void {
        counts.seen += n;
        counts.unchanged += n;
      },
      seenDigests: (keys) => seenDigests(ctx.db, spec.name, keys),
      ledger: {
        lookup: (keys) => ledgerLookup(ctx.db, spec.name, keys),
        unacked: () => ledgerUnacked(ctx.db, spec.name),
        ack: (entries) => ledgerAck(ctx.db, spec.name, entries),
      },
      note(d): void {
        Object.assign(detail, d);
      },
    };

    try {
      if (mode === 'sweep') {
        if (adapter.sweep === undefined) throw new TypeError(`the ${spec.kind} adapter ${spec.name} has no sweep`);
        await adapter.sweep(run);
      } else {
        await adapter.run(run);
      }
      if (signal.aborted) throw aborted(spec.name);
    } catch (err) {
      error = describe(err, spec.name);
      status = isGovgateError(err) && err.code === 'GOVGATE_PULL_ABORTED' ? 'aborted' : 'failed';
      const level = status === 'aborted' ? 'info' : 'warn';
      logger[level]({ adapter: spec.name, code: error.code, err: isGovgateError(err) ? undefined : err }, `pull run ${status}: ${error.message.en}`);
    }
    // An adapter that failed mid-way may leave a payload committing: the run ends when it has.
    await commits.catch(() => undefined);
    if (payloadsRejected > 0) detail.payloadsRejected = payloadsRejected;
    if (JSON.stringify(cursorBefore) !== JSON.stringify(cursor)) {
      detail.cursorBefore = cursorBefore ?? null;
      detail.cursorAfter = cursor ?? null;
    }
  }

  const durationMs = Date.now() - startedAt.getTime();
  await finishRun(ctx.db, runId, {
    ...counts, status, finishedAt: new Date(), durationMs, detail,
    ...(error === undefined ? {} : { error: { code: error.code, message: { zh: error.message.zh, en: error.message.en } } }),
  });
  return {
    runId, adapter: spec.name, trigger: options.trigger, status, startedAt, durationMs, ...counts, detail,
    ...(error === undefined ? {} : { error }),
  };
}

function describe(err: unknown, adapter: string): { code: string; message: { zh: string; en: string } } {
  if (isGovgateError(err)) return { code: err.code, message: err.messages };
  const text = err instanceof Error ? err.message : String(err);
  return { code: 'GOVGATE_PULL_SOURCE_ERROR', message: { zh: `适配器 ${adapter} 运行出错：${text}`, en: `the adapter ${adapter} failed: ${text}` } };
}

/**
 * An adapter is bound to one department: a record naming another one is refused on its own (the
 * rest of the payload is taken), as a push of it would be refused by the signature's department.
 */
function ownRecordsOnly(records: readonly ReadRecord[], dept: string): ReadRecord[] {
  return records.map((r) => {
    if (r.deptCode === undefined || r.deptCode === dept || !r.ok) return r;
    const f = forRecord([finding('error', 'GOVGATE_FORBIDDEN_DEPARTMENT', { expected: dept, found: r.deptCode, path: '/deptCode' })], r.index, r.key);
    const { at: _at, digest: _digest, category: _category, ...rest } = r;
    return { ...rest, ok: false, findings: [...f, ...r.findings] };
  });
}
