// A second cognito-local, private to the just-in-time migration tests, whose User Migration
// trigger (and, where a test asks, Post Authentication trigger) is the real handler behind a
// tiny Lambda Invoke endpoint in this process.
//
// Why a second instance: cognito-local reads TriggerFunctions once, for all pools, from its
// .cognito/config.json; giving the stack's shared instance a trigger would make every other
// test's sign-ins depend on this test's endpoint. A private one (own port, own data dir)
// starts in about a second and goes away with the test.
//
// cognito-local invokes triggers with the AWS SDK's Lambda client (lib/services/lambda.js):
// POST {endpoint}/2015-03-31/functions/{name}/invocations, the event as the body; a
// FunctionError header marks a thrown error, which it turns into NotAuthorized.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserMigrationEvent } from '../../../src/lambda/user-migration.js';
import { REPO, waitFor } from './stack.js';

export const FUNCTION_NAME = 'legacy-user-migration';
export const POST_AUTHENTICATION_FUNCTION = 'legacy-post-authentication';

export type LambdaFn = (event: UserMigrationEvent) => Promise<{ response: { userAttributes: Record<string, string> } }>;
/** Any other trigger's handler: the event in, the event (with its response) out. */
export type TriggerFn = (event: never) => Promise<unknown>;

export interface LambdaEndpoint {
  url: string;
  /** Invocations of the User Migration function. */
  invocations: number;
  /** Invocations of each function in `others`, by name. */
  invocationsOf: Record<string, number>;
  /** Awaited after the handler returned and before the answer goes back to Cognito (the race test holds it). */
  beforeRespond?: () => Promise<void>;
  close(): Promise<void>;
}

export async function startLambdaEndpoint(
  fn: LambdaFn,
  others: Record<string, TriggerFn> = {},
): Promise<LambdaEndpoint> {
  const endpoint: LambdaEndpoint = { url: '', invocations: 0, invocationsOf: {}, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void (async () => {
        const event = JSON.parse(body) as UserMigrationEvent;
        try {
          const other = Object.entries(others).find(([name]) =>
            req.url?.startsWith(`/2015-03-31/functions/${name}/invocations`),
          );
          if (other) {
            const [name, handler] = other;
            endpoint.invocationsOf[name] = (endpoint.invocationsOf[name] ?? 0) + 1;
            const answer = await handler(event as never);
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
            return;
          }
          endpoint.invocations++;
          if (!req.url?.startsWith(`/2015-03-31/functions/${FUNCTION_NAME}/invocations`))
            throw new Error(`no function at ${req.url}`);
          const out = await fn(event);
          await endpoint.beforeRespond?.();
          // Real Cognito creates the migrated user under the name that was typed (userName);
          // cognito-local takes it from userAttributes.username instead, so the endpoint (the
          // emulator's adapter, not the handler) supplies it.
          out.response.userAttributes = { ...out.response.userAttributes, username: event.userName };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
        } catch (error) {
          res
            .writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
            .end(JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message }));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  endpoint.close = () => new Promise((resolve) => server.close(() => resolve()));
  return endpoint;
}

const freePort = async (): Promise<number> => {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
};

export interface PrivateCognito {
  endpoint: string;
  stop(): Promise<void>;
}

/** `triggers`: cognito-local's TriggerFunctions (trigger -> function name); the User Migration one by default. */
export async function startPrivateCognito(
  lambdaUrl: string,
  triggers: Record<string, string> = { UserMigration: FUNCTION_NAME },
): Promise<PrivateCognito> {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-local-jit-'));
  mkdirSync(join(dir, '.cognito'));
  writeFileSync(
    join(dir, '.cognito', 'config.json'),
    JSON.stringify({
      LambdaClient: {
        endpoint: lambdaUrl,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      },
      TriggerFunctions: triggers,
      UserPoolDefaults: { UsernameAttributes: [] },
    }),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(REPO, 'node_modules/cognito-local/lib/bin/start.js')], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(
    'the private cognito-local',
    async () => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.ListUserPools',
        },
        body: '{"MaxResults":1}',
      });
      return res.status < 500;
    },
    30_000,
  );
  return {
    endpoint,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
