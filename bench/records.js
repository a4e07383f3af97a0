// The record the benchmarks push: the same ~1.6 KB case as bench/validate.js, of the demo planning
// department, whose key signs the requests.
import { DEMO_DEPT_2, exampleCase } from '../dist/schemas/spec/examples.js';

export const KEY = { keyId: 'demo-ghzy-2026', secret: 'demo-only-secret-ghzy-330100-do-not-use-in-production', algorithm: 'hmac-sm3' };

const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };

export function record(caseNo) {
  const r = exampleCase({ ...own, caseNo, documents: undefined, specialProcedures: undefined, charges: undefined, sourceBizNo: undefined, promiseDueTime: undefined });
  r.steps = r.steps.slice(0, 2);
  for (const k of ['legalRep', 'address', 'postcode']) delete r.applicant[k];
  for (const k of ['place', 'docNo']) delete r.acceptance[k];
  for (const k of ['certValidTo', 'certIssuer', 'decisionNo']) delete r.result[k];
  // Keys in the order the spec lists them, as a department's system writes them — not the
  // canonical order, which would let canonicalisation take its cheapest path on every record.
  return JSON.parse(JSON.stringify(r));
}
