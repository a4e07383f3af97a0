/**
 * db-pull against the real PostgreSQL and MariaDB servers on the machine: a uniquely named
 * department table per test, dropped afterwards. Late commits, rows sharing a timestamp, a killed
 * run, the sweep, backfill, and the 前置库 flag hand-shake with a crash between its two steps.
 */
import t from 'tap';
import { dbPull } from '../src/adapters/pull/db-pull.js';
import { DeptDb, LOCAL_MARIADB, LOCAL_POSTGRES } from '../src/adapters/pull/simulators/dept-db.js';
import { badEaJcRow, EA_JC_DEPT, eaJcRow } from '../src/adapters/pull/simulators/ea-jc.js';
import { GovgateError } from '../src/errors.js';
import { listRuns, readCursor } from '../src/store/queries/pull.js';
import { pullHarness } from './helpers/pull.js';

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => eaJcRow(from + i));

for (const driver of ['postgres', 'mysql'] as const) {
  const connection = driver === 'postgres' ? LOCAL_POSTGRES : LOCAL_MARIADB;

  const source = async (tt: { teardown(fn: () => unknown): void }) => {
    const s = await DeptDb.open(driver, connection);
    await s.create();
    tt.teardown(async () => { await s.drop(); await s.close(); });
    return s;
  };
  const cursorOptions = (s: DeptDb, extra: Record<string, unknown> = {}, cursor: Record<string, unknown> = {}) => ({
    driver, connection: { host: connection.host, port: connection.port, database: connection.database, user: connection.user },
    table: s.table, keyColumns: [s.col('PROJID')], columnCase: 'upper',
    cursor: { column: s.col('UPDATE_TIME'), lagSeconds: 0, overlapSeconds: 60, ...cursor },
    batchSize: 3, ...extra,
  });

  t.test(`${driver}: cursor mode takes every row once, pages through a shared timestamp, and the overlap costs no payload`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    await s.insert(rows(1, 5), { updateTime: '2026-03-02 09:00:00.000000' }); // five rows share one timestamp
    await s.insert(rows(6, 4));
    await s.insert([badEaJcRow(10)]);
    const a = h.adapter(dbPull, { options: cursorOptions(s) });
    t.match(await a.adapter.check(), { ok: true });

    const first = await h.run(a);
    t.match(first, { status: 'ok', seen: 10, accepted: 9, rejected: 1, unchanged: 0, payloads: 4 });
    t.equal((await h.versions(EA_JC_DEPT)).size, 9);
    const cursor = (await readCursor(h.db, a.spec.name)).cursor as { t: string; k: string[] };
    t.same(cursor.k, ['330100-SJ-2026-000010'], 'the cursor is the last row taken');

    // Everything is inside the overlap now: read again, dropped by digest, nothing stored.
    const second = await h.run(a);
    t.match(second, { status: 'ok', seen: 5, accepted: 0, unchanged: 5, payloads: 0 }, 'the five recent rows are re-read, the old ones are behind the overlap');
    t.equal(await h.rawCount('pull:test-adapter'), 4, 'no raw payload for the overlap');

    // A changed row is taken again as a new version.
    await s.update('330100-SJ-2026-000003', { PROJECTNAME: '关于某某的申请（已更正）', DATAVER: '2' });
    const third = await h.run(a);
    t.match(third, { status: 'ok', accepted: 1 });
    t.same((await h.versions(EA_JC_DEPT)).get('330100-SJ-2026-000003'), [1, 2]);
    const runs = await listRuns(h.db, { job: 'pull:test-adapter' });
    t.equal(runs.length, 3);
    t.match(runs[0], { status: 'ok', accepted: 1, trigger: 'manual' });
  });

  t.test(`${driver}: a transaction that commits late with an older timestamp is caught by the overlap`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    const a = h.adapter(dbPull, { options: cursorOptions(s) });
    const late = await s.begin();
    await s.insertIn(late, [eaJcRow(100)]); // stamped now, invisible until commit
    await new Promise((r) => setTimeout(r, 20));
    await s.insert(rows(101, 3)); // later timestamps, committed at once
    t.match(await h.run(a), { status: 'ok', accepted: 3 });
    await late.commit();
    t.match(await h.run(a), { status: 'ok', accepted: 1, unchanged: 3 }, 'the late row is taken, the others are not re-stored');
    t.equal((await h.versions(EA_JC_DEPT)).size, 4);
  });

  t.test(`${driver}: the lag keeps young rows for a later run`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    await s.insert(rows(1, 2), { updateTime: '2026-03-02 09:00:00' });
    await s.insert(rows(3, 2));
    const a = h.adapter(dbPull, { options: cursorOptions(s, {}, { lagSeconds: 3600 }) });
    t.match(await h.run(a), { status: 'ok', accepted: 2 }, 'rows younger than the lag wait');
  });

  t.test(`${driver}: without overlap a late commit is missed by the cursor and found by the sweep`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    const a = h.adapter(dbPull, { options: cursorOptions(s, { sweep: { schedule: '0 3 * * *', windowHours: 1 } }, { overlapSeconds: 0 }) });
    t.equal(a.adapter.sweepSchedule, '0 3 * * *');
    const late = await s.begin();
    await s.insertIn(late, [eaJcRow(200)]);
    await new Promise((r) => setTimeout(r, 20));
    await s.insert(rows(201, 2));
    await h.run(a);
    await late.commit();
    t.match(await h.run(a), { accepted: 0 }, 'missed: the cursor is past it');
    const sweep = await h.run(a, { mode: 'sweep', trigger: 'sweep' });
    t.match(sweep, { status: 'ok', accepted: 1, unchanged: 2, detail: { sweepMissing: 1, sweepChanged: 0 } });
    t.equal((await h.versions(EA_JC_DEPT)).size, 3);
    t.equal((await listRuns(h.db, { job: 'pull:test-adapter:sweep' })).length, 1);
  });

  t.test(`${driver}: a run killed mid-way resumes from its cursor without loss or duplicates`, async (t) => {
    const s = await source(t);
    let calls = 0;
    // The third payload's transaction dies after the payload is written, before COMMIT.
    const h = await pullHarness(t, {
      ingest: (inner) => (input, hook) => inner(input, async (tx, res) => {
        await hook?.(tx, res);
        if (++calls === 3) throw new Error('killed');
      }),
    });
    await s.insert(rows(1, 10), { updateTime: '2026-03-02 09:00:00' });
    const a = h.adapter(dbPull, { options: cursorOptions(s, {}, { overlapSeconds: 0 }) });
    const broken = await h.run(a);
    t.match(broken, { status: 'failed', accepted: 6 });
    const resumed = await h.run(a);
    t.match(resumed, { status: 'ok', accepted: 4, unchanged: 6 }, 'the rows sharing the cursor\'s timestamp are read again and dropped by digest');
    const v = await h.versions(EA_JC_DEPT);
    t.equal(v.size, 10, 'lost = 0');
    t.ok([...v.values()].every((x) => x.length === 1), 'duplicates = 0');
    t.equal(await h.rawCount('pull:test-adapter'), 4, 'one raw payload per page, none repeated');
  });

  t.test(`${driver}: backfill re-reads a time range and leaves the cursor alone`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    await s.insert(rows(1, 2), { updateTime: '2026-01-10 12:00:00' });
    await s.insert(rows(3, 2), { updateTime: '2026-02-10 12:00:00' });
    const a = h.adapter(dbPull, { options: cursorOptions(s) });
    const out = await h.run(a, { trigger: 'backfill', window: { since: new Date('2026-02-01T00:00:00+08:00'), until: new Date('2026-02-28T00:00:00+08:00') } });
    t.match(out, { status: 'ok', accepted: 2, seen: 2 });
    t.same([...(await h.versions(EA_JC_DEPT)).keys()].sort(), ['330100-SJ-2026-000003', '330100-SJ-2026-000004']);
    t.equal((await readCursor(h.db, a.spec.name)).cursor, undefined, 'backfill does not move the cursor');
  });

  t.test(`${driver}: 前置库 flag mode takes pending rows, flags them, and survives a crash between the two steps`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    await s.insert([...rows(1, 4), badEaJcRow(5)]);
    await s.insert([eaJcRow(6)], { signState: '1' }); // taken long ago: not touched
    const options = {
      driver, connection: { host: connection.host, port: connection.port, database: connection.database, user: connection.user },
      table: s.table, keyColumns: [s.col('PROJID')], columnCase: 'upper', mode: 'flag', batchSize: 2,
      flag: { column: s.col('SIGNSTATE'), versionColumn: s.col('DATAVER'), orderColumn: s.col('MAKETIME'), reasonColumn: s.col('EXT1'), takenAtColumn: s.col('SYNCTIME'), reasonMaxLength: 60 },
    };
    const a = h.adapter(dbPull, { name: 'qzk', options });

    // The source refuses the flag UPDATE (the ferry's write side is down): the data is stored,
    // the rows stay pending.
    if (driver === 'postgres') {
      await s.query(`CREATE FUNCTION ${s.table}_no() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'flag writes are down'; END $$`);
      await s.query(`CREATE TRIGGER ${s.table}_no BEFORE UPDATE ON ${s.table} FOR EACH ROW EXECUTE FUNCTION ${s.table}_no()`);
    } else {
      await s.query(`CREATE TRIGGER ${s.table}_no BEFORE UPDATE ON ${s.table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'flag writes are down'`);
    }
    const crashed = await h.run(a);
    t.match(crashed, { status: 'failed', error: { code: 'GOVGATE_PULL_SOURCE_ACK_FAILED' }, accepted: 2 });
    t.equal((await h.versions(EA_JC_DEPT)).size, 2, 'the first page is stored');
    t.ok([...(await s.flags()).values()].filter((f) => f.signState === '0').length === 5, 'no row flagged yet');
    if (driver === 'postgres') await s.query(`DROP TRIGGER ${s.table}_no ON ${s.table}`);
    else await s.query(`DROP TRIGGER ${s.table}_no`);

    const repaired = await h.run(a);
    t.match(repaired, { status: 'ok', accepted: 2, rejected: 1, detail: { flagsRepaired: 2 } });
    const flags = await s.flags();
    t.match(flags.get('330100-SJ-2026-000001@1'), { signState: '1', reason: null });
    t.ok(flags.get('330100-SJ-2026-000001@1')!.syncTime !== null, 'handled time written');
    t.match(flags.get('330100-SJ-2026-000005@1'), { signState: '2', reason: /^GOVGATE_MAPPING_FAILED \/caseType/ });
    t.ok([...flags.get('330100-SJ-2026-000005@1')!.reason!].length <= 60, 'reason cut to reasonMaxLength');
    t.equal(flags.get('330100-SJ-2026-000006@1')!.signState, '1');
    const v = await h.versions(EA_JC_DEPT);
    t.equal(v.size, 4);
    t.ok([...v.values()].every((x) => x.length === 1), 'no duplicate after the crash');
    t.equal(await h.rawCount('pull:qzk'), 3, 'the crashed page was not stored twice');

    // The department re-reports a case: DATAVER + 1, flagged pending again.
    await s.query(`UPDATE ${s.table} SET DATAVER = '2', SIGNSTATE = '0', PROJECTNAME = '更正后的名称' WHERE PROJID = ?`, ['330100-SJ-2026-000002']);
    // …and resets another row's flag without changing it: same digest, flagged again, not re-stored.
    await s.query(`UPDATE ${s.table} SET SIGNSTATE = '0' WHERE PROJID = ?`, ['330100-SJ-2026-000003']);
    const again = await h.run(a);
    t.match(again, { status: 'ok', accepted: 1, unchanged: 1 });
    t.same((await h.versions(EA_JC_DEPT)).get('330100-SJ-2026-000002'), [1, 2]);
    t.equal((await s.flags()).get('330100-SJ-2026-000003@1')!.signState, '1');
  });

  t.test(`${driver}: check reports a wrong password and an unknown table with stable codes`, async (t) => {
    const s = await source(t);
    const h = await pullHarness(t);
    const noTable = h.adapter(dbPull, { name: 'nt', options: { ...cursorOptions(s), table: `${s.table}_missing` } });
    t.match(await noTable.adapter.check(), { ok: false, detail: { code: 'GOVGATE_PULL_SOURCE_ERROR' } });
    const wrong = h.adapter(dbPull, { name: 'wp', options: { ...cursorOptions(s), connection: { host: connection.host, port: connection.port, database: connection.database, user: 'no_such_user_gg', passwordEnv: 'GG_PW' } } }, { GG_PW: 'secret-pw-123' });
    const res = await wrong.adapter.check();
    t.equal(res.ok, false);
    t.notMatch(JSON.stringify(res), /secret-pw-123/, 'the password never appears');
    const err = await wrong.adapter.run({} as never).catch((e: unknown) => e);
    t.ok(err instanceof GovgateError);
  });
}
