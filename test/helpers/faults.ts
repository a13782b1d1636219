/**
 * Faults injected for real: a second process holding SQLite's write lock, a full filesystem (a small tmpfs), an
 * immutable file (`chattr +i`, which binds root too, unlike permission bits). Each helper says when the machine
 * cannot inject its fault, so the test that needs it is skipped rather than faked.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HeldLock {
  /** ROLLBACK and exit the holding process */
  release(): Promise<void>;
}

/**
 * Another process (python3's sqlite3 module) opens `file` and holds `BEGIN IMMEDIATE` (the write lock; in WAL mode
 * readers go on) until `release()`. With `pendingWrite`, it also writes a row it never commits.
 */
export async function holdWriteLock(file: string, pendingWrite?: string): Promise<HeldLock> {
  const script = [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)',
    "c.execute('BEGIN IMMEDIATE')",
    'if len(sys.argv) > 2: c.execute(sys.argv[2])',
    "print('locked', flush=True)",
    'sys.stdin.read()',
    "c.execute('ROLLBACK')",
  ].join('\n');
  const args = ['-c', script, file, ...(pendingWrite ? [pendingWrite] : [])];
  const child: ChildProcess = spawn('python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}): ${stderr}`)));
  });
  return {
    async release() {
      child.stdin!.end();
      await exited;
    },
  };
}

/** Summary of a latency sample in ms, for printing. */
export function distribution(samples: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

export interface SmallFilesystem {
  dir: string;
  /** writes a filler file until the filesystem is full; returns its path */
  fill(): string;
  unmount(): void;
}

/** A tmpfs of `sizeKiB` mounted on a fresh temp dir, or undefined when this machine does not allow mount. */
export function mountSmallFilesystem(sizeKiB: number): SmallFilesystem | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    fill() {
      const filler = join(dir, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // ENOSPC: full
      } finally {
        closeSync(fd);
      }
      return filler;
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Sets or clears the immutable attribute (root cannot write an immutable file either); false when unsupported. */
export function setImmutable(path: string, on: boolean): boolean {
  try {
    execFileSync('chattr', [on ? '+i' : '-i', path], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Whether `chattr +i` works here (root on a filesystem with attributes, e.g. ext4). */
export function immutableSupported(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-chattr-'));
  const file = join(dir, 'probe');
  writeFileSync(file, 'x');
  const ok = setImmutable(file, true);
  if (ok) setImmutable(file, false);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}
