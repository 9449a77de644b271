/**
 * Modules from npm that the Connect pages import, served beside their own scripts: each at one stable URL, the file
 * of the version the app was installed with. (The Forge build bundles the same packages instead.)
 */
import { Router } from 'express';

/** The URL a page imports each package from, and the package. */
export const PAGE_MODULES: Readonly<Record<string, string>> = {
  // RFC 9449 proofs with a WebCrypto key the page cannot export (views/public/key-binding.js).
  '/public/modules/dpop.js': 'dpop',
};

export function pageModuleRoutes(): Router {
  const router = Router();
  for (const [url, name] of Object.entries(PAGE_MODULES)) {
    // Resolved once at start, as Node would load the package: a missing one stops the app here, not a page later.
    const file = require.resolve(name);
    router.get(url, (_req, res, next) => {
      res.type('text/javascript');
      // The path is ours, not the request's: a package manager's store may sit under a dot folder (.pnpm).
      res.sendFile(file, { maxAge: '1h', dotfiles: 'allow' }, (error) => {
        if (error) next(error);
      });
    });
  }
  return router;
}
