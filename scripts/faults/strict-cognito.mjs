// The fault proxy's "strict" mode: Cognito rules that the emulators (cognito-local) skip and
// that the sync depends on, enforced between the sync and the emulator by reading the emulator
// itself (no index of its own to drift). Each rule cites the AWS documentation it follows; the
// table of which emulator enforces what is docs/cognito-emulators.md.
//
// Rules:
//   alias uniqueness   With email, phone_number or preferred_username among the pool's
//                      AliasAttributes, a value is an alias of one user only: an email or phone
//                      number only while verified (email_verified / phone_number_verified
//                      "true"), preferred_username always. AdminCreateUser and
//                      AdminUpdateUserAttributes that would give a second user an alias another
//                      user holds answer 400 AliasExistsException, except AdminCreateUser with
//                      ForceAliasCreation true and a verified email / phone number: the alias
//                      moves to the new user and the previous one no longer holds it (modelled
//                      as the previous user's value becoming unverified).
//     https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html#user-pool-settings-aliases
//     https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html#CognitoUserPools-AdminCreateUser-request-ForceAliasCreation
//     https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUpdateUserAttributes.html#API_AdminUpdateUserAttributes_Errors
//   verified on change An email or phone number changed by AdminUpdateUserAttributes without its
//                      *_verified attribute in the same request is unverified afterwards (so it
//                      no longer claims the alias); the request can set email_verified /
//                      phone_number_verified itself (AdminUpdateUserAttributes, UserAttributes).
//     https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUpdateUserAttributes.html#CognitoUserPools-AdminUpdateUserAttributes-request-UserAttributes
//
//   case-insensitive   A pool with UsernameConfiguration.CaseSensitive false matches usernames,
//   usernames          and the email and preferred_username aliases, whatever their case: an
//                      Admin call naming "Anna" acts on the user "anna" (the proxy forwards it
//                      under the stored name), AdminCreateUser of "Anna" when "anna" exists
//                      answers UsernameExistsException. CaseSensitive true is the default (a pool
//                      created without UsernameConfiguration): everything compares exactly.
//     https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UsernameConfigurationType.html
// Phone numbers (E.164) always compare exactly.

const ALIASES = ['email', 'phone_number', 'preferred_username'];
const VERIFIED = { email: 'email_verified', phone_number: 'phone_number_verified' };
const ALIAS_OPS = new Set(['AdminCreateUser', 'AdminUpdateUserAttributes']);
/** The admin calls that name a user (Username), judged by the case rule. */
const STRICT_OPS = new Set([
  ...ALIAS_OPS,
  'AdminGetUser',
  'AdminDeleteUserAttributes',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminDeleteUser',
  'AdminAddUserToGroup',
  'AdminRemoveUserFromGroup',
  'AdminListGroupsForUser',
]);

/** @param {(op: string, body: object) => Promise<{ status: number, json: any }>} upstream an AWS JSON call to the emulator */
export function createStrictRules(upstream) {
  /** Pool id -> { aliases, caseSensitive }: pools do not change their alias attributes. */
  const pools = new Map();
  // One strict write at a time: a check and its write must not interleave with another's.
  let queue = Promise.resolve();
  const counts = { judged: 0, refused: 0, forced: 0 };

  const call = async (op, body) => {
    const out = await upstream(op, body);
    if (out.status >= 300) throw new Error(`strict proxy: ${op} answered ${out.status}: ${JSON.stringify(out.json)}`);
    return out.json;
  };

  const poolOf = async (poolId) => {
    let pool = pools.get(poolId);
    if (!pool) {
      const { UserPool } = await call('DescribeUserPool', { UserPoolId: poolId });
      pool = {
        aliases: (UserPool?.AliasAttributes ?? []).filter((a) => ALIASES.includes(a)),
        caseSensitive: UserPool?.UsernameConfiguration?.CaseSensitive !== false, // true is the default
      };
      pools.set(poolId, pool);
    }
    return pool;
  };

  const attributesOf = (list) => Object.fromEntries((list ?? []).map((a) => [a.Name, a.Value ?? '']));

  const allUsers = async (poolId) => {
    const users = [];
    let token;
    do {
      const page = await call('ListUsers', { UserPoolId: poolId, Limit: 60, PaginationToken: token });
      for (const u of page.Users ?? []) users.push({ username: u.Username, attributes: attributesOf(u.Attributes) });
      token = page.PaginationToken;
    } while (token);
    return users;
  };

  const currentUser = async (poolId, username) => {
    const out = await upstream('AdminGetUser', { UserPoolId: poolId, Username: username });
    return out.status < 300 ? attributesOf(out.json.UserAttributes) : undefined;
  };

  /** The alias values `attributes` claims: [attribute, comparable value]. */
  const claims = (pool, attributes) =>
    pool.aliases.flatMap((a) => {
      const value = attributes[a];
      if (value === undefined || value === '') return [];
      if (VERIFIED[a] !== undefined && attributes[VERIFIED[a]] !== 'true') return [];
      const folded = pool.caseSensitive || a === 'phone_number' ? value : value.toLowerCase();
      return [[a, folded]];
    });

  /** The first other user holding one of `wanted`, with the attribute: undefined when none. */
  const holderOf = async (pool, poolId, username, wanted) => {
    if (wanted.length === 0) return undefined;
    const fold = (u) => (pool.caseSensitive ? u : u.toLowerCase());
    for (const user of await allUsers(poolId)) {
      if (fold(user.username) === fold(username)) continue;
      const held = new Map(claims(pool, user.attributes));
      for (const [attribute, value] of wanted) if (held.get(attribute) === value) return { user, attribute };
    }
    return undefined;
  };

  /** The stored name of the user `username` names in a case-insensitive pool; undefined: none. */
  const storedUsername = async (poolId, username) => {
    if ((await upstream('AdminGetUser', { UserPoolId: poolId, Username: username })).status < 300) return username;
    const folded = username.toLowerCase();
    return (await allUsers(poolId)).find((u) => u.username.toLowerCase() === folded)?.username;
  };

  const aliasExists = (attribute) => ({
    status: 400,
    code: 'AliasExistsException',
    message: `An account with the given ${attribute} already exists.`,
  });

  /**
   * Judges one request: resolves to { status, code, message } to answer that error instead, or
   * to what `forward` (inside the strict queue) resolved to; a forced alias is moved after the
   * forward succeeded and before the client hears of it.
   */
  const judge = async (op, request, forwardAs) => {
    const poolId = request.UserPoolId;
    if (typeof poolId !== 'string' || typeof request.Username !== 'string') return forwardAs();
    const pool = await poolOf(poolId);
    let body = request;
    if (!pool.caseSensitive) {
      const stored = await storedUsername(poolId, request.Username);
      if (op === 'AdminCreateUser' && stored !== undefined) {
        counts.refused++;
        return { status: 400, code: 'UsernameExistsException', message: 'User account already exists' };
      }
      if (stored !== undefined && stored !== request.Username) body = { ...request, Username: stored };
    }
    const forward = () => forwardAs(body === request ? undefined : body);
    if (!ALIAS_OPS.has(op) || pool.aliases.length === 0) return forward();
    counts.judged++;
    const changes = attributesOf(body.UserAttributes);
    let resulting;
    if (op === 'AdminCreateUser') resulting = changes;
    else {
      const current = await currentUser(poolId, body.Username);
      if (current === undefined) return forward(); // the emulator answers for a missing user
      resulting = { ...current, ...changes };
      for (const [attribute, flag] of Object.entries(VERIFIED)) {
        const changed = changes[attribute] !== undefined && changes[attribute] !== current[attribute];
        if (changed && changes[flag] === undefined) resulting[flag] = 'false';
      }
    }
    const holder = await holderOf(pool, poolId, body.Username, claims(pool, resulting));
    if (holder === undefined) return forward();
    const forcible = op === 'AdminCreateUser' && body.ForceAliasCreation === true && VERIFIED[holder.attribute];
    if (!forcible) {
      counts.refused++;
      return aliasExists(holder.attribute);
    }
    // ForceAliasCreation: every verified email / phone alias the new user claims moves to it.
    const answer = await forward();
    if (answer === undefined || answer.status < 300) {
      counts.forced++;
      const wanted = new Map(claims(pool, resulting));
      for (const user of await allUsers(poolId)) {
        if (user.username === body.Username) continue;
        // The value goes along: cognito-local refuses a *_verified change without it.
        const unverify = claims(pool, user.attributes)
          .filter(([a, v]) => VERIFIED[a] !== undefined && wanted.get(a) === v)
          .flatMap(([a]) => [
            { Name: a, Value: user.attributes[a] },
            { Name: VERIFIED[a], Value: 'false' },
          ]);
        if (unverify.length > 0)
          await call('AdminUpdateUserAttributes', {
            UserPoolId: poolId,
            Username: user.username,
            UserAttributes: unverify,
          });
      }
    }
    return answer;
  };

  return {
    counts,
    /** True for the operations strict mode judges. */
    judges: (op) => STRICT_OPS.has(op),
    /**
     * Runs `forward(rewritten?)` (which sends the request on, under the stored username when
     * `rewritten` is given, and resolves to the upstream answer { status, reply }, not yet sent
     * to the client) only if the rules allow the request; resolves to the refusal to answer, or
     * to what forward resolved to once the rules' follow-up writes are done.
     */
    run(op, body, forward) {
      const turn = queue.then(() => judge(op, body, forward));
      queue = turn.then(
        () => undefined,
        () => undefined,
      );
      return turn;
    },
  };
}
