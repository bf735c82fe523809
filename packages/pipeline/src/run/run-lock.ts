// One writer per run folder: `<run>/.lock` holds the writing process's pid. A second process (a duplicated `--resume`,
// two terminals) is refused while that pid is alive; the lock of a process that died (kill -9, a crash, a reboot) is
// taken over. Created with O_EXCL ('wx'), so two processes racing for a free folder cannot both win.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RunLock {
  file: string;
  /** The pid whose stale lock was taken over, if any. */
  tookOverFrom?: number;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes `<dir>/.lock` for this process, or throws naming the process that holds it. */
export function acquireRunLock(dir: string): RunLock {
  const file = path.join(dir, '.lock');
  const body = `${JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() })}\n`;
  let tookOverFrom: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, body, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      let holder: { pid?: unknown; host?: unknown } = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
      } catch {
        // unreadable: a lock half written by a killed process
      }
      const pid = typeof holder.pid === 'number' ? holder.pid : undefined;
      const sameHost = holder.host === undefined || holder.host === os.hostname();
      if (pid !== undefined && pid !== process.pid && (!sameHost || alive(pid))) {
        throw new Error(`${dir}: in use by process ${pid}${sameHost ? '' : ` on ${String(holder.host)}`} (lock file ${file}); wait for it to finish or stop it`);
      }
      tookOverFrom = pid;
      unlinkSync(file);
    }
  }
  let released = false;
  return {
    file,
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      try {
        const holder = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number };
        if (holder.pid === process.pid) unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}
