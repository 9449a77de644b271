/** Every TypeScript sample in the README is a file under examples/ that the typecheck covers, shown verbatim. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../src/app/paths';

const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

/** Each ```ts block of the README, with the examples/ file its paragraph links to. */
function typescriptSamples(): { code: string; file: string | null }[] {
  const samples: { code: string; file: string | null }[] = [];
  for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const before = readme.slice(Math.max(0, match.index - 400), match.index);
    const links = [...before.matchAll(/\]\((examples\/[^)\s]+\.ts)\)/g)];
    samples.push({ code: match[1], file: links.length === 0 ? null : links[links.length - 1][1] });
  }
  return samples;
}

describe('the README', () => {
  it('shows every TypeScript sample as the exact content of the examples/ file it names', () => {
    const samples = typescriptSamples();
    expect(samples).not.to.be.empty;
    for (const { code, file } of samples) {
      expect(file, `a README sample names no examples/ file:\n${code.slice(0, 200)}`).not.to.equal(null);
      expect(code, `README differs from ${file}`).to.equal(readFileSync(path.join(PROJECT_ROOT, file!), 'utf8'));
    }
  });

  it('has its examples typechecked with the project (npm test runs tsc over tsconfig.json)', () => {
    const tsconfig = z.object({ include: z.array(z.string()) }).parse(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'tsconfig.json'), 'utf8')));
    expect(tsconfig.include).to.include('examples/**/*.ts');
  });
});
