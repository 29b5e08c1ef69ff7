// app.js -- the web admin's entry point: loads the string catalogs, finds the session,
// draws the top bar (navigation, language switch, log out) and hands each location to
// its page through the router.
//
// Contract: every page family is a module under pages/ exporting `routes`
// ([{path, page(ctx, box), public?}]); adding one is an import and a line in ROUTES.
// A page renders into box, which replaces the previous page only when it is still the
// current navigation. Pages that need a login send anyone without one to /login?next=.
//
// Must never: render API data as HTML, or show a page's data before the session is known.

import { h, clear } from './lib/dom.js';
import { t, loadCatalogs, LANGUAGES, lang, setLang, onLangChange } from './lib/i18n.js';
import { currentSession, logout, onUnauthorized } from './lib/api.js';
import { addRoutes, start, navigate, reload } from './lib/router.js';
import { notice, pageHeader, errorText, button, link, clearStaleFlash } from './lib/ui.js';
import { routes as sessionRoutes } from './pages/session.js';
import { routes as orgRoutes } from './pages/orgs.js';
import { routes as memberRoutes } from './pages/members.js';
import { routes as invitationRoutes } from './pages/invitations.js';
import { routes as resetRoutes } from './pages/pwreset.js';
import { routes as serverRoutes } from './pages/servers.js';
import { routes as domainRoutes } from './pages/domains.js';
import { routes as mailboxRoutes } from './pages/mailboxes.js';
import { routes as credentialRoutes } from './pages/credentials.js';
import { routes as overviewRoutes } from './pages/overview.js';
import { routes as messageRoutes } from './pages/messages.js';
import { routes as routeRoutes } from './pages/routes.js';
import { routes as webhookRoutes } from './pages/webhooks.js';
import { routes as suppressionRoutes } from './pages/suppressions.js';
import { routes as ipPoolRoutes } from './pages/ippools.js';
import { routes as twoFactorRoutes } from './pages/twofactor.js';
import { routes as userRoutes } from './pages/users.js';

const ROUTES = [
    { path: '/', page: (ctx) => ctx.navigate('/orgs', { replace: true }) },
    ...sessionRoutes,
    ...twoFactorRoutes,
    ...orgRoutes,
    ...memberRoutes,
    ...invitationRoutes,
    ...resetRoutes,
    ...serverRoutes,
    ...domainRoutes,
    ...mailboxRoutes,
    ...credentialRoutes,
    ...overviewRoutes,
    ...messageRoutes,
    ...routeRoutes,
    ...webhookRoutes,
    ...suppressionRoutes,
    ...ipPoolRoutes,
    ...userRoutes,
    { path: '*', page: notFoundPage, public: true },
];

const state = { session: null, renderSeq: 0, current: null };

function notFoundPage(ctx, box) {
    box.append(pageHeader(t('notfound.title')),
        notice(t('notfound.text')),
        h('p', null, link(state.session ? '/orgs' : '/login', t('notfound.back'))));
}

function topbar() {
    const bar = document.getElementById('topbar');
    clear(bar);
    const langId = 'lang-select';
    const select = h('select', { id: langId, on: { change: (e) => setLang(e.target.value) } },
        LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code }, l.label)));
    select.value = lang();
    const partial = state.session && state.session.second_factor && state.session.second_factor !== 'complete';
    const user = state.session?.user;
    const nav = user && !partial;
    bar.append(
        h('a', { class: 'brand', href: nav ? '/orgs' : '/login' }, 'postgate'),
        nav ? h('nav', { class: 'mainnav', 'aria-label': t('nav.main') },
            h('ul', null,
                h('li', null, h('a', { href: '/orgs', 'aria-current': state.current?.startsWith('/orgs') ? 'page' : null }, t('nav.organizations'))),
                h('li', null, h('a', { href: '/ip-pools', 'aria-current': state.current?.startsWith('/ip-pools') ? 'page' : null }, t('nav.ip_pools'))),
                user.admin ? h('li', null, h('a', { href: '/postfix/queue', 'aria-current': state.current === '/postfix/queue' ? 'page' : null }, t('nav.queue'))) : null,
                user.admin ? h('li', null, h('a', { href: '/users', 'aria-current': state.current === '/users' ? 'page' : null }, t('nav.users'))) : null,
                h('li', null, h('a', { href: '/account', 'aria-current': state.current === '/account' ? 'page' : null }, t('nav.account'))))) : null,
        h('div', { class: 'topbar-end' },
            h('div', { class: 'lang' }, h('label', { for: langId }, t('nav.language')), select),
            user ? h('span', { class: 'whoami', title: user.email }, user.email) : null,
            user ? button(t('nav.logout'), doLogout, { kind: 'secondary', id: 'logout' }) : null));
    document.getElementById('skip-link').textContent = t('nav.skip');
}

async function doLogout() {
    try {
        await logout();
    } catch { /* the session may be gone already */ }
    state.session = null;
    navigate('/login?bye=1');
}

async function onRoute(route, ctx) {
    const seq = ++state.renderSeq;
    const main = document.getElementById('main');
    if (!route.public && !state.session) {
        navigate(`/login?next=${encodeURIComponent(ctx.path)}`, { replace: true });
        return;
    }
    // A sign-in that waits for its code, or for an enrolment, reaches nothing else.
    const factor = state.session?.second_factor;
    if (factor === 'code' && route.path !== '/login') {
        navigate(`/login?next=${encodeURIComponent(ctx.path)}`, { replace: true });
        return;
    }
    if (factor === 'enrol' && route.path !== '/account/two-factor' && route.path !== '/login') {
        navigate(`/account/two-factor?next=${encodeURIComponent(ctx.path)}`, { replace: true });
        return;
    }
    state.current = window.location.pathname;
    main.setAttribute('aria-busy', 'true');
    clearStaleFlash();
    topbar();
    const box = h('div', { class: 'page' });
    const full = {
        ...ctx,
        session: state.session,
        navigate,
        reload,
        setSession(s) { state.session = s; },
    };
    let slow = setTimeout(() => { if (seq === state.renderSeq) clear(main).append(h('p', { class: 'loading', role: 'status' }, t('common.loading'))); }, 150);
    try {
        await route.page(full, box);
    } catch (err) {
        clear(box);
        if (err.status === 404) {
            notFoundPage(full, box);
        } else if (err.status !== 401) {
            box.append(pageHeader(t('error.title')), notice(errorText(err), 'error'),
                h('p', null, button(t('common.retry'), () => reload(), { kind: 'primary' })));
        }
    }
    clearTimeout(slow);
    slow = null;
    if (seq !== state.renderSeq) return;
    clear(main).append(box);
    main.setAttribute('aria-busy', 'false');
    const title = document.getElementById('page-title');
    if (title && document.activeElement !== title && !box.querySelector('[autofocus]')) title.focus({ preventScroll: true });
    box.querySelector('[autofocus]')?.focus();
    window.scrollTo(0, 0);
}

async function boot() {
    try {
        await loadCatalogs();
    } catch (e) {
        clear(document.getElementById('main')).append(h('p', { class: 'notice notice-error', role: 'alert' }, `The web admin could not load its text (${e.message}).`));
        return;
    }
    document.body.insertBefore(h('div', { id: 'flash', class: 'flash', role: 'status', 'aria-live': 'polite' }),
        document.getElementById('main'));
    try {
        state.session = await currentSession();
    } catch (err) {
        clear(document.getElementById('main')).append(notice(errorText(err), 'error'));
        return;
    }
    onUnauthorized(() => {
        state.session = null;
        const here = window.location.pathname + window.location.search;
        if (!here.startsWith('/login')) navigate(`/login?next=${encodeURIComponent(here)}&expired=1`, { replace: true });
    });
    onLangChange(() => reload());
    addRoutes(ROUTES);
    start(onRoute);
}

boot();
