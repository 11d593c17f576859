export { Broker, type ClaimedJob, type ExchangeOptions, type Lease, type LeasedRecord, type RenewOutcome, type RunSample, type WorkerIdentity } from './broker.ts';
export { type ModelDemand, type ServiceModelStats } from './model-stats.ts';
export { BrokerOptions, Durability, type ParsedBrokerOptions } from './broker-options.ts';
export {
  ConveyorError,
  DurabilityError,
  ReplicationError,
  InvalidStateError,
  JobNotFoundError,
  LeaseLostError,
  LibraryVersionError,
  ValidationError,
  type ValidationIssue,
} from './errors.ts';
export { ReturnCode } from './functions/codes.ts';
export { conveyorLibrary, ensureLibrary, loadedLibraryHash } from './library.ts';
export { CheckedJobSubmission, CorruptJobError } from './job-record.ts';
export { Keys } from './keys.ts';
export { canonicalJson, capabilityClassOf, signatureOf } from './matching.ts';
export * from './schemas/index.ts';
export { type WorkerSignal } from './worker-signals.ts';
export { JobAbort, JobConsumer, type ConsumerLogger, type JobConsumerOptions, type JobContext, type JobHandler } from './consumer.ts';
export { NonRetryableError, RetryAfterError, toJobError } from './job-failures.ts';
export { FleetRegistry, type ReceivedServiceCommand } from './fleet.ts';
export {
  defineConnector,
  parsePayload,
  type Connector,
  type ConnectorContext,
  type ConnectorJob,
  type ConnectorKind,
  type ConnectorLogger,
  type ConnectorSetup,
} from './connector.ts';
export * from './artifacts/index.ts';
export { isCompiled, packageDir } from './package-dir.ts';
export {
  createRedisClient,
  duplicateClient,
  parseRedisUrl,
  RedisUrl,
  RedisUrlError,
  REDIS_URL_FORMS,
  type RedisClient,
  type RedisTarget,
} from './redis-connection.ts';
export { listingEntries, type JobPage, type ListingEntry, type ListQuery } from './job-list.ts';
export {
  CorruptTenantPolicyError,
  TenantMaxRunning,
  TenantPolicy,
  TenantPolicyUpdate,
  TenantWeight,
  type TenantPolicyState,
} from './tenant-policy.ts';
export { type ModelWarmth, type RunTiming } from './warmth.ts';
export { Preloader, type PreloaderOptions } from './preloader.ts';
export { WarmLru, type WarmLimit } from './warm-lru.ts';
export { seededRandom } from './seeded-random.ts';
export { ConnectionWatch, type ConnectionLogger } from './connection-watch.ts';
