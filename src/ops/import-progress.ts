// Progress of `cognito-sync import` where people can see it: a bar per phase on a terminal
// (cli-progress, as the sync's own progress), a plain line every few seconds otherwise.
import cliProgress from 'cli-progress';
import { defaultProgressMode, type ProgressMode } from './progress.js';

export interface PhaseProgress {
  update(done: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

export interface ImportProgress {
  phase(label: string, total: number): PhaseProgress;
}

export function startImportProgress(
  mode: ProgressMode = defaultProgressMode(),
  stream: NodeJS.WritableStream = process.stderr,
  logEveryMs = 10_000,
): ImportProgress {
  return {
    phase(label, initialTotal) {
      let total = Math.max(1, initialTotal);
      if (mode === 'off') return { update: () => undefined, setTotal: () => undefined, stop: () => undefined };
      if (mode === 'bar') {
        const bar = new cliProgress.SingleBar(
          { format: `${label} {bar} {value}/{total} {detail}`, stream, hideCursor: true, barsize: 30, fps: 4 },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { detail: '' });
        return {
          update: (done, detail = '') => {
            if (done > total) bar.setTotal((total = done));
            bar.update(done, { detail });
          },
          setTotal: (t) => bar.setTotal((total = Math.max(1, t))),
          stop: () => bar.stop(),
        };
      }
      let last = 0;
      let done = 0;
      let detail = '';
      const line = (final: boolean): void => {
        stream.write(`${label}: ${done}/${total}${detail ? ` ${detail}` : ''}${final ? ' (done)' : ''}\n`);
      };
      return {
        update: (d, text = '') => {
          done = d;
          detail = text;
          const now = Date.now();
          if (now - last >= logEveryMs) {
            last = now;
            line(false);
          }
        },
        setTotal: (t) => {
          total = Math.max(1, t);
        },
        stop: () => line(true),
      };
    },
  };
}
