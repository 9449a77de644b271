/** Every fuzz property, in the order they run; `npm run fuzz` and test/fuzz/fuzz.test.ts both run this list. */
import type { FuzzProperty } from './property';
import { adminCredentials, adminPolicyBodies, adminQueries } from './properties/admin';
import { cliOptions } from './properties/cli';
import { guardHeaders, guardTokens } from './properties/guard';
import { routeIds } from './properties/ids';
import { leakReports } from './properties/leak-reports';
import { lifecycleBodies } from './properties/lifecycle';
import { noteBodies } from './properties/notes';
import { pageTokenVerifier } from './properties/page-token';
import { storeFaults } from './properties/store-faults';
import { webhookBodies } from './properties/webhooks';

export const FUZZ_PROPERTIES: readonly FuzzProperty[] = [pageTokenVerifier, guardTokens, guardHeaders, adminCredentials, adminQueries, adminPolicyBodies, routeIds, noteBodies, webhookBodies, lifecycleBodies, storeFaults, cliOptions, leakReports];
