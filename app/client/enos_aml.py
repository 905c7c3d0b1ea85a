"""enos_aml: EnOS Hive data into pandas, through the enos-aml-connector API.

One file, Python 3.8+, the standard library and pandas (pyarrow too for Parquet). Get it from
the connector itself, at <connector>/client/enos_aml.py, and put it beside your notebook.

    from enos_aml import Client, EnosAmlError

    client = Client("https://connector.example.com", token="enosaml_pat_...")
    sample = client.preview("SELECT * FROM enos.measurement", rows=20)
    df = client.export("SELECT * FROM enos.measurement WHERE ts >= '2024-01-01'", format="csv")

The token is a personal access token (create one on the connector's page, "Access tokens") or
a session token from POST /api/v1/sessions. It is sent to the connector only: download URLs
carry their own time-limited grant and are fetched without it.

Every column comes back typed from its Hive type, as the connector's pandas snippet reads it:
TINYINT/SMALLINT/INT/BIGINT as nullable Int8/Int16/Int32/Int64 (exact beyond 2**53), BOOLEAN as
"boolean", FLOAT/DOUBLE as float32/float64, DECIMAL as decimal.Decimal, DATE/TIMESTAMP as
datetime64 (a date outside pandas' range keeps its text on pandas 1), STRING/VARCHAR/CHAR as
"string" with NULL (<NA>) apart from "", BINARY as bytes; complex types, intervals and
local-time-zone timestamps as Hive's text.

Errors are EnosAmlError with .code and .message from the API (e.g. "sql_rejected",
"table_forbidden", or a failed export's own code such as "hive_error"), .status (the HTTP status,
None when the export itself failed) and .details (e.g. {"position": {"line": 1, "column": 8}}).
Waiting honours Retry-After on 429 and 503 and polls with exponential backoff.
"""

import base64
import email.utils
import gzip
import hashlib
import io
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from decimal import Decimal

import pandas as pd

__all__ = ["Client", "EnosAmlError"]
__version__ = "1.0.0"

_FINAL = ("succeeded", "failed", "cancelled", "expired")
_USER_AGENT = "enos-aml-python/" + __version__


class EnosAmlError(Exception):
    """The connector refused or failed a request, or this client could not complete it."""

    def __init__(self, code, message, status=None, details=None):
        super().__init__("%s: %s%s" % (code, message, " (HTTP %d)" % status if status else ""))
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """API calls carry the token: never follow a redirect that could take it elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """The connector's API: previews, exports and their files, as pandas DataFrames."""

    def __init__(self, base_url, token, request_timeout=60.0, poll_interval=1.0,
                 max_poll_interval=15.0):
        if not re.match(r"^https?://", base_url or ""):
            raise ValueError("base_url must start with https:// (http:// on a local machine), "
                             "got %r" % (base_url,))
        if not token:
            raise ValueError("token is required: an access token (enosaml_pat_...) "
                             "or a session token")
        self.base_url = base_url.rstrip("/")
        self.request_timeout = request_timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self._token = token
        self._api = urllib.request.build_opener(_NoRedirect)

    def __repr__(self):
        return "Client(%r)" % (self.base_url,)

    # ---- the API --------------------------------------------------------------------------

    def preview(self, sql, rows=20):
        """The first `rows` rows (at most 100) of a query, typed; no file is written."""
        answer = self._call("POST", "/api/v1/previews", {"sql": sql, "rows": rows})
        schema = answer["schema"]
        columns = [list(row) for row in zip(*answer["rows"])] or [[] for _ in schema]
        df = pd.DataFrame({column["name"]: _from_json(values, column["type"])
                           for column, values in zip(schema, columns)})
        df.attrs["truncated"] = bool(answer.get("truncated"))
        return df

    def submit(self, sql, format="parquet", ttl_minutes=None, timeout=600.0):
        """Starts an export and returns its job (a dict). A full queue (429) is waited out
        within `timeout` seconds; the same Idempotency-Key makes the retries one export."""
        body = {"sql": sql, "format": format}
        if ttl_minutes is not None:
            body["ttlMinutes"] = ttl_minutes
        key = str(uuid.uuid4())
        return self._call("POST", "/api/v1/exports", body, {"Idempotency-Key": key},
                          deadline=time.monotonic() + timeout)

    def wait(self, export_id, timeout=3600.0):
        """Polls until the export ends; returns its job, or raises EnosAmlError with the
        export's own error code when it failed, was cancelled or expired."""
        deadline = time.monotonic() + timeout
        interval = self.poll_interval
        while True:
            job = self._call("GET", "/api/v1/exports/" + urllib.parse.quote(export_id),
                             deadline=deadline)
            if job["status"] in _FINAL:
                break
            if time.monotonic() + interval > deadline:
                raise EnosAmlError("timeout", "export %s is still %s after %g s"
                                   % (export_id, job["status"], timeout), details={"export": job})
            time.sleep(interval)
            interval = min(interval * 1.5, self.max_poll_interval)
        if job["status"] != "succeeded":
            error = job.get("error") or {"code": job["status"],
                                         "message": "the export was %s" % job["status"]}
            raise EnosAmlError(error["code"], error["message"], details={"export": job})
        if job.get("truncated"):
            warnings.warn("export %s reached a row or byte limit and holds only the first rows"
                          % export_id)
        return job

    def cancel(self, export_id):
        return self._call("POST", "/api/v1/exports/%s/cancel" % urllib.parse.quote(export_id))

    def export_job(self, sql, format="parquet", ttl_minutes=None, timeout=3600.0):
        """Submits and waits; the succeeded job. Past `timeout` the export is cancelled."""
        deadline = time.monotonic() + timeout
        job = self.submit(sql, format=format, ttl_minutes=ttl_minutes, timeout=timeout)
        try:
            return self.wait(job["id"], timeout=max(0.0, deadline - time.monotonic()))
        except EnosAmlError as error:
            if error.code == "timeout":
                self._cancel_quietly(job["id"])
            raise
        except KeyboardInterrupt:
            self._cancel_quietly(job["id"])
            raise

    def export_urls(self, sql, format="parquet", ttl_minutes=None, timeout=3600.0):
        """The download URLs of a finished export, one per part; they need no token."""
        return [part["url"] for part in _parts(self.export_job(sql, format, ttl_minutes, timeout))]

    def export(self, sql, format="parquet", ttl_minutes=None, timeout=3600.0):
        """Runs the query as an export and returns the result as one typed DataFrame."""
        return self.read(self.export_job(sql, format, ttl_minutes, timeout))

    def read(self, job):
        """Downloads every part of a succeeded export, each checked against its sha256, into
        one DataFrame."""
        parts = [self.download(part) for part in _parts(job)]
        schema = job.get("schema") or []
        if job["format"] == "parquet":
            df = pd.concat([_read_parquet(data) for data in parts], ignore_index=True)
        else:
            if job["format"] == "csv.gz":
                parts = [gzip.decompress(data) for data in parts]
            frames = [_read_csv(data, schema) for data in parts]
            df = _finish(pd.concat(frames, ignore_index=True), schema)
        df.attrs["export_id"] = job["id"]
        df.attrs["truncated"] = bool(job.get("truncated"))
        return df

    def download(self, part):
        """One part's bytes. The URL is its own grant: no token is sent with it."""
        request = urllib.request.Request(part["url"], headers={"User-Agent": _USER_AGENT})
        digest = hashlib.sha256()
        body = io.BytesIO()
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    body.write(chunk)
        except urllib.error.HTTPError as error:
            code, message = _error_of(error, "download_failed")
            raise EnosAmlError(code, "the download was refused: %s" % message, status=error.code)
        except (urllib.error.URLError, OSError) as error:
            raise EnosAmlError("download_failed", "the download broke off: %s" % error)
        data = body.getvalue()
        name = part.get("name") or part["url"].split("?")[0]
        if part.get("bytes") is not None and len(data) != part["bytes"]:
            raise EnosAmlError("checksum_mismatch", "%s: got %d bytes, expected %d"
                               % (name, len(data), part["bytes"]))
        if part.get("sha256") and digest.hexdigest() != part["sha256"].lower():
            raise EnosAmlError("checksum_mismatch", "%s: sha256 %s, expected %s"
                               % (name, digest.hexdigest(), part["sha256"]))
        return data

    # ---- HTTP -----------------------------------------------------------------------------

    def _call(self, method, path, body=None, headers=None, deadline=None):
        """One API call. 429 and 503 are retried after their Retry-After while `deadline`
        allows, a dropped connection up to three times; anything else raises EnosAmlError."""
        deadline = deadline if deadline is not None else time.monotonic() + self.request_timeout
        data = None if body is None else json.dumps(body).encode("utf-8")
        all_headers = {"Authorization": "Bearer " + self._token, "Accept": "application/json",
                       "User-Agent": _USER_AGENT}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        dropped = 0
        while True:
            request = urllib.request.Request(self.base_url + path, data=data,
                                             headers=all_headers, method=method)
            try:
                with self._api.open(request, timeout=self.request_timeout) as response:
                    text = response.read()
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as error:
                code, message, details = _error_of(error, "http_%d" % error.code, with_details=True)
                wait = None
                if error.code in (429, 503):
                    wait = _retry_after(error.headers.get("Retry-After"))
                if wait is None or time.monotonic() + wait > deadline:
                    raise EnosAmlError(code, message, status=error.code, details=details)
                time.sleep(wait)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                dropped += 1
                pause = 0.5 * 2 ** dropped
                if dropped > 3 or time.monotonic() + pause > deadline:
                    raise EnosAmlError("unreachable", "%s %s: %s"
                                       % (method, path, getattr(error, "reason", error)))
                time.sleep(pause)

    def _cancel_quietly(self, export_id):
        try:
            self.cancel(export_id)
        except EnosAmlError:
            pass


def _parts(job):
    """`files` (one entry a part), or the one downloadUrl of a server that lists no files."""
    if job.get("files"):
        return job["files"]
    if job.get("downloadUrl"):
        return [{"url": job["downloadUrl"]}]
    raise EnosAmlError("no_file", "export %s has no download URL (status %s)"
                       % (job.get("id"), job.get("status")))


def _error_of(error, fallback, with_details=False):
    """The API's {"error": {"code", "message", ...}} of an HTTP error, or the status line."""
    try:
        payload = json.loads(error.read().decode("utf-8"))["error"]
        code, message = str(payload["code"]), str(payload["message"])
        details = {key: value for key, value in payload.items() if key not in ("code", "message")}
    except Exception:
        code, message, details = fallback, "HTTP %d %s" % (error.code, error.reason), {}
    return (code, message, details) if with_details else (code, message)


def _retry_after(value):
    """Seconds from a Retry-After header (seconds or an HTTP date); 1 when it says nothing."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return 1.0


# ---- types ----------------------------------------------------------------------------------
# The same rules as the pandas snippet the connector generates (app/src/snippets/): see there
# for why each type is read the way it is.

_INTS = {"tinyint": "Int8", "smallint": "Int16", "int": "Int32", "integer": "Int32"}
_FLOATS = {"float": "float32", "double": "float64", "double precision": "float64"}
_KEPT_AS_TEXT = {"array", "map", "struct", "uniontype", "interval_year_month", "interval_day_time",
                 "timestamp with local time zone", "void"}
# Types whose text is never empty; any other column (STRING, VARCHAR, CHAR, BINARY, a type this
# client does not know) may hold "", which the CSV tells apart from NULL only by its quotes.
_NEVER_EMPTY = (set(_INTS) | set(_FLOATS) | _KEPT_AS_TEXT
                | {"bigint", "boolean", "decimal", "numeric", "date", "timestamp"})
_EMPTY = "\udcff"


def _base(hive_type):
    return re.sub(r"\s*[(<].*$", "", hive_type.strip().lower(), flags=re.S)


def _csv_dtype(base):
    if base in _INTS:
        return _INTS[base]
    if base in _FLOATS:
        return _FLOATS[base]
    if base == "boolean":
        return "boolean"
    if base in ("decimal", "numeric", "date", "timestamp"):
        return str
    return "string"


def _read_csv(data, schema):
    """One CSV part, read with each column's dtype; "" kept apart from NULL (an empty field)."""
    if not schema:
        return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
    bases = [_base(column["type"]) for column in schema]
    names = [column["name"] for column in schema]
    text = [name for name, base in zip(names, bases) if base not in _NEVER_EMPTY]
    # A one-column file writes NULL as "" too: nothing to tell apart there.
    mark = bool(text) and len(schema) > 1
    if mark:
        data = re.sub(rb'"[^"]*(?:""[^"]*)*"',
                      lambda m: b"\xff" if m.group(0) == b'""' else m.group(0), data)
    df = pd.read_csv(
        io.BytesIO(data),
        encoding_errors="surrogateescape",
        keep_default_na=False,
        # Hive's NaN is written NaN, which pandas reads only as a listed missing-value word.
        na_values={name: ["", "NaN"] if base in _FLOATS else [""]
                   for name, base in zip(names, bases)},
        dtype={name: _csv_dtype(base) for name, base in zip(names, bases)},
    )
    if mark:
        df[text] = df[text].replace(_EMPTY, "")
    return df


def _finish(df, schema):
    """Conversions done on the whole frame, so every part's column ends in one dtype."""
    for column in schema:
        name, base = column["name"], _base(column["type"])
        if base == "bigint":
            df[name] = df[name].astype("Int64")
        elif base in ("decimal", "numeric"):
            df[name] = df[name].map(Decimal, na_action="ignore")
        elif base == "binary":
            df[name] = df[name].map(base64.b64decode, na_action="ignore")
        elif base in ("date", "timestamp"):
            df[name] = _as_datetime(df[name])
    return df


def _from_json(values, hive_type):
    """A preview column: BIGINT, DECIMAL, NaN and Infinity come as strings, BINARY as
    base64, NULL as null."""
    base = _base(hive_type)
    if base in _INTS:
        return pd.array(values, dtype=_INTS[base])
    if base == "bigint":
        return pd.array(values, dtype="string").astype("Int64")
    if base == "boolean":
        return pd.array(values, dtype="boolean")
    if base in _FLOATS:
        return pd.Series([float("nan") if value is None else float(value) for value in values],
                         dtype=_FLOATS[base])
    if base in ("decimal", "numeric"):
        return pd.Series(_map_present(Decimal, values), dtype=object)
    if base in ("date", "timestamp"):
        return _as_datetime(pd.Series(values, dtype=object))
    if base == "binary":
        return pd.Series(_map_present(base64.b64decode, values), dtype=object)
    return pd.array(values, dtype="string")


def _map_present(function, values):
    return [None if value is None else function(value) for value in values]


def _as_datetime(column):
    """datetime64[ns] (1677-09-21 to 2262-04-11); beyond it microseconds on pandas 2, and the
    text on pandas 1."""
    for unit in ("ns", "us"):
        try:
            return column.astype("datetime64[%s]" % unit)
        except (ValueError, TypeError, OverflowError):
            pass
    warnings.warn("column %r holds a date outside pandas' range; kept as text" % (column.name,))
    return column


def _read_parquet(data):
    # Nullable dtypes keep integers with NULLs exact (Int64, not float64).
    if int(pd.__version__.split(".")[0]) >= 2:
        options = {"dtype_backend": "numpy_nullable"}
    else:
        options = {"use_nullable_dtypes": True}
    try:
        return pd.read_parquet(io.BytesIO(data), **options)
    except ImportError as error:
        raise ImportError("reading Parquet needs pyarrow (pip install pyarrow); "
                          "or export with format='csv'") from error
