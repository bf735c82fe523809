// Where the Trainer's checkpoints live: a named set of files written atomically through a small injectable IO, so
// @unlearn/train needs no node:fs at import time (browsers can keep checkpoints in memory or IndexedDB through their
// own CheckpointIO). The tensors in them are encoded by @unlearn/tensors' one safetensors codec.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** Where checkpoints live. `save` must be atomic: afterwards either every file of `name` is visible or none is. */
export interface CheckpointIO {
  /** Human-readable location for messages (a directory path, "memory"). */
  readonly where: string;
  save(name: string, files: Record<string, Uint8Array>): Promise<void>;
  /** The files of checkpoint `name`, or null when there is none. */
  load(name: string): Promise<Record<string, Uint8Array> | null>;
  /** Names of the complete checkpoints present. */
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
  /**
   * Cleans what interrupted writes left (temporary folders; a checkpoint moved aside is moved back when its replacement
   * never arrived) and returns what it removed or restored. The Trainer calls it before a run; only one writer may
   * use a location at a time (the pipeline holds a lock file for that).
   */
  sweep?(): Promise<string[]>;
}

/** Checkpoints kept in this process's memory (tests, browsers without storage). */
export function memoryCheckpointIO(): CheckpointIO {
  const store = new Map<string, Record<string, Uint8Array>>();
  return {
    where: 'memory',
    async save(name, files) {
      store.set(name, Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.slice()])));
    },
    async load(name) {
      return store.get(name) ?? null;
    },
    async list() {
      return [...store.keys()];
    },
    async remove(name) {
      store.delete(name);
    },
  };
}

/**
 * Checkpoints as directories under `root` (Node). Each is written into a temporary sibling directory and renamed into
 * place, so a crash leaves either the complete checkpoint or none. node:fs is imported on first use, not at load time.
 */
export function directoryCheckpointIO(root: string): CheckpointIO {
  const fs = async () => {
    const [fsp, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return { fsp, path };
  };
  return {
    where: root,
    async save(name, files) {
      const { fsp, path } = await fs();
      await fsp.mkdir(root, { recursive: true });
      const tmp = path.join(root, `.tmp-${name}-${process.pid}-${Date.now()}`);
      const final = path.join(root, name);
      await fsp.mkdir(tmp);
      try {
        for (const [file, bytes] of Object.entries(files)) {
          const handle = await fsp.open(path.join(tmp, file), 'w');
          try {
            await handle.writeFile(bytes);
            await handle.sync();
          } finally {
            await handle.close();
          }
        }
        const old = `${final}.old-${process.pid}-${Date.now()}`;
        const existed = await fsp.rename(final, old).then(() => true, () => false);
        await fsp.rename(tmp, final);
        if (existed) await fsp.rm(old, { recursive: true, force: true });
      } catch (e) {
        await fsp.rm(tmp, { recursive: true, force: true });
        throw e;
      }
    },
    async load(name) {
      const { fsp, path } = await fs();
      const dir = path.join(root, name);
      const entries = await fsp.readdir(dir).catch(() => null);
      if (!entries) return null;
      const files: Record<string, Uint8Array> = {};
      for (const file of entries) files[file] = new Uint8Array(await fsp.readFile(path.join(dir, file)));
      return files;
    },
    async list() {
      const { fsp } = await fs();
      const entries = await fsp.readdir(root, { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.includes('.old-')).map((e) => e.name);
    },
    async remove(name) {
      const { fsp, path } = await fs();
      await fsp.rm(path.join(root, name), { recursive: true, force: true });
    },
    async sweep() {
      const { fsp, path } = await fs();
      const entries = await fsp.readdir(root, { withFileTypes: true }).catch(() => []);
      const names = new Set(entries.map((e) => e.name));
      const done: string[] = [];
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const old = /^(.+)\.old-\d+-\d+$/.exec(e.name);
        if (e.name.startsWith('.tmp-')) {
          await fsp.rm(path.join(root, e.name), { recursive: true, force: true });
          done.push(e.name);
        } else if (old) {
          if (names.has(old[1])) {
            await fsp.rm(path.join(root, e.name), { recursive: true, force: true });
            done.push(e.name);
          } else {
            await fsp.rename(path.join(root, e.name), path.join(root, old[1]));
            names.add(old[1]);
            done.push(`${e.name} (moved back to ${old[1]})`);
          }
        }
      }
      return done;
    },
  };
}

/** Disposes every tensor of the maps. */
export function disposeMaps(...maps: (Map<string, Tensor> | undefined)[]): void {
  for (const m of maps) if (m) tf.dispose([...m.values()]);
}
