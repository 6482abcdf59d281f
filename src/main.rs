//! The `regelwerk` command line.
//!
//! Exit codes: 0 success, 1 content errors (nothing was published) or a failed write, 2 usage errors
//! (also: a hook that regelwerk did not write is in the way, the site is not in a git repository).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use regelwerk::diagnostics::Diagnostics;
use regelwerk::{BuildError, BuildOptions};

/// mimalloc instead of the system allocator: a build allocates and frees millions of small strings
/// (caches, contexts, index words), and glibc's malloc was a tenth of its CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// regelwerk — turns versioned Markdown guidelines, responsibility matrices and an AI register
/// into a static, searchable public website.
#[derive(Parser)]
#[command(name = "regelwerk", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new minimal site that builds and passes `check` as it is.
    Init {
        /// Folder for the new site (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Check the site and write it to the output folder (replaced only if the whole build succeeds).
    Build {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output folder [default: <root>/public].
        #[arg(long)]
        output: Option<PathBuf>,
        /// Do not build the search index (pagefind/): the pages only, e.g. to measure them alone.
        /// The search page is still written but finds nothing.
        #[arg(long)]
        no_search: bool,
        /// Print how long each stage took.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Check the site and report every problem with file, line and rule; writes nothing.
    Check {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Summarise what changed in policy terms between two git revisions (for pull-request comments).
    Diff {
        /// The earlier revision (branch, tag or commit), e.g. origin/main.
        from: String,
        /// The later revision, e.g. HEAD.
        to: String,
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
        format: DiffFormat,
    },
    /// Build the site for preview, serve it on http://127.0.0.1:<port>/ and rebuild on every change.
    Serve {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// Look for changes by polling every half second instead of file system events
        /// (for network drives, WSL, containers with mounted folders).
        #[arg(long)]
        poll: bool,
    },
    /// Build the site into DIR/releases/<commit>/ and switch the link DIR/current to it in one step.
    /// The web server's document root must be DIR/current.
    Publish {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The target folder: DIR/current is what the web server serves.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// How many releases to keep (the current one is never removed).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
        keep: u16,
        /// Print how long each stage took.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Install or remove the git hooks that publish the site after every commit and merge.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
}

#[derive(Subcommand)]
enum HookAction {
    /// Write post-commit and post-merge hooks that run `regelwerk publish` in the background.
    Install {
        /// The site root (the folder with regelwerk.toml, inside a git repository).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The publish target (see `regelwerk publish --to`).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Only commits on this branch are published.
        #[arg(long, default_value = "main")]
        branch: String,
    },
    /// Remove regelwerk's hooks (other hooks stay).
    Uninstall {
        /// The site root (inside a git repository).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    /// A Markdown summary, ready to paste into a pull-request comment.
    Markdown,
    /// The same as JSON.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Readable text with the offending source line.
    Human,
    /// A JSON array of {path, line, column, code, severity, message}.
    Json,
    /// A GitLab Code Quality report (JSON) on stdout, the readable report on stderr.
    Gitlab,
    /// GitHub Actions workflow commands (annotations) on stdout, the readable report on stderr.
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init { dir } => init(&dir),
        Command::Build {
            root,
            output,
            no_search,
            verbose,
        } => {
            let mut options = BuildOptions::new(&root);
            if let Some(output) = output {
                options.output = output;
            }
            options.search = !no_search;
            options.process_ends = true;
            build(&options, verbose)
        }
        Command::Check { root, format } => check(&root, format),
        Command::Serve { root, port, poll } => serve(&root, port, poll),
        Command::Publish {
            root,
            to,
            keep,
            verbose,
        } => {
            let mut options = regelwerk::publish::PublishOptions::new(root, to);
            options.keep = usize::from(keep);
            publish(&options, verbose)
        }
        Command::Hook { action } => hook(action),
        Command::Diff {
            from,
            to,
            root,
            format,
        } => diff(&root, &from, &to, format),
    }
}

fn init(dir: &Path) -> ExitCode {
    match regelwerk::init::init(dir) {
        Ok(files) => {
            println!("Neue Website in {} angelegt:", dir.display());
            for file in files {
                println!("  {file}");
            }
            match regelwerk::init::init_git(dir) {
                regelwerk::init::GitSetup::Committed => {
                    println!(
                        "Ein git-Repository mit einem ersten Commit ist angelegt: jeder Commit wird ein Stand."
                    )
                }
                regelwerk::init::GitSetup::ExistingRepository => {
                    println!(
                        "Der Ordner liegt in einem git-Repository: committen Sie die neuen Dateien."
                    )
                }
                regelwerk::init::GitSetup::Skipped(reason) => {
                    eprintln!(
                        "Hinweis: kein git-Repository angelegt ({reason}). Ohne git gibt es keine Versionsgeschichte."
                    )
                }
            }
            println!("Als Nächstes: regelwerk serve --root {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("Fehler: {err}");
            ExitCode::from(2)
        }
    }
}

fn report(diagnostics: &Diagnostics, root: &Path) {
    if diagnostics.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diagnostics.to_human(root, color));
}

fn build(options: &BuildOptions, verbose: bool) -> ExitCode {
    match regelwerk::build(options) {
        Ok(built) => {
            report(&built.diagnostics, &options.root);
            if verbose {
                for (stage, time) in &built.timings {
                    eprintln!("  {stage:<10} {:>8.1} ms", time.as_secs_f64() * 1000.0);
                }
                let counts = built.versions;
                eprintln!(
                    "  Versionsseiten: {} Dateien aus dem Cache, {} neu gerendert; {} Dokumente \
                     unverändert, {} geändert",
                    counts.files_reused,
                    counts.files_rendered,
                    counts.documents_reused,
                    counts.documents_rendered
                );
                eprintln!(
                    "  Seiten: {} aus dem Cache, {} neu gerendert",
                    built.pages.reused, built.pages.rendered
                );
            }
            println!(
                "{} Dateien nach {} geschrieben.",
                built.files,
                options.output.display()
            );
            built.cleanup.wait();
            ExitCode::SUCCESS
        }
        Err(err) => build_failed(err, &options.root),
    }
}

fn build_failed(err: BuildError, root: &Path) -> ExitCode {
    match err {
        BuildError::Invalid(diagnostics) => {
            report(&diagnostics, root);
            eprintln!("Nichts veröffentlicht: die bisherige Ausgabe bleibt unverändert.");
        }
        BuildError::Output { path, error } => {
            eprintln!(
                "Fehler: {} konnte nicht geschrieben werden: {error}. Die bisherige Ausgabe bleibt unverändert.",
                path.display()
            );
        }
    }
    ExitCode::from(1)
}

fn check(root: &Path, format: Format) -> ExitCode {
    let (_, diagnostics) = regelwerk::check(root, None, regelwerk::today());
    match format {
        Format::Json => println!("{}", diagnostics.to_json()),
        Format::Gitlab => {
            println!("{}", diagnostics.to_gitlab(&repository_prefix(root)));
            report(&diagnostics, root);
        }
        Format::Github => {
            print!("{}", diagnostics.to_github(&repository_prefix(root)));
            report(&diagnostics, root);
        }
        Format::Human => {
            report(&diagnostics, root);
            if diagnostics.is_empty() {
                println!("{}", diagnostics.summary());
            }
        }
    }
    if diagnostics.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The site's folder inside its git repository (`""` at the top, else ending in `/`), so CI annotations
/// name files as the repository does. Outside a repository: `""`.
fn repository_prefix(root: &Path) -> String {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--show-prefix"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

fn diff(root: &Path, from: &str, to: &str, format: DiffFormat) -> ExitCode {
    match regelwerk::diff::diff(root, from, to) {
        Ok(diff) => {
            match format {
                DiffFormat::Markdown => print!("{}", regelwerk::diff::to_markdown(&diff)),
                DiffFormat::Json => println!("{}", regelwerk::diff::to_json(&diff)),
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("Fehler: {err}.");
            ExitCode::from(2)
        }
    }
}

fn serve(root: &Path, port: u16, poll: bool) -> ExitCode {
    let options = regelwerk::serve::ServeOptions {
        root: root.to_path_buf(),
        port,
        poll,
    };
    match regelwerk::serve::serve(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "Fehler: der Server kann nicht auf 127.0.0.1:{port} starten: {err}. Ist der Port belegt? Wählen Sie einen anderen mit --port."
            );
            ExitCode::from(2)
        }
    }
}

fn publish(options: &regelwerk::publish::PublishOptions, verbose: bool) -> ExitCode {
    use regelwerk::publish::{PublishError, Published};
    let print_timings = |timings: &[(&'static str, std::time::Duration)]| {
        if verbose {
            for (stage, time) in timings {
                eprintln!("  {stage:<10} {:>8.1} ms", time.as_secs_f64() * 1000.0);
            }
        }
    };
    match regelwerk::publish::publish(options) {
        Ok(Published::Switched {
            release,
            recycled,
            diagnostics,
            removed,
            cleanup_problems,
            timings,
            served_after,
        }) => {
            report(&diagnostics, &options.root);
            print_timings(&timings);
            if verbose {
                eprintln!(
                    "  Die neue Website wurde nach {:.2} s ausgeliefert; danach wurden die Caches gespeichert.",
                    served_after.as_secs_f64()
                );
            }
            let source = match (&release.commit, release.uncommitted) {
                (Some(commit), false) => format!("Commit {}", &commit[..12.min(commit.len())]),
                _ => "nicht committete Änderungen".to_string(),
            };
            println!(
                "Veröffentlicht: Stand {} ({source}, {} Dateien); {} zeigt jetzt darauf.",
                release.id,
                release.files,
                options.to.join(regelwerk::publish::CURRENT).display()
            );
            if let Some(old) = recycled {
                println!(
                    "Der Ordner des älteren Stands {old} wurde dafür wiederverwendet: nur Geändertes wurde geschrieben."
                );
            }
            if !removed.is_empty() {
                println!("Ältere Stände entfernt: {}", removed.join(", "));
            }
            for problem in cleanup_problems {
                eprintln!("Hinweis: ein alter Stand konnte nicht entfernt werden: {problem}");
            }
            ExitCode::SUCCESS
        }
        Ok(Published::Skipped {
            reason,
            diagnostics,
        }) => {
            report(&diagnostics, &options.root);
            println!("Nichts geändert: {reason}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            match err {
                PublishError::Invalid(diagnostics) => report(&diagnostics, &options.root),
                PublishError::Io { path, error } => eprintln!(
                    "Fehler: {} konnte nicht geschrieben werden: {error}.",
                    path.display()
                ),
                PublishError::Other(message) => eprintln!("Fehler: {message}"),
            }
            eprintln!("Nichts veröffentlicht: die bisherige Website bleibt unverändert.");
            ExitCode::from(1)
        }
    }
}

fn hook(action: HookAction) -> ExitCode {
    use regelwerk::hook::HookError;
    let result = match action {
        HookAction::Install { root, to, branch } => {
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(err) => {
                    eprintln!("Fehler: der Pfad des regelwerk-Programms ist nicht bekannt: {err}.");
                    return ExitCode::from(1);
                }
            };
            let options = regelwerk::hook::HookOptions {
                root,
                to,
                branch: branch.clone(),
                exe,
            };
            regelwerk::hook::install(&options).map(|written| {
                for path in written {
                    println!("Hook geschrieben: {}", path.display());
                }
                println!(
                    "Jeder Commit und jeder Merge auf dem Zweig {branch} veröffentlicht die Website im Hintergrund; \
                     die Ausgabe steht in .git/{}.",
                    regelwerk::hook::LOG
                );
            })
        }
        HookAction::Uninstall { root } => {
            regelwerk::hook::uninstall(&root).map(|(removed, foreign)| {
                if removed.is_empty() {
                    println!("Kein Hook von regelwerk gefunden.");
                }
                for path in removed {
                    println!("Hook entfernt: {}", path.display());
                }
                for path in foreign {
                    println!(
                        "Nicht von regelwerk, bleibt unverändert: {}",
                        path.display()
                    );
                }
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(HookError::NotARepository(message)) => {
            eprintln!(
                "Fehler: die Website liegt in keinem git-Repository ({message}). Legen Sie eines an: git init."
            );
            ExitCode::from(2)
        }
        Err(HookError::Foreign(paths)) => {
            for path in paths {
                eprintln!(
                    "Fehler: {} ist ein Hook, den nicht regelwerk geschrieben hat; er wird nicht überschrieben. \
                     Rufen Sie regelwerk publish dort selbst auf oder entfernen Sie ihn.",
                    path.display()
                );
            }
            ExitCode::from(2)
        }
        Err(HookError::Invalid(message)) => {
            eprintln!("Fehler: {message}");
            ExitCode::from(2)
        }
        Err(HookError::Io { path, error }) => {
            eprintln!(
                "Fehler: {} konnte nicht geschrieben werden: {error}.",
                path.display()
            );
            ExitCode::from(1)
        }
    }
}
