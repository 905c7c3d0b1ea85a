/**
 * The one place the connector writes its own environment: MIT Kerberos, loaded into this process
 * by the `kerberos` module (GSSAPI for Hive), reads its ticket cache and configuration file from
 * KRB5CCNAME and KRB5_CONFIG, with no API to pass them. Kept beside the config, which is the only
 * other code that touches `process.env`.
 */
export function pointKerberosAt(settings: { ticketCache: string; krb5Conf?: string | undefined }): void {
  process.env.KRB5CCNAME = settings.ticketCache;
  if (settings.krb5Conf) process.env.KRB5_CONFIG = settings.krb5Conf;
}
