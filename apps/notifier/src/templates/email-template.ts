/** The three parts of an email type's template; `{{name}}` placeholders are filled at send time. */
export interface EmailTemplate {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** The placeholders a template may use. Anything else is a start-up error, not an empty hole in a sent email. */
export const TEMPLATE_VARIABLES = [
  'userId',
  'displayName',
  'email',
  'emailType',
  'passwordOrigin',
  'syncFailureReason',
  'syncFailureExplanation',
  'syncFailureAdvice',
] as const;

/** A placeholder name a template may use. */
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** Values for every placeholder of one email (empty string when not applicable). */
export type TemplateValues = Readonly<Record<TemplateVariable, string>>;
