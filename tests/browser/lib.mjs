// lib.mjs: browser helpers: Debian's chromium driven by playwright-core
// (no browser download), screenshots into env SANAD_SCREENSHOTS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { SCREENSHOTS } from '../e2e/lib.mjs';

export * from '../e2e/lib.mjs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

/** Launches chromium (playwright gives it a fresh temporary profile). */
export async function launch() {
    return chromium.launch({
        executablePath: process.env.SANAD_CHROMIUM || '/usr/bin/chromium',
        args: ARGS,
    });
}

/** Saves a full-page screenshot as NAME.png in the screenshots folder. */
export async function shot(page, name) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** True when the page scrolls sideways (content wider than the viewport). */
export async function scrollsSideways(page) {
    return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

/** Fills and submits the login form. */
export async function loginPage(page, base, org, username, password) {
    await page.goto(base + '/login');
    await page.fill('#organization', org);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/login"] button[type=submit]')]);
}

/** Clicks the header's log-out button and waits for the login page. */
export async function logoutPage(page) {
    await Promise.all([page.waitForURL(/\/login/), page.click('form[action="/logout"] button')]);
}
