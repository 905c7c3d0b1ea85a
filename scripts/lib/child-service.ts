/**
 * Spawns a long-running child process (an emulator or stand-in) and resolves once it prints
 * the line that says it is ready. Used by the local stack, the test setup and the benchmarks,
 * so every place starts services the same way and never leaves orphans behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ChildServiceOptions<T> {
  /** Shown in error messages and as the prefix of forwarded output. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Called for every output line until it returns a value; that value is the ready result.
   * Services print their real ports here, which is how port 0 becomes a known port.
   */
  readyWhen: (line: string, collected: string[]) => T | undefined;
  /** @default 60_000 */
  timeoutMs?: number;
  /** Forward the child's output, prefixed with its name, to this stream. @default none */
  forwardTo?: NodeJS.WritableStream;
  /**
   * Start the child in a process group of its own, so a Ctrl-C in the terminal (SIGINT to the
   * whole foreground group) reaches only the parent, which then stops its children in the order
   * it chooses. The child still exits when the parent dies (exit-with-parent.cjs). @default false
   */
  ownProcessGroup?: boolean;
}

/** How a child ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const EXIT_WITH_PARENT = fileURLToPath(new URL('./exit-with-parent.cjs', import.meta.url));

/** Arguments that start a Node.js script as a child service that dies with its parent. */
export function nodeArgs(script: string, ...args: string[]): string[] {
  return ['--require', EXIT_WITH_PARENT, script, ...args];
}

/** Same, for a TypeScript entry point run through tsx. */
export function tsxArgs(script: string, ...args: string[]): string[] {
  return ['--require', EXIT_WITH_PARENT, '--import', 'tsx', script, ...args];
}

export interface ChildService<T> {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: T;
  /** Resolves when the child has exited, for whatever reason. */
  readonly exited: Promise<ChildExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export async function startChildService<T>(options: ChildServiceOptions<T>): Promise<ChildService<T>> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  const exited = new Promise<ChildExit>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const collected: string[] = [];
  const ready = await new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new Error(`${options.name} did not become ready within ${options.timeoutMs ?? 60_000} ms:\n${collected.slice(-20).join('\n')}`)),
      options.timeoutMs ?? 60_000,
    );
    const onLine = (line: string) => {
      if (options.forwardTo) options.forwardTo.write(`[${options.name}] ${line}\n`);
      if (settled) return;
      collected.push(line);
      if (collected.length > 200) collected.shift();
      try {
        const value = options.readyWhen(line, collected);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error as Error);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('error', (error) => finish(new Error(`${options.name} could not start: ${error.message}`)));
    child.once('exit', (code, signal) =>
      finish(new Error(`${options.name} exited before it was ready (code ${code}, signal ${signal}):\n${collected.slice(-20).join('\n')}`)),
    );
  }).catch(async (error: unknown) => {
    await stop(1_000);
    throw error;
  });

  return { name: options.name, child, ready, exited, stop };
}

/** The `READY {json}` line that the project's own stand-ins print once they listen. */
export function parseReadyLine<T>(line: string): T | undefined {
  const match = /^READY (\{.*\})$/.exec(line.trim());
  return match ? (JSON.parse(match[1]!) as T) : undefined;
}
