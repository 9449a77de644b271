/** How a theft signal's detail is kept in the audit log: as JSON text, checked on the way back like every stored union. */
import { z } from 'zod';
import type { SignalDetail } from '../allowlist/types';

const sighting = z.object({
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  network: z.string().nullable(),
  agent: z.string().nullable(),
  at: z.number(),
});

// Typed against SignalDetail, so a field added there and not here fails to compile rather than vanishing on the way back.
const signalDetail: z.ZodType<SignalDetail> = z.object({
  kind: z.enum(['fork', 'network_changed', 'agent_changed']),
  session: z.string(),
  action: z.enum(['revoked', 'reported']),
  presented: sighting,
  holder: sighting,
});

export function encodeSignalDetail(detail: SignalDetail): string {
  return JSON.stringify(detail);
}

/** The detail a store wrote; refuses text that is not one (a bug, or a hand edit), as the stores refuse an unknown kind. */
export function decodeSignalDetail(text: string): SignalDetail {
  const parsed = signalDetail.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error('audit record in store has an unreadable signal detail');
  return parsed.data;
}

/** A copy sharing nothing with `detail`, for the memory store to keep and hand out. */
export function copySignalDetail(detail: SignalDetail): SignalDetail {
  return { ...detail, presented: { ...detail.presented }, holder: { ...detail.holder } };
}
