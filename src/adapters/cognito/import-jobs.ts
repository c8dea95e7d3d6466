// Cognito's user import jobs (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool.html):
// GetCSVHeader -> CreateUserImportJob (answers a pre-signed S3 URL) -> PUT the CSV there ->
// StartUserImportJob -> DescribeUserImportJob until the job ends. None of these is in a user
// quota category the sync budgets (UserCreation and the others): they are a handful of calls per
// job, and the job itself creates the users outside the request-rate quotas.
import {
  CognitoIdentityProviderClient,
  CreateUserImportJobCommand,
  DescribeUserImportJobCommand,
  GetCSVHeaderCommand,
  StartUserImportJobCommand,
  StopUserImportJobCommand,
  type UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import { readFile } from 'node:fs/promises';
import { CognitoApiError, errorMessage } from '../../errors.js';
import type { ImportAlgorithm } from './import-csv-format.js';

export interface ImportJobState {
  jobId: string;
  status: string;
  imported: number;
  skipped: number;
  failed: number;
  completionMessage?: string;
}

/** Statuses after which a job changes no more (UserImportJobType.Status). */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Stopped', 'Expired']);

export interface ImportJobs {
  csvHeader(): Promise<string[]>;
  create(name: string, algorithm: ImportAlgorithm | undefined): Promise<{ jobId: string; preSignedUrl: string }>;
  upload(preSignedUrl: string, file: string): Promise<void>;
  start(jobId: string): Promise<ImportJobState>;
  describe(jobId: string): Promise<ImportJobState>;
  stop(jobId: string): Promise<ImportJobState>;
}

const stateOf = (job: UserImportJobType | undefined, jobId: string): ImportJobState => ({
  jobId: job?.JobId ?? jobId,
  status: job?.Status ?? 'Unknown',
  imported: job?.ImportedUsers ?? 0,
  skipped: job?.SkippedUsers ?? 0,
  failed: job?.FailedUsers ?? 0,
  ...(job?.CompletionMessage ? { completionMessage: job.CompletionMessage } : {}),
});

const apiError = (api: string, error: unknown): CognitoApiError =>
  error instanceof CognitoApiError
    ? error
    : new CognitoApiError(`${api}: ${errorMessage(error)}`, {
        api,
        code: (error as { name?: string }).name ?? 'Unknown',
        httpStatus: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        retriable: false,
        cause: error,
      });

export class AwsImportJobs implements ImportJobs {
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly o: { userPoolId: string; cloudWatchLogsRoleArn: string },
  ) {}

  private async send<T>(api: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw apiError(api, error);
    }
  }

  async csvHeader(): Promise<string[]> {
    const out = await this.send('GetCSVHeader', () =>
      this.client.send(new GetCSVHeaderCommand({ UserPoolId: this.o.userPoolId })),
    );
    return out.CSVHeader ?? [];
  }

  async create(name: string, algorithm: ImportAlgorithm | undefined): Promise<{ jobId: string; preSignedUrl: string }> {
    const out = await this.send('CreateUserImportJob', () =>
      this.client.send(
        new CreateUserImportJobCommand({
          UserPoolId: this.o.userPoolId,
          JobName: name,
          CloudWatchLogsRoleArn: this.o.cloudWatchLogsRoleArn,
          ...(algorithm === undefined ? {} : { PasswordHashingAlgorithm: algorithm }),
        }),
      ),
    );
    const job = out.UserImportJob;
    if (!job?.JobId || !job.PreSignedUrl)
      throw apiError('CreateUserImportJob', new Error('the answer has no JobId or PreSignedUrl'));
    return { jobId: job.JobId, preSignedUrl: job.PreSignedUrl };
  }

  /**
   * The CSV to the pre-signed S3 URL, as the developer guide's example does it (`curl -T file
   * -H "x-amz-server-side-encryption:aws:kms" URL`): a PUT of the bytes with that header and no
   * content type (the URL is signed without one).
   */
  async upload(preSignedUrl: string, file: string): Promise<void> {
    const body = await readFile(file);
    let response: Response;
    try {
      response = await fetch(preSignedUrl, {
        method: 'PUT',
        headers: { 'x-amz-server-side-encryption': 'aws:kms' },
        body,
      });
    } catch (error) {
      throw apiError('upload', error);
    }
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, 300);
      throw new CognitoApiError(`upload of ${file}: HTTP ${response.status} ${text}`.trim(), {
        api: 'upload',
        code: `HTTP${response.status}`,
        httpStatus: response.status,
        retriable: false,
      });
    }
  }

  async start(jobId: string): Promise<ImportJobState> {
    const out = await this.send('StartUserImportJob', () =>
      this.client.send(new StartUserImportJobCommand({ UserPoolId: this.o.userPoolId, JobId: jobId })),
    );
    return stateOf(out.UserImportJob, jobId);
  }

  async describe(jobId: string): Promise<ImportJobState> {
    const out = await this.send('DescribeUserImportJob', () =>
      this.client.send(new DescribeUserImportJobCommand({ UserPoolId: this.o.userPoolId, JobId: jobId })),
    );
    return stateOf(out.UserImportJob, jobId);
  }

  async stop(jobId: string): Promise<ImportJobState> {
    const out = await this.send('StopUserImportJob', () =>
      this.client.send(new StopUserImportJobCommand({ UserPoolId: this.o.userPoolId, JobId: jobId })),
    );
    return stateOf(out.UserImportJob, jobId);
  }
}
