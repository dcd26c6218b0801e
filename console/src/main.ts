import { type Session, clearSession, loadSession } from './api.js';
import { backupPage } from './backup.js';
import { backupsPage } from './backups.js';
import { errorBox, h } from './dom.js';
import { cbrRoutes } from './cbr-routes.js';
import { instancePage } from './instance.js';
import { instancesPage } from './others.js';
import { overviewPage } from './overview.js';
import { signInPage } from './signin.js';

/** A page fills `main` and may return a stop function (timers) called when the page is left. */
export type Page = (s: Session, main: HTMLElement, arg: string) => Promise<(() => void) | void>;

const ROUTES: Array<[RegExp, string, Page]> = [
  [/^#\/overview$/, 'overview', overviewPage],
  [/^#\/backups$/, 'backups', backupsPage],
  [/^#\/backups\/([0-9a-f-]{36})$/, 'backup', backupPage],
  [/^#\/instances$/, 'instances', instancesPage],
  [/^#\/instances\/([0-9a-f-]{36})$/, 'instance', instancePage],
  ...cbrRoutes,
];

const NAV: Array<[string, string]> = [
  ['#/overview', 'Overview'],
  ['#/backups', 'Backups'],
  ['#/vaults', 'Vaults (CBR)'],
  ['#/instances', 'Instances (Trove)'],
];

let stop: (() => void) | void = undefined;

async function render(): Promise<void> {
  if (stop) stop();
  stop = undefined;
  const root = document.getElementById('app')!;
  root.replaceChildren();
  const session = loadSession();
  const main = h('main', { id: 'main', 'aria-busy': 'true' });
  if (!session) {
    root.append(main);
    await signInPage(main, () => {
      location.hash = '#/overview';
      void render();
    });
    main.setAttribute('aria-busy', 'false');
    main.dataset.page = 'signin';
    return;
  }
  const hash = location.hash || '#/overview';
  const route = ROUTES.find(([re]) => re.test(hash));
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    h('span', { class: 'brand' }, 'Backup console'),
    NAV.map(([href, label]) => h('a', { href, 'aria-current': hash.startsWith(href) ? 'page' : false }, label)),
    h('span', { class: 'who' }, `${session.user} · project ${session.project}`),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          clearSession();
          location.hash = '';
          void render();
        },
      },
      'Sign out',
    ),
  );
  root.append(h('header', {}, nav), main);
  if (!route) {
    main.append(errorBox(`No page ${hash}`));
    main.setAttribute('aria-busy', 'false');
    return;
  }
  const [re, name, page] = route;
  main.dataset.page = name;
  try {
    stop = await page(session, main, re.exec(hash)?.[1] ?? '');
  } catch (err) {
    main.append(errorBox(err));
  }
  main.setAttribute('aria-busy', 'false');
}

window.addEventListener('hashchange', () => void render());
void render();
