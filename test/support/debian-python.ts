/**
 * Debian's python3 with python3-pandas (installed by .ci/run), the reader the snippets and the
 * Python helper are proven with. Always /usr/bin/python3: a python3 earlier on PATH (pyenv,
 * a virtualenv) may have no pandas or another version. Runs asynchronously: the connector the
 * script downloads from serves in this very process.
 */
import { spawn } from 'node:child_process';

export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runPython(args: readonly string[], options: { input?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, args, {
      cwd: options.cwd,
      // No user site-packages or PYTHONPATH from the machine: only Debian's packages and what the test names.
      env: { PATH: '/usr/bin:/bin', PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a script given as text (`python3 -`), failing with its stderr when it fails. */
export async function runPythonScript(script: string, options: { env?: Record<string, string>; args?: readonly string[]; timeoutMs?: number } = {}): Promise<string> {
  const run = await runPython(['-', ...(options.args ?? [])], { input: script, ...options });
  if (run.status !== 0) throw new Error(`python3 exited ${run.status}:\n${run.stderr}\n--- script ---\n${script}`);
  return run.stdout;
}

/**
 * Python that defines `frame_json(df)`: the frame as JSON-able data, each column's dtype and its
 * values as [Python type name (numpy scalars as bool, int, float), text] (null for a missing value: None, <NA>, NaT), so a test can
 * assert types and exact values (big integers and decimals as text, bytes as hex); and
 * `describe(df)`, which prints that.
 */
export const DESCRIBE_FRAME = String.raw`
import json as _json
import numbers as _numbers
import numpy as _np
import pandas as _pd


def _cell(value):
    if value is None or value is _pd.NA or value is _pd.NaT:
        return None
    # numpy's scalars by their Python kind: the dtype check tells Int8 from Int64.
    if isinstance(value, (bool, _np.bool_)):
        return ["bool", str(bool(value))]
    if isinstance(value, _numbers.Integral):
        return ["int", str(int(value))]
    if isinstance(value, (float, _np.floating)):
        return ["float", repr(float(value))]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, _pd.Timestamp):
        return ["Timestamp", value.isoformat()]
    return [type(value).__name__, str(value)]


def frame_json(df):
    return {
        "columns": list(df.columns),
        "dtypes": {name: str(dtype) for name, dtype in df.dtypes.items()},
        "values": {name: [_cell(value) for value in df[name].tolist()] for name in df.columns},
    }


def describe(df):
    print(_json.dumps(frame_json(df)))
`;
