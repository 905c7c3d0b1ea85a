import { describe, expect, it } from 'vitest';
import { decodeCommittedExport, decodeJobError, decodeStatus, encodeJson } from '../../../app/src/jobs/job-json.js';

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
});
