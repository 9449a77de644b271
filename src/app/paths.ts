/** Where the project's files are, whether running from sources (tsx) or from dist/. */
import { existsSync } from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'atlassian-connect.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`atlassian-connect.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot(__dirname);
