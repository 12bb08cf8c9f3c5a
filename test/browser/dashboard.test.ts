import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, stopAll, waitUntil, type CliProcess } from '../integration/distributed-cluster.js';
import { eventsFile, GROUP_CREWS, groupConfig } from '../integration/pool-helpers.js';
import { natsServer, requireBinary } from '../integration/servers.js';

// What a person sees on the dev dashboard during a paced match-day run, in Debian's chromium
// (`.ci/run` installs it), driven by playwright-core. LIVE_CREW_TEST_SCREENSHOT=<file.png> also saves
// the finished page there (the README's picture is made so).
const browserPath = requireBinary('chromium');
const startNats = natsServer();

/** Flags for a root, headless chromium on a closed network (no update or sync connections). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** match-day's config, slow enough to watch: slices close 10 min of event time late (1 s at pace 600), and referee_watch is disabled at its first error. */
function matchDayConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-dashboard-'));
  copyFileSync('examples/match-day/live-config.yaml', join(dir, 'live-config.yaml'));
  writeFileSync(join(dir, 'live-config.yaml'), `${readFileSync(join(dir, 'live-config.yaml'), 'utf8')}\nlateness_ms: 600000\n`);
  writeFileSync(join(dir, 'referee_watch.runtime.yaml'), 'maxErrors: 1\n');
  return join(dir, 'live-config.yaml');
}

describe.skipIf(browserPath === undefined)('the dev dashboard in a browser', () => {
  let browser: Browser;
  let dev: CliProcess;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: browserPath!, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    if (dev !== undefined) await stopAll([dev]);
  });

  it('shows a paced match-day run live: goal overlays as they come, the score in the context, the malformed card with its crew, the crew it disabled', async () => {
    dev = startCli(
      [
        'dev',
        'examples/match-day/events.jsonl',
        '--crews',
        'examples/match-day/dist/crews.js',
        '--crews',
        'examples/match-day/crews',
        '--config',
        matchDayConfig(),
        '--pace',
        '600',
        '--port',
        '0',
        '--out',
        join(tmpdir(), 'live-crew-dashboard-actions.jsonl'),
        '--errors',
        join(tmpdir(), 'live-crew-dashboard-errors.jsonl'),
      ],
      { MATCH_DAY_PUNDIT_MS: '0' },
    );
    await waitUntil(() => /live-crew dashboard: (http:\S+)/.test(dev.stderr()), 'the dashboard to be served');
    const url = /live-crew dashboard: (http:\S+)/.exec(dev.stderr())![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url);

    const actions = page.getByRole('region', { name: 'Actions' });
    const overlays = actions.locator('li[data-kind="overlay"]');
    // The first goal's overlay shows while the match is still being played.
    await overlays.first().waitFor({ timeout: 120_000 });
    expect(await page.locator('header .badge').first().textContent()).toBe('running');
    expect(await overlays.first().textContent()).toMatch(/overlay\s*graphics.*"template":"goal"/);

    await page.locator('header .badge.finished').waitFor({ timeout: 120_000 });
    expect(await overlays.count()).toBe(5);

    const score = page.getByRole('region', { name: 'Context' }).locator('[data-key="score"]');
    expect((await score.innerText()).replace(/\s+/g, '')).toBe('score{"home":3,"away":2}');

    const errors = page.getByRole('region', { name: 'Errors' });
    const malformed = errors.locator('li[data-reason="handler_error"]');
    expect(await malformed.count()).toBe(1);
    expect(await malformed.innerText()).toMatch(/handler_error\s+referee_watch\s+match_42 · slice \d+ · examples\/match-day\/events\.jsonl:3536\s+referee_watch\.onCard threw: malformed card event/);
    expect(await errors.locator('li[data-reason="disabled"][data-crew="referee_watch"]').count()).toBe(1);

    const referee = page.getByRole('region', { name: 'Crews' }).locator('tr[data-crew="referee_watch"]');
    expect(await referee.getAttribute('data-status')).toBe('disabled');
    expect(await referee.locator('.status').innerText()).toBe('disabled');
    expect(await page.locator('.graph g.node.disabled[data-crew="referee_watch"]').count()).toBe(1);

    // Filtering the actions by crew leaves that crew's only.
    await actions.getByLabel('filter by crew').selectOption('graphics');
    expect(await actions.locator('li').count()).toBe(5);
    expect(await actions.locator('li:not([data-crew="graphics"])').count()).toBe(0);
    await actions.getByLabel('filter by crew').selectOption('');

    await page.close();

    // A page opened now paints the run as it loads, from the view served with it: its event
    // stream is cut here, and the crews, counts and context are there all the same.
    const cut = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await cut.route('**/api/events', (route) => route.abort());
    await cut.goto(url, { waitUntil: 'load' });
    expect(await cut.locator('header .badge').first().textContent()).toBe('finished');
    expect(await cut.locator('header .counts dd').first().textContent()).toBe('4699');
    expect(await cut.getByRole('region', { name: 'Crews' }).locator('tr[data-crew="referee_watch"]').getAttribute('data-status')).toBe('disabled');
    expect((await cut.getByRole('region', { name: 'Context' }).locator('[data-key="score"]').innerText()).replace(/\s+/g, '')).toBe('score{"home":3,"away":2}');
    await cut.close();

    // The screenshot is taken at load, as a person first sees the page.
    const fresh = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await fresh.goto(url, { waitUntil: 'load' });
    const screenshot = process.env['LIVE_CREW_TEST_SCREENSHOT'] ?? join(tmpdir(), 'live-crew-dashboard.png');
    await fresh.screenshot({ path: screenshot, fullPage: true });
    expect(await fresh.locator('tr[data-crew]').count()).toBe(7);
    await fresh.close();
  });

  it.skipIf(startNats === undefined)('dev --nats-url shows a pool: its worker and runner group, and each stream with who serves it', async () => {
    const server = await startNats!();
    const running: CliProcess[] = [];
    try {
      const config = groupConfig();
      const member = (args: string[]) => {
        const p = startCli([...args, '--crews', GROUP_CREWS, '--config', config, '--nats-url', server.url], { LIVE_CREW_LEASE_MS: '1500' });
        running.push(p);
        return p;
      };
      const viewer = member(['dev', '--port', '0']);
      member(['worker', '--id', 'bw1']);
      member(['runner', '--group', 'slow', '--id', 'br1']);
      const { file, ids } = eventsFile('shown', 3, 6);
      expect(runCli(['publish', file, '--nats-url', server.url]).status).toBe(0);
      await waitUntil(() => /live-crew dashboard: (http:\S+)/.test(viewer.stderr()), 'the dashboard to be served');
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await page.goto(/live-crew dashboard: (http:\S+)/.exec(viewer.stderr())![1]!);
      const streams = page.getByRole('region', { name: 'Pool streams' });
      // Each stream's row names its worker and, under the group's column, its runner.
      await waitUntil(async () => (await streams.locator('tr[data-stream]').allInnerTexts()).filter((row) => /bw1\s+br1$/.test(row)).length === ids.length, 'every stream served by bw1 and br1');
      expect(await streams.locator('th').allInnerTexts()).toEqual(['stream', 'state', 'events', 'worker', 'slow']);
      expect((await streams.locator('tr[data-stream]').allInnerTexts()).map((row) => row.split(/\s+/))).toEqual(ids.map((id) => [id, 'active', '6', 'bw1', 'br1']));
      const members = page.getByRole('region', { name: 'Members' });
      expect(await members.locator('li[data-member]').allInnerTexts()).toEqual(['bw1: 3 streams', 'br1: 3 streams']);
      await page.close();
    } finally {
      await stopAll(running);
      await server.stop();
    }
  });
});
