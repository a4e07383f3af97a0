/**
 * The adapter registry: every kind govgate knows, in one explicit list per direction. Adding a
 * kind is a new file and one line here; the engine, the config check and the generated docs
 * (docs/adapters/<kind>.md) all read these lists.
 */
import type { DestinationConfig } from '../config/schema.js';
import type { Destination, DestinationContext, DestinationKind } from './types.js';
import { standardDestination } from './destinations/standard.js';
import { fileExportDestination } from './destinations/file-export.js';

export const DESTINATION_KINDS: readonly DestinationKind<never>[] = [
  standardDestination as DestinationKind<never>,
  fileExportDestination as DestinationKind<never>,
];

export function destinationKind(kind: string): DestinationKind<never> | undefined {
  return DESTINATION_KINDS.find((k) => k.kind === kind);
}

/**
 * Creates the configured destinations (config validated: kinds exist, options checked and
 * defaulted by loadConfig). Disabled ones are created too, so `check` and the admin API see them.
 */
export function createDestinations(configs: readonly DestinationConfig[], context: DestinationContext): Destination[] {
  return configs.map((c) => {
    const kind = destinationKind(c.kind);
    if (kind === undefined) throw new Error(`unknown destination kind ${c.kind} (loadConfig should have refused it)`);
    return kind.create(c.name, c.options as never, context);
  });
}

// ── pull adapters ──────────────────────────────────────────────────────────────────────────────────
import type { PullKind } from './types.js';
import { dbPull } from './pull/db-pull.js';
import { restPoll } from './pull/rest-poll.js';
import { soapPoll } from './pull/soap-poll.js';
import { fileDrop } from './pull/file-drop.js';

export const PULL_KINDS: readonly PullKind<never>[] = [
  restPoll as PullKind<never>,
  soapPoll as PullKind<never>,
  dbPull as PullKind<never>,
  fileDrop as PullKind<never>,
];

export function pullKind(kind: string): PullKind<Record<string, unknown>> | undefined {
  return PULL_KINDS.find((k) => k.kind === kind) as PullKind<Record<string, unknown>> | undefined;
}
