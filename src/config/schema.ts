/**
 * The gateway configuration, described once. This schema is the single source of validation
 * (ajv), defaults (ajv `useDefaults`), environment overrides (`x-env`), the generated reference
 * (`docs/configuration.md`, `config/govgate.example.yaml`) and log redaction (`x-secret`).
 * The hand-written `Config` type below mirrors it; `test/config.test.ts` keeps the two in step.
 *
 * Annotation keywords (registered with ajv in `ajv.ts`):
 * - `x-doc`          `{ zh, en }` description, required on every property;
 * - `x-secret`       the value must never reach a log line or an error message;
 * - `x-env`          the environment variable that overrides the value;
 * - `x-path`         a file-system path, resolved against the working directory at load;
 * - `x-default-doc`  how the default is decided when it is not a constant.
 */
import { DEPT_CODE_PATTERN } from '../schemas/spec/common.js';

export interface Doc {
  readonly zh: string;
  readonly en: string;
}

/** The subset of JSON Schema govgate's config schemas use; enough to walk them for docs and redaction. */
export interface SchemaNode {
  readonly type: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly 'x-doc': Doc;
  readonly 'x-secret'?: boolean;
  readonly 'x-env'?: string;
  readonly 'x-path'?: boolean;
  readonly 'x-default-doc'?: Doc;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | SchemaNode;
  readonly propertyNames?: { readonly pattern: string; readonly maxLength: number };
  readonly items?: SchemaNode;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
}

export const HMAC_ALGORITHMS = ['hmac-sha256', 'hmac-sm3'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MiB = 1024 * 1024;

/** Names of destinations and adapters: they appear in metrics labels, URLs and file names. */
export const NAME_PATTERN = '^[a-z][a-z0-9_-]{0,63}$';

/**
 * Secrets shorter than this are refused: an HMAC key or bearer token a person can type from memory
 * is guessable offline once one signed request has been captured. 32 characters of random base64
 * is about 190 bits.
 */
export const MIN_SECRET_LENGTH = 32;

/** RFC 3339 date-time with an explicit offset; the calendar is checked after the pattern. */
export const DATE_TIME_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$';

const obj = (doc: Doc, properties: Record<string, SchemaNode>): SchemaNode => ({
  type: 'object',
  'x-doc': doc,
  additionalProperties: false,
  properties,
});

// A missing section still gets its defaults: ajv fills `{}` in, then descends into it.
const section = (doc: Doc, properties: Record<string, SchemaNode>): SchemaNode => ({ ...obj(doc, properties), default: {} });

export const configSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://govgate.dev/schemas/config.json',
  ...obj({ zh: 'govgate 网关配置', en: 'govgate gateway configuration' }, {
    server: section({ zh: 'HTTP 服务', en: 'HTTP server' }, {
      host: {
        type: 'string', minLength: 1, maxLength: 255, default: '127.0.0.1', examples: ['0.0.0.0'], 'x-env': 'HOST',
        'x-doc': {
          zh: '监听地址。默认只监听本机；在容器中或需从其他主机访问时设为 0.0.0.0。',
          en: 'Address to listen on. Loopback by default; set 0.0.0.0 inside a container or to accept other hosts.',
        },
      },
      port: {
        type: 'integer', minimum: 0, maximum: 65535, default: 8080, examples: [8080], 'x-env': 'PORT',
        'x-doc': { zh: '监听端口；0 表示由系统分配空闲端口（实际地址在启动时打印）。', en: 'Port to listen on; 0 lets the system pick a free port (the address is printed on start).' },
      },
      bodyLimitBytes: {
        type: 'integer', minimum: 1024, maximum: 512 * MiB, default: 10 * MiB, examples: [10 * MiB],
        'x-doc': {
          zh: '单个 HTTP 请求体的字节上限，超出返回 413。',
          en: 'Largest HTTP request body in bytes; larger requests get 413.',
        },
      },
      requestTimeoutMs: {
        type: 'integer', minimum: 1000, maximum: 600_000, default: 30_000, examples: [30_000],
        'x-doc': {
          zh: '单个请求的处理时限（毫秒），超时的连接被关闭。',
          en: 'Time allowed for one request in milliseconds; the connection is closed after it.',
        },
      },
      maxInFlight: {
        type: 'integer', minimum: 1, maximum: 100_000, default: 64, examples: [64],
        'x-doc': {
          zh: '同时处理的请求数上限；超出时立即返回 503 并附 Retry-After，而不是排队耗尽内存。',
          en: 'Requests handled at once; beyond this the gateway answers 503 with Retry-After at once instead of queueing until memory runs out.',
        },
      },
      trustProxy: {
        type: 'boolean', default: false, examples: [true],
        'x-doc': {
          zh: '是否信任反向代理的 X-Forwarded-* 头。仅在网关位于受控代理之后时开启，否则客户端可伪造来源地址。',
          en: 'Trust X-Forwarded-* headers from a reverse proxy. Enable only behind a proxy you control, or clients can forge their address.',
        },
      },
    }),
    database: section({ zh: '数据库', en: 'Database' }, {
      url: {
        type: 'string', minLength: 1, maxLength: 2048, pattern: '^postgres(ql)?://',
        examples: ['postgres://govgate:change-me@db.example.internal:5432/govgate'],
        'x-secret': true, 'x-env': 'DATABASE_URL',
        'x-doc': {
          zh: 'PostgreSQL 连接串（含密码，属机密，建议用环境变量提供）。不设置时使用内嵌的 PGlite，数据保存在 dataDir。',
          en: 'PostgreSQL connection string (holds the password: prefer the environment variable). When absent, the embedded PGlite is used, with its data in dataDir.',
        },
      },
      dataDir: {
        type: 'string', minLength: 1, maxLength: 4096, default: '.govgate-data', examples: ['/var/lib/govgate'], 'x-path': true,
        'x-doc': {
          zh: '内嵌 PGlite 的数据目录（未设置 url 时使用）。',
          en: 'Data directory of the embedded PGlite (used when url is not set).',
        },
      },
      poolSize: {
        type: 'integer', minimum: 1, maximum: 200, default: 10, examples: [20],
        'x-doc': {
          zh: 'PostgreSQL 连接池大小；多实例部署时各实例之和不应超过数据库的 max_connections。',
          en: 'PostgreSQL connection pool size; across instances the sum must stay below the server\'s max_connections.',
        },
      },
      schema: {
        type: 'string', pattern: '^[a-z_][a-z0-9_]*$', minLength: 1, maxLength: 63, default: 'public', examples: ['govgate'],
        'x-doc': {
          zh: '网关数据表所在的 PostgreSQL schema。',
          en: 'PostgreSQL schema that holds the gateway\'s tables.',
        },
      },
    }),
    limits: section({ zh: '报文限制', en: 'Payload limits' }, {
      maxRecordsPerBatch: {
        type: 'integer', minimum: 1, maximum: 100_000, default: 1000, examples: [1000],
        'x-doc': { zh: '单个批次的记录数上限。', en: 'Most records in one batch.' },
      },
      maxDepth: {
        type: 'integer', minimum: 4, maximum: 256, default: 32, examples: [32],
        'x-doc': {
          zh: 'JSON/XML 嵌套层级上限；限制层级可防止深层嵌套耗尽栈空间。',
          en: 'Deepest JSON/XML nesting accepted; a cap keeps hostile nesting from exhausting the stack.',
        },
      },
      maxPayloadBytes: {
        type: 'integer', minimum: 1024, maximum: 512 * MiB, default: 10 * MiB, examples: [10 * MiB],
        'x-doc': {
          zh: '任一来源（推送、拉取、文件投递）单个报文解码前的字节上限。',
          en: 'Largest single payload from any source (push, pull, file drop), in bytes before decoding.',
        },
      },
    }),
    intake: section({ zh: '报文解析线程', en: 'Intake worker threads' }, {
      workers: {
        type: 'integer', minimum: 0, maximum: 32, default: 1, examples: [1],
        'x-doc': {
          zh: '在主线程之外解析推送报文（解码、解析、映射、校验、规范化）的工作线程数；0 表示全部在主线程解析。主线程同时负责 HTTP、签名校验、组提交和转发，批量推送时它是瓶颈。',
          en: 'Worker threads that read pushed payloads (decode, parse, map, validate, canonicalise) off the main thread; 0 reads everything on the main thread, which also serves HTTP, checks signatures and runs the group commit and delivery, and is the bottleneck for batches.',
        },
      },
      workerMinBytes: {
        type: 'integer', minimum: 0, maximum: 512 * MiB, default: 16 * 1024, examples: [16 * 1024],
        'x-doc': {
          zh: '报文至少达到该字节数才交给工作线程；更小的报文（如单条记录）在主线程解析，交接的开销大于节省。',
          en: 'Payloads of at least this many bytes go to a worker; smaller ones (a single record) are read on the main thread, where handing them over would cost more than it saves.',
        },
      },
    }),
    auth: section({ zh: '部门请求签名认证', en: 'Signed requests from departments' }, {
      clockSkewSeconds: {
        type: 'integer', minimum: 1, maximum: 3600, default: 300, examples: [300],
        'x-doc': {
          zh: '请求时间戳与服务器时间允许相差的秒数。',
          en: 'Seconds a request timestamp may differ from server time.',
        },
      },
      nonceTtlSeconds: {
        type: 'integer', minimum: 60, maximum: 86_400, default: 600, examples: [600],
        'x-doc': {
          zh: '随机数（nonce）的保留秒数，用于识别重放；须不小于 clockSkewSeconds 的两倍（启动时检查）。',
          en: 'Seconds a nonce is remembered to detect replays; must be at least twice clockSkewSeconds (checked at start).',
        },
      },
      algorithms: {
        type: 'array', items: { type: 'string', enum: HMAC_ALGORITHMS, 'x-doc': { zh: '签名算法', en: 'Signature algorithm' } },
        minItems: 1, maxItems: HMAC_ALGORITHMS.length, uniqueItems: true,
        default: [...HMAC_ALGORITHMS], examples: [['hmac-sm3']],
        'x-doc': {
          zh: '允许的签名算法：hmac-sha256、hmac-sm3（国密 SM3）。部门密钥只能使用此处列出的算法。',
          en: 'Signature algorithms allowed: hmac-sha256, hmac-sm3 (SM3). Department keys may only use these.',
        },
      },
    }),
    admin: section({ zh: '管理接口', en: 'Admin interface' }, {
      tokens: {
        type: 'array',
        items: { type: 'string', minLength: MIN_SECRET_LENGTH, maxLength: 512, 'x-secret': true, 'x-doc': { zh: '访问令牌', en: 'Bearer token' } },
        maxItems: 8, uniqueItems: true, default: [], examples: [['（至少 32 个字符的随机串 / a random string of at least 32 characters）']],
        'x-secret': true, 'x-env': 'GOVGATE_ADMIN_TOKEN',
        'x-doc': {
          zh: '管理接口的访问令牌（机密，每个至少 32 个字符）；可同时配置多个以便轮换。环境变量中多个令牌以逗号分隔。',
          en: 'Bearer tokens for the admin interface (secret, at least 32 characters each); list several to rotate. In the environment variable, separate tokens with commas.',
        },
      },
    }),
    departments: section({ zh: '部门', en: 'Departments' }, {
      dir: {
        type: 'string', minLength: 1, maxLength: 4096, default: 'config/departments', examples: ['/etc/govgate/departments'], 'x-path': true,
        'x-doc': {
          zh: '部门配置文件目录，每个部门一个以部门代码命名的 .yaml 文件。',
          en: 'Directory of department files: one .yaml file per department, named after its code.',
        },
      },
    }),
    spec: section({ zh: '接口规范数据', en: 'Spec data' }, {
      catalogueFile: {
        type: 'string', minLength: 1, maxLength: 4096, examples: ['/etc/govgate/catalogue.json'], 'x-path': true,
        'x-doc': {
          zh: '权力事项目录文件（可选）；设置后校验办件的事项编码是否在目录中。',
          en: 'Power-item catalogue file (optional); when set, case item codes are checked against it.',
        },
      },
      divisionsFile: {
        type: 'string', minLength: 1, maxLength: 4096, examples: ['/etc/govgate/gbt2260.csv'], 'x-path': true,
        'x-doc': {
          zh: '完整的 GB/T 2260 行政区划代码表（可选）；不设置时只校验区划代码的格式。',
          en: 'Full GB/T 2260 division table (optional); without it only the shape of division codes is checked.',
        },
      },
      timezone: {
        type: 'string', minLength: 1, maxLength: 64, default: 'Asia/Shanghai', examples: ['Asia/Shanghai'],
        'x-doc': {
          zh: 'IANA 时区，用于计算工作日时限和按日对账。',
          en: 'IANA time zone for working-day deadlines and daily reconciliation.',
        },
      },
    }),
    destinations: {
      type: 'array', maxItems: 32, default: [],
      'x-doc': {
        zh: '转发目的地（统一网厅、省级平台、上级网关等）。每个目的地的 options 由其类型（kind）决定，见 docs/adapters/<kind>.md。',
        en: 'Where accepted records are forwarded (the unified hall, the province, an upstream gateway…). Each destination\'s options depend on its kind; see docs/adapters/<kind>.md.',
      },
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'kind'],
        'x-doc': { zh: '转发目的地', en: 'Destination' },
        properties: {
          name: {
            type: 'string', pattern: NAME_PATTERN, minLength: 1, maxLength: 64, examples: ['hall'],
            'x-doc': { zh: '目的地名称，在路由、指标和死信中引用；唯一。', en: 'Destination name, used by routes, metrics and dead letters; unique.' },
          },
          kind: {
            type: 'string', minLength: 1, maxLength: 64, examples: ['standard'],
            'x-doc': { zh: '目的地类型，如 standard（标准上报协议）。', en: 'Destination kind, e.g. standard (the upstream protocol).' },
          },
          enabled: {
            type: 'boolean', default: true, examples: [false],
            'x-doc': { zh: '是否投递。停用时记录仍进入发件箱排队，启用后补发。', en: 'Whether to deliver. While disabled, records still queue in the outbox and go out once it is enabled.' },
          },
          options: {
            type: 'object', default: {}, additionalProperties: true,
            'x-doc': { zh: '该类型的选项（由类型自己的 schema 校验）。', en: 'Options of the kind (checked by the kind\'s own schema).' },
          },
        },
      },
    },
    routes: {
      type: 'array', maxItems: 256, default: [],
      'x-doc': {
        zh: '路由规则：哪些记录转发到哪个目的地。一条记录匹配几条规则就进入几个目的地（同一目的地只一次）。',
        en: 'Routing rules: which records go to which destination. A record goes to every destination whose rule it matches (once per destination).',
      },
      items: {
        type: 'object', additionalProperties: false, required: ['destination'],
        'x-doc': { zh: '路由规则', en: 'Route' },
        properties: {
          destination: {
            type: 'string', pattern: NAME_PATTERN, minLength: 1, maxLength: 64, examples: ['hall'],
            'x-doc': { zh: '目的地名称（destinations 中的 name）。', en: 'Destination name (a name under destinations).' },
          },
          recordTypes: {
            type: 'array', uniqueItems: true, minItems: 1, maxItems: 3,
            items: { type: 'string', enum: ['case', 'powerItem', 'supervision'], 'x-doc': { zh: '记录类型', en: 'Record type' } },
            examples: [['case', 'powerItem']],
            'x-default-doc': { zh: '全部类型', en: 'every type' },
            'x-doc': { zh: '只转发这些记录类型。', en: 'Only these record types.' },
          },
          departments: {
            type: 'array', uniqueItems: true, minItems: 1, maxItems: 10_000,
            items: { type: 'string', pattern: DEPT_CODE_PATTERN, minLength: 2, maxLength: 32, 'x-doc': { zh: '部门代码', en: 'Department code' } },
            examples: [['11330100002489671K']],
            'x-default-doc': { zh: '全部部门', en: 'every department' },
            'x-doc': { zh: '只转发这些部门的记录。', en: 'Only records of these departments.' },
          },
          categories: {
            type: 'array', uniqueItems: true, minItems: 1, maxItems: 64,
            items: { type: 'string', pattern: '^[0-9A-Za-z]{1,8}$', maxLength: 8, 'x-doc': { zh: '事项类型代码', en: 'Item category code' } },
            examples: [['01', '02']],
            'x-default-doc': { zh: '不限', en: 'any' },
            'x-doc': {
              zh: '只转发这些事项类型（itemCategory 代码表）的权力事项；对办件和督办不起作用。',
              en: 'Only power items of these categories (itemCategory code table); has no effect on cases and supervision notices.',
            },
          },
        },
      },
    },
    delivery: section({ zh: '投递', en: 'Delivery' }, {
      enabled: {
        type: 'boolean', default: true, examples: [false], 'x-env': 'GOVGATE_DELIVERY',
        'x-doc': {
          zh: '本实例是否运行投递进程。多实例时可只让部分实例投递；发件箱照常写入。',
          en: 'Whether this instance runs delivery workers. With several instances some may only ingest; the outbox is written either way.',
        },
      },
      batchSize: {
        type: 'integer', minimum: 1, maximum: 1000, default: 200, examples: [200],
        'x-doc': { zh: '每次认领并发送的记录数上限。', en: 'Most records claimed and sent in one request.' },
      },
      concurrency: {
        type: 'integer', minimum: 1, maximum: 64, default: 4, examples: [4],
        'x-doc': { zh: '每个目的地同时在途的请求数（本实例）。', en: 'Requests in flight per destination (this instance).' },
      },
      leaseSeconds: {
        type: 'integer', minimum: 5, maximum: 3600, default: 120, examples: [120],
        'x-doc': {
          zh: '认领的租约时长（秒）；进程被杀后，超过租约的在途条目由其他实例收回重发。须大于目的地的请求超时。',
          en: 'Claim lease in seconds; entries left in flight by a killed process are reclaimed after it. Must exceed the destination\'s request timeout.',
        },
      },
      pollIntervalMs: {
        type: 'integer', minimum: 10, maximum: 60_000, default: 250, examples: [250],
        'x-doc': { zh: '发件箱为空时的轮询间隔（毫秒）。', en: 'Polling interval when the outbox is empty, in ms.' },
      },
      retryBaseMs: {
        type: 'integer', minimum: 10, maximum: 600_000, default: 1000, examples: [1000],
        'x-doc': { zh: '首次重试的基准等待（毫秒）；之后指数增长并加随机抖动。', en: 'Base wait before the first retry in ms; grows exponentially, with jitter.' },
      },
      retryMaxMs: {
        type: 'integer', minimum: 100, maximum: 86_400_000, default: 300_000, examples: [300_000],
        'x-doc': { zh: '两次重试之间的最长等待（毫秒）。', en: 'Longest wait between retries in ms.' },
      },
      maxRetryHours: {
        type: 'integer', minimum: 1, maximum: 24 * 90, default: 72, examples: [72],
        'x-doc': {
          zh: '暂时性失败持续重试的最长时间（小时），超过后转入死信（原因：重试超时）。',
          en: 'How long transient failures are retried, in hours; after that the entry becomes a dead letter (reason: retries exhausted).',
        },
      },
      breakerThreshold: {
        type: 'integer', minimum: 1, maximum: 1000, default: 5, examples: [5],
        'x-doc': { zh: '连续多少次暂时性失败后熔断该目的地。', en: 'Consecutive transient failures that open a destination\'s circuit breaker.' },
      },
      breakerCooldownMs: {
        type: 'integer', minimum: 100, maximum: 3_600_000, default: 15_000, examples: [15_000],
        'x-doc': { zh: '熔断后等待多久再试探（毫秒）。', en: 'How long an open breaker waits before a probe, in ms.' },
      },
    }),
    pull: section({ zh: '拉取', en: 'Pulling' }, {
      adapters: {
        type: 'array', maxItems: 256, default: [],
        'x-doc': {
          zh: '拉取适配器：定时从部门系统（REST、SOAP、数据库、文件摆渡）取数。options 由类型决定，见 docs/adapters/<kind>.md。',
          en: 'Pull adapters: scheduled fetching from department systems (REST, SOAP, database, file ferry). Options depend on the kind; see docs/adapters/<kind>.md.',
        },
        items: {
          type: 'object', additionalProperties: false, required: ['name', 'kind', 'dept'],
          'x-doc': { zh: '拉取适配器', en: 'Pull adapter' },
          properties: {
            name: {
              type: 'string', pattern: NAME_PATTERN, minLength: 1, maxLength: 64, examples: ['scjg-db'],
              'x-doc': { zh: '适配器名称，唯一；游标和运行记录以它为键。', en: 'Adapter name, unique; its cursor and run history are keyed by it.' },
            },
            kind: {
              type: 'string', minLength: 1, maxLength: 64, examples: ['db-pull'],
              'x-doc': { zh: '类型：rest-poll、soap-poll、db-pull、file-drop。', en: 'Kind: rest-poll, soap-poll, db-pull, file-drop.' },
            },
            dept: {
              type: 'string', pattern: DEPT_CODE_PATTERN, minLength: 2, maxLength: 32, examples: ['11330100002489671K'],
              'x-doc': { zh: '数据所属部门代码（须在部门配置中）；该部门的字段映射同样适用。', en: 'Department the data belongs to (must have a department file); its mapping applies.' },
            },
            schedule: {
              type: 'string', minLength: 1, maxLength: 128, default: '*/1 * * * *', examples: ['*/5 * * * *'],
              'x-doc': { zh: '运行计划（cron 表达式，node-cron 语法，可含秒）。', en: 'Schedule (cron expression, node-cron syntax, seconds allowed).' },
            },
            enabled: {
              type: 'boolean', default: true, examples: [false],
              'x-doc': { zh: '是否按计划运行（停用后仍可用 govgate pull 手动运行）。', en: 'Whether it runs on schedule (a disabled adapter can still be run by govgate pull).' },
            },
            options: {
              type: 'object', default: {}, additionalProperties: true,
              'x-doc': { zh: '该类型的选项（由类型自己的 schema 校验）。', en: 'Options of the kind (checked by the kind\'s own schema).' },
            },
          },
        },
      },
    }),
    log: section({ zh: '日志', en: 'Logging' }, {
      level: {
        type: 'string', enum: LOG_LEVELS, default: 'info', examples: ['debug'], 'x-env': 'GOVGATE_LOG_LEVEL',
        'x-doc': { zh: '日志级别。', en: 'Log level.' },
      },
    }),
    demo: section({ zh: '演示模式', en: 'Demo mode' }, {
      enabled: {
        type: 'boolean', default: false, examples: [true],
        'x-default-doc': {
          zh: '未指定配置文件时为 true，否则为 false',
          en: 'true when no config file is given, false otherwise',
        },
        'x-doc': {
          zh: '演示模式：载入示例部门与演示数据，便于无需任何准备即可试用。生产环境务必关闭。',
          en: 'Demo mode: loads the sample departments and demo data so the gateway can be tried with no set-up. Keep it off in production.',
        },
      },
      hallSim: {
        type: 'boolean', default: true, examples: [false],
        'x-doc': {
          zh: '演示模式下且未配置任何目的地时，启动内嵌的统一网厅模拟器（hall-sim，端口随机）并把全部记录转发给它，以便看到记录端到端流转。',
          en: 'In demo mode with no destination configured, start an embedded hall simulator (hall-sim, on a free port) and forward every record to it, so records can be seen travelling end to end.',
        },
      },
    }),
  }),
} as const satisfies SchemaNode & { $schema: string; $id: string };

/** The validated, defaulted, deep-frozen gateway configuration. Mirrors `configSchema`. */
export interface Config {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly requestTimeoutMs: number;
    readonly maxInFlight: number;
    readonly trustProxy: boolean;
  };
  readonly database: {
    /** Absent → embedded PGlite in `dataDir`. Secret. */
    readonly url?: string;
    /** Absolute after loading. */
    readonly dataDir: string;
    readonly poolSize: number;
    readonly schema: string;
  };
  readonly limits: {
    readonly maxRecordsPerBatch: number;
    readonly maxDepth: number;
    readonly maxPayloadBytes: number;
  };
  readonly intake: {
    readonly workers: number;
    readonly workerMinBytes: number;
  };
  readonly auth: {
    readonly clockSkewSeconds: number;
    readonly nonceTtlSeconds: number;
    readonly algorithms: readonly HmacAlgorithm[];
  };
  readonly admin: {
    /** Secret. */
    readonly tokens: readonly string[];
  };
  readonly departments: {
    /** Absolute after loading. */
    readonly dir: string;
  };
  readonly spec: {
    readonly catalogueFile?: string;
    readonly divisionsFile?: string;
    readonly timezone: string;
  };
  readonly destinations: readonly DestinationConfig[];
  readonly routes: readonly RouteConfig[];
  readonly delivery: DeliveryConfig;
  readonly pull: {
    readonly adapters: readonly PullAdapterConfig[];
  };
  readonly log: {
    readonly level: LogLevel;
  };
  readonly demo: {
    readonly enabled: boolean;
    readonly hallSim: boolean;
  };
}

export interface DestinationConfig {
  readonly name: string;
  readonly kind: string;
  readonly enabled: boolean;
  /** Checked against the kind's own schema by the adapter registry. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface RouteConfig {
  readonly destination: string;
  readonly recordTypes?: readonly ('case' | 'powerItem' | 'supervision')[];
  readonly departments?: readonly string[];
  readonly categories?: readonly string[];
}

export interface DeliveryConfig {
  readonly enabled: boolean;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly leaseSeconds: number;
  readonly pollIntervalMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxRetryHours: number;
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
}

export interface PullAdapterConfig {
  readonly name: string;
  readonly kind: string;
  readonly dept: string;
  readonly schedule: string;
  readonly enabled: boolean;
  /** Checked against the kind's own schema by the adapter registry. */
  readonly options: Readonly<Record<string, unknown>>;
}

const keySchema: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'algorithm'],
  'x-doc': { zh: '签名密钥', en: 'Signing key' },
  properties: {
    id: {
      type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', minLength: 1, maxLength: 64, examples: ['scjg-2026a'],
      'x-doc': {
        zh: '密钥编号，请求头中用它指明所用密钥；在所有部门中唯一。',
        en: 'Key id that requests name in their headers; unique across all departments.',
      },
    },
    secret: {
      type: 'string', minLength: MIN_SECRET_LENGTH, maxLength: 512, 'x-secret': true,
      examples: ['（仅演示 / demo only）'],
      'x-doc': {
        zh: '密钥明文（机密，至少 32 个字符）。仅供演示：生产环境请改用 secretEnv，避免密钥进入文件和版本库。与 secretEnv 二选一。',
        en: 'The secret itself (at least 32 characters). Demo only: in production use secretEnv so secrets stay out of files and version control. Give either this or secretEnv.',
      },
    },
    secretEnv: {
      type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$', minLength: 1, maxLength: 128, examples: ['GOVGATE_SECRET_330100001_A'],
      'x-doc': {
        zh: '保存密钥的环境变量名；启动时读取，未设置则启动失败。与 secret 二选一。',
        en: 'Name of the environment variable holding the secret; read at start, and the start fails when it is not set. Give either this or secret.',
      },
    },
    algorithm: {
      type: 'string', enum: HMAC_ALGORITHMS, examples: ['hmac-sm3'],
      'x-doc': { zh: '签名算法，须在 auth.algorithms 之列。', en: 'Signature algorithm; must be listed in auth.algorithms.' },
    },
    active: {
      type: 'boolean', default: true, examples: [false],
      'x-doc': {
        zh: '是否启用。同一部门最多同时启用两个密钥，用于无中断轮换。',
        en: 'Whether the key is in use. At most two keys of a department are active at once, for rotation without downtime.',
      },
    },
    notAfter: {
      type: 'string', pattern: DATE_TIME_PATTERN, maxLength: 40, examples: ['2027-01-01T00:00:00+08:00'],
      'x-doc': {
        zh: '失效时间（RFC 3339，含时区），此后用该密钥签名的请求被拒绝。',
        en: 'Expiry (RFC 3339 with offset); requests signed with the key after it are refused.',
      },
    },
  },
};

/** One file under `departments.dir`. The `mapping` section is checked by `compileMapping`. */
export const departmentSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://govgate.dev/schemas/department.json',
  type: 'object',
  additionalProperties: false,
  required: ['code', 'name', 'keys'],
  'x-doc': { zh: '部门配置文件', en: 'Department file' },
  properties: {
    code: {
      type: 'string', pattern: DEPT_CODE_PATTERN, minLength: 2, maxLength: 32, examples: ['330100001'],
      'x-doc': {
        zh: '部门代码，须与文件名一致（如 330100001.yaml），也是记录中 deptCode 的取值。纯数字代码请加引号。',
        en: 'Department code; must match the file name (e.g. 330100001.yaml) and the deptCode of its records. Quote all-digit codes.',
      },
    },
    name: {
      type: 'string', minLength: 1, maxLength: 100, examples: ['杭州市市场监督管理局'],
      'x-doc': { zh: '部门名称（中文全称）。', en: 'Department name (full Chinese name).' },
    },
    regionCode: {
      type: 'string', pattern: '^[0-9]{6}([0-9]{3}|[0-9]{6})?$', minLength: 6, maxLength: 12, examples: ['330100'],
      'x-doc': {
        zh: '部门所在行政区划代码（GB/T 2260，6、9 或 12 位）。',
        en: 'Administrative division of the department (GB/T 2260; 6, 9 or 12 digits).',
      },
    },
    keys: {
      type: 'array', items: keySchema, minItems: 1, maxItems: 16,
      'x-doc': {
        zh: '部门用于签名请求的密钥。',
        en: 'Keys the department signs its requests with.',
      },
    },
    relayFor: {
      type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true,
      items: { type: 'string', pattern: `^(\\*|${DEPT_CODE_PATTERN.slice(1, -1)})$`, maxLength: 32, 'x-doc': { zh: '部门代码或 *', en: 'Department code or *' } },
      examples: [['*']],
      'x-doc': {
        zh: '下级网关（可选）：持此密钥者是下级网关，可按上报协议代这些部门提交（每批一个部门，批次信封的 senderDept 为该部门）；* 表示任意部门。',
        en: 'Downstream gateway (optional): the holder of these keys is a gateway that may submit for these departments by the upstream protocol (one department per batch, named by senderDept); * means any.',
      },
    },
    mapping: {
      type: 'object',
      'x-doc': {
        zh: '字段映射（可选）：把部门自有的记录结构转换为标准记录。不设置时，记录须已是标准结构。',
        en: 'Field mapping (optional): turns the department\'s own record shape into the standard record. Without it, records must already have the standard shape.',
      },
    },
  },
} as const satisfies SchemaNode & { $schema: string; $id: string };

/** One leaf (or array) option of a schema, with its dotted path, for docs, env overrides and redaction. */
export interface SchemaLeaf {
  readonly path: readonly string[];
  readonly node: SchemaNode;
  /** True when this node or an ancestor is marked `x-secret`. */
  readonly secret: boolean;
}

/**
 * Every property of a schema, depth first in declaration order. Objects with declared properties
 * are descended into and yielded as sections; arrays of objects are descended into with `*`.
 */
export function* walkSchema(
  node: SchemaNode,
  path: readonly string[] = [],
  secret = false,
): Generator<SchemaLeaf & { readonly section: boolean }> {
  const isSecret = secret || node['x-secret'] === true;
  if (node.type === 'object' && node.properties !== undefined) {
    if (path.length > 0) yield { path, node, secret: isSecret, section: true };
    for (const [name, child] of Object.entries(node.properties)) yield* walkSchema(child, [...path, name], isSecret);
    return;
  }
  if (node.type === 'array' && node.items?.type === 'object' && node.items.properties !== undefined) {
    yield { path, node, secret: isSecret, section: true };
    for (const [name, child] of Object.entries(node.items.properties)) yield* walkSchema(child, [...path, '*', name], isSecret);
    return;
  }
  yield { path, node, secret: isSecret, section: false };
}

/** The schema nodes along an instance path (segments of an ajv `instancePath`), as far as the schema goes. */
export function schemaPath(root: SchemaNode, segments: readonly string[]): SchemaNode[] {
  const out: SchemaNode[] = [root];
  let cur: SchemaNode | undefined = root;
  for (const seg of segments) {
    if (cur === undefined) break;
    if (cur.type === 'array') cur = cur.items;
    else if (cur.type === 'object') cur = cur.properties?.[seg] ?? (typeof cur.additionalProperties === 'object' ? cur.additionalProperties : undefined);
    else cur = undefined;
    if (cur !== undefined) out.push(cur);
  }
  return out;
}

export function isSecretAt(root: SchemaNode, segments: readonly string[]): boolean {
  return schemaPath(root, segments).some((n) => n['x-secret'] === true);
}
