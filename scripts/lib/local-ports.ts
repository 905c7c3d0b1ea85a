/**
 * The ports the local stack's services listened on last time, kept in a small JSON file under
 * the stack's data folder and offered again on the next start, so what people copied (a blob
 * download URL names Azurite's port) keeps working across a restart of `npm start`. A recorded
 * port that something else holds now is not offered: that service takes a free port, and the
 * new one is recorded.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';

export type PortRecord = Record<string, number>;

export interface PortBook {
  /** The recorded port for `name` when it is free on 127.0.0.1 now, else 0 (any free port). */
  offer(name: string): Promise<number>;
  /** Remembers the port `name` listens on; `save()` writes the file. */
  record(name: string, port: number): void;
  save(): Promise<void>;
  readonly recorded: Readonly<PortRecord>;
}

export async function openPortBook(file: string): Promise<PortBook> {
  const recorded: PortRecord = await readRecord(file);
  return {
    recorded,
    async offer(name) {
      const port = recorded[name];
      return port !== undefined && (await isFree(port)) ? port : 0;
    },
    record(name, port) {
      recorded[name] = port;
    },
    async save() {
      await writeFile(file, `${JSON.stringify(recorded, null, 2)}\n`);
    },
  };
}

/** An unreadable or hand-mangled file counts as no record: ports are a convenience, not state. */
async function readRecord(file: string): Promise<PortRecord> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => isPort(entry[1])));
  } catch {
    return {};
  }
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65_536;
}

/** Whether a listener could take the port on 127.0.0.1 right now. */
export async function isFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
