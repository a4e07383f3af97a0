/**
 * A gateway forwarding to a hall simulator, both real HTTP servers on 127.0.0.1, each with its own
 * database (PGlite, or its own schema on the real server), for the forwarding tests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { GovgateClient } from '../../src/client/index.js';
import { startHallSim, HALL_DEMO_KEY, type Faults, type HallSim } from '../../src/hall-sim/index.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import { DEMO_DEPT_2, exampleBatch, exampleCase } from '../../src/schemas/spec/examples.js';
import { TEST_DATABASE_URL, testDb, type Teardown } from './db.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The demo planning department's key (config/departments/11330100002490146A.yaml). */
export const DEPT = DEMO_DEPT_2.code;
export const DEPT_KEY = { keyId: 'demo-ghzy-2026', secret: 'demo-only-secret-ghzy-330100-do-not-use-in-production', algorithm: 'hmac-sm3' as const };

/** A valid case of the demo planning department. */
export function caseRecord(caseNo: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return exampleCase({ deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name, caseNo, ...overrides });
}

/** A batch envelope from the demo planning department. */
export function batch(records: Record<string, unknown>[]): Record<string, unknown> {
  return { ...exampleBatch(records), senderDept: DEPT };
}

export interface Pair {
  readonly hall: HallSim;
  readonly gateway: RunningGateway;
  readonly client: GovgateClient;
  readonly configFile: string;
  /** Waits until `done()` holds, polling; fails after `timeoutMs`. */
  until(what: string, done: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
}

export interface PairOptions {
  readonly faults?: Partial<Faults>;
  readonly delivery?: Record<string, unknown>;
  readonly destination?: Record<string, unknown>;
  readonly routes?: unknown[];
  readonly intake?: Record<string, unknown>;
}

export async function startPair(t: Teardown, options: PairOptions = {}): Promise<Pair> {
  const hallDb = await testDb(t, { migrate: false });
  const hall = await startHallSim({ db: hallDb, ...(options.faults === undefined ? {} : { faults: options.faults }) });
  t.teardown(() => hall.close());

  const dir = mkdtempSync(join(tmpdir(), 'govgate-fwd-'));
  const gwDb = await testDb(t);
  const config = {
    departments: { dir: join(root, 'config/departments') },
    demo: { enabled: true },
    log: { level: 'silent' },
    database: TEST_DATABASE_URL === undefined ? { dataDir: join(dir, 'data') } : { url: TEST_DATABASE_URL, schema: gwDb.schema },
    destinations: [{
      name: 'hall', kind: 'standard',
      options: { url: hall.url, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_KEY.secret, algorithm: HALL_DEMO_KEY.algorithm, timeoutMs: 2000, ...options.destination },
    }],
    routes: options.routes ?? [{ destination: 'hall' }],
    delivery: { pollIntervalMs: 20, retryBaseMs: 50, retryMaxMs: 500, leaseSeconds: 5, breakerThreshold: 3, breakerCooldownMs: 200, ...options.delivery },
    ...(options.intake === undefined ? {} : { intake: options.intake }),
  };
  const configFile = join(dir, 'govgate.yaml');
  writeFileSync(configFile, stringify(config));
  const gateway = await startGateway({ configFile, env: {}, overrides: { port: 0 }, db: gwDb });
  t.teardown(() => gateway.close());
  const client = new GovgateClient({ baseUrl: gateway.address, ...DEPT_KEY });
  return {
    hall, gateway, client, configFile,
    async until(what, done, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (!(await done())) {
        if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
