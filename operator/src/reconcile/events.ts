/** Event reasons (PascalCase, stable: dashboards and alerts may match on them). */
export const EventReason = {
  InvalidSpec: 'InvalidSpec',
  Ready: 'PipelineReady',
  NotReady: 'PipelineNotReady',
  Degraded: 'PipelineDegraded',
  Paused: 'ReconciliationPaused',
  Resumed: 'ReconciliationResumed',
  StreamsDeleted: 'StreamsDeleted',
  NatsStorageInsufficient: 'NatsStorageInsufficient',
  ApplyFailed: 'ApplyFailed',
  Pruned: 'Pruned',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}
