import { ApiError, type Session, call, faultMessage, saveSession } from './api.js';
import { errorBox, h } from './dom.js';

interface Settings {
  auth_strategy: 'noauth' | 'keystone';
}

/**
 * noauth: a user and a project make the token `user:project` (checked by one API call).
 * keystone: username, password and project are exchanged for a Keystone token by the service.
 */
export async function signInPage(main: HTMLElement, signedIn: () => void): Promise<void> {
  const settings = (await (await fetch('/console/settings.json')).json()) as Settings;
  const keystone = settings.auth_strategy === 'keystone';
  const status = h('div', { 'aria-live': 'polite' });
  const field = (label: string, name: string, type = 'text', extra: Record<string, unknown> = {}) =>
    h('label', {}, label, h('input', { name, type, required: true, autocomplete: 'off', ...extra }));
  const form = h(
    'form',
    { class: 'signin' },
    h('h1', {}, 'Sign in'),
    keystone
      ? [
          field('Username', 'user'),
          field('Password', 'password', 'password'),
          field('Project', 'project'),
          field('Domain', 'domain', 'text', { value: 'Default' }),
        ]
      : [
          h('p', { class: 'hint' }, 'This service runs without Keystone (noauth): the token is user:project.'),
          field('User', 'user'),
          field('Project id (32 hex digits)', 'project', 'text', { pattern: '[0-9a-fA-F]{32}' }),
        ],
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const v = (k: string) => String(data.get(k) ?? '').trim();
    status.replaceChildren(h('p', {}, 'Signing in…'));
    void (async () => {
      try {
        let session: Session;
        if (keystone) {
          const res = await fetch('/console/keystone-token', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: v('user'), password: v('password'), project: v('project'), domain: v('domain') }),
          });
          const text = await res.text();
          if (!res.ok) throw new ApiError(res.status, faultMessage(res.status, text));
          const body = JSON.parse(text) as { token: string; project_id: string };
          session = { token: body.token, project: body.project_id, user: v('user') };
        } else {
          session = { token: `${v('user')}:${v('project')}`, project: v('project'), user: v('user') };
        }
        await call(session, 'GET', '/volumes?limit=1');
        saveSession(session);
        signedIn();
      } catch (err) {
        status.replaceChildren(errorBox(err));
      }
    })();
  });
  main.append(form);
}
