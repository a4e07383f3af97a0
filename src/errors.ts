/**
 * Every stable error code govgate can emit, in one table.
 *
 * A code is part of the public contract: department systems branch on it, dashboards group by it.
 * Codes are never renamed or reused once released; retire a code by leaving it here with
 * `retired: true`. `docs/errors.md` is generated from this table and a test keeps the two in step.
 *
 * `status` is the HTTP status a request gets when this code is the reason it failed as a whole.
 * Findings on single records inside an accepted batch carry the code but not the status.
 * Messages are templates: `{name}` is replaced from the details passed with the error.
 */

export type ErrorArea = 'wire' | 'envelope' | 'schema' | 'rule' | 'auth' | 'http' | 'store' | 'config' | 'pull' | 'delivery' | 'system';

export interface ErrorDef {
  readonly status: number;
  readonly area: ErrorArea;
  readonly zh: string;
  readonly en: string;
  readonly retired?: boolean;
}

export const ERRORS = {
  // ── wire: bytes → text → document ─────────────────────────────────────────────────────────────
  GOVGATE_PAYLOAD_EMPTY: { status: 400, area: 'wire', zh: '报文为空', en: 'the payload is empty' },
  GOVGATE_PAYLOAD_TOO_LARGE: {
    status: 413, area: 'wire',
    zh: '报文过大：上限 {limit} 字节，实际 {found} 字节',
    en: 'the payload is too large: the limit is {limit} bytes, found {found} bytes',
  },
  GOVGATE_FORMAT_UNKNOWN: {
    status: 415, area: 'wire',
    zh: '无法识别报文格式：应为 JSON 或 XML，实际以 {found} 开头',
    en: 'unrecognised payload format: expected JSON or XML, found a payload starting with {found}',
  },
  GOVGATE_ENCODING_UNSUPPORTED: {
    status: 415, area: 'wire',
    zh: '不支持的字符集 {found}：应为 UTF-8、GBK、GB2312 或 GB18030',
    en: 'unsupported charset {found}: expected UTF-8, GBK, GB2312 or GB18030',
  },
  GOVGATE_ENCODING_INVALID: {
    status: 400, area: 'wire',
    zh: '按 {encoding} 解码失败：第 {offset} 字节处出现非法字节序列 {found}',
    en: 'the payload is not valid {encoding}: an invalid byte sequence {found} at byte offset {offset}',
  },
  GOVGATE_ENCODING_MISMATCH: {
    status: 400, area: 'wire',
    zh: '字符集声明不一致：{first} 声明为 {expected}，{second} 声明为 {found}',
    en: 'conflicting charset declarations: {first} says {expected}, {second} says {found}',
  },
  GOVGATE_JSON_SYNTAX: {
    status: 400, area: 'wire',
    zh: 'JSON 语法错误（第 {line} 行第 {column} 列）：{detail}',
    en: 'malformed JSON at line {line}, column {column}: {detail}',
  },
  GOVGATE_JSON_DUPLICATE_KEY: {
    status: 400, area: 'wire',
    zh: 'JSON 对象 {path} 中键 "{key}" 重复出现（第 {line} 行第 {column} 列）',
    en: 'duplicate key "{key}" in the JSON object at {path} (line {line}, column {column})',
  },
  GOVGATE_FORBIDDEN_KEY: {
    status: 400, area: 'wire',
    zh: '禁止使用的名称 "{key}"（位于 {path}）：可能导致原型污染',
    en: 'forbidden name "{key}" at {path}: it could pollute object prototypes',
  },
  GOVGATE_JSON_UNSAFE_NUMBER: {
    status: 400, area: 'wire',
    zh: '数值 {found}（位于 {path}）无法精确表示：证件号码、编码等应以字符串传送',
    en: 'the number {found} at {path} cannot be represented exactly: send identifiers and codes as strings',
  },
  GOVGATE_DEPTH_EXCEEDED: {
    status: 400, area: 'wire',
    zh: '嵌套层级过深：上限 {limit} 层（位于 {path}）',
    en: 'nesting is too deep: the limit is {limit} levels (at {path})',
  },
  GOVGATE_NUL_CHARACTER: {
    status: 400, area: 'wire',
    zh: '文本中含有 NUL 字符（U+0000），位于 {path}',
    en: 'the text contains a NUL character (U+0000) at {path}',
  },
  GOVGATE_XML_SYNTAX: {
    status: 400, area: 'wire',
    zh: 'XML 格式错误（第 {line} 行第 {column} 列）：{detail}',
    en: 'malformed XML at line {line}, column {column}: {detail}',
  },
  GOVGATE_XML_DOCTYPE_FORBIDDEN: {
    status: 400, area: 'wire',
    zh: 'XML 中不允许出现 DOCTYPE 或实体声明（第 {line} 行第 {column} 列）',
    en: 'DOCTYPE and entity declarations are not allowed in XML (line {line}, column {column})',
  },
  GOVGATE_XML_UNEXPECTED_CONTENT: {
    status: 400, area: 'wire',
    zh: 'XML 元素 {path} 的内容不符合规范：{detail}',
    en: 'unexpected content in the XML element {path}: {detail}',
  },
  GOVGATE_CONTENT_TYPE_UNSUPPORTED: {
    status: 415, area: 'wire',
    zh: '不支持的 Content-Type {found}：应为 {expected}',
    en: 'unsupported Content-Type {found}: expected {expected}',
  },
  GOVGATE_CONTENT_TYPE_MISMATCH: {
    status: 400, area: 'wire',
    zh: 'Content-Type 声明为 {expected}，但报文内容为 {found}',
    en: 'the Content-Type says {expected} but the payload is {found}',
  },
  GOVGATE_TOO_MANY_RECORDS: {
    status: 413, area: 'wire',
    zh: '批次记录数过多：上限 {limit} 条，实际 {found} 条',
    en: 'too many records in one batch: the limit is {limit}, found {found}',
  },

  // ── envelope ──────────────────────────────────────────────────────────────────────────────────
  GOVGATE_ENVELOPE_INVALID: {
    status: 400, area: 'envelope',
    zh: '批次信封 {path} 不符合规范：应为 {expected}，实际为 {found}',
    en: 'the batch envelope is invalid at {path}: expected {expected}, found {found}',
  },
  GOVGATE_SPEC_VERSION_UNSUPPORTED: {
    status: 400, area: 'envelope',
    zh: '不支持的接口规范版本 {found}：支持的版本为 {expected}',
    en: 'unsupported spec version {found}: supported versions are {expected}',
  },
  GOVGATE_RECORD_TYPE_UNKNOWN: {
    status: 400, area: 'envelope',
    zh: '未知的记录类型 {found}：应为 {expected}',
    en: 'unknown record type {found}: expected one of {expected}',
  },

  // ── schema: one finding per field ─────────────────────────────────────────────────────────────
  GOVGATE_FIELD_REQUIRED: {
    status: 422, area: 'schema',
    zh: '缺少必填字段 {path}（{label}）',
    en: 'the required field {path} ({label}) is missing',
  },
  GOVGATE_FIELD_TYPE: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）类型错误：应为 {expected}，实际为 {found}',
    en: 'wrong type for {path} ({label}): expected {expected}, found {found}',
  },
  GOVGATE_FIELD_TOO_LONG: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）过长：最多 {expected}，实际 {found}',
    en: '{path} ({label}) is too long: at most {expected}, found {found}',
  },
  GOVGATE_FIELD_TOO_SHORT: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）过短：至少 {expected}，实际 {found}',
    en: '{path} ({label}) is too short: at least {expected}, found {found}',
  },
  GOVGATE_FIELD_PATTERN: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）格式错误：应为 {expected}，实际为 {found}',
    en: '{path} ({label}) has the wrong shape: expected {expected}, found {found}',
  },
  GOVGATE_FIELD_CODE: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）的代码 {found} 不在代码表 {table} 中：可选值 {expected}',
    en: 'the code {found} in {path} ({label}) is not in the code table {table}: allowed values are {expected}',
  },
  GOVGATE_FIELD_RANGE: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）超出范围：应 {expected}，实际为 {found}',
    en: '{path} ({label}) is out of range: expected {expected}, found {found}',
  },
  GOVGATE_FIELD_UNKNOWN: {
    status: 422, area: 'schema',
    zh: '未定义的字段 {path}：规范中没有该字段，请检查拼写或映射配置',
    en: 'unknown field {path}: the spec has no such field; check the spelling or the mapping',
  },
  GOVGATE_FIELD_ITEMS: {
    status: 422, area: 'schema',
    zh: '列表 {path}（{label}）的条目数不符合要求：应 {expected}，实际 {found}',
    en: 'the list {path} ({label}) has the wrong number of entries: expected {expected}, found {found}',
  },
  GOVGATE_FIELD_INVALID: {
    status: 422, area: 'schema',
    zh: '字段 {path}（{label}）不符合规范：{detail}',
    en: '{path} ({label}) is invalid: {detail}',
  },

  // ── rules: meaning beyond shape ───────────────────────────────────────────────────────────────
  GOVGATE_RULE_ID_CARD_INVALID: {
    status: 422, area: 'rule',
    zh: '居民身份证号码 {path} 无效（GB 11643）：{detail}',
    en: 'the resident ID number at {path} is invalid (GB 11643): {detail}',
  },
  GOVGATE_RULE_ID_CARD_LEGACY: {
    status: 422, area: 'rule',
    zh: '{path} 为 15 位旧身份证号码，已按 GB 11643 升级为 18 位 {found}',
    en: '{path} is a legacy 15-digit ID number; it was upgraded to the 18-digit {found} (GB 11643)',
  },
  GOVGATE_RULE_USCC_INVALID: {
    status: 422, area: 'rule',
    zh: '统一社会信用代码 {path} 无效（GB 32100）：{detail}',
    en: 'the unified social credit code at {path} is invalid (GB 32100): {detail}',
  },
  GOVGATE_RULE_ORG_CODE_INVALID: {
    status: 422, area: 'rule',
    zh: '组织机构代码 {path} 无效（GB 11714）：{detail}',
    en: 'the organization code at {path} is invalid (GB 11714): {detail}',
  },
  GOVGATE_RULE_REGION_UNKNOWN: {
    status: 422, area: 'rule',
    zh: '行政区划代码 {found}（{path}）不在已加载的 GB/T 2260 区划表中',
    en: 'the administrative division code {found} at {path} is not in the loaded GB/T 2260 table',
  },
  GOVGATE_RULE_TIME_ORDER: {
    status: 422, area: 'rule',
    zh: '时间顺序错误：{path} 为 {found}，不应早于 {otherPath}（{expected}）',
    en: 'times out of order: {path} is {found}, which is before {otherPath} ({expected})',
  },
  GOVGATE_RULE_RESULT_REQUIRED: {
    status: 422, area: 'rule',
    zh: '办件状态为 {found}，必须填写办结结果 {path}',
    en: 'a case with status {found} must carry its result at {path}',
  },
  GOVGATE_RULE_STATUS_INCOMPLETE: {
    status: 422, area: 'rule',
    zh: '办件状态为 {found}，但缺少 {path}',
    en: 'the case status is {found} but {path} is missing',
  },
  GOVGATE_RULE_REASON_REQUIRED: {
    status: 422, area: 'rule',
    zh: '{path} 为否定性意见或结果（{found}），必须说明理由',
    en: '{path} is a negative opinion or result ({found}) and must state its reason',
  },
  GOVGATE_RULE_AMOUNT: {
    status: 422, area: 'rule',
    zh: '金额 {path} 应为不小于 0、最多两位小数的数值，实际为 {found}',
    en: 'the amount at {path} must be ≥ 0 with at most two decimals, found {found}',
  },
  GOVGATE_RULE_STEP_COMBINATION: {
    status: 422, area: 'rule',
    zh: '环节 {path} 的类型 {stepType} 不允许处理结果 {found}：允许 {expected}',
    en: 'step {path} of type {stepType} cannot have the result {found}: allowed are {expected}',
  },
  GOVGATE_RULE_STEP_SEQUENCE: {
    status: 422, area: 'rule',
    zh: '环节序号 {path} 应严格递增：上一环节为 {expected}，实际为 {found}',
    en: 'step numbers must increase: {path} is {found} after {expected}',
  },
  GOVGATE_RULE_ITEM_UNKNOWN: {
    status: 422, area: 'rule',
    zh: '权力事项编码 {found}（{path}）不在事项目录中',
    en: 'the power item code {found} at {path} is not in the catalogue',
  },
  GOVGATE_RULE_DATE_RANGE: {
    status: 422, area: 'rule',
    zh: '{path} 为 {found}，不应早于 {otherPath}（{expected}）',
    en: '{path} is {found}, which is before {otherPath} ({expected})',
  },
  GOVGATE_RULE_DUPLICATE_KEY_IN_BATCH: {
    status: 422, area: 'rule',
    zh: '同一批次中记录 {found} 重复出现（第 {expected} 条已有相同业务主键和数据版本）',
    en: 'the record {found} appears twice in the batch (record {expected} has the same key and data version)',
  },

  // ── auth and HTTP ─────────────────────────────────────────────────────────────────────────────
  GOVGATE_AUTH_MISSING: {
    status: 401, area: 'auth',
    zh: '缺少签名认证信息：请提供 {expected}',
    en: 'authentication is missing: provide {expected}',
  },
  GOVGATE_AUTH_KEY_UNKNOWN: {
    status: 401, area: 'auth',
    zh: '未知或已停用的密钥编号 {found}',
    en: 'unknown or inactive key id {found}',
  },
  GOVGATE_AUTH_SIGNATURE_INVALID: {
    status: 401, area: 'auth',
    zh: '签名校验失败：请核对签名串（方法、路径、时间戳、随机数、报文摘要）与密钥',
    en: 'the signature does not verify: check the string to sign (method, path, timestamp, nonce, body digest) and the secret',
  },
  GOVGATE_AUTH_CLOCK_SKEW: {
    status: 401, area: 'auth',
    zh: '请求时间戳 {found} 超出允许的 ±{limit} 秒时间窗口（服务器时间 {expected}）',
    en: 'the request timestamp {found} is outside the allowed ±{limit} s window (server time {expected})',
  },
  GOVGATE_AUTH_REPLAY: {
    status: 401, area: 'auth',
    zh: '随机数 {found} 已使用过：疑似重放请求',
    en: 'the nonce {found} was already used: the request looks like a replay',
  },
  GOVGATE_FORBIDDEN_DEPARTMENT: {
    status: 403, area: 'auth',
    zh: '部门 {expected} 无权提交或读取部门 {found} 的数据（位于 {path}）',
    en: 'department {expected} may not submit or read data of department {found} (at {path})',
  },
  GOVGATE_ADMIN_AUTH_REQUIRED: {
    status: 401, area: 'auth',
    zh: '管理接口需要有效的访问令牌（Authorization: Bearer <令牌>）：{detail}',
    en: 'the admin interface needs a valid token (Authorization: Bearer <token>): {detail}',
  },
  GOVGATE_NOT_FOUND: {
    status: 404, area: 'http',
    zh: '未找到 {what}：{found}',
    en: '{what} not found: {found}',
  },
  GOVGATE_ROUTE_NOT_FOUND: {
    status: 404, area: 'http',
    zh: '接口不存在：{method} {url}',
    en: 'no such route: {method} {url}',
  },
  GOVGATE_REQUEST_INVALID: {
    status: 400, area: 'http',
    zh: '请求参数错误：{detail}',
    en: 'invalid request: {detail}',
  },
  GOVGATE_OVERLOADED: {
    status: 503, area: 'http',
    zh: '网关繁忙，请在 {retryAfter} 秒后重试',
    en: 'the gateway is busy; retry after {retryAfter} s',
  },

  // ── storage ───────────────────────────────────────────────────────────────────────────────────
  GOVGATE_DB_UNAVAILABLE: {
    status: 503, area: 'store',
    zh: '数据库暂不可用，数据未被接收，请稍后重试',
    en: 'the database is unavailable; nothing was accepted, retry later',
  },
  GOVGATE_DB_NOT_MIGRATED: {
    status: 503, area: 'store',
    zh: '数据库结构版本为 {found}，应为 {expected}',
    en: 'the database schema is at version {found}, expected {expected}',
  },
  GOVGATE_AUDIT_CHAIN_BROKEN: {
    status: 500, area: 'store',
    zh: '部门 {dept} 的原始报文哈希链在第 {found} 条处断裂',
    en: 'the raw-payload hash chain of department {dept} breaks at entry {found}',
  },
  GOVGATE_DB_UNSAFE_SETTING: {
    status: 500, area: 'store',
    zh: 'PostgreSQL 参数 {setting} 为 {found}，已确认的数据可能在断电或崩溃后丢失，网关拒绝启动：请设为 {expected}',
    en: 'the PostgreSQL setting {setting} is {found}, so acknowledged data could be lost in a crash or power failure; refusing to start: set it to {expected}',
  },
  GOVGATE_DB_URL_INVALID: {
    status: 500, area: 'store',
    zh: '数据库连接串无效（{found}）：{detail}',
    en: 'the database URL is invalid ({found}): {detail}',
  },
  GOVGATE_RECORD_STALE: {
    status: 409, area: 'store',
    zh: '记录 {found} 的数据版本 {dataVer} 低于已存储的数据版本 {expected}，未被采用（原始报文已保存）',
    en: 'the record {found} has data version {dataVer}, older than the stored data version {expected}; it was not taken (the raw payload is kept)',
  },

  // ── configuration ─────────────────────────────────────────────────────────────────────────────
  GOVGATE_CONFIG_INVALID: {
    status: 500, area: 'config',
    zh: '配置错误：{file} 第 {line} 行 {path}：{detail}',
    en: 'configuration error in {file} line {line} at {path}: {detail}',
  },
  GOVGATE_MAPPING_INVALID: {
    status: 500, area: 'config',
    zh: '映射配置错误：{file} 第 {line} 行 {path}：{detail}',
    en: 'mapping error in {file} line {line} at {path}: {detail}',
  },
  GOVGATE_MAPPING_FAILED: {
    status: 422, area: 'schema',
    zh: '按映射转换字段 {path} 失败：{detail}（原值 {found}）',
    en: 'mapping the field {path} failed: {detail} (source value {found})',
  },

  // ── pull adapters and scheduled jobs ──────────────────────────────────────────────────────────
  GOVGATE_PULL_ADAPTER_UNKNOWN: {
    status: 404, area: 'pull',
    zh: '没有名为 {found} 的拉取适配器；已配置的适配器：{expected}',
    en: 'there is no pull adapter named {found}; configured adapters: {expected}',
  },
  GOVGATE_PULL_BUSY: {
    status: 409, area: 'pull',
    zh: '适配器 {adapter} 正在运行（本实例或另一实例持有其锁），本次未运行',
    en: 'the adapter {adapter} is already running (this instance or another holds its lock); this run did not start',
  },
  GOVGATE_PULL_CURSOR_CONFLICT: {
    status: 409, area: 'pull',
    zh: '适配器 {adapter} 的游标在本次运行期间被另一次运行移动；本报文已回滚，下次运行从新游标继续',
    en: 'the cursor of the adapter {adapter} was moved by another run during this one; this payload was rolled back and the next run continues from the new cursor',
  },
  GOVGATE_PULL_SOURCE_UNAVAILABLE: {
    status: 502, area: 'pull',
    zh: '适配器 {adapter} 无法连接数据源：{detail}',
    en: 'the adapter {adapter} cannot reach its source: {detail}',
  },
  GOVGATE_PULL_SOURCE_AUTH: {
    status: 502, area: 'pull',
    zh: '数据源拒绝了适配器 {adapter} 的凭据：{detail}',
    en: 'the source refused the credentials of the adapter {adapter}: {detail}',
  },
  GOVGATE_PULL_SOURCE_ERROR: {
    status: 502, area: 'pull',
    zh: '适配器 {adapter} 的数据源返回错误：{detail}',
    en: 'the source of the adapter {adapter} answered with an error: {detail}',
  },
  GOVGATE_PULL_PAYLOAD_REJECTED: {
    status: 422, area: 'pull',
    zh: '适配器 {adapter} 取得的报文被整体拒收（{detail}）；原始报文已保存（回执 {receiptId}），游标未前移，下次运行重新读取',
    en: 'a payload the adapter {adapter} fetched was rejected as a whole ({detail}); the raw payload is kept (receipt {receiptId}), the cursor did not move, and the next run reads it again',
  },
  GOVGATE_PULL_ABORTED: {
    status: 503, area: 'pull',
    zh: '适配器 {adapter} 的运行被中止（网关正在停止）；已提交的数据与游标保留，下次运行从游标继续',
    en: 'the run of the adapter {adapter} was aborted (the gateway is stopping); committed data and the cursor are kept and the next run continues from the cursor',
  },
  GOVGATE_PULL_BACKFILL_UNSUPPORTED: {
    status: 400, area: 'pull',
    zh: '适配器类型 {kind} 不支持按时间范围补取（--since/--until）',
    en: 'the adapter kind {kind} cannot backfill a time range (--since/--until)',
  },
  GOVGATE_PULL_SOURCE_ACK_FAILED: {
    status: 502, area: 'pull',
    zh: '在数据源中回写“已取/失败”标记失败：{detail}；数据已保存，下次运行先重试回写，不会重复接收',
    en: 'writing the taken/failed flag back to the source failed: {detail}; the data is stored, and the next run retries the flag first without taking the rows twice',
  },
  GOVGATE_FILE_DROP_MANIFEST_INVALID: {
    status: 422, area: 'pull',
    zh: '清单文件 {file} 无效：{detail}',
    en: 'the manifest {file} is invalid: {detail}',
  },
  GOVGATE_FILE_DROP_DIGEST_MISMATCH: {
    status: 422, area: 'pull',
    zh: '文件 {file} 与清单不符：清单中 {what} 为 {expected}，实际为 {found}',
    en: 'the file {file} does not match its manifest: the manifest gives {what} {expected}, found {found}',
  },
  GOVGATE_FILE_DROP_COUNT_MISMATCH: {
    status: 422, area: 'pull',
    zh: '文件 {file} 的记录数与清单不符：清单为 {expected} 条，实际 {found} 条',
    en: 'the file {file} holds {found} records but its manifest says {expected}',
  },
  GOVGATE_FILE_DROP_INCOMPLETE: {
    status: 422, area: 'pull',
    zh: '批次 {file} 在 {limit} 秒内未到齐或未写完：{detail}',
    en: 'the batch {file} was not complete within {limit} s: {detail}',
  },
  GOVGATE_FILE_DROP_SIGNATURE_MISSING: {
    status: 401, area: 'pull',
    zh: '清单 {file} 没有签名，而本适配器配置了验签密钥（signatureKeys）并要求签名',
    en: 'the manifest {file} is not signed, and this adapter has signature keys (signatureKeys) and requires a signature',
  },
  GOVGATE_FILE_DROP_SIGNATURE_INVALID: {
    status: 401, area: 'pull',
    zh: '清单 {file} 的签名无效：{detail}',
    en: 'the signature of the manifest {file} is not valid: {detail}',
  },
  GOVGATE_FILE_EXPORT_UNENCODABLE: {
    status: 500, area: 'delivery',
    zh: '记录 {key} 含有无法用 {encoding} 表示的字符 {found}；请把目的地 {destination} 的 encoding 改为 GB18030 或 UTF-8 后恢复该目的地',
    en: 'the record {key} holds the character {found}, which {encoding} cannot express; set encoding of destination {destination} to GB18030 or UTF-8, then resume it',
  },
  GOVGATE_CSV_INVALID: {
    status: 400, area: 'wire',
    zh: 'CSV 文件第 {line} 行有误：{detail}',
    en: 'the CSV file is malformed at line {line}: {detail}',
  },

  // ── dead letters and destination administration ───────────────────────────────────────────────
  GOVGATE_DEADLETTER_NOT_OPEN: {
    status: 409, area: 'delivery',
    zh: '死信 {id} 的状态为 {found}（处理人 {resolvedBy}），只有待处理（open）的死信可以重新投递',
    en: 'the dead letter {id} is {found} (by {resolvedBy}); only an open dead letter can be re-driven',
  },
  GOVGATE_REDRIVE_JOB_STATE: {
    status: 409, area: 'delivery',
    zh: '重新投递任务 {id} 的状态为 {found}，不能{action}（应为 {expected}）',
    en: 'the re-drive job {id} is {found} and cannot be {action} (it must be {expected})',
  },
  GOVGATE_ADMIN_FEATURE_UNAVAILABLE: {
    status: 503, area: 'http',
    zh: '本网关实例未提供该管理功能：{feature}',
    en: 'this gateway instance does not offer the admin feature: {feature}',
  },

  // ── system ────────────────────────────────────────────────────────────────────────────────────
  GOVGATE_INTAKE_WORKER_LOST: {
    status: 503, area: 'system',
    zh: '解析该报文的工作线程意外退出，报文未被接收；请在 {retryAfter} 秒后重试',
    en: 'the intake worker reading this payload exited unexpectedly; nothing was accepted — retry after {retryAfter} s',
  },
  GOVGATE_INTERNAL: {
    status: 500, area: 'system',
    zh: '网关内部错误（追踪号 {requestId}）；数据未被接收',
    en: 'internal gateway error (trace id {requestId}); nothing was accepted',
  },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface BilingualMessage {
  readonly zh: string;
  readonly en: string;
}

/**
 * Free-text details come in both languages: `detail` is used in the Chinese message and
 * `detailEn` (any `<name>En`) in the English one when present.
 */
function fill(template: string, details: ErrorDetails, lang: 'zh' | 'en'): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const localized = `${name}En`;
    if (lang === 'en' && Object.hasOwn(details, localized)) return describeValue(details[localized]);
    if (!Object.hasOwn(details, name)) return whole;
    return describeValue(details[name]);
  });
}

/** Renders a value for a message: strings as they are, everything else as compact JSON, capped. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value === undefined) text = '(none)';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function errorMessage(code: ErrorCode, details: ErrorDetails = {}): BilingualMessage {
  const def: ErrorDef = ERRORS[code];
  return { zh: fill(def.zh, details, 'zh'), en: fill(def.en, details, 'en') };
}

/** An error that carries a stable code; thrown by any layer, turned into an HTTP answer at the edge. */
export class GovgateError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: ErrorDetails;
  readonly messages: BilingualMessage;

  constructor(code: ErrorCode, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    const messages = errorMessage(code, details);
    super(`${code}: ${messages.en}`, options);
    this.name = 'GovgateError';
    this.code = code;
    this.statusCode = ERRORS[code].status;
    this.details = details;
    this.messages = messages;
  }

  toJSON(): { code: ErrorCode; message: BilingualMessage; details: ErrorDetails } {
    return { code: this.code, message: this.messages, details: this.details };
  }
}

export function isGovgateError(err: unknown): err is GovgateError {
  return err instanceof GovgateError;
}
