/** The build leaves an executable `panelguard`: the bin keeps its shebang and the postbuild step sets its mode. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../src/app/paths';

const manifest = z
  .object({ bin: z.object({ panelguard: z.string() }), scripts: z.record(z.string()) })
  .parse(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')));

describe('the built command line', () => {
  it('starts src/cli/main.ts with a node shebang, which tsc carries into the bin', () => {
    expect(readFileSync(path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts'), 'utf8').split('\n')[0]).to.equal('#!/usr/bin/env node');
    expect(manifest.bin.panelguard).to.equal('dist/src/cli/main.js');
  });

  it('makes the bin executable after every build, with node rather than chmod', function () {
    if (process.platform === 'win32') this.skip();
    const step = manifest.scripts.postbuild;
    expect(step, 'package.json scripts.postbuild').to.be.a('string').and.match(/^node /);
    const dir = mkdtempSync(path.join(tmpdir(), 'panelguard-build-'));
    try {
      const bin = path.join(dir, manifest.bin.panelguard);
      mkdirSync(path.dirname(bin), { recursive: true });
      writeFileSync(bin, '#!/usr/bin/env node\n');
      chmodSync(bin, 0o644);
      const result = spawnSync(step, { cwd: dir, shell: true, encoding: 'utf8' });
      expect(result.status, result.stderr).to.equal(0);
      expect(statSync(bin).mode & 0o111).to.equal(0o111);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
