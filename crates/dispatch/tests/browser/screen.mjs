// The incident page as an incident commander lives in it, in a real headless Chromium: one check
// per point of the UI's brief, each one that fails without it. Every link opens a page, never
// the JSON API (1); the incident is edited in place (2); actions come back to the same place
// with a toast (3); a member who may not close sees no close (4); closing warns about open
// tasks and asks for the resolution, and who ran it stays on the page (5); the room renders
// links, formatting and buttons (6); the timeline speaks in sentences, from → to, and hides
// Dispatch's bookkeeping until asked (7); the list has triage views with counts and fits a
// 390 px phone (8); favicon, copy link, confirmation before revoking (9); axe-core finds no
// serious or critical accessibility violation on the main pages; an empty install offers a
// test incident.
//
// Run by `cargo test -p dispatch --test browser`, with DISPATCH_BASE, DISPATCH_EMAIL (a member
// who reports and commands), DISPATCH_OTHER_EMAIL (a member who only looks), DISPATCH_PASSWORD,
// ARTIFACTS and CHROMIUM as for walk.mjs.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.DISPATCH_BASE;
const email = process.env.DISPATCH_EMAIL;
const other = process.env.DISPATCH_OTHER_EMAIL;
const password = process.env.DISPATCH_PASSWORD;
const artifacts = join(process.env.ARTIFACTS || "test-artifacts/browser", "screen");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!base || !email || !other || !password) {
  console.error("DISPATCH_BASE, DISPATCH_EMAIL, DISPATCH_OTHER_EMAIL and DISPATCH_PASSWORD are required");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const profile = mkdtempSync(join(tmpdir(), "dispatch-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
  viewport: { width: 1440, height: 900 },
});
context.setDefaultTimeout(20_000);
const page = context.pages()[0] || (await context.newPage());
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));

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
// axe-core on the open page: no serious or critical violation.
async function accessible(what) {
  // Evaluated through the DevTools protocol: the page's CSP allows no inline script.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    (await axe.run(document, { resultTypes: ["violations"] })).violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`));
  check(result.length === 0, `axe-core: no serious or critical violation on ${what}${result.length ? `: ${result.join("; ")}` : ""}`);
}
async function signIn(who) {
  await page.goto(`${base}/auth/login`);
  await page.getByLabel("E-mail").fill(who);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/incidents/);
}

try {
  // First run: nothing declared yet, the list explains where to start and offers a test incident.
  await signIn(email);
  check(await page.getByRole("heading", { name: "Welcome to Dispatch" }).isVisible(), "an empty install explains what to set up");
  check(await page.getByRole("button", { name: "Declare a test incident" }).isVisible(), "and offers a test incident");
  await accessible("the empty incidents list");
  await shot("first-run");

  // The incident, declared from the report form.
  await page.getByRole("link", { name: "Report", exact: true }).click();
  await page.getByLabel("Title").fill("Disk full on db-7");
  await page.getByLabel("Description").fill("WAL volume at 100%.");
  await page.getByRole("button", { name: "Report incident" }).click();
  await page.waitForURL(/\/incidents\/[A-Z]+-\d+$/);
  const key = page.url().split("/").pop();
  await page.locator('[data-live="resources"] .resource[data-kind="conversation"][data-status="ready"]').waitFor();
  await page.locator('[data-live="resources"] .resource[data-kind="document"][data-status="ready"]').waitFor();
  await page.reload();

  // (3) A working screen: the room and the timeline side by side on a wide screen.
  const room = await page.locator("#room").boundingBox();
  const timeline = await page.locator("#timeline").boundingBox();
  check(Math.abs(room.y - timeline.y) < 5 && timeline.x > room.x + room.width - 5, "the room and the timeline sit side by side");
  await accessible("the incident page");
  await shot("incident-desktop");

  // (1) Every link on the page opens a page of the UI.
  const hrefs = await page.$$eval("a[href]", (as) => as.map((a) => a.href));
  check(!hrefs.some((h) => h.includes("/api/")), `no link on the incident page opens the JSON API (${hrefs.filter((h) => h.includes("/api/")).join(", ")})`);
  for (const href of [...new Set(hrefs.filter((h) => h.startsWith(base) && !h.includes("#") && !/\.(md|csv)(\?|$)/.test(h) && !h.endsWith("/events")))]) {
    const r = await page.request.get(href);
    check(r.ok() && (r.headers()["content-type"] || "").startsWith("text/html"), `${href.slice(base.length)} opens a page`);
  }
  await page.locator("#documents h3 a").first().click();
  await page.waitForURL(/\/documents\/\d+$/);
  check(await page.locator(".markdown").first().isVisible(), "the document opens rendered");
  await page.getByLabel("Markdown").fill("# Notes\n\nThe WAL volume filled at 03:12.");
  await page.getByRole("button", { name: "Save document" }).click();
  await page.waitForURL(/\/documents\/\d+$/);
  check(await page.getByRole("heading", { name: "Notes" }).isVisible(), "and is edited on its page");
  await accessible("a document's page");
  await page.goto(`${base}/incidents/${key}/files`);
  await page.locator("#file").setInputFiles({ name: "df.txt", mimeType: "text/plain", buffer: Buffer.from("/dev/sdb1 100%\n") });
  await page.getByRole("button", { name: "Upload" }).click();
  const download = page.getByRole("link", { name: "df.txt" });
  await download.waitFor();
  const got = await page.request.get(new URL(await download.getAttribute("href"), base).href);
  check(got.ok() && (await got.text()).includes("/dev/sdb1"), "a file is uploaded on the files page and downloads from it");
  await page.goto(`${base}/incidents/${key}/room`);
  check(await page.locator("#room ol.messages").isVisible(), "the room opens full screen");

  // (6) The room as a chat: a posted address is a link, markdown is formatted, and Dispatch's
  // buttons work.
  await page.getByLabel("Message", { exact: true }).fill("Graphs: https://grafana.example/d/db7 — **disk** is `100%`");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator('#room a[href="https://grafana.example/d/db7"]').waitFor();
  check(await page.locator("#room .chat strong", { hasText: "disk" }).count() === 1, "markdown in the room is formatted, and the address is a link");
  await accessible("the room's page");
  await shot("room");

  // (2) The incident is edited on its page; (7) the timeline says what changed, from → to.
  await page.goto(`${base}/incidents/${key}`);
  await page.getByText("Edit the incident").click();
  await page.getByLabel("Title", { exact: true }).fill("Disk full on db-7 (primary)");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.locator(".toast", { hasText: "Incident saved." }).waitFor();
  check(await page.locator("h1", { hasText: "(primary)" }).isVisible(), "the title is edited on the page, and a toast says so");
  await page.locator("#timeline li", { hasText: "from Disk full on db-7 to Disk full on db-7 (primary)" }).waitFor();
  check(true, "the timeline says the title changed from → to");
  check(await page.locator("#timeline li", { hasText: "ready:" }).count() === 0, "the timeline hides Dispatch's bookkeeping by default");
  await page.locator("#timeline-type").selectOption("system");
  await page.locator("#timeline li", { hasText: "ready:" }).first().waitFor();
  check(true, "and shows it when asked for system events");

  // (3) An action comes back to where the person was, with a toast.
  await page.locator("#task-description").scrollIntoViewIfNeeded();
  await page.getByLabel("New task").fill("Grow the WAL volume");
  await page.getByRole("button", { name: "Add task" }).click();
  await page.locator(".toast", { hasText: "Task added." }).waitFor();
  check(await page.evaluate(() => window.scrollY) > 300, "after adding a task the page is where the person was, not at the top");
  check(!page.url().includes("done="), "and the toast is not kept in the address");

  // (5) Closing warns about the open task and asks for the resolution.
  await page.getByRole("link", { name: "Close…" }).click();
  await page.waitForURL(/\/close$/);
  check(await page.locator(".warning", { hasText: "still open" }).isVisible(), "closing warns that a task is still open");
  check(await page.locator(".warning", { hasText: "No resolution yet" }).isVisible(), "and that there is no resolution");
  await accessible("the close page");
  await shot("close");
  await page.getByLabel(/^Resolution/).fill("");
  await page.locator("#close-resolution").evaluate((t) => t.removeAttribute("required"));
  await page.getByRole("button", { name: "Close the incident" }).click();
  check((await page.locator("#close-resolution-e").textContent()).includes("resolved"), "closing without a resolution is refused beside the field");
  await page.getByLabel(/^Resolution/).fill("Grew the volume to 2 TB and moved old WAL to cold storage.");
  await page.getByRole("button", { name: "Close the incident" }).click();
  await page.waitForURL(new RegExp(`/incidents/${key}\\?|/incidents/${key}$`));
  await page.locator("#incident-status", { hasText: "closed" }).waitFor();
  check(await page.locator("header, section").getByText("Grew the volume to 2 TB").first().isVisible(), "the closed incident shows its resolution");
  check(await page.locator('[data-live="participants"]', { hasText: /was [a-z, ]*incident commander/ }).isVisible(), "after close the page says who was the commander");
  check(await page.locator('form[action$="/tasks"]').count() === 0, "a closed incident shows no task form");
  await shot("closed");

  // (9) Favicon and copy link.
  check(await page.locator('link[rel="icon"]').count() === 1, "pages have a favicon");
  check(await page.getByRole("button", { name: /Copy link to/ }).isVisible(), "the incident has a copy-link button");

  // (8) The list: triage views with counts, usable on a 390 px phone.
  await page.goto(`${base}/incidents`);
  check((await page.getByRole("link", { name: /^Closed/ }).textContent()).includes("1"), "the list's triage views show counts");
  await page.setViewportSize({ width: 390, height: 844 });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "the list fits a 390 px wide phone");
  await shot("list-phone");
  await page.goto(`${base}/incidents/${key}`);
  const wide = await page.evaluate(() => [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > 392).slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`));
  check(await page.evaluate(() => document.documentElement.scrollWidth <= 390), `the incident page fits a 390 px wide phone (${wide.join(", ")})`);
  await shot("incident-phone");
  await page.setViewportSize({ width: 1440, height: 900 });

  // (9) Revoking a token asks first.
  await page.goto(`${base}/account`);
  await page.getByLabel("Token name").fill("ci");
  await page.getByRole("button", { name: "Create token" }).click();
  let asked = "";
  page.once("dialog", async (d) => { asked = d.message(); await d.dismiss(); });
  await page.getByRole("button", { name: "Revoke ci" }).click();
  check(asked.includes("Revoke"), "revoking a token asks first");
  check(await page.getByRole("button", { name: "Revoke ci" }).isVisible(), "and a no keeps it");

  // (4) A member who only looks sees no life-cycle action.
  await page.locator("header.top").getByRole("button", { name: "Sign out" }).click();
  await signIn(other);
  await page.goto(`${base}/report`);
  await page.getByLabel("Title").fill("Replica lag on db-9");
  await page.getByLabel("Description").fill("Reads are a minute behind.");
  await page.getByRole("button", { name: "Report incident" }).click();
  await page.waitForURL(/\/incidents\/[A-Z]+-\d+$/);
  const theirs = page.url().split("/").pop();
  await page.locator("header.top").getByRole("button", { name: "Sign out" }).click();
  await signIn(email);
  await page.goto(`${base}/incidents/${theirs}`);
  check(await page.getByRole("button", { name: "Mark stable" }).count() === 0 && await page.getByRole("link", { name: "Close…" }).count() === 0,
    "a member who is not in the incident sees no stable or close action");

  check(pageErrors.length === 0, `no script error on any page (${pageErrors.join("; ")})`);
  console.log("screen walk: passed");
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(`screen walk failed at ${page.url()}: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
