import { describe, expect, it } from 'vitest';
import { decodeCommittedExport, decodeJobError, decodeStatus, encodeJson, encodeResult } from '../../../app/src/jobs/job-json.js';
import { newJobRecord } from '../../../app/src/jobs/job-records.js';
import { toJobEntity } from '../../../app/src/jobs/table-job-entity.js';

describe('job JSON fields', () => {
  it('round-trips an error and a result', () => {
    const error = { code: 'hive_error', message: 'Täble "x" not found' };
    const result = { method: 'local' as const, location: 'f.csv.enc', bytes: 2 ** 40, sha256: 'ef'.repeat(32) };
    expect(decodeJobError(encodeJson(error)!)).toStrictEqual(error);
    expect(decodeCommittedExport(encodeJson(result)!)).toStrictEqual(result);
    expect(encodeJson(undefined)).toBeUndefined();
  });

  it('names what arrived and what was expected when a stored value is malformed', () => {
    expect(() => decodeJobError('not json')).toThrow('Stored job error is not JSON: "not json"');
    expect(() => decodeJobError('[1]')).toThrow('Stored job error is "[1]"; expected a JSON object');
    expect(() => decodeJobError('{"code":7,"message":"m"}')).toThrow('error has code 7; expected a string');
    expect(() => decodeCommittedExport('{"method":"ftp","location":"x","bytes":1,"sha256":"s"}')).toThrow(
      'method "ftp"; expected one of blob, local',
    );
    expect(() => decodeCommittedExport('{"method":"blob","location":"x","bytes":-1,"sha256":"s"}')).toThrow(
      'bytes -1; expected a non-negative integer',
    );
    expect(() => decodeStatus('paused')).toThrow('status "paused"; expected one of queued, running');
  });

  it('keeps the parts of a multi-part result apart from the rest of it, and reads both back', () => {
    const parts = [
      { location: 'o/j/a.csv', rows: 3, bytes: 10, sha256: 'aa'.repeat(32) },
      { location: 'o/j/a-part-00002.csv', rows: 1, bytes: 4, sha256: 'bb'.repeat(32) },
    ];
    const result = { method: 'blob' as const, location: 'o/j/MLTable', bytes: 14, parts };
    const stored = encodeResult(result);
    expect(JSON.parse(stored.result!)).toStrictEqual({ method: 'blob', location: 'o/j/MLTable', bytes: 14 });
    expect(decodeCommittedExport(stored.result!, stored.parts)).toStrictEqual(result);
    expect(encodeResult({ method: 'local', location: 'x', bytes: 1, sha256: 'cc'.repeat(32) }).parts).toBeUndefined();
  });

  it('refuses a result with neither a digest nor parts, and parts that are not a list of parts', () => {
    expect(() => decodeCommittedExport('{"method":"blob","location":"x","bytes":1}')).toThrow('result has sha256 undefined; expected a string');
    expect(() => decodeCommittedExport('{"method":"blob","location":"x","bytes":1}', '[{"location":"a","rows":1,"bytes":1,"sha256":"s"}]')).toThrow(
      'expected a JSON array of 2 to 100 parts',
    );
    expect(() => decodeCommittedExport('{"method":"blob","location":"x","bytes":1}', '[{"location":"a","rows":1,"bytes":1,"sha256":"s"},{"location":"b","rows":-1,"bytes":1,"sha256":"s"}]')).toThrow(
      'part has rows -1; expected a non-negative integer',
    );
  });

  it('refuses to write a list of parts longer than a Table property holds, naming the job', () => {
    const now = new Date('2026-03-01T10:00:00Z');
    const job = newJobRecord({ id: 'j1', ownerId: 'o', ownerName: 'n', organizationId: 'org', sql: 'SELECT 1', format: 'csv', ttlMinutes: 60, instanceId: 'i' }, now);
    const parts = Array.from({ length: 100 }, (_, index) => ({ location: `${'x'.repeat(400)}-${index}`, rows: 1, bytes: 1, sha256: 'aa'.repeat(32) }));
    expect(() => toJobEntity({ ...job, result: { method: 'blob', location: 'm', bytes: 100, parts } })).toThrow(/Job j1 has 100 parts whose list takes \d+ characters; a Table property holds at most 32768/);
  });
});
