// Types of fault-proxy.mjs for the TypeScript fault suite.
export type FaultKind =
  | 'throttle'
  | 'error500'
  | 'error503'
  | 'reject'
  | 'timeout'
  | 'drop-response'
  | 'delay'
  | 'refuse';

export interface RequestInfo {
  /** Arrival, ms since the epoch. */
  t: number;
  /** AWS operation (from x-amz-target) or "METHOD /path". */
  op: string;
  /** forwarded, a fault kind, or upstream-error. */
  outcome: string;
  status: number;
  /** The request body, while the request is in flight (always, with keepBodies). */
  body?: string;
}

export interface Fault {
  kind: FaultKind;
  /** Only requests this returns true for (others pass). */
  match?: (info: RequestInfo) => boolean;
  /** Share of the matching requests affected (default all). */
  probability?: number;
  /** reject: the error code (default InvalidParameterException). */
  code?: string;
  message?: string;
  /** delay: added latency. */
  delayMs?: number;
  /** Heal by itself after this long. */
  durationMs?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly fault: Fault | null;
  readonly state: {
    requests: RequestInfo[];
    inFlight: number;
    counts: Record<string, number>;
    /** Strict mode: requests judged, refused (AliasExistsException), forced (ForceAliasCreation moved an alias). */
    strict?: { judged: number; refused: number; forced: number };
  };
  setFault(fault: Fault | null): Promise<void>;
  close(): Promise<void>;
}

export function operationOf(
  headers: Record<string, string | string[] | undefined>,
  method: string | undefined,
  url: string | undefined,
): string;

export function startFaultProxy(options: {
  target: string;
  port?: number;
  host?: string;
  flavor?: 'aws-json' | 'plain';
  /** Enforce the Cognito rules cognito-local skips (strict-cognito.mjs). */
  strict?: boolean;
  /** Keep every request's body in state.requests (short tests that count calls per user). */
  keepBodies?: boolean;
}): Promise<FaultProxy>;
