/**
 * The project documents itself: every relative link in its documents names a file or folder inside the
 * repository that exists. A link that leaves the repository (`../` past its root) or points at something
 * only a build or a run makes (a folder .gitignore names) would be broken for everyone reading it elsewhere.
 * Web links (`https:`, `mailto:`) and links to an anchor of the same document are not checked; of any other
 * link only the file part counts (`docs/CLUSTER.md#trying-it-locally` needs docs/CLUSTER.md).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../src/app/paths';

/** The documents a reader of the repository starts from. */
function documents(): string[] {
  const docs = readdirSync(path.join(PROJECT_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join('docs', name));
  return ['README.md', ...docs, 'forge/README.md', 'soak/README.md'];
}

/** Markdown without its code: fenced blocks and inline code spans hold examples, not links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^ {0,3}(```|~~~)[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');
}

/** Every link target in `markdown`: inline links and images `[text](target "title")`, and reference definitions `[label]: target`. */
export function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const targets: string[] = [];
  for (const match of text.matchAll(/\]\(\s*(<[^>]*>|[^()\s]+(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
    targets.push(match[1].replace(/^<|>$/g, ''));
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm)) targets.push(match[1].replace(/^<|>$/g, ''));
  return targets;
}

/** Folders .gitignore keeps out of the repository (build output, local data). */
function ignoredFolders(): string[] {
  return readFileSync(path.join(PROJECT_ROOT, '.gitignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.endsWith('/') && !line.startsWith('#') && !/[*?[!]/.test(line))
    .map((line) => line.replace(/^\/|\/$/g, ''));
}

/** Why a link from `from` (a path relative to `root`) to `target` is broken, or null when it is not. */
export function brokenLink(root: string, from: string, target: string, ignored: readonly string[] = []): string | null {
  // A scheme (https:, mailto:) is a web link; a lone anchor points into the same document.
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) return null;
  const file = target.split(/[?#]/)[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(file);
  } catch {
    return 'does not decode';
  }
  if (decoded === '') return 'names no file';
  // GitHub reads a leading slash as the repository's root.
  const resolved = decoded.startsWith('/') ? path.join(root, decoded) : path.resolve(root, path.dirname(from), decoded);
  const inside = path.relative(root, resolved);
  if (inside.startsWith('..') || path.isAbsolute(inside)) return 'leaves the repository';
  const first = inside.split(path.sep).join('/');
  if (ignored.some((folder) => first === folder || first.startsWith(`${folder}/`))) return `is in ${first.split('/')[0]}/, which the repository does not keep`;
  if (!existsSync(resolved)) return 'does not exist';
  return null;
}

describe('documentation links', () => {
  describe('the link reader', () => {
    const sample = [
      'See [the design](docs/DESIGN.md#words) and [home](https://example.com).',
      'An image: ![chart](performance.svg "figures").',
      '[a folder](forge/) and [an anchor](#layout)',
      '`[not a link](nowhere.md)` in code',
      '```',
      '[not a link either](nowhere.md)',
      '```',
      '[ref]: ../soak/README.md',
    ].join('\n');

    it('finds inline links, images and reference definitions, and nothing inside code', () => {
      expect(linkTargets(sample)).to.deep.equal(['docs/DESIGN.md#words', 'https://example.com', 'performance.svg', 'forge/', '#layout', '../soak/README.md']);
    });

    it('refuses a link past the root, to a missing file or into an ignored folder, and passes the rest', () => {
      expect(brokenLink(PROJECT_ROOT, 'README.md', '../shared/DESIGN.md')).to.equal('leaves the repository');
      expect(brokenLink(PROJECT_ROOT, 'docs/FORGE.md', '../../elsewhere.md')).to.equal('leaves the repository');
      expect(brokenLink(PROJECT_ROOT, 'docs/FORGE.md', 'NOWHERE.md')).to.equal('does not exist');
      expect(brokenLink(PROJECT_ROOT, 'README.md', 'forge/static/index.html', ['forge/static'])).to.match(/does not keep/);
      expect(brokenLink(PROJECT_ROOT, 'docs/FORGE.md', '../forge/README.md')).to.equal(null);
      expect(brokenLink(PROJECT_ROOT, 'README.md', 'docs/CLUSTER.md#trying-it-locally')).to.equal(null);
      expect(brokenLink(PROJECT_ROOT, 'README.md', 'https://developer.atlassian.com/')).to.equal(null);
      expect(brokenLink(PROJECT_ROOT, 'README.md', '#layout')).to.equal(null);
    });
  });

  const ignored = ignoredFolders();
  for (const document of documents()) {
    it(`${document} links only to files inside the repository that exist`, () => {
      const markdown = readFileSync(path.join(PROJECT_ROOT, document), 'utf8');
      const broken = linkTargets(markdown)
        .map((target) => ({ target, why: brokenLink(PROJECT_ROOT, document, target, ignored) }))
        .filter((link) => link.why !== null)
        .map((link) => `${link.target}: ${link.why}`);
      expect(broken, `${document} has broken links`).to.deep.equal([]);
    });
  }
});
