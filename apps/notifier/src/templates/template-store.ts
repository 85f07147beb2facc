import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TEMPLATES } from './default-templates.js';
import { TEMPLATE_VARIABLES, type EmailTemplate } from './email-template.js';
import { placeholdersOf } from './template-renderer.js';

/** A rule raises an email type that has neither an override nor a built-in template. */
export class MissingTemplateError extends Error {
  override readonly name = 'MissingTemplateError';
  readonly code = 'IDM_NOTIFIER_TEMPLATE_MISSING';
  constructor(
    readonly emailTypes: readonly string[],
    templatesDir: string | undefined,
  ) {
    super(
      `no template for email type(s) ${emailTypes.join(', ')}: add ${emailTypes.map((t) => `${t}/{subject.txt,body.html,body.txt}`).join(', ')} ` +
        (templatesDir ? `under TEMPLATES_DIR (${templatesDir})` : 'under a folder named by TEMPLATES_DIR'),
    );
  }
}

/** An override folder is incomplete or a template uses an unknown placeholder. */
export class TemplateInvalidError extends Error {
  override readonly name = 'TemplateInvalidError';
  readonly code = 'IDM_NOTIFIER_TEMPLATE_INVALID';
}

/** The file names of one email type's override folder `<TEMPLATES_DIR>/<EMAIL_TYPE>/`. */
export const TEMPLATE_FILES = { subject: 'subject.txt', html: 'body.html', text: 'body.txt' } as const;

/** Templates by email type, checked at start. */
export type TemplateSet = ReadonlyMap<string, EmailTemplate>;

function readOverride(dir: string, emailType: string): EmailTemplate {
  const missing = Object.values(TEMPLATE_FILES).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0)
    throw new TemplateInvalidError(`template override ${dir} for ${emailType} lacks ${missing.join(', ')} (all three files are needed)`);
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  return { subject: read(TEMPLATE_FILES.subject).trim(), html: read(TEMPLATE_FILES.html), text: read(TEMPLATE_FILES.text) };
}

function checkPlaceholders(emailType: string, template: EmailTemplate): void {
  const known: readonly string[] = TEMPLATE_VARIABLES;
  const unknown = [...new Set(Object.values(template).flatMap(placeholdersOf))].filter((p) => !known.includes(p));
  if (unknown.length > 0) {
    throw new TemplateInvalidError(
      `template ${emailType} uses unknown placeholder(s) ${unknown.map((u) => `{{${u}}}`).join(', ')}; known: ${known.join(', ')}`,
    );
  }
}

/**
 * Resolves the template of every email type the rules can raise: `<templatesDir>/<TYPE>/` when
 * that folder exists (all three files), else the built-in one.
 * @throws MissingTemplateError listing every type without a template — at start, not at send time.
 * @throws TemplateInvalidError for an incomplete override or an unknown placeholder.
 */
export function loadTemplates(emailTypes: readonly string[], templatesDir?: string): TemplateSet {
  if (templatesDir !== undefined && !(existsSync(templatesDir) && statSync(templatesDir).isDirectory())) {
    throw new TemplateInvalidError(`TEMPLATES_DIR ${templatesDir} is not a folder`);
  }
  const out = new Map<string, EmailTemplate>();
  const missing: string[] = [];
  for (const emailType of emailTypes) {
    const overrideDir = templatesDir === undefined ? undefined : join(templatesDir, emailType);
    const template = overrideDir && existsSync(overrideDir) ? readOverride(overrideDir, emailType) : DEFAULT_TEMPLATES[emailType];
    if (!template) {
      missing.push(emailType);
      continue;
    }
    checkPlaceholders(emailType, template);
    out.set(emailType, template);
  }
  if (missing.length > 0) throw new MissingTemplateError(missing, templatesDir);
  return out;
}
