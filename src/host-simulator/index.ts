/** The host simulator's public face: a local Jira Cloud stand-in for the demo and the tests. */
export { HostSimulator, startHostSimulator } from './simulator';
export type { HostSimulatorOptions, TokenOptions, EventOptions, LifecycleSigning, Forgery } from './simulator';
export { UserDirectory } from './directory';
export type { SimulatedUser, NewUser } from './directory';
export type { IssueContext } from './issues';
export type { AppDescriptor } from './descriptor';
export { HostSimulatorError } from './errors';
export type { HostSimulatorErrorCode } from './errors';
export { queryStringHash } from './connect-jwt';
export { ApiLog } from './rest-api';
export type { ApiFault } from './rest-api';
export type { ReportedAccount } from './privacy-api';
export { EVENT_TYPES, SsfTransmitter, startSsfTransmitter } from './ssf-transmitter';
export type { ConsoleTarget, EventName, PushAnswer, SetAlgorithm, SetOptions, SsfTransmitterOptions, SubjectFormat } from './ssf-transmitter';
