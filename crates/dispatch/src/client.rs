//! The CLI's API client: `dispatch incident …` and `dispatch task …` call the REST API of a
//! running server (`dispatch case …` and `dispatch signal …` in [`crate::case_client`]).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

/// Where the server is and who is calling.
#[derive(Args, Clone)]
pub struct Remote {
    /// The server's base URL.
    #[arg(
        long,
        env = "DISPATCH_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// An API token (`dispatch token create`).
    #[arg(long, env = "DISPATCH_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the API's JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Fields an update can change.
#[derive(Args, Clone, Default)]
pub struct IncidentFields {
    /// Incident type (slug or name).
    #[arg(long = "type")]
    pub incident_type: Option<String>,
    /// Priority (e.g. low, medium, high).
    #[arg(long)]
    pub priority: Option<String>,
    /// Severity (e.g. undetermined, low, medium, high, critical).
    #[arg(long)]
    pub severity: Option<String>,
    /// open or restricted.
    #[arg(long)]
    pub visibility: Option<String>,
    /// A tag (`name` or `type:name`); repeat for more.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

/// `dispatch incident …`.
#[derive(Subcommand)]
pub enum IncidentCommand {
    /// Declare an incident.
    Declare {
        #[command(flatten)]
        remote: Remote,
        /// What is wrong.
        #[arg(long)]
        title: String,
        /// What is known so far.
        #[arg(long)]
        description: String,
        /// Project slug (default project when absent).
        #[arg(long)]
        project: Option<String>,
        /// E-mail of the incident commander (you when absent).
        #[arg(long)]
        commander: Option<String>,
        #[command(flatten)]
        fields: IncidentFields,
    },
    /// List incidents (newest first).
    List {
        #[command(flatten)]
        remote: Remote,
        /// Statuses, comma-separated (active,stable,closed).
        #[arg(long)]
        status: Option<String>,
        /// Project slug.
        #[arg(long)]
        project: Option<String>,
        /// Priority.
        #[arg(long)]
        priority: Option<String>,
        /// Severity.
        #[arg(long)]
        severity: Option<String>,
        /// Incident type.
        #[arg(long = "type")]
        incident_type: Option<String>,
        /// Tag.
        #[arg(long)]
        tag: Option<String>,
        /// Search text in title and description.
        #[arg(long, short)]
        q: Option<String>,
        /// Sort field (prefix - for descending).
        #[arg(long)]
        sort: Option<String>,
        /// Page.
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Rows per page (max 100).
        #[arg(long, default_value_t = 20)]
        per_page: u64,
    },
    /// Show one incident by key or id.
    Show {
        #[command(flatten)]
        remote: Remote,
        /// Key (INC-1) or id.
        incident: String,
    },
    /// Change fields of an incident.
    Update {
        #[command(flatten)]
        remote: Remote,
        /// Key or id.
        incident: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New resolution.
        #[arg(long)]
        resolution: Option<String>,
        #[command(flatten)]
        fields: IncidentFields,
    },
    /// Mark an incident stable.
    Stable {
        #[command(flatten)]
        remote: Remote,
        /// Key or id.
        incident: String,
    },
    /// Close an incident.
    Close {
        #[command(flatten)]
        remote: Remote,
        /// Key or id.
        incident: String,
    },
    /// Re-open a stable or closed incident.
    Reopen {
        #[command(flatten)]
        remote: Remote,
        /// Key or id.
        incident: String,
    },
    /// Run a chat command in an incident, e.g. `dispatch incident command INC-1 "/dispatch-mark-stable"`
    /// (`/dispatch-help` lists them).
    Command {
        #[command(flatten)]
        remote: Remote,
        /// Key or id.
        incident: String,
        /// The command line (quote it).
        text: String,
    },
}

/// `dispatch task …`.
#[derive(Subcommand)]
pub enum TaskCommand {
    /// List tasks across incidents.
    List {
        #[command(flatten)]
        remote: Remote,
        /// Only yours (assigned, owned or created).
        #[arg(long)]
        mine: bool,
        /// open or resolved.
        #[arg(long)]
        status: Option<String>,
        /// Only open tasks past their due time.
        #[arg(long)]
        overdue: bool,
    },
    /// Create a task in an incident.
    Create {
        #[command(flatten)]
        remote: Remote,
        /// Key or id of the incident.
        incident: String,
        /// What to do.
        #[arg(long)]
        description: String,
        /// E-mail of an assignee; repeat for more.
        #[arg(long = "assignee")]
        assignees: Vec<String>,
        /// Due time (RFC 3339 or date); a day from now by default.
        #[arg(long)]
        due: Option<String>,
        /// low, medium or high.
        #[arg(long)]
        priority: Option<String>,
    },
    /// Resolve a task.
    Resolve {
        #[command(flatten)]
        remote: Remote,
        /// Key or id of the incident.
        incident: String,
        /// The task's id.
        task: i64,
    },
    /// Re-open a resolved task.
    Reopen {
        #[command(flatten)]
        remote: Remote,
        /// Key or id of the incident.
        incident: String,
        /// The task's id.
        task: i64,
    },
}

pub(crate) struct Client {
    /// The server's base URL, without a trailing slash.
    pub(crate) base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for this server and token (an error saying how to get a token when none is given).
    pub(crate) fn new(r: &Remote) -> anyhow::Result<Self> {
        let Some(token) = r.token.clone().filter(|t| !t.is_empty()) else {
            bail!("no API token: pass --token or set DISPATCH_TOKEN (mint one with `dispatch token create --email you@example.com`)")
        };
        Ok(Self {
            base: r.server.trim_end_matches('/').to_string(),
            token,
            http: reqwest::Client::new(),
        })
    }

    /// Calls the API; a failure is an error naming the status, the message and each field.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .query(query);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = res.status();
        let value: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let err = &value["error"];
            let mut msg = format!(
                "{} {}",
                status.as_u16(),
                err["message"].as_str().unwrap_or("request failed")
            );
            if let Some(fields) = err["fields"].as_array() {
                for f in fields {
                    msg.push_str(&format!(
                        "\n  {}: {}",
                        f["field"].as_str().unwrap_or("?"),
                        f["message"].as_str().unwrap_or("")
                    ));
                }
            }
            bail!(msg);
        }
        Ok(value)
    }
}

/// A list's query: the page, and each filter given.
pub(crate) fn paged<const N: usize>(
    page: u64,
    per_page: u64,
    filters: [(&'static str, Option<String>); N],
) -> Vec<(&'static str, String)> {
    let mut query = vec![
        ("page", page.to_string()),
        ("per_page", per_page.to_string()),
    ];
    query.extend(filters.into_iter().filter_map(|(k, v)| Some((k, v?))));
    query
}

/// Makes one call and prints its answer: as `text` says, or the API's JSON with `--json`.
pub(crate) async fn call_and_print(
    remote: &Remote,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    text: impl FnOnce(&Value),
) -> anyhow::Result<()> {
    let v = Client::new(remote)?.call(method, path, &[], body).await?;
    output(remote, &v, text);
    Ok(())
}

/// A page of a list as a table: the header, a line per item, and how many of how many.
pub(crate) fn print_page(v: &Value, header: String, row: impl Fn(&Value) -> String) {
    let items = v["items"].as_array().cloned().unwrap_or_default();
    println!("{header}");
    for i in &items {
        println!("{}", row(i));
    }
    println!("{} of {} (page {})", items.len(), v["total"], v["page"]);
}

pub(crate) fn put(m: &mut Map<String, Value>, k: &str, v: Option<String>) {
    if let Some(v) = v {
        m.insert(k.to_string(), Value::String(v));
    }
}

fn fields_json(m: &mut Map<String, Value>, f: IncidentFields) {
    put(m, "type", f.incident_type);
    put(m, "priority", f.priority);
    put(m, "severity", f.severity);
    put(m, "visibility", f.visibility);
    if !f.tags.is_empty() {
        m.insert("tags".into(), json!(f.tags));
    }
}

pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// A value as a table's cell: a string's text, any other value (an id) as JSON. A `Value` is
/// printed without the padding a column's width asks for; the text it is made into is padded.
pub(crate) fn cell(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn print_incident(v: &Value) {
    println!("{}  {}", s(&v["name"]), s(&v["title"]));
    println!(
        "  status {}  priority {}  severity {}  type {}  visibility {}",
        s(&v["status"]),
        s(&v["priority"]),
        s(&v["severity"]),
        s(&v["type"]),
        s(&v["visibility"])
    );
    println!(
        "  commander {}  reporter {}",
        s(&v["commander"]["email"]),
        s(&v["reporter"]["email"])
    );
    println!("  reported {}", s(&v["reported_at"]));
    if let Some(tags) = v["tags"].as_array().filter(|t| !t.is_empty()) {
        println!(
            "  tags {}",
            tags.iter().map(s).collect::<Vec<_>>().join(", ")
        );
    }
    if !s(&v["description"]).is_empty() {
        println!("\n{}", s(&v["description"]));
    }
    if let Some(r) = v["resolution"].as_str() {
        println!("\nResolution: {r}");
    }
}

pub(crate) fn output(remote: &Remote, v: &Value, text: impl FnOnce(&Value)) {
    if remote.json {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    } else {
        text(v);
    }
}

/// Runs an incident subcommand.
pub async fn run(cmd: IncidentCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match cmd {
        IncidentCommand::Declare {
            remote,
            title,
            description,
            project,
            commander,
            fields,
        } => {
            let c = Client::new(&remote)?;
            let mut body = Map::new();
            put(&mut body, "title", Some(title));
            put(&mut body, "description", Some(description));
            put(&mut body, "project", project);
            put(&mut body, "commander", commander);
            fields_json(&mut body, fields);
            let v = c
                .call(Method::POST, "/incidents", &[], Some(Value::Object(body)))
                .await?;
            output(&remote, &v, |v| {
                println!("Declared {}: {}", s(&v["name"]), s(&v["title"]));
                println!(
                    "  commander {}  {}/api/v1/incidents/{}",
                    s(&v["commander"]["email"]),
                    c.base,
                    s(&v["name"])
                );
            });
        }
        IncidentCommand::List {
            remote,
            status,
            project,
            priority,
            severity,
            incident_type,
            tag,
            q,
            sort,
            page,
            per_page,
        } => {
            let c = Client::new(&remote)?;
            let query = paged(
                page,
                per_page,
                [
                    ("status", status),
                    ("project", project),
                    ("priority", priority),
                    ("severity", severity),
                    ("type", incident_type),
                    ("tag", tag),
                    ("q", q),
                    ("sort", sort),
                ],
            );
            let v = c.call(Method::GET, "/incidents", &query, None).await?;
            output(&remote, &v, |v| {
                print_page(
                    v,
                    format!(
                        "{:<12} {:<8} {:<8} {:<13} {:<24} TITLE",
                        "NAME", "STATUS", "PRIORITY", "SEVERITY", "COMMANDER"
                    ),
                    |i| {
                        format!(
                            "{:<12} {:<8} {:<8} {:<13} {:<24} {}",
                            s(&i["name"]),
                            s(&i["status"]),
                            s(&i["priority"]),
                            s(&i["severity"]),
                            s(&i["commander"]["email"]),
                            s(&i["title"])
                        )
                    },
                )
            });
        }
        IncidentCommand::Show { remote, incident } => {
            let c = Client::new(&remote)?;
            let v = c
                .call(Method::GET, &format!("/incidents/{incident}"), &[], None)
                .await?;
            output(&remote, &v, print_incident);
        }
        IncidentCommand::Update {
            remote,
            incident,
            title,
            description,
            resolution,
            fields,
        } => {
            let c = Client::new(&remote)?;
            let mut body = Map::new();
            put(&mut body, "title", title);
            put(&mut body, "description", description);
            put(&mut body, "resolution", resolution);
            fields_json(&mut body, fields);
            if body.is_empty() {
                bail!("nothing to update: pass --title, --description, --resolution, --type, --priority, --severity, --visibility or --tag");
            }
            let v = c
                .call(
                    Method::PATCH,
                    &format!("/incidents/{incident}"),
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            output(&remote, &v, print_incident);
        }
        IncidentCommand::Stable { remote, incident } => {
            transition(&remote, &incident, "stable").await?
        }
        IncidentCommand::Close { remote, incident } => {
            transition(&remote, &incident, "close").await?
        }
        IncidentCommand::Reopen { remote, incident } => {
            transition(&remote, &incident, "reopen").await?
        }
        IncidentCommand::Command {
            remote,
            incident,
            text,
        } => {
            let c = Client::new(&remote)?;
            let v = c
                .call(
                    Method::POST,
                    &format!("/incidents/{incident}/commands"),
                    &[],
                    Some(json!({ "text": text })),
                )
                .await?;
            output(&remote, &v, |v| println!("{}", s(&v["text"])));
        }
    }
    Ok(())
}

fn print_tasks(v: &Value) {
    let items = v.as_array().cloned().unwrap_or_default();
    println!(
        "{:<10} {:<5} {:<9} {:<22} {:<28} DESCRIPTION",
        "INCIDENT", "ID", "STATUS", "DUE", "ASSIGNEES"
    );
    for t in &items {
        let who: Vec<&str> = t["assignees"]
            .as_array()
            .map(|a| a.iter().map(|p| s(&p["email"])).collect())
            .unwrap_or_default();
        println!(
            "{:<10} {:<5} {:<9} {:<22} {:<28} {}",
            s(&t["incident"]),
            cell(&t["id"]),
            s(&t["status"]),
            s(&t["resolve_by"]).get(..16).unwrap_or(""),
            who.join(","),
            s(&t["description"])
        );
    }
    println!("{} task(s)", items.len());
}

fn print_task(v: &Value) {
    println!(
        "{} task {} [{}] {} (due {})",
        s(&v["incident"]),
        v["id"],
        s(&v["status"]),
        s(&v["description"]),
        s(&v["resolve_by"])
    );
}

/// Runs a task subcommand.
pub async fn run_task(cmd: TaskCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match cmd {
        TaskCommand::List {
            remote,
            mine,
            status,
            overdue,
        } => {
            let c = Client::new(&remote)?;
            let mut query = vec![("mine", mine.to_string()), ("overdue", overdue.to_string())];
            if let Some(st) = status {
                query.push(("status", st));
            }
            let v = c.call(Method::GET, "/tasks", &query, None).await?;
            output(&remote, &v, print_tasks);
        }
        TaskCommand::Create {
            remote,
            incident,
            description,
            assignees,
            due,
            priority,
        } => {
            let c = Client::new(&remote)?;
            let mut body = Map::new();
            put(&mut body, "description", Some(description));
            put(&mut body, "resolve_by", due);
            put(&mut body, "priority", priority);
            body.insert("assignees".into(), json!(assignees));
            let v = c
                .call(
                    Method::POST,
                    &format!("/incidents/{incident}/tasks"),
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            output(&remote, &v, print_task);
        }
        TaskCommand::Resolve {
            remote,
            incident,
            task,
        } => set_task_status(&remote, &incident, task, "resolved").await?,
        TaskCommand::Reopen {
            remote,
            incident,
            task,
        } => set_task_status(&remote, &incident, task, "open").await?,
    }
    Ok(())
}

async fn set_task_status(
    remote: &Remote,
    incident: &str,
    task: i64,
    status: &str,
) -> anyhow::Result<()> {
    call_and_print(
        remote,
        reqwest::Method::PATCH,
        &format!("/incidents/{incident}/tasks/{task}"),
        Some(json!({ "status": status })),
        print_task,
    )
    .await
}

async fn transition(remote: &Remote, incident: &str, action: &str) -> anyhow::Result<()> {
    call_and_print(
        remote,
        reqwest::Method::POST,
        &format!("/incidents/{incident}/{action}"),
        None,
        |v| println!("{} is now {}", s(&v["name"]), s(&v["status"])),
    )
    .await
}
