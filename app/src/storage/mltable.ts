/**
 * The MLTable manifest of a multi-part export: a YAML file in Azure ML's `mltable` format (CLI v2
 * MLTable schema, https://learn.microsoft.com/azure/machine-learning/reference-yaml-mltable) that
 * names every part's URL, in order, and how to read them. Azure ML reads it with
 * `Input(type="mltable")` or `mltable.load(<folder holding it>)`; the file must then be called
 * `MLTable`, which is the name every download of it carries.
 *
 * The part URLs are grants that end with the export's link, so the manifest is rewritten (Blob)
 * or rendered afresh (local) whenever the link is renewed.
 */
import type { ExportFormat } from './export-store.js';

/** The file name Azure ML looks for in a folder, and the download name of every manifest. */
export const MLTABLE_NAME = 'MLTable';
/** RFC 9512 (2024) registered `application/yaml`; YAML is UTF-8 here, which that type implies. */
export const MLTABLE_CONTENT_TYPE = 'application/yaml';

/**
 * How Azure ML reads the parts. CSV (plain or gzipped): every part has the same header row;
 * `support_multi_line`, because a quoted field may hold a line break (csv-encoder.ts quotes CR
 * and LF) and without it Azure ML splits the record there; `empty_as_string: false`, because the
 * delimited reader cannot keep `""` apart from NULL (the setting applies to every empty field,
 * quoted or not), and NULL is the one a numeric or date column needs — an export whose empty
 * strings matter is better written as Parquet, which keeps them apart.
 */
function readTransformation(format: ExportFormat): string[] {
  if (format === 'parquet') return ['  - read_parquet:', '      include_path_column: false'];
  return [
    '  - read_delimited:',
    '      delimiter: ","',
    '      header: all_files_same_headers',
    '      encoding: utf8',
    '      empty_as_string: false',
    '      support_multi_line: true',
    '      include_path_column: false',
    '      infer_column_types: true',
  ];
}

/**
 * The manifest's text. URLs are written as double-quoted YAML scalars (JSON strings are valid
 * YAML), so the `&`, `%` and `=` of a SAS query can never be read as YAML syntax.
 */
export function renderMltable(format: ExportFormat, partUrls: readonly string[]): string {
  if (partUrls.length === 0) throw new Error('An MLTable needs at least one part URL; got none');
  return [
    `# ${partUrls.length} parts of one export, in order. The URLs stop working when the export's link expires.`,
    '$schema: https://azuremlschemas.azureedge.net/latest/MLTable.schema.json',
    'type: mltable',
    'paths:',
    ...partUrls.map((url) => `  - file: ${JSON.stringify(url)}`),
    'transformations:',
    ...readTransformation(format),
    '',
  ].join('\n');
}
