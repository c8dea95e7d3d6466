// A Cognito refusal of one attribute fails that attribute, not the event (issue #19 item 5).
// AdminUpdateUserAttributes is all or nothing: one value Cognito refuses (InvalidParameterException:
// a format rule, an emulator's gap such as cognito-local refusing an email_verified-only update,
// which AWS documents as valid) would otherwise dead-letter every other change of the event too.
// So a refused multi-attribute update is retried one unit at a time (an attribute with its
// verified flag stays one unit: Cognito resets the flag when its attribute changes alone,
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-email-phone-verification.html),
// the units Cognito takes are applied, and the refused ones end in one AttributeRefusedError that
// names them (the record goes to the DLQ with that message). The version attributes are written
// only when every unit was taken: the user's next event, or a re-drive of the record once the
// value is fixed, then applies the refused attribute again. Cost: one UserUpdate call per unit,
// only on a refusal.
import type { Attributes, CognitoCall } from '../../core/types.js';
import { CognitoApiError, SyncError } from '../../errors.js';

type AttributesCall = Extract<CognitoCall, { api: 'AdminUpdateUserAttributes' }>;

const FLAGS: Readonly<Record<string, string>> = { email: 'email_verified', phone_number: 'phone_number_verified' };

/** A refusal that may be about one value of several (worth splitting). */
export const isValueRefusal = (error: unknown): error is CognitoApiError =>
  error instanceof CognitoApiError && error.code === 'InvalidParameterException';

/**
 * The call's attributes as units to try alone, and the version attributes held back for last.
 * Undefined when there is nothing to split (one unit).
 */
export const splitUpdate = (
  call: AttributesCall,
  versionAttributes: ReadonlySet<string>,
): { units: Attributes[]; versions: Attributes } | undefined => {
  const versions: Attributes = {};
  const units: Attributes[] = [];
  const taken = new Set<string>();
  for (const [name, value] of Object.entries(call.attributes)) {
    if (versionAttributes.has(name)) {
      versions[name] = value;
      continue;
    }
    if (taken.has(name)) continue;
    const unit: Attributes = { [name]: value };
    const flag = FLAGS[name];
    if (flag !== undefined && call.attributes[flag] !== undefined) {
      unit[flag] = call.attributes[flag] as string;
      taken.add(flag);
    }
    const attribute = Object.entries(FLAGS).find(([, f]) => f === name)?.[0];
    if (attribute !== undefined && call.attributes[attribute] !== undefined) continue; // goes with its attribute
    taken.add(name);
    units.push(unit);
  }
  return units.length > 1 ? { units, versions } : undefined;
};

/** Some attributes of an event were refused by Cognito; the others were applied. */
export class AttributeRefusedError extends SyncError {
  constructor(
    readonly username: string,
    readonly refused: { attributes: string[]; code: string; message: string }[],
  ) {
    super(
      `Cognito refused ${refused.map((r) => `${r.attributes.join('+')} (${r.code}: ${r.message})`).join('; ')}; the event's other attributes were applied, its version was not written`,
      {
        stage: 'apply',
        retriable: false,
        context: { api: 'AdminUpdateUserAttributes', attributes: refused.flatMap((r) => r.attributes) },
      },
    );
  }
}

/**
 * Retries a refused update unit by unit with `send`; throws AttributeRefusedError naming the
 * refused units (after the others were applied), or resolves when all were taken.
 */
export const applyUnitByUnit = async (
  call: AttributesCall,
  split: { units: Attributes[]; versions: Attributes },
  send: (call: AttributesCall) => Promise<void>,
): Promise<void> => {
  const refused: { attributes: string[]; code: string; message: string }[] = [];
  for (const unit of split.units) {
    try {
      await send({ api: 'AdminUpdateUserAttributes', username: call.username, attributes: unit });
    } catch (error) {
      if (!isValueRefusal(error)) throw error;
      refused.push({ attributes: Object.keys(unit), code: error.code, message: error.message });
    }
  }
  if (refused.length > 0) throw new AttributeRefusedError(call.username, refused);
  if (Object.keys(split.versions).length > 0)
    await send({ api: 'AdminUpdateUserAttributes', username: call.username, attributes: split.versions });
};
