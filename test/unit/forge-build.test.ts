/**
 * The Forge Custom UI build (forge/build.ts): one page per resource of the manifest, each a bundle that reaches
 * the remote through @forge/bridge's invokeRemote and never through fetch of its own. No browser: the files and
 * esbuild's account of what went into them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Metafile } from 'esbuild';
import { buildForgeUi, RESOURCES } from '../../forge/build';
import { PROJECT_ROOT } from '../../src/app/paths';

const INVOKE_REMOTE = '@forge/bridge/out/invoke-endpoint/invoke-remote.js';
const CONNECT_TRANSPORT = 'views/public/connect/transport.js';

describe('Forge Custom UI build', () => {
  let outDir: string;
  let metafile: Metafile;

  before(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'panelguard-forge-'));
    metafile = await buildForgeUi(outDir);
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  /** What went into a resource's index.js, as paths relative to the project (node_modules may sit elsewhere). */
  function inputsOf(resource: string): string[] {
    const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint === `forge/src/${resource}/index.ts`);
    if (output === undefined) throw new Error(`no bundle for ${resource}`);
    return Object.keys(output.inputs);
  }

  for (const { name } of RESOURCES) {
    describe(name, () => {
      it('is a page whose script and styles sit beside it', () => {
        expect(readdirSync(path.join(outDir, name)).sort()).to.deep.equal(['index.css', 'index.html', 'index.js']);
        const html = readFileSync(path.join(outDir, name, 'index.html'), 'utf8');
        expect(html).to.include('<script src="index.js"></script>').and.include('<link rel="stylesheet" href="index.css">');
        expect(html).to.include('id="status"');
      });

      it("bundles @forge/bridge's invokeRemote, sending the page token minted by /forge/sessions", () => {
        expect(inputsOf(name).some((input) => input.endsWith(INVOKE_REMOTE)), INVOKE_REMOTE).to.equal(true);
        const bundle = readFileSync(path.join(outDir, name, 'index.js'), 'utf8');
        expect(bundle).to.include('/forge/sessions').and.include('X-Page-Token');
      });

      it('holds no code of ours that calls fetch, and not the Connect transport', () => {
        const ours = inputsOf(name).filter((input) => !input.includes('node_modules/'));
        expect(ours).to.include(`forge/src/${name}/index.ts`).and.not.include(CONNECT_TRANSPORT);
        for (const input of ours) expect(readFileSync(path.join(PROJECT_ROOT, input), 'utf8'), input).not.to.match(/\bfetch\s*\(/);
        expect(readFileSync(path.join(outDir, name, 'index.js'), 'utf8')).not.to.include('Bearer ');
      });
    });
  }

  it('builds the same bytes from the same sources', async () => {
    const again = mkdtempSync(path.join(tmpdir(), 'panelguard-forge-'));
    try {
      await buildForgeUi(again);
      for (const { name } of RESOURCES) {
        for (const file of ['index.html', 'index.js', 'index.css']) {
          expect(readFileSync(path.join(again, name, file)).equals(readFileSync(path.join(outDir, name, file))), `${name}/${file}`).to.equal(true);
        }
      }
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});
