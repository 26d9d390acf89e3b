export * from './budget-alerts.module';
export * from './budget-alerts.options';
export * from './budget-alerts.migration';
export * from './budget-alerts.consumer';
export { AlertDeliveryWorker } from './alert-delivery.worker';
export { AlertDeliveryStore, type ClaimedDelivery, type DeliveryOutcome } from './alert-delivery.store';
export {
  AlertDeliveriesProjection,
  BUDGET_ALERTS_PROJECTION,
  budgetStreamId,
} from './alert-deliveries.projection';
export { deliveryTargets, displayTarget, type AlertChannel, type DeliveryTarget } from './alert-channels';
export { alertBody, emailMessage, slackMessage, webhookRawBody } from './alert-messages';
export * from './webhook-signature';
