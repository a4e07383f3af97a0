import t from 'tap';
import { ERRORS, GovgateError, errorMessage } from '../src/errors.js';

t.test('every code has a status and both languages', async (t) => {
  for (const [code, def] of Object.entries(ERRORS)) {
    t.match(code, /^GOVGATE_[A-Z0-9_]+$/, code);
    t.ok(def.status >= 400 && def.status < 600, `${code} status`);
    t.ok(def.zh.length > 0 && def.en.length > 0, `${code} messages`);
  }
});

t.test('messages fill their placeholders', async (t) => {
  const m = errorMessage('GOVGATE_PAYLOAD_TOO_LARGE', { limit: 10, found: 11 });
  t.equal(m.en, 'the payload is too large: the limit is 10 bytes, found 11 bytes');
  const e = new GovgateError('GOVGATE_NOT_FOUND', { what: 'receipt', found: 'r1' });
  t.equal(e.statusCode, 404);
  t.equal(e.code, 'GOVGATE_NOT_FOUND');
});
