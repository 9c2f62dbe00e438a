import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** How many PEM certificate blocks `text` holds. */
export function pemCertificateCount(text: string): number {
  return text.match(PEM_BLOCK)?.length ?? 0;
}

/** Why `text` is not one or more PEM certificates, or undefined when it is (the text is public: CA certificates). */
export function pemCertificatesProblem(text: string): string | undefined {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)';
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`;
    }
  }
  return undefined;
}
