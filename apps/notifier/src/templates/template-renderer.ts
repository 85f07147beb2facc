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

/** One part of a template text: literal text, or the name of a placeholder. */
type Part = string | { readonly name: TemplateVariable };

/** A template split into parts once, so filling it for each email is a join instead of a regex pass. */
interface CompiledTemplate {
  readonly subject: readonly Part[];
  readonly html: readonly Part[];
  readonly text: readonly Part[];
}

function split(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push({ name: m[1] as TemplateVariable });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

// Templates are loaded once at start: one compiled form per template object, for the life of the process.
const compiled = new WeakMap<EmailTemplate, CompiledTemplate>();

function compile(template: EmailTemplate): CompiledTemplate {
  let c = compiled.get(template);
  if (!c) {
    c = { subject: split(template.subject), html: split(template.html), text: split(template.text) };
    compiled.set(template, c);
  }
  return c;
}

function fill(parts: readonly Part[], values: TemplateValues, encode: (v: string) => string): string {
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : encode(values[part.name] ?? '');
  return out;
}

const plain = (v: string): string => v;
const oneLine = (v: string): string => v.replace(/[\r\n]+/g, ' ');

/**
 * Fills `{{name}}` placeholders: HTML-escaped in the HTML part (user data is untrusted), plain in
 * the text part, and with line breaks flattened in the subject so a value cannot add headers.
 * Each template is split into parts on its first use only.
 */
export function renderTemplate(template: EmailTemplate, values: TemplateValues): RenderedEmail {
  const c = compile(template);
  return {
    subject: fill(c.subject, values, oneLine).trim(),
    html: fill(c.html, values, escapeHtml),
    text: fill(c.text, values, plain),
  };
}
