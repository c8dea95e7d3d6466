// The built CLI (`bin/cognito-sync.js`) as a child process, the way an operator or a cron job
// runs it: exit code and everything it printed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './stack.js';

export interface CliProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCliProcess(args: string[], timeoutMs = 300_000): Promise<CliProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/cognito-sync.js'), ...args], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cognito-sync ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
