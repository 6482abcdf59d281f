//! `regelwerk serve`: builds the site for local preview, serves it on 127.0.0.1 and rebuilds on every change.
//!
//! The preview is built with `base_url` set to the local address, into its own folder (not the site's
//! `public/`), so a preview never ends up in a deployment. Unknown paths get the site's 404 page.
//!
//! Live preview:
//!
//! - A watcher thread (native file system events, or polling with `--poll` for network drives and WSL) looks
//!   at `regelwerk.toml`, `content/` and `themes/`, ignores editors' temporary files and waits until changes
//!   have settled ([`QUIET`]); then it asks a builder thread to rebuild, in-process. When only content
//!   changed, the theme of the previous build is reused (templates are not read and parsed again), and so are
//!   the rendered Markdown bodies of files whose text did not change. Requests that arrive during a build
//!   are served by one build after it.
//! - Before it asks, the watcher shows the pages of saved documents whose change touches nothing but their
//!   own page ([`crate::Checked::edited_page`]): rendered from the last good build in milliseconds, served
//!   from memory until a build that read the save has written them. On a large site the rebuild takes
//!   seconds; the editor sees the page at once.
//! - Every HTML response gets `<script src="/__regelwerk/livereload.js?build=N" defer></script>` before
//!   `</body>`: an external script (the pages' `script-src 'self'` policy holds) that opens the websocket
//!   `/__regelwerk/livereload?seite=<path>`, which sends `build N` on connect and whenever N changes, N being
//!   the generation the page's content is from (`Status::version`). The page reloads when N is not the
//!   one it was served with: when a build changed its file (the manifests of the two builds tell), once
//!   for a page shown ahead and not again when the build writes it as shown, the search page when the
//!   index changed, and every page after a change of the theme or the configuration. Published sites
//!   never contain the script.
//! - When a build fails, every HTML request gets an error page that lists each problem with file, line,
//!   column, rule and message (status 500) instead of the stale site; the next good build replaces it and
//!   reloads the browser. The server keeps running through any input.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::Watcher;
use tokio::sync::watch;
use tower_http::services::{ServeDir, ServeFile};

use crate::diagnostics::Severity;
use crate::output::Manifest;
use crate::render::OutputFile;
use crate::theme::escape_html_minimal as escape;
use crate::{BuildError, BuildOptions, Warm};

/// The live reload script, served at [`SCRIPT_PATH`] (not part of any site's output).
pub const LIVERELOAD_JS: &str = include_str!("../themes/default/static/js/livereload.js");
/// Where the preview serves the live reload script.
pub const SCRIPT_PATH: &str = "/__regelwerk/livereload.js";
/// The live reload websocket.
pub const SOCKET_PATH: &str = "/__regelwerk/livereload";
/// How long the watcher waits after the last change before it rebuilds: long enough for an editor's
/// save (a temporary file renamed over the old one: events within a few milliseconds), short because it is
/// part of every save-to-page time (measured in BENCHMARKS.md).
pub const QUIET: Duration = Duration::from_millis(50);
/// How often `--poll` looks for changes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// What to serve how.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site root (the folder with `regelwerk.toml`).
    pub root: PathBuf,
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Poll for changes instead of relying on file system events.
    pub poll: bool,
}

/// The preview's caches, in the site's cache folder: its pages differ from the build's (`base_url`), so it
/// keeps its own, and neither evicts the other.
pub fn preview_cache(root: &Path) -> PathBuf {
    root.join(crate::CACHE_DIR).join("vorschau")
}

/// Where a site's preview is written: inside its cache folder (which `serve` does not watch), so that it
/// and the spare site beside it go away with the site's caches.
pub fn preview_dir(root: &Path) -> PathBuf {
    preview_cache(root).join("website")
}

/// The local address a preview on `port` is served at.
pub fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

/// The state of the preview the browser sees: which build, the error page if that build failed, the
/// pages shown ahead of the running build, and which content each page shows (so that a browser reloads
/// only when its page changed).
#[derive(Debug, Clone, Default)]
struct Status {
    /// Raised by every build and every page shown ahead.
    generation: u64,
    /// The generation of the last build after which every page counts as changed (the first build, and
    /// every build after a change of the theme or the configuration): the content of every page not in
    /// `pages`.
    built: u64,
    failure: Option<Arc<str>>,
    /// Pages of documents saved since the last build began, rendered on their own (see
    /// [`Preview::show_ahead`]), by output path; served instead of the written files until a build that
    /// read the save has finished.
    ahead: Arc<BTreeMap<String, Ahead>>,
    /// Pages whose content dates from a later generation than `built`, by output path: pages whose file a
    /// build changed, pages shown ahead, and pages a build wrote as they had been shown ahead.
    pages: Arc<BTreeMap<String, u64>>,
}

impl Status {
    /// The generation whose content the page at the request path `path` shows (`None`: unknown, the
    /// latest). A browser reloads its page when this changes; while the build fails, every page shows
    /// the error page of the latest generation.
    fn version(&self, path: Option<&str>) -> u64 {
        if self.failure.is_some() {
            return self.generation;
        }
        match path.and_then(output_of) {
            Some(page) => self.pages.get(&page).copied().unwrap_or(self.built),
            None => self.generation,
        }
    }
}

/// The output files of pages a browser shows that differ between two builds: pages whose file changed,
/// and the search page when the search index changed (its page stays the same, its results do not).
fn changed_pages(before: &Manifest, after: &Manifest) -> Vec<String> {
    let mut changed = crate::output::changed_paths(before, after);
    if changed
        .iter()
        .any(|path| path.starts_with(crate::search::OUTPUT_DIR))
    {
        changed.push(crate::render::output_path(crate::render::SEARCH_PAGE));
    }
    changed
}

/// The output file a request path is served from (`/a/` → `a/index.html`); the preview's base path is `/`.
fn output_of(path: &str) -> Option<String> {
    path.strip_prefix('/').map(crate::render::output_path)
}

/// A page shown ahead of the build.
#[derive(Debug, Clone)]
struct Ahead {
    /// The batch of changes it shows: builds that began after it replace it.
    batch: u64,
    html: Arc<str>,
}

/// A rebuild the watcher asks for.
#[derive(Debug, Clone, Copy)]
struct Rebuild {
    /// The last batch of changes it must include.
    batch: u64,
    /// Whether `regelwerk.toml` or the theme changed: nothing of the last build is reused.
    theme: bool,
}

/// The preview, shared by the watcher (which shows edited pages ahead of the build) and the builder
/// (which builds in-process, keeping the theme while it does not change and the rendered Markdown bodies
/// of files whose text does not change).
struct Preview {
    options: BuildOptions,
    /// The last good build: what the next build reuses, and the site pages are shown ahead from.
    /// `None` while the theme or configuration changed since.
    site: Mutex<Option<Warm>>,
    /// What the browser sees.
    status: watch::Sender<Status>,
}

impl Preview {
    fn site(&self) -> std::sync::MutexGuard<'_, Option<Warm>> {
        self.site.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Builds everything up to `rebuild.batch`; prints what happened on stderr and tells the browser.
    fn build(&self, rebuild: Rebuild, written: &mut Option<Manifest>) {
        let warm = if rebuild.theme {
            None
        } else {
            self.site().clone()
        };
        let reused = warm.is_some();
        let clock = Instant::now();
        let result = crate::build_with(&self.options, warm.as_ref());
        drop(warm);
        let took = clock.elapsed();
        let root = &self.options.root;
        // The pages whose files changed; `None`: every page (the theme changed, or the first build).
        let mut changed: Option<Vec<String>> = None;
        let failure = match result {
            Ok((built, warm)) => {
                let earlier = self.site().replace(warm);
                crate::drop_later(earlier);
                if !rebuild.theme
                    && let Some(before) = written.as_ref()
                {
                    changed = Some(changed_pages(before, &built.manifest));
                }
                if !built.diagnostics.is_empty() {
                    eprint!("{}", built.diagnostics.to_human(root, false));
                }
                let stages: Vec<String> = built
                    .timings
                    .iter()
                    .map(|(stage, time)| format!("{stage} {:.1}", time.as_secs_f64() * 1000.0))
                    .collect();
                eprintln!(
                    "Gebaut in {:.0} ms ({} Dateien{}; ms: {}).",
                    took.as_secs_f64() * 1000.0,
                    built.files,
                    if reused {
                        ", Theme und unveränderte Texte wiederverwendet"
                    } else {
                        ""
                    },
                    stages.join(", ")
                );
                let earlier = written.replace(built.manifest);
                crate::drop_later(earlier);
                None
            }
            Err(err) => {
                let page = error_page(&err, root);
                match &err {
                    BuildError::Invalid(diagnostics) => {
                        eprint!("{}", diagnostics.to_human(root, false))
                    }
                    BuildError::Output { path, error } => eprintln!(
                        "Fehler: {} konnte nicht geschrieben werden: {error}.",
                        path.display()
                    ),
                }
                eprintln!("Der Build ist fehlgeschlagen: der Browser zeigt die Fehler.");
                Some(Arc::from(page))
            }
        };
        // Pages shown ahead keep their generation while they are shown, and after it when the build wrote
        // them as they were shown: the browser showing one does not reload for nothing. The written files
        // are read here, not while the browser's state is locked.
        let written_as_shown: HashSet<(String, u64)> = self
            .status
            .borrow()
            .ahead
            .iter()
            .filter(|(path, page)| {
                page.batch <= rebuild.batch
                    && std::fs::read(self.options.output.join(path))
                        .is_ok_and(|built| built == page.html.as_bytes())
            })
            .map(|(path, page)| (path.clone(), page.batch))
            .collect();
        self.status.send_modify(|status| {
            status.generation += 1;
            let generation = status.generation;
            let kept: Vec<(String, u64)> = status
                .ahead
                .iter()
                .filter(|(path, page)| {
                    page.batch > rebuild.batch
                        || written_as_shown.contains(&((*path).clone(), page.batch))
                })
                .filter_map(|(path, _)| Some((path.clone(), *status.pages.get(path)?)))
                .collect();
            let pages = Arc::make_mut(&mut status.pages);
            if failure.is_none() {
                match &changed {
                    None => {
                        status.built = generation;
                        pages.clear();
                    }
                    Some(changed) => {
                        for path in changed {
                            pages.insert(path.clone(), generation);
                        }
                    }
                }
            }
            pages.extend(kept);
            status.failure = failure;
            if status
                .ahead
                .values()
                .any(|page| page.batch <= rebuild.batch)
            {
                Arc::make_mut(&mut status.ahead).retain(|_, page| page.batch > rebuild.batch);
            }
        });
    }

    /// Shows the pages of the documents `changed` (source paths) before the rebuild, when the change
    /// touched nothing but those pages ([`crate::Checked::edited_page`]): on a large site the whole build
    /// takes seconds, one page a few milliseconds. Returns whether it did; never while the last build
    /// failed (its errors stay in view) or the theme changed.
    fn show_ahead(&self, changed: &BTreeSet<String>, batch: u64) -> bool {
        // A file that came and went during the save and is of no kind the site is read from — the
        // temporary file of `sed -i` or of an editor that writes a copy and renames it into place — is
        // no change of the site.
        let changed: Vec<&String> = changed
            .iter()
            .filter(|rel| is_source(rel) || self.options.root.join(rel).exists())
            .collect();
        if changed.is_empty() || self.status.borrow().failure.is_some() {
            return false;
        }
        let Some(site) = self.site().clone() else {
            return false;
        };
        let clock = Instant::now();
        let checked = site.checked();
        let pages: Option<Vec<OutputFile>> = changed
            .iter()
            .map(|rel| checked.edited_page(&self.options.root, rel, self.options.today))
            .collect();
        let Some(pages) = pages else {
            return false;
        };
        let paths: Vec<&str> = pages.iter().map(|page| page.path.as_str()).collect();
        // Told before the browser is: whoever sees the page can read how it came.
        eprintln!(
            "Vorab gezeigt in {:.0} ms: {} (die übrigen Seiten und die Suche folgen mit dem Build).",
            clock.elapsed().as_secs_f64() * 1000.0,
            paths.join(", ")
        );
        self.status.send_modify(|status| {
            status.generation += 1;
            let generation = status.generation;
            let ahead = Arc::make_mut(&mut status.ahead);
            let shown = Arc::make_mut(&mut status.pages);
            for page in pages {
                shown.insert(page.path.clone(), generation);
                let html = String::from_utf8_lossy(&page.bytes);
                ahead.insert(
                    page.path,
                    Ahead {
                        batch,
                        html: Arc::from(html.as_ref()),
                    },
                );
            }
        });
        true
    }
}

/// Builds the preview, serves it on 127.0.0.1 and rebuilds on every change, until Ctrl+C.
/// An error means the server could not start (e.g. the port is taken); build errors never end it.
pub fn serve(options: &ServeOptions) -> std::io::Result<()> {
    let root = options
        .root
        .canonicalize()
        .unwrap_or_else(|_| options.root.clone());
    let url = local_url(options.port);
    let mut build_options = BuildOptions::new(&root);
    build_options.output = preview_dir(&root);
    build_options.base_url = Some(url.clone());
    build_options.cache = preview_cache(&root);
    let dir = build_options.output.clone();
    let (status_tx, status_rx) = watch::channel(Status::default());
    let preview = Arc::new(Preview {
        options: build_options,
        site: Mutex::new(None),
        status: status_tx,
    });
    let mut written = None;
    preview.build(
        Rebuild {
            batch: 0,
            theme: true,
        },
        &mut written,
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        options.port,
    ))))?;

    let (rebuild_tx, rebuild_rx) = mpsc::channel();
    let builder = Arc::clone(&preview);
    std::thread::Builder::new()
        .name("regelwerk-build".into())
        .spawn(move || build_on_request(&builder, &rebuild_rx, written))?;
    let poll = options.poll;
    let watch_root = root.clone();
    std::thread::Builder::new()
        .name("regelwerk-watch".into())
        .spawn(move || watch_and_rebuild(&watch_root, poll, &preview, &rebuild_tx))?;

    println!("Vorschau: {url}  (Strg+C beendet; Änderungen werden sofort neu gebaut)");
    runtime.block_on(async {
        axum::serve(listener, router(&dir, status_rx))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}

fn router(dir: &Path, status: watch::Receiver<Status>) -> Router {
    let not_found = ServeFile::new(dir.join("404.html"));
    Router::new()
        .route(SCRIPT_PATH, get(livereload_js))
        .route(SOCKET_PATH, get(livereload_socket))
        .fallback_service(ServeDir::new(dir).not_found_service(not_found))
        .layer(middleware::from_fn_with_state(
            status.clone(),
            preview_layer,
        ))
        .with_state(status)
}

async fn livereload_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        LIVERELOAD_JS,
    )
}

/// The page a live reload socket is opened from (`?seite=/leitlinien/x/`).
#[derive(serde::Deserialize)]
struct Shown {
    seite: Option<String>,
}

async fn livereload_socket(
    State(status): State<watch::Receiver<Status>>,
    Query(shown): Query<Shown>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| notify_builds(socket, status, shown.seite))
}

/// Sends `build N` now and whenever N changes, until the browser goes away: N is the generation the
/// content of the page at `path` is from ([`Status::version`]).
async fn notify_builds(
    mut socket: WebSocket,
    mut status: watch::Receiver<Status>,
    path: Option<String>,
) {
    let mut sent = None;
    loop {
        let version = status.borrow_and_update().version(path.as_deref());
        if sent != Some(version) {
            sent = Some(version);
            if socket
                .send(Message::Text(format!("build {version}").into()))
                .await
                .is_err()
            {
                return;
            }
        }
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            message = socket.recv() => match message {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                // Anything the browser sends is ignored; wait again.
                Some(Ok(_)) => continue,
            },
        }
    }
}

/// Adds the live reload script to HTML responses, shows the error page while the last build failed, and
/// tells the browser not to cache anything of a preview.
async fn preview_layer(
    State(status): State<watch::Receiver<Status>>,
    request: Request,
    next: Next,
) -> Response {
    let internal = request.uri().path().starts_with("/__regelwerk/");
    let is_get = request.method() == Method::GET;
    let reads = is_get || request.method() == Method::HEAD;
    // Read before serving: a build finishing meanwhile makes the page reload once more, never miss one.
    let shown = status.borrow().clone();
    let version = shown.version(Some(request.uri().path()));
    let Status { failure, ahead, .. } = shown;
    // (A HEAD request gets the headers of the same response: the server leaves out the body.)
    if reads
        && failure.is_none()
        && let Some(page) = output_of(request.uri().path()).and_then(|path| ahead.get(&path))
    {
        let headers = [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ];
        return (headers, with_livereload(&page.html, version)).into_response();
    }
    let response = next.run(request).await;
    if internal {
        return response;
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if !is_html || !is_get {
        return Response::from_parts(parts, body);
    }
    let html = match failure {
        Some(page) => {
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            page.to_string()
        }
        None => match axum::body::to_bytes(body, 256 * 1024 * 1024).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    parts.headers.remove(header::LAST_MODIFIED);
    Response::from_parts(parts, Body::from(with_livereload(&html, version)))
}

/// The page with the live reload script tag before its last `</body>` (at the end if it has none).
pub fn with_livereload(html: &str, generation: u64) -> String {
    let tag = format!("<script src=\"{SCRIPT_PATH}?build={generation}\" defer></script>");
    match html.rfind("</body>") {
        Some(at) => format!("{}{tag}\n{}", &html[..at], &html[at..]),
        None => format!("{html}{tag}\n"),
    }
}

/// The page the browser shows while the site does not build: every problem with file, line, column, rule
/// and message, then the detailed report with the source lines.
fn error_page(err: &BuildError, root: &Path) -> String {
    let mut body = String::new();
    match err {
        BuildError::Invalid(diagnostics) => {
            body.push_str(&format!(
                "<p>{} Sobald Sie eine Datei speichern und der Build gelingt, zeigt diese Seite wieder die \
                 Website.</p>\n",
                escape(&diagnostics.summary())
            ));
            body.push_str(
                "<table>\n<thead><tr><th scope=\"col\">Datei</th><th scope=\"col\">Zeile</th>\
                 <th scope=\"col\">Spalte</th><th scope=\"col\">Regel</th><th scope=\"col\">Art</th>\
                 <th scope=\"col\">Meldung</th></tr></thead>\n<tbody>\n",
            );
            for d in diagnostics.iter() {
                body.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><strong>{}</strong></td><td>{}</td>\
                     <td>{}</td></tr>\n",
                    escape(&d.path),
                    d.line,
                    d.column.map_or_else(String::new, |c| c.to_string()),
                    d.rule.code(),
                    match d.severity() {
                        Severity::Error => "Fehler",
                        Severity::Warning => "Warnung",
                    },
                    escape(&d.message)
                ));
            }
            body.push_str("</tbody>\n</table>\n<h2>Ausführlich</h2>\n<pre>");
            body.push_str(&escape(&diagnostics.to_human(root, false)));
            body.push_str("</pre>\n");
        }
        BuildError::Output { path, error } => {
            body.push_str(&format!(
                "<p>Die Vorschau konnte nicht nach <code>{}</code> geschrieben werden: {}.</p>\n",
                escape(&path.display().to_string()),
                escape(&error.to_string())
            ));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'\">\n\
         <title>Build fehlgeschlagen – regelwerk</title>\n</head>\n<body>\n<main>\n\
         <h1>Die Vorschau kann nicht gebaut werden</h1>\n{body}</main>\n</body>\n</html>\n"
    )
}

/// What a batch of file changes touched.
#[derive(Debug, Default, PartialEq, Eq)]
struct Changes {
    /// Something the site is built from changed.
    relevant: bool,
    /// `regelwerk.toml` or a file under `themes/` changed: the theme is read again.
    theme: bool,
    /// `content/` or `themes/` itself appeared or moved: watch it (again).
    rewatch: bool,
    /// The paths under `content/` that changed (with `/`, relative to the root).
    content: BTreeSet<String>,
}

/// Whether a file under `content/` is of a kind the site is read from (Markdown, TOML, CSV).
fn is_source(rel: &str) -> bool {
    Path::new(rel)
        .extension()
        .is_some_and(|x| x == "md" || x == "toml" || x == "csv")
}

/// Names of files that editors write and remove around a save, beyond [`crate::theme::is_editor_temp`].
fn is_ignored(name: &str) -> bool {
    crate::theme::is_editor_temp(name)
        || name == "4913" // vim's test whether the folder is writable
        || name.ends_with(".kate-swp")
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || name.starts_with(".goutputstream-")
}

impl Changes {
    fn add(&mut self, root: &Path, path: &Path) {
        let Ok(rel) = path.strip_prefix(root) else {
            return;
        };
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if is_ignored(&name) {
            return;
        }
        let mut parts = rel.components();
        let first = parts
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let top_level = parts.next().is_none();
        match first.as_str() {
            "content" => {
                self.relevant = true;
                self.rewatch |= top_level;
                if let Some(rel) = crate::content::relative(root, path) {
                    self.content.insert(rel);
                }
            }
            "themes" => {
                self.relevant = true;
                self.theme = true;
                self.rewatch |= top_level;
            }
            crate::config::CONFIG_FILE => {
                self.relevant = true;
                self.theme = true;
            }
            _ => {}
        }
    }
}

/// Watches the site root (its own files only), `content/` and `themes/`.
fn watch_site(watcher: &mut dyn Watcher, root: &Path) -> notify::Result<()> {
    watcher.watch(root, notify::RecursiveMode::NonRecursive)?;
    for dir in ["content", "themes"] {
        let path = root.join(dir);
        if path.is_dir() {
            // Watching a folder that is watched already only renews the watch.
            watcher.watch(&path, notify::RecursiveMode::Recursive)?;
        }
    }
    Ok(())
}

fn make_watcher(poll: bool, tx: mpsc::Sender<PathBuf>) -> notify::Result<Box<dyn Watcher + Send>> {
    let handler = move |event: notify::Result<notify::Event>| match event {
        // Opening and reading (the build itself reads every file) is no change.
        Ok(event) if matches!(event.kind, notify::EventKind::Access(_)) => {}
        Ok(event) => {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
        Err(err) => eprintln!("Hinweis: Beobachten der Dateien: {err}"),
    };
    Ok(if poll {
        let config = notify::Config::default().with_poll_interval(POLL_INTERVAL);
        Box::new(notify::PollWatcher::new(handler, config)?)
    } else {
        Box::new(notify::recommended_watcher(handler)?)
    })
}

/// The watcher thread: waits for changes to settle, shows edited pages ahead where it can, and asks the
/// builder for a rebuild.
fn watch_and_rebuild(root: &Path, poll: bool, preview: &Preview, rebuild: &mpsc::Sender<Rebuild>) {
    let (tx, rx) = mpsc::channel();
    let mut watcher = match make_watcher(poll, tx) {
        Ok(watcher) => watcher,
        Err(err) => {
            eprintln!(
                "Hinweis: Änderungen werden nicht erkannt ({err}); starten Sie serve mit --poll oder neu."
            );
            return;
        }
    };
    if let Err(err) = watch_site(watcher.as_mut(), root) {
        eprintln!(
            "Hinweis: Änderungen werden nicht vollständig erkannt ({err}); versuchen Sie serve --poll."
        );
    }
    let mut batch = 0;
    while let Ok(first) = rx.recv() {
        let mut changes = Changes::default();
        changes.add(root, &first);
        // Editors save in several steps, and a git checkout touches many files: wait until it is quiet,
        // but rebuild at least every two seconds during a long stream of changes.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match rx.recv_timeout(QUIET) {
                Ok(path) => changes.add(root, &path),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        if !changes.relevant {
            continue;
        }
        if changes.rewatch {
            let _ = watch_site(watcher.as_mut(), root);
        }
        batch += 1;
        if changes.theme {
            // Nothing of the last build may be shown ahead or reused.
            crate::drop_later(preview.site().take());
        } else {
            preview.show_ahead(&changes.content, batch);
        }
        let asked = rebuild.send(Rebuild {
            batch,
            theme: changes.theme,
        });
        if asked.is_err() || preview.status.is_closed() {
            // The server has stopped.
            return;
        }
    }
}

/// The builder thread: builds whenever the watcher asks, once for all that were asked meanwhile.
fn build_on_request(
    preview: &Preview,
    requests: &mpsc::Receiver<Rebuild>,
    mut written: Option<Manifest>,
) {
    while let Ok(mut rebuild) = requests.recv() {
        while let Ok(more) = requests.try_recv() {
            rebuild = Rebuild {
                batch: more.batch,
                theme: rebuild.theme || more.theme,
            };
        }
        preview.build(rebuild, &mut written);
        if preview.status.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_the_last_body_end() {
        let page = with_livereload("<html><body><p>x</p></body></html>", 7);
        assert_eq!(
            page,
            "<html><body><p>x</p><script src=\"/__regelwerk/livereload.js?build=7\" defer></script>\n</body></html>"
        );
        assert!(with_livereload("<p>ohne</p>", 1).ends_with("defer></script>\n"));
    }

    #[test]
    fn changes_are_classified_by_where_they_are() {
        let root = Path::new("/site");
        let classify = |paths: &[&str]| {
            let mut changes = Changes::default();
            for path in paths {
                changes.add(root, Path::new(path));
            }
            changes
        };
        let content = classify(&["/site/content/leitlinien/a.md"]);
        assert!(content.relevant && !content.theme && !content.rewatch);
        assert!(classify(&["/site/regelwerk.toml"]).theme);
        assert!(classify(&["/site/themes/default/templates/base.html"]).theme);
        assert!(classify(&["/site/content"]).rewatch);
        let ignored = classify(&[
            "/site/content/leitlinien/.a.md.swp",
            "/site/content/leitlinien/a.md~",
            "/site/content/leitlinien/4913",
            "/site/public/index.html",
            "/site/.git/index",
            "/elsewhere/content/a.md",
        ]);
        assert_eq!(ignored, Changes::default());
    }

    #[test]
    fn the_search_page_changes_with_its_index() {
        use crate::output::manifest_of as manifest;
        let before = manifest(&[
            ("index.html", 1),
            ("pagefind/a.pf_meta", 2),
            ("suche/index.html", 3),
        ]);
        let text = manifest(&[
            ("index.html", 9),
            ("pagefind/a.pf_meta", 2),
            ("suche/index.html", 3),
        ]);
        assert_eq!(changed_pages(&before, &text), ["index.html"]);
        let index = manifest(&[
            ("index.html", 1),
            ("pagefind/a.pf_meta", 8),
            ("suche/index.html", 3),
        ]);
        assert_eq!(
            changed_pages(&before, &index),
            ["pagefind/a.pf_meta", "suche/index.html"]
        );
        let status = Status {
            generation: 7,
            built: 2,
            pages: Arc::new(BTreeMap::from([("leitlinien/a/index.html".to_string(), 5)])),
            ..Status::default()
        };
        assert_eq!(status.version(Some("/leitlinien/a/")), 5);
        assert_eq!(status.version(Some("/leitlinien/b/")), 2);
        assert_eq!(status.version(None), 7);
        let failed = Status {
            failure: Some(Arc::from("Fehler")),
            ..status
        };
        assert_eq!(failed.version(Some("/leitlinien/a/")), 7);
    }

    #[test]
    fn the_error_page_names_file_line_rule_and_message() {
        use crate::diagnostics::{Diagnostic, Diagnostics, Rule};
        let err = BuildError::Invalid(Diagnostics::new(vec![Diagnostic::line(
            "content/leitlinien/a.md",
            7,
            Rule::E10,
            "Das Datum <2026-13-01> gibt es nicht.",
        )]));
        let page = error_page(&err, Path::new("/nirgends"));
        assert!(page.contains("<code>content/leitlinien/a.md</code></td><td>7</td>"));
        assert!(page.contains("<strong>E10</strong>"));
        assert!(page.contains("Das Datum &lt;2026-13-01&gt; gibt es nicht."));
        assert!(!page.contains("<script"), "the script is added when served");
    }
}
