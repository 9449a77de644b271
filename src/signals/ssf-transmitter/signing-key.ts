/**
 * PanelGuard's own key for signing SETs: RS256 with an RSA key of 2048 bits or more, because the CAEP
 * interoperability profile requires exactly that of every event, and receivers built to it may accept nothing
 * else. Production reads it from SSF_SIGNING_KEY (every node of a cluster the same); development makes one
 * once, on first use, and keeps it under the data directory. The private half never leaves this module but as
 * a KeyObject, which prints nothing of itself.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

export const SET_ALGORITHM = 'RS256';

const MIN_RSA_BITS = 2048;

/** What SSF_SIGNING_KEY must be; the one message for every way it can be wrong, since a message never quotes the key. */
export const SIGNING_KEY_PROBLEM = `must be an RSA private key of at least ${MIN_RSA_BITS} bits, as PEM (PKCS#8 or PKCS#1) or a JWK`;

/** The signing key in use: the private key, and the public one as the JWKS publishes it. */
export interface SigningKey {
  privateKey: KeyObject;
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** `kty`, `n`, `e`, and `kid`, `alg`, `use`: nothing private. */
  publicJwk: JWK;
}

/** Reads SSF_SIGNING_KEY's value into a private key, or null when it is not one PanelGuard signs with. */
export function parseSigningKey(text: string): KeyObject | null {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('{')) {
      // Node checks every member it needs; a JWK without `d` is a public key, and refused.
      key = createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' });
    } else {
      // An environment file often holds a PEM on one line with its newlines written as \n.
      key = createPrivateKey(trimmed.includes('\n') ? trimmed : trimmed.replace(/\\n/g, '\n'));
    }
  } catch {
    return null;
  }
  if (key.asymmetricKeyType !== 'rsa') return null;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits >= MIN_RSA_BITS ? key : null;
}

/** The key's public half as the JWKS publishes it, and its thumbprint as `kid`. */
export async function describeSigningKey(privateKey: KeyObject): Promise<SigningKey> {
  const { kty, n, e } = await exportJWK(createPublicKey(privateKey));
  if (kty === undefined || n === undefined || e === undefined) throw new Error('the signing key has no RSA public half');
  const kid = await calculateJwkThumbprint({ kty, n, e }, 'sha256');
  return { privateKey, kid, publicJwk: { kty, n, e, kid, alg: SET_ALGORITHM, use: 'sig' } };
}

/** Where development keeps the key it made. */
export function developmentKeyFile(dataDir: string): string {
  return path.join(dataDir, 'ssf-signing-key.pem');
}

/**
 * The configured key, or in development the one kept under `dataDir`, made on first use: generating an RSA key
 * takes a tenth of a second, which a server that never signs a SET (most test runs) need not spend. Resolved once.
 */
export function signingKeySource(configured: KeyObject | null, dataDir: string): () => Promise<SigningKey> {
  let key: Promise<SigningKey> | null = null;
  return () => {
    if (key === null) {
      const loading = (configured === null ? developmentKey(dataDir) : Promise.resolve(configured)).then(describeSigningKey);
      // A failure (an unreadable file, say) is not kept: the next call tries again.
      loading.catch(() => {
        if (key === loading) key = null;
      });
      key = loading;
    }
    return key;
  };
}

async function developmentKey(dataDir: string): Promise<KeyObject> {
  const file = developmentKeyFile(dataDir);
  const kept = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (kept !== null) {
    const key = parseSigningKey(kept);
    if (key === null) throw new Error(`${file} is not a key SETs can be signed with (${SIGNING_KEY_PROBLEM}); delete it to have a new one made`);
    return key;
  }
  const made = await new Promise<KeyObject>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: MIN_RSA_BITS }, (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey))),
  );
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, made.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return made;
  } catch (error) {
    // Another process on the same data directory made one first: sign with that one, as it does.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return developmentKey(dataDir);
    throw error;
  }
}
