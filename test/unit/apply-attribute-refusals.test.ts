// Issue #19 item 5: a Cognito refusal of one attribute fails that attribute, not the event.
import { describe, expect, test } from '@jest/globals';
import type { CognitoCall, UserIntent } from '../../src/core/types.js';
import { CognitoApiError } from '../../src/errors.js';
import { AttributeRefusedError, splitUpdate } from '../../src/pipeline/apply/attribute-refusals.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { PoolState } from '../../src/pipeline/apply/pool-state.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const v = (n: number): string => n.toString(16).padStart(32, '0');
const VERSIONS = new Set(['custom:cdc_version']);

const upsert = (attributes: Record<string, string>, version: number): UserIntent => ({
  kind: 'upsert',
  user: { username: 'legacy_1', attributes, enabled: true },
  version: v(version),
  origin: { topic: 'users', partition: 0, offset: String(version) },
  sourceTsMs: null,
});

describe('splitUpdate', () => {
  test('an attribute and its verified flag stay one unit; versions are held back', () => {
    const call: Extract<CognitoCall, { api: 'AdminUpdateUserAttributes' }> = {
      api: 'AdminUpdateUserAttributes',
      username: 'u',
      attributes: { email_verified: 'true', email: 'a@b.c', given_name: 'A', 'custom:cdc_version': v(2) },
    };
    expect(splitUpdate(call, VERSIONS)).toEqual({
      units: [{ email: 'a@b.c', email_verified: 'true' }, { given_name: 'A' }],
      versions: { 'custom:cdc_version': v(2) },
    });
    expect(
      splitUpdate({ ...call, attributes: { given_name: 'A', 'custom:cdc_version': v(2) } }, VERSIONS),
    ).toBeUndefined();
  });
});

describe('the applier', () => {
  const setup = () => {
    const cognito = new InMemoryCognito({
      beforeCall: (api, _username, call) => {
        const attributes = (call as { attributes?: Record<string, string> } | undefined)?.attributes;
        // Like cognito-local with an email_verified-only update: refused when the flag comes alone.
        if (
          api === 'AdminUpdateUserAttributes' &&
          attributes?.email_verified !== undefined &&
          attributes.email === undefined
        )
          throw new CognitoApiError('email_verified cannot be updated alone', {
            api,
            code: 'InvalidParameterException',
            retriable: false,
          });
      },
    });
    const applier = new UserApplier({
      gateway: cognito,
      plan: (current, intent, deleted) => planUser(current, intent, planOptions(), deleted),
      coalesce,
      state: new PoolState({ capacity: 0, comparedAttributes: [], versionAttribute: 'custom:cdc_version' }),
      manageGroups: false,
      comparedAttributes: [],
      versionAttributes: VERSIONS,
    });
    return { cognito, applier };
  };

  test('the refused attribute is named, the others are applied, the version is not written', async () => {
    const { cognito, applier } = setup();
    await applier.apply('legacy_1', [
      upsert({ email: 'a@example.com', email_verified: 'false', given_name: 'Old' }, 1),
    ]);
    const failure = await applier
      .apply('legacy_1', [upsert({ email: 'a@example.com', email_verified: 'true', given_name: 'New' }, 2)])
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(AttributeRefusedError);
    expect((failure as AttributeRefusedError).refused.map((r) => r.attributes)).toEqual([['email_verified']]);
    expect((failure as Error).message).toMatch(/email_verified/);
    const user = cognito.peek('legacy_1');
    expect(user?.attributes.given_name).toBe('New');
    expect(user?.attributes.email_verified).toBe('false');
    expect(user?.attributes['custom:cdc_version']).toBe(v(1));
  });

  test('a refusal of a single-attribute update is the plain error (nothing to split)', async () => {
    const { applier } = setup();
    await applier.apply('legacy_1', [upsert({ email: 'a@example.com', email_verified: 'false' }, 1)]);
    await expect(
      applier.apply('legacy_1', [upsert({ email: 'a@example.com', email_verified: 'true' }, 2)]),
    ).rejects.toBeInstanceOf(CognitoApiError);
  });
});
