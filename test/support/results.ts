/** Results in tests: the value of one a test expects to be ok, or the test fails naming the code. */
import { AssertionError } from 'chai';
import type { Result } from '../../src/base/result';

export function valueOf<T>(result: Result<T, string>): T {
  if (!result.ok) throw new AssertionError(`expected an ok result, got ${result.code}`);
  return result.value;
}
