import { sambaAdUnavailable, startSambaAd } from '@idm/testing';
import { describePasswordSyncScenarios } from './password-sync-scenarios.js';

// The seed's own directory: a Samba AD DC, the active-directory dialect over LDAPS with the DC's
// CA and certificate name, bound as the least-privilege service account (Reset Password on
// OU=People only), the domain policy at a minimum length of 8 with complexity.
describePasswordSyncScenarios(
  'a Samba AD domain controller (active-directory dialect)',
  async () => {
    const ad = await startSambaAd();
    try {
      await ad.setPasswordPolicy({ minLength: 8, complexity: true });
    } catch (err) {
      await ad.stop();
      throw err;
    }
    return {
      targetEnv: ad.passwordTargetEnv,
      policyMessage:
        /^0000052D: Constraint violation - check_password_restrictions: the password is too short\. It should be equal or longer than 8 characters!$/,
      addUser: async (userId, password) =>
        void (await ad.createUser({ sAMAccountName: userId, ...(password === undefined ? {} : { password }) })),
      canBind: (userId, password) => ad.canBind(userId, password),
      halt: () => ad.halt(),
      resume: () => ad.resume(),
      dispose: () => ad.stop(),
    };
  },
  sambaAdUnavailable(),
);
