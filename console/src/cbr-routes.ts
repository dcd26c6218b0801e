// NOTE: named here so the browser fetches it beside the pages, not one round trip after them.
import './cbr-common.js';
import { checkpointsPage } from './cbr-checkpoints.js';
import { operationLogsPage } from './cbr-logs.js';
import { vaultPage } from './cbr-vault.js';
import { vaultsPage } from './cbr-vaults.js';
import type { Page } from './main.js';

const ID = '([0-9a-f-]{36})';

/** The CBR pages' routes (hash, page name for tests, page), spliced into main.ts's table. */
export const cbrRoutes: Array<[RegExp, string, Page]> = [
  [/^#\/vaults$/, 'vaults', vaultsPage],
  [new RegExp(`^#/vaults/${ID}$`), 'vault', vaultPage],
  [new RegExp(`^#/vaults/${ID}/checkpoints$`), 'checkpoints', checkpointsPage],
  [new RegExp(`^#/vaults/${ID}/operation-logs$`), 'operation-logs', operationLogsPage],
  [/^#\/operation-logs$/, 'operation-logs', operationLogsPage],
];
