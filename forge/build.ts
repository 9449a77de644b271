/**
 * Builds the Forge Custom UI (`npm run build:forge`): for each resource the manifest names, forge/static/<resource>/
 * holds index.html (the page's markup from views/partials), index.js (the page's entry in forge/src with the shared
 * logic of views/public and @forge/bridge, one IIFE) and index.css. Output depends only on the sources.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { PROJECT_ROOT } from '../src/app/paths';
import { renderMarkup } from '../views/views';

/** A Custom UI resource: its folder under forge/static (the manifest's `path: static/<name>`) and its page. */
export interface Resource {
  name: 'issue-panel' | 'admin' | 'my-sessions';
  title: string;
  /** The page's markup; values the Forge context supplies are filled in by the page's entry. */
  markup(): string;
}

export const RESOURCES: readonly Resource[] = [
  { name: 'issue-panel', title: 'PanelGuard notes', markup: () => renderMarkup('issue-notes', { issueKey: '' }) },
  { name: 'admin', title: 'PanelGuard administration', markup: () => renderMarkup('admin', { accountId: '' }) },
  { name: 'my-sessions', title: 'Your PanelGuard sessions', markup: () => renderMarkup('my-sessions', {}) },
];

export const STATIC_DIR = path.join(PROJECT_ROOT, 'forge', 'static');
const SOURCE_DIR = path.join(PROJECT_ROOT, 'forge', 'src');

// Forge's own CSP allows scripts and styles from the resource itself, so both are files beside the page.
function pageHtml(resource: Resource): string {
  const markup = resource.markup().trimEnd().split('\n').map((line) => (line === '' ? line : `  ${line}`)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${resource.title}</title>
  <link rel="stylesheet" href="index.css">
</head>
<body>
${markup}
  <script src="index.js"></script>
</body>
</html>
`;
}

/** Builds every resource into `outDir`, replacing what an earlier build left there; answers esbuild's metafile. */
export async function buildForgeUi(outDir: string = STATIC_DIR): Promise<Metafile> {
  for (const resource of RESOURCES) rmSync(path.join(outDir, resource.name), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: RESOURCES.map((resource) => ({ in: path.join(SOURCE_DIR, resource.name, 'index.ts'), out: `${resource.name}/index` })),
    outdir: outDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  for (const resource of RESOURCES) {
    mkdirSync(path.join(outDir, resource.name), { recursive: true });
    writeFileSync(path.join(outDir, resource.name, 'index.html'), pageHtml(resource));
  }
  return result.metafile;
}

if (require.main === module) {
  const started = performance.now();
  buildForgeUi().then(
    (metafile) => {
      for (const [file, output] of Object.entries(metafile.outputs)) console.log(`${file}  ${(output.bytes / 1024).toFixed(1)} KiB`);
      console.log(`built ${RESOURCES.length} resources into ${path.relative(process.cwd(), STATIC_DIR) || '.'} in ${Math.round(performance.now() - started)} ms`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    }
  );
}
