/**
 * The native `kerberos` package (MIT GSSAPI underneath), loaded only when Kerberos is
 * configured so PLAIN/NOSASL deployments never need the native module.
 */
import { AppError } from '../../errors.js';

export type KerberosModule = typeof import('kerberos');

let loaded: Promise<KerberosModule> | undefined;

export function loadKerberos(): Promise<KerberosModule> {
  loaded ??= import('kerberos').then(
    (module) => ((module as { default?: KerberosModule }).default ?? module) as KerberosModule,
    (error: unknown) => {
      loaded = undefined;
      throw new AppError('hive_unavailable', 503, 'Kerberos authentication needs the native `kerberos` package, which is not installed here', { cause: error });
    },
  );
  return loaded;
}

/** GSSAPI's host-based service name for HiveServer2's principal `<service>/<host>@REALM`. */
export const serviceName = (service: string, host: string) => `${service}@${host}`;
