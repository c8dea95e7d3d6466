// The fault proxy's "import-jobs" mode: Cognito's user import jobs, which no local emulator
// implements, answered by the proxy and carried out through the emulator's admin API behind it.
// Switched on by startFaultProxy({ importJobs: true | { ...options } }) or --import-jobs.
//
//   GetCSVHeader          the pool's columns (import-rows.mjs)
//   CreateUserImportJob   status Created, a PreSignedUrl that points back at this proxy
//   PUT <PreSignedUrl>    the CSV, as `curl -T file -H "x-amz-server-side-encryption:aws:kms" URL`
//   StartUserImportJob    Pending -> InProgress -> Succeeded | Failed, in the background
//   DescribeUserImportJob / ListUserImportJobs / StopUserImportJob (Stopping -> Stopped)
//   GET /__import-jobs/<jobId>/log   the per-row results real Cognito writes to CloudWatch Logs
//                                    (test-only: it stands in for CloudWatch)
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool.html
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-creating-import-job.html
// Rules follow the documentation only; none has been compared with real Cognito
// (docs/cognito-emulators.md). Users are created with AdminCreateUser (SUPPRESS): without a hash
// they read RESET_REQUIRED through the proxy (the emulator cannot hold that state); a row with a
// password hash also gets AdminSetUserPassword (Permanent, a random password: CONFIRMED) and the
// proxy keeps the hash, so AdminInitiateAuth / InitiateAuth with the user's own password work.
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { CsvSyntaxError, parseCsv } from './import-csv.mjs';
import { ALGORITHMS, verifyHash } from './import-hashes.mjs';
import { csvHeaderOf, DEFAULT_HASH_COLUMN, headerProblem, judgeRow, LIMITS, poolRulesOf } from './import-rows.mjs';

const OPS = new Set([
  'GetCSVHeader',
  'CreateUserImportJob',
  'StartUserImportJob',
  'StopUserImportJob',
  'DescribeUserImportJob',
  'ListUserImportJobs',
]);
const AUTH_OPS = new Set(['AdminInitiateAuth', 'InitiateAuth']);
// A password set, or the user gone, ends what the import left (the hash, RESET_REQUIRED).
const FORGET_OPS = new Set(['AdminSetUserPassword', 'AdminDeleteUser', 'ConfirmForgotPassword']);
/** Answers that carry a user's UserStatus. */
const STATUS_OPS = new Set(['AdminGetUser', 'ListUsers', 'ListUsersInGroup']);

// API reference request constraints (CreateUserImportJob, UserImportJobType, ListUserImportJobs).
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserImportJob.html
const JOB_NAME = /^[\w\s+=,.@-]{1,128}$/;
const ROLE_ARN = /^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$/;

const fail = (code, message, status = 400) => ({ status, code, message });
const invalid = (message) => fail('InvalidParameterException', message);
const seconds = () => Date.now() / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const codeOf = (json) => String(json?.__type ?? json?.code ?? '').replace(/^.*#/, '');

/**
 * @param {{ upstream: (op: string, body: object) => Promise<{ status: number, json: any }>,
 *   strict?: { run: Function }, baseUrl: () => string, options?: object }} deps
 */
export function createImportJobs({ upstream, strict, baseUrl, options = {} }) {
  const o = {
    hashColumn: options.hashColumn ?? DEFAULT_HASH_COLUMN,
    limits: { ...LIMITS, ...options.limits },
    // "User import jobs: 1,000 per user pool" (quotas, resource quotas).
    // https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html
    maxJobsPerPool: options.maxJobsPerPool ?? 1000,
    // "The PRE_SIGNED_URL returned in the response is valid for 15 minutes."
    uploadTtlMs: options.uploadTtlMs ?? 15 * 60_000,
    // "Expired - You created a job, but did not start the job within 24-48 hours."
    expireAfterMs: options.expireAfterMs ?? 24 * 3_600_000,
    pendingMs: options.pendingMs ?? 50,
    rowDelayMs: options.rowDelayMs ?? 0,
    // "Only one import job can be active at a time per account." (one proxy: one account)
    activeJobs: options.activeJobs ?? 1,
    requireAutoVerifiedAttributes: options.requireAutoVerifiedAttributes ?? true,
  };
  const secret = randomBytes(32);
  const jobs = new Map(); // jobId -> job (API fields + private state)
  const queue = []; // started jobs waiting for their turn
  let active = 0;
  let closed = false; // the proxy closed: running jobs end, queued ones never start
  const hashes = new Map(); // pool \0 username -> { parsed, password }
  // Users imported without a hash: RESET_REQUIRED in real Cognito ("your users will be in a
  // RESET_REQUIRED state when imported using this method"), a state cognito-local's API cannot
  // set. The proxy shows them so while the emulator holds them FORCE_CHANGE_PASSWORD (created,
  // never given a password), and answers their password sign-in as Cognito does.
  // https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-password-reset.html
  const resetRequired = new Map(); // pool \0 username -> true
  const counts = { jobs: 0, imported: 0, failed: 0, skipped: 0, hashSignIns: 0 };

  const call = async (op, body) => {
    const out = await upstream(op, body);
    if (out.status >= 300) {
      const error = fail(codeOf(out.json) || 'InternalErrorException', out.json?.message ?? `${op} failed`, out.status);
      throw Object.assign(new Error(error.message), { answer: error });
    }
    return out.json;
  };
  const poolOf = async (poolId) => (await call('DescribeUserPool', { UserPoolId: poolId })).UserPool;

  /** The job as the API shows it (UserImportJobType). */
  const view = (job) => {
    if (job.Status === 'Created' && Date.now() - job.created > o.expireAfterMs) job.Status = 'Expired';
    const out = {};
    for (const key of [
      'JobName',
      'JobId',
      'UserPoolId',
      'PreSignedUrl',
      'CreationDate',
      'StartDate',
      'CompletionDate',
      'Status',
      'CloudWatchLogsRoleArn',
      'ImportedUsers',
      'SkippedUsers',
      'FailedUsers',
      'CompletionMessage',
      'PasswordHashingAlgorithm',
    ])
      if (job[key] !== undefined) out[key] = job[key];
    return out;
  };

  const jobIn = (request) => {
    const job = jobs.get(request.JobId);
    if (typeof request.UserPoolId !== 'string' || typeof request.JobId !== 'string')
      return { error: invalid('UserPoolId and JobId are required.') };
    if (!job || job.UserPoolId !== request.UserPoolId)
      return { error: fail('ResourceNotFoundException', `Import job ${request.JobId} not found.`) };
    return { job };
  };

  const signature = (jobId, amzDate) => createHmac('sha256', secret).update(`${jobId}\n${amzDate}`).digest('hex');

  const handlers = {
    async GetCSVHeader(request) {
      const pool = await poolOf(request.UserPoolId);
      return { UserPoolId: pool.Id, CSVHeader: csvHeaderOf(poolRulesOf(pool)) };
    },

    async CreateUserImportJob(request) {
      if (typeof request.JobName !== 'string' || !JOB_NAME.test(request.JobName))
        return invalid('JobName must be 1 to 128 characters of [\\w\\s+=,.@-].');
      // "You must specify an IAM role that has permission to log import-job results to Amazon
      // CloudWatch Logs." (CreateUserImportJobRequest.CloudWatchLogsRoleArn, required)
      const arn = request.CloudWatchLogsRoleArn;
      if (typeof arn !== 'string' || arn.length < 20 || arn.length > 2048 || !ROLE_ARN.test(arn))
        return invalid('CloudWatchLogsRoleArn is required: the ARN of a role that may write CloudWatch Logs.');
      const algorithm = request.PasswordHashingAlgorithm;
      if (algorithm !== undefined && !ALGORITHMS.includes(algorithm))
        return invalid(`PasswordHashingAlgorithm must be one of ${ALGORITHMS.join(' | ')}.`);
      const pool = await poolOf(request.UserPoolId);
      const existing = [...jobs.values()].filter((j) => j.UserPoolId === pool.Id).length;
      if (existing >= o.maxJobsPerPool)
        return fail('LimitExceededException', `A user pool can have at most ${o.maxJobsPerPool} import jobs.`);
      const JobId = `import-${randomBytes(8).toString('hex')}`;
      const now = new Date();
      const amzDate = now
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      const query = new URLSearchParams({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `local/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`,
        'X-Amz-Date': amzDate,
        'X-Amz-Expires': String(Math.round(o.uploadTtlMs / 1000)),
        'X-Amz-SignedHeaders': 'host;x-amz-server-side-encryption',
        'X-Amz-Signature': signature(JobId, amzDate),
      });
      const job = {
        JobName: request.JobName,
        JobId,
        UserPoolId: pool.Id,
        PreSignedUrl: `${baseUrl()}/__import-upload/${JobId}?${query}`,
        CreationDate: now.getTime() / 1000,
        Status: 'Created',
        CloudWatchLogsRoleArn: arn,
        ImportedUsers: 0,
        SkippedUsers: 0,
        FailedUsers: 0,
        ...(algorithm ? { PasswordHashingAlgorithm: algorithm } : {}),
        created: now.getTime(),
        amzDate,
        poolName: pool.Name ?? '',
        file: undefined,
        log: [],
      };
      jobs.set(JobId, job);
      counts.jobs++;
      return { UserImportJob: view(job) };
    },

    async StartUserImportJob(request) {
      const { job, error } = jobIn(request);
      if (error) return error;
      view(job);
      if (job.Status !== 'Created')
        return fail(
          'PreconditionNotMetException',
          `Import job ${job.JobId} is ${job.Status}: only a Created job starts.`,
        );
      if (!job.file) return fail('PreconditionNotMetException', 'No CSV file has been uploaded to the PreSignedUrl.');
      // "If the user pool has no auto-verified attributes, the import job will not start."
      // https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html
      const rules = poolRulesOf(await poolOf(job.UserPoolId));
      if (o.requireAutoVerifiedAttributes && rules.autoVerified.length === 0)
        return fail(
          'PreconditionNotMetException',
          'The user pool has no auto-verified attributes (email or phone_number): the import job will not start.',
        );
      job.Status = 'Pending';
      job.StartDate = seconds();
      queue.push(job);
      setTimeout(next, o.pendingMs);
      return { UserImportJob: view(job) };
    },

    async StopUserImportJob(request) {
      const { job, error } = jobIn(request);
      if (error) return error;
      if (job.Status === 'Pending') {
        queue.splice(queue.indexOf(job), 1);
        finish(job, 'Stopped', 'The Import Job was stopped by the developer.');
      } else if (job.Status === 'InProgress') {
        job.Status = 'Stopping'; // the runner stops before its next row
      } else
        return fail(
          'PreconditionNotMetException',
          `Import job ${job.JobId} is ${job.Status}: only a running job stops.`,
        );
      return { UserImportJob: view(job) };
    },

    async DescribeUserImportJob(request) {
      const { job, error } = jobIn(request);
      return error ?? { UserImportJob: view(job) };
    },

    async ListUserImportJobs(request) {
      const max = request.MaxResults;
      if (!Number.isInteger(max) || max < 1 || max > 60) return invalid('MaxResults must be 1 to 60.');
      const pool = await poolOf(request.UserPoolId);
      // "Jobs are listed in chronological order from last created to first created."
      const all = [...jobs.values()].filter((j) => j.UserPoolId === pool.Id).reverse();
      const from = request.PaginationToken ? Number(Buffer.from(request.PaginationToken, 'base64url').toString()) : 0;
      if (!Number.isInteger(from) || from < 0 || from > all.length) return invalid('Invalid PaginationToken.');
      const page = all.slice(from, from + max);
      const more = from + max < all.length;
      return {
        UserImportJobs: page.map(view),
        ...(more ? { PaginationToken: Buffer.from(String(from + max)).toString('base64url') } : {}),
      };
    },
  };

  const finish = (job, status, message) => {
    job.Status = status;
    job.CompletionMessage = message;
    job.CompletionDate = seconds();
    job.file = undefined; // memory: the job is done with it
  };

  /** Starts queued jobs while fewer than `activeJobs` run. */
  const next = () => {
    while (!closed && active < o.activeJobs && queue.length > 0) {
      const job = queue.shift();
      active++;
      run(job)
        .catch((e) => finish(job, 'Failed', `The import job failed: ${e.answer?.message ?? e.message}`))
        .finally(() => {
          active--;
          next();
        });
    }
  };

  const record = (job, line, outcome, message) => {
    job.log.push({ line, outcome, message, text: `[${outcome}] Line Number ${line} - ${message}` });
    const [field, total] =
      outcome === 'SUCCEEDED'
        ? ['ImportedUsers', 'imported']
        : outcome === 'SKIPPED'
          ? ['SkippedUsers', 'skipped']
          : ['FailedUsers', 'failed'];
    job[field]++;
    counts[total]++;
  };

  async function run(job) {
    job.Status = 'InProgress';
    const pool = await poolOf(job.UserPoolId).catch(() => undefined);
    // "In the following cases, the import job will fail: ... The user pool has been deleted."
    if (!pool) return finish(job, 'Failed', 'The user pool has been deleted.');
    const rules = poolRulesOf(pool);
    const { text, problem } = readFile(job.file);
    if (problem) return finish(job, 'Failed', problem);
    let records;
    try {
      records = parseCsv(text);
    } catch (e) {
      // "... Amazon Cognito is unable to parse the .csv file."
      if (e instanceof CsvSyntaxError) return finish(job, 'Failed', `Unable to parse the CSV file: ${e.message}.`);
      throw e;
    }
    if (records.length === 0) return finish(job, 'Failed', 'Unable to parse the CSV file: it is empty.');
    const columns = records[0].fields.map((h) => h.trim());
    const algorithm = job.PasswordHashingAlgorithm;
    const hashColumn = algorithm ? o.hashColumn : undefined;
    const headerError = headerProblem(columns, csvHeaderOf(rules), hashColumn);
    if (headerError) return finish(job, 'Failed', headerError);
    if (records.length - 1 > o.limits.rows)
      return finish(job, 'Failed', `The CSV file has more than ${o.limits.rows} rows (users).`);
    const fold = (u) => (rules.caseSensitive ? u : u.toLowerCase());
    const taken = new Set((await allUsernames(job.UserPoolId)).map(fold));
    for (const row of records.slice(1)) {
      if (closed) return finish(job, 'Failed', 'The fault proxy was closed while the job ran.');
      if (job.Status === 'Stopping') return finish(job, 'Stopped', 'The Import Job was stopped by the developer.');
      const judged = judgeRow(row, columns, rules, { algorithm, hashColumn: o.hashColumn, limits: o.limits });
      if (judged.reason) record(job, row.line, 'FAILED', judged.reason);
      // "[SKIPPED] Line Number 5956 - The user already exists." (the CloudWatch page); a user is
      // never overwritten, whether it was in the pool before or earlier in the same file.
      else if (taken.has(fold(judged.username))) record(job, row.line, 'SKIPPED', 'The user already exists.');
      else {
        const outcome = await createUser(job.UserPoolId, judged);
        if (outcome.skipped || outcome.ok) taken.add(fold(judged.username));
        record(job, row.line, outcome.ok ? 'SUCCEEDED' : outcome.skipped ? 'SKIPPED' : 'FAILED', outcome.message);
      }
      if (o.rowDelayMs > 0) await sleep(o.rowDelayMs);
    }
    if (job.Status === 'Stopping') return finish(job, 'Stopped', 'The Import Job was stopped by the developer.');
    // When a job counts as Failed rather than Succeeded is not documented; the documented example
    // of a Failed job says "Too many users have failed or been skipped during the import." This
    // mode: Failed when rows were read and none was imported.
    const rows = job.ImportedUsers + job.SkippedUsers + job.FailedUsers;
    if (rows > 0 && job.ImportedUsers === 0)
      return finish(job, 'Failed', 'Too many users have failed or been skipped during the import.');
    return finish(job, 'Succeeded', 'Import Job Completed Successfully.');
  }

  /** The uploaded bytes as text, or the reason the job fails on them. */
  function readFile(file) {
    if (file.tooLarge) return { problem: `The CSV file is larger than the maximum of ${o.limits.fileBytes} bytes.` };
    // "The CSV file contents should be in UTF-8 format without byte order mark."
    if (file.bytes[0] === 0xef && file.bytes[1] === 0xbb && file.bytes[2] === 0xbf)
      return {
        problem: 'Unable to parse the CSV file: it starts with a byte order mark; UTF-8 without BOM is required.',
      };
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(file.bytes) };
    } catch {
      return { problem: 'Unable to parse the CSV file: it is not UTF-8.' };
    }
  }

  async function allUsernames(poolId) {
    const names = [];
    let token;
    do {
      const page = await call('ListUsers', { UserPoolId: poolId, Limit: 60, PaginationToken: token });
      for (const u of page.Users ?? []) names.push(u.Username);
      token = page.PaginationToken;
    } while (token);
    return names;
  }

  /** AdminCreateUser (through the strict rules when strict mode is on), then the password. */
  async function createUser(poolId, { username, attributes, hash }) {
    const body = { UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', UserAttributes: attributes };
    const send = (rewritten) => upstream('AdminCreateUser', rewritten ?? body);
    const answer = strict ? await strict.run('AdminCreateUser', body, send) : await send();
    const code = answer.code ?? (answer.status >= 300 ? codeOf(answer.json) : undefined);
    if (code === 'UsernameExistsException') return { skipped: true, message: 'The user already exists.' };
    if (code) return { message: `The user could not be imported: ${code}: ${answer.message ?? answer.json?.message}` };
    if (!hash) {
      resetRequired.set(`${poolId}\u0000${username}`, true);
      return { ok: true, message: 'The import succeeded.' };
    }
    const password = randomPassword();
    const set = await upstream('AdminSetUserPassword', {
      UserPoolId: poolId,
      Username: username,
      Password: password,
      Permanent: true,
    });
    if (set.status >= 300) {
      await upstream('AdminDeleteUser', { UserPoolId: poolId, Username: username });
      return { message: `The user could not be imported: ${codeOf(set.json)}: ${set.json?.message}` };
    }
    hashes.set(`${poolId}\u0000${username}`, { parsed: hash, password });
    return { ok: true, message: 'The import succeeded.' };
  }

  /** The PUT to a PreSignedUrl, answered as S3 answers (XML errors). */
  function upload(req, res, body) {
    const url = new URL(req.url, 'http://proxy');
    const job = jobs.get(url.pathname.split('/')[2] ?? '');
    const s3Error = (status, code, message) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
      );
    };
    if (req.method !== 'PUT')
      return s3Error(405, 'MethodNotAllowed', 'The pre-signed URL takes a PUT of the CSV file.');
    const q = url.searchParams;
    if (!job || q.get('X-Amz-Signature') !== signature(job.JobId, q.get('X-Amz-Date') ?? ''))
      return s3Error(403, 'SignatureDoesNotMatch', 'The request signature does not match.');
    // The URL signs the header (X-Amz-SignedHeaders), as the documented curl sends it.
    if (req.headers['x-amz-server-side-encryption'] !== 'aws:kms')
      return s3Error(
        403,
        'SignatureDoesNotMatch',
        'The signed header x-amz-server-side-encryption: aws:kms is missing (the AWS docs upload with -H "x-amz-server-side-encryption:aws:kms").',
      );
    if (Date.now() - job.created > o.uploadTtlMs) return s3Error(403, 'AccessDenied', 'Request has expired');
    // S3 PutObject needs a Content-Length: "MissingContentLength ... 411 Length Required".
    // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
    if (req.headers['content-length'] === undefined)
      return s3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    if (job.Status !== 'Created')
      return s3Error(403, 'AccessDenied', `The import job is ${job.Status}; it no longer takes a file.`);
    job.file = body.length > o.limits.fileBytes ? { tooLarge: true } : { bytes: body };
    res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'content-length': '0' });
    res.end();
  }

  /** GET /__import-jobs/<jobId>/log: the CloudWatch Logs stand-in (names as the docs give them). */
  function log(req, res) {
    const job = jobs.get(new URL(req.url, 'http://proxy').pathname.split('/')[2] ?? '');
    res.writeHead(job ? 200 : 404, { 'content-type': 'application/json' });
    if (!job) return res.end(JSON.stringify({ message: 'no such import job' }));
    res.end(
      JSON.stringify({
        logGroup: `/aws/cognito/userpools/${job.UserPoolId}/${job.poolName}`,
        logStream: `${job.JobId}/${job.JobName}`,
        events: job.log,
      }),
    );
  }

  return {
    counts,
    /** Ends running jobs before their next row (the proxy is closing). */
    close() {
      closed = true;
    },
    /** The operations this mode answers itself. */
    answers: (op) => OPS.has(op),
    /** Answers one of them: { status, json } or { status, code, message }. */
    async answer(op, request) {
      try {
        const out = await handlers[op](request ?? {});
        return out.code ? out : { status: 200, json: out };
      } catch (e) {
        if (e.answer) return e.answer;
        throw e;
      }
    },
    /** The proxy paths this mode serves (the pre-signed upload, the log). */
    serves: (url) => url.startsWith('/__import-upload/') || url.startsWith('/__import-jobs/'),
    http(req, res, body) {
      if (req.url.startsWith('/__import-upload/')) return upload(req, res, body);
      return log(req, res);
    },
    /** Requests this mode may rewrite or answer before they are forwarded (sign-ins of imported users). */
    rewrites: (op) => (AUTH_OPS.has(op) || FORGET_OPS.has(op)) && (hashes.size > 0 || resetRequired.size > 0),
    /** The body to forward instead, undefined (unchanged), or { status, code, message } to answer. */
    async rewrite(op, request) {
      if (FORGET_OPS.has(op)) {
        for (const map of [hashes, resetRequired])
          for (const key of [...map.keys()])
            if (
              key.endsWith(`\u0000${request.Username}`) &&
              (!request.UserPoolId || key.startsWith(`${request.UserPoolId}\u0000`))
            )
              map.delete(key);
        return undefined;
      }
      const flows = ['USER_PASSWORD_AUTH', 'ADMIN_USER_PASSWORD_AUTH', 'ADMIN_NO_SRP_AUTH'];
      const params = request.AuthParameters;
      if (!flows.includes(request.AuthFlow) || !params?.USERNAME || typeof params.PASSWORD !== 'string') return;
      const reset = await poolHolding(resetRequired, request.UserPoolId, request.ClientId, params.USERNAME);
      if (reset && (await stillUnset(reset, params.USERNAME)))
        // "Amazon Cognito returns NotAuthorizedException when PreventUserExistenceErrors is
        // enabled. Otherwise, it returns PasswordResetRequiredException." (this mode: the latter)
        return fail('PasswordResetRequiredException', 'Password reset required for the user');
      const pool = await poolHolding(hashes, request.UserPoolId, request.ClientId, params.USERNAME);
      const entry = pool && hashes.get(`${pool}\u0000${params.USERNAME}`);
      if (!entry || !(await verifyHash(entry.parsed, params.PASSWORD))) return undefined; // the emulator judges
      counts.hashSignIns++;
      return { ...request, AuthParameters: { ...params, PASSWORD: entry.password } };
    },
    /** Answers this mode may change on their way back (RESET_REQUIRED users). */
    presents: (op) => STATUS_OPS.has(op) && resetRequired.size > 0,
    /** The answer (a Buffer) as the client sees it: imported users without a password RESET_REQUIRED. */
    present(op, requestBody, payload) {
      try {
        const poolId = JSON.parse(requestBody.toString('utf8') || '{}').UserPoolId;
        const json = JSON.parse(payload.toString('utf8'));
        let changed = false;
        for (const user of op === 'AdminGetUser' ? [json] : (json.Users ?? []))
          if (user.UserStatus === 'FORCE_CHANGE_PASSWORD' && resetRequired.has(`${poolId}\u0000${user.Username}`)) {
            user.UserStatus = 'RESET_REQUIRED';
            changed = true;
          }
        return changed ? Buffer.from(JSON.stringify(json)) : payload;
      } catch {
        return payload;
      }
    },
  };

  /** The pool of `map`'s entry for a user named by pool id (Admin calls) or app client (InitiateAuth). */
  async function poolHolding(map, poolId, clientId, username) {
    if (poolId) return map.has(`${poolId}\u0000${username}`) ? poolId : undefined;
    const pools = [...map.keys()].filter((k) => k.endsWith(`\u0000${username}`)).map((k) => k.split('\u0000')[0]);
    for (const pool of pools) {
      const out = await upstream('DescribeUserPoolClient', { UserPoolId: pool, ClientId: clientId });
      if (out.status < 300) return pool;
    }
    return undefined;
  }

  /** The emulator still holds the RESET_REQUIRED user as imported (no password set since). */
  async function stillUnset(poolId, username) {
    const out = await upstream('AdminGetUser', { UserPoolId: poolId, Username: username });
    if (out.status < 300 && out.json.UserStatus === 'FORCE_CHANGE_PASSWORD') return true;
    resetRequired.delete(`${poolId}\u0000${username}`);
    return false;
  }
}

/** A password any pool policy takes (upper, lower, digit, symbol; 40 characters, below moto's 99). */
function randomPassword() {
  const pick = (set, n) => Array.from({ length: n }, () => set[randomInt(set.length)]).join('');
  return `${pick('ABCDEFGHJKLMNPQRSTUVWXYZ', 10)}${pick('abcdefghijkmnopqrstuvwxyz', 10)}${pick('23456789', 10)}${pick('!#%&*+-=?^_', 10)}`;
}
