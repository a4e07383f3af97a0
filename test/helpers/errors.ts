/** The GovgateError a call throws; anything else it throws is rethrown, and not throwing fails. */
import { isGovgateError, type GovgateError } from '../../src/errors.js';

export function errorOf(fn: () => unknown): GovgateError {
  try {
    fn();
  } catch (err) {
    if (isGovgateError(err)) return err;
    throw err;
  }
  throw new Error('expected a GovgateError');
}
