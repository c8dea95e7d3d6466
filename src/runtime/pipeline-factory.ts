// Wires the pure stages to the config: one place that knows how decode, map and plan are
// built, shared by `run`, `replay`, `dlq redrive` and the benchmarks.
import type { CompiledConfig } from '../config/load-config.js';
import { createConfluentSchemaRegistry, type SchemaRegistry } from '../adapters/registry/schema-registry.js';
import { createDecoder } from '../pipeline/decode/index.js';
import {
  compileMapping,
  loadMapping,
  mapEvent,
  usernameOfUsersEvent,
  type CompiledMapping,
} from '../pipeline/map/index.js';
import { coalesce, planOptionsFromMapping, planUser } from '../pipeline/plan/index.js';
import { comparedAttributes } from '../pipeline/plan/state-digest.js';
import type { CoalesceFn, PlanFn } from '../pipeline/apply/user-applier.js';
import { BatchProcessor, type Decoder, type MapFn } from './batch-processor.js';
import { WaitingMemberships } from './waiting-memberships.js';
import {
  AwsCognitoGateway,
  type CognitoCallEvent,
  type CognitoDirectory,
  type CognitoGateway,
} from '../adapters/cognito/cognito-gateway.js';
import {
  byLegacyKey,
  forPoolShape,
  keyedDirectory,
  type PoolUsernames,
  type PoolUsernamesDirectory,
} from '../adapters/cognito/pool-usernames.js';
import type { PoolListing } from '../pipeline/apply/pool-state.js';
import { JitGraceApplier } from '../migration/jit-grace-applier.js';
import type { DeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import type { DeletedUsersStore } from '../adapters/kafka/deleted-users-log.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import { derivedAttributes, legacyRowValues, type UnknownValuesSource } from '../pipeline/apply/unknown-values.js';
import { UserApplier, type UserApplierOptions } from '../pipeline/apply/user-applier.js';
import { PoolState } from '../pipeline/apply/pool-state.js';
import { gatedGateway } from '../pipeline/apply/write-gate.js';
import { systemClock, type Clock } from '../pipeline/apply/token-bucket.js';
import type { SyncEvents } from './instrumentation.js';
import { AliasConflicts, type AliasDirectory } from '../pipeline/apply/alias-conflicts.js';
import { legacyHolderRows, type LegacyHolderRows } from '../adapters/legacy-db/alias-holder-rows.js';
import { usernamePattern } from '../migration/username-pattern.js';

/** The mapping's planning half: what the applier needs (no decoding, no mapping of events). */
export interface Planning {
  mapping: CompiledMapping;
  plan: PlanFn;
  coalesce: CoalesceFn;
  /** True when the mapping manages group memberships (reads need the user's groups). */
  manageGroups: boolean;
  /** The attributes the planner compares (the pool state's fingerprints). */
  comparedAttributes: readonly string[];
  /** The groups the mapping maps roles to, when it names them (the pool state lists their members). */
  ownedGroups: readonly string[] | undefined;
}

export interface Pipeline extends Planning {
  decoder: Decoder;
  map: MapFn;
}

export async function loadCompiledMapping(path: string): Promise<CompiledMapping> {
  return compileMapping(await loadMapping(path));
}

export function planningFromMapping(mapping: CompiledMapping): Planning {
  const options = planOptionsFromMapping(mapping);
  return {
    mapping,
    plan: (current, intent, deletedVersion) => planUser(current, intent, options, deletedVersion),
    coalesce,
    manageGroups: mapping.spec.groups !== undefined || mapping.rolesTable !== undefined,
    comparedAttributes: comparedAttributes(
      mapping.attributes.map((a) => a.name),
      options,
    ),
    ownedGroups:
      mapping.spec.groups?.map === undefined ? undefined : [...new Set(Object.values(mapping.spec.groups.map))].sort(),
  };
}

export function pipelineFromMapping(mapping: CompiledMapping, decoder: Decoder): Pipeline {
  return { ...planningFromMapping(mapping), decoder, map: (event) => mapEvent(mapping, event) };
}

export interface ApplierDeps {
  gateway: CognitoGateway;
  deletedUsers?: DeletedUsersStore;
  /** Users the pool state may hold (processing.stateCapacity); 0 reads Cognito every time. */
  stateCapacity: number;
  /** Other instances write the same pool (cognito.instances > 1): the pool state keeps versions only. */
  sharedPool?: boolean;
  /**
   * The stream's appliers: under createPolicy existing-only, fresh "not-existing" skips wait
   * for a just-in-time creation (JitGraceApplier); under always, a membership for an absent
   * user waits for the user. Unset (reconcile): neither.
   */
  stream?: { jitGraceMs: number; clock?: Clock };
  /** Memberships waiting for a user about to be created (BatchProcessor.joinCreation). */
  waitingFor?: UserApplierOptions['waitingFor'];
  /** Resolves AliasExistsException (createAliasConflicts); unset: the error's own end (DLQ). */
  aliasConflicts?: AliasConflicts;
  /** A pool with email or phone as username: the translation to Cognito's usernames (poolShape). */
  usernames?: PoolUsernames;
  /** Where values the events do not carry (TOAST placeholders) are read: the legacy row. */
  unknownValues?: UnknownValuesSource;
}

/** In an email- or phone-as-username pool, alias holders by legacy key, as the applier names users. */
const keyedAliases = (mapping: CompiledMapping, directory: AliasDirectory): AliasDirectory => {
  const signIn = mapping.spec.username.signIn;
  if (signIn === undefined) return directory;
  return {
    usersWith: async (attribute, value) =>
      byLegacyKey(signIn.keyAttribute, await directory.usersWith(attribute, value)),
  };
};

/** Users the username index holds at least (processing.stateCapacity 0 still needs one). */
const MIN_USERNAME_INDEX = 100_000;

/**
 * The gateway, and the listing the pool state primes from, for the mapping's pool shape: with
 * username.signInAttribute (email or phone as username) both speak legacy keys through the
 * username index (adapters/cognito/pool-usernames.ts); otherwise they are `gateway` and `directory`.
 */
export function poolShape(
  mapping: CompiledMapping,
  gateway: CognitoGateway,
  directory: PoolUsernamesDirectory,
  o: { capacity: number; shared?: boolean },
): { gateway: CognitoGateway; listing: PoolListing; usernames?: PoolUsernames } {
  return forPoolShape(mapping.spec.username.signIn, gateway, directory, {
    capacity: Math.max(o.capacity, MIN_USERNAME_INDEX),
    shared: o.shared === true,
  });
}

/**
 * The pool as the migration tools read and write it (`reconcile`, a cohort shrink): users by the
 * mapping's usernames, in every pool shape, with no pool state (Cognito is read every time).
 */
export function poolAccess(
  mapping: CompiledMapping,
  cognito: AwsCognitoGateway,
): { gateway: CognitoGateway; directory: CognitoDirectory; usernames?: PoolUsernames } {
  const shape = poolShape(mapping, cognito, cognito, { capacity: 0 });
  if (shape.usernames === undefined) return { gateway: shape.gateway, directory: cognito };
  return { gateway: shape.gateway, directory: keyedDirectory(shape.usernames, cognito), usernames: shape.usernames };
}

/** The pool state for a pipeline's mapping (fingerprints of its compared attributes). */
export function createPoolState(pipeline: Planning, capacity: number, shared = false): PoolState {
  const groupsVersionAttribute = pipeline.mapping.spec.groups?.versionAttribute;
  return new PoolState({
    capacity,
    shared,
    comparedAttributes: pipeline.comparedAttributes,
    versionAttribute: pipeline.mapping.versionAttribute,
    ...(groupsVersionAttribute === undefined ? {} : { groupsVersionAttribute }),
  });
}

/** The one way to build the applier for a pipeline: `run`, `replay`, `dlq redrive`, `reconcile`, the benchmarks. */
export function createUserApplier(pipeline: Planning, d: ApplierDeps): UserApplier {
  const groupsVersionAttribute = pipeline.mapping.spec.groups?.versionAttribute;
  const options = {
    // Each call asks the gate of the batch it runs for, if any (write-gate.ts).
    gateway: gatedGateway(d.gateway),
    plan: pipeline.plan,
    coalesce: pipeline.coalesce,
    state: createPoolState(pipeline, d.stateCapacity, d.sharedPool === true),
    manageGroups: pipeline.manageGroups,
    comparedAttributes: pipeline.comparedAttributes,
    ...(groupsVersionAttribute === undefined ? {} : { groupsVersionAttribute }),
    ...(d.deletedUsers === undefined ? {} : { deletedUsers: d.deletedUsers }),
    ...(d.waitingFor === undefined ? {} : { waitingFor: d.waitingFor }),
    ...(d.aliasConflicts === undefined ? {} : { aliasConflicts: d.aliasConflicts }),
    forceAliasCreation: pipeline.mapping.spec.forceAliasCreation,
    ...(d.usernames === undefined ? {} : { usernames: d.usernames }),
    ...(d.unknownValues === undefined ? {} : { unknownValues: d.unknownValues }),
    derivedAttributes: derivedAttributes(pipeline.mapping),
    versionAttributes: new Set(
      groupsVersionAttribute === undefined
        ? [pipeline.mapping.versionAttribute]
        : [pipeline.mapping.versionAttribute, groupsVersionAttribute],
    ),
  };
  const always = pipeline.mapping.createPolicy === 'always';
  // existing-only: an update for a user that is not there yet may be racing the User
  // Migration trigger's creation, so fresh "not-existing" skips are re-checked after a grace.
  if (!always && d.stream) return new JitGraceApplier(options, { graceMs: d.stream.jitGraceMs, clock: d.stream.clock });
  return new UserApplier({ ...options, waitForMissingUsers: always && d.stream !== undefined, trustAbsence: always });
}

export async function buildPipeline(config: CompiledConfig, registry?: SchemaRegistry): Promise<Pipeline> {
  const mapping = await loadCompiledMapping(config.mappingPath);
  const schemaRegistry =
    registry ??
    (config.schemaRegistry
      ? createConfluentSchemaRegistry({
          host: config.schemaRegistry.url,
          auth:
            config.schemaRegistry.username && config.schemaRegistry.password
              ? { username: config.schemaRegistry.username, password: config.schemaRegistry.password }
              : undefined,
        })
      : undefined);
  const decoder = createDecoder({ format: config.format, registry: schemaRegistry, epochAt: mapping.epochAt });
  return pipelineFromMapping(mapping, decoder);
}

export function createGateway(
  config: CompiledConfig,
  onCall?: (e: CognitoCallEvent) => void,
  clock?: Clock,
): AwsCognitoGateway {
  return new AwsCognitoGateway({
    userPoolId: config.cognito.userPoolId,
    region: config.cognito.region,
    endpoint: config.cognito.endpoint,
    budget: config.budget,
    maxAttempts: config.cognito.maxAttempts,
    requestTimeoutMs: config.cognito.requestTimeoutMs,
    ...(config.cognito.emulatorCredentials ? { credentials: EMULATOR_CREDENTIALS } : {}),
    createdUserStatus: config.cognito.createdUserStatus,
    clock,
    onCall,
  });
}

/** What emulators accept: they check no signature. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface BatchProcessorDeps {
  config: CompiledConfig;
  gateway: CognitoGateway;
  /** ListUsers (whole and filtered) and group listings: the AwsCognitoGateway under `gateway`. */
  directory: PoolUsernamesDirectory;
  dlq: DeadLetterSink;
  deletedUsers: DeletedUsersStore;
  events: SyncEvents;
  clock?: Clock;
  /** Overrides config.dlq.tolerance (a DLQ re-drive always routes and goes on). */
  tolerance?: 'all' | 'none';
  /**
   * The long-running consumer: memberships whose user is not in Cognito yet wait without
   * holding their partition (the service commits and sweeps them). Unset: they are retried in
   * their batch (a DLQ re-drive of single records).
   */
  waitForUsers?: boolean;
  /** Overrides processing.missingUserTimeoutMs (a DLQ re-drive judges missing users itself). */
  missingUserTimeoutMs?: number;
  /** BatchProcessorOptions.groupUsersBehind: the whole group's users lag (the sync service). */
  groupUsersBehind?: () => Promise<boolean>;
  /** Where alias holders are looked up (ListUsers); unset: AliasExistsException ends as the error policy says. */
  aliasDirectory?: AliasDirectory;
  /**
   * The legacy database (legacyDatabase.url), read for values the events do not carry
   * (unknown-values.ts); the caller closes it.
   */
  legacyDatabase?: LegacyDatabase;
}

/** The legacy key a username was built from ("id=42"), for messages; undefined when the mapping does not make it. */
export function legacyKeyOf(mapping: CompiledMapping): (username: string) => string | undefined {
  const pattern = usernamePattern(mapping.spec.username);
  return (username) => {
    const row = pattern.parse(username);
    return row === undefined
      ? undefined
      : Object.entries(row)
          .map(([column, value]) => `${column}=${String(value)}`)
          .join(',');
  };
}

/**
 * The alias-conflict resolver of a stream: ListUsers through `directory`, the holder's legacy
 * row through legacyDatabase.url when the config has one (else every holder is "maybe in
 * flight"), waits bounded by processing.aliasWaitMs.
 */
export function createAliasConflicts(
  config: CompiledConfig,
  mapping: CompiledMapping,
  directory: AliasDirectory,
  o: { clock?: Clock; waitsOn?: (username: string) => string | undefined },
): { conflicts: AliasConflicts; rows?: LegacyHolderRows } {
  const rows =
    config.legacyDatabase === undefined
      ? undefined
      : legacyHolderRows(mapping, { url: config.legacyDatabase.url, table: config.legacyDatabase.table });
  const conflicts = new AliasConflicts({
    directory,
    ...(rows ? { rows } : {}),
    waitMs: config.processing.aliasWaitMs,
    clock: o.clock ?? systemClock,
    ...(o.waitsOn ? { waitsOn: o.waitsOn } : {}),
    keyOf: legacyKeyOf(mapping),
  });
  return { conflicts, ...(rows ? { rows } : {}) };
}

/** The one way to build the decode -> map -> plan -> apply processor: `run`, `replay`, `dlq redrive`. */
export async function createBatchProcessor(d: BatchProcessorDeps): Promise<{
  processor: BatchProcessor;
  pipeline: Pipeline;
  applier: UserApplier;
  waiting?: WaitingMemberships;
  /** Releases what the pipeline opened besides Kafka and Cognito (the alias resolver's legacy database). */
  close: () => Promise<void>;
  /** What the pool state primes from (speaking the sync's usernames, whatever the pool's shape). */
  listing: PoolListing;
  /**
   * The gateway the applier writes through, by the sync's usernames in every pool shape (its
   * username index included), ungated: what a re-drive's verdict reads users with, so that a
   * pool with email or phone as username keeps one index rather than two.
   */
  gateway: CognitoGateway;
}> {
  const { config } = d;
  const pipeline = await buildPipeline(config);
  const shape = poolShape(pipeline.mapping, d.gateway, d.directory, {
    capacity: config.processing.stateCapacity,
    shared: config.cognito.instances > 1,
  });
  const waiting = d.waitForUsers
    ? new WaitingMemberships({ maxPerPartition: config.processing.maxWaitingPerPartition })
    : undefined;
  let processor: BatchProcessor | undefined;
  const alias =
    d.aliasDirectory === undefined
      ? undefined
      : createAliasConflicts(config, pipeline.mapping, keyedAliases(pipeline.mapping, d.aliasDirectory), {
          ...(d.clock ? { clock: d.clock } : {}),
          ...(waiting ? { waitsOn: (username: string) => waiting.holderOf(username) } : {}),
        });
  const applier = createUserApplier(pipeline, {
    ...(alias ? { aliasConflicts: alias.conflicts } : {}),
    gateway: shape.gateway,
    ...(shape.usernames === undefined ? {} : { usernames: shape.usernames }),
    deletedUsers: d.deletedUsers,
    stateCapacity: config.processing.stateCapacity,
    sharedPool: config.cognito.instances > 1,
    stream: { jitGraceMs: config.processing.jitGraceMs, clock: d.clock },
    ...(waiting ? { waitingFor: (username: string) => processor?.joinCreation(username) } : {}),
    ...(d.legacyDatabase ? { unknownValues: legacyRowValues(d.legacyDatabase, pipeline.mapping) } : {}),
  });
  processor = new BatchProcessor({
    ...(waiting ? { waiting } : {}),
    users: { table: pipeline.mapping.usersTable, usernameOf: (event) => usernameOfUsersEvent(pipeline.mapping, event) },
    decoder: pipeline.decoder,
    map: pipeline.map,
    applier,
    dlq: d.dlq,
    tolerance: d.tolerance ?? config.dlq.tolerance,
    concurrency: config.processing.concurrency,
    missingUserTimeoutMs: d.missingUserTimeoutMs ?? config.processing.missingUserTimeoutMs,
    ...(d.groupUsersBehind ? { groupUsersBehind: d.groupUsersBehind } : {}),
    maxApplyRetryMs: config.processing.maxApplyRetryMs,
    events: d.events,
    clock: d.clock ?? systemClock,
  });
  const close = async (): Promise<void> => {
    await alias?.rows?.close();
  };
  return {
    processor,
    pipeline,
    applier,
    listing: shape.listing,
    gateway: shape.gateway,
    ...(waiting ? { waiting } : {}),
    close,
  };
}
