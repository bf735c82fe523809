// What a run says while it works: every event is one JSON line of the run folder's log.jsonl AND the object a caller
// receives through `onEvent` (progress bars, dashboards, tests) — the same `{ time, event, ...data }` shape. The CLI
// renders them on stderr; the pipeline itself prints nothing.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** A training step as logged: the Trainer's step event flattened, with the run's step count. */
export interface StepLogEvent {
  event: 'step';
  time: string;
  /** `finetune` or `unlearn`. */
  label: string;
  /** 1-based steps done. */
  step: number;
  /** Steps of the run. */
  total: number;
  loss: number;
  parts?: Record<string, number>;
  tokens?: number;
  seconds?: number;
  lr?: number;
  gradNorm?: number;
  /** The optimizer's stats (e.g. Sophia's `winRate`) are spread in. */
  [stat: string]: unknown;
}

/**
 * Every event a run emits, in order: start, backend, info…, [resume], step…, progress-end, checkpoint, eval-progress…, eval,
 * done — or, instead of the end, stopped (divergence), error (a failure) or interrupted (a signal).
 */
export type RunEvent =
  | { event: 'start'; time: string; command: string; config: unknown }
  | { event: 'backend'; time: string; backend: string; reason: string; [key: string]: unknown }
  | { event: 'info'; time: string; message: string }
  | StepLogEvent
  | { event: 'progress-end'; time: string; label: string; seconds: number; tokens: number }
  | { event: 'checkpoint'; time: string; dir: string }
  | { event: 'eval-progress'; time: string; message: string }
  | { event: 'eval-warning'; time: string; message: string }
  | { event: 'eval'; time: string; metrics: Record<string, number | null>; seconds: number; [key: string]: unknown }
  | { event: 'done'; time: string; summary: unknown; report: string }
  /** Training stopped early on a non-finite loss or update: no final checkpoint of that state was written. */
  | { event: 'stopped'; time: string; reason: string; step: number; lastCheckpoint?: string }
  /** The run failed; the message is the error's (summary.json records it too). */
  | { event: 'error'; time: string; message: string }
  /** The process got SIGINT / SIGTERM while the run was working. */
  | { event: 'interrupted'; time: string; signal: string }
  /** A run continued from its newest good checkpoint (`--resume`). */
  | { event: 'resume'; time: string; checkpoint?: string; step: number }
  /** Something recoverable the run dealt with (a corrupt checkpoint skipped, a stale lock taken over). */
  | { event: 'warning'; time: string; message: string };

export type RunEventListener = (event: RunEvent) => void;

/** Appends events to a JSON-lines file (when given) and hands each to the listeners. */
export class RunLog {
  readonly file?: string;
  private readonly listeners: RunEventListener[];

  constructor(options: { file?: string; onEvent?: RunEventListener | RunEventListener[] } = {}) {
    this.file = options.file;
    this.listeners = options.onEvent === undefined ? [] : Array.isArray(options.onEvent) ? options.onEvent : [options.onEvent];
    if (this.file) mkdirSync(path.dirname(this.file), { recursive: true });
  }

  /** Records `{ time, event, ...data }`: one line of the log, one call of every listener. */
  event(event: RunEvent['event'], data: Record<string, unknown> = {}): void {
    const e = { time: new Date().toISOString(), event, ...data } as RunEvent;
    if (this.file) appendFileSync(this.file, `${JSON.stringify(e)}\n`);
    for (const listener of this.listeners) listener(e);
  }

  /** A line for people (the CLI prints it unless quiet). */
  info(message: string): void {
    this.event('info', { message });
  }
}
