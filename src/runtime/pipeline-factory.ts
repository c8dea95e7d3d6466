// Wires the pure stages to the config: one place that knows how decode, map and plan are
// built, shared by `run`, `replay`, `dlq redrive` and the benchmarks.
import type { CompiledConfig } from '../config/load-config.js';
import { createConfluentSchemaRegistry, type SchemaRegistry } from '../adapters/registry/schema-registry.js';
import { createDecoder } from '../pipeline/decode/index.js';
import { compileMapping, loadMapping, mapEvent, type CompiledMapping } from '../pipeline/map/index.js';
import { coalesce, planOptionsFromMapping, planUser } from '../pipeline/plan/index.js';
import type { CoalesceFn, PlanFn } from '../pipeline/apply/user-applier.js';
import { BatchProcessor, type Decoder, type MapFn } from './batch-processor.js';
import { AwsCognitoGateway, type CognitoCallEvent, type CognitoGateway } from '../adapters/cognito/cognito-gateway.js';
import { JitGraceApplier } from '../migration/jit-grace-applier.js';
import type { DeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import type { DeletedUsersStore } from '../adapters/kafka/deleted-users-log.js';
import { UserApplier } from '../pipeline/apply/user-applier.js';
import { VersionCache } from '../pipeline/apply/version-cache.js';
import { systemClock, type Clock } from '../pipeline/apply/token-bucket.js';
import type { SyncEvents } from './instrumentation.js';

export interface Pipeline {
  mapping: CompiledMapping;
  decoder: Decoder;
  map: MapFn;
  plan: PlanFn;
  coalesce: CoalesceFn;
  /** True when the mapping manages group memberships (reads need the user's groups). */
  manageGroups: boolean;
}

export async function loadCompiledMapping(path: string): Promise<CompiledMapping> {
  return compileMapping(await loadMapping(path));
}

export function pipelineFromMapping(mapping: CompiledMapping, decoder: Decoder): Pipeline {
  const options = planOptionsFromMapping(mapping);
  return {
    mapping,
    decoder,
    map: (event) => mapEvent(mapping, event),
    plan: (current, intent, deletedVersion) => planUser(current, intent, options, deletedVersion),
    coalesce,
    manageGroups: mapping.spec.groups !== undefined || mapping.rolesTable !== undefined,
  };
}

export async function buildPipeline(config: CompiledConfig, registry?: SchemaRegistry): Promise<Pipeline> {
  const mapping = await loadCompiledMapping(config.mappingPath);
  const schemaRegistry =
    registry ??
    (config.schemaRegistry
      ? createConfluentSchemaRegistry({
          host: config.schemaRegistry.url,
          auth: config.schemaRegistry.username && config.schemaRegistry.password ? { username: config.schemaRegistry.username, password: config.schemaRegistry.password } : undefined,
        })
      : undefined);
  const decoder = createDecoder({ format: config.format, registry: schemaRegistry });
  return pipelineFromMapping(mapping, decoder);
}

export function createGateway(config: CompiledConfig, onCall?: (e: CognitoCallEvent) => void, clock?: Clock): AwsCognitoGateway {
  return new AwsCognitoGateway({
    userPoolId: config.cognito.userPoolId,
    region: config.cognito.region,
    endpoint: config.cognito.endpoint,
    budget: config.budget,
    maxAttempts: config.cognito.maxAttempts,
    requestTimeoutMs: config.cognito.requestTimeoutMs,
    clock,
    onCall,
  });
}

export interface BatchProcessorDeps {
  config: CompiledConfig;
  gateway: CognitoGateway;
  dlq: DeadLetterSink;
  deletedUsers: DeletedUsersStore;
  events: SyncEvents;
  clock?: Clock;
  /** Overrides config.dlq.tolerance (a DLQ re-drive always routes and goes on). */
  tolerance?: 'all' | 'none';
}

/** The one way to build the decode -> map -> plan -> apply processor: `run`, `replay`, `dlq redrive`. */
export async function createBatchProcessor(d: BatchProcessorDeps): Promise<{ processor: BatchProcessor; pipeline: Pipeline }> {
  const { config } = d;
  const pipeline = await buildPipeline(config);
  const cache = new VersionCache(config.processing.versionCacheSize);
  // existing-only: an update for a user that is not there yet may be racing the User
  // Migration trigger's creation, so fresh "not-existing" skips are re-checked after a grace.
  const applier =
    pipeline.mapping.createPolicy === 'existing-only'
      ? new JitGraceApplier(d.gateway, pipeline.plan, pipeline.coalesce, cache, pipeline.manageGroups, { graceMs: config.processing.jitGraceMs, clock: d.clock }, d.deletedUsers)
      : new UserApplier(d.gateway, pipeline.plan, pipeline.coalesce, cache, pipeline.manageGroups, true, d.deletedUsers);
  const processor = new BatchProcessor({
    decoder: pipeline.decoder,
    map: pipeline.map,
    applier,
    dlq: d.dlq,
    tolerance: d.tolerance ?? config.dlq.tolerance,
    concurrency: config.processing.concurrency,
    missingUserTimeoutMs: config.processing.missingUserTimeoutMs,
    events: d.events,
    clock: d.clock ?? systemClock,
  });
  return { processor, pipeline };
}
