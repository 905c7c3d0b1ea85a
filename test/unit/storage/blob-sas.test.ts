import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../../app/src/loopback.js';
import { floorToSecond, sasProtocolFor } from '../../../app/src/storage/blob-sas.js';

describe('SAS protocol', () => {
  it('is HTTPS only for an HTTPS endpoint, loopback or not', () => {
    expect(sasProtocolFor('https://account.blob.core.windows.net')).toBe('https');
    expect(sasProtocolFor('https://127.0.0.1:10000/devstoreaccount1')).toBe('https');
  });

  it('allows HTTP too only for an emulator on a loopback address', () => {
    expect(sasProtocolFor('http://127.0.0.1:10000/devstoreaccount1')).toBe('https,http');
    expect(sasProtocolFor('http://localhost:10000/devstoreaccount1')).toBe('https,http');
    expect(sasProtocolFor('http://[::1]:10000/devstoreaccount1')).toBe('https,http');
  });

  it('refuses plain HTTP anywhere else', () => {
    expect(() => sasProtocolFor('http://account.blob.core.windows.net')).toThrow(
      'Blob endpoint http://account.blob.core.windows.net is not usable for download URLs; expected https://',
    );
    expect(() => sasProtocolFor('http://10.0.0.4:10000')).toThrow(/expected https/);
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.8.9.10', 'localhost', '[::1]', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['128.0.0.1', 'localhost.example.com', '0.0.0.0', '10.0.0.1'].some(isLoopbackHost)).toBe(false);
  });

  it('floors to whole seconds, the resolution of SAS times', () => {
    expect(floorToSecond(new Date('2026-11-27T21:10:05.999Z')).toISOString()).toBe('2026-11-27T21:10:05.000Z');
  });
});
