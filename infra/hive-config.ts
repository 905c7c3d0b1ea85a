/**
 * The deploy config's `hadoop.hive` section beyond host and port: TLS to HiveServer2, Kerberos,
 * the Hive version and impersonation. Its own module because the checks are specific (a CA bundle
 * must parse as X.509, a krb5.conf must be self-contained and name KDCs the NSG lets through); the
 * connector-side meaning of every setting is in app/README.md (HIVE_TLS*, HIVE_KERBEROS_*).
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { contains, parseCidr, parseIpv4, type Ipv4Range } from './cidr.js';

/** Values end up single-quoted in systemd environment files: no newline, quote or backslash. */
const singleLine = z.string().refine((value) => !/[\r\n'\\]/.test(value), {
  message: 'a single line without quotes or backslashes',
});

const hostName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, {
  message: 'a DNS host name, e.g. "hs2.hadoop.internal"',
});

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'an IPv4 CIDR with zero host bits, e.g. "10.20.0.0/24"',
});

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * A CA bundle as PEM text: the certificates only, each parsed as X.509 (as the connector parses
 * HIVE_TLS_CA_PEM / HIVE_TLS_CA_FILE at start), normalized to the blocks joined by newlines. A
 * private key is refused: it never belongs in the deploy config, and a CA bundle has none.
 */
const caBundle = z.string().transform((text, ctx) => {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    ctx.addIssue({ code: 'custom', message: 'certificates only: the text holds a PRIVATE KEY block, which never belongs in the deploy config (give the CA certificate(s) HiveServer2\'s certificate chains to)' });
    return z.NEVER;
  }
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'PEM text with at least one "-----BEGIN CERTIFICATE-----" block (the CA HiveServer2\'s certificate chains to)' });
    return z.NEVER;
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `certificates that parse as X.509; certificate ${index + 1} of the bundle does not (${(error as Error).message})` });
      return z.NEVER;
    }
  }
  return blocks.join('\n');
});

/**
 * krb5.conf content, as MIT Kerberos reads it (krb5.conf(5)): INI-style `[section]` headers. It
 * must stand alone: `include`/`includedir` would name files on the VM that the stack never writes.
 */
const krb5Conf = z.string().superRefine((text, ctx) => {
  if (!/^\s*\[[A-Za-z_]+\]\s*$/m.test(text)) {
    ctx.addIssue({ code: 'custom', message: 'the content of a krb5.conf (INI-style sections such as [libdefaults] and [realms]), not a path to one' });
  }
  if (/^\s*(include|includedir|module)\s/m.test(text)) {
    ctx.addIssue({ code: 'custom', message: 'a self-contained krb5.conf: "include", "includedir" and "module" name files on the VM that the stack does not write' });
  }
});

export const hiveTlsSchema = z
  .strictObject({
    /** TLS to HiveServer2 (hive.server2.use.SSL=true), binary and HTTP transport. */
    enabled: z.boolean(),
    /**
     * The CA bundle HiveServer2's certificate chains to, as PEM. Not a secret, but the connector
     * reads it from Key Vault like the rest of its settings that do not fit an environment line
     * (written by the stack as the secret hive-tls-ca). @default - the public CAs Node.js trusts
     */
    caPem: caBundle.optional(),
    /** The name the certificate must carry (and SNI). @default - hadoop.hive.host */
    serverName: hostName.optional(),
    /**
     * Accept PLAIN authentication (the Hive password) without TLS, for a cluster that has none.
     * @default false - the synth refuses PLAIN without TLS
     */
    insecureAllowPlainWithoutTls: z.boolean().default(false),
  })
  .default({ enabled: false, insecureAllowPlainWithoutTls: false });

export const hiveKerberosSchema = z.strictObject({
  /** The connector's principal with its realm; its keytab is the sensitive variable hive_kerberos_keytab. */
  principal: z.string().regex(/^[^\s@/'\\]+(\/[^\s@/'\\]+)?@[^\s@'\\]+$/, {
    message: 'a Kerberos principal with its realm, "name@REALM" or "name/instance@REALM"',
  }),
  /** First part of HiveServer2's principal `hive/<host>@REALM`. @default "hive" */
  service: z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'a service name such as "hive"' }).default('hive'),
  /** Host part of HiveServer2's principal (Hive's `_HOST`). @default - hadoop.hive.host, which must then be a name */
  serviceHost: hostName.optional(),
  /** The krb5.conf the connector uses (written to /etc/enos-connector/krb5.conf; not a secret). */
  krb5Conf,
  /** Where the realm's KDCs live: the NSG opens port 88 (TCP and UDP) to these ranges only. */
  kdcCidrs: z.array(cidr).min(1, "at least one CIDR of the realm's KDCs (the NSG opens port 88 to them only)"),
  /**
   * Where `kinit` comes from. `apt`: Ubuntu's krb5-user, installed on the first deploy (needs
   * network.allowInternetEgress). `image`: the VM image already carries it; nothing is installed.
   * @default "apt"
   */
  kinit: z.enum(['apt', 'image']).default('apt'),
});

export const hiveImpersonationSchema = z
  .strictObject({
    /** `proxy-user`: each query's session runs as the EnOS user's cluster name (hive.server2.proxy.user). */
    mode: z.enum(['none', 'proxy-user']).default('none'),
    /** The cluster name of an EnOS user. @default "{username}" */
    proxyUserTemplate: singleLine.refine((value) => value.includes('{username}'), { message: 'a template containing {username}, e.g. "enos_{username}"' }).optional(),
  })
  .default({ mode: 'none' });

/** The Hive versions the connector knows (HIVE_SERVER_VERSION); `auto` asks the server. */
export const hiveServerVersionSchema = z.enum(['auto', '2.3', '3.1', '4.0']).default('auto');

interface HiveSettings {
  host: string;
  auth: 'PLAIN' | 'NOSASL' | 'KERBEROS';
  username?: string;
  tls: z.output<typeof hiveTlsSchema>;
  kerberos?: z.output<typeof hiveKerberosSchema>;
  impersonation: z.output<typeof hiveImpersonationSchema>;
}

/** Rules between the Hive fields (and the egress they need); each names the field, the value and the expectation. */
export function hiveProblems(hive: HiveSettings, allowInternetEgress: boolean, show: (value: unknown) => string): string[] {
  const problems: string[] = [];
  const { tls, kerberos } = hive;
  if (hive.auth === 'PLAIN' && !tls.enabled && !tls.insecureAllowPlainWithoutTls) {
    problems.push(
      'hadoop.hive.tls.enabled: got false; expected true with hadoop.hive.auth "PLAIN": the connector refuses to send the Hive password in clear; for a cluster without TLS set hadoop.hive.tls.insecureAllowPlainWithoutTls to true to accept that',
    );
  }
  if (tls.insecureAllowPlainWithoutTls && (hive.auth !== 'PLAIN' || tls.enabled)) {
    problems.push(
      `hadoop.hive.tls.insecureAllowPlainWithoutTls: got true; expected false with hadoop.hive.auth "${hive.auth}" and hadoop.hive.tls.enabled ${tls.enabled}: it only permits a PLAIN password without TLS`,
    );
  }
  if (!tls.enabled) {
    for (const field of ['caPem', 'serverName'] as const) {
      if (tls[field] !== undefined) problems.push(`hadoop.hive.tls.${field}: got ${show(tls[field])}; expected nothing with hadoop.hive.tls.enabled false (it applies to TLS only)`);
    }
  }

  if (hive.auth === 'KERBEROS') {
    if (kerberos === undefined) {
      problems.push('hadoop.hive.kerberos: got nothing; expected the Kerberos settings (principal, krb5Conf, kdcCidrs) with hadoop.hive.auth "KERBEROS"');
    } else {
      problems.push(...kerberosProblems(hive, kerberos, allowInternetEgress, show));
    }
    if (hive.username !== undefined) {
      problems.push(`hadoop.hive.username: got ${show(hive.username)}; expected nothing with hadoop.hive.auth "KERBEROS" (the connector authenticates as hadoop.hive.kerberos.principal)`);
    }
  } else if (kerberos !== undefined) {
    problems.push(`hadoop.hive.kerberos: got the Kerberos settings; expected nothing with hadoop.hive.auth "${hive.auth}" (set auth to "KERBEROS" to use them)`);
  }

  if (hive.impersonation.mode === 'none' && hive.impersonation.proxyUserTemplate !== undefined) {
    problems.push(`hadoop.hive.impersonation.proxyUserTemplate: got ${show(hive.impersonation.proxyUserTemplate)}; expected nothing with hadoop.hive.impersonation.mode "none"`);
  }
  return problems;
}

function kerberosProblems(hive: HiveSettings, kerberos: z.output<typeof hiveKerberosSchema>, allowInternetEgress: boolean, show: (value: unknown) => string): string[] {
  const problems: string[] = [];
  // GSSAPI asks for the ticket of hive/<serviceHost>@REALM: Hive's _HOST is the server's name.
  if (kerberos.serviceHost === undefined && parseIpv4(hive.host) !== undefined) {
    problems.push(
      `hadoop.hive.kerberos.serviceHost: got nothing; expected the host name in HiveServer2's principal (${kerberos.service}/<host>@REALM), since hadoop.hive.host ${show(hive.host)} is an IP address`,
    );
  }
  if (kerberos.kinit === 'apt' && !allowInternetEgress) {
    problems.push(
      'hadoop.hive.kerberos.kinit: got "apt"; expected "image" with network.allowInternetEgress false: kinit (Ubuntu package krb5-user) would come from Ubuntu\'s archive, which the VM cannot reach without Internet egress; use a vm.image that carries krb5-user and set kinit to "image", or allow egress',
    );
  }
  const kdcRanges = kerberos.kdcCidrs.map((text) => parseCidr(text) as Ipv4Range);
  for (const kdc of kdcEntries(kerberos.krb5Conf)) {
    const match = /^(?:(?:tcp|udp)\/)?([^\s:/[\]]+)(?::(\d+))?$/.exec(kdc);
    if (!match) {
      problems.push(`hadoop.hive.kerberos.krb5Conf: names the KDC ${show(kdc)}; expected host or host:88 (the NSG opens port 88 to hadoop.hive.kerberos.kdcCidrs, nothing else)`);
      continue;
    }
    const [, host = '', port] = match;
    if (port !== undefined && port !== '88') {
      problems.push(`hadoop.hive.kerberos.krb5Conf: names the KDC ${show(kdc)}; expected port 88 (the NSG opens port 88 to hadoop.hive.kerberos.kdcCidrs, nothing else)`);
    }
    const address = parseIpv4(host) === undefined ? undefined : (parseCidr(`${host}/32`) as Ipv4Range);
    if (address !== undefined && !kdcRanges.some((range) => contains(range, address))) {
      problems.push(`hadoop.hive.kerberos.krb5Conf: names the KDC ${show(kdc)}; expected an address inside hadoop.hive.kerberos.kdcCidrs (${kerberos.kdcCidrs.join(', ')}), the only KDCs the NSG lets the connector reach`);
    }
  }
  return problems;
}

/** The values of every `kdc = …` relation, whichever realm they belong to. */
function kdcEntries(conf: string): string[] {
  return [...conf.matchAll(/^\s*kdc\s*=\s*(\S+)\s*$/gm)].map((match) => match[1] ?? '');
}
