/** Where a run's latest.json and latest.svg go: only a full run of every figure replaces the committed results. */
import path from 'node:path';

export interface ResultsChoice {
  quick: boolean;
  only?: string[];
  /** --out, when given: always wins. */
  out?: string;
}

/**
 * `--out` if given; otherwise `committed` for a full run of every figure, and its `partial/` folder (which
 * .gitignore keeps out) for a --quick or --only run, whose figures are not the ones docs/PERFORMANCE.md quotes.
 */
export function resultsDirOf(choice: ResultsChoice, committed: string): string {
  if (choice.out !== undefined) return path.resolve(choice.out);
  return choice.quick || choice.only !== undefined ? path.join(committed, 'partial') : committed;
}
