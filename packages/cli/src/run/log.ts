// What a run says while it works: a JSON-lines event log (one object per line, always written when a file is
// given) and, unless quiet, human output on stderr — progress bars with ETA, loss parts and tokens/s.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';

export interface StepEvent {
  step: number;
  loss: number;
  parts?: Record<string, number>;
  tokens?: number;
  seconds?: number;
  [key: string]: unknown;
}

export interface Progress {
  /** Advances to `done` steps, showing the latest loss, its parts and the throughput. */
  update(done: number, step?: StepEvent): void;
  stop(): void;
}

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(4));

export class RunLog {
  readonly quiet: boolean;
  readonly file?: string;
  private readonly stream: NodeJS.WritableStream;

  constructor(options: { file?: string; quiet?: boolean; stream?: NodeJS.WritableStream } = {}) {
    this.quiet = options.quiet ?? false;
    this.file = options.file;
    this.stream = options.stream ?? process.stderr;
    if (this.file) mkdirSync(path.dirname(this.file), { recursive: true });
  }

  /** Appends `{time, event, ...data}` to the JSON-lines log. */
  event(event: string, data: Record<string, unknown> = {}): void {
    if (!this.file) return;
    appendFileSync(this.file, `${JSON.stringify({ time: new Date().toISOString(), event, ...data })}\n`);
  }

  /** A line for people (stderr), suppressed by --quiet; also logged. */
  info(message: string): void {
    this.event('info', { message });
    if (!this.quiet) this.stream.write(`${message}\n`);
  }

  /** A progress bar over `total` steps; every update is also a `step` event in the log. */
  progress(label: string, total: number): Progress {
    const started = Date.now();
    let tokens = 0;
    const tty = !this.quiet && (this.stream as NodeJS.WriteStream).isTTY === true;
    const bar = tty
      ? new cliProgress.SingleBar(
          {
            format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted} | loss {loss}{parts} | {tps} tok/s`,
            stream: this.stream as NodeJS.WriteStream,
            hideCursor: true,
            etaBuffer: 20,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    bar?.start(total, 0, { loss: '-', parts: '', tps: '-' });
    let lastPrinted = 0;
    return {
      update: (done, step) => {
        if (step) {
          tokens += step.tokens ?? 0;
          this.event('step', { label, ...step });
        }
        const elapsed = (Date.now() - started) / 1000;
        const tps = elapsed > 0 ? Math.round(tokens / elapsed) : 0;
        const parts = step?.parts && Object.keys(step.parts).length
          ? ` (${Object.entries(step.parts).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`
          : '';
        if (bar) bar.update(done, { loss: step ? fmt(step.loss) : '-', parts, tps });
        else if (!this.quiet && (Date.now() - lastPrinted > 10_000 || done === total)) {
          // No terminal: a plain line every 10 s instead of a redrawn bar.
          lastPrinted = Date.now();
          const eta = done > 0 ? Math.round(((total - done) * elapsed) / done) : 0;
          this.stream.write(`${label} ${done}/${total} | ETA ${eta}s | loss ${step ? fmt(step.loss) : '-'}${parts} | ${tps} tok/s\n`);
        }
      },
      stop: () => {
        bar?.stop();
        this.event('progress-end', { label, seconds: (Date.now() - started) / 1000, tokens });
      },
    };
  }
}
