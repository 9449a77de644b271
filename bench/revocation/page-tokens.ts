/** What a page does with its token in these measurements: get it from the issue panel, call the notes API with it. */
import type { HostSimulator, IssueContext } from '../../src/host-simulator';
import { randomId } from '../../src/tokens/random';
import { ISSUE, pageTokenOf, type ApiBody } from '../../test/integration/harness';

/** The issue every measured token is minted for and used on. */
export const BENCH_ISSUE: IssueContext = ISSUE;

export interface ApiAnswer {
  status: number;
  /** The error code of a refusal, null for a 200. */
  code: string | null;
  /** The session's next token, when the answer offers one (Page-Token-Next). */
  next: string | null;
}

/** Renders the issue panel on `nodeUrl` as the host would (Connect JWT and qsh from the simulator) and returns its page token. */
export async function mintPageToken(sim: HostSimulator, nodeUrl: string, accountId: string): Promise<string> {
  const panel = new URL(sim.panelUrl('issue-notes', BENCH_ISSUE, accountId));
  const response = await fetch(`${nodeUrl}${panel.pathname}${panel.search}`);
  const html = await response.text();
  const token = pageTokenOf(html);
  if (response.status !== 200 || token === null) throw new Error(`no page token from ${nodeUrl}: ${response.status} ${html.slice(0, 200)}`);
  return token;
}

/** One call of the guarded notes API, body read to the end. */
export async function callNotes(nodeUrl: string, token: string): Promise<ApiAnswer> {
  const response = await fetch(`${nodeUrl}/api/issues/${BENCH_ISSUE.issueId}/notes`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as ApiBody;
  return { status: response.status, code: body.error?.code ?? null, next: response.headers.get('page-token-next') };
}

/** Uses the token once so that the node caches its entry; anything but 200 means the setup is broken, not the measurement. */
export async function useOnce(nodeUrl: string, token: string): Promise<void> {
  const answer = await callNotes(nodeUrl, token);
  if (answer.status !== 200) throw new Error(`a fresh token was refused by ${nodeUrl}: ${answer.status} ${answer.code}`);
}

export function isRevokedRefusal(answer: ApiAnswer): boolean {
  return answer.status === 401 && answer.code === 'token_revoked';
}

/** A refusal of a session that theft detection ended. */
export function isForkedRefusal(answer: ApiAnswer): boolean {
  return answer.status === 401 && answer.code === 'token_forked';
}

/** A user no earlier sample has seen, so no tombstone or cached state of theirs exists yet. */
export function freshAccountId(series: string, index: number): string {
  return `557058:bench-${series}-${index}-${randomId()}`;
}
