/** How a revoking answer says how many nodes had dropped the revoked tokens when it was sent. */
import type { Response } from 'express';
import type { Confirmation } from '../src/allowlist/types';

export const CONFIRMATION_HEADER = 'Revocation-Confirmed';

/** `Revocation-Confirmed: 3/3`: confirmed nodes out of the live nodes the revoking node knew of. */
export function sendConfirmation(res: Response, confirmation: Confirmation | null): void {
  if (confirmation !== null) res.set(CONFIRMATION_HEADER, `${confirmation.confirmed}/${confirmation.expected}`);
}
