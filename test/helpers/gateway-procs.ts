/**
 * Gateway child processes on a real PostgreSQL schema, forwarding to a hall simulator started in
 * this process: the set-up of the multi-instance and chaos tests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { HALL_DEMO_KEY, type HallSim } from '../../src/hall-sim/index.js';
import { spawnGateway, type GatewayProcess } from './process.js';

const departments = fileURLToPath(new URL('../../config/departments/', import.meta.url));

/** Writes a gateway config on `schema` of `databaseUrl` forwarding everything to `hall`. */
export function forwardingConfig(databaseUrl: string, schema: string, hall: HallSim, delivery: Record<string, unknown> = {}, destination: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-procs-'));
  const file = join(dir, 'govgate.yaml');
  writeFileSync(file, stringify({
    server: { port: 0 },
    database: { url: databaseUrl, schema, poolSize: 8 },
    departments: { dir: departments },
    demo: { enabled: true, hallSim: false },
    log: { level: 'warn' },
    destinations: [{
      name: 'hall', kind: 'standard',
      options: { url: hall.url, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_KEY.secret, algorithm: HALL_DEMO_KEY.algorithm, timeoutMs: 2000, ...destination },
    }],
    routes: [{ destination: 'hall' }],
    delivery: { pollIntervalMs: 50, retryBaseMs: 100, retryMaxMs: 2000, leaseSeconds: 5, breakerThreshold: 5, breakerCooldownMs: 1000, ...delivery },
  }));
  return file;
}

export function startGatewayProcess(configFile: string): Promise<GatewayProcess> {
  return spawnGateway(['start', '--config', configFile], {});
}
