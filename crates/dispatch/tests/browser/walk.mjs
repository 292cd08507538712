// The web UI walked as a person would, in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): sign in → report an incident → watch its room and resources come up
// live → run /dispatch-assign-role in the room → add a task → post a tactical report → see the
// command hints, add a pinned timeline event and pin another → mark it stable → close it → find it
// in the list with a filter → the status page → mint a token on the account page. Then an admin
// creates an engagement rule in the settings pages, declares a matching incident and sees the rule
// bring its observer in, defines a signal, sends alerts and escalates their case from its page
// (also looked at phone-sized and dark); and the settings, dashboard and API docs pages are opened. A screenshot of
// each page is saved. The walk fails on any script error, and on anything the
// Content-Security-Policy refuses (Chromium's "Refused to …" in the console).
//
// Run by `cargo test -p dispatch --test browser`, which starts the server and passes:
//   DISPATCH_BASE      the server's base URL
//   DISPATCH_EMAIL     a person who can sign in, and DISPATCH_PASSWORD
//   DISPATCH_ADMIN_EMAIL  an admin with the same password (the settings part is skipped without)
//   ARTIFACTS          where to save the screenshots
//   CHROMIUM           the browser (default /usr/bin/chromium)
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.DISPATCH_BASE;
const email = process.env.DISPATCH_EMAIL;
const password = process.env.DISPATCH_PASSWORD;
const adminEmail = process.env.DISPATCH_ADMIN_EMAIL;
const artifacts = process.env.ARTIFACTS || "test-artifacts/browser";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!base || !email || !password) {
  console.error("DISPATCH_BASE, DISPATCH_EMAIL and DISPATCH_PASSWORD are required");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

const profile = mkdtempSync(join(tmpdir(), "dispatch-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(20_000);
const page = context.pages()[0] || (await context.newPage());
// Every request the page makes must go to this server: no asset from anywhere else.
const foreign = [];
page.on("request", (r) => {
  if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
});
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
// Whatever the Content-Security-Policy refuses (an inline script or style, a handler, eval)
// would silently break part of a page: Chromium reports it in the console as "Refused to …".
const refused = [];
page.on("console", (m) => {
  if (/Refused to|Content Security Policy/i.test(m.text())) {
    refused.push(`${page.url()} (${m.location().url}): ${m.text()}`);
  }
});

let step = 0;
async function shot(name) {
  step += 1;
  const file = join(artifacts, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${file}`);
}
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

try {
  // Sign in: the home page sends a signed-out person to the sign-in form.
  await page.goto(`${base}/`);
  check(page.url().includes("/auth/login"), "signed out, / shows the sign-in page");
  await shot("sign-in");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/incidents/);
  check(await page.getByRole("heading", { name: "Incidents", exact: true }).isVisible(), "signed in, the incidents list opens");
  await shot("incidents");

  // Report an incident; a missing title is named beside the field.
  await page.getByRole("link", { name: "Report", exact: true }).click();
  await page.waitForURL(/\/report$/);
  await page.getByLabel("Description").fill("Checkout answers 502 for a third of requests.");
  await page.getByRole("button", { name: "Report incident" }).click();
  check(
    (await page.locator("#r-title-e").textContent()).includes("required"),
    "a report without a title shows the error beside the title",
  );
  await shot("report-error");
  const title = `Checkout errors ${Date.now()}`;
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Priority").selectOption({ index: 1 });
  await shot("report");
  await page.getByRole("button", { name: "Report incident" }).click();
  await page.waitForURL(/\/incidents\/[A-Z]+-\d+$/);
  const key = page.url().split("/").pop();
  check(/^[A-Z]+-\d+$/.test(key), `the incident page opens at once (${key})`);
  await shot("incident-new");

  // Its room and resources come up live: a mark set on this page survives, so it was not
  // reloaded while the parts changed.
  await page.evaluate(() => { window.__openedOnce = true; });
  const pendingAtFirst = await page.locator('[data-live="resources"] .resource[data-status="pending"]').count();
  console.log(`  ${pendingAtFirst} resource(s) pending when the page opened`);
  await page.locator('[data-live="resources"] .resource[data-kind="conversation"][data-status="ready"]').waitFor();
  await page.locator('[data-live="room"] ol.messages li[id^="message-"]').first().waitFor();
  check(await page.evaluate(() => window.__openedOnce === true), "the room and resources came up on the open page, without a reload");
  await shot("incident-live");

  // A chat command from the room.
  await page.getByLabel("Message", { exact: true }).fill("/dispatch-assign-role bob@example.com scribe");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator('[data-live="participants"]', { hasText: "bob@example.com" }).waitFor();
  await page.locator('[data-live="participants"] li', { hasText: "bob@example.com" }).filter({ hasText: "scribe" }).waitFor();
  check(
    await page.evaluate(() => window.__openedOnce === true),
    "/dispatch-assign-role in the room made bob the scribe, and the participants updated live",
  );
  await page.locator('[data-live="room"]', { hasText: "/dispatch-assign-role" }).waitFor();
  await shot("room-command");

  // A task.
  await page.getByLabel("New task").fill("Roll back the checkout deploy");
  await page.getByLabel("Assignees").fill("bob@example.com");
  await page.getByRole("button", { name: "Add task" }).click();
  await page.locator('[data-live="tasks"] .task', { hasText: "Roll back the checkout deploy" }).waitFor();
  check(true, "the task is listed");
  await shot("task");

  // A tactical report.
  await page.getByLabel("Conditions").fill("Checkout degraded in eu-west.");
  await page.getByLabel("Actions").fill("Rolling back.");
  await page.getByLabel("Needs").fill("Nothing yet.");
  await page.getByRole("button", { name: "Post report" }).click();
  await page.locator('[data-live="reports"] .report', { hasText: "Checkout degraded in eu-west." }).waitFor();
  check(true, "the tactical report is shown");
  await shot("report-posted");

  // Typing "/" in the room lists the chat commands.
  await page.getByLabel("Message", { exact: true }).fill("");
  await page.getByLabel("Message", { exact: true }).pressSequentially("/dispatch-as");
  await page.locator("#command-hints li", { hasText: "dispatch-assign-role" }).waitFor();
  check(await page.locator("#command-hints").isVisible(), "typing / in the room lists the matching chat commands");
  await page.getByLabel("Message", { exact: true }).fill("");

  // A custom timeline event, pinned at once: pinned events come first. Then another event is
  // pinned from the timeline itself, in place.
  await page.getByLabel("What happened").fill("Rolled back to build 41.");
  await page.getByLabel("Pin it").check();
  await page.getByRole("button", { name: "Add event" }).click();
  await page.locator('[aria-label="Pinned events"] li', { hasText: "Rolled back to build 41." }).waitFor();
  check(true, "the custom event is on the timeline, pinned first");
  await page.getByRole("button", { name: /^Pin event \d+$/ }).first().click();
  await page.waitForFunction(() => document.querySelectorAll('[aria-label="Pinned events"] li').length === 2);
  check(true, "an event pinned from the timeline joins the pinned ones");
  await shot("timeline-pinned");

  // Stable, then closed.
  await page.getByRole("button", { name: "Mark stable" }).click();
  await page.locator("#incident-status", { hasText: "stable" }).waitFor();
  check(true, "the incident is stable");
  await shot("stable");
  await page.getByRole("link", { name: "Close…" }).click();
  await page.getByLabel(/^Resolution/).fill("Rolled back to build 41.");
  await page.getByRole("button", { name: "Close the incident" }).click();
  await page.locator("#incident-status", { hasText: "closed" }).waitFor();
  check(true, "the incident is closed");
  await shot("closed");

  // Found in the list with a filter.
  await page.getByRole("link", { name: "Incidents", exact: true }).click();
  await page.locator("details.filters > summary").click();
  await page.getByLabel("Saved view (filter language)").fill(`status = closed and title ~ "${title}"`);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/filter=/);
  const row = page.locator("table tbody tr", { hasText: key });
  await row.waitFor();
  check((await page.locator("table tbody tr").count()) === 1, "the filter finds exactly the closed incident");
  await shot("list-filtered");
  const csv = await page.request.get(`${base}/incidents.csv?filter=${encodeURIComponent(`title ~ "${title}"`)}`);
  check(csv.ok() && (await csv.text()).includes(key), "the CSV export with the same filter has it");

  // The status page and the account page, with a token minted and shown once.
  await page.getByRole("link", { name: "Status", exact: true }).click();
  await page.waitForURL(/\/status$/);
  check(await page.getByRole("heading", { name: "Status", exact: true }).isVisible(), "the status page opens");
  await shot("status");
  await page.getByRole("link", { name: "Account", exact: true }).click();
  await page.waitForURL(/\/account$/);
  await page.getByLabel("Token name").fill("browser walk");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = (await page.locator("#minted-secret").textContent()).trim();
  check(secret.length > 20, "a new API token is shown once on the account page");
  const me = await page.request.get(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  check(me.ok() && (await me.json()).email === email, "the new token works against the API");
  await shot("account");
  if (adminEmail) {
    // A member has no settings: no entry in the navigation.
    check((await page.getByRole("link", { name: "Settings", exact: true }).count()) === 0, "a member sees no Settings entry");
    // The dashboard counts the closed incident.
    await page.getByRole("link", { name: "Dashboard", exact: true }).click();
    await page.waitForURL(/\/dashboard/);
    check(Number(await page.locator("#d-total").textContent()) >= 1, "the dashboard counts the incidents");
    await shot("dashboard");

    // An admin signs in and creates an engagement rule in the settings.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/auth\/login/);
    await page.getByLabel("E-mail").fill(adminEmail);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/incidents/);
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    await page.waitForURL(/\/settings$/);
    await shot("settings");
    await page.getByRole("link", { name: "Engagement rules", exact: true }).click();
    await page.getByRole("link", { name: "New", exact: true }).click();
    await page.waitForURL(/\/settings\/engagement-rules\/new/);
    const word = `Replica${Date.now()}`;
    await page.getByLabel("Name", { exact: true }).fill("Database observers");
    await page.getByLabel("Filter", { exact: true }).fill(`(title ~ "${word}"`);
    await page.getByLabel("Individuals (observers)").fill("dba@example.com");
    await page.getByRole("button", { name: "Save" }).click();
    check(
      (await page.locator("#s-filter-e").textContent()).includes("position"),
      "a filter with a mistake shows where, beside the field",
    );
    await shot("settings-rule-error");
    await page.getByLabel("Filter", { exact: true }).fill(`title ~ "${word}"`);
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/settings\/engagement-rules\?/);
    await page.locator("table tbody tr", { hasText: "Database observers" }).waitFor();
    check(true, "the rule is listed");
    await shot("settings-rules");

    // A matching incident brings the rule's observer in, live on its page.
    await page.getByRole("link", { name: "Report", exact: true }).click();
    await page.getByLabel("Title").fill(`${word} lag on the primary`);
    await page.getByLabel("Description").fill("Reads are minutes behind.");
    await page.getByRole("button", { name: "Report incident" }).click();
    await page.waitForURL(/\/incidents\/[A-Z]+-\d+$/);
    await page.locator('[data-live="participants"] li', { hasText: "dba@example.com" }).waitFor({ timeout: 30_000 });
    check(true, "the engagement rule added dba@example.com to the matching incident");
    await shot("incident-engaged");
    await page.getByRole("link", { name: "Dashboard", exact: true }).click();
    await page.waitForURL(/\/dashboard/);
    await shot("dashboard-admin");

    // Signals: the admin defines which alerts open a case, an alert arrives, and the case is
    // worked on its page up to an incident; the pages are also looked at phone-sized and dark.
    await page.getByRole("link", { name: "Signals", exact: true }).click();
    await page.waitForURL(/\/signals/);
    await page.getByRole("link", { name: "New definition" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Disk filling up");
    await page.getByLabel("Label matcher").fill('alertname="DiskFull", env=~"prod.*"');
    await page.getByLabel("Entity types").fill("host: label=instance");
    await page.getByLabel("Deduplication window (seconds)").fill("soon");
    await page.getByRole("button", { name: "Save" }).click();
    check(
      (await page.locator("#s-dedup_window_seconds-e").textContent()).includes("whole number"),
      "a signal definition's mistake is shown beside its field",
    );
    await shot("signal-definition-error");
    await page.getByLabel("Deduplication window (seconds)").fill("3600");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/signals\?project=/);
    const alert = (host, fp) => ({
      version: "4", status: "firing", receiver: "dispatch", groupKey: "{}:{}", alerts: [{
        status: "firing", labels: { alertname: "DiskFull", env: "production", instance: host },
        annotations: { summary: `Disk 95% full on ${host}` }, startsAt: new Date().toISOString(),
        endsAt: "0001-01-01T00:00:00Z", fingerprint: fp }],
    });
    // Sent as the signed-in admin (the session and its CSRF token), as a source's token would.
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    for (const [host, fp] of [["db1:9100", "d1"], ["db1:9100", "d1"], ["db2:9100", "d2"]]) {
      const r = await page.request.post(`${base}/api/v1/signals/alertmanager`, {
        headers: { "x-csrf-token": csrf }, data: alert(host, fp) });
      check(r.ok(), `an Alertmanager alert for ${host} is taken in${r.ok() ? "" : `: ${r.status()} ${await r.text()}`}`);
    }
    await page.reload();
    check(await page.locator("svg.bars rect").count() >= 1, "the definition shows its alerts per hour");
    await shot("signals");
    await page.getByRole("link", { name: "Cases", exact: true }).first().click();
    await page.waitForURL(/\/cases/);
    await shot("cases");
    await page.locator("table tbody tr", { hasText: "db1" }).getByRole("link").first().click();
    await page.waitForURL(/\/cases\/\d+$/);
    // The case page updates live while the worker runs: a part swapped in closes an opened
    // payload again, so it is opened until it stays open.
    for (let i = 0; i < 10 && !(await page.locator("pre.raw").first().isVisible()); i++) {
      await page.getByText("Raw payload").first().click();
      await page.waitForTimeout(300);
    }
    check(await page.locator("pre.raw").first().isVisible(), "the raw payload opens as formatted text");
    await shot("case");
    await page.setViewportSize({ width: 390, height: 844 });
    await shot("case-phone");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot("case-phone-dark");
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/signals`);
    await shot("signals-dark");
    await page.goBack();
    await page.emulateMedia({ colorScheme: "light" });
    await page.getByRole("button", { name: "Acknowledge (triage)" }).click();
    await page.locator("#case-status", { hasText: "triage" }).waitFor();
    await page.getByRole("button", { name: "Escalate to an incident" }).click();
    await page.locator("#case-incident").waitFor();
    check(true, "the case is escalated and links its incident");
    await page.locator("#case-incident").click();
    await page.waitForURL(/\/incidents\/[A-Z]+-\d+$/);
    check(await page.locator("#cases a", { hasText: "Case" }).count() === 1, "the incident lists its case");
    await shot("incident-from-case");
  }

  // The API docs page runs its own script under the same policy.
  await page.goto(`${base}/api/v1/docs`);
  await page.locator("#ops details").first().waitFor();
  check((await page.locator("#ops details").count()) > 50, "the API docs page lists the operations");
  await shot("api-docs");

  check(foreign.length === 0, `no request left the server (${foreign.join(", ")})`);
  check(refused.length === 0, `the Content-Security-Policy refused nothing (${refused.join("; ")})`);
  check(pageErrors.length === 0, `no script error on any page (${pageErrors.join("; ")})`);
  console.log("browser walk: passed");
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(`browser walk failed at ${page.url()}: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
