// Public API of @millwright/transports. Explicit named exports only: what is not listed here is internal.
// Each transport is a subpath: ./http (node:http, no dependency), ./mqtt (mqtt), ./nats (@nats-io/*).
export type { DeliveryInfo, DeliveryOutcome, PublishOutcome, Publisher, SubscribeOptions, Subscription, SubscriptionStats } from "./core.js";
export { transportError, type TransportError, type TransportErrorCode } from "./errors.js";
export { TRANSPORT_METRICS, type MessagingSystem } from "./telemetry.js";
export { SIGNATURE_HEADER, signWebhook, verifyWebhook, type SignatureError } from "./signature.js";
export {
  createWebhookSecret,
  parseWebhookSecret,
  signStandardWebhook,
  STANDARD_WEBHOOK_HEADERS,
  verifyStandardWebhook,
  type StandardWebhookHeaders,
} from "./webhook-standard.js";
