// Loaded with `--import` into a process under test: records every package specifier it imports
// into the file named by RECORD_IMPORTS_FILE, so a test can tell whether a package was loaded.
import { register } from 'node:module';
import process from 'node:process';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_IMPORTS_FILE } });
