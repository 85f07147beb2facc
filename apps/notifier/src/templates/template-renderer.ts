import type { EmailTemplate, TemplateValues, TemplateVariable } from './email-template.js';

/** An email ready for the transport. */
export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** The placeholder names used in a template text, in order of appearance. */
export function placeholdersOf(text: string): readonly string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

function fill(text: string, values: TemplateValues, encode: (v: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: string) => encode(values[name as TemplateVariable] ?? ''));
}

/**
 * Fills `{{name}}` placeholders: HTML-escaped in the HTML part (user data is untrusted), plain in
 * the text part, and with line breaks flattened in the subject so a value cannot add headers.
 */
export function renderTemplate(template: EmailTemplate, values: TemplateValues): RenderedEmail {
  return {
    subject: fill(template.subject, values, (v) => v.replace(/[\r\n]+/g, ' ')).trim(),
    html: fill(template.html, values, escapeHtml),
    text: fill(template.text, values, (v) => v),
  };
}
