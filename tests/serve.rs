//! `regelwerk serve` as an editor uses it: an edit is rebuilt and announced over the live reload websocket,
//! a broken edit shows the error page, the next good edit recovers, and the server keeps running.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{SOURCE_DATE_EPOCH, valid_site};

/// The server process, stopped when the test ends (also when it fails).
struct Server {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(root: &Path, log_dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = log_dir.join("serve.log");
        let child = Command::new(env!("CARGO_BIN_EXE_regelwerk"))
            .args(["serve", "--port", &port.to_string(), "--root"])
            .arg(root)
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Server { child, port, log };
        let start = Instant::now();
        while server.try_get("/").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "serve did not answer: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Status and body of a GET, or None if nothing answers.
    fn try_get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text.split(' ').nth(1)?.parse().ok()?;
        let body = text.split_once("\r\n\r\n")?.1.to_string();
        Some((status, body))
    }

    /// Status and headers of a HEAD request.
    fn head(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text.to_ascii_lowercase())
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.try_get(path)
            .unwrap_or_else(|| panic!("GET {path} failed: {}", self.log()))
    }
}

/// The live reload socket, read with a timeout.
struct Reload(tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>);

impl Reload {
    /// A socket as a page opens it, or (`page` empty) one that hears of every build.
    fn connect_from(port: u16, page: &str) -> Reload {
        let query = if page.is_empty() {
            String::new()
        } else {
            format!("?seite={page}")
        };
        let (socket, _) = tungstenite::connect(format!(
            "ws://127.0.0.1:{port}/__regelwerk/livereload{query}"
        ))
        .unwrap();
        if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
        }
        Reload(socket)
    }

    fn connect(port: u16) -> Reload {
        Reload::connect_from(port, "")
    }

    /// The next message within `wait`, if any.
    fn message_within(&mut self, wait: Duration) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < wait {
            match self.0.read() {
                Ok(tungstenite::Message::Text(text)) => return Some(text.to_string()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("live reload socket: {e}"),
            }
        }
        None
    }

    /// Waits for the next `build N` message with N greater than `after`; returns N.
    fn next_build(&mut self, after: u64, server: &Server) -> u64 {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let Some(text) = self.message_within(Duration::from_millis(200)) else {
                continue;
            };
            let n: u64 = text
                .strip_prefix("build ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected message {text}"));
            if n > after {
                return n;
            }
        }
        panic!("no reload message after build {after}: {}", server.log())
    }
}

#[test]
fn an_edit_reloads_a_broken_edit_shows_the_errors_and_the_next_good_edit_recovers() {
    let site = valid_site();
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(site.path(), logs.path());

    // Pages carry the external live reload script; the script is served; the published theme has none.
    let (status, home) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        home.contains(
            "<script src=\"/__regelwerk/livereload.js?build=1\" defer></script>\n</body>"
        ),
        "{home}"
    );
    let (status, script) = server.get("/__regelwerk/livereload.js");
    assert_eq!(status, 200);
    assert!(script.contains("/__regelwerk/livereload"));
    assert_eq!(server.get("/js/livereload.js").0, 404);

    let mut reload = Reload::connect(server.port);
    let first = reload.next_build(0, &server);
    assert_eq!(first, 1);
    // The preview caches its pages apart from the published builds' (whose pages carry another address).
    let preview_cache = site.path().join(regelwerk::CACHE_DIR).join("vorschau");
    assert!(preview_cache.join("search").is_dir(), "{preview_cache:?}");
    assert!(
        !site
            .path()
            .join(regelwerk::CACHE_DIR)
            .join("search")
            .exists()
    );

    // An edit: rebuilt, announced, served.
    let guideline = site.path().join("content/leitlinien/datenschutz.md");
    let original = std::fs::read_to_string(&guideline).unwrap();
    std::fs::write(
        &guideline,
        original.replace(
            "title = \"Datenschutz beim Einsatz von KI\"",
            "title = \"Datenschutz, frisch bearbeitet\"",
        ),
    )
    .unwrap();
    let second = reload.next_build(first, &server);
    let (status, page) = server.get("/leitlinien/datenschutz/");
    assert_eq!(status, 200);
    assert!(page.contains("Datenschutz, frisch bearbeitet"));
    assert!(page.contains(&format!("livereload.js?build={second}")));

    // An editor's swap file changes nothing.
    std::fs::write(
        site.path().join("content/leitlinien/.datenschutz.md.swp"),
        "x",
    )
    .unwrap();

    // A broken edit: the browser gets the error page with file, line and rule.
    std::fs::write(
        &guideline,
        original.replace("order = 2", "order = 2\ngueltig_ab = \"2026-13-01\""),
    )
    .unwrap();
    let third = reload.next_build(second, &server);
    assert_eq!(third, second + 1, "the swap file did not cause a build");
    let (status, page) = server.get("/leitlinien/datenschutz/");
    assert_eq!(status, 500);
    assert!(
        page.contains("Die Vorschau kann nicht gebaut werden"),
        "{page}"
    );
    assert!(
        page.contains("<code>content/leitlinien/datenschutz.md</code></td><td>8</td>"),
        "{page}"
    );
    assert!(page.contains("<strong>E10</strong>"), "{page}");
    assert!(page.contains(&format!("livereload.js?build={third}")));
    assert_eq!(server.get("/").0, 500);

    // The next good edit recovers.
    std::fs::write(&guideline, &original).unwrap();
    let fourth = reload.next_build(third, &server);
    let (status, page) = server.get("/leitlinien/datenschutz/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Datenschutz beim Einsatz von KI"));
    assert!(page.contains(&format!("livereload.js?build={fourth}")));
    assert!(
        server
            .log()
            .contains("Theme und unveränderte Texte wiederverwendet"),
        "{}",
        server.log()
    );

    // An edit of the text alone: its page is shown ahead of the build, then the build follows. The
    // browser showing that page reloads once; a page the build does not change does not reload.
    assert!(!server.log().contains("Vorab gezeigt"), "{}", server.log());
    let mut on_page = Reload::connect_from(server.port, "/leitlinien/datenschutz/");
    let mut on_home = Reload::connect_from(server.port, "/");
    assert_eq!(on_page.next_build(0, &server), fourth);
    assert_eq!(on_home.next_build(0, &server), fourth);
    edit(
        &guideline,
        "Vor dem Einsatz prüft",
        "Ein Satz, ohne Umweg gezeigt. Vor dem Einsatz prüft",
    );
    let fifth = on_page.next_build(fourth, &server);
    let (status, page) = server.get("/leitlinien/datenschutz/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ein Satz, ohne Umweg gezeigt."), "{page}");
    assert!(page.contains(&format!("livereload.js?build={fifth}")));
    let (status, headers) = server.head("/leitlinien/datenschutz/");
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains("content-type: text/html"), "{headers}");
    let log = server.log();
    assert!(
        log.contains("Vorab gezeigt in ") && log.contains("leitlinien/datenschutz/index.html"),
        "{log}"
    );
    let sixth = reload.next_build(fifth, &server);
    let (status, page) = server.get("/leitlinien/datenschutz/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ein Satz, ohne Umweg gezeigt."), "{page}");
    assert!(
        page.contains(&format!("livereload.js?build={fifth}")),
        "the build wrote the page as it was shown: {page}"
    );
    assert_eq!(
        on_page.message_within(Duration::from_millis(500)),
        None,
        "no second reload of the page shown ahead"
    );
    assert_eq!(
        on_home.message_within(Duration::from_millis(100)),
        None,
        "the home page did not change"
    );
    assert!(
        server
            .get("/")
            .1
            .contains(&format!("livereload.js?build={fourth}"))
    );

    // A new title: nothing is shown ahead; the build changes the page and the home page, which list it.
    edit(
        &guideline,
        "title = \"Datenschutz beim Einsatz von KI\"",
        "title = \"Datenschutz beim Einsatz künstlicher Intelligenz\"",
    );
    let seventh = on_home.next_build(fourth, &server);
    assert!(seventh > sixth, "{seventh} after {sixth}");
    assert_eq!(on_page.next_build(fifth, &server), seventh);
    assert!(
        server
            .get("/")
            .1
            .contains("Datenschutz beim Einsatz künstlicher Intelligenz")
    );

    // A register entry saved as `sed -i` and many editors save: a temporary file beside it, renamed over
    // it. The temporary file is no change of the site, so the entry's page is shown ahead.
    let entry = site.path().join("content/register/antragsassistent.toml");
    let mut on_entry = Reload::connect_from(server.port, "/register/antragsassistent/");
    let shown = on_entry.next_build(0, &server);
    let text = std::fs::read_to_string(&entry).unwrap().replacen(
        "org_unit = \"Bürgerservice\"",
        "org_unit = \"Bürgerservice und Bürgerbüro\"",
        1,
    );
    let temporary = entry.with_file_name("sedX7kQ2a");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, &entry).unwrap();
    on_entry.next_build(shown, &server);
    let (status, page) = server.get("/register/antragsassistent/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Bürgerservice und Bürgerbüro"), "{page}");
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.starts_with("Vorab gezeigt in ") && l.contains("register/antragsassistent/")),
        "{log}"
    );
}

/// Reads `path` and returns it with `from` replaced by `to` (which must be there).
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_page_shown_ahead_of_the_build_is_the_page_the_build_makes() {
    let site = valid_site();
    let root = site.path();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let url = "http://127.0.0.1:9/";
    let (checked, diagnostics) = regelwerk::check(root, Some(url), today);
    let checked = checked.unwrap_or_else(|| panic!("{diagnostics:?}"));

    // Edits of the body alone: a new paragraph (today's text now differs from the committed Stand, which
    // the guideline's page says), a new heading, the home page's and a generic page's text.
    let guideline = root.join("content/leitlinien/datenschutz.md");
    edit(
        &guideline,
        "Vor dem Einsatz prüft",
        "Ein neuer Absatz, *betont*.\n\n## Neu eingefügt\n\nVor dem Einsatz prüft",
    );
    edit(
        &root.join("content/_index.md"),
        "\n+++\n",
        "\n+++\n\nEin neuer erster Satz.\n",
    );
    edit(
        &root.join("content/seiten/impressum.md"),
        "Testkreis, Musterstraße 1",
        "Testkreis (neu), Musterstraße 1",
    );
    // A register entry's fields (its name and facets are in lists, which the build renders).
    edit(
        &root.join("content/register/antragsassistent.toml"),
        "org_unit = \"Bürgerservice\"",
        "org_unit = \"Bürgerservice und Bürgerbüro\"",
    );
    let ahead: Vec<(String, Vec<u8>)> = [
        "content/leitlinien/datenschutz.md",
        "content/_index.md",
        "content/seiten/impressum.md",
        "content/register/antragsassistent.toml",
    ]
    .into_iter()
    .map(|rel| {
        let page = checked
            .edited_page(root, rel, today)
            .unwrap_or_else(|| panic!("{rel} is shown ahead"));
        (page.path, page.bytes.to_vec())
    })
    .collect();
    assert_eq!(
        ahead
            .iter()
            .map(|(path, _)| path.as_str())
            .collect::<Vec<_>>(),
        [
            "leitlinien/datenschutz/index.html",
            "index.html",
            "seiten/impressum/index.html",
            "register/antragsassistent/index.html"
        ]
    );

    let mut options = regelwerk::BuildOptions::new(root);
    options.base_url = Some(url.into());
    options.today = today;
    options.search = false;
    let output = tempfile::tempdir().unwrap();
    options.output = output.path().join("website");
    regelwerk::build(&options).unwrap_or_else(|e| panic!("{e:?}"));
    for (path, bytes) in &ahead {
        let built = std::fs::read(options.output.join(path)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&built),
            "{path}"
        );
    }
    let page = String::from_utf8_lossy(&ahead[0].1);
    assert!(
        page.contains("Ein neuer Absatz, <em>betont</em>."),
        "{page}"
    );
    assert!(
        page.contains("href=\"#neu-eingefuegt\""),
        "the table of contents: {page}"
    );
    let entry = String::from_utf8_lossy(&ahead[3].1);
    assert!(entry.contains("Bürgerservice und Bürgerbüro"), "{entry}");

    // What may change other pages, or break them, waits for the whole build.
    let declined = |rel: &str, from: &str, to: &str| {
        let path = root.join(rel);
        let before = std::fs::read_to_string(&path).unwrap();
        edit(&path, from, to);
        let page = checked.edited_page(root, rel, today);
        std::fs::write(&path, before).unwrap();
        assert!(page.is_none(), "{rel}: {from} → {to}");
    };
    let rel = "content/leitlinien/datenschutz.md";
    // The title is on the index, the home page and in the navigation of its versions.
    declined(
        rel,
        "title = \"Datenschutz beim",
        "title = \"Datenschutz bei",
    );
    // Another page may link to an anchor that is gone.
    declined(
        "content/leitlinien/grundsaetze.md",
        "## Grundsätze der Nutzung",
        "## Grundsätze des Einsatzes",
    );
    // The motion's page lists what implements its points.
    declined(rel, "umsetzt=M6}", "umsetzt=M7}");
    // A new link to another page is checked against the whole site.
    declined(
        rel,
        "Vor dem Einsatz",
        "[Impressum](/seiten/impressum/) Vor dem Einsatz",
    );
    // A broken body is reported by the build.
    declined(rel, "Vor dem Einsatz", "[kaputt](fehlt.md) Vor dem Einsatz");
    // A register entry with a problem: of a single field, and against the rest of the site (E8).
    let entry = "content/register/antragsassistent.toml";
    declined(entry, "status = \"in_use\"", "status = \"kaputt\"");
    declined(
        entry,
        "accountable_role = \"ki-beauftragte\"",
        "accountable_role = \"gibt-es-nicht\"",
    );
    // Not a document's text.
    declined("content/rollen.toml", "", "");
    assert!(
        checked
            .edited_page(root, "content/leitlinien/gibt-es-nicht.md", today)
            .is_none()
    );
}
