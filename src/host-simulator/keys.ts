/** The simulator's RSA install-signing keys and the key server (Atlassian's install-key CDN) that vouches for them. */
import { generateKeyPairSync } from 'node:crypto';
import express, { type Router } from 'express';

export interface SigningKey {
  readonly kid: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export function generateSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { kid, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * `GET /:kid` answers the PEM public key as text/plain, like
 * connect-install-keys.atlassian.com; only keys in `vouched` are ever served.
 */
export function keyServerRouter(vouched: readonly SigningKey[]): Router {
  const byKid = new Map(vouched.map((key) => [key.kid, key.publicKeyPem]));
  const router = express.Router();
  router.get('/:kid', (req, res) => {
    const pem = byKid.get(req.params.kid);
    if (pem === undefined) {
      res.status(404).type('text/plain').send('Not Found');
      return;
    }
    res.status(200).type('text/plain').send(pem);
  });
  return router;
}
