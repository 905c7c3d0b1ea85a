/*
 * The HiveServer2 stand-in's GSSAPI acceptor: MIT GSSAPI on the server side, driven by
 * gss-acceptor.ts over stdin/stdout, one request per line, `<request> <context> <op> <argument>`:
 *
 *   <r> <c> accept <base64 token>   -> <r> ok <0|1 complete> <base64 output|-> <base64 client principal|->
 *   <r> <c> wrap <base64 data>      -> <r> ok <base64 token>      (integrity only, no confidentiality)
 *   <r> <c> unwrap <base64 token>   -> <r> ok <base64 data>
 *   <r> <c> free -                  -> <r> ok
 *   any failure                     -> <r> err <message>
 *
 * Why a helper and not the `kerberos` npm package's KerberosServer: that class only steps
 * gss_accept_sec_context; the SASL GSSAPI mechanism (RFC 4752, Java's GssKrb5Server that
 * HiveServer2 runs) needs gss_wrap/gss_unwrap on the accepted context for its security-layer
 * step. Contexts live here, keyed by <id>. The service principal is argv[1]; the keytab comes
 * from KRB5_KTNAME and the realm settings from KRB5_CONFIG, both set by the parent.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTEXTS 1024
#define MAX_LINE (1 << 20)

static gss_cred_id_t creds = GSS_C_NO_CREDENTIAL;
static struct { long id; gss_ctx_id_t ctx; } contexts[MAX_CONTEXTS];

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(const unsigned char *data, size_t len) {
  if (len == 0) { fputc('-', stdout); return; }
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = data[i] << 16 | (i + 1 < len ? data[i + 1] << 8 : 0) | (i + 2 < len ? data[i + 2] : 0);
    fputc(B64[v >> 18 & 63], stdout);
    fputc(B64[v >> 12 & 63], stdout);
    fputc(i + 1 < len ? B64[v >> 6 & 63] : '=', stdout);
    fputc(i + 2 < len ? B64[v & 63] : '=', stdout);
  }
}

static size_t from_base64(const char *text, unsigned char *out) {
  size_t n = 0;
  unsigned v = 0;
  int bits = 0;
  if (strcmp(text, "-") == 0) return 0;
  for (const char *p = text; *p && *p != '='; p++) {
    const char *at = strchr(B64, *p);
    if (!at) continue;
    v = v << 6 | (unsigned)(at - B64);
    bits += 6;
    if (bits >= 8) { bits -= 8; out[n++] = (unsigned char)(v >> bits & 0xff); }
  }
  return n;
}

static void reply_error(long id, const char *what, OM_uint32 major, OM_uint32 minor) {
  printf("%ld err %s:", id, what);
  OM_uint32 ctx = 0, ignored;
  gss_buffer_desc text;
  int kinds[2] = { GSS_C_GSS_CODE, GSS_C_MECH_CODE };
  OM_uint32 codes[2] = { major, minor };
  for (int k = 0; k < 2; k++) {
    if (k == 1 && minor == 0) break;
    ctx = 0;
    do {
      gss_display_status(&ignored, codes[k], kinds[k], GSS_C_NO_OID, &ctx, &text);
      printf(" %.*s", (int)text.length, (char *)text.value);
      gss_release_buffer(&ignored, &text);
    } while (ctx != 0);
  }
  printf("\n");
}

static gss_ctx_id_t *slot(long id, int create) {
  for (int i = 0; i < MAX_CONTEXTS; i++) if (contexts[i].id == id) return &contexts[i].ctx;
  if (!create) return NULL;
  for (int i = 0; i < MAX_CONTEXTS; i++) {
    if (contexts[i].id == 0) { contexts[i].id = id; contexts[i].ctx = GSS_C_NO_CONTEXT; return &contexts[i].ctx; }
  }
  return NULL;
}

static void release(long id) {
  OM_uint32 minor;
  for (int i = 0; i < MAX_CONTEXTS; i++) {
    if (contexts[i].id == id) {
      if (contexts[i].ctx != GSS_C_NO_CONTEXT) gss_delete_sec_context(&minor, &contexts[i].ctx, GSS_C_NO_BUFFER);
      contexts[i].id = 0;
    }
  }
}

int main(int argc, char **argv) {
  OM_uint32 major, minor;
  if (argc != 2) { fprintf(stderr, "usage: gss-acceptor <service principal>\n"); return 2; }
  gss_buffer_desc name_text = { strlen(argv[1]), argv[1] };
  gss_name_t name;
  major = gss_import_name(&minor, &name_text, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
  if (!GSS_ERROR(major)) major = gss_acquire_cred(&minor, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT, &creds, NULL, NULL);
  if (GSS_ERROR(major)) {
    reply_error(0, "acquiring acceptor credentials", major, minor);
    fflush(stdout);
    return 1;
  }
  printf("0 ready\n");
  fflush(stdout);

  char *line = malloc(MAX_LINE);
  unsigned char *input = malloc(MAX_LINE);
  char op[16], arg[MAX_LINE / 2];
  while (fgets(line, MAX_LINE, stdin)) {
    long request, id;
    if (sscanf(line, "%ld %ld %15s %524287s", &request, &id, op, arg) != 4 || request <= 0 || id <= 0) { printf("0 err malformed request\n"); fflush(stdout); continue; }
    gss_buffer_desc in = { from_base64(arg, input), input }, out = GSS_C_EMPTY_BUFFER;
    if (strcmp(op, "free") == 0) {
      release(id);
      printf("%ld ok\n", request);
    } else if (strcmp(op, "accept") == 0) {
      gss_ctx_id_t *ctx = slot(id, 1);
      gss_name_t client = GSS_C_NO_NAME;
      if (!ctx) { printf("%ld err too many contexts\n", request); fflush(stdout); continue; }
      major = gss_accept_sec_context(&minor, ctx, creds, &in, GSS_C_NO_CHANNEL_BINDINGS, &client, NULL, &out, NULL, NULL, NULL);
      if (GSS_ERROR(major)) {
        reply_error(request, "accept", major, minor);
        release(id);
      } else {
        int complete = major == GSS_S_COMPLETE;
        printf("%ld ok %d ", request, complete);
        put_base64(out.value, out.length);
        fputc(' ', stdout);
        if (complete) {
          gss_buffer_desc display;
          gss_display_name(&minor, client, &display, NULL);
          put_base64(display.value, display.length);
          gss_release_buffer(&minor, &display);
        } else fputc('-', stdout);
        fputc('\n', stdout);
      }
      if (client != GSS_C_NO_NAME) gss_release_name(&minor, &client);
      gss_release_buffer(&minor, &out);
    } else if (strcmp(op, "wrap") == 0 || strcmp(op, "unwrap") == 0) {
      gss_ctx_id_t *ctx = slot(id, 0);
      if (!ctx || *ctx == GSS_C_NO_CONTEXT) { printf("%ld err no established context\n", request); fflush(stdout); continue; }
      major = op[0] == 'w' ? gss_wrap(&minor, *ctx, 0, GSS_C_QOP_DEFAULT, &in, NULL, &out) : gss_unwrap(&minor, *ctx, &in, &out, NULL, NULL);
      if (GSS_ERROR(major)) reply_error(request, op, major, minor);
      else {
        printf("%ld ok ", request);
        put_base64(out.value, out.length);
        fputc('\n', stdout);
      }
      gss_release_buffer(&minor, &out);
    } else {
      printf("%ld err unknown operation %s\n", request, op);
    }
    fflush(stdout);
  }
  return 0;
}
