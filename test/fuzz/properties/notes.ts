/** A guarded route that takes a body: the notes API, with a live token and any body. */
import fc from 'fast-check';
import { ALICE, ISSUE, pageTokenOf } from '../../integration/harness';
import { bodies } from '../bodies';
import { checkAnswer, jsonOf, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';

export const noteBodies: FuzzProperty = {
  name: 'notes API: bodies',
  claim:
    'POST /api/issues/:id/notes with a live token stores a note (201) only for a JSON object {"text"} whose trimmed text is 1 to 10,000 characters, answering it trimmed; any other body is a 4xx in the error format',
  async open(sites) {
    const site = await sites.shared();
    const { sim } = await site.tenant('notes');
    const token = pageTokenOf(await (await fetch(sim.panelUrl('issue-notes', ISSUE, ALICE))).text());
    if (token === null) throw new Error('no page token for the notes site');
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', ' ', ' \t\n', '\u00a0', '\ufeff', 'x'.repeat(10_000), ` ${'x'.repeat(10_000)} `, 'x'.repeat(10_001), '\ud800'));
    const request = text.chain((t) => bodies({ text: t }));
    const tally = new Tally();
    const property = fc.asyncProperty(request, async (body) => {
      site.faults.check();
      const answer = await site.http.send({ method: 'POST', path: `/api/issues/${ISSUE.issueId}/notes`, headers: { ...body.headers, authorization: `Bearer ${token}` }, body: body.body });
      tally.add(outcomeOf(answer));
      checkAnswer(answer);
      if (answer.status < 300) {
        const sent = body.json?.value as Record<string, unknown> | undefined;
        const only = typeof sent === 'object' && sent !== null && !Array.isArray(sent) && Object.keys(sent).join() === 'text';
        const trimmed = typeof sent?.text === 'string' ? sent.text.trim() : null;
        if (!only || trimmed === null || trimmed.length < 1 || trimmed.length > 10_000) violated(`stored ${body.how}: ${answer.status}`);
        const { note } = jsonOf(answer) as { note?: { text?: unknown } };
        if (answer.status !== 201 || note?.text !== trimmed) violated(`answered ${answer.status} ${answer.text.slice(0, 200)} to ${body.how}`);
      }
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};
