/**
 * A department REST API for tests and the demo: serves EA_JC case rows filtered by an
 * "updated since/until" parameter, paged by page number, offset or next link, as JSON
 * (`{"code":0,"data":{"records":[…]}}`) or as GBK XML (`<RESULT><DATA><ROW>…`), behind basic,
 * bearer or govgate-signed authentication. It records every request so tests can see what
 * the adapter asked for.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import iconv from 'iconv-lite';
import { bodyDigest, requestTarget, sign, stringToSign, type SigningAlgorithm } from '../../../client/sign.js';
import type { EaJcRow } from './ea-jc.js';

export type RestAuth =
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'bearer'; readonly token: string }
  | { readonly type: 'signed'; readonly keyId: string; readonly secret: string; readonly algorithm: SigningAlgorithm };

export interface DeptRestOptions {
  readonly format?: 'json' | 'xml-gbk';
  readonly paging?: 'none' | 'page' | 'offset' | 'next-link';
  readonly auth?: RestAuth;
  /** Page size when the client does not say. */
  readonly pageSize?: number;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage['headers'];
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `2026-03-02T09:15:00+08:00`, `2026-03-02 09:15:00` (at +08:00) or epoch ms. */
function parseTime(text: string): number {
  if (/^\d{10,}$/.test(text)) return Number(text);
  const t = text.includes('T') ? text : `${text.replace(' ', 'T')}+08:00`;
  return Date.parse(t);
}

export class DeptRestSimulator {
  readonly requests: SeenRequest[] = [];
  private readonly rows: Array<{ row: EaJcRow; updated: number }> = [];
  private failures: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];
  private server?: Server;
  url = '';

  constructor(private readonly options: DeptRestOptions = {}) {}

  /** Adds rows updated at `updated` (default now). */
  add(rows: readonly EaJcRow[], updated: Date = new Date()): void {
    for (const row of rows) this.rows.push({ row, updated: updated.getTime() });
  }

  /** The next request gets this answer instead (a 503, a redirect, an HTML error page …). */
  failNext(status: number, body = '', headers: Record<string, string> = {}): void {
    this.failures.push({ status, body, headers });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://sim.invalid');
        const params: Record<string, string> = Object.fromEntries(url.searchParams);
        const ct = req.headers['content-type'] ?? '';
        if (req.method === 'POST' && body.length > 0) {
          if (ct.startsWith('application/json')) Object.assign(params, Object.fromEntries(Object.entries(JSON.parse(body.toString('utf8')) as Record<string, unknown>).map(([k, v]) => [k, String(v)])));
          else Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
        }
        this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', params, headers: req.headers });
        const fail = this.failures.shift();
        if (fail !== undefined) {
          res.writeHead(fail.status, { 'content-type': 'text/html; charset=utf-8', ...fail.headers });
          res.end(fail.body);
          return;
        }
        if (!this.authorized(req, body)) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"code":401,"msg":"未授权 unauthorized"}');
          return;
        }
        this.answer(params, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}/api/cases`;
    return this.url;
  }

  private authorized(req: IncomingMessage, body: Buffer): boolean {
    const a = this.options.auth;
    const h = req.headers.authorization ?? '';
    if (a === undefined) return true;
    if (a.type === 'basic') return h === `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    if (a.type === 'bearer') return h === `Bearer ${a.token}`;
    const m = /keyId=([^,]+), timestamp=(\d+), nonce=([^,]+), signature=(\S+)$/.exec(h);
    if (m === null || m[1] !== a.keyId) return false;
    const expected = sign(a.algorithm, a.secret, stringToSign(req.method ?? 'GET', requestTarget(req.url ?? '/'), m[2]!, m[3]!, bodyDigest(a.algorithm, body)));
    return expected === m[4];
  }

  private answer(params: Record<string, string>, res: import('node:http').ServerResponse): void {
    const since = params['updatedSince'] === undefined ? -Infinity : parseTime(params['updatedSince']);
    const until = params['updatedUntil'] === undefined ? Infinity : parseTime(params['updatedUntil']);
    const all = this.rows
      .filter((r) => r.updated >= since && r.updated <= until)
      .sort((a, b) => a.updated - b.updated || (a.row.PROJID < b.row.PROJID ? -1 : 1));
    const size = Number(params['pageSize'] ?? this.options.pageSize ?? 100);
    let from = 0;
    let next: string | undefined;
    switch (this.options.paging ?? 'none') {
      case 'page': from = (Number(params['page'] ?? 1) - 1) * size; break;
      case 'offset': from = Number(params['offset'] ?? 0); break;
      case 'next-link': {
        from = Number(params['cursor'] ?? 0);
        if (from + size < all.length) {
          const u = new URLSearchParams({ cursor: String(from + size), pageSize: String(size) });
          if (params['updatedSince'] !== undefined) u.set('updatedSince', params['updatedSince']);
          if (params['updatedUntil'] !== undefined) u.set('updatedUntil', params['updatedUntil']);
          next = `/api/cases?${u.toString()}`;
        }
        break;
      }
      default: from = 0;
    }
    const page = (this.options.paging ?? 'none') === 'none' ? all : all.slice(from, from + size);
    if ((this.options.format ?? 'json') === 'xml-gbk') {
      const rows = page.map((r) => `<ROW>${Object.entries(r.row).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('')}</ROW>`).join('');
      const xml = `<?xml version="1.0" encoding="GBK"?>\n<RESULT><STATUS>200</STATUS><DESC>请求成功</DESC><DATA>${rows}</DATA>${next === undefined ? '' : `<NEXT>${escapeXml(next)}</NEXT>`}</RESULT>`;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(iconv.encode(xml, 'gbk'));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ code: 0, msg: '成功', data: { total: all.length, records: page.map((r) => r.row) }, ...(next === undefined ? {} : { next }) }));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}
