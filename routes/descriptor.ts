/** The app descriptor, as ACE loaded it with `baseUrl` filled from configuration. */
import { Router } from 'express';
import type { AddOn } from '../src/connect/addon';

export function descriptorRoutes(addon: AddOn): Router {
  const router = Router();
  router.get('/atlassian-connect.json', (_req, res) => {
    res.json(addon.descriptor);
  });
  return router;
}
