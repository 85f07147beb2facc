import { PasswordTargetConfigError } from './password-target.js';

/** The placeholder a user DN template must hold exactly once. */
export const USER_ID_PLACEHOLDER = '{userId}';

/**
 * Escapes a string for use as an attribute value in a DN (RFC 4514 §2.4): the special characters
 * `"` `+` `,` `;` `<` `>` `\` and `=`, a leading `#` or space, a trailing space and NUL. Without it,
 * a user id such as `x,ou=admins` would name another entry than the user's.
 */
export function escapeDnValue(value: string): string {
  let escaped = value.replace(/[\\"+,;<>=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && !escaped.endsWith('\\ ')) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/** DN comparison as far as a configuration check needs it: case and spaces after commas ignored. */
function normalizedDn(dn: string): string {
  return dn.replace(/,\s+/g, ',').trim().toLowerCase();
}

/**
 * Reads `PASSWORD_TARGET_USER_DN_TEMPLATE` (e.g. `uid={userId},ou=people,dc=example,dc=org`): the
 * returned function gives the DN of a user's entry, with the user id escaped as a DN value, so the
 * target writes the password without searching first (one LDAP operation per attempt instead of
 * two). Only for directories whose entries are named by the user id.
 *
 * @throws PasswordTargetConfigError unless the template holds {@link USER_ID_PLACEHOLDER} exactly
 *   once, in the first RDN's value (`attr={userId}`), and names an entry below `baseDn`: the
 *   service account's writes stay in the subtree a search would have been confined to.
 */
export function userDnTemplate(template: string, baseDn: string): (userId: string) => string {
  const at = template.indexOf(USER_ID_PLACEHOLDER);
  if (at < 0 || template.indexOf(USER_ID_PLACEHOLDER, at + 1) >= 0)
    throw new PasswordTargetConfigError(`PASSWORD_TARGET_USER_DN_TEMPLATE must hold ${USER_ID_PLACEHOLDER} exactly once`);
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + USER_ID_PLACEHOLDER.length);
  if (!/^[A-Za-z][A-Za-z0-9-]*=$/.test(prefix) || !suffix.startsWith(','))
    throw new PasswordTargetConfigError(
      `PASSWORD_TARGET_USER_DN_TEMPLATE must start with <attribute>=${USER_ID_PLACEHOLDER}, (the user id is the entry's own name), got ${JSON.stringify(template)}`,
    );
  const parent = normalizedDn(suffix.slice(1));
  const base = normalizedDn(baseDn);
  if (parent !== base && !parent.endsWith(`,${base}`))
    throw new PasswordTargetConfigError(
      `PASSWORD_TARGET_USER_DN_TEMPLATE names entries outside PASSWORD_TARGET_BASE_DN (${baseDn}): ${JSON.stringify(template)}`,
    );
  return (userId) => `${prefix}${escapeDnValue(userId)}${suffix}`;
}
