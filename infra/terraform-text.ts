/**
 * Text with Terraform references inside (a settings file that names a storage endpoint) has to
 * reach Terraform functions such as base64encode as an expression, not a literal: cdktf refuses
 * literals with double quotes, and `${` or `%{` in them would be read as interpolation. This
 * splits such text into escaped literal pieces and the references, joined back by Terraform.
 */
import { Fn } from 'cdktf';

const TOKEN = /(\$\{TfToken\[TOKEN\.\d+\]\})/;

export function terraformText(text: string): string {
  if (text.includes('\\')) {
    // cdktf's rawString does not round-trip a backslash before a quote; nothing we render needs one.
    throw new Error('terraformText: got text with a backslash; expected none (render values without escapes)');
  }
  const parts = text.split(TOKEN).filter((part) => part !== '');
  return Fn.join('', parts.map((part) => (TOKEN.test(part) ? part : Fn.rawString(part))));
}
