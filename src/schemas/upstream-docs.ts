/**
 * docs/spec/upstream.md: the upstream protocol — how a gateway submits records to the hall, the
 * province or another gateway, and how the receiver answers a reconciliation query. Generated, so
 * the classification table printed here is the one the engine runs (src/sync/classify.ts).
 */
import { TRANSPORT_ERRORS, UNKNOWN_TRANSPORT, classifyStatus } from '../sync/classify.js';
import { SPEC_VERSION } from './spec/index.js';

const CLASS_NAMES: Readonly<Record<string, string>> = {
  transient: '暂时性：退避后重试 / transient: retried with backoff',
  auth: '认证：暂停目的地并告警 / auth: destination paused, alert',
  config: '配置：暂停目的地并告警 / config: destination paused, alert',
  answered: '已应答：按回执逐条处理 / answered: per-record receipt',
};

export function upstreamPage(note: string): string {
  const statuses = [200, 301, 400, 401, 403, 404, 405, 408, 409, 413, 415, 425, 429, 500, 501, 502, 503, 504];
  const statusRows = statuses.map((s) => {
    const r = classifyStatus(s);
    return `| ${s} | ${CLASS_NAMES[r.class]} | ${r.why.zh} / ${r.why.en} |`;
  });
  const transportRows = Object.entries(TRANSPORT_ERRORS).map(([code, r]) => `| \`${code}\` | ${CLASS_NAMES[r.class]} | ${r.why.zh} / ${r.why.en} |`);
  return [
    note,
    `# 上报协议 Upstream protocol（spec v${SPEC_VERSION}）`,
    '',
    '网关（或任何下级系统）向统一网上政务大厅、省级平台或上级网关提交记录，以及接收方回答对账查询的方式。govgate 自身的推送接口接受同一协议，因此网关可以逐级串联：县 → 市 → 省。`govgate hall-sim` 是该协议的参考接收方（见 [../hall-sim.md](../hall-sim.md)）。',
    'How a gateway (or any lower-level system) submits records to the unified hall, a province platform or an upstream gateway, and how the receiver answers a reconciliation query. govgate\'s own push API accepts this protocol, so gateways chain: county → city → province. `govgate hall-sim` is the reference receiver.',
    '',
    '## 1. 提交 Submission',
    '',
    '`POST {base}/api/v1/batches`，`Content-Type: application/json; charset=utf-8`，请求按 [../signing.md](../signing.md) 签名（HMAC-SHA256 或 HMAC-SM3，密钥由接收方分配）。',
    '`POST {base}/api/v1/batches`, signed as in [../signing.md](../signing.md) with a key the receiver issued.',
    '',
    '请求体是[批次信封](envelope.md)，并带 `idempotencyKeys`：',
    'The body is a [batch envelope](envelope.md) with `idempotencyKeys`:',
    '',
    '- 每批只含一个部门的记录，`senderDept` 为该部门代码。 / One department per batch; `senderDept` is its code.',
    '- `idempotencyKeys[i]` 是 `records[i]` 这一版本的幂等键：`<部门代码>:<记录类型>:<网关版本号>:<业务键>`，例如 `11330100002489671K:case:3:330100-2026-000123`。同一版本重发时幂等键不变。 / `idempotencyKeys[i]` names the version of `records[i]`: `<deptCode>:<recordType>:<gateway version>:<business key>`; a resend of a version carries the same key.',
    '- 同一记录的新旧版本按顺序发送：旧版本绝不会在新版本之后到达；排队期间被替代的版本合并为最新版本。 / Versions of one record arrive in order: an older one never after a newer one; versions superseded while queued are coalesced.',
    '',
    '```json',
    '{',
    '  "specVersion": "1", "batchId": "hall-m3k2-0a1b2c3d4e5f", "senderDept": "11330100002489671K",',
    '  "sentAt": "2026-03-10T17:00:00.000Z",',
    '  "records": [ { "recordType": "case", "deptCode": "11330100002489671K", "caseNo": "…" } ],',
    '  "idempotencyKeys": [ "11330100002489671K:case:1:…" ]',
    '}',
    '```',
    '',
    '## 2. 应答 Answer',
    '',
    '接收方在数据落盘后以 HTTP 200 返回回执（与 govgate 推送接口的回执相同），每条记录一个结果：',
    'After committing, the receiver answers 200 with a receipt (the same shape as govgate\'s push receipt), one outcome per record:',
    '',
    '| outcome | 含义 Meaning | 发送方的处理 What the sender does |',
    '|---|---|---|',
    '| `new`, `changed` | 已接收 / stored | 已送达 / delivered |',
    '| `unchanged` | 已有该幂等键（重发） / already had this key (a resend) | 已送达（记为重复） / delivered (counted as duplicate) |',
    '| `rejected`, `stale` | 拒收，`findings` 给出原因 / refused, `findings` say why | 转入死信，不重试 / dead letter, no retry |',
    '| 缺失 missing | 回执中没有该条 / no outcome for the record | 暂时性，重试 / transient, retried |',
    '',
    '整个请求的结果按下表分类（与投递引擎使用的是同一张表）：',
    'The request as a whole is classified by this table (the one the delivery engine runs):',
    '',
    '| HTTP | 分类 Class | 原因 Why |',
    '|---|---|---|',
    ...statusRows,
    '| 其他 2xx / other 2xx | ' + CLASS_NAMES['answered'] + ' | 非回执的 200 按暂时性重试 / a 200 that is not a receipt is retried |',
    '| 其他 5xx / other 5xx | ' + CLASS_NAMES['transient'] + ' | |',
    '',
    '| 传输错误 Transport error | 分类 Class | 原因 Why |',
    '|---|---|---|',
    ...transportRows,
    `| 其他 other | ${CLASS_NAMES[UNKNOWN_TRANSPORT.class]} | ${UNKNOWN_TRANSPORT.why.zh} / ${UNKNOWN_TRANSPORT.why.en} |`,
    '',
    '发送方不跟随重定向（签名的数据不应被转往别处）；`Retry-After` 被视为最短等待时间。',
    'Senders do not follow redirects (signed data must not be carried elsewhere); `Retry-After` is honoured as the shortest wait.',
    '',
    '## 3. 接收方的义务 What a receiver must do',
    '',
    '- 按幂等键去重：已有的键回答 `unchanged`，不再存第二份。 / De-duplicate by idempotency key: answer `unchanged` for a known key, never store it twice.',
    '- 只在数据提交后应答；应答丢失时发送方会重发同一幂等键。 / Answer only after committing; when an answer is lost the sender resends the same key.',
    '- 拒收时给出可读的原因（`findings`：code、message.zh、message.en）。 / Give a readable reason when refusing.',
    '',
    '## 4. 对账查询 Reconciliation query',
    '',
    '`GET {base}/api/v1/reconciliation?deptCode=<代码>&day=YYYY-MM-DD[&recordType=case][&keys=true]`（签名同上 / signed as above）',
    '',
    '```json',
    '{ "deptCode": "11330100002489671K", "day": "2026-03-10", "timezone": "Asia/Shanghai",',
    '  "types": [ { "recordType": "case", "count": 2, "digest": "9f2c…", "keys": ["…", "…"] } ] }',
    '```',
    '',
    '- 集合为接收方在该日（北京时间）首次存下的幂等键；重复与拒收不计。 / The set is the idempotency keys the receiver first stored on that day (China Standard Time); duplicates and refusals do not count.',
    '- `digest` 为各键按码元顺序排序、每个键后接 `\\n` 后的 SHA-256（小写十六进制）；空集为空串的 SHA-256。 / `digest` is the lower-case hex SHA-256 of the keys sorted by code unit, each followed by `\\n`; the empty set hashes the empty string.',
    '- `keys=true` 时列出全部键，供发送方找出差异后补发。 / With `keys=true` the keys are listed so the sender can find and resend the difference.',
    '- 日界附近的记录可能被双方计入相邻两日；比较时应同时比较前后一日。 / Records near midnight may fall on adjacent days on the two sides; compare neighbouring days too.',
    '',
  ].join('\n');
}
