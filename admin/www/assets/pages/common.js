// common.js -- what the organization and server pages share: loading an organization
// or a server, their tabs and breadcrumbs, and what a role may do.
//
// Contract: the tab lists below are the one place a new page family adds its tab
// (a server: overview, messages, held, domains, mailboxes, credentials, routes, webhooks,
// suppressions, settings). Roles as doc/api.md: readonly
// reads, member also writes a server's domains and credentials, admin manages the
// organization, owner also owners.

import { get, p } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { tabs } from '../lib/ui.js';

export const ROLES = ['owner', 'admin', 'member', 'readonly'];

export const canWrite = (org) => org.role !== 'readonly';
export const canAdmin = (org) => org.role === 'owner' || org.role === 'admin';
export const isOwner = (org) => org.role === 'owner';

export const orgUrl = (org, rest = '') => `/orgs/${encodeURIComponent(org.permalink)}${rest}`;
export const serverUrl = (org, server, rest = '') =>
    `${orgUrl(org)}/servers/${encodeURIComponent(server.permalink)}${rest}`;

export const orgApi = (permalink) => p`/organizations/${permalink}`;
export const serverApi = (org, server) => p`/organizations/${org}/servers/${server}`;

export async function loadOrg(permalink) {
    return (await get(orgApi(permalink))).organization;
}

export async function loadServer(orgPermalink, serverPermalink) {
    const [org, data] = await Promise.all([loadOrg(orgPermalink), get(serverApi(orgPermalink, serverPermalink))]);
    return { org, server: data.server };
}

export function orgCrumbs(org, ...more) {
    return [[t('nav.organizations'), '/orgs'], [org.name, orgUrl(org, '/servers')], ...more];
}

export function serverCrumbs(org, server, ...more) {
    return orgCrumbs(org, [t('nav.servers'), orgUrl(org, '/servers')], [server.name, serverUrl(org, server)], ...more);
}

// The organization's tabs; current is the key of the page shown.
export function orgTabs(org, current) {
    const items = [
        { key: 'servers', label: t('nav.servers'), href: orgUrl(org, '/servers') },
        { key: 'domains', label: t('nav.domains'), href: orgUrl(org, '/domains') },
        { key: 'members', label: t('nav.members'), href: orgUrl(org, '/members') },
        { key: 'settings', label: t('nav.settings'), href: orgUrl(org, '/settings') },
    ];
    return tabs(t('nav.org_sections'), items.map((i) => ({ ...i, current: i.key === current })));
}

export function serverTabs(org, server, current) {
    const items = [
        { key: 'overview', label: t('nav.overview'), href: serverUrl(org, server) },
        { key: 'messages', label: t('nav.messages'), href: serverUrl(org, server, '/messages') },
        { key: 'held', label: t('nav.held'), href: serverUrl(org, server, '/held') },
        { key: 'domains', label: t('nav.domains'), href: serverUrl(org, server, '/domains') },
        { key: 'mailboxes', label: t('nav.mailboxes'), href: serverUrl(org, server, '/mailboxes') },
        { key: 'credentials', label: t('nav.credentials'), href: serverUrl(org, server, '/credentials') },
        { key: 'routes', label: t('nav.routes'), href: serverUrl(org, server, '/routes') },
        { key: 'webhooks', label: t('nav.webhooks'), href: serverUrl(org, server, '/webhooks') },
        { key: 'suppressions', label: t('nav.suppressions'), href: serverUrl(org, server, '/suppressions') },
        { key: 'settings', label: t('nav.server_settings'), href: serverUrl(org, server, '/settings') },
    ];
    return tabs(t('nav.server_sections'), items.map((i) => ({ ...i, current: i.key === current })));
}

// Suggests a permalink from a name: lowercase letters, digits and inner hyphens.
export function slugify(name) {
    return name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

// Fills the permalink field from the name until the person edits it.
export function linkPermalink(f) {
    const name = f.input('name');
    const permalink = f.input('permalink');
    let touched = false;
    permalink.addEventListener('input', () => { touched = true; });
    name.addEventListener('input', () => { if (!touched) permalink.value = slugify(name.value); });
}
