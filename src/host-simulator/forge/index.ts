/** The host simulator's Forge mode: FITs and their JWKS, the Custom UI CDN and bridge, invokeRemote, trigger deliveries. */
export { ForgeSimulator, startForgeSimulator } from './simulator';
export type { ForgeSimulatorOptions, ViewContext, BridgeCallRecord, EventOptions, SendOptions, InvokeRemoteInput, EnvironmentType } from './simulator';
export type { UiCall, BridgeAnswer } from './host-pages';
export { FIT_ISSUER, FIT_TTL_SECONDS, forgeClaims } from './fit';
export type { FitClaims, FitForgery, FitSigning, FitLicense, FitAppClaims, FitContextClaims } from './fit';
export { ForgeInvokeError, asBridgeResolves } from './invoke';
export type { BridgeInvokeResult, RemoteAnswer, InvokeFailureCode } from './invoke';
export { EVENT_POLICY, PRE_UNINSTALL_POLICY } from './delivery';
export type { Delivery, DeliveryAttempt, DeliveryPolicy, RetryReason, RetryContext } from './delivery';
export type { ForgeIssue } from './events';
export { CONTRACT_LAYOUT, layoutFromManifest, loadForgeLayout } from './manifest';
export type { ForgeAppLayout, UiModule, UiModuleType, Endpoint, Trigger } from './manifest';
