/** Runs the govgate CLI in-process and captures what it writes to stdout and stderr. */
import { main } from '../../src/cli/main.js';

export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try {
    return { code: await main(['node', 'govgate', ...args]), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}
