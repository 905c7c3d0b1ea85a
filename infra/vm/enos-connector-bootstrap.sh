#!/usr/bin/env bash
# enos-connector-bootstrap: everything the connector VM does to itself.
#
#   prepare        cloud-init, first boot: the service user, directories, Caddy for ACME TLS, and
#                  the few tools the script uses if the image lacks them (Ubuntu images have them);
#                  again from deploy, which also asks for kinit when Hive uses Kerberos.
#   deploy         the CustomScript extension, on every deploy whose bundle hash or settings
#                  changed: writes the settings (and krb5.conf for Kerberos), installs the bundle
#                  from the artifacts container (managed identity) after checking that its Node.js
#                  runtime runs here and loads its native modules, writes the systemd unit,
#                  restarts the service.
#
# The bundle carries everything the connector runs on (its Node.js runtime and better-sqlite3 and
# kerberos built for it, linux-x64 glibc), so a VM needs nothing from the Internet for the
# connector: with network.allowInternetEgress false it installs from the artifacts account alone.
# Kerberos alone needs kinit (krb5-user) from Ubuntu's archive, or an image that carries it.
#   fetch-secrets  systemd ExecStartPre, as root: reads the connector's secrets from Key Vault
#                  (managed identity) into /run (tmpfs), readable by root only, and the Hive CA
#                  bundle into a file there. Secrets never touch the disk, the custom data or a
#                  command line.
#
# ENOS_BOOTSTRAP_ROOT prefixes every path written, so tests run it against a scratch root.
set -euo pipefail
umask 077

ROOT="${ENOS_BOOTSTRAP_ROOT:-}"
IMDS_TOKEN_URL='http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01'
SERVICE_USER=enos-connector
ETC_DIR="$ROOT/etc/enos-connector"
APP_DIR="$ROOT/opt/enos-connector"
STATE_DIR="$ROOT/var/lib/enos-connector"
RUN_DIR="$ROOT/run/enos-connector"
UNIT_FILE="$ROOT/etc/systemd/system/enos-connector.service"
CADDY_FILE="$ROOT/etc/caddy/Caddyfile"
RELEASES_KEPT=3
# How long a 401/403 from Storage or Key Vault is waited out: the stack grants the identity its
# roles just before the VMs deploy, and a new role assignment can take minutes to apply.
AUTH_ATTEMPTS="${ENOS_BOOTSTRAP_AUTH_ATTEMPTS:-20}"
AUTH_RETRY_SECONDS="${ENOS_BOOTSTRAP_AUTH_RETRY_SECONDS:-30}"
# How long apt waits for the dpkg lock: on first boot unattended-upgrades usually holds it.
APT_LOCK_TIMEOUT_SECONDS=600

log() { printf 'enos-connector-bootstrap: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- settings ---------------------------------------------------------------------------------

declare -A SETTINGS=()

# Reads KEY=value lines (no quoting, no expansion: the file is data, never sourced).
load_settings() {
  local file="$1" key value
  [[ -r "$file" ]] || die "settings file $file is missing; expected it to be written by 'deploy'"
  while IFS='=' read -r key value || [[ -n "$key" ]]; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    [[ "$key" =~ ^[A-Z][A-Z0-9_]*$ ]] || die "settings file $file: got key '$key'; expected UPPER_SNAKE_CASE"
    SETTINGS["$key"]="$value"
  done <"$file"
}

setting() {
  local key="$1"
  [[ -n "${SETTINGS[$key]:-}" ]] || die "setting $key is empty; expected it in $ETC_DIR/bootstrap.env"
  printf '%s' "${SETTINGS[$key]}"
}

optional_setting() { printf '%s' "${SETTINGS[$1]:-}"; }

# --- helpers ----------------------------------------------------------------------------------

# A bearer token for the VM's managed identity (the user-assigned one named by IDENTITY_CLIENT_ID
# on a scale set). The token stays in a variable: it is handed to curl through a file descriptor,
# never as an argument (arguments are world-readable in /proc).
identity_token() {
  local resource="$1" client_id
  client_id="$(optional_setting IDENTITY_CLIENT_ID)"
  curl -fsS --retry 5 --retry-connrefused --max-time 30 -H @<(printf 'Metadata: true\n') \
    "$IMDS_TOKEN_URL${client_id:+&client_id=$client_id}&resource=$resource" | json_field access_token
}

json_field() {
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]], end="")' "$1"
}

# GETs `url` into the file `out` with the bearer token. A 401/403 is retried for a while (see
# AUTH_ATTEMPTS); any other failure ends the call at once.
authorized_get() {
  local token="$1" url="$2" out="$3" attempt=1 status
  while :; do
    status="$(curl -sS --retry 5 --retry-connrefused --max-time 300 -o "$out" -w '%{http_code}' \
      -H @<(printf 'Authorization: Bearer %s\nx-ms-version: 2023-11-03\n' "$token") "$url")" || return 1
    case "$status" in
      2??) return 0 ;;
      401 | 403)
        if ((attempt >= AUTH_ATTEMPTS)); then
          log "GET ${url%%\?*} still answers HTTP $status after $attempt tries; expected the managed identity's role assignment to be in force"
          return 1
        fi
        log "GET ${url%%\?*} answered HTTP $status (a new role assignment may not be in force yet); retrying in ${AUTH_RETRY_SECONDS}s ($attempt of $AUTH_ATTEMPTS)"
        sleep "$AUTH_RETRY_SECONDS"
        attempt=$((attempt + 1))
        ;;
      *)
        log "GET ${url%%\?*} answered HTTP $status"
        return 1
        ;;
    esac
  done
}

set_owner() { chown "$@"; }

# --- prepare ----------------------------------------------------------------------------------

# Commands this script needs, and the Ubuntu package of each: installed only when the image
# lacks them (Ubuntu's cloud images have all of them), so a VM without Internet access never
# calls apt. Caddy (ACME TLS) and kinit (krb5-user, Hive with Kerberos) are the packages an image
# normally lacks; the config refuses ACME without egress, and Kerberos without egress unless the
# image carries kinit (hadoop.hive.kerberos.kinit "image").
declare -A PACKAGE_OF=([curl]=curl [python3]=python3 [sha256sum]=coreutils [base64]=coreutils [openssl]=openssl)

install_packages() {
  local tls_mode="$1" kerberos_client="$2" command packages=()
  for command in "${!PACKAGE_OF[@]}"; do
    command -v "$command" >/dev/null 2>&1 || packages+=("${PACKAGE_OF[$command]}")
  done
  [[ "$tls_mode" == acme ]] && ! command -v caddy >/dev/null 2>&1 && packages+=(caddy)
  if [[ "$kerberos_client" != none ]] && ! command -v kinit >/dev/null 2>&1; then
    # The connector runs kinit to fill its ticket cache; krb5-user also brings the MIT libraries
    # (libgssapi-krb5-2, libkrb5-3) the bundle's kerberos module opens.
    [[ "$kerberos_client" == apt ]] ||
      die "kinit is not on this image; expected an image that carries MIT Kerberos' krb5-user (hadoop.hive.kerberos.kinit \"image\"), or kinit \"apt\" with Internet egress"
    packages+=(krb5-user)
  fi
  if ((${#packages[@]} == 0)); then
    log 'the image has every package this script needs; apt is not used'
    return 0
  fi
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  log "installing ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT_SECONDS" update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT_SECONDS" install -y -q --no-install-recommends "${packages[@]}"
  if [[ "$kerberos_client" != none ]] && ! command -v kinit >/dev/null 2>&1; then
    die 'apt installed krb5-user but kinit is not on PATH; expected /usr/bin/kinit'
  fi
}

ensure_user() {
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /var/lib/enos-connector --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
}

prepare() {
  local tls_mode="" kerberos_client=none
  while (($# > 0)); do
    case "$1" in
      --tls-mode) tls_mode="${2:-}" && shift 2 ;;
      --kerberos-client) kerberos_client="${2:-}" && shift 2 ;;
      *) die "prepare: unknown argument '$1'; expected --tls-mode acme|keyvault [--kerberos-client none|apt|image]" ;;
    esac
  done
  [[ "$tls_mode" == acme || "$tls_mode" == keyvault ]] || die "prepare: --tls-mode '$tls_mode'; expected acme or keyvault"
  [[ "$kerberos_client" =~ ^(none|apt|image)$ ]] || die "prepare: --kerberos-client '$kerberos_client'; expected none, apt or image"
  install_packages "$tls_mode" "$kerberos_client"
  ensure_user
  mkdir -p "$ETC_DIR" "$APP_DIR/releases" "$STATE_DIR"
  chmod 0755 "$ETC_DIR" "$APP_DIR" "$APP_DIR/releases"
  chmod 0700 "$STATE_DIR"
  set_owner "$SERVICE_USER:$SERVICE_USER" "$STATE_DIR"
  log "prepared (TLS $tls_mode)"
}

# --- deploy -----------------------------------------------------------------------------------

write_settings() {
  local bootstrap_b64="$1" connector_b64="$2"
  mkdir -p "$ETC_DIR"
  chmod 0755 "$ETC_DIR"
  # Non-secret settings only (the stack's tests prove it): world-readable is fine, root-writable.
  printf '%s' "$bootstrap_b64" | base64 -d >"$ETC_DIR/bootstrap.env.tmp"
  printf '%s' "$connector_b64" | base64 -d >"$ETC_DIR/connector.env.tmp"
  chmod 0644 "$ETC_DIR/bootstrap.env.tmp" "$ETC_DIR/connector.env.tmp"
  mv -f "$ETC_DIR/bootstrap.env.tmp" "$ETC_DIR/bootstrap.env"
  mv -f "$ETC_DIR/connector.env.tmp" "$ETC_DIR/connector.env"
}

install_bundle() {
  local url="$1" sha="$2" kerberos="$3" release work token
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "bundle hash '$sha'; expected 64 lowercase hex digits"
  release="$APP_DIR/releases/$sha"
  if [[ ! -f "$release/server.js" ]]; then
    log "installing connector bundle $sha"
    work="$(mktemp -d)"
    token="$(identity_token 'https%3A%2F%2Fstorage.azure.com%2F')"
    authorized_get "$token" "$url" "$work/connector.zip" || die "could not download the connector bundle from $url"
    printf '%s  %s\n' "$sha" "$work/connector.zip" | sha256sum -c --status - ||
      die "bundle from $url does not match the expected SHA-256 $sha"
    rm -rf "$release.tmp"
    mkdir -p "$release.tmp"
    python3 -m zipfile -e "$work/connector.zip" "$release.tmp"
    # The bundle is connector/… inside the zip; accept it at the top level too.
    if [[ -f "$release.tmp/connector/server.js" ]]; then
      mv "$release.tmp/connector" "$release.tmp.inner"
      rm -rf "$release.tmp"
      mv "$release.tmp.inner" "$release.tmp"
    fi
    [[ -f "$release.tmp/server.js" ]] || die "bundle $sha has no server.js; expected the dist/connector layout"
    # Code is root-owned and read-only for the service.
    chmod -R a+rX,go-w "$release.tmp"
    if ! check_runtime "$release.tmp" "$kerberos"; then
      rm -rf "$release.tmp" "$work"
      die "bundle $sha cannot run on this VM; the current release stays"
    fi
    mv -T "$release.tmp" "$release"
    rm -rf "$work"
  elif [[ "$kerberos" == true ]] && ! check_runtime "$release" "$kerberos"; then
    # Installed before Kerberos was configured: it must load kerberos here too before it serves.
    die "bundle $sha cannot run on this VM with Kerberos; the current release stays"
  fi
  ln -sfn "$release" "$APP_DIR/current.tmp"
  mv -Tf "$APP_DIR/current.tmp" "$APP_DIR/current"
  prune_releases "$sha"
}

# The bundle's own Node.js runtime must run on this machine and load the native modules built for
# it (runtime/self-test.cjs, written by scripts/build-native.ts) before the release can become
# current; with Kerberos it must also load kerberos, which opens this machine's MIT GSSAPI
# libraries. Zip archives do not keep file modes, hence the chmod.
check_runtime() {
  local dir="$1" kerberos="$2" output args=(runtime/self-test.cjs)
  [[ "$kerberos" == true ]] && args+=(--kerberos)
  if [[ ! -f "$dir/runtime/bin/node" || ! -f "$dir/runtime/self-test.cjs" ]]; then
    log "the bundle has no runtime/bin/node and runtime/self-test.cjs; expected a bundle from npm run build, which carries its Node.js runtime"
    return 1
  fi
  chmod 0755 "$dir/runtime/bin/node"
  if ! output="$(cd "$dir" && ./runtime/bin/node "${args[@]}" 2>&1)"; then
    log "the bundle's runtime failed its self-test on $(uname -m): $output"
    return 1
  fi
  log "bundle runtime: $output"
}

prune_releases() {
  local keep="$1" old
  # Newest first; the current release always survives.
  while IFS= read -r old; do
    [[ "$(basename "$old")" == "$keep" ]] && continue
    rm -rf "$old"
  done < <(find "$APP_DIR/releases" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2- | tail -n +"$((RELEASES_KEPT + 1))")
}

write_unit() {
  local tls_mode="$1" capabilities=''
  # Only the keyvault mode binds 443 itself; behind Caddy the service needs no capability at all.
  [[ "$tls_mode" == keyvault ]] && capabilities='CAP_NET_BIND_SERVICE'
  mkdir -p "$(dirname "$UNIT_FILE")"
  cat >"$UNIT_FILE.tmp" <<EOF
[Unit]
Description=EnOS AML connector
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=600
StartLimitBurst=20

[Service]
Type=simple
User=$SERVICE_USER
Group=$SERVICE_USER
WorkingDirectory=/opt/enos-connector/current
EnvironmentFile=/etc/enos-connector/connector.env
# Written by ExecStartPre into the tmpfs runtime directory, root-only; gone when the service stops.
EnvironmentFile=-/run/enos-connector/secrets.env
RuntimeDirectory=enos-connector
RuntimeDirectoryMode=0700
StateDirectory=enos-connector
StateDirectoryMode=0700
ExecStartPre=+/usr/local/sbin/enos-connector-bootstrap fetch-secrets
# fetch-secrets waits out a Key Vault role assignment that is not in force yet (up to ~10 minutes).
TimeoutStartSec=15min
# Buffers of 128 KiB and more get their own mapping, returned to the kernel when freed. Without
# it glibc's threshold climbs to the size of the replies and upload blocks an export frees, and
# their memory stays in the heap: idle RSS 110 MB instead of 96-98, and a higher export peak
# (scripts/bench/export.ts sets the same; scripts/README.md, "Benchmarks").
Environment=MALLOC_MMAP_THRESHOLD_=131072
ExecStart=/opt/enos-connector/current/runtime/bin/node /opt/enos-connector/current/server.js
Restart=on-failure
RestartSec=5
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
CapabilityBoundingSet=$capabilities
AmbientCapabilities=$capabilities

[Install]
WantedBy=multi-user.target
EOF
  chmod 0644 "$UNIT_FILE.tmp"
  mv -f "$UNIT_FILE.tmp" "$UNIT_FILE"
}

write_caddyfile() {
  local domain="$1" email="$2" port="$3" global=''
  [[ -n "$email" ]] && global="	email $email"
  mkdir -p "$(dirname "$CADDY_FILE")"
  cat >"$CADDY_FILE.tmp" <<EOF
{
$global
	auto_https disable_redirects
}

$domain {
	tls {
		issuer acme {
			# Port 80 stays closed: the CA validates over 443 (TLS-ALPN-01).
			disable_http_challenge
		}
	}
	reverse_proxy 127.0.0.1:$port
}
EOF
  chmod 0644 "$CADDY_FILE.tmp"
  mv -f "$CADDY_FILE.tmp" "$CADDY_FILE"
}

# The connector's krb5.conf (HIVE_KRB5_CONF), from the deploy config; not a secret, so on disk.
# Without Kerberos a krb5.conf left by an earlier deploy is removed.
write_krb5_conf() {
  local conf_b64="$1" file="$ETC_DIR/krb5.conf"
  if [[ -z "$conf_b64" ]]; then
    rm -f "$file"
    return 0
  fi
  printf '%s' "$conf_b64" | base64 -d >"$file.tmp" || die 'setting KRB5_CONF_B64 is not base64; expected the krb5.conf the stack encoded'
  chmod 0644 "$file.tmp"
  mv -f "$file.tmp" "$file"
}

deploy() {
  local bootstrap_b64="" connector_b64="" tls_mode bundle_url bundle_sha kerberos_client kerberos=false
  while (($# > 0)); do
    case "$1" in
      --bootstrap-env-b64) bootstrap_b64="${2:-}" && shift 2 ;;
      --connector-env-b64) connector_b64="${2:-}" && shift 2 ;;
      *) die "deploy: unknown argument '$1'; expected --bootstrap-env-b64 B64 --connector-env-b64 B64" ;;
    esac
  done
  [[ -n "$bootstrap_b64" && -n "$connector_b64" ]] || die 'deploy: expected --bootstrap-env-b64 and --connector-env-b64'
  write_settings "$bootstrap_b64" "$connector_b64"
  load_settings "$ETC_DIR/bootstrap.env"
  # Plain assignments, so a missing setting stops the script (set -e ignores failures inside arguments).
  tls_mode="$(setting TLS_MODE)"
  bundle_url="$(setting BUNDLE_URL)"
  bundle_sha="$(setting BUNDLE_SHA256)"
  kerberos_client="$(optional_setting KERBEROS_CLIENT)"
  kerberos_client="${kerberos_client:-none}"
  [[ "$kerberos_client" != none ]] && kerberos=true
  # Idempotent: no apt call when cloud-init already prepared the machine (and kinit is there).
  prepare --tls-mode "$tls_mode" --kerberos-client "$kerberos_client"
  write_krb5_conf "$(optional_setting KRB5_CONF_B64)"
  install_bundle "$bundle_url" "$bundle_sha" "$kerberos"
  write_unit "$tls_mode"
  if [[ "$tls_mode" == acme ]]; then
    local domain port
    domain="$(setting ACME_DOMAIN)"
    port="$(setting CONNECTOR_PORT)"
    write_caddyfile "$domain" "$(optional_setting ACME_EMAIL)" "$port"
    systemctl enable caddy
    systemctl restart caddy
  fi
  systemctl daemon-reload
  systemctl enable enos-connector.service
  systemctl restart enos-connector.service
  log "deployed bundle $bundle_sha"
}

# --- fetch-secrets ----------------------------------------------------------------------------

# systemd EnvironmentFile syntax: double quotes, with backslash and quote escaped.
env_line() {
  local name="$1" value="$2"
  value="${value//\\/\\\\}"
  value="${value//\"/\\\"}"
  printf '%s="%s"\n' "$name" "$value"
}

# The response lands in the tmpfs runtime directory, root-only, and is removed at once.
fetch_secret() {
  local token="$1" vault="$2" name="$3" response="$RUN_DIR/secret-response.tmp" status=0
  authorized_get "$token" "$vault/secrets/$name?api-version=7.4" "$response" || status=$?
  ((status == 0)) && { json_field value <"$response" || status=$?; }
  rm -f "$response"
  return "$status"
}

fetch_secrets() {
  local vault token secret_map pair env_name secret_name value tls_secret ca_secret
  load_settings "$ETC_DIR/bootstrap.env"
  vault="$(setting KEY_VAULT_URL)"
  secret_map="$(setting SECRET_MAP)"
  vault="${vault%/}"
  token="$(identity_token 'https%3A%2F%2Fvault.azure.net')"
  mkdir -p "$RUN_DIR"
  chmod 0700 "$RUN_DIR"
  # A failed fetch leaves no half-written secrets behind.
  trap 'rm -f "$RUN_DIR/secrets.env.tmp" "$RUN_DIR/secret-response.tmp" "$RUN_DIR/hive/ca.pem.tmp"' EXIT
  : >"$RUN_DIR/secrets.env.tmp"
  chmod 0600 "$RUN_DIR/secrets.env.tmp"
  for pair in $secret_map; do
    env_name="${pair%%=*}"
    secret_name="${pair#*=}"
    value="$(fetch_secret "$token" "$vault" "$secret_name")" || die "could not read secret '$secret_name' from $vault"
    [[ "$value" != *$'\n'* ]] || die "secret '$secret_name' spans several lines; expected a single line"
    env_line "$env_name" "$value" >>"$RUN_DIR/secrets.env.tmp"
  done
  mv -f "$RUN_DIR/secrets.env.tmp" "$RUN_DIR/secrets.env"

  tls_secret="$(optional_setting TLS_SECRET_NAME)"
  if [[ -n "$tls_secret" ]]; then
    value="$(fetch_secret "$token" "$vault" "$tls_secret")" || die "could not read TLS secret '$tls_secret' from $vault"
    mkdir -p "$RUN_DIR/tls"
    chmod 0700 "$RUN_DIR/tls"
    write_tls_files "$tls_secret" "$value"
    # The service reads its own key; nobody else can.
    chmod 0500 "$RUN_DIR/tls"
    chmod 0400 "$RUN_DIR/tls/key.pem" "$RUN_DIR/tls/cert.pem"
    set_owner -R "$SERVICE_USER:$SERVICE_USER" "$RUN_DIR/tls"
  fi

  ca_secret="$(optional_setting HIVE_TLS_CA_SECRET_NAME)"
  if [[ -n "$ca_secret" ]]; then
    value="$(fetch_secret "$token" "$vault" "$ca_secret")" || die "could not read the Hive CA secret '$ca_secret' from $vault"
    write_hive_ca "$ca_secret" "$value" "$(setting HIVE_TLS_CA_SHA256)"
  fi
  log "secrets loaded from $vault"
}

# HiveServer2's CA bundle (HIVE_TLS_CA_FILE): public certificates, so root-owned and world-readable
# in a directory of its own, which the service reads and cannot change. It must be the bundle the
# deploy config carries (the stack passes its SHA-256), not whatever the secret holds by now.
write_hive_ca() {
  local name="$1" value="$2" expected="$3" actual
  [[ "$value" == *"-----BEGIN CERTIFICATE-----"* && "$value" != *"PRIVATE KEY"* ]] ||
    die "Hive CA secret '$name' is not a PEM certificate bundle; expected the certificates of hadoop.hive.tls.caPem"
  actual="$(printf '%s' "$value" | sha256sum | cut -d' ' -f1)"
  [[ "$actual" == "$expected" ]] ||
    die "Hive CA secret '$name' has SHA-256 $actual; expected $expected, the bundle in the deploy config (deploy again to write it)"
  mkdir -p "$RUN_DIR/hive"
  chmod 0755 "$RUN_DIR/hive"
  printf '%s\n' "$value" >"$RUN_DIR/hive/ca.pem.tmp"
  chmod 0644 "$RUN_DIR/hive/ca.pem.tmp"
  mv -f "$RUN_DIR/hive/ca.pem.tmp" "$RUN_DIR/hive/ca.pem"
}

# The API's key and chain, from the PEM the stack wrote (tls_certificate_pem) or from a Key Vault
# certificate's secret, which is PEM or base64 PKCS#12 (with an empty password) by the
# certificate's content type. The connector loads an unencrypted key only: an encrypted one
# (PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy PEM with Proc-Type 4,ENCRYPTED) is refused here,
# where the message can say why, rather than in a crash loop of the service. The key travels
# through pipes only, never a command line.
write_tls_files() {
  local name="$1" value="$2" pem
  if [[ "$value" == *"-----BEGIN"* ]]; then
    pem="$value"
  elif ! pem="$(printf '%s' "$value" | base64 -d 2>/dev/null | openssl pkcs12 -nodes -passin pass: 2>/dev/null)"; then
    die "TLS secret '$name' is neither PEM nor a PKCS#12 certificate without a password; expected a PEM private key and certificate chain"
  fi
  if grep -q -e '-----BEGIN ENCRYPTED PRIVATE KEY-----' -e '^Proc-Type: 4,ENCRYPTED' <<<"$pem"; then
    die "TLS secret '$name' holds an encrypted private key; expected an unencrypted one (the connector takes no passphrase; decrypt it with openssl pkey)"
  fi
  printf '%s\n' "$pem" | awk '/^-----BEGIN (RSA |EC )?PRIVATE KEY-----$/{k=1} k{print} /^-----END (RSA |EC )?PRIVATE KEY-----$/{k=0}' >"$RUN_DIR/tls/key.pem"
  printf '%s\n' "$pem" | awk '/^-----BEGIN CERTIFICATE-----$/{c=1} c{print} /^-----END CERTIFICATE-----$/{c=0}' >"$RUN_DIR/tls/cert.pem"
  [[ -s "$RUN_DIR/tls/key.pem" && -s "$RUN_DIR/tls/cert.pem" ]] ||
    die "TLS secret '$name' must hold a PEM private key and certificate chain"
}

# --- main -------------------------------------------------------------------------------------

main() {
  local command="${1:-}"
  (($# > 0)) && shift
  case "$command" in
    prepare) prepare "$@" ;;
    deploy) deploy "$@" ;;
    fetch-secrets) fetch_secrets "$@" ;;
    *) die "unknown command '$command'; expected prepare, deploy or fetch-secrets" ;;
  esac
}

main "$@"
