import { startSlapd } from '@idm/testing';
import { describePasswordSyncScenarios } from './password-sync-scenarios.js';

// The seed's scenarios against OpenLDAP: slapd with ppolicy (pwdMinLength 8), RFC 3062 dialect.
describePasswordSyncScenarios('slapd (RFC 3062)', async () => {
  const slapd = await startSlapd({ ppolicyMinLength: 8 });
  return {
    targetEnv: {
      PASSWORD_TARGET: slapd.url,
      PASSWORD_TARGET_BIND_DN: slapd.serviceBindDn,
      PASSWORD_TARGET_BIND_PASSWORD: slapd.serviceBindPassword,
      PASSWORD_TARGET_BASE_DN: slapd.baseDn,
    },
    policyMessage: /^Password fails quality checking policy$/,
    addUser: async (uid, password) => void (await slapd.addUser(uid, password === undefined ? {} : { password })),
    canBind: (uid, password) => slapd.canBind(slapd.userDn(uid), password),
    halt: () => slapd.stop(),
    resume: () => slapd.start(),
    dispose: () => slapd.dispose(),
  };
});
