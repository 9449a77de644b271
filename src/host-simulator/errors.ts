/** The simulator's failures, each with a stable code that tests can branch on. */

export type HostSimulatorErrorCode =
  | 'not_installed'
  | 'app_not_enabled'
  | 'descriptor_unavailable'
  | 'descriptor_invalid'
  | 'module_not_found'
  | 'webhook_not_declared'
  | 'user_unknown'
  | 'manifest_invalid'
  | 'trigger_not_declared'
  | 'resource_not_found'
  | 'issue_unknown'
  | 'already_installed';

export class HostSimulatorError extends Error {
  constructor(
    readonly code: HostSimulatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HostSimulatorError';
  }
}
