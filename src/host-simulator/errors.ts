/** The simulator's failures, each with a stable code that tests can branch on. */

export type HostSimulatorErrorCode =
  | 'not_installed'
  | 'app_not_enabled'
  | 'descriptor_unavailable'
  | 'descriptor_invalid'
  | 'module_not_found'
  | 'webhook_not_declared'
  | 'user_unknown';

export class HostSimulatorError extends Error {
  constructor(
    readonly code: HostSimulatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HostSimulatorError';
  }
}
