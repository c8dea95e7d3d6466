// The sign-in state of a user the sync creates (cognito.createdUserStatus).
//
// AdminCreateUser with MessageAction SUPPRESS leaves the user in FORCE_CHANGE_PASSWORD with a
// temporary password nobody was told. From that state Cognito refuses ForgotPassword ("If the
// user status is FORCE_CHANGE_PASSWORD, then users can't use the ForgotPassword API", AWS
// re:Post https://repost.aws/knowledge-center/cognito-forgot-password), so the "users reset
// their password" path of a migration does not work. AdminSetUserPassword with Permanent true
// moves the user to CONFIRMED ("After the user sets a new password, or if you set a permanent
// password, their status becomes Confirmed",
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminSetUserPassword.html),
// from which the documented self-service reset works: ForgotPassword sends a code to the
// verified email or phone, ConfirmForgotPassword sets the new password
// (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ForgotPassword.html).
// The password set here is random and never stored or logged: nobody can sign in with it.
//
// The two calls are one step: if the password cannot be set, the just-created user is deleted
// again and the error surfaces, so the record is retried (or dead-lettered) as a whole rather
// than leaving a user that a re-plan would find "already created" and never confirm.
import { randomBytes } from 'node:crypto';
import {
  AdminDeleteUserCommand,
  AdminSetUserPasswordCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { CognitoApiError } from '../../errors.js';
import { ungated } from '../../pipeline/apply/write-gate.js';

export type CreatedUserStatus = 'CONFIRMED' | 'FORCE_CHANGE_PASSWORD';

/**
 * 98 characters with upper and lower case letters, digits and symbols (560 random bits): the
 * pool's policy may ask for up to 99 (MinimumLength), and moto refuses 99 or more (its
 * MaximumLength default), so 98 fits every pool but one with MinimumLength 99 (then choose
 * createdUserStatus FORCE_CHANGE_PASSWORD; the stop says which policy refused it).
 */
export const randomPermanentPassword = (): string => `${randomBytes(70).toString('base64url')}Aa1!`;

/** Makes a just-created user CONFIRMED; on failure deletes it again and throws the failure. */
export async function confirmCreatedUser(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  username: string,
  toApiError: (api: string, error: unknown) => CognitoApiError,
): Promise<void> {
  // The rest of a creation already sent: not cut off by the batch's write gate.
  await ungated(async () => {
    try {
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: username,
          Password: randomPermanentPassword(),
          Permanent: true,
        }),
      );
    } catch (error) {
      const failure = toApiError('AdminSetUserPassword', error);
      await client
        .send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: username }))
        .catch(() => undefined);
      throw failure;
    }
  });
}
