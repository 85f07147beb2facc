import { readFileSync } from 'node:fs';
import { after, describe } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { sambaAdUnavailable, startSambaAd, type SambaAdHandle } from '@idm/testing';
import { changeScenarios, type DirectoryDriver } from './directory-scenarios.fixture.js';

// The Samba AD DC uses fixed ports: the harness holds a machine-wide lock, so this file may wait for another DC test.
describe('directory source against Active Directory (real Samba AD DC, nats-server, SQLite)', () => {
  let ad: SambaAdHandle | undefined;
  after(async () => {
    await ad?.stop();
  });

  changeScenarios('Active Directory (Samba AD DC)', async () => {
    const why = sambaAdUnavailable();
    if (why) {
      console.log(`# Samba AD scenarios skipped: ${why}`);
      return undefined;
    }
    ad = await startSambaAd();
    const dc = ad;
    const former = await dc.createOu('Former', 'DC=idm,DC=test');
    const asAdmin = async (work: (c: Client) => Promise<void>) => {
      const c = new Client({ url: dc.ldapsUrl, tlsOptions: { ca: [readFileSync(dc.caFile)], servername: dc.tlsServerName } });
      try {
        await c.bind(dc.adminDn, dc.adminPassword);
        await work(c);
      } finally {
        await c.unbind().catch(() => undefined);
      }
    };
    const driver: DirectoryDriver = {
      dialect: 'active-directory',
      ldap: {
        url: dc.ldapsUrl,
        startTls: false,
        bindDn: dc.serviceBindDn,
        bindPassword: dc.serviceBindPassword,
        baseDn: dc.usersDn,
        tlsCaFile: dc.caFile,
        tlsServerName: dc.tlsServerName,
      },
      create: async (id, attrs) => void (await dc.createUser({ sAMAccountName: id, ...attrs })),
      modify: async (id, changes) => {
        const dn = (await dc.findUserDn(id))!;
        await asAdmin((c) =>
          c.modify(
            dn,
            Object.entries(changes).map(
              ([type, v]) =>
                new Change({
                  operation: v === null ? 'delete' : 'replace',
                  modification: new Attribute({ type, values: v === null ? [] : [v] }),
                }),
            ),
          ),
        );
      },
      disable: (id) => dc.disableUser(id),
      remove: (id) => dc.deleteUser(id),
      moveOutOfScope: async (id) => void (await dc.moveUser(id, former)),
      unreportedAttribute: 'description',
    };
    return driver;
  });
});
