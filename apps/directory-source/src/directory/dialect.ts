/** The kinds of directory the source can poll. */
export const sourceDialects = ['active-directory', 'openldap'] as const;

/** A directory kind, once known (`auto` is resolved from the root DSE at the first poll). */
export type SourceDialect = (typeof sourceDialects)[number];

/** Per-dialect defaults of the settings the operator may leave unset. */
export const DIALECT_DEFAULTS: Readonly<Record<SourceDialect, { readonly userFilter: string; readonly userIdAttribute: string }>> = {
  // Person users only: computers are `user` objects too, contacts are `person` without `user`.
  'active-directory': { userFilter: '(&(objectCategory=person)(objectClass=user))', userIdAttribute: 'sAMAccountName' },
  openldap: { userFilter: '(objectClass=inetOrgPerson)', userIdAttribute: 'uid' },
};

/**
 * Operational attributes each dialect needs besides the reported ones: the entry's stable id, its
 * change stamp, its modification time (OpenLDAP's checkpoint) and its enabled state.
 */
export const DIALECT_ATTRIBUTES: Readonly<Record<SourceDialect, readonly string[]>> = {
  'active-directory': ['objectGUID', 'uSNChanged', 'userAccountControl'],
  openldap: ['entryUUID', 'entryCSN', 'modifyTimestamp', 'pwdAccountLockedTime'],
};

/** `userAccountControl` bit 2 (ACCOUNTDISABLE). */
export const AD_ACCOUNT_DISABLED = 0x2;

/** ppolicy's administrative lock: `pwdAccountLockedTime` set to this value locks the account until an administrator clears it. */
export const OPENLDAP_PERMANENT_LOCK = '000001010000Z';

/** The LDAP Show Deleted control (AD): searches also return tombstones of deleted objects. */
export const AD_SHOW_DELETED_OID = '1.2.840.113556.1.4.417';
