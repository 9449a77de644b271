/** A variable a skipped test tells the reader to set is one the README explains, where it describes the tests. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../src/app/paths';

/** The helpers that find a test's outside services (PostgreSQL, Redis, Chromium) and skip without them. */
const FINDERS = ['test/support', 'test/e2e'];
/** The process's own environment, not a setting of the tests. */
const NOT_SETTINGS = new Set(['PATH', 'NO_PROXY']);

function variablesReadBy(folder: string): string[] {
  const names: string[] = [];
  for (const file of readdirSync(path.join(PROJECT_ROOT, folder)).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(path.join(PROJECT_ROOT, folder, file), 'utf8');
    for (const match of source.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) if (!NOT_SETTINGS.has(match[1])) names.push(match[1]);
  }
  return names;
}

describe('the test suite documents its settings', () => {
  it('names in README.md every variable that points the tests at PostgreSQL, Redis or Chromium', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const variables = [...new Set(FINDERS.flatMap(variablesReadBy))];
    expect(variables).to.include.members(['CHROMIUM_PATH', 'PG_TEST_URL', 'REDIS_TEST_URL', 'REQUIRE_SERVICES']);
    // In code, alone or with a value: `CHROMIUM_PATH`, `REQUIRE_SERVICES=1`.
    expect(variables.filter((name) => !new RegExp(`\`${name}[\`=]`).test(readme))).to.deep.equal([]);
  });
});
