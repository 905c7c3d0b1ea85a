/**
 * The one rule for "this address never leaves the machine": plain HTTP is acceptable only
 * there (Azurite, the local stand-ins). Used by the config checks, the SAS protocol choice,
 * local download URLs and the emulator clients.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** True for an http(s) URL whose host is a loopback address. */
export function isLoopbackUrl(value: string): boolean {
  try {
    return isLoopbackHost(new URL(value).hostname);
  } catch {
    return false;
  }
}
