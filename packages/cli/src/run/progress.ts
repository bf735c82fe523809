// The CLI's view of a pipeline run: it subscribes to the run's events (the objects log.jsonl holds) and renders them on
// stderr — info lines, a progress bar per training phase with ETA, loss parts and tokens/s (a plain line every 10 s when
// stderr is not a terminal). `--quiet` prints nothing; the log is written either way by the pipeline.
import cliProgress from 'cli-progress';
import type { RunEvent, RunEventListener } from '@unlearn/pipeline';

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(4));

interface Bar {
  started: number;
  tokens: number;
  lastPrinted: number;
  bar: cliProgress.SingleBar | null;
}

/** A listener that prints a run's events on `stream` (stderr), unless `quiet`. */
export function progressPrinter(options: { stream?: NodeJS.WritableStream; quiet?: boolean } = {}): RunEventListener {
  const stream = options.stream ?? process.stderr;
  const tty = !options.quiet && (stream as NodeJS.WriteStream).isTTY === true;
  const bars = new Map<string, Bar>();
  return (e: RunEvent) => {
    if (options.quiet) return;
    if (e.event === 'info') stream.write(`${e.message}\n`);
    else if (e.event === 'warning') stream.write(`warning: ${e.message}\n`);
    else if (e.event === 'step') {
      let b = bars.get(e.label);
      if (!b) {
        const bar = tty
          ? new cliProgress.SingleBar(
              {
                format: `${e.label} [{bar}] {value}/{total} | ETA {eta_formatted} | loss {loss}{parts} | {tps} tok/s`,
                stream: stream as NodeJS.WriteStream, hideCursor: true, etaBuffer: 20, fps: 5,
              },
              cliProgress.Presets.shades_classic,
            )
          : null;
        bar?.start(e.total, 0, { loss: '-', parts: '', tps: '-' });
        b = { started: Date.now(), tokens: 0, lastPrinted: 0, bar };
        bars.set(e.label, b);
      }
      b.tokens += e.tokens ?? 0;
      const elapsed = (Date.now() - b.started) / 1000;
      const tps = elapsed > 0 ? Math.round(b.tokens / elapsed) : 0;
      const parts = e.parts && Object.keys(e.parts).length ? ` (${Object.entries(e.parts).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})` : '';
      if (b.bar) b.bar.update(e.step, { loss: fmt(e.loss), parts, tps });
      else if (Date.now() - b.lastPrinted > 10_000 || e.step === e.total) {
        b.lastPrinted = Date.now();
        const eta = e.step > 0 ? Math.round(((e.total - e.step) * elapsed) / e.step) : 0;
        stream.write(`${e.label} ${e.step}/${e.total} | ETA ${eta}s | loss ${fmt(e.loss)}${parts} | ${tps} tok/s\n`);
      }
    } else if (e.event === 'progress-end') {
      bars.get(e.label)?.bar?.stop();
      bars.delete(e.label);
    }
  };
}
